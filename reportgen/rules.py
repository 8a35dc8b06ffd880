"""The closure rules: which reporting risks are open, and is the release ready.

Two modes. `chain` (the default) follows each alert delivery chain to its latest outcome, so a
failure that was later redelivered is resolved. `cavra` reproduces CAVRA's count-based gate
(reference §10.4) over all the evidence, without its 500-record window, so an auditor can
reconcile reportgen with the upstream dashboard.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from . import actions
from .index import EvidenceIndex, Key, Outcome, PlanDecisions, norm_provider
from .load import LoadResult, SecretExposed
from .models import CLEARING_ACK_STATES, LOOPS, AlertAck, Envelope, Execution, RetryDecision
from .verdict import (
    SEVERITY_ORDER,
    Check,
    Closure,
    EvidenceRef,
    Finding,
    OpenItem,
    Readiness,
    ReleaseDecision,
    ResolvedChain,
    RulesMode,
    Verdict,
    item_id,
    utc_iso,
)

MAX_EVIDENCE = 50
CAVRA_ORDER = (
    "executive_retry_health_alert_delivery_failed",
    "executive_retry_health_alert_acknowledgement_outstanding",
    "executive_retry_health_alert_retry_execution_failed",
    "recovery_retry_health_alert_delivery_failed",
    "recovery_retry_health_alert_acknowledgement_outstanding",
)


def ref(record: Envelope) -> EvidenceRef:
    """Point at one record by id and location."""
    prov = record.provenance
    return EvidenceRef(session_id=record.session_id, source=prov.source, line=prov.line, kind=record.metadata_kind)


def refs(records: Iterable[Envelope]) -> tuple[list[EvidenceRef], int]:
    """Point at records, oldest first and each once, capped; also return how many there were."""
    unique = {r.session_id: r for r in records}
    ordered = sorted(unique.values(), key=lambda r: (r.created_at, r.session_id))
    return [ref(r) for r in ordered[:MAX_EVIDENCE]], len(ordered)


# --- delivery chains (chain mode) -------------------------------------------------------------


@dataclass
class ChainState:
    """A chain key's outcomes, judged."""

    key: Key
    outcomes: list[Outcome]

    @property
    def latest(self) -> Outcome:
        """The latest outcome by parsed time."""
        return self.outcomes[-1]

    @property
    def resolved(self) -> bool:
        """Whether the latest outcome is a success."""
        return self.latest.success

    @property
    def failures(self) -> list[Outcome]:
        """Every failed outcome."""
        return [o for o in self.outcomes if not o.success]

    def open_streak(self) -> list[Outcome]:
        """The failures since the last success: what keeps the chain open."""
        streak: list[Outcome] = []
        for outcome in self.outcomes:
            streak = [] if outcome.success else streak + [outcome]
        return streak


def chain_states(index: EvidenceIndex) -> list[ChainState]:
    """Every chain key that ever failed, with its outcomes ordered by time."""
    states = []
    for key, outcomes in index.outcomes.items():
        ordered = sorted(outcomes, key=lambda o: o.order)
        if any(not o.success for o in ordered):
            states.append(ChainState(key, ordered))
    return sorted(states, key=lambda s: s.key)


def delivery_failed_items(index: EvidenceIndex, states: list[ChainState]) -> list[OpenItem]:
    """A chain whose latest outcome is a failure stays open: `<loop>_retry_health_alert_delivery_failed`."""
    return [_delivery_item(index, state) for state in states if not state.resolved]


