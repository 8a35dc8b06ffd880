"""Upstream's count-based mode (`cavra`): CAVRA's closure gate (reference §10.4) over all the evidence.

Without upstream's 500-record window, so an auditor can reconcile reportgen with the upstream
dashboard. The wording of the readiness checks is upstream's (reference §9.1, example G1).
"""

from __future__ import annotations

from datetime import datetime

from reportgen.evidence.chains import RequiredBy, moment
from reportgen.evidence.loops import BY_NAME, CAVRA_ORDER, LOOP_OF_CODE, LOOPS, LoopSpec
from reportgen.judge.facts import (
    ChainState,
    CheckWording,
    Facts,
    check,
    joined_refs,
    notification_outstanding,
    outstanding_acks,
    refs,
)
from reportgen.judge.verdict import Check, EvidenceRef, OpenItem, item_id

# The alert-loop readiness checks, judged by counts here and by chains in chain mode.
LOOP_CHECKS: dict[str, CheckWording] = {
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
}
# The open items each readiness check judged here is derived from, by code: a waiver of all of
# them waives the check. Upstream has no recovery retry execution item (its dashboard key never
# matches, reference §12 item 2), so that check cannot be waived in this mode.
CHECK_SOURCES: dict[str, tuple[str, ...]] = {
    "executive_retry_health_alert_delivery": ("executive_retry_health_alert_delivery_failed",),
    "executive_retry_health_alert_retry_execution": ("executive_retry_health_alert_retry_execution_failed",),
    "recovery_retry_health_alert_retry_execution": ("recovery_retry_health_alert_retry_execution_failed",),
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


def cavra_counts(facts: Facts) -> dict[str, int]:
    """The upstream dashboard counts, over all the evidence instead of the newest 500 records."""
    ledger = facts.ledger
    counts: dict[str, int] = {}
    for spec in LOOPS:
        tally = ledger.loops[spec.name]
        stem = spec.delivery_code.removesuffix("_delivery_failed")
        counts[f"{spec.delivery_code}_count"] = tally.delivery_failures
        counts[f"{spec.ack_code}_count"] = len(_cavra_outstanding(facts, spec))
        if spec.retries:
            counts[f"{stem}_retry_execution_failed_count"] = tally.failed_executions.total
        counts[f"{stem}_plan_count"] = tally.alert_plans
        counts[f"{stem}_ack_count"] = sum(tally.acks.values())
    counts["notification_outstanding_acknowledgement_count"] = len(notification_outstanding(ledger))
    return counts


def _cavra_outstanding(facts: Facts, spec: LoopSpec) -> list[RequiredBy]:
    """Upstream counts an outstanding ack once per plan in its scope and provider, not once per pair (§10.1, H.8)."""
    outstanding = outstanding_acks(facts, spec.name, spec.cavra_plans)
    return [plan for plans in outstanding.values() for plan in plans]


def _cavra_evidence(facts: Facts, code: str) -> tuple[list[EvidenceRef], int, datetime]:
    """The records behind one cavra-mode count: cited, how many, and when the oldest was made."""
    spec = BY_NAME[LOOP_OF_CODE[code]]
    if code == spec.ack_code:
        cites = [plan.cite for plan in _cavra_outstanding(facts, spec)]
        evidence, total = refs(cites)
        return evidence, total, moment(min(cites)[0])
    tally = facts.ledger.loops[spec.name]
    failed = tally.failed_deliveries if code == spec.delivery_code else tally.failed_executions
    evidence, total = joined_refs((), failed)
    return evidence, total, moment(failed.oldest()[0][0])


def cavra_items(facts: Facts, counts: dict[str, int]) -> list[OpenItem]:
    """Open items in upstream order, one per code whose count over all records is above zero."""
    ledger = facts.ledger
    items = []
    for code in CAVRA_ORDER:
        count = counts[f"{code}_count"]
        if not count:
            continue
        evidence, total, oldest = _cavra_evidence(facts, code)
        items.append(
            OpenItem(
                id=item_id(code, "cavra"),
                code=code,
                severity="critical",
                loop=LOOP_OF_CODE[code],
                title=CAVRA_TITLES[code],
                detail=f"{code}_count={count} over all {ledger.records} records (no 500-record window)",
                operator_action=CAVRA_ACTIONS[code],
                opened_at=oldest,
                count=count,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


def cavra_check(check_id: str, facts: Facts, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail on any failed record in the evidence, as upstream does."""
    if check_id == "executive_retry_health_alert_delivery":
        count = cavra["executive_retry_health_alert_delivery_failed_count"]
        return check(check_id, LOOP_CHECKS[check_id], count > 0, f"failed_delivery_count={count}")
    count = cavra[f"{check_id}_failed_count"]
    return check(check_id, LOOP_CHECKS[check_id], count > 0, f"failed_execution_count={count}")
