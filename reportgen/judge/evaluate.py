"""The closure rules: which reporting risks are open, and is the release ready.

Two modes. `chain` (the default) follows each alert delivery chain to its latest outcome, so a
failure that was later redelivered is resolved. `cavra` reproduces CAVRA's count-based gate
(reference §10.4) over all the evidence, without its 500-record window, so an auditor can
reconcile reportgen with the upstream dashboard. The rule families (chain, acks, cavra,
integrity) make the items and checks; this module puts them together into the verdict.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from reportgen.evidence.chains import EPOCH
from reportgen.evidence.load import LoadResult
from reportgen.evidence.loops import LOOP_NAMES, LOOPS, LoopSpec
from reportgen.judge import acks, cavra, chain, integrity
from reportgen.judge.acks import ack_items, notification_check
from reportgen.judge.cavra import cavra_check, cavra_counts, cavra_items
from reportgen.judge.chain import chain_check, delivery_failed_items, resolved_chains
from reportgen.judge.counts import (
    AckCounts,
    ChainCounts,
    Counts,
    DeliveryCounts,
    ExecutionCounts,
    LoopCounts,
    NotificationCounts,
    RetryDecisionCounts,
    Timeline,
    WorkerRunCounts,
)
from reportgen.judge.facts import (
    ChainState,
    CheckWording,
    Facts,
    chain_states,
    check,
    notification_outstanding,
    outstanding_acks,
    superseded,
)
from reportgen.judge.integrity import integrity_check, integrity_items, load_warnings, reference_warnings
from reportgen.judge.verdict import SEVERITY_ORDER, Check, Closure, Readiness, ReleaseDecision, RulesMode, Verdict

# Upstream's release decision reason when any readiness check fails (reference §9.1, example G1).
# The reference does not show upstream's approval reason; the approval text is reportgen's.
UPSTREAM_HOLD_REASON = "final rollback drill reporting loop has unresolved blockers"
APPROVE_REASON = "final rollback drill reporting loop is closed and every readiness check passed"
CLOSURE_CHECK: CheckWording = (
    "Final reporting closure state",
    "Resolve final closure open items before release closure.",
)
ARTIFACTS_CHECK: CheckWording = (
    "Release readiness artifacts",
    "Attach this summary and the operator runbook export to the release record.",
)
# Per mode, the codes of the open items each readiness check is derived from, as the families
# that judge the checks declare them; a check not listed has none (the closure check is judged
# again from the closure, the artifacts check never fails).
CHECK_SOURCES: dict[RulesMode, dict[str, tuple[str, ...]]] = {
    "chain": {**chain.CHECK_SOURCES, **acks.CHECK_SOURCES, **integrity.CHECK_SOURCES},
    "cavra": {**cavra.CHECK_SOURCES, **acks.CHECK_SOURCES, **integrity.CHECK_SOURCES},
}
# Open items are listed integrity first, then loop by loop in the loop table's order.
LOOP_RANK = {name: rank for rank, name in enumerate(("evidence", *LOOP_NAMES))}


def evaluate(loaded: LoadResult, mode: RulesMode, as_of: datetime) -> Verdict:
    """Apply one rules mode to the loaded evidence and return the verdict."""
    ledger = loaded.ledger
    facts = Facts.of(ledger)
    states = chain_states(ledger)
    counts = count_evidence(facts, states, mode)
    if mode == "chain":
        items = delivery_failed_items(facts, states) + ack_items(facts) + integrity_items(ledger, loaded)
        items.sort(
            key=lambda i: (
                LOOP_RANK.get(i.loop or "", 0),
                SEVERITY_ORDER[i.severity],
                i.health_id or "",
                i.provider or "",
                i.code,
            )
        )
        warnings = reference_warnings(ledger) + load_warnings(loaded, ledger, as_of)
    else:
        items = cavra_items(facts, counts.cavra) + integrity_items(ledger, loaded)
        warnings = load_warnings(loaded, ledger, as_of)
    closure = Closure(
        state="open" if any(i.severity == "critical" for i in items) else "closed",
        open_items=items,
        warnings=warnings,
        resolved_chains=resolved_chains(facts, states) if mode == "chain" else [],
    )
    checks = readiness_checks(facts, loaded, closure, counts, states, mode)
    return Verdict(rules=mode, closure=closure, readiness=readiness(checks), counts=counts)


def readiness(checks: list[Check]) -> Readiness:
    """Ready when no check fails; the release decision follows, in upstream's words, the failed checks beside it."""
    failed = [c.id for c in checks if c.status == "fail"]
    if failed:
        decision = ReleaseDecision(
            recommended_state="hold_release_closure", reason=UPSTREAM_HOLD_REASON, failed_checks=failed
        )
    else:
        decision = ReleaseDecision(recommended_state="approve_release_closure", reason=APPROVE_REASON)
    return Readiness(state="blocked" if failed else "ready", checks=checks, release_decision=decision)


