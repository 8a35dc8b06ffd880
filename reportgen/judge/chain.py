"""Delivery chains (chain mode): each alert delivery chain followed to its latest outcome.

A chain whose latest outcome is a failure stays open, with what happened to its retries; one later
delivered, or superseded by a newer alert plan, is resolved. The operator actions name the CAVRA
endpoint to call, so a runbook step can be followed as written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from reportgen.evidence.chains import Chain, Cite, ExecutionSeen, Key, Plan, moment
from reportgen.evidence.lean import RetryDecision
from reportgen.evidence.loops import BY_NAME, LOOPS, LoopSpec
from reportgen.evidence.schema import parse_timestamp
from reportgen.judge.cavra import LOOP_CHECKS
from reportgen.judge.facts import (
    ChainState,
    Facts,
    LatestPlan,
    check,
    outstanding_acks,
    ref,
    refs,
    superseded,
)
from reportgen.judge.verdict import RETRY_STATES, Check, OpenItem, ResolvedChain, RetryState, built, item_id

# The open items each readiness check judged here is derived from, by code: a waiver of all of
# them waives the check. A failed execution fails its check only while its chain is open, and
# every open chain is exactly one delivery_failed item of the loop.
CHECK_SOURCES: dict[str, tuple[str, ...]] = {
    "executive_retry_health_alert_delivery": (BY_NAME["executive"].delivery_code,),
    "executive_retry_health_alert_retry_execution": (BY_NAME["executive"].delivery_code,),
    "recovery_retry_health_alert_retry_execution": (BY_NAME["recovery"].delivery_code,),
}

HEALTH_NOT_FOUND = (
    "recovery_executive_report_delivery_retry_health_not_found",
    "recovery_escalation_retry_health_not_found",
)


# --- open chains ----------------------------------------------------------------------------


def delivery_failed_items(facts: Facts, states: list[ChainState]) -> list[OpenItem]:
    """A chain whose latest outcome is a failure stays open; in a loop judged by its plans, so does a
    chain the judged plans require that was never delivered."""
    items = []
    for spec in LOOPS:
        latest = facts.latest(spec)
        for key, chain in states:
            if key[0] == spec.name and not chain.resolved and not superseded(key, chain, latest):
                items.append(_delivery_item(facts, key, chain))
        if spec.by_latest_plan:
            items += undelivered_items(facts, spec) + unalerted_items(latest, spec)
    return items


def unalerted_items(latest: LatestPlan | None, spec: LoopSpec) -> list[OpenItem]:
    """A latest plan that requires nobody closes the loop only for a healthy health: an alert that
    selected no provider (no connector configured, a mistyped provider) reached nobody."""
    if latest is None or latest.plan.providers or latest.plan.level == "healthy":
        return []
    plan = latest.plan
    return [
        built(
            OpenItem,
            id=item_id(spec.delivery_code, spec.name, plan.health_id, ""),
            code=spec.delivery_code,
            severity="critical",
            loop=spec.name,
            health_id=plan.health_id,
            retry_state="no_retry_plan",
            title=unalerted_title(spec),
            detail=unalerted_detail(plan.level),
            operator_action=unalerted_action(spec),
            opened_at=moment(plan.cite[0]),
            attempts=0,
            evidence=[ref(plan.cite)],
            evidence_total=1,
        )
    ]


def undelivered_items(facts: Facts, spec: LoopSpec) -> list[OpenItem]:
    """A provider the judged plans require that no delivery reached (reference H.11 item 7)."""
    items = []
    for (health_id, provider), plans in sorted(facts.required(spec.name, spec.chain_plans).items()):
        if (spec.name, health_id, provider) in facts.ledger.chains:
            continue
        evidence, total = refs(p.cite for p in plans)
        items.append(
            built(
                OpenItem,
                id=item_id(spec.delivery_code, spec.name, health_id, provider),
                code=spec.delivery_code,
                severity="critical",
                loop=spec.name,
                health_id=health_id,
                provider=provider,
                retry_state="no_retry_plan",
                title=undelivered_title(spec, provider),
                detail=undelivered_detail(len(plans)),
                operator_action=delivery_action(spec.name, health_id, provider, RetryOutcome("no_retry_plan")),
                opened_at=moment(min(p.cite[0] for p in plans)),
                attempts=0,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


def _delivery_item(facts: Facts, key: Key, chain: Chain) -> OpenItem:
    """Describe one open delivery chain, with what happened after its failure."""
    loop, health_id, provider = key
    retry = retry_state(facts, key)
    streak = chain.open_streak()
    evidence, total = refs(streak + retry.records)
    code = BY_NAME[loop].delivery_code
    decision = retry.decision
    return built(
        OpenItem,
        id=item_id(code, loop, health_id, provider),
        code=code,
        severity="critical",
        loop=loop,
        health_id=health_id,
        provider=provider,
        retry_state=retry.state,
        title=delivery_title(loop, provider, retry.state),
        detail=delivery_detail(chain.failures, retry),
        operator_action=delivery_action(loop, health_id, provider, retry),
        opened_at=moment(streak[0][0]),
        attempts=chain.failures,
        retry_count=decision.retry_count if decision else None,
        max_retry_attempts=decision.max_retry_attempts if decision else None,
        next_retry_at=retry.due,
        skip_reason=retry.skip_reason,
        evidence=evidence,
        evidence_total=total,
    )


@dataclass
class RetryOutcome:
    """What happened to a chain after it failed, from its latest retry decision."""

    state: RetryState
    decision: RetryDecision | None = None
    skip_reason: str | None = None
    records: list[Cite] = field(default_factory=list)

    @property
    def due(self) -> datetime | None:
        """When a waiting retry is due (UTC)."""
        if self.state != "waiting" or self.decision is None or self.decision.next_retry_at is None:
            return None
        return parse_timestamp(self.decision.next_retry_at)


def retry_state(facts: Facts, key: Key) -> RetryOutcome:
    """Decide the retry state of a failed chain from its latest retry decision (reference §6)."""
    decisions = facts.decisions.get(key, [])
    executions = facts.executions(key)
    if not decisions:
        failed = [e for e in executions if not e.succeeded]
        return _execution_failed(failed, []) if failed else RetryOutcome("no_retry_plan")
    plan, decision = decisions[-1]
    if decision.action == "suppress":
        return RetryOutcome("exhausted", decision, records=plan.records)
    if decision.action == "wait":
        return RetryOutcome("waiting", decision, records=plan.records)
    return _retry_decision_state(facts, key, plan, decision, executions)


def _retry_decision_state(
    facts: Facts, key: Key, plan: Plan, decision: RetryDecision, executions: list[ExecutionSeen]
) -> RetryOutcome:
    """A `retry` decision: judged by what the key's workers did, over every plan.

    A live retry of the key that failed or was skipped is the operator's problem, whatever dry
    runs selected it afterwards; `dry_run_only` means no live worker ever selected it.
    """
    runs = facts.runs_selecting(key)
    context = [*plan.records, *(cite for cite, _ in runs), *(e.cite for e in executions)]
    if executions and not executions[-1].succeeded:
        state = _execution_failed(executions, context)
        state.decision = decision
        return state
    if runs and all(dry for _, dry in runs):
        return RetryOutcome("dry_run_only", decision, records=context)
    return RetryOutcome("retry_pending", decision, records=context)


def _execution_failed(executions: list[ExecutionSeen], context: list[Cite]) -> RetryOutcome:
    """The latest live execution failed or was skipped; carry its skip reason."""
    return RetryOutcome(
        "execution_failed", skip_reason=executions[-1].skipped, records=[*context, *(e.cite for e in executions)]
    )


# --- resolved and superseded chains ---------------------------------------------------------


def resolved_chains(facts: Facts, states: list[ChainState]) -> list[ResolvedChain]:
    """Chains that failed and whose latest outcome is a success, with the record that closed them;
    then, in loops judged by their latest plan, the chains a newer plan superseded."""
    resolved = []
    for spec in LOOPS:
        latest = facts.latest(spec)
        for key, chain in states:
            if key[0] == spec.name and chain.resolved and not superseded(key, chain, latest):
                resolved.append(_delivered_chain(key, chain))
        if latest is not None:
            resolved += superseded_chains(facts, spec, latest)
    return resolved


def _delivered_chain(key: Key, chain: Chain) -> ResolvedChain:
    """A failed chain closed by a later success."""
    failed = chain.failed.oldest() if chain.failed is not None else []
    return built(
        ResolvedChain,
        loop=key[0],
        health_id=key[1],
        provider=key[2],
        resolution="delivered",
        failures=chain.failures,
        first_failed_at=moment(failed[0][0]),
        resolved_at=moment(chain.latest_at),
        resolved_by=ref(chain.closer()),
        failed=refs(failed)[0],
    )


def superseded_chains(facts: Facts, spec: LoopSpec, latest: LatestPlan) -> list[ResolvedChain]:
    """Keys that were open under an older plan (a failed chain, or an acknowledgement outstanding)
    and that the latest plan does not require: superseded by it, never open."""
    ledger = facts.ledger
    outstanding = outstanding_acks(facts, spec.name, "every")
    keys = {key for key, chain in ledger.chains.items() if key[0] == spec.name and chain.failures}
    keys |= {(spec.name, *pair) for pair in outstanding}
    found = []
    for key in sorted(keys):
        chain = ledger.chains.get(key)
        if not superseded(key, chain, latest):
            continue
        failed = chain.failed.oldest() if chain is not None and chain.failed is not None else []
        found.append(
            built(
                ResolvedChain,
                loop=spec.name,
                health_id=key[1],
                provider=key[2],
                resolution="superseded",
                failures=chain.failures if chain is not None else 0,
                first_failed_at=moment(failed[0][0]) if failed else None,
                resolved_at=moment(latest.plan.cite[0]),
                resolved_by=ref(latest.plan.cite),
                failed=refs(failed)[0],
            )
        )
    return found


# --- wording --------------------------------------------------------------------------------


def delivery_title(loop: str, provider: str, state: RetryState) -> str:
    """The title of an open delivery chain."""
    spec = BY_NAME[loop]
    why = RETRY_STATES[state].title if spec.retries else "this loop has no retry"
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


def delivery_detail(failures: int, retry: RetryOutcome) -> str:
    """One line on what happened to the chain."""
    parts = [f"{failures} failed attempt{'s' if failures != 1 else ''}; latest outcome is a failure"]
    if retry.decision is not None:
        parts.append(f"latest retry decision: {retry.decision.action} ({retry.decision.reason or 'no reason given'})")
    if retry.skip_reason:
        parts.append(f"skipped: {retry.skip_reason}")
    return "; ".join(parts)


def delivery_action(loop: str, health_id: str, provider: str, retry: RetryOutcome) -> str:
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


# --- readiness ------------------------------------------------------------------------------


def chain_check(check_id: str, facts: Facts, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail only on failures whose chain was not later delivered."""
    loop = check_id.split("_", 1)[0]
    open_keys = [key for key, chain in states if key[0] == loop and not chain.resolved]
    if check_id.endswith("_delivery"):
        failed = cavra[f"{loop}_retry_health_alert_delivery_failed_count"]
        resolved = sum(key[0] == loop and chain.resolved for key, chain in states)
        evidence = f"open_failed_chains={len(open_keys)} resolved_chains={resolved} failed_delivery_records={failed}"
        return check(check_id, LOOP_CHECKS[check_id], bool(open_keys), evidence)
    unresolved = [e for key in open_keys for e in facts.ledger.executions.get(key, []) if not e.succeeded]
    total = cavra[f"{check_id}_failed_count"]
    return check(
        check_id,
        LOOP_CHECKS[check_id],
        bool(unresolved),
        f"unresolved_failed_executions={len(unresolved)} failed_execution_records={total}",
    )
