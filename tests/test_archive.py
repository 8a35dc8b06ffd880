"""The archive-reference health alert loop (reference kind H), and evidence the rules do not judge."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from evidence import (
    EXEC_RETRY_PLAN,
    FIXTURES,
    RETRY_PLAN_KEY,
    ROOT,
    example,
    judge,
    record,
    without,
    write_ndjson,
    write_store,
)

from reportgen.evidence.kinds import LOOP_OF_KIND
from reportgen.evidence.load import load
from reportgen.evidence.loops import HISTORY_KINDS, HISTORY_SOURCES
from reportgen.evidence.reread import read_entries
from reportgen.judge.history import read_summary
from reportgen.judge.summary import Summary, summarise
from reportgen.judge.waivers import WaiverError, apply_waivers, parse_waivers
from reportgen.output.pdf import evidence_ndjson

ARCHIVE_STORE = FIXTURES / "archive" / "store.json"
H2 = "gordackfinalarchivehealth-c57853b157db502b"
H3 = "gordackfinalarchalert-c5a4bfb2792f3bc3"
H4 = "rcd-gordackfinalarchivehealth-c57853b157db502b-23052c091976"
H5 = "rcd-gordackfinalarchivehealth-c57853b157db502b-7561bb8a5879"
H6 = "gordackfinalarchack-abdb638b2c18332f"
ARCH_FAILED = "final_archive_health_alert_delivery_failed"
ARCH_ACK = "final_archive_health_alert_acknowledgement_outstanding"
EXEC_FAILED = "executive_retry_health_alert_delivery_failed"
EXEC_ACK = "executive_retry_health_alert_acknowledgement_outstanding"
EXEC_EXECUTION = "executive_retry_health_alert_retry_execution_failed"
REC_FAILED = "recovery_retry_health_alert_delivery_failed"
PLAN_KEY = "final_reporting_archive_reference_health_alert_plan"
UNJUDGED_KIND = "go-backend-rollback-drill-acknowledgement-audit-delivery-final-reporting-closeout-certificate"
UNJUDGED_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_final_reporting_closeout_certificate"
OUTSIDE_KIND = "go-backend-rollback-drill-acknowledgement-audit-delivery-final-reporting-auditor-export"


def archive_example() -> list[dict[str, Any]]:
    """The 27 records of the reference chain with the archive loop (H.10), fresh copies."""
    return copy.deepcopy(json.loads(ARCHIVE_STORE.read_text())["items"])


def archive_only() -> list[dict[str, Any]]:
    """The archive loop's records alone (H1-H6)."""
    return [r for r in archive_example() if "archive" in r["metadata_kind"] or "archive" in r.get("signer", "")]


def archive_items(summary: Summary) -> list[tuple[str, str | None, str | None, str | None]]:
    """The archive loop's open items as (code, health_id, provider, retry_state)."""
    items = summary.closure.open_items
    return [(i.code, i.health_id, i.provider, i.retry_state) for i in items if i.loop == "archive"]


def codes(summary: Summary) -> list[str]:
    """The open item codes, in order."""
    return [i.code for i in summary.closure.open_items]


def plan(session_id: str, health_id: str, at: str, providers: list[str], level: str | None = None) -> dict[str, Any]:
    """A copy of H3 as another plan: its id, health, time and required providers (healthy when none)."""
    made = record(archive_example(), H3)
    made.update(session_id=session_id, plan_id=session_id, health_id=health_id, created_at=at)
    made.update(alert_level=level or ("warning" if providers else "healthy"))
    made.update(selected_providers=providers, acknowledgement_required_providers=providers)
    made[PLAN_KEY].update(plan_id=session_id, health_id=health_id, acknowledgement_required_providers=providers)
    return made


def delivery(session_id: str, health_id: str, at: str, failed: dict[str, bool]) -> dict[str, Any]:
    """A copy of H4 as another archive delivery: per provider, whether it failed."""
    made = record(archive_example(), H4)
    failing = sorted(p for p, bad in failed.items() if bad)
    made.update(session_id=session_id, health_id=health_id, event_id=health_id, created_at=at)
    made.update(providers=sorted(failed), failed_providers=failing, delivery_success=not failing)
    return made