def readiness_checks(
    facts: Facts,
    loaded: LoadResult,
    closure: Closure,
    counts: Counts,
    states: list[ChainState],
    mode: RulesMode,
) -> list[Check]:
    """The six upstream readiness checks, judged by the chain or by counts; chain mode adds integrity."""
    cavra = counts.cavra
    judge: Callable[..., Check] = chain_check if mode == "chain" else cavra_check
    checks = [
        check(
            "final_reporting_closure_state", CLOSURE_CHECK, closure.state != "closed", f"closure_state={closure.state}"
        ),
        judge("executive_retry_health_alert_delivery", facts, states, cavra),
        judge("executive_retry_health_alert_retry_execution", facts, states, cavra),
        judge("recovery_retry_health_alert_retry_execution", facts, states, cavra),
        notification_check(cavra["notification_outstanding_acknowledgement_count"]),
        check(
            "release_readiness_artifacts",
            ARTIFACTS_CHECK,
            False,
            "summary generated from public-safe rollback drill metadata",
        ),
    ]
    if mode == "chain":
        checks.append(integrity_check(loaded, closure))
    return checks


# --- counts ------------------------------------------------------------------------------------


def count_evidence(facts: Facts, states: list[ChainState], mode: RulesMode = "chain") -> Counts:
    """Counts per kind, per loop and per outcome, plus the upstream dashboard counts."""
    ledger = facts.ledger
    return Counts(
        records=ledger.records,
        by_kind=dict(sorted(ledger.kinds.items())),
        outside_closure=dict(sorted(ledger.outside.items())),
        unjudged={name: found.total for name, found in sorted(ledger.unjudged.items())},
        loops={spec.name: _loop_counts(facts, spec, states, mode) for spec in LOOPS},
        notification=NotificationCounts(
            plans=ledger.notification_plans,
            acknowledgements=ledger.notification_acks,
            outstanding_acknowledgements=len(notification_outstanding(ledger)),
        ),
        other_deliveries={
            source: DeliveryCounts(deliveries=n, failures=failed)
            for source, (n, failed) in sorted(ledger.other_deliveries.items())
        },
        readiness_summaries=ledger.readiness_summaries,
        runbook_exports=ledger.runbook_exports,
        cavra=cavra_counts(facts),
        timeline=timeline_counts(ledger.timeline, ledger.oldest, ledger.newest),
    )


def timeline_counts(tally: Counter[tuple[str, str, int]], oldest: datetime | None, newest: datetime | None) -> Timeline:
    """The ledger's records per (loop, lane, day) as nested mappings, sorted, days as ISO dates."""
    loops: dict[str, dict[str, dict[str, int]]] = {}
    for (loop, lane, day), n in sorted(tally.items()):
        loops.setdefault(loop, {}).setdefault(lane, {})[(EPOCH + timedelta(days=day)).date().isoformat()] = n
    first, last = (None if at is None else at.astimezone(UTC).date().isoformat() for at in (oldest, newest))
    return Timeline(first=first, last=last, loops=loops)


def _loop_counts(facts: Facts, spec: LoopSpec, all_states: list[ChainState], mode: RulesMode) -> LoopCounts:
    """The counts of one alert loop: failed chains split into resolved, open and superseded, and
    the acknowledgements as the mode judges them (upstream counts a pair once per plan)."""
    ledger = facts.ledger
    loop, latest = spec.name, facts.latest(spec)
    tally = ledger.loops[loop]
    plans = [plan for plan in ledger.plans.values() if plan.loop == loop]
    decisions = Counter(d.action for plan in plans for d in plan.decisions)
    failed = [(key, chain) for key, chain in all_states if key[0] == loop]
    judged = [chain for key, chain in failed if not superseded(key, chain, latest)]
    scope = spec.chain_plans if mode == "chain" else spec.cavra_plans
    outstanding = outstanding_acks(facts, loop, scope)
    counts = LoopCounts(
        health_records=tally.health_records,
        alert_plans=tally.alert_plans,
        deliveries=tally.deliveries,
        delivery_successes=tally.deliveries - tally.delivery_failures,
        delivery_failures=tally.delivery_failures,
        chains=ChainCounts(
            total=sum(key[0] == loop for key in ledger.chains),
            failed=len(failed),
            resolved=sum(chain.resolved for chain in judged),
            open=sum(not chain.resolved for chain in judged),
            superseded=len(failed) - len(judged),
        ),
        acknowledgements=AckCounts(
            acknowledged=tally.acks.get("acknowledged", 0),
            resolved=tally.acks.get("resolved", 0),
            dismissed=tally.acks.get("dismissed", 0),
            escalated=tally.acks.get("escalated", 0),
        ),
        acknowledgements_required=len(facts.required(loop, scope)),
        acknowledgements_outstanding=(
            len(outstanding) if mode == "chain" else sum(len(plans) for plans in outstanding.values())
        ),
    )
    if spec.retries:  # a loop without retry machinery has no retry counts, not zero of them
        counts.retry_plans = len(plans)
        counts.retry_decisions = RetryDecisionCounts(
            retry=decisions.get("retry", 0), wait=decisions.get("wait", 0), suppress=decisions.get("suppress", 0)
        )
        counts.worker_runs = WorkerRunCounts(live=tally.runs_live, dry_run=tally.runs_dry)
        counts.executions = ExecutionCounts(
            delivered=tally.executions.get("delivered", 0),
            failed=tally.executions.get("failed", 0),
            skipped=tally.executions.get("skipped", 0),
        )
    return counts
