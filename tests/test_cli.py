"""The command line as a user runs it: exit codes, output, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from evidence import A1, EXAMPLE_STORE, EXEC_ACK, example, record, write_ndjson, write_store


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args],
        input=stdin.decode() if stdin else None,
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_records():
    """The example chain with every failure redelivered and every ack given."""
    records = example()
    record(records, A1)  # the failed delivery stays: chain mode must see past it
    success = next(r for r in records if r["session_id"].endswith("93d5a1e8f06c"))
    success["providers"] = ["slack", "webhook"]
    records.append(dict(record(records, EXEC_ACK), session_id="gordackexechealthack-slack", provider="slack"))
    return records


def test_check_exits_1_on_the_open_example_and_names_the_slack_chain():
    result = run("check", str(EXAMPLE_STORE))
    assert result.returncode == 1, result.stderr
    assert "closure: open" in result.stdout and "readiness: blocked" in result.stdout
    assert "executive_retry_health_alert_delivery_failed" in result.stdout and "exhausted" in result.stdout
    assert "(UTC)" in result.stdout


def test_check_exits_0_when_closed_and_ready(tmp_path):
    result = run("check", str(write_store(tmp_path / "s.json", closed_records())))
    assert result.returncode == 0, result.stdout
    assert "closure: closed" in result.stdout and "approve_release_closure" in result.stdout


def test_check_in_cavra_mode_holds_the_redelivered_chain(tmp_path):
    result = run("check", "--rules", "cavra", str(write_store(tmp_path / "s.json", closed_records())))
    assert result.returncode == 1 and "executive_retry_health_alert_delivery_failed" in result.stdout


def test_check_json_prints_the_summary_that_matches_its_schema():
    result = run("check", "--json", str(EXAMPLE_STORE))
    summary = json.loads(result.stdout)
    assert summary["schema_version"] == "reportgen.summary.v1" and summary["rules"] == "chain"
    assert summary["as_of"] == "2025-06-02T11:30:00.402816Z"
    assert summary["closure"]["state"] == "open"
    assert summary["inputs"]["files"][0]["records"] == 21
    schema = json.loads(run("schema", "summary").stdout)
    jsonschema.validate(summary, schema)


def test_check_reads_stdin():
    data = "".join(json.dumps(r) + "\n" for r in example()).encode()
    result = run("check", "--json", "-", stdin=data)
    assert json.loads(result.stdout)["inputs"]["files"][0]["path"] == "<stdin>"


def test_as_of_sets_the_judging_time_and_a_bad_one_is_a_usage_error():
    good = run("check", "--json", "--as-of", "2025-06-03T00:00:00+02:00", str(EXAMPLE_STORE))
    assert json.loads(good.stdout)["as_of"] == "2025-06-02T22:00:00.000000Z"
    bad = run("check", "--as-of", "tomorrow", str(EXAMPLE_STORE))
    assert bad.returncode == 2 and "not an ISO-8601 time" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.json"], "missing.json: no such file or directory"),
        (["check"], "Missing argument"),
        (["check", "--rules", "strict", "x"], "Invalid value for '--rules'"),
        (["nonsense"], "No such command"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def _broken(tmp_path):
    """An NDJSON file with one good record and one line that is not JSON."""
    path = write_ndjson(tmp_path / "e.ndjson", closed_records())
    path.write_text(path.read_text() + "{oops\n")
    return path


def test_rejected_input_keeps_the_closure_open_and_strict_exits_2(tmp_path):
    path = _broken(tmp_path)
    plain = run("check", str(path))
    assert plain.returncode == 1 and "evidence_unreadable" in plain.stdout
    # Named by its absolute path, the input is named from its folder on.
    assert f"{path.name}:{len(closed_records()) + 1}: not JSON" in plain.stdout
    assert run("check", "--strict", str(path)).returncode == 2


def test_validate_lists_every_problem_as_file_line_reason(tmp_path):
    records = example()[:2] + [
        {"session_id": "x", "metadata_kind": "go-backend-rollback-drill-new", "created_at": "z"},
        {"session_id": "y", "metadata_kind": "billing-invoice", "created_at": "z"},
    ]
    path = write_ndjson(tmp_path / "e.ndjson", records)
    path.write_text(path.read_text() + "{oops\n" + json.dumps({"metadata_kind": "release-connector-delivery"}) + "\n")
    result = run("validate", str(path))
    path = Path(path.name)  # named by its absolute path, the input is named from its folder on
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:5: not JSON")
    assert lines[1] == f"{path}:6: missing session_id"
    assert f"{path}:3: not judged: go-backend-rollback-drill-new is of a loop this version does not know" in lines
    assert f"{path}:4: unrecognised metadata_kind billing-invoice" in lines
    assert lines[-1] == (
        "6 entries in 1 file: 2 records, 2 rejected, 1 not judged, 0 outside the closure, 1 unrecognised, "
        "0 duplicates, 0 conflicts"
    )


def test_validate_exits_0_on_clean_evidence():
    result = run("validate", str(EXAMPLE_STORE))
    assert result.returncode == 0 and result.stdout.endswith("0 conflicts\n")


@pytest.mark.parametrize("name", ["summary", "evidence", "inputs"])
def test_schema_prints_a_json_schema(name):
    schema = json.loads(run("schema", name).stdout)
    jsonschema.Draft202012Validator.check_schema(schema)


def test_every_example_record_validates_against_the_published_evidence_schema():
    schema = json.loads(run("schema", "evidence").stdout)
    for item in example():
        jsonschema.validate(item, schema)


def test_binary_garbage_and_unreadable_files_never_print_a_traceback(tmp_path):
    (tmp_path / "garbage.json").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "bad.ndjson.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    write_store(tmp_path / "ok.json", example())
    result = run("check", str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr + result.stdout
    assert "garbage.json: binary data" in result.stdout
    assert "bad.ndjson.gz: gzip stream is" in result.stdout


def test_terminal_control_characters_in_evidence_are_shown_escaped(tmp_path):
    path = write_ndjson(tmp_path / "e.ndjson", example())
    path.write_text(
        path.read_text() + '{"session_id": "\\u001b[31mred", "metadata_kind": "release-connector-delivery"}\n'
    )
    result = run("check", str(path))
    assert "\x1b" not in result.stdout


def test_version_is_printed():
    assert run("--version").stdout.startswith("reportgen, version ")