def ack(session_id: str, health_id: str, provider: str, state: str, at: str) -> dict[str, Any]:
    """A copy of H6 as another archive acknowledgement."""
    made = record(archive_example(), H6)
    made.update(session_id=session_id, health_id=health_id, provider=provider, acknowledgement_state=state)
    made.update(created_at=at, acknowledgement_id=session_id)
    return made


# --- the reference chain ---------------------------------------------------------------------------


def test_the_reference_archive_store_gives_upstreams_items_in_cavra_mode(tmp_path):
    summary = judge(tmp_path, archive_example(), "cavra")
    assert codes(summary) == [EXEC_FAILED, EXEC_ACK, EXEC_EXECUTION, REC_FAILED, ARCH_FAILED, ARCH_ACK]
    cavra = summary.counts.cavra
    assert cavra["final_archive_health_alert_plan_count"] == 1
    assert cavra["final_archive_health_alert_ack_count"] == 1
    assert cavra["final_archive_health_alert_delivery_failed_count"] == 1
    assert cavra["final_archive_health_alert_acknowledgement_outstanding_count"] == 1


def test_the_reference_archive_store_leaves_slack_unacknowledged_and_webhook_resolved_by_h5(tmp_path):
    summary = judge(tmp_path, archive_example())
    assert archive_items(summary) == [(ARCH_ACK, H2, "slack", None)]
    assert [c for c in codes(summary) if c.startswith("executive")] == [EXEC_ACK, EXEC_FAILED]
    resolved = {(c.loop, c.provider): c for c in summary.closure.resolved_chains}
    webhook = resolved[("archive", "webhook")]
    assert (webhook.health_id, webhook.resolution, webhook.resolved_by.session_id) == (H2, "delivered", H5)
    assert [r.session_id for r in webhook.failed] == [H4]


def test_the_six_readiness_checks_read_no_archive_count(tmp_path):
    summary = judge(tmp_path, archive_example(), "cavra")
    assert [c.id for c in summary.readiness.checks] == [
        "final_reporting_closure_state",
        "executive_retry_health_alert_delivery",
        "executive_retry_health_alert_retry_execution",
        "recovery_retry_health_alert_retry_execution",
        "notification_acknowledgements",
        "release_readiness_artifacts",
    ]
    assert not any("archive" in c.evidence for c in summary.readiness.checks)


# --- only the archive loop open --------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["chain", "cavra"])
def test_evidence_with_only_the_archive_loop_open_is_open_blocked_and_exits_1(mode):
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", "--rules", mode, str(FIXTURES / "archive-open")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stdout.startswith("closure: open   readiness: blocked   decision: hold_release_closure")
    assert ARCH_FAILED in result.stdout and ARCH_ACK in result.stdout and "archive" in result.stdout


def test_a_later_delivered_and_acknowledged_plan_closes_the_loop_by_chains_but_not_by_counts():
    loaded = load([str(FIXTURES / "archive-superseded")])
    by_chain = summarise(loaded, "chain")
    assert by_chain.closure.state == "closed" and by_chain.readiness.state == "ready"
    superseded = [c for c in by_chain.closure.resolved_chains if c.resolution == "superseded"]
    # The older plan's webhook delivery failed and neither provider acknowledged it.
    assert {(c.health_id, c.provider, c.failures) for c in superseded} == {(H2, "slack", 0), (H2, "webhook", 1)}
    latest = max(
        (p for p in loaded.records if p.metadata_kind.endswith("-health-alert-plan")), key=lambda p: p.created_at
    )
    assert all(c.resolved_by.session_id == latest.session_id for c in superseded)
    assert codes(summarise(loaded, "cavra")) == [ARCH_FAILED, ARCH_ACK]


