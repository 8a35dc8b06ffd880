"""The closure rules in both modes, on the reference chain and on changed copies of it."""

from __future__ import annotations

from datetime import UTC, datetime

from evidence import (
    A1,
    A2,
    A3,
    EXEC_ACK,
    EXEC_DELIVERED_EXECUTION,
    EXEC_FAILED_EXECUTION,
    EXEC_HEALTH,
    EXEC_RETRY_PLAN,
    EXEC_WORKER,
    EXECUTION_KEY,
    NOTIFICATION_ACK,
    REC_ACK,
    REC_HEALTH,
    RETRY_PLAN_KEY,
    WORKER_KEY,
    check,
    codes,
    example,
    item,
    judge,
    record,
    without,
)

EXEC_DELIVERY_FAILED = "executive_retry_health_alert_delivery_failed"
EXEC_ACK_OUTSTANDING = "executive_retry_health_alert_acknowledgement_outstanding"


def test_example_chain_is_open_with_the_slack_chain_exhausted_and_unacknowledged(tmp_path):
    summary = judge(tmp_path, example())
    assert summary.closure.state == "open"
    assert summary.readiness.state == "blocked"
    assert codes(summary) == [EXEC_ACK_OUTSTANDING, EXEC_DELIVERY_FAILED]
    delivery = item(summary, EXEC_DELIVERY_FAILED)
    assert (delivery.loop, delivery.health_id, delivery.provider) == ("executive", EXEC_HEALTH, "slack")
    assert delivery.retry_state == "exhausted"
    assert delivery.retry_count == 3 and delivery.max_retry_attempts == 3
    assert delivery.opened_at == datetime(2025, 6, 2, 10, 0, 6, 372915, tzinfo=UTC)
    assert {e.session_id for e in delivery.evidence} >= {A1, EXEC_FAILED_EXECUTION, EXEC_RETRY_PLAN}
    ack = item(summary, EXEC_ACK_OUTSTANDING)
    assert (ack.health_id, ack.provider, ack.acknowledgement_state) == (EXEC_HEALTH, "slack", None)


def test_example_webhook_and_recovery_chains_are_resolved_by_their_delivered_executions(tmp_path):
    summary = judge(tmp_path, example())
    resolved = {(c.loop, c.provider): c for c in summary.closure.resolved_chains}
    assert set(resolved) == {("executive", "webhook"), ("recovery", "webhook")}
    webhook = resolved[("executive", "webhook")]
    assert webhook.resolved_by.session_id == EXEC_DELIVERED_EXECUTION
    assert [f.session_id for f in webhook.failed] == [A1]
    assert resolved[("recovery", "webhook")].health_id == REC_HEALTH
    assert [f.session_id for f in resolved[("recovery", "webhook")].failed] == [A3]


def test_cavra_mode_counts_every_failure_in_upstream_order(tmp_path):
    summary = judge(tmp_path, example(), mode="cavra")
    assert summary.closure.state == "open"
    assert codes(summary) == [
        EXEC_DELIVERY_FAILED,
        EXEC_ACK_OUTSTANDING,
        "executive_retry_health_alert_retry_execution_failed",
        "recovery_retry_health_alert_delivery_failed",
    ]
    assert item(summary, EXEC_DELIVERY_FAILED).count == 1
    assert [e.session_id for e in item(summary, "recovery_retry_health_alert_delivery_failed").evidence] == [A3]
    assert [(c.id, c.status, c.evidence) for c in summary.readiness.checks] == [
        ("final_reporting_closure_state", "fail", "closure_state=open"),
        ("executive_retry_health_alert_delivery", "fail", "failed_delivery_count=1"),
        ("executive_retry_health_alert_retry_execution", "fail", "failed_execution_count=1"),
        ("recovery_retry_health_alert_retry_execution", "pass", "failed_execution_count=0"),
        ("notification_acknowledgements", "pass", "outstanding_acknowledgement_count=0"),
        ("release_readiness_artifacts", "pass", "summary generated from public-safe rollback drill metadata"),
    ]


def test_chain_mode_adds_an_evidence_integrity_check_that_warns_on_broken_references(tmp_path):
    summary = judge(tmp_path, example())
    assert [c.id for c in summary.readiness.checks][-1] == "evidence_integrity"
    assert check(summary, "evidence_integrity").status == "warning"
    broken = [w for w in summary.closure.warnings if w.code == "evidence_reference_broken"]
    # D4 points at worker run W1, retry plan RP1 and redelivery D2, none of them in the store.
    assert any("gordackexechealthalertworker-2d8a61f5c0e947b3" in w.detail for w in broken)
    assert any("gordackexechealthalertretry-0b6e4d2a9f13c785" in w.detail for w in broken)


