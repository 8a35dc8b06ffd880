"""Broken evidence: every kind of damage gives a located reason, and the rest is still read."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import A1, EXAMPLE_STORE, example, record, write_ndjson

from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.judge.summary import summarise

GOOD = [json.dumps(r) for r in example()]


def ndjson(tmp_path: Path, *bad: bytes, name: str = "e.ndjson") -> Path:
    """Two good lines, the bad lines, then two more good lines."""
    lines = [GOOD[0].encode(), GOOD[1].encode(), *bad, GOOD[2].encode(), GOOD[3].encode()]
    path = tmp_path / name
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def a1_with(**fields: object) -> bytes:
    """The failed delivery A1 with fields replaced, as one JSON line."""
    a1 = record(example(), A1)
    a1.update(fields)
    return json.dumps(a1).encode()


BAD_LINES = {
    "truncated line": (GOOD[5][:200].encode(), "not JSON"),
    "invalid UTF-8": (GOOD[5].encode().replace(b"mchen", b"mch\xff\xfen"), "not JSON"),
    "deep nesting": (
        b'{"session_id": "x", "metadata_kind": "k", "n": ' + b"[" * 2000 + b"]" * 2000 + b"}",
        "nested more than",
    ),
    "number out of range": (
        a1_with(attempt_count=1).replace(b'"attempt_count": 1', b'"attempt_count": 1e400'),
        "not JSON",
    ),
    "NaN": (a1_with(attempt_count=1).replace(b'"attempt_count": 1', b'"attempt_count": NaN'), "not JSON"),
    "Infinity": (a1_with(attempt_count=1).replace(b'"attempt_count": 1', b'"attempt_count": -Infinity'), "not JSON"),
    "duplicate key": (
        a1_with().replace(b'"delivery_success": false', b'"delivery_success": false, "delivery_success": true'),
        "duplicate key 'delivery_success'",
    ),
    "timestamp out of range": (a1_with(created_at="9999-12-31T23:59:59-23:59"), "invalid created_at"),
    "timestamp not a time": (a1_with(created_at="2025-02-30T10:00:00Z"), "invalid created_at"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_damaged_line_is_rejected_with_its_line_and_the_rest_is_read(tmp_path, case):
    line, reason = BAD_LINES[case]
    loaded = load([str(ndjson(tmp_path, line))])
    assert [(r.line, r.reason.startswith(reason)) for r in loaded.rejected] == [(3, True)], loaded.rejected
    assert len(loaded.records) == 4


# Every field the rules read, with a value of the wrong type.
WRONG_TYPES = {
    "release-connector-delivery": ["delivery_success", "providers", "failed_providers", "health_id", "created_at"],
    "-alert-plan": ["health_id", "acknowledgement_required_providers"],
    "-alert-ack": ["health_id", "provider", "acknowledgement_state"],
    "-delivery-retry-plan": ["retry_plan_id"],
    "-delivery-retry-worker-run": ["dry_run", "run_id"],
    "-delivery-retry-execution-record": ["execution_status", "health_id", "provider", "worker_run_id", "retry_plan_id"],
    "notification-plan": ["schedule_id", "acknowledgement_required_providers"],
    "notification-ack": ["schedule_id", "provider", "acknowledgement_state"],
}
WRONG_CASES = [(kind, field) for kind, fields in WRONG_TYPES.items() for field in fields]


@pytest.mark.parametrize(("kind", "field"), WRONG_CASES)
def test_a_wrong_type_in_any_field_the_rules_read_rejects_the_record(tmp_path, kind, field):
    victim = next(r for r in example() if r["metadata_kind"].endswith(kind))
    victim[field] = {"not": "the right type"}
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [victim]))])
    assert len(loaded.rejected) == 1 and f"invalid {field}" in loaded.rejected[0].reason


def test_a_wrong_type_in_a_nested_field_the_rules_read_rejects_the_record(tmp_path):
    plan = next(r for r in example() if r["metadata_kind"].endswith("-delivery-retry-plan"))
    nested = next(v for v in plan.values() if isinstance(v, dict) and "retry_decisions" in v)
    nested["retry_decisions"][0]["action"] = "retry-later"
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [plan]))])
    assert "retry_decisions.0.action" in loaded.rejected[0].reason


def test_an_oversized_line_is_rejected_without_being_parsed(tmp_path):
    huge = b'{"session_id": "big", "metadata_kind": "release-connector-delivery", "pad": "' + b"x" * (50 << 20) + b'"}'
    loaded = load([str(ndjson(tmp_path, huge))])
    assert len(loaded.records) == 4
    assert loaded.rejected[0].line == 3 and "over the record size limit" in loaded.rejected[0].reason


def test_a_file_over_the_input_limit_is_a_clear_usage_error(tmp_path):
    from reportgen.evidence.inputs import InputError

    with pytest.raises(InputError, match="input size limit of 1000 bytes"):
        load([str(EXAMPLE_STORE)], limits=Limits(max_input_bytes=1000))


def test_a_gzip_bomb_stops_at_the_input_limit(tmp_path):
    from reportgen.evidence.inputs import InputError

    bomb = tmp_path / "bomb.ndjson.gz"
    bomb.write_bytes(gzip.compress(b" " * (64 << 20), mtime=0))
    with pytest.raises(InputError, match="decompresses to more than"):
        load([str(bomb)], limits=Limits(max_input_bytes=1 << 20))


def test_a_truncated_store_file_is_rejected_with_its_location(tmp_path):
    path = tmp_path / "store.json"
    path.write_bytes(EXAMPLE_STORE.read_bytes()[:30000])
    [rejection] = load([str(path)]).rejected
    assert rejection.line is None and "not a valid JSON document" in rejection.reason and "line" in rejection.reason


def test_a_future_timestamp_is_a_warning_not_a_rejection(tmp_path):
    loaded = load([str(EXAMPLE_STORE)])
    summary = summarise(loaded, as_of=loaded.records[0].created_at)
    assert not summary.inputs.rejected
    assert len([w for w in summary.closure.warnings if w.code == "timestamp_in_future"]) == 20


def corpus(tmp_path: Path) -> Path:
    """A folder of damaged inputs beside one good file."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    (folder / "good.json").write_bytes(EXAMPLE_STORE.read_bytes())
    (folder / "empty.ndjson").write_bytes(b"")
    (folder / "bom-crlf.ndjson").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(g.encode() for g in GOOD[:3]))
    (folder / "cut.ndjson.gz").write_bytes(gzip.compress("\n".join(GOOD).encode(), mtime=0)[:900])
    (folder / "broken.ndjson").write_bytes(b"\n".join(line for line, _ in BAD_LINES.values()))
    (folder / "naive.ndjson").write_bytes(a1_with(created_at="2025-06-02T10:00:06"))
    (folder / "dangling.json").symlink_to(tmp_path / "nowhere.json")
    (folder / "loop-a.json").symlink_to(folder / "loop-b.json")
    (folder / "loop-b.json").symlink_to(folder / "loop-a.json")
    (folder / "sub").mkdir()
    (folder / "sub" / "up").symlink_to(folder, target_is_directory=True)
    (folder / "dir.json").mkdir()
    return folder


def test_a_folder_of_damaged_inputs_is_read_whole_without_a_traceback(tmp_path):
    folder = corpus(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    for name in ("cut.ndjson.gz", "broken.ndjson", "dangling.json", "loop-a.json"):
        assert f"{folder.name}/{name}" in result.stdout, name  # named from the folder given on
    strict = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", "--strict", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert strict.returncode == 2


def test_every_damaged_input_is_said_and_the_good_ones_are_read(tmp_path):
    folder = corpus(tmp_path)
    loaded = load([str(folder)])
    rejected_files = {os.path.basename(r.source) for r in loaded.rejected if r.line is None}
    assert {"cut.ndjson.gz", "dangling.json", "loop-a.json", "loop-b.json"} <= rejected_files
    assert {n.code for n in loaded.notices} == {"evidence_file_empty", "timestamp_without_offset"}
    assert len({r.session_id for r in loaded.records}) == 21
    assert not any("sub/up" in f.path for f in loaded.files)  # a link back up is never followed