def _delivery_item(index: EvidenceIndex, state: ChainState) -> OpenItem:
    """Describe one open delivery chain, with what happened after its failure."""
    loop, health_id, provider = state.key
    retry = retry_state(index, state.key)
    streak = state.open_streak()
    evidence, total = refs([o.record for o in streak] + retry.records)
    code = f"{loop}_retry_health_alert_delivery_failed"
    return OpenItem(
        id=item_id(code, loop, health_id, provider),
        code=code,
        severity="critical",
        loop=loop,
        health_id=health_id,
        provider=provider,
        retry_state=retry.state,
        title=actions.delivery_title(loop, provider, retry.state),
        detail=actions.delivery_detail(len(state.failures), retry),
        operator_action=actions.delivery_action(loop, health_id, provider, retry),
        opened_at=streak[0].at,
        attempts=len(state.failures),
        retry_count=retry.decision.retry_count if retry.decision else None,
        max_retry_attempts=retry.decision.max_retry_attempts if retry.decision else None,
        next_retry_at=retry.decision.next_retry_at if retry.state == "waiting" and retry.decision else None,
        skip_reason=retry.skip_reason,
        evidence=evidence,
        evidence_total=total,
    )


@dataclass
class RetryState:
    """What happened to a chain after it failed, from its latest retry decision."""

    state: str
    decision: RetryDecision | None = None
    skip_reason: str | None = None
    records: list[Envelope] = field(default_factory=list)


def retry_state(index: EvidenceIndex, key: Key) -> RetryState:
    """Decide the retry state of a failed chain from its latest retry decision (reference §6)."""
    decisions = index.decisions_for(key)
    failed_runs = [e for e in index.executions.get(key, []) if not e.succeeded]
    if not decisions:
        if failed_runs:
            return _execution_failed(failed_runs, [])
        return RetryState("no_retry_plan")
    plan, decision = decisions[-1]
    if decision.action == "suppress":
        return RetryState("exhausted", decision, records=plan.records)
    if decision.action == "wait":
        return RetryState("waiting", decision, records=plan.records)
    return _retry_decision_state(index, key, plan, decision)


def _retry_decision_state(index: EvidenceIndex, key: Key, plan: PlanDecisions, decision: RetryDecision) -> RetryState:
    """A `retry` decision: judged by what the key's workers did, over every plan.

    A live retry of the key that failed or was skipped is the operator's problem, whatever dry
    runs selected it afterwards; `dry_run_only` means no live worker ever selected it.
    """
    runs = index.runs_selecting(key)
    executions = index.executions.get(key, [])
    context: list[Envelope] = [*plan.records, *runs, *executions]
    if executions and not executions[-1].succeeded:
        state = _execution_failed(executions, context)
        state.decision = decision
        return state
    if runs and all(r.dry_run for r in runs):
        return RetryState("dry_run_only", decision, records=context)
    return RetryState("retry_pending", decision, records=context)


def _execution_failed(executions: list[Execution], context: list[Envelope]) -> RetryState:
    """The latest live execution failed or was skipped; carry its skip reason."""
    latest = executions[-1]
    reason = latest.body.skipped if latest.body and latest.body.skipped else None
    return RetryState("execution_failed", skip_reason=reason, records=[*context, *executions])


def resolved_chains(states: list[ChainState]) -> list[ResolvedChain]:
    """Chains that failed and whose latest outcome is a success, with the record that closed them."""
    resolved = []
    for state in states:
        if not state.resolved:
            continue
        loop, health_id, provider = state.key
        closer = _closing_record(state)
        failed, _ = refs(o.record for o in state.failures)
        resolved.append(
            ResolvedChain(
                loop=loop,
                health_id=health_id,
                provider=provider,
                failures=len(state.failures),
                first_failed_at=state.failures[0].at,
                resolved_at=state.latest.at,
                resolved_by=ref(closer),
                failed=failed,
            )
        )
    return resolved


def _closing_record(state: ChainState) -> Envelope:
    """The record that closed a chain: its delivered execution record if it has one, else the delivery."""
    last_failure = state.failures[-1].order
    closers = [o.record for o in state.outcomes if o.success and o.order > last_failure]
    executions = [r for r in closers if isinstance(r, Execution)]
    return (executions or closers)[0]


# --- acknowledgements --------------------------------------------------------------------------