def _slack_decision(records):
    """The slack decision of the latest retry plan and of the worker run that embeds it."""
    plan = record(records, EXEC_RETRY_PLAN)[RETRY_PLAN_KEY]["retry_decisions"][0]
    embedded = record(records, EXEC_WORKER)[WORKER_KEY]["retry_plan"]["retry_decisions"][0]
    assert plan["provider"] == embedded["provider"] == "slack"
    return plan, embedded


def test_a_wait_decision_leaves_the_chain_waiting_with_its_next_retry_time(tmp_path):
    records = example()
    for decision in _slack_decision(records):
        decision.update(action="wait", reason="retry delay 60 minutes has not elapsed")
    summary = judge(tmp_path, records)
    delivery = item(summary, EXEC_DELIVERY_FAILED)
    assert delivery.retry_state == "waiting"
    assert delivery.next_retry_at == datetime(2025, 6, 2, 11, 55, 1, 287016, tzinfo=UTC)


def _retry_slack_in_worker(records, dry_run: bool):
    """Turn the slack decision into a retry that the latest worker selected."""
    for decision in _slack_decision(records):
        decision.update(action="retry", reason="failed executive retry health alert delivery is eligible for retry")
    worker = record(records, EXEC_WORKER)
    worker["dry_run"] = worker[WORKER_KEY]["dry_run"] = dry_run
    worker[WORKER_KEY]["selected_retries"].append(dict(_slack_decision(records)[0]))
    return worker


def test_a_retry_selected_only_by_dry_run_workers_is_dry_run_only(tmp_path):
    records = example()
    _retry_slack_in_worker(records, dry_run=True)
    records = without(records, EXEC_FAILED_EXECUTION)
    delivery = item(judge(tmp_path, records), EXEC_DELIVERY_FAILED)
    assert delivery.retry_state == "dry_run_only"
    assert "execute=true" in delivery.operator_action


def test_a_live_retry_whose_execution_was_skipped_is_execution_failed_with_its_reason(tmp_path):
    records = example()
    _retry_slack_in_worker(records, dry_run=False)
    skipped = record(records, EXEC_FAILED_EXECUTION)
    skipped.update(
        execution_status="skipped",
        worker_run_id=EXEC_WORKER,
        retry_plan_id=EXEC_RETRY_PLAN,
        created_at="2025-06-02T11:00:01.000000+00:00",
    )
    skipped[EXECUTION_KEY]["skipped"] = "recovery_executive_report_delivery_retry_health_not_found"
    delivery = item(judge(tmp_path, records), EXEC_DELIVERY_FAILED)
    assert delivery.retry_state == "execution_failed"
    assert delivery.skip_reason == "recovery_executive_report_delivery_retry_health_not_found"
    assert "POST /evidence" in delivery.operator_action


def test_a_retry_no_worker_selected_is_retry_pending(tmp_path):
    records = example()
    for decision in _slack_decision(records):
        decision.update(action="retry")
    delivery = item(judge(tmp_path, without(records, EXEC_FAILED_EXECUTION)), EXEC_DELIVERY_FAILED)
    assert delivery.retry_state == "retry_pending"


def test_a_failed_live_retry_stays_execution_failed_when_later_only_dry_runs_select_the_key(tmp_path):
    records = example()
    _retry_slack_in_worker(records, dry_run=True)  # D4, the failed live retry of W1, stays
    delivery = item(judge(tmp_path, records), EXEC_DELIVERY_FAILED)
    assert delivery.retry_state == "execution_failed"


def test_a_failure_without_any_retry_decision_has_no_retry_plan(tmp_path):
    records = without(example(), EXEC_RETRY_PLAN, EXEC_WORKER, EXEC_FAILED_EXECUTION, EXEC_DELIVERED_EXECUTION, A2)
    summary = judge(tmp_path, records)
    states = {i.provider: i.retry_state for i in summary.closure.open_items if i.code == EXEC_DELIVERY_FAILED}
    assert states == {"slack": "no_retry_plan", "webhook": "no_retry_plan"}


