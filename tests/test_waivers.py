"""Accepted risks: waivers move matched items to accepted, expire at as-of, and never hide anything."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from evidence import EXAMPLE_STORE, EXEC_HEALTH
from packs import WAIVERS, run

from reportgen.judge.summary import Summary, schema_of, summarise_paths
from reportgen.judge.waivers import WaiverError, apply_waivers, check_sources, load_waivers, parse_waivers

DELIVERY = "executive_retry_health_alert_delivery_failed"
ACK = "executive_retry_health_alert_acknowledgement_outstanding"


def summary_of(paths: list[Path], mode: str = "chain") -> Summary:
    """The summary of evidence paths."""
    return summarise_paths([str(p) for p in paths], mode)[1]  # type: ignore[arg-type]


def waiver(wid: str, code: str, expires: str = "2025-06-30T00:00:00Z", **match: str) -> dict[str, str]:
    """One waiver entry."""
    return {
        "id": wid,
        "code": code,
        **match,
        "justification": "accepted for the drill",
        "approved_by": "Release board",
        "approved_at": "2025-06-01T00:00:00Z",
        "expires_at": expires,
    }


def write(tmp_path: Path, *waivers: dict[str, str]) -> Path:
    """A JSON waiver file."""
    path = tmp_path / "waivers.json"
    path.write_text(json.dumps({"waivers": list(waivers)}))
    return path


def check_json(*args: str) -> tuple[int, dict]:
    """`reportgen check --json` of the example with extra options: exit code and summary."""
    result = run("check", "--json", str(EXAMPLE_STORE), *args)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


def test_the_example_waiver_file_accepts_every_open_item_and_the_check_exits_0():
    code, summary = check_json("--waivers", str(WAIVERS))
    closure = summary["closure"]
    assert code == 0
    assert closure["state"] == "closed" and closure["open_items"] == []
    assert {i["code"] for i in closure["accepted_items"]} == {DELIVERY, ACK}
    for item in closure["accepted_items"]:
        assert item["status"] == "deviation-approved"
        assert item["waiver"]["approved_by"].startswith("Release governance board")
        assert item["waiver"]["expires_at"].endswith("Z")
    assert summary["readiness"]["state"] == "ready"
    assert "accepted as deviations" in summary["readiness"]["release_decision"]["reason"]
    statuses = {c["id"]: c["status"] for c in summary["readiness"]["checks"]}
    assert statuses["final_reporting_closure_state"] == "warning"
    assert statuses["executive_retry_health_alert_delivery"] == "warning"
    assert "fail" not in statuses.values()


def test_the_text_verdict_shows_accepted_items_with_approver_and_expiry():
    result = run("check", str(EXAMPLE_STORE), "--waivers", str(WAIVERS))
    assert result.returncode == 0, result.stderr
    assert "Accepted items, deviation approved (2)" in result.stdout
    assert "WVR-2025-014" in result.stdout and "2025-06-15T00:00:00" in result.stdout


def test_after_expiry_the_item_is_open_again_and_names_its_waiver():
    code, summary = check_json("--waivers", str(WAIVERS), "--as-of", "2025-06-10T00:00:00Z")
    closure = summary["closure"]
    assert code == 1
    (reopened,) = closure["open_items"]
    assert reopened["code"] == ACK and reopened["status"] == "open"
    assert reopened["waiver_expired"] == "WVR-2025-015" and reopened["waiver"] is None
    assert [i["code"] for i in closure["accepted_items"]] == [DELIVERY]
    expired = [w for w in closure["warnings"] if w["code"] == "waiver_expired"]
    assert len(expired) == 1 and "WVR-2025-015" in expired[0]["detail"]
    statuses = {c["id"]: c["status"] for c in summary["readiness"]["checks"]}
    assert statuses["final_reporting_closure_state"] == "fail"
    assert statuses["executive_retry_health_alert_delivery"] == "warning"


def test_after_every_waiver_expired_nothing_is_accepted():
    code, summary = check_json("--waivers", str(WAIVERS), "--as-of", "2025-07-01T00:00:00Z")
    assert code == 1
    assert summary["closure"]["accepted_items"] == []
    assert {i["waiver_expired"] for i in summary["closure"]["open_items"]} == {"WVR-2025-014", "WVR-2025-015"}


def test_a_waiver_not_yet_approved_at_as_of_does_not_apply(tmp_path):
    late = dict(waiver("W-late", ACK), approved_at="2025-06-05T00:00:00Z")
    summary = apply_waivers(summary_of([EXAMPLE_STORE]), load_waivers(write(tmp_path, late)))
    assert {i.code for i in summary.closure.open_items} == {ACK, DELIVERY}
    assert [w.code for w in summary.closure.warnings][-1] == "waiver_not_yet_approved"


def test_an_unmatched_waiver_is_a_warning_and_changes_nothing(tmp_path):
    path = write(tmp_path, waiver("W-none", "recovery_retry_health_alert_delivery_failed"))
    code, summary = check_json("--waivers", str(path))
    assert code == 1
    assert len(summary["closure"]["open_items"]) == 2 and summary["closure"]["accepted_items"] == []
    unmatched = [w for w in summary["closure"]["warnings"] if w["code"] == "waiver_unmatched"]
    assert len(unmatched) == 1 and "W-none" in unmatched[0]["detail"]


def test_optional_fields_narrow_the_match(tmp_path):
    path = write(tmp_path, waiver("W-email", DELIVERY, provider="email"), waiver("W-slack", DELIVERY, provider="slack"))
    summary = apply_waivers(summary_of([EXAMPLE_STORE]), load_waivers(path))
    (accepted,) = summary.closure.accepted_items
    assert accepted.waiver is not None and accepted.waiver.id == "W-slack"
    assert "waiver_unmatched" in [w.code for w in summary.closure.warnings]


def test_a_check_keeps_failing_while_any_item_behind_it_is_open(tmp_path):
    only_ack = apply_waivers(summary_of([EXAMPLE_STORE]), load_waivers(write(tmp_path, waiver("W-ack", ACK))))
    statuses = {c.id: c.status for c in only_ack.readiness.checks}
    assert statuses["executive_retry_health_alert_delivery"] == "fail"
    assert statuses["final_reporting_closure_state"] == "fail"
    assert only_ack.readiness.state == "blocked"
    only_delivery = apply_waivers(
        summary_of([EXAMPLE_STORE]), load_waivers(write(tmp_path, waiver("W-del", DELIVERY, health_id=EXEC_HEALTH)))
    )
    statuses = {c.id: c.status for c in only_delivery.readiness.checks}
    assert statuses["executive_retry_health_alert_delivery"] == "warning"
    assert statuses["executive_retry_health_alert_retry_execution"] == "warning"
    assert statuses["final_reporting_closure_state"] == "fail"  # the ack is still open
    assert only_delivery.closure.state == "open"


def test_cavra_items_are_matched_by_code(tmp_path):
    path = write(tmp_path, waiver("W-cavra", DELIVERY))
    summary = apply_waivers(summary_of([EXAMPLE_STORE], mode="cavra"), load_waivers(path))
    assert [i.code for i in summary.closure.accepted_items] == [DELIVERY]
    statuses = {c.id: c.status for c in summary.readiness.checks}
    assert statuses["executive_retry_health_alert_delivery"] == "warning"
    assert statuses["executive_retry_health_alert_retry_execution"] == "fail"


def test_only_checks_derived_from_items_can_be_waived():
    assert check_sources("notification_acknowledgements", "chain") == ()
    assert check_sources("release_readiness_artifacts", "chain") == ()
    assert check_sources("executive_retry_health_alert_retry_execution", "chain") == (DELIVERY,)
    assert check_sources("evidence_integrity", "cavra") == (
        "evidence_unreadable",
        "evidence_missing",
        "evidence_kind_unjudged",
    )


def test_the_summary_with_accepted_items_matches_its_schema():
    _, summary = check_json("--waivers", str(WAIVERS))
    jsonschema.validate(summary, schema_of("summary"))


def test_yaml_dates_without_offset_are_utc_and_the_schema_command_prints_the_file_schema():
    text = "waivers:\n- {id: a, code: c, justification: j, approved_by: b, approved_at: 2025-06-01, expires_at: 2025-06-02 12:00:00}\n"
    parsed = parse_waivers(text.encode())
    assert parsed.waivers[0].approved_at == datetime(2025, 6, 1, tzinfo=UTC)
    assert parsed.waivers[0].expires_at == datetime(2025, 6, 2, 12, tzinfo=UTC)
    result = run("schema", "waivers")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    jsonschema.validate({"waivers": [waiver("x", ACK)]}, schema)
    assert set(schema["$defs"]["Waiver"]["required"]) >= {"id", "code", "approved_by", "expires_at"}


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([waiver("a", ACK), waiver("a", DELIVERY)], "given twice"),
        ([dict(waiver("a", ACK), expires_at="2025-05-01T00:00:00Z")], "expires before"),
        ([dict(waiver("a", ACK), expires="2025-07-01")], "expires"),
        ([{k: v for k, v in waiver("a", ACK).items() if k != "approved_by"}], "approved_by"),
    ],
)
def test_a_bad_waiver_file_is_a_usage_error(tmp_path, entries, message):
    path = write(tmp_path, *entries)
    with pytest.raises(WaiverError, match=message):
        load_waivers(path)
    result = run("check", str(EXAMPLE_STORE), "--waivers", str(path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_pack_shows_accepted_items_never_hides_them(tmp_path):
    out = tmp_path / "pack"
    result = run("build", str(EXAMPLE_STORE), "--out", str(out), "--format", "html,md,json", "--waivers", str(WAIVERS))
    assert result.returncode == 0, result.stderr
    for name in ("closure-dashboard.html", "closure-dashboard.md"):
        text = (out / name).read_text()
        assert "Accepted items (deviation approved)" in text
        assert "No open item remains" in text and "WVR-2025-014" in text
        assert "Release governance board (R. Okafor)" in text and "2025-06-15 00:00:00 UTC" in text
    assert "2 items accepted as deviations" in (out / "index.html").read_text()


def test_applying_the_same_waivers_again_changes_nothing():
    waivers = load_waivers(WAIVERS)
    once = apply_waivers(summary_of([EXAMPLE_STORE]), waivers)
    twice = apply_waivers(once, waivers)
    assert twice.closure.model_dump() == once.closure.model_dump()
    assert twice.readiness.state == "ready"
