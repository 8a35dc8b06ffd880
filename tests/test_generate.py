"""The benchmark evidence generator: deterministic, loadable, linked, and agreeing with reportgen."""

from __future__ import annotations

import gzip
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from evidence import ROOT

from reportgen import models
from reportgen.load import LoadResult, load
from reportgen.summary import Summary, schema_of, summarise

# bench/ is a folder of the repository, not an installed package.
sys.path.insert(0, str(ROOT))
from bench.generate import EvidenceGenerator, Stats, generate, main, write

RECORDS, SEED, BROKEN = 2000, 1, 6
EXTENSIONS = {"ndjson": "ndjson", "gzip": "ndjson.gz", "store": "json"}
# The id prefix of every kind (reference §3-§9).
ID_PREFIXES = {
    models.DELIVERY: "rcd-",
    models.EXEC_HEALTH: "gordackexecdeliveryhealth-",
    models.EXEC_PLAN: "gordackexechealthalert-",
    models.EXEC_ACK: "gordackexechealthack-",
    models.EXEC_RETRY_PLAN: "gordackexechealthalertretry-",
    models.EXEC_WORKER: "gordackexechealthalertworker-",
    models.EXEC_EXECUTION: "gordackexechealthalertexec-",
    models.REC_HEALTH: "gordackrecoveryeschealth-",
    models.REC_PLAN: "gordackrecoveryhealthalert-",
    models.REC_ACK: "gordackrecoveryhealthack-",
    models.REC_RETRY_PLAN: "gordackrecoveryhealthalertretry-",
    models.REC_WORKER: "gordackrecoveryhealthalertworker-",
    models.REC_EXECUTION: "gordackrecoveryhealthalertexec-",
    models.NOTIFICATION_PLAN: "gordn-",
    models.NOTIFICATION_ACK: "gordack-",
    models.READINESS_SUMMARY: "gordackfinalready-",
    models.RUNBOOK_EXPORT: "gordackfinalrunbook-",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Stats, LoadResult, Summary]]:
    """The same evidence written in every format, loaded and judged once for the module."""
    folder = tmp_path_factory.mktemp("generated")
    result = {}
    for fmt, ext in EXTENSIONS.items():
        stats = write(str(folder / f"evidence.{ext}"), fmt, RECORDS, SEED, BROKEN)
        loaded = load([stats.path])
        result[fmt] = (stats, loaded, summarise(loaded))
    return result


def verdict(summary: Summary) -> tuple[object, ...]:
    """What must not depend on the file format: state, open items by key, counts."""
    items = [
        (i.code, i.loop, i.health_id, i.provider, i.retry_state, i.acknowledgement_state)
        for i in summary.closure.open_items
    ]
    return summary.closure.state, items, summary.counts


def lines(path: Path) -> list[bytes]:
    """The lines of an NDJSON file."""
    return path.read_bytes().splitlines()


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path):
    first = write(str(tmp_path / "a.ndjson"), "ndjson", 500, 3, 2)
    again = write(str(tmp_path / "b.ndjson"), "ndjson", 500, 3, 2)
    other = write(str(tmp_path / "c.ndjson"), "ndjson", 500, 4, 2)
    assert Path(first.path).read_bytes() == Path(again.path).read_bytes()
    assert Path(first.path).read_bytes() != Path(other.path).read_bytes()
    assert first.truth.as_dict() == again.truth.as_dict()


def test_the_generator_can_be_iterated_again_with_the_same_result():
    gen = EvidenceGenerator(300, 5, 3)
    assert list(gen) == list(gen) == list(generate(300, 5, 3))


def test_the_loader_rejects_exactly_the_broken_lines_and_nothing_else(outputs):
    for fmt, (stats, loaded, _) in outputs.items():
        assert stats.records == RECORDS and stats.lines == RECORDS + BROKEN, fmt
        assert len(loaded.records) == RECORDS, fmt
        assert len(loaded.rejected) == BROKEN, fmt
        assert not loaded.unrecognised and not loaded.conflicts and not loaded.duplicates, fmt
        assert stats.broken == {"not_json": 2, "missing_session_id": 2, "wrong_type": 2}


def test_broken_lines_are_added_and_leave_the_valid_records_alone(tmp_path):
    clean = write(str(tmp_path / "clean.ndjson"), "ndjson", 800, 9, 0)
    broken = write(str(tmp_path / "broken.ndjson"), "ndjson", 800, 9, 7)
    valid = lines(Path(clean.path))
    assert [line for line in lines(Path(broken.path)) if line in set(valid)] == valid
    assert broken.lines - clean.lines == 7
    assert clean.truth.as_dict() == broken.truth.as_dict()


def test_every_format_gives_the_same_verdict(outputs):
    ndjson, gzipped, store = (verdict(outputs[fmt][2]) for fmt in ("ndjson", "gzip", "store"))
    assert ndjson == gzipped == store
    assert ndjson[0] == "open"


def test_the_ground_truth_matches_reportgens_chain_mode(outputs):
    stats, _, summary = outputs["ndjson"]
    truth, items = stats.truth, summary.closure.open_items
    failed = Counter(f"{i.loop}:{i.retry_state}" for i in items if i.code.endswith("_delivery_failed"))
    assert failed == truth.open_states
    assert Counter(i.loop for i in items if i.code.endswith("_delivery_failed")) == truth.open_chains
    assert Counter(i.loop for i in items if i.code.endswith("_acknowledgement_outstanding")) == truth.outstanding_acks
    assert [i.code for i in items if i.loop == "evidence"] == ["evidence_unreadable"]
    for loop in ("executive", "recovery"):
        chains = summary.counts["loops"][loop]["chains"]
        assert (chains["total"], chains["failed"], chains["open"]) == (
            truth.chains[loop],
            truth.failed_chains[loop],
            truth.open_chains[loop],
        )
    assert summary.counts["notification"]["outstanding_acknowledgements"] == truth.notification_outstanding()


