"""What each finding is called and what the operator should do about it.

The wording of the readiness checks is upstream's (reference §9.1, example G1); the operator
actions name the CAVRA endpoint to call, so a runbook step can be followed as written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reportgen.evidence.loops import BY_NAME, LOOPS, LoopSpec

if TYPE_CHECKING:
    from reportgen.judge.rules import RetryState

HEALTH_NOT_FOUND = (
    "recovery_executive_report_delivery_retry_health_not_found",
    "recovery_escalation_retry_health_not_found",
)

CHECKS: dict[str, tuple[str, str]] = {
    "final_reporting_closure_state": (
        "Final reporting closure state",
        "Resolve final closure open items before release closure.",
    ),
    "executive_retry_health_alert_delivery": (
        "Executive retry health alert delivery",
        "Retry failed executive retry health alert deliveries.",
    ),
    "executive_retry_health_alert_retry_execution": (
        "Executive retry health alert retry execution",
        "Review failed executive retry health alert retry executions.",
    ),
    "recovery_retry_health_alert_retry_execution": (
        "Recovery retry health alert retry execution",
        "Review failed recovery retry health alert retry executions.",
    ),
    "notification_acknowledgements": (
        "Notification acknowledgements",
        "Acknowledge or resolve outstanding rollback drill routes.",
    ),
    "release_readiness_artifacts": (
        "Release readiness artifacts",
        "Attach this summary and the operator runbook export to the release record.",
    ),
    "evidence_integrity": (
        "Evidence integrity",
        "Fix or re-export rejected records and review the warnings before relying on the verdict.",
    ),
}

RETRY_STATE_TITLE = {
    "exhausted": "retries exhausted",
    "waiting": "retry waiting for its delay",
    "execution_failed": "live retry failed",
    "dry_run_only": "retried in dry runs only",
    "retry_pending": "retry planned, not executed",
    "no_retry_plan": "no retry planned",
}

CAVRA_TITLES = {
    "executive_retry_health_alert_delivery_failed": "Executive retry health alert deliveries failed",
    "executive_retry_health_alert_acknowledgement_outstanding": "Executive retry health alert acknowledgements outstanding",
    "executive_retry_health_alert_retry_execution_failed": "Executive retry health alert retry executions failed",
    "recovery_retry_health_alert_delivery_failed": "Recovery retry health alert deliveries failed",
    "recovery_retry_health_alert_acknowledgement_outstanding": "Recovery retry health alert acknowledgements outstanding",
    "final_archive_health_alert_delivery_failed": "Final archive health alert deliveries failed",
    "final_archive_health_alert_acknowledgement_outstanding": "Final archive health alert acknowledgements outstanding",
}
CAVRA_ACTIONS = {
    "executive_retry_health_alert_delivery_failed": "Retry failed executive retry health alert deliveries.",
    "executive_retry_health_alert_acknowledgement_outstanding": "Acknowledge executive retry health alerts after release governance review.",
    "executive_retry_health_alert_retry_execution_failed": "Review failed executive retry health alert retry executions.",
    "recovery_retry_health_alert_delivery_failed": "Retry failed recovery retry health alert deliveries.",
    "recovery_retry_health_alert_acknowledgement_outstanding": "Acknowledge recovery retry health alerts after release governance review.",
    "final_archive_health_alert_delivery_failed": (
        "Upstream counts every failed archive alert delivery record for as long as it is in its newest 500 "
        "records, whatever came later: a new deliver call does not clear it (and adds a plan to acknowledge)."
    ),
    "final_archive_health_alert_acknowledgement_outstanding": "Acknowledge archive reference health alerts before final closeout.",
}

UNREADABLE_ACTION = "Fix or re-export the rejected entries listed in the input inventory, then build the pack again."
MISSING_ACTION = (
    "Export the alert-loop evidence (the CAVRA store file or the history endpoints) and build the pack "
    "again; an empty pack never reads as closed."
)
UNJUDGED_ACTION = (
    "This reportgen does not know the loop these records belong to, so it cannot say whether that loop is "
    "closed. Use a reportgen that judges it, or review the loop in CAVRA and accept the item with a waiver "
    "(code evidence_kind_unjudged, kind as shown) that records who checked it."
)
SECRET_ACTION = (
    "Rotate the exposed credential now, then fix the exporter that wrote it unredacted and export the "
    "evidence again; this pack shows the value masked."
)
NOTICE_TITLES = {
    "timestamp_without_offset": "Timestamp without a UTC offset (read as UTC)",
    "evidence_export_incomplete": "Export holds only part of the history",
    "evidence_file_empty": "Empty evidence file",
}


def loop_list() -> str:
    """The loops reportgen judges, as words: 'executive, recovery or archive alert-loop'."""
    names = [spec.name for spec in LOOPS]
    return f"{', '.join(names[:-1])} or {names[-1]} alert-loop"


def delivery_title(loop: str, provider: str, state: str) -> str:
    """The title of an open delivery chain."""
    spec = BY_NAME[loop]
    why = RETRY_STATE_TITLE[state] if spec.retries else "this loop has no retry"
    return f"{spec.alert} delivery to {provider} failed: {why}"


def undelivered_title(spec: LoopSpec, provider: str) -> str:
    """The title of a required provider no delivery reached."""
    return f"{spec.alert} never delivered to {provider}"


def undelivered_detail(plans: int) -> str:
    """One line on a required provider without any delivery."""
    return f"required by the latest alert plan ({plans} plan{'s' if plans != 1 else ''}); no delivery to it is recorded"


def unalerted_title(spec: LoopSpec) -> str:
    """The title of a latest alert plan that selected nobody for an unhealthy health."""
    return f"{spec.alert} reached no provider"


def unalerted_detail(level: str | None) -> str:
    """One line on an alert that selected nobody."""
    return f"the latest alert plan (alert level {level or 'not given'}) selected no provider, so nobody was alerted"


def unalerted_action(spec: LoopSpec) -> str:
    """What works upstream when an alert selected nobody."""
    return (
        f"Configure a connector for this alert in CAVRA's connector config, then call POST {spec.alerts_path}/deliver "
        "(provider=all) and acknowledge each provider the new plan selects with POST "
        f"{spec.alerts_path}/<new health_id>/acknowledgements."
    )


def unjudged_title(name: str) -> str:
    """The title of records of a loop this version does not know."""
    return f"Evidence of a rollback-drill loop reportgen does not judge: {name}"


def unjudged_detail(name: str, count: int) -> str:
    """One line on records of a loop this version does not know."""
    what = "delivery source" if name.startswith("go_backend_") else "record kind"
    return (
        f"{count} record{'s' if count != 1 else ''} of {what} {name}, which CAVRA's rollback-drill history does "
        "not list; a newer CAVRA loop that this version cannot judge keeps the closure open"
    )


def unrecognised_detail(kind: str, count: int) -> str:
    """One line on records of a kind that is not rollback-drill evidence."""
    return f"{count} record{'s' if count != 1 else ''} of kind {kind}: not CAVRA rollback-drill evidence; counted, not judged"


def delivery_detail(failures: int, retry: RetryState) -> str:
    """One line on what happened to the chain."""
    parts = [f"{failures} failed attempt{'s' if failures != 1 else ''}; latest outcome is a failure"]
    if retry.decision is not None:
        parts.append(f"latest retry decision: {retry.decision.action} ({retry.decision.reason or 'no reason given'})")
    if retry.skip_reason:
        parts.append(f"skipped: {retry.skip_reason}")
    return "; ".join(parts)


def delivery_action(loop: str, health_id: str, provider: str, retry: RetryState) -> str:
    """What the operator runs next for an open delivery chain."""
    spec = BY_NAME[loop]
    if not spec.retries:
        return redeliver_action(spec, provider)
    path = spec.alerts_path
    worker = f"POST {path}/retry-worker-run with execute=true"
    if retry.state == "exhausted":
        return (
            f"Retries are exhausted. Repair the {provider} connector, redeliver with POST {path}/deliver "
            f"(provider={provider}, force=true), and acknowledge the alert after governance review."
        )
    if retry.state == "waiting":
        when = retry.due.isoformat().replace("+00:00", "Z") if retry.due else "the retry delay"
        return f"Wait until {when} (UTC), then run the retry worker live: {worker}."
    if retry.state == "execution_failed":
        if retry.skip_reason in HEALTH_NOT_FOUND:
            return (
                f"The live retry was skipped because health {health_id} is not stored. Persist it with "
                f"POST /evidence, then run the retry worker live: {worker}."
            )
        return f"The live retry to {provider} failed. Fix the connector, then run the retry worker live: {worker}."
    if retry.state == "dry_run_only":
        return f"Only dry runs selected this retry. Run the retry worker with explicit execution: {worker}."
    if retry.state == "retry_pending":
        return f"A retry is planned but no live worker ran it. Run the retry worker live: {worker}."
    return f"Plan a retry with POST {path}/retry-plan, then run the retry worker live: {worker}."


def redeliver_action(spec: LoopSpec, provider: str) -> str:
    """What works upstream for a loop without retries: a new deliver call, then its acknowledgements."""
    return (
        f"This loop has no retry. Repair the {provider} connector, then call POST {spec.alerts_path}/deliver "
        f"(provider={provider}): it judges the health again under a new health id and plan, and each "
        f"provider that plan selects must then be acknowledged with POST {spec.alerts_path}/<new "
        "health_id>/acknowledgements."
    )


def ack_title(loop: str, provider: str) -> str:
    """The title of an outstanding acknowledgement."""
    return f"{BY_NAME[loop].alert} acknowledgement from {provider} outstanding"


def ack_detail(plans: int, state: str | None) -> str:
    """One line on why the acknowledgement is outstanding."""
    required = f"required by {plans} alert plan{'s' if plans != 1 else ''}"
    if state is None:
        return f"{required}; no acknowledgement recorded"
    return f"{required}; latest acknowledgement is {state}, which does not clear it"


def ack_action(loop: str, health_id: str, provider: str, state: str | None) -> str:
    """What the operator does to clear an outstanding acknowledgement."""
    path = BY_NAME[loop].alerts_path
    prefix = f"The last acknowledgement was {state}. " if state else ""
    return (
        f"{prefix}Request the acknowledgement from {provider} and record it with POST "
        f"{path}/{health_id}/acknowledgements (provider={provider}, acknowledgement_state=acknowledged)."
    )