def test_a_superseded_plans_outstanding_acknowledgement_is_listed_as_superseded_never_open(tmp_path):
    records = archive_only()
    records.append(plan("gordackfinalarchalert-later", "health-later", "2025-06-02T13:00:00+00:00", []))
    summary = judge(tmp_path, records)
    assert archive_items(summary) == []
    superseded = {(c.health_id, c.provider) for c in summary.closure.resolved_chains if c.resolution == "superseded"}
    assert superseded == {(H2, "slack"), (H2, "webhook")}
    assert summary.counts.loops["archive"].chains.superseded == 1


# --- deliveries -------------------------------------------------------------------------------------


def test_one_multi_provider_delivery_fails_only_the_providers_it_names_as_failed(tmp_path):
    records = without(archive_only(), H5, H6)
    summary = judge(tmp_path, records)
    failed = [(code, provider) for code, _, provider, _ in archive_items(summary) if code == ARCH_FAILED]
    assert failed == [(ARCH_FAILED, "webhook")]


def test_a_failed_delivery_naming_no_failed_provider_failed_for_all_of_its_providers(tmp_path):
    records = without(archive_only(), H5, H6)
    record(records, H4)["failed_providers"] = []
    summary = judge(tmp_path, records)
    failed = sorted(provider for code, _, provider, _ in archive_items(summary) if code == ARCH_FAILED)
    assert failed == ["slack", "webhook"]


def test_a_required_provider_never_delivered_is_an_open_delivery_with_no_retry(tmp_path):
    records = without(archive_only(), H4, H5)
    summary = judge(tmp_path, records)
    undelivered = [i for i in summary.closure.open_items if i.code == ARCH_FAILED]
    assert [(i.provider, i.retry_state, i.attempts) for i in undelivered] == [
        ("slack", "no_retry_plan", 0),
        ("webhook", "no_retry_plan", 0),
    ]
    assert undelivered[0].evidence[0].session_id == H3
    assert "POST" in undelivered[0].operator_action and "/deliver" in undelivered[0].operator_action


def test_a_failed_archive_delivery_says_what_works_upstream_not_a_retry_worker(tmp_path):
    summary = judge(tmp_path, without(archive_only(), H5))
    item = next(i for i in summary.closure.open_items if i.code == ARCH_FAILED)
    assert item.retry_state == "no_retry_plan"
    assert "retry-worker-run" not in item.operator_action
    assert "final-reporting-archive-reference-health-alerts/deliver" in item.operator_action
    assert "acknowledgements" in item.operator_action


def test_a_latest_plan_requiring_no_provider_leaves_the_loop_closed(tmp_path):
    records = without(archive_only(), H5, H6)
    records.append(plan("gordackfinalarchalert-healthy", "health-healthy", "2025-06-02T12:30:00+00:00", []))
    summary = judge(tmp_path, records)
    assert archive_items(summary) == []
    assert codes(judge(tmp_path, records, "cavra")) == [ARCH_FAILED, ARCH_ACK]


def test_a_failure_after_the_latest_plan_of_a_key_it_does_not_require_stays_open(tmp_path):
    records = archive_only()
    records.append(plan("gordackfinalarchalert-b", "health-b", "2025-06-02T12:30:00+00:00", []))
    records.append(delivery("rcd-late", "health-c", "2025-06-02T12:40:00+00:00", {"teams": True}))
    summary = judge(tmp_path, records)
    assert archive_items(summary) == [(ARCH_FAILED, "health-c", "teams", "no_retry_plan")]


# --- ties ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("smaller", ["slack", "webhook"])
def test_of_two_plans_made_at_one_instant_the_smaller_session_id_is_the_latest(tmp_path, smaller):
    records = [r for r in archive_only() if r["session_id"] != H3]
    other = "webhook" if smaller == "slack" else "slack"
    at = "2025-06-02T12:30:00+00:00"
    records.append(plan("gordackfinalarchalert-a", "health-a", at, [smaller]))
    records.append(plan("gordackfinalarchalert-b", "health-b", at, [other]))
    summary = judge(tmp_path, records)
    assert {(code, provider) for code, _, provider, _ in archive_items(summary) if code == ARCH_ACK} == {
        (ARCH_ACK, smaller)
    }