def required_acks(index: EvidenceIndex, loop: str, latest_only: bool) -> dict[tuple[str, str], list[Envelope]]:
    """Every (health_id, provider) an alert plan requires to acknowledge, with the plans requiring it."""
    plans = index.loop(loop).plans
    if latest_only:
        latest: dict[str, Envelope] = {}
        for plan in plans:
            latest[plan.health_id] = plan
        plans = list(latest.values())
    required: dict[tuple[str, str], list[Envelope]] = {}
    for plan in plans:
        for provider in plan.required_providers():
            required.setdefault((plan.health_id, norm_provider(provider)), []).append(plan)
    return required


def acks_by_pair(index: EvidenceIndex, loop: str) -> dict[tuple[str, str], list[AlertAck]]:
    """The alert acks of a loop by (health_id, provider), oldest first."""
    pairs: dict[tuple[str, str], list[AlertAck]] = {}
    for ack in index.loop(loop).acks:
        pairs.setdefault((ack.health_id, norm_provider(ack.provider)), []).append(ack)
    return pairs


def outstanding_acks(
    index: EvidenceIndex, loop: str, latest_only: bool = False
) -> dict[tuple[str, str], list[Envelope]]:
    """Required pairs that no ack has acknowledged or resolved."""
    acks = acks_by_pair(index, loop)
    return {
        pair: plans
        for pair, plans in required_acks(index, loop, latest_only).items()
        if not any(a.acknowledgement_state in CLEARING_ACK_STATES for a in acks.get(pair, []))
    }


def ack_items(index: EvidenceIndex) -> list[OpenItem]:
    """A required acknowledgement that is not acknowledged or resolved stays open."""
    items = []
    for loop in LOOPS:
        acks = acks_by_pair(index, loop)
        for (health_id, provider), plans in sorted(outstanding_acks(index, loop).items()):
            seen = acks.get((health_id, provider), [])
            state = seen[-1].acknowledgement_state if seen else None
            evidence, total = refs([*plans, *seen])
            code = f"{loop}_retry_health_alert_acknowledgement_outstanding"
            items.append(
                OpenItem(
                    id=item_id(code, loop, health_id, provider),
                    code=code,
                    severity="critical",
                    loop=loop,
                    health_id=health_id,
                    provider=provider,
                    title=actions.ack_title(loop, provider),
                    detail=actions.ack_detail(len(plans), state),
                    operator_action=actions.ack_action(loop, health_id, provider, state),
                    opened_at=min(p.created_at for p in plans),
                    acknowledgement_state=state,
                    evidence=evidence,
                    evidence_total=total,
                )
            )
    return items


def notification_outstanding(index: EvidenceIndex) -> list[tuple[str, str, Envelope]]:
    """(schedule_id, provider, plan) pairs of the latest plan per schedule that no ack cleared (§8.3)."""
    latest: dict[str, Envelope] = {}
    for plan in index.notification_plans:
        latest[plan.schedule_key] = plan
    cleared = {
        (a.schedule_id, a.provider) for a in index.notification_acks if a.acknowledgement_state in CLEARING_ACK_STATES
    }
    return [
        (schedule, provider, plan)
        for schedule, plan in sorted(latest.items())
        for provider in plan.required_providers()  # type: ignore[attr-defined]
        if (schedule, provider) not in cleared
    ]


# --- evidence integrity ------------------------------------------------------------------------


def is_alert_loop_record(record: Envelope) -> bool:
    """Whether a record belongs to the executive or the recovery alert loop."""
    return record.loop is not None or getattr(record, "delivery_loop", None) is not None


def integrity_items(index: EvidenceIndex, loaded: LoadResult) -> list[OpenItem]:
    """Rejected records, or no alert-loop evidence at all, keep the closure open in both modes."""
    items = []
    if loaded.rejected:
        evidence = [EvidenceRef(session_id=None, source=r.source, line=r.line) for r in loaded.rejected]
        items.append(
            OpenItem(
                id=item_id("evidence_unreadable"),
                code="evidence_unreadable",
                severity="critical",
                loop="evidence",
                title="Some evidence could not be read",
                detail=f"{len(loaded.rejected)} input entries were rejected; the verdict cannot cover them.",
                operator_action=actions.UNREADABLE_ACTION,
                count=len(loaded.rejected),
                evidence=evidence[:MAX_EVIDENCE],
                evidence_total=len(evidence),
            )
        )
    items.extend(secret_items(loaded))
    if not any(is_alert_loop_record(r) for r in index.records):
        items.append(
            OpenItem(
                id=item_id("evidence_missing"),
                code="evidence_missing",
                severity="critical",
                loop="evidence",
                title="No alert-loop evidence was read",
                detail="No executive or recovery retry health alert record is in the evidence; an empty pack never reads as closed.",
                operator_action=actions.MISSING_ACTION,
                count=0,
            )
        )
    return items