def test_a_failed_execution_without_a_retry_decision_is_execution_failed(tmp_path):
    records = without(example(), EXEC_RETRY_PLAN, EXEC_WORKER)
    assert item(judge(tmp_path, records), EXEC_DELIVERY_FAILED, "slack").retry_state == "execution_failed"


def test_a_later_successful_redelivery_resolves_the_chain(tmp_path):
    records = example()
    success = record(records, A2)
    success["providers"] = ["slack", "webhook"]
    success["created_at"] = "2025-06-02T11:10:00.000000+00:00"
    summary = judge(tmp_path, records)
    assert EXEC_DELIVERY_FAILED not in codes(summary)
    assert ("executive", "slack") in {(c.loop, c.provider) for c in summary.closure.resolved_chains}


def test_order_is_by_parsed_time_not_by_the_timestamp_string(tmp_path):
    # 11:10+02:00 is 09:10 UTC: before the 10:00 failure, although its string sorts after it.
    records = example()
    success = record(records, A2)
    success["providers"] = ["slack"]
    success["created_at"] = "2025-06-02T11:10:00+02:00"
    assert "slack" in [
        i.provider for i in judge(tmp_path, records).closure.open_items if i.code == EXEC_DELIVERY_FAILED
    ]
    # 09:30-02:00 is 11:30 UTC: after every failure, although its string sorts before them.
    success["created_at"] = "2025-06-02T09:30:00-02:00"
    assert EXEC_DELIVERY_FAILED not in codes(judge(tmp_path, records))


def test_a_success_and_a_failure_at_the_same_instant_leave_the_chain_open(tmp_path):
    records = example()
    success = record(records, A2)
    success["providers"] = ["slack"]
    success["created_at"] = record(records, EXEC_FAILED_EXECUTION)["created_at"]
    records = without(records, EXEC_RETRY_PLAN, EXEC_WORKER, EXEC_DELIVERED_EXECUTION)
    assert item(judge(tmp_path, records), EXEC_DELIVERY_FAILED, "slack").retry_state == "execution_failed"


def test_health_id_falls_back_to_the_event_id(tmp_path):
    records = example()
    del record(records, A1)["health_id"]
    summary = judge(tmp_path, records)
    keys = {(i.health_id, i.provider) for i in summary.closure.open_items if i.code == EXEC_DELIVERY_FAILED}
    event_id = record(records, A1)["event_id"]
    assert (event_id, "webhook") in keys and (event_id, "slack") in keys


def test_a_dismissed_acknowledgement_keeps_the_item_open_and_says_so(tmp_path):
    records = example()
    ack = record(records, EXEC_ACK)
    ack["provider"] = "Slack"  # upstream normalises alert-ack providers
    ack["acknowledgement_state"] = "dismissed"
    items = {i.provider: i for i in judge(tmp_path, records).closure.open_items if i.code == EXEC_ACK_OUTSTANDING}
    assert set(items) == {"slack", "webhook"}
    assert items["slack"].acknowledgement_state == "dismissed"
    assert items["webhook"].acknowledgement_state is None


def test_a_resolved_acknowledgement_clears_the_item(tmp_path):
    records = example()
    ack = record(records, EXEC_ACK)
    ack["provider"], ack["acknowledgement_state"] = "slack", "resolved"
    records.append(dict(record(example(), EXEC_ACK), session_id="gordackexechealthack-webhook-copy"))
    assert EXEC_ACK_OUTSTANDING not in codes(judge(tmp_path, records))


def test_a_missing_recovery_ack_opens_a_recovery_item(tmp_path):
    summary = judge(tmp_path, without(example(), REC_ACK))
    ack = item(summary, "recovery_retry_health_alert_acknowledgement_outstanding")
    assert (ack.loop, ack.health_id, ack.provider) == ("recovery", REC_HEALTH, "webhook")


def test_chain_items_are_sorted_by_loop_severity_health_provider_and_code(tmp_path):
    records = without(example(), REC_ACK)
    summary = judge(tmp_path, records)
    keys = [(i.loop, i.severity, i.health_id, i.provider, i.code) for i in summary.closure.open_items]
    assert keys == sorted(keys) and keys[0][0] == "executive" and keys[-1][0] == "recovery"


def test_notification_acknowledgements_fail_when_the_latest_plan_has_an_unacknowledged_route(tmp_path):
    summary = judge(tmp_path, without(example(), NOTIFICATION_ACK))
    notification = check(summary, "notification_acknowledgements")
    assert (notification.status, notification.evidence) == ("fail", "outstanding_acknowledgement_count=1")
    # A readiness check, not a closure item (upstream).
    assert not [c for c in codes(summary) if "notification" in c]