def test_a_failure_of_the_losing_plan_of_a_tie_is_superseded_not_open(tmp_path):
    records = [r for r in archive_only() if r["session_id"] not in (H3, H4, H5, H6)]
    at = "2025-06-02T12:30:00+00:00"
    records.append(plan("gordackfinalarchalert-a", "health-a", at, ["slack"]))
    records.append(plan("gordackfinalarchalert-b", "health-b", at, ["webhook"]))
    records.append(delivery("rcd-a", "health-a", "2025-06-02T12:30:02+00:00", {"slack": False}))
    records.append(delivery("rcd-b", "health-b", "2025-06-02T12:30:03+00:00", {"webhook": True}))
    summary = judge(tmp_path, records)
    assert archive_items(summary) == [(ARCH_ACK, "health-a", "slack", None)]
    superseded = [(c.health_id, c.provider, c.resolution) for c in summary.closure.resolved_chains]
    assert ("health-b", "webhook", "superseded") in superseded


def test_of_two_recovery_plans_for_one_health_at_one_instant_upstream_counts_the_smaller_id(tmp_path):
    records = archive_example()
    rec_plan = next(r for r in records if r["metadata_kind"].endswith("recovery-escalation-retry-health-alert-plan"))
    twin = copy.deepcopy(rec_plan)
    twin.update(session_id=rec_plan["session_id"] + "-z", plan_id=rec_plan["plan_id"] + "-z")
    twin["acknowledgement_required_providers"] = ["pagerduty"]
    records.append(twin)
    cavra = judge(tmp_path, records, "cavra").counts.cavra
    assert cavra["recovery_retry_health_alert_acknowledgement_outstanding_count"] == 0


@pytest.mark.parametrize(("twin_id", "state"), [("gordackexechealthalertretry-0000", "waiting"), ("zz", "exhausted")])
def test_of_two_retry_plans_made_at_one_instant_the_smaller_id_decides(tmp_path, twin_id, state):
    records = example()
    twin = copy.deepcopy(record(records, EXEC_RETRY_PLAN))
    twin.update(session_id=twin_id, retry_plan_id=twin_id)
    twin[RETRY_PLAN_KEY]["retry_plan_id"] = twin_id
    for decision in twin[RETRY_PLAN_KEY]["retry_decisions"]:
        decision.update(action="wait", next_retry_at="2025-06-02T12:00:00+00:00")
    summary = judge(tmp_path, [*records, twin])
    item = next(i for i in summary.closure.open_items if i.code == EXEC_FAILED)
    assert item.retry_state == state


def test_of_two_acknowledgements_at_one_instant_the_smaller_session_id_is_the_latest_state(tmp_path):
    records = without(archive_only(), H6)
    at = "2025-06-02T12:10:44+00:00"
    records.append(ack("gordackfinalarchack-a", H2, "webhook", "escalated", at))
    records.append(ack("gordackfinalarchack-b", H2, "webhook", "dismissed", at))
    summary = judge(tmp_path, records)
    item = next(i for i in summary.closure.open_items if i.code == ARCH_ACK and i.provider == "webhook")
    assert item.acknowledgement_state == "escalated"


def test_upstream_counts_an_archive_pair_once_per_plan_that_requires_it(tmp_path):
    records = without(archive_only(), H6)
    again = plan("gordackfinalarchalert-again", H2, "2025-06-02T12:20:00+00:00", ["slack", "webhook"])
    records.append(again)
    cavra = judge(tmp_path, records, "cavra").counts.cavra
    assert cavra["final_archive_health_alert_acknowledgement_outstanding_count"] == 4


# --- evidence no rule reads ------------------------------------------------------------------------


def foreign(kind: str, session_id: str, **extra: Any) -> dict[str, Any]:
    """A well-formed envelope of some kind."""
    return {"session_id": session_id, "created_at": "2025-06-02T12:00:00+00:00", "metadata_kind": kind, **extra}


