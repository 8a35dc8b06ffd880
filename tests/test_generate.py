"""The benchmark evidence generator: deterministic, loadable, linked, and agreeing with reportgen."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
from evidence import ROOT

from reportgen.evidence import kinds
from reportgen.evidence import schema as models
from reportgen.evidence.load import LoadResult, load
from reportgen.judge.summary import Summary, schema_of, summarise

# bench/ is a folder of the repository, not an installed package.
sys.path.insert(0, str(ROOT))
from bench.generate import ARCHIVE_SOURCE, PROFILES, EvidenceGenerator, Stats, generate, main, write

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
    models.ARCHIVE_REFERENCE: "gordackfinalarchive-",
    models.ARCHIVE_HEALTH: "gordackfinalarchivehealth-",
    models.ARCHIVE_PLAN: "gordackfinalarchalert-",
    models.ARCHIVE_ACK: "gordackfinalarchack-",
}
LOOPS = ("executive", "recovery", "archive")
# Each loop's stem in upstream's count names (reference §10.4, H.8).
STEMS = ("executive_retry_health_alert", "recovery_retry_health_alert", "final_archive_health_alert")


# sha256 of `write(..., "ndjson", 500, 3, 2, profile="compact")`: the compact profile's bytes never change.
COMPACT_DIGEST = "8cf2f2953a36827f48faf5f045125fc50ba40919225541cf3fc912b2491e1f3b"


@pytest.fixture(scope="module", params=sorted(PROFILES))
def outputs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[Stats, LoadResult, Summary]]:
    """The same evidence written in every format, loaded and judged once per profile."""
    folder = tmp_path_factory.mktemp(f"generated-{request.param}")
    result = {}
    for fmt, ext in EXTENSIONS.items():
        stats = write(str(folder / f"evidence.{ext}"), fmt, RECORDS, SEED, BROKEN, profile=request.param)
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


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_bytes(tmp_path, profile):
    first = write(str(tmp_path / "a.ndjson"), "ndjson", 500, 3, 2, profile=profile)
    again = write(str(tmp_path / "b.ndjson"), "ndjson", 500, 3, 2, profile=profile)
    other = write(str(tmp_path / "c.ndjson"), "ndjson", 500, 4, 2, profile=profile)
    assert Path(first.path).read_bytes() == Path(again.path).read_bytes()
    assert Path(first.path).read_bytes() != Path(other.path).read_bytes()
    assert first.truth.as_dict() == again.truth.as_dict()


def test_the_compact_profile_keeps_its_bytes_and_the_reference_profile_is_the_default(tmp_path):
    compact = write(str(tmp_path / "compact.ndjson"), "ndjson", 500, 3, 2, profile="compact")
    default = write(str(tmp_path / "default.ndjson"), "ndjson", 500, 3, 2)
    reference = write(str(tmp_path / "reference.ndjson"), "ndjson", 500, 3, 2, profile="reference")
    assert hashlib.sha256(Path(compact.path).read_bytes()).hexdigest() == COMPACT_DIGEST
    assert Path(default.path).read_bytes() == Path(reference.path).read_bytes() != Path(compact.path).read_bytes()
    assert default.profile == "reference" and "profile=reference" in default.line()
    with pytest.raises(ValueError, match="unknown profile"):
        write(str(tmp_path / "x.ndjson"), "ndjson", 3, 1, profile="friendly")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_generator_can_be_iterated_again_with_the_same_result(profile):
    gen = EvidenceGenerator(300, 5, 3, profile=profile)
    assert list(gen) == list(gen) == list(generate(300, 5, 3, profile=profile))


def test_the_loader_rejects_exactly_the_broken_lines_and_nothing_else(outputs):
    for fmt, (stats, loaded, _) in outputs.items():
        assert stats.records == RECORDS and stats.lines == RECORDS + BROKEN, fmt
        assert len(loaded.records) == RECORDS, fmt
        assert len(loaded.rejected) == BROKEN, fmt
        assert not loaded.unrecognised and not loaded.conflicts and not loaded.duplicates, fmt
        assert stats.broken == {"not_json": 2, "missing_session_id": 2, "wrong_type": 2}


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_broken_lines_are_added_and_leave_the_valid_records_alone(tmp_path, profile):
    clean = write(str(tmp_path / "clean.ndjson"), "ndjson", 800, 9, 0, profile=profile)
    broken = write(str(tmp_path / "broken.ndjson"), "ndjson", 800, 9, 7, profile=profile)
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
    for loop in LOOPS:
        counts = summary.counts.model_dump()["loops"][loop]
        chains = counts["chains"]
        # reportgen counts delivered chains; an archive key the latest plan requires and no delivery
        # reached is an open item but not a chain.
        assert (chains["total"], chains["failed"], chains["open"], chains["superseded"]) == (
            truth.chains[loop],
            truth.failed_chains[loop],
            truth.open_chains[loop] - truth.undelivered_chains[loop],
            truth.superseded_chains[loop],
        ), loop
        assert (counts["acknowledgements_required"], counts["acknowledgements_outstanding"]) == (
            truth.required_acks[loop],
            truth.outstanding_acks[loop],
        ), loop
    assert summary.counts.notification.outstanding_acknowledgements == truth.notification_outstanding()


def test_the_ground_truth_matches_upstreams_counts(outputs):
    stats, _, summary = outputs["ndjson"]
    cavra, truth = summary.counts.cavra, stats.truth
    for loop, stem in zip(LOOPS, STEMS, strict=True):
        assert cavra[f"{stem}_delivery_failed_count"] == truth.failed_delivery_records[loop], loop
        assert cavra[f"{stem}_acknowledgement_outstanding_count"] == truth.upstream_outstanding_acks[loop], loop
    for loop in ("executive", "recovery"):
        assert cavra[f"{loop}_retry_health_alert_retry_execution_failed_count"] == truth.failed_execution_records[loop]
    assert cavra["final_archive_health_alert_plan_count"] == truth.kinds[models.ARCHIVE_PLAN]
    assert cavra["final_archive_health_alert_ack_count"] == truth.kinds[models.ARCHIVE_ACK]
    assert dict(sorted(summary.counts.by_kind.items())) == dict(sorted(truth.kinds.items()))


def test_every_summary_matches_the_published_schema(outputs):
    schema = schema_of("summary")
    for fmt, (_, _, summary) in outputs.items():
        jsonschema.validate(json.loads(summary.to_json()), schema)
        assert summary.closure.open_items and summary.closure.resolved_chains and summary.closure.warnings, fmt


def test_the_evidence_tells_every_kind_of_story(outputs):
    stats, _, summary = outputs["ndjson"]
    assert set(stats.truth.kinds) == kinds.KNOWN_KINDS == set(ID_PREFIXES)
    states = {key.split(":")[1] for key in stats.truth.open_states}
    assert states == {"exhausted", "waiting", "execution_failed", "dry_run_only", "retry_pending", "no_retry_plan"}
    skipped = [i for i in summary.closure.open_items if i.skip_reason]
    assert skipped and all(i.skip_reason.endswith("_health_not_found") for i in skipped)
    ack_states = {i.acknowledgement_state for i in summary.closure.open_items if i.code.endswith("_outstanding")}
    assert {None, "dismissed", "escalated"} <= ack_states
    assert len(summary.closure.resolved_chains) > 0
    assert len(summary.counts.other_deliveries) == 3


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
    profile = outputs["store"][0].profile
    spilled = write(
        str(tmp_path / "spilled.json"), "store", RECORDS, SEED, BROKEN, run_bytes=256 * 1024, profile=profile
    )
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
    assert " profile=reference " in printed[0]
    assert len(out.read_bytes().splitlines()) == 302
    assert main(["--records", "300", "--seed", "2", "--profile", "compact", "--out", str(tmp_path / "c.ndjson")]) == 0
    assert " profile=compact " in capsys.readouterr().out
    assert not list(tmp_path.glob("*.partial"))


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError):
        write(str(tmp_path / "x.ndjson"), "ndjson", 3, 1, broken=4)
    with pytest.raises(ValueError):
        write(str(tmp_path / "x.csv"), "csv", 3, 1)
    assert not list(tmp_path.iterdir())


# Kind H records field for field as the reference's example chain (H.10), in upstream's order: the
# envelope's keys after the common ones (the nested record's key among them), and the nested keys.
COMMON = ("schema_version", "product", "session_id", "created_at", "signer")
COMMON += ("decision_count", "blocked_count", "approval_required_count", "metadata_kind")
ARCHIVE_SHAPES: dict[str, tuple[tuple[str, ...], str, tuple[str, ...]]] = {
    models.ARCHIVE_REFERENCE: (
        (
            *("reference_id", "reference_hash", "archive_ref", "archive_provider", "archive_hash"),
            *("release_record_ref", "export_id", "verification_id", "retention_until", "legal_hold"),
            "final_reporting_immutable_archive_reference",
        ),
        "final_reporting_immutable_archive_reference",
        (
            *("schema_version", "product", "reference_id", "reference_hash", "archive_ref", "archive_provider"),
            *("archive_hash", "archived_at", "archived_by", "retention_until", "legal_hold", "release_record_ref"),
            *("export_id", "export_hash", "verification_id", "verification_state", "notes", "public_evidence_refs"),
            "controls",
        ),
    ),
    models.ARCHIVE_HEALTH: (
        (
            *("health_id", "alert_level", "alert_count", "critical_alert_count", "warning_alert_count"),
            *("missing_archive_reference_count", "final_reporting_archive_reference_health"),
        ),
        "final_reporting_archive_reference_health",
        (
            *("schema_version", "product", "health_id", "generated_at", "generated_by", "alert_level"),
            *("checked_export_count", "archived_export_count", "missing_archive_reference_count", "alert_count"),
            *("critical_alert_count", "warning_alert_count", "alerts", "recommended_actions", "controls"),
        ),
    ),
    models.ARCHIVE_PLAN: (
        (
            *("plan_id", "health_id", "alert_level", "selected_providers", "suppressed_providers"),
            *("suppressed_provider_count", "acknowledgement_required_providers", "suppression_window_minutes"),
            "final_reporting_archive_reference_health_alert_plan",
        ),
        "final_reporting_archive_reference_health_alert_plan",
        (
            *("schema_version", "product", "plan_id", "health_id", "generated_at", "generated_by"),
            *("source_health_generated_at", "alert_level", "summary", "requested_provider", "eligible_providers"),
            *("selected_providers", "suppressed_providers", "suppression_window_minutes", "force"),
            *("acknowledgement_required_providers", "controls"),
        ),
    ),
    models.ARCHIVE_ACK: (
        (
            *("acknowledgement_id", "health_id", "plan_id", "provider", "acknowledgement_state", "external_ref"),
            "acknowledgement",
        ),
        "acknowledgement",
        (
            *("schema_version", "product", "acknowledgement_id", "health_id", "plan_id", "provider"),
            *("acknowledgement_state", "acknowledged_by", "acknowledged_at", "external_ref", "notes", "controls"),
        ),
    ),
    # The API merges the plan's links after the connector's record (H.5).
    ARCHIVE_SOURCE: (
        (
            *("connector_delivery_source", "event_id", "event_type", "delivery_success", "providers"),
            *("failed_providers", "attempt_count", "max_attempt_count", "status_codes", "delivery"),
            *("health_id", "plan_id"),
        ),
        "delivery",
        ("schema_version", "product", "event_type", "event_id", "session_id", "generated_at", "success", "deliveries"),
    ),
}


def archive_records(loaded: LoadResult) -> list[dict]:
    """The kind H records the loader accepted from one NDJSON file, archive-source deliveries included."""
    numbers = {r.provenance.line for r in loaded.records}
    records = [json.loads(line) for n, line in enumerate(lines(Path(loaded.files[0].path)), 1) if n in numbers]
    kinds = set(ARCHIVE_SHAPES) - {ARCHIVE_SOURCE}
    return [r for r in records if r["metadata_kind"] in kinds or r.get("connector_delivery_source") == ARCHIVE_SOURCE]


def sha(material: object) -> str:
    """SHA-256 over a material: joined text as is, anything else as JSON with sorted keys (reference §1)."""
    text = material if isinstance(material, str) else json.dumps(material, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def test_archive_records_have_the_reference_examples_fields(outputs):
    records = archive_records(outputs["ndjson"][1])
    seen = Counter(r.get("connector_delivery_source") or r["metadata_kind"] for r in records)
    assert set(seen) == set(ARCHIVE_SHAPES)
    for record in records:
        envelope, key, nested = ARCHIVE_SHAPES[record.get("connector_delivery_source") or record["metadata_kind"]]
        assert list(record) == [*COMMON, *envelope] and list(record[key]) == list(nested), record["session_id"]
        schema = record[key]["schema_version"]
        assert "acknowledgement-audit-delivery" not in schema and schema.endswith(".v1")


def archive_id(r: dict) -> str:
    """A kind H record's id, recomputed from its fields by the reference's id rules (H.2-H.6)."""
    kind, body = r["metadata_kind"], next(v for v in r.values() if isinstance(v, dict))
    if kind == models.ARCHIVE_REFERENCE:
        names = ("archive_ref", "archive_provider", "export_id", "export_hash", "verification_id")
        material = {k: body[k] for k in (*names, "retention_until", "legal_hold")}
        assert r["reference_hash"] == sha(material)
        return "gordackfinalarchive-" + sha(material)[:16]
    if kind == models.ARCHIVE_HEALTH:
        material = {"generated_at": r["created_at"], "checked_exports": r["decision_count"], "alerts": body["alerts"]}
        return "gordackfinalarchivehealth-" + sha(material)[:16]
    if kind == models.ARCHIVE_PLAN:
        material = {"health_id": r["health_id"], "generated_at": r["created_at"]}
        material |= {"eligible": body["eligible_providers"], "selected": body["selected_providers"]}
        return "gordackfinalarchalert-" + sha(material)[:16]
    if kind == models.ARCHIVE_ACK:
        parts = (r["health_id"], r["provider"], r["acknowledgement_state"], r["signer"], r["created_at"])
        return "gordackfinalarchack-" + sha("|".join(parts))[:16]
    assert r["event_id"] == r["health_id"] and r["delivery"]["session_id"] is None
    return f"rcd-{r['health_id']}-" + sha("|".join((r["health_id"], r["created_at"], ",".join(r["providers"]))))[:12]


def test_archive_ids_are_the_hashes_the_reference_documents(outputs):
    records = archive_records(outputs["ndjson"][1])
    plans = {r["plan_id"]: r for r in records if r["metadata_kind"] == models.ARCHIVE_PLAN}
    healths = {r["health_id"] for r in records if r["metadata_kind"] == models.ARCHIVE_HEALTH}
    for record in records:
        assert record["session_id"] == archive_id(record)
        # Deliveries and acks point at their plan (an ack may leave plan_id empty, H.6).
        if record["metadata_kind"] != models.ARCHIVE_PLAN and record.get("plan_id"):
            assert plans[record["plan_id"]]["health_id"] == record["health_id"]
    # Only the deliver endpoint's own healths, never persisted, are missing (H.3).
    unpersisted = {plan["health_id"] for plan in plans.values()} - healths
    assert len(unpersisted) == outputs["ndjson"][0].truth.unpersisted_health["archive"] > 0


# Every way the archive loop can stand, which small dense evidence (500 records over one day)
# shows within a few seeds: two plans made at one instant, a latest plan with nothing selected, a provider never delivered, failed and outstanding keys of the latest
# plan, superseded chains; and the story features behind them.
ARCHIVE_CASES = {"latest_plan_tied", "latest_plan_healthy", "undelivered"}
ARCHIVE_CASES |= {"latest_plan_failed", "outstanding", "superseded", "redeliveries", "undeliverable_calls"}
ARCHIVE_CASES |= {"tied_plans", "unpersisted_healths", "healthy_plans"}


def archive_cases(stats: Stats, summary: Summary) -> Counter[str]:
    """Hold reportgen's archive verdict to the truth; return which situations the evidence showed."""
    truth, seed = stats.truth, stats.seed
    items = [i for i in summary.closure.open_items if i.loop == "archive"]
    failed = [i for i in items if i.code == "final_archive_health_alert_delivery_failed"]
    outstanding = [i for i in items if i.code == "final_archive_health_alert_acknowledgement_outstanding"]
    assert all(i.retry_state == "no_retry_plan" for i in failed), seed
    assert len(failed) == truth.open_chains["archive"], seed
    assert sum(i.attempts == 0 for i in failed) == truth.undelivered_chains["archive"], seed
    assert len(outstanding) == truth.outstanding_acks["archive"], seed
    assert len({i.health_id for i in outstanding}) <= 1, seed  # one plan's health (tied plans share it)
    cavra = summary.counts.cavra["final_archive_health_alert_acknowledgement_outstanding_count"]
    assert cavra == truth.upstream_outstanding_acks["archive"], seed
    assert summary.counts.loops["archive"].chains.superseded == truth.superseded_chains["archive"], seed
    return truth.archive_cases + Counter(
        {
            "undelivered": truth.undelivered_chains["archive"],
            "outstanding": len(outstanding),
            "superseded": truth.superseded_chains["archive"],
        }
    )


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_archive_loop_is_judged_by_its_latest_plan(tmp_path, profile):
    seen: Counter[str] = Counter()
    for seed in range(1, 41):
        stats = write(str(tmp_path / f"archive-{seed}.ndjson"), "ndjson", 500, seed, 0, days=1, profile=profile)
        seen += archive_cases(stats, summarise(load([stats.path])))
        if set(seen) >= ARCHIVE_CASES:
            break
    assert set(seen) == ARCHIVE_CASES, f"after {seed} seeds"