def secret_items(loaded: LoadResult) -> list[OpenItem]:
    """An unredacted secret in the evidence is critical: it was masked, and it says where, never what."""
    by_entry: dict[tuple[str, int | None], list[SecretExposed]] = {}
    for secret in loaded.secrets:
        by_entry.setdefault((secret.source, secret.line), []).append(secret)
    items = []
    for (source, line), found in sorted(by_entry.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        places = "; ".join(sorted({f"{s.path} ({s.kind})" for s in found}))
        items.append(
            OpenItem(
                id=item_id("evidence_secret_exposed", source, str(line)),
                code="evidence_secret_exposed",
                severity="critical",
                loop="evidence",
                title="Unredacted secret in the evidence",
                detail=f"{len(found)} secret value(s) masked in this pack, found at: {places}",
                operator_action=actions.SECRET_ACTION,
                count=len(found),
                evidence=[EvidenceRef(session_id=found[0].session_id, source=source, line=line)],
                evidence_total=1,
            )
        )
    return items


def reference_warnings(index: EvidenceIndex) -> list[Finding]:
    """An execution record, worker run or retry decision that points at an id not in the evidence."""
    findings = []
    for record, link, target in _references(index):
        if target and target not in index.known_ids:
            findings.append(
                Finding(
                    code="evidence_reference_broken",
                    title="Reference to a record that is not in the evidence",
                    detail=f"{record.session_id} {link} -> {target} is not in the evidence",
                    evidence=[ref(record)],
                )
            )
    return findings


def _references(index: EvidenceIndex) -> Iterable[tuple[Envelope, str, str]]:
    """Every (record, field, id) link the reference defines for executions, runs and decisions."""
    for loop in LOOPS:
        for e in index.loop(loop).executions:
            yield e, "worker_run_id", e.worker_run_id
            yield e, "retry_plan_id", e.retry_plan_id
            yield e, "health_id", e.health_id
            yield e, "plan_id", e.plan_id
            if e.body is not None:
                yield e, "latest_delivery_id", e.body.latest_delivery_id
                yield e, "delivery_metadata_id", e.body.delivery_metadata_id
        for run in index.loop(loop).runs:
            for decision in run.body.selected_retries if run.body else []:
                yield run, "selected_retries.latest_delivery_id", decision.latest_delivery_id
    for plan in sorted(index.plans.values(), key=lambda p: p.retry_plan_id):
        holder = plan.records[0]
        for decision in plan.decisions:
            yield holder, "retry_decisions.latest_delivery_id", decision.latest_delivery_id
            yield holder, "retry_decisions.plan_id", decision.plan_id
            yield holder, "retry_decisions.health_id", decision.health_id


def load_warnings(loaded: LoadResult, index: EvidenceIndex, as_of: datetime) -> list[Finding]:
    """Warnings from reading the evidence: conflicts, naive or future timestamps, partial exports."""
    findings = [
        Finding(
            code="evidence_conflict",
            title="Two records share a session id with different content",
            detail=f"{c.session_id}: kept {c.kept.source}:{c.kept.line}, replaced {c.replaced.source}:{c.replaced.line}",
            evidence=[
                EvidenceRef(session_id=c.session_id, source=c.kept.source, line=c.kept.line),
                EvidenceRef(session_id=c.session_id, source=c.replaced.source, line=c.replaced.line),
            ],
        )
        for c in loaded.conflicts
    ]
    findings += [
        Finding(
            code=n.code,
            title=actions.NOTICE_TITLES.get(n.code, n.code),
            detail=n.detail,
            evidence=[EvidenceRef(session_id=None, source=n.source, line=n.line)],
        )
        for n in loaded.notices
    ]
    findings += [
        Finding(
            code="timestamp_in_future",
            title="Record created after the as-of time",
            detail=f"{r.session_id} was created at {utc_iso(r.created_at)}, after as-of {utc_iso(as_of)}",
            evidence=[ref(r)],
        )
        for r in index.records
        if r.created_at > as_of
    ]
    return findings


# --- the verdict -------------------------------------------------------------------------------


def evaluate(loaded: LoadResult, index: EvidenceIndex, mode: RulesMode, as_of: datetime) -> Verdict:
    """Apply one rules mode to the evidence and return the verdict."""
    states = chain_states(index)
    counts = count_evidence(index, states)
    if mode == "chain":
        items = delivery_failed_items(index, states) + ack_items(index) + integrity_items(index, loaded)
        items.sort(
            key=lambda i: (i.loop or "", SEVERITY_ORDER[i.severity], i.health_id or "", i.provider or "", i.code)
        )
        warnings = reference_warnings(index) + load_warnings(loaded, index, as_of)
    else:
        items = cavra_items(index, counts["cavra"]) + integrity_items(index, loaded)
        warnings = load_warnings(loaded, index, as_of)
    closure = Closure(
        state="open" if any(i.severity == "critical" for i in items) else "closed",
        open_items=items,
        warnings=warnings,
        resolved_chains=resolved_chains(states) if mode == "chain" else [],
    )
    checks = readiness_checks(index, loaded, closure, counts, states, mode)
    return Verdict(rules=mode, closure=closure, readiness=readiness(checks), counts=counts)


def readiness(checks: list[Check]) -> Readiness:
    """Ready when no check fails; the release decision follows."""
    failed = [c.id for c in checks if c.status == "fail"]
    if failed:
        decision = ReleaseDecision(
            recommended_state="hold_release_closure",
            reason=f"final rollback drill reporting loop has unresolved blockers (failed checks: {', '.join(failed)})",
        )
    else:
        decision = ReleaseDecision(
            recommended_state="approve_release_closure",
            reason="final rollback drill reporting loop is closed and every readiness check passed",
        )
    return Readiness(state="blocked" if failed else "ready", checks=checks, release_decision=decision)


# --- cavra mode --------------------------------------------------------------------------------


def cavra_counts(index: EvidenceIndex) -> dict[str, int]:
    """The upstream dashboard counts, over all the evidence instead of the newest 500 records."""
    executive, recovery = index.loop("executive"), index.loop("recovery")
    return {
        "executive_retry_health_alert_delivery_failed_count": sum(not d.delivery_success for d in executive.deliveries),
        "executive_retry_health_alert_acknowledgement_outstanding_count": len(_cavra_exec_outstanding(index)),
        "executive_retry_health_alert_retry_execution_failed_count": sum(not e.succeeded for e in executive.executions),
        "recovery_retry_health_alert_delivery_failed_count": sum(not d.delivery_success for d in recovery.deliveries),
        "recovery_retry_health_alert_acknowledgement_outstanding_count": len(
            outstanding_acks(index, "recovery", latest_only=True)
        ),
        "recovery_retry_health_alert_retry_execution_failed_count": sum(not e.succeeded for e in recovery.executions),
        "notification_outstanding_acknowledgement_count": len(notification_outstanding(index)),
    }


def _cavra_exec_outstanding(index: EvidenceIndex) -> list[tuple[str, str, Envelope]]:
    """Upstream counts an outstanding executive ack once per plan, not once per pair (§10.1)."""
    cleared = {
        pair
        for pair, acks in acks_by_pair(index, "executive").items()
        if any(a.acknowledgement_state in CLEARING_ACK_STATES for a in acks)
    }
    return [
        (plan.health_id, norm_provider(p), plan)
        for plan in index.loop("executive").plans
        for p in plan.required_providers()
        if (plan.health_id, norm_provider(p)) not in cleared
    ]


def _cavra_records(index: EvidenceIndex, code: str) -> list[Envelope]:
    """The records behind one cavra-mode count."""
    loop = index.loop(code.split("_", 1)[0])
    if code.endswith("delivery_failed"):
        return [d for d in loop.deliveries if not d.delivery_success]
    if code.endswith("retry_execution_failed"):
        return [e for e in loop.executions if not e.succeeded]
    if code.startswith("executive"):
        return [plan for _, _, plan in _cavra_exec_outstanding(index)]
    return [p for plans in outstanding_acks(index, "recovery", latest_only=True).values() for p in plans]


def cavra_items(index: EvidenceIndex, counts: dict[str, int]) -> list[OpenItem]:
    """Open items in upstream order, one per code whose count over all records is above zero."""
    items = []
    for code in CAVRA_ORDER:
        count = counts[f"{code}_count"]
        if not count:
            continue
        evidence, total = refs(_cavra_records(index, code))
        items.append(
            OpenItem(
                id=item_id(code, "cavra"),
                code=code,
                severity="critical",
                loop=code.split("_", 1)[0],
                title=actions.CAVRA_TITLES[code],
                detail=f"{code}_count={count} over all {len(index.records)} records (no 500-record window)",
                operator_action=actions.CAVRA_ACTIONS[code],
                opened_at=min(r.created_at for r in _cavra_records(index, code)),
                count=count,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


# --- readiness checks --------------------------------------------------------------------------


def readiness_checks(
    index: EvidenceIndex,
    loaded: LoadResult,
    closure: Closure,
    counts: dict[str, object],
    states: list[ChainState],
    mode: RulesMode,
) -> list[Check]:
    """The six upstream readiness checks, judged by the chain or by counts; chain mode adds integrity."""
    cavra: dict[str, int] = counts["cavra"]  # type: ignore[assignment]
    judge: Callable[..., Check] = _chain_check if mode == "chain" else _cavra_check
    checks = [
        _check("final_reporting_closure_state", closure.state != "closed", f"closure_state={closure.state}"),
        judge("executive_retry_health_alert_delivery", index, states, cavra),
        judge("executive_retry_health_alert_retry_execution", index, states, cavra),
        judge("recovery_retry_health_alert_retry_execution", index, states, cavra),
        _check(
            "notification_acknowledgements",
            cavra["notification_outstanding_acknowledgement_count"] > 0,
            f"outstanding_acknowledgement_count={cavra['notification_outstanding_acknowledgement_count']}",
        ),
        _check("release_readiness_artifacts", False, "summary generated from public-safe rollback drill metadata"),
    ]
    if mode == "chain":
        checks.append(_integrity_check(loaded, closure))
    return checks


def _check(check_id: str, failed: bool, evidence: str, status: str | None = None) -> Check:
    """Build a check with upstream's title and operator action."""
    title, action = actions.CHECKS[check_id]
    return Check(
        id=check_id,
        title=title,
        status=status or ("fail" if failed else "pass"),
        evidence=evidence,
        operator_action=action,
    )


def _cavra_check(check_id: str, index: EvidenceIndex, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail on any failed record in the evidence, as upstream does."""
    if check_id == "executive_retry_health_alert_delivery":
        count = cavra["executive_retry_health_alert_delivery_failed_count"]
        return _check(check_id, count > 0, f"failed_delivery_count={count}")
    count = cavra[f"{check_id}_failed_count"]
    return _check(check_id, count > 0, f"failed_execution_count={count}")


def _chain_check(check_id: str, index: EvidenceIndex, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail only on failures whose chain was not later delivered."""
    loop = check_id.split("_", 1)[0]
    open_states = [s for s in states if s.key[0] == loop and not s.resolved]
    if check_id.endswith("_delivery"):
        failed = cavra[f"{loop}_retry_health_alert_delivery_failed_count"]
        evidence = f"open_failed_chains={len(open_states)} resolved_chains={sum(s.key[0] == loop and s.resolved for s in states)} failed_delivery_records={failed}"
        return _check(check_id, bool(open_states), evidence)
    unresolved = [e for s in open_states for e in index.executions.get(s.key, []) if not e.succeeded]
    total = cavra[f"{check_id}_failed_count"]
    return _check(
        check_id, bool(unresolved), f"unresolved_failed_executions={len(unresolved)} failed_execution_records={total}"
    )


def _integrity_check(loaded: LoadResult, closure: Closure) -> Check:
    """Fail when evidence was rejected or missing; warn when any warning was raised."""
    broken = [i for i in closure.open_items if i.code in ("evidence_unreadable", "evidence_missing")]
    evidence = (
        f"rejected={len(loaded.rejected)} unrecognised={len(loaded.unrecognised)} "
        f"conflicts={len(loaded.conflicts)} warnings={len(closure.warnings)}"
    )
    status = "fail" if broken else ("warning" if closure.warnings else "pass")
    return _check("evidence_integrity", bool(broken), evidence, status=status)


# --- counts ------------------------------------------------------------------------------------


def count_evidence(index: EvidenceIndex, states: list[ChainState]) -> dict[str, object]:
    """Counts per kind, per loop and per outcome, plus the upstream dashboard counts."""
    return {
        "records": len(index.records),
        "by_kind": dict(sorted(Counter(r.metadata_kind for r in index.records).items())),
        "loops": {loop: _loop_counts(index, loop, states) for loop in LOOPS},
        "notification": {
            "plans": len(index.notification_plans),
            "acknowledgements": len(index.notification_acks),
            "outstanding_acknowledgements": len(notification_outstanding(index)),
        },
        "other_deliveries": _by_source(index),
        "readiness_summaries": len(index.readiness_summaries),
        "runbook_exports": len(index.runbook_exports),
        "cavra": cavra_counts(index),
    }


def _loop_counts(index: EvidenceIndex, loop: str, all_states: list[ChainState]) -> dict[str, object]:
    """The counts of one alert loop."""
    ev = index.loop(loop)
    decisions = Counter(d.action for p in index.plans.values() if p.loop == loop for d in p.decisions)
    states = [s for s in all_states if s.key[0] == loop]
    return {
        "health_records": len(ev.health),
        "alert_plans": len(ev.plans),
        "deliveries": len(ev.deliveries),
        "delivery_successes": sum(d.delivery_success for d in ev.deliveries),
        "delivery_failures": sum(not d.delivery_success for d in ev.deliveries),
        "chains": {
            "total": len({k for k in index.outcomes if k[0] == loop}),
            "failed": len(states),
            "resolved": sum(s.resolved for s in states),
            "open": sum(not s.resolved for s in states),
        },
        "retry_plans": len({p.retry_plan_id for p in index.plans.values() if p.loop == loop}),
        "retry_decisions": {a: decisions.get(a, 0) for a in ("retry", "wait", "suppress")},
        "worker_runs": {"live": sum(not r.dry_run for r in ev.runs), "dry_run": sum(r.dry_run for r in ev.runs)},
        "executions": {
            s: sum(e.execution_status == s for e in ev.executions) for s in ("delivered", "failed", "skipped")
        },
        "acknowledgements": {
            s: sum(a.acknowledgement_state == s for a in ev.acks)
            for s in ("acknowledged", "resolved", "dismissed", "escalated")
        },
        "acknowledgements_required": len(required_acks(index, loop, latest_only=False)),
        "acknowledgements_outstanding": len(outstanding_acks(index, loop)),
    }


def _by_source(index: EvidenceIndex) -> dict[str, dict[str, int]]:
    """Deliveries outside the two alert loops, by source."""
    by: dict[str, dict[str, int]] = {}
    for d in index.other_deliveries:
        entry = by.setdefault(d.connector_delivery_source or "(none)", {"deliveries": 0, "failures": 0})
        entry["deliveries"] += 1
        entry["failures"] += not d.delivery_success
    return dict(sorted(by.items()))