def test_an_unknown_rollback_drill_kind_opens_an_unjudged_item_and_never_exits_0(tmp_path):
    records = [r for r in json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]]
    records += [foreign(UNJUDGED_KIND, f"cert-{n}") for n in range(3)]
    path = write_store(tmp_path / "store.json", records)
    for mode in ("chain", "cavra"):
        result = subprocess.run(
            [sys.executable, "-m", "reportgen", "check", "--rules", mode, str(path)], capture_output=True, text=True
        )
        assert result.returncode == 1, mode
        assert "evidence_kind_unjudged" in result.stdout
    item = next(i for i in judge(tmp_path, records).closure.open_items if i.code == "evidence_kind_unjudged")
    assert (item.kind, item.count, item.severity) == (UNJUDGED_KIND, 3, "critical")
    assert UNJUDGED_KIND in item.title and "3 records" in item.detail


def test_a_delivery_of_an_unknown_rollback_drill_source_opens_an_unjudged_item(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    extra = foreign("release-connector-delivery", "rcd-cert", connector_delivery_source=UNJUDGED_SOURCE)
    records.append({**extra, "delivery_success": True})
    summary = judge(tmp_path, records)
    assert [(i.code, i.kind) for i in summary.closure.open_items] == [("evidence_kind_unjudged", UNJUDGED_SOURCE)]
    assert summary.inputs.unjudged_kinds == {UNJUDGED_SOURCE: 1}


def test_a_waiver_naming_the_kind_accepts_an_unjudged_item_on_the_record(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    records += [foreign(UNJUDGED_KIND, "cert-1"), foreign(UNJUDGED_KIND + "-other", "cert-2")]
    summary = judge(tmp_path, records)
    waiver = {
        "id": "W-cert",
        "code": "evidence_kind_unjudged",
        "kind": UNJUDGED_KIND,
        "justification": "Closeout certificates reviewed in CAVRA by release governance.",
        "approved_by": "mchen",
        "approved_at": "2025-06-01T00:00:00Z",
        "expires_at": "2025-07-01T00:00:00Z",
    }
    waived = apply_waivers(summary, parse_waivers(json.dumps({"waivers": [waiver]}).encode()))
    assert [i.kind for i in waived.closure.accepted_items] == [UNJUDGED_KIND]
    assert [i.kind for i in waived.closure.open_items] == [UNJUDGED_KIND + "-other"]
    assert waived.closure.state == "open"


def test_upstream_kinds_outside_the_closure_are_counted_by_kind_not_unrecognised(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    records += [foreign(OUTSIDE_KIND, f"export-{n}") for n in range(2)]
    summary = judge(tmp_path, records)
    assert summary.closure.state == "closed"
    assert (summary.inputs.outside_closure, summary.inputs.outside_closure_kinds) == (2, {OUTSIDE_KIND: 2})
    assert summary.inputs.unrecognised == 0
    integrity = next(c for c in summary.readiness.checks if c.id == "evidence_integrity")
    assert integrity.status == "pass" and "outside_closure=2" in integrity.evidence


def test_an_unrecognised_kind_makes_the_integrity_check_a_warning_never_a_pass(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    records.append(foreign("billing-invoice", "inv-1"))
    summary = judge(tmp_path, records)
    integrity = next(c for c in summary.readiness.checks if c.id == "evidence_integrity")
    assert integrity.status == "warning"
    assert [w.code for w in summary.closure.warnings] == ["evidence_kind_unrecognised"]
    assert summary.inputs.unrecognised_kinds == {"billing-invoice": 1}


@pytest.mark.parametrize("kind", ["billing-invoice", OUTSIDE_KIND, UNJUDGED_KIND])
def test_a_record_no_rule_reads_counts_once_when_read_from_two_forms(tmp_path, kind):
    records = [foreign(kind, "same-1"), *archive_only()]
    store = write_store(tmp_path / "store.json", records)
    ndjson = write_ndjson(tmp_path / "copy.ndjson", records)
    inputs = summarise(load([str(store), str(ndjson)])).inputs
    assert inputs.unrecognised + inputs.outside_closure + inputs.unjudged == 1
    assert inputs.duplicates == len(records)


# --- identity across formats -----------------------------------------------------------------------


def test_a_secret_item_has_the_same_id_whatever_form_the_record_came_in(tmp_path):
    records = archive_only()
    record(records, H4)["delivery"]["deliveries"][1]["request"]["headers"]["authorization"] = "Bearer abc.def.ghi"
    store = write_store(tmp_path / "store.json", records)
    ndjson = write_ndjson(tmp_path / "copy.ndjson", records)
    ids = [
        [i.id for i in summarise(load([str(p)])).closure.open_items if i.code == "evidence_secret_exposed"]
        for p in (store, ndjson)
    ]
    assert ids[0] == ids[1] and len(ids[0]) == 1
    both = [
        i for i in summarise(load([str(store), str(ndjson)])).closure.open_items if i.code == "evidence_secret_exposed"
    ]
    assert [i.id for i in both] == ids[0]


def test_the_cavra_release_decision_gives_upstreams_reason_and_the_failed_checks_apart(tmp_path):
    decision = judge(tmp_path, archive_example(), "cavra").readiness.release_decision
    assert decision.reason == "final rollback drill reporting loop has unresolved blockers"
    assert decision.failed_checks == [
        "final_reporting_closure_state",
        "executive_retry_health_alert_delivery",
        "executive_retry_health_alert_retry_execution",
    ]


def test_a_waiver_naming_the_archive_loop_accepts_its_items(tmp_path):
    summary = judge(tmp_path, without(archive_only(), H5))
    waiver = {
        "id": "W-archive",
        "code": ARCH_FAILED,
        "loop": "archive",
        "justification": "Webhook connector replaced; the archive alert is re-sent in CHG-20431.",
        "approved_by": "mchen",
        "approved_at": "2025-06-01T00:00:00Z",
        "expires_at": "2025-07-01T00:00:00Z",
    }
    waived = apply_waivers(summary, parse_waivers(json.dumps({"waivers": [waiver]}).encode()))
    assert [(i.code, i.provider) for i in waived.closure.accepted_items] == [(ARCH_FAILED, "webhook")]


def test_archive_records_alone_are_alert_loop_evidence(tmp_path):
    assert "evidence_missing" not in codes(judge(tmp_path, archive_only()))


def test_the_history_kinds_table_is_the_references(tmp_path):
    # shared/ stands beside the checkout (on a developer's machine and in CI).
    shared = ROOT.parent / "shared" / "reference" / "cavra-history-kinds.json"
    if not shared.exists():
        pytest.skip("the shared reference is not on this machine")
    reference = json.loads(shared.read_text())
    assert HISTORY_KINDS == set(reference["kinds"]) and HISTORY_SOURCES == set(reference["delivery_sources"])
    assert set(LOOP_OF_KIND) <= HISTORY_KINDS


# --- found in review: each a class of evidence the gate must not approve ---------------------------


@pytest.mark.parametrize("level", ["warning", "critical", None])
def test_a_latest_plan_that_alerted_nobody_about_an_unhealthy_health_keeps_the_loop_open(tmp_path, level):
    records = without(archive_only(), H5, H6)
    records.append(plan("gordackfinalarchalert-nobody", "health-x", "2025-06-02T12:30:00+00:00", [], level or "x"))
    if level is None:
        del records[-1]["alert_level"]
    summary = judge(tmp_path, records)
    assert archive_items(summary) == [(ARCH_FAILED, "health-x", None, "no_retry_plan")]
    assert "reached no provider" in summary.closure.open_items[0].title


def test_a_plan_without_its_required_list_requires_the_providers_it_selected(tmp_path):
    records = without(archive_only(), H5, H6)
    later = plan("gordackfinalarchalert-bare", "health-bare", "2025-06-02T12:30:00+00:00", ["slack"])
    del later["acknowledgement_required_providers"], later[PLAN_KEY]
    summary = judge(tmp_path, [*records, later])
    assert (ARCH_ACK, "health-bare", "slack", None) in archive_items(summary)


def test_records_no_rule_reads_travel_in_the_attached_evidence_so_a_re_check_still_holds(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    records += [foreign(UNJUDGED_KIND, "cert-1"), foreign(OUTSIDE_KIND, "export-1"), foreign("billing", "inv-1")]
    loaded = load([str(write_store(tmp_path / "store.json", records))])
    attached = [
        json.loads(line) for line in evidence_ndjson(read_entries(loaded), summarise(loaded).inputs).splitlines()
    ]
    again = summarise(load([str(write_ndjson(tmp_path / "evidence.ndjson", attached))]))
    assert (again.inputs.unjudged, again.inputs.outside_closure, again.inputs.unrecognised) == (1, 1, 1)
    assert again.closure.state == "open"


def test_a_summary_written_before_records_no_rule_reads_were_counted_is_still_read(tmp_path):
    summary = json.loads(judge(tmp_path, archive_only()).to_json())
    for key in ("outside_closure", "outside_closure_kinds", "unjudged", "unjudged_kinds"):
        del summary["inputs"][key]
    for chain in summary["closure"]["resolved_chains"]:
        del chain["resolution"]
    del summary["readiness"]["release_decision"]["failed_checks"]
    (tmp_path / "old.json").write_text(json.dumps(summary))
    assert read_summary(tmp_path / "old.json").inputs.unjudged == 0


def test_a_record_no_rule_reads_counts_for_the_default_as_of_and_is_warned_about_after_it(tmp_path):
    records = [*archive_only(), foreign("billing", "inv-1", created_at="2025-06-03T00:00:00+00:00")]
    summary = judge(tmp_path, records)
    assert summary.as_of.isoformat().startswith("2025-06-03")
    early = judge(tmp_path, records, as_of=summary.as_of.replace(day=2))
    assert "timestamp_in_future" in [w.code for w in early.closure.warnings]


def test_an_archive_reference_alone_is_not_alert_loop_evidence(tmp_path):
    reference = [r for r in archive_only() if r["metadata_kind"].endswith("immutable-archive-reference")]
    assert "evidence_missing" in codes(judge(tmp_path, reference))


def test_the_loop_counts_split_failed_chains_and_follow_the_mode(tmp_path):
    records = archive_only()
    records.append(plan("gordackfinalarchalert-later", "health-later", "2025-06-02T13:00:00+00:00", []))
    chains = judge(tmp_path, records).counts.model_dump()["loops"]["archive"]["chains"]
    assert chains["failed"] == chains["resolved"] + chains["open"] + chains["superseded"] == 1
    cavra = judge(tmp_path, without(archive_only(), H6), "cavra").counts.model_dump()
    assert cavra["loops"]["archive"]["acknowledgements_outstanding"] == 2
    assert cavra["cavra"]["final_archive_health_alert_acknowledgement_outstanding_count"] == 2


def test_the_terminal_names_the_kind_and_count_of_each_unjudged_item(tmp_path):
    records = json.loads((FIXTURES / "clean" / "store.json").read_text())["items"]
    records += [foreign(UNJUDGED_KIND, "cert-1"), foreign(UNJUDGED_KIND, "cert-2"), foreign(UNJUDGED_KIND + "-b", "b")]
    path = write_store(tmp_path / "store.json", records)
    result = subprocess.run([sys.executable, "-m", "reportgen", "check", str(path)], capture_output=True, text=True)
    assert f"{UNJUDGED_KIND} (2 records)" in result.stdout and f"{UNJUDGED_KIND}-b (1 record)" in result.stdout


def test_a_waiver_of_unjudged_evidence_that_does_not_name_its_kind_is_refused():
    waiver = {
        "id": "W-any",
        "code": "evidence_kind_unjudged",
        "justification": "Whatever newer CAVRA loops there are.",
        "approved_by": "mchen",
        "approved_at": "2025-06-01T00:00:00Z",
        "expires_at": "2025-07-01T00:00:00Z",
    }
    with pytest.raises(WaiverError, match="give kind"):
        parse_waivers(json.dumps({"waivers": [waiver]}).encode())