def key_paths(node: object, path: str = "") -> set[str]:
    """Every path to a value in a record: keys joined by dots, list elements as []."""
    if isinstance(node, dict):
        return {p for key, value in node.items() for p in key_paths(value, f"{path}.{key}")} | {path}
    if isinstance(node, list):
        return {p for value in node for p in key_paths(value, f"{path}[]")} | {path}
    return {path}


def test_records_carry_every_field_of_the_reference_examples_records(outputs):
    _, loaded, _ = outputs["ndjson"]
    numbers = {r.provenance.line for r in loaded.records}
    records = [json.loads(line) for n, line in enumerate(lines(Path(loaded.files[0].path)), 1) if n in numbers]
    generated: dict[str, set[str]] = {}
    for record in records:
        generated.setdefault(record["metadata_kind"], set()).update(key_paths(record))
    reference: dict[str, set[str]] = {}
    for record in json.loads((ROOT / "fixtures" / "example" / "store.json").read_text())["items"]:
        reference.setdefault(record["metadata_kind"], set()).update(key_paths(record))
    for kind, paths in reference.items():
        assert paths <= generated[kind], (kind, sorted(paths - generated[kind]))


def strings(node: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string value) in a record, nested ones included."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from strings(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value, key)
    elif isinstance(node, str):
        yield key, node