def test_the_ground_truth_matches_upstreams_counts(outputs):
    stats, _, summary = outputs["ndjson"]
    cavra, truth = summary.counts["cavra"], stats.truth
    for loop in ("executive", "recovery"):
        assert cavra[f"{loop}_retry_health_alert_delivery_failed_count"] == truth.failed_delivery_records[loop]
        assert cavra[f"{loop}_retry_health_alert_retry_execution_failed_count"] == truth.failed_execution_records[loop]
    assert dict(sorted(summary.counts["by_kind"].items())) == dict(sorted(truth.kinds.items()))


def test_every_summary_matches_the_published_schema(outputs):
    schema = schema_of("summary")
    for fmt, (_, _, summary) in outputs.items():
        jsonschema.validate(json.loads(summary.to_json()), schema)
        assert summary.closure.open_items and summary.closure.resolved_chains and summary.closure.warnings, fmt


def test_the_evidence_tells_every_kind_of_story(outputs):
    stats, _, summary = outputs["ndjson"]
    assert set(stats.truth.kinds) == models.KNOWN_KINDS == set(ID_PREFIXES)
    states = {key.split(":")[1] for key in stats.truth.open_states}
    assert states == {"exhausted", "waiting", "execution_failed", "dry_run_only", "retry_pending", "no_retry_plan"}
    skipped = [i for i in summary.closure.open_items if i.skip_reason]
    assert skipped and all(i.skip_reason.endswith("_health_not_found") for i in skipped)
    ack_states = {i.acknowledgement_state for i in summary.closure.open_items if i.code.endswith("_outstanding")}
    assert {None, "dismissed", "escalated"} <= ack_states
    assert len(summary.closure.resolved_chains) > 0
    assert len(summary.counts["other_deliveries"]) == 3


def test_links_point_at_records_in_the_evidence(outputs):
    _, _, summary = outputs["ndjson"]
    broken = [w.detail for w in summary.closure.warnings if w.code == "evidence_reference_broken"]
    # Only drills whose health was never persisted (upstream's pure-API flow) point at a missing record.
    assert broken and all(detail.split(" ")[1] in ("health_id", "retry_decisions.health_id") for detail in broken)
    assert {w.code for w in summary.closure.warnings} == {"evidence_reference_broken"}


def test_records_are_mostly_1_to_8_kb(outputs):
    sizes = [len(line) for line in lines(Path(outputs["ndjson"][0].path))]
    assert sum(1024 <= size <= 8192 for size in sizes) >= 0.95 * len(sizes)
    assert max(sizes) < 16384


def test_timestamps_increase_and_ids_follow_the_reference_prefixes(outputs):
    loaded = outputs["ndjson"][1]
    numbers = {r.provenance.line for r in loaded.records}
    records = [json.loads(line) for n, line in enumerate(lines(Path(loaded.files[0].path)), 1) if n in numbers]
    times = [datetime.fromisoformat(r["created_at"]) for r in records]
    assert times == sorted(times)
    assert all(r["created_at"].endswith("+00:00") and len(r["created_at"]) == 32 for r in records)
    for record in records:
        head, _, suffix = record["session_id"].rpartition("-")
        assert (head + "-").startswith(ID_PREFIXES[record["metadata_kind"]]), record["session_id"]
        assert len(suffix) == (12 if head.startswith("rcd") else 16) and int(suffix, 16) >= 0


def test_the_store_is_written_as_upstream_writes_it(outputs, tmp_path):
    path = Path(outputs["store"][0].path)
    text = path.read_text()
    document = json.loads(text)
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    ids = [item.get("session_id", "") if isinstance(item, dict) else "" for item in document["items"]]
    assert ids == sorted(ids)
    spilled = write(str(tmp_path / "spilled.json"), "store", RECORDS, SEED, BROKEN, run_bytes=256 * 1024)
    assert Path(spilled.path).read_bytes() == path.read_bytes()


def test_gzip_holds_the_ndjson_bytes_with_a_fixed_header(outputs):
    packed = Path(outputs["gzip"][0].path).read_bytes()
    assert packed[4:8] == b"\x00\x00\x00\x00" and not packed[3] & 0x08  # mtime 0, no file name
    assert gzip.decompress(packed) == Path(outputs["ndjson"][0].path).read_bytes()


def test_an_empty_store_is_still_a_store(tmp_path):
    stats = write(str(tmp_path / "empty.json"), "store", 0, 1)
    assert Path(stats.path).read_text() == json.dumps({"items": []}, indent=2, sort_keys=True) + "\n"


def test_the_cli_writes_the_file_and_prints_one_summary_line(tmp_path, capsys):
    out = tmp_path / "cli.ndjson"
    assert main(["--records", "300", "--seed", "2", "--format", "ndjson", "--out", str(out), "--broken", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and printed[0].startswith("records=300 lines=302 ")
    assert "open_delivery_chains=" in printed[0] and "outstanding_acks=" in printed[0]
    assert len(out.read_bytes().splitlines()) == 302
    assert not list(tmp_path.glob("*.partial"))


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write(str(tmp_path / "x.ndjson"), "ndjson", 3, 1, broken=4)
    with pytest.raises(ValueError):
        write(str(tmp_path / "x.csv"), "csv", 3, 1)
    assert not list(tmp_path.iterdir())