def _closed_chain():
    """The example chain with the slack chain redelivered and acknowledged."""
    records = example()
    success = record(records, A2)
    success["providers"] = ["slack", "webhook"]
    ack = record(records, EXEC_ACK)
    records.append(dict(ack, session_id="gordackexechealthack-slack", provider="slack"))
    return records


def test_a_fully_redelivered_and_acknowledged_chain_is_closed_and_ready(tmp_path):
    summary = judge(tmp_path, _closed_chain())
    assert summary.closure.state == "closed"
    assert summary.readiness.state == "ready"
    assert summary.readiness.release_decision.recommended_state == "approve_release_closure"
    # The failed execution (D4) was later delivered, so its check passes in chain mode...
    assert check(summary, "executive_retry_health_alert_retry_execution").status == "pass"
    # ...while CAVRA's count-based gate still holds the release.
    cavra = judge(tmp_path, _closed_chain(), mode="cavra")
    assert cavra.closure.state == "open" and cavra.readiness.state == "blocked"


def test_warnings_alone_do_not_open_the_closure(tmp_path):
    summary = judge(tmp_path, _closed_chain())
    assert summary.closure.warnings  # D4's references to W1/RP1/D2 are broken
    assert summary.closure.state == "closed"


def test_empty_evidence_is_never_closed_in_either_mode(tmp_path):
    for mode in ("chain", "cavra"):
        summary = judge(tmp_path, [], mode=mode)
        assert codes(summary) == ["evidence_missing"]
        assert summary.closure.state == "open" and summary.readiness.state == "blocked"


def test_evidence_without_alert_loop_records_is_missing(tmp_path):
    records = [r for r in example() if "notification" in r["metadata_kind"]]
    assert codes(judge(tmp_path, records)) == ["evidence_missing"]


def test_a_rejected_record_opens_evidence_unreadable_in_both_modes(tmp_path):
    records = _closed_chain()
    records.append({"session_id": "x", "metadata_kind": "release-connector-delivery", "created_at": "nope"})
    for mode in ("chain", "cavra"):
        summary = judge(tmp_path, records, mode=mode)
        unreadable = item(summary, "evidence_unreadable")
        assert unreadable.count == 1 and unreadable.evidence[0].line == len(records) - 1
        assert summary.closure.state == "open"


def test_records_after_as_of_are_a_warning_not_a_rejection(tmp_path):
    as_of = datetime(2025, 6, 2, 11, 0, tzinfo=UTC)
    summary = judge(tmp_path, example(), as_of=as_of)
    future = [w for w in summary.closure.warnings if w.code == "timestamp_in_future"]
    assert len(future) == sum(r["created_at"] > "2025-06-02T11:00:00" for r in example())
    assert summary.as_of == as_of and not summary.inputs.rejected


def test_as_of_defaults_to_the_newest_record(tmp_path):
    assert judge(tmp_path, example()).as_of == datetime(2025, 6, 2, 11, 30, 0, 402816, tzinfo=UTC)


def test_counts_cover_every_loop_and_outcome(tmp_path):
    counts = judge(tmp_path, example()).counts.model_dump()
    executive = counts["loops"]["executive"]
    assert executive["deliveries"] == 2 and executive["delivery_failures"] == 1
    assert executive["worker_runs"] == {"live": 1, "dry_run": 0}
    assert executive["executions"] == {"delivered": 1, "failed": 1, "skipped": 0}
    assert executive["retry_decisions"] == {"retry": 1, "wait": 0, "suppress": 1}
    assert executive["chains"] == {"total": 2, "failed": 2, "resolved": 1, "open": 1, "superseded": 0}
    assert executive["acknowledgements"]["acknowledged"] == 1
    assert counts["loops"]["recovery"]["chains"] == {"total": 1, "failed": 1, "resolved": 1, "open": 0, "superseded": 0}
    assert counts["records"] == 21 and sum(counts["by_kind"].values()) == 21


def test_a_retry_a_live_worker_selected_without_an_execution_record_is_not_dry_run_only(tmp_path):
    records = example()
    _retry_slack_in_worker(records, dry_run=False)
    records = without(records, EXEC_FAILED_EXECUTION)
    assert item(judge(tmp_path, records), EXEC_DELIVERY_FAILED).retry_state == "retry_pending"