def test_hashes_are_sha256_hex_and_urls_carry_no_credentials(outputs):
    seen: Counter[str] = Counter()
    for line in lines(Path(outputs["ndjson"][0].path)):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        for key, value in strings(record):
            if key.endswith("_hash"):
                assert re.fullmatch(r"[0-9a-f]{64}", value), (key, value)
                seen[key] += 1
            if value.startswith("https://"):
                url = urlsplit(value)
                assert url.hostname and url.username is None and url.password is None, value
                seen["url"] += 1
            seen["notes"] += key == "notes" and bool(value)
    assert {"execution_hash", "export_hash", "reference_hash", "archive_hash", "url", "notes"} <= set(+seen)


def worker_runs_per_drill(path: Path) -> float:
    """The mean number of retry worker runs of the drills that have any."""
    runs: Counter[str] = Counter()
    for line in lines(path):
        if b"retry-worker-run" in line:
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                body = next(v for k, v in record.items() if k.endswith("worker_run"))
                runs[body["retry_plan"]["retry_decisions"][0]["health_id"]] += 1
    return sum(runs.values()) / len(runs)


def test_reference_drills_run_their_retry_worker_longer_than_compact_ones(tmp_path):
    compact = write(str(tmp_path / "compact.ndjson"), "ndjson", RECORDS, SEED, profile="compact")
    reference = write(str(tmp_path / "reference.ndjson"), "ndjson", RECORDS, SEED, profile="reference")
    assert worker_runs_per_drill(Path(reference.path)) > 1.5 * worker_runs_per_drill(Path(compact.path))
