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
from typing import Any

from reportgen.evidence import sqlite_store
from reportgen.evidence.chains import (
    MAX_CITED,
    Chain,
    Cite,
    ExecutionSeen,
    Key,
    Link,
    Oldest,
    Pair,
    Plan,
    RequiredBy,
    micros,
    moment,
    norm_provider,
)
from reportgen.evidence.inputs import SecretExposed
from reportgen.evidence.lean import RetryDecision
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.load import LoadResult
from reportgen.evidence.loops import BY_NAME, CAVRA_ORDER, LOOP_NAMES, LOOP_OF_CODE, LOOPS, LoopSpec, PlanScope
from reportgen.evidence.schema import parse_timestamp
from reportgen.judge import actions
from reportgen.judge.verdict import (
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

# Upstream's release decision reason when any readiness check fails (reference §9.1, example G1).
# The reference does not show upstream's approval reason; the approval text is reportgen's.
UPSTREAM_HOLD_REASON = "final rollback drill reporting loop has unresolved blockers"
APPROVE_REASON = "final rollback drill reporting loop is closed and every readiness check passed"
# The integrity items that fail the `evidence_integrity` check.
INTEGRITY_CODES = ("evidence_unreadable", "evidence_missing", "evidence_kind_unjudged")
# Open items are listed integrity first, then loop by loop in the loop table's order.
LOOP_RANK = {name: rank for rank, name in enumerate(("evidence", *LOOP_NAMES))}


# Items, chains, warnings and references are made with model_construct: a million records give
# hundreds of thousands of them, every field is built here from checked evidence, and the tests
# validate whole summaries against the published schema.


def ref(cite: Cite) -> EvidenceRef:
    """Point at one record by id and location (fields the loader already checked)."""
    return EvidenceRef.model_construct(session_id=cite[1], source=cite[3], line=cite[4], kind=cite[2])


def refs(cites: Iterable[Cite]) -> tuple[list[EvidenceRef], int]:
    """Point at records, oldest first and each once, capped; also return how many there were."""
    unique = {cite[1]: cite for cite in cites}
    ordered = sorted(unique.values())
    return [ref(c) for c in ordered[:MAX_CITED]], len(ordered)


def joined_refs(cites: Iterable[Cite], accumulator: Oldest) -> tuple[list[EvidenceRef], int]:
    """Point at some records and at an accumulator's (a disjoint set), oldest first, capped."""
    unique = {cite[1]: cite for cite in cites}
    ordered = sorted([*unique.values(), *accumulator.oldest()])
    return [ref(c) for c in ordered[:MAX_CITED]], len(unique) + accumulator.total


# --- the evidence, arranged for judging -------------------------------------------------------


@dataclass
class Facts:
    """The ledger, with the per-key views the rules read built once."""

    ledger: Ledger
    decisions: dict[Key, list[tuple[Plan, RetryDecision]]] = field(default_factory=dict)
    _required: dict[tuple[str, PlanScope], dict[Pair, list[RequiredBy]]] = field(default_factory=dict)
    _latest: dict[str, LatestPlan | None] = field(default_factory=dict)

    @classmethod
    def of(cls, ledger: Ledger) -> Facts:
        """Arrange the ledger's retry decisions by chain key, the latest plan last (upstream's order)."""
        found: dict[Key, list[tuple[int, str, Plan, RetryDecision]]] = {}
        for plan_id, plan in ledger.plans.items():
            for decision in plan.decisions:
                key = (plan.loop, decision.health_id, norm_provider(decision.provider))
                found.setdefault(key, []).append((plan.at, plan_id, plan, decision))
        decisions = {key: [(p, d) for _, _, p, d in _latest_last(pairs)] for key, pairs in found.items()}
        return cls(ledger, decisions)

    def executions(self, key: Key) -> list[ExecutionSeen]:
        """A key's execution records, oldest first."""
        return sorted(self.ledger.executions.get(key, []), key=lambda e: e.cite)

    def required(self, loop: str, scope: PlanScope) -> dict[Pair, list[RequiredBy]]:
        """Every (health_id, provider) the plans in scope require to acknowledge, with those plans."""
        found = self._required.get((loop, scope))
        if found is None:
            found = self._required[(loop, scope)] = required_acks(self.ledger, loop, scope)
        return found

    def latest(self, spec: LoopSpec) -> LatestPlan | None:
        """The plan whose state is the loop's, for a loop judged by its latest plan; else None."""
        if not spec.by_latest_plan:
            return None
        if spec.name not in self._latest:
            plans = self.ledger.required[spec.name]
            latest = judged_plans(self.ledger, spec.name, "latest")
            planned = frozenset(plan.health_id for plan in plans)
            self._latest[spec.name] = LatestPlan(latest[-1], planned) if latest else None
        return self._latest[spec.name]

    def runs_selecting(self, key: Key) -> list[tuple[Cite, bool]]:
        """Worker runs (citation, dry run) of any plan that selected the key, oldest first."""
        return sorted(self.ledger.selections.get(key, []))


# --- delivery chains (chain mode) -------------------------------------------------------------


ChainState = tuple[Key, Chain]


def chain_states(ledger: Ledger) -> list[ChainState]:
    """Every chain key that ever failed, with its state, by key."""
    return sorted((key, chain) for key, chain in ledger.chains.items() if chain.failures)


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
        OpenItem.model_construct(
            id=item_id(spec.delivery_code, spec.name, plan.health_id, ""),
            code=spec.delivery_code,
            severity="critical",
            loop=spec.name,
            health_id=plan.health_id,
            retry_state="no_retry_plan",
            title=actions.unalerted_title(spec),
            detail=actions.unalerted_detail(plan.level),
            operator_action=actions.unalerted_action(spec),
            opened_at=moment(plan.cite[0]),
            attempts=0,
            evidence=[ref(plan.cite)],
            evidence_total=1,
        )
    ]


@dataclass(frozen=True)
class LatestPlan:
    """A loop's latest alert plan, which supersedes the plans before it, and every health id planned."""

    plan: RequiredBy
    planned: frozenset[str]

    def supersedes(self, key: Key, chain: Chain | None) -> bool:
        """Whether the latest plan replaced the plan a key was judged under: it does not require the
        key, and the key's health has a plan of its own or nothing happened to the key since. A
        failure after the latest plan, of a health no plan in the evidence names, stays open."""
        if key[1] == self.plan.health_id and key[2] in self.plan.providers:
            return False
        return key[1] in self.planned or chain is None or chain.latest_at <= self.plan.cite[0]


def superseded(key: Key, chain: Chain | None, latest: LatestPlan | None) -> bool:
    """Whether a loop judged by its latest plan no longer judges this key."""
    return latest is not None and latest.supersedes(key, chain)


def undelivered_items(facts: Facts, spec: LoopSpec) -> list[OpenItem]:
    """A provider the judged plans require that no delivery reached (reference H.11 item 7)."""
    items = []
    for (health_id, provider), plans in sorted(facts.required(spec.name, spec.chain_plans).items()):
        if (spec.name, health_id, provider) in facts.ledger.chains:
            continue
        evidence, total = refs(p.cite for p in plans)
        items.append(
            OpenItem.model_construct(
                id=item_id(spec.delivery_code, spec.name, health_id, provider),
                code=spec.delivery_code,
                severity="critical",
                loop=spec.name,
                health_id=health_id,
                provider=provider,
                retry_state="no_retry_plan",
                title=actions.undelivered_title(spec, provider),
                detail=actions.undelivered_detail(len(plans)),
                operator_action=actions.delivery_action(spec.name, health_id, provider, RetryState("no_retry_plan")),
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
    return OpenItem.model_construct(
        id=item_id(code, loop, health_id, provider),
        code=code,
        severity="critical",
        loop=loop,
        health_id=health_id,
        provider=provider,
        retry_state=retry.state,
        title=actions.delivery_title(loop, provider, retry.state),
        detail=actions.delivery_detail(chain.failures, retry),
        operator_action=actions.delivery_action(loop, health_id, provider, retry),
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
class RetryState:
    """What happened to a chain after it failed, from its latest retry decision."""

    state: str
    decision: RetryDecision | None = None
    skip_reason: str | None = None
    records: list[Cite] = field(default_factory=list)

    @property
    def due(self) -> datetime | None:
        """When a waiting retry is due (UTC)."""
        if self.state != "waiting" or self.decision is None or self.decision.next_retry_at is None:
            return None
        return parse_timestamp(self.decision.next_retry_at)


def retry_state(facts: Facts, key: Key) -> RetryState:
    """Decide the retry state of a failed chain from its latest retry decision (reference §6)."""
    decisions = facts.decisions.get(key, [])
    executions = facts.executions(key)
    if not decisions:
        failed = [e for e in executions if not e.succeeded]
        return _execution_failed(failed, []) if failed else RetryState("no_retry_plan")
    plan, decision = decisions[-1]
    if decision.action == "suppress":
        return RetryState("exhausted", decision, records=plan.records)
    if decision.action == "wait":
        return RetryState("waiting", decision, records=plan.records)
    return _retry_decision_state(facts, key, plan, decision, executions)


def _retry_decision_state(
    facts: Facts, key: Key, plan: Plan, decision: RetryDecision, executions: list[ExecutionSeen]
) -> RetryState:
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
        return RetryState("dry_run_only", decision, records=context)
    return RetryState("retry_pending", decision, records=context)


def _execution_failed(executions: list[ExecutionSeen], context: list[Cite]) -> RetryState:
    """The latest live execution failed or was skipped; carry its skip reason."""
    return RetryState(
        "execution_failed", skip_reason=executions[-1].skipped, records=[*context, *(e.cite for e in executions)]
    )


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
    return ResolvedChain.model_construct(
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
    and that the latest plan no longer requires: superseded by it, never open."""
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
            ResolvedChain.model_construct(
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


# --- acknowledgements --------------------------------------------------------------------------


def upstream_order(plans: Iterable[RequiredBy]) -> list[RequiredBy]:
    """Plans oldest first, so the last is the latest: of plans made at one instant, the smaller id
    is upstream's latest (its store is sorted by id, its history by time with a stable sort)."""
    return [plan for _, _, plan in _latest_last((p.cite[0], p.cite[1], p) for p in plans)]


def _latest_last(found: Iterable[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """(time, id, ...) entries oldest first and, at one instant, the larger id first (stable sorts)."""
    by_id = sorted(found, key=lambda entry: entry[1], reverse=True)
    return sorted(by_id, key=lambda entry: entry[0])


def judged_plans(ledger: Ledger, loop: str, scope: PlanScope) -> list[RequiredBy]:
    """The alert plans in scope: every plan, the latest of each health id, or the loop's latest."""
    plans = upstream_order(ledger.required[loop])
    if scope == "latest_per_health":
        return list({plan.health_id: plan for plan in plans}.values())
    if scope == "latest":
        return plans[-1:]
    return plans


def required_acks(ledger: Ledger, loop: str, scope: PlanScope) -> dict[Pair, list[RequiredBy]]:
    """Every (health_id, provider) the plans in scope require to acknowledge, with those plans."""
    required: dict[Pair, list[RequiredBy]] = {}
    for plan in judged_plans(ledger, loop, scope):
        for provider in plan.providers:
            required.setdefault((plan.health_id, provider), []).append(plan)
    return required


def cleared(ledger: Ledger, loop: str, pair: Pair) -> bool:
    """Whether any acknowledgement acknowledged or resolved the pair."""
    acks = ledger.acks[loop].get(pair)
    return acks is not None and acks.cleared


def outstanding_acks(facts: Facts, loop: str, scope: PlanScope) -> dict[Pair, list[RequiredBy]]:
    """Required pairs that no ack has acknowledged or resolved."""
    required = facts.required(loop, scope)
    return {pair: plans for pair, plans in required.items() if not cleared(facts.ledger, loop, pair)}


def ack_items(facts: Facts) -> list[OpenItem]:
    """A required acknowledgement that is not acknowledged or resolved stays open."""
    ledger = facts.ledger
    items = []
    for spec in LOOPS:
        loop = spec.name
        for (health_id, provider), plans in sorted(outstanding_acks(facts, loop, spec.chain_plans).items()):
            seen = ledger.acks[loop].get((health_id, provider))
            state = seen.latest[1] if seen is not None and seen.latest is not None else None
            acks = seen.acks if seen is not None and seen.acks is not None else Oldest()
            evidence, total = joined_refs((p.cite for p in plans), acks)
            items.append(
                OpenItem.model_construct(
                    id=item_id(spec.ack_code, loop, health_id, provider),
                    code=spec.ack_code,
                    severity="critical",
                    loop=loop,
                    health_id=health_id,
                    provider=provider,
                    title=actions.ack_title(loop, provider),
                    detail=actions.ack_detail(len(plans), state),
                    operator_action=actions.ack_action(loop, health_id, provider, state),
                    opened_at=moment(min(p.cite[0] for p in plans)),
                    acknowledgement_state=state,
                    evidence=evidence,
                    evidence_total=total,
                )
            )
    return items


def notification_outstanding(ledger: Ledger) -> list[tuple[str, str, Cite]]:
    """(schedule_id, provider, plan) pairs of the latest plan per schedule that no ack cleared (§8.3)."""
    return [
        (schedule, provider, cite)
        for schedule, (cite, providers) in sorted(ledger.schedules.items())
        for provider in providers
        if (schedule, provider) not in ledger.notification_cleared
    ]


# --- evidence integrity ------------------------------------------------------------------------


def integrity_items(ledger: Ledger, loaded: LoadResult) -> list[OpenItem]:
    """Rejected records, records of loops this version does not judge, or no alert-loop evidence at
    all keep the closure open in both modes."""
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
                evidence=evidence[:MAX_CITED],
                evidence_total=len(evidence),
            )
        )
    items.extend(unjudged_items(ledger))
    items.extend(secret_items(loaded))
    if not ledger.alert_loop:
        items.append(
            OpenItem(
                id=item_id("evidence_missing"),
                code="evidence_missing",
                severity="critical",
                loop="evidence",
                title="No alert-loop evidence was read",
                detail=f"No {actions.loop_list()} record is in the evidence; an empty pack never reads as closed.",
                operator_action=actions.MISSING_ACTION,
                count=0,
            )
        )
    return items


def unjudged_items(ledger: Ledger) -> list[OpenItem]:
    """Records of a rollback-drill loop this version does not know: never judged, so never closed."""
    items = []
    for name, found in sorted(ledger.unjudged.items()):
        evidence, total = joined_refs((), found)
        items.append(
            OpenItem.model_construct(
                id=item_id("evidence_kind_unjudged", name),
                code="evidence_kind_unjudged",
                severity="critical",
                loop="evidence",
                kind=name,
                title=actions.unjudged_title(name),
                detail=actions.unjudged_detail(name, found.total),
                operator_action=actions.UNJUDGED_ACTION,
                opened_at=moment(found.oldest()[0][0]),
                count=found.total,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


def secret_items(loaded: LoadResult) -> list[OpenItem]:
    """An unredacted secret in the evidence is critical: it was masked, and it says where, never what.

    One item per record (its session id, else its place) and set of masked fields, whatever form
    and file the record was read from, so its id is the same in every export of the same evidence.
    """
    entries: dict[tuple[str, int | None], list[SecretExposed]] = {}
    for secret in loaded.secrets:
        entries.setdefault((secret.source, secret.line), []).append(secret)
    records: dict[tuple[str, ...], list[SecretExposed]] = {}
    for (source, line), found in entries.items():
        fields = tuple(sorted({f"{s.path} ({s.kind})" for s in found}))
        who = found[0].session_id or sqlite_store.location(source, line, loaded.stores)
        records.setdefault((who, *fields), []).extend(found)
    items = [_secret_item(key, found) for key, found in records.items()]
    return sorted(items, key=lambda i: (*_place_order(i.evidence[0].source, i.evidence[0].line), i.id))


def _place_order(source: str, line: int | None) -> tuple[str, int]:
    """Where an entry was read, as a sort key: a whole file before its first line."""
    return source, -1 if line is None else line


def _secret_item(key: tuple[str, ...], found: list[SecretExposed]) -> OpenItem:
    """One record's exposed secrets, pointing at every place the record was read."""
    places = sorted({(s.source, s.line) for s in found}, key=lambda p: _place_order(*p))
    fields = sorted({f"{s.path} ({s.kind})" for s in found})
    return OpenItem(
        id=item_id("evidence_secret_exposed", *key),
        code="evidence_secret_exposed",
        severity="critical",
        loop="evidence",
        title="Unredacted secret in the evidence",
        detail=f"{len(fields)} secret value(s) masked in this pack, found at: {'; '.join(fields)}",
        operator_action=actions.SECRET_ACTION,
        count=len(fields),
        evidence=[
            EvidenceRef(session_id=found[0].session_id, source=src, line=line) for src, line in places[:MAX_CITED]
        ],
        evidence_total=len(places),
    )


def reference_warnings(ledger: Ledger) -> list[Finding]:
    """An execution record, worker run or retry decision that points at an id not in the evidence."""
    links = [*ledger.links, *_plan_links(ledger)]
    found = ledger.knows({hash(link.target) for link in links})
    broken = sorted((link for link in links if hash(link.target) not in found), key=lambda link: link.place)
    return [
        Finding.model_construct(
            code="evidence_reference_broken",
            title="Reference to a record that is not in the evidence",
            detail=f"{link.cite[1]} {link.field} -> {link.target} is not in the evidence",
            evidence=[ref(link.cite)],
        )
        for link in broken
    ]


def _plan_links(ledger: Ledger) -> Iterable[Link]:
    """The links of every retry plan's decisions, cited at the first record that carried the plan."""
    for plan_id, plan in ledger.plans.items():
        holder = min(plan.records)
        for i, decision in enumerate(plan.decisions):
            for j, (name, target) in enumerate(
                (
                    ("retry_decisions.latest_delivery_id", decision.latest_delivery_id),
                    ("retry_decisions.plan_id", decision.plan_id),
                    ("retry_decisions.health_id", decision.health_id),
                )
            ):
                if target:
                    yield Link(target, (len(LOOP_NAMES), plan_id, i, j), holder, name)


def load_warnings(loaded: LoadResult, ledger: Ledger, as_of: datetime) -> list[Finding]:
    """Warnings from reading the evidence: conflicts, naive or future timestamps, partial exports."""
    findings = [
        Finding(
            code="evidence_conflict",
            title="Two records share a session id with different content",
            detail=f"{c.session_id}: kept {sqlite_store.location(c.kept.source, c.kept.line, loaded.stores)}, "
            f"replaced {sqlite_store.location(c.replaced.source, c.replaced.line, loaded.stores)}",
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
    findings += kind_warnings(ledger)
    findings += [
        Finding(
            code="timestamp_in_future",
            title="Record created after the as-of time",
            detail=f"{cite[1]} was created at {utc_iso(moment(cite[0]))}, after as-of {utc_iso(as_of)}",
            evidence=[ref(cite)],
        )
        for cite in sorted(ledger.future)
        if cite[0] > micros(as_of)
    ]
    return findings


def kind_warnings(ledger: Ledger) -> list[Finding]:
    """Records of a kind that is not CAVRA rollback-drill evidence: counted and listed, never judged."""
    by_kind: dict[str, list[Cite]] = {}
    for cite in ledger.unrecognised:
        by_kind.setdefault(cite[2], []).append(cite)
    return [
        Finding.model_construct(
            code="evidence_kind_unrecognised",
            title="Records of a kind that is not CAVRA rollback-drill evidence",
            detail=actions.unrecognised_detail(kind, len(cites)),
            evidence=refs(cites)[0],
        )
        for kind, cites in sorted(by_kind.items())
    ]


# --- the verdict -------------------------------------------------------------------------------


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
        items = cavra_items(facts, counts["cavra"]) + integrity_items(ledger, loaded)  # type: ignore[arg-type]
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


# --- cavra mode --------------------------------------------------------------------------------


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
                title=actions.CAVRA_TITLES[code],
                detail=f"{code}_count={count} over all {ledger.records} records (no 500-record window)",
                operator_action=actions.CAVRA_ACTIONS[code],
                opened_at=oldest,
                count=count,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


# --- readiness checks --------------------------------------------------------------------------


def readiness_checks(
    facts: Facts,
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
        judge("executive_retry_health_alert_delivery", facts, states, cavra),
        judge("executive_retry_health_alert_retry_execution", facts, states, cavra),
        judge("recovery_retry_health_alert_retry_execution", facts, states, cavra),
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


def _cavra_check(check_id: str, facts: Facts, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail on any failed record in the evidence, as upstream does."""
    if check_id == "executive_retry_health_alert_delivery":
        count = cavra["executive_retry_health_alert_delivery_failed_count"]
        return _check(check_id, count > 0, f"failed_delivery_count={count}")
    count = cavra[f"{check_id}_failed_count"]
    return _check(check_id, count > 0, f"failed_execution_count={count}")


def _chain_check(check_id: str, facts: Facts, states: list[ChainState], cavra: dict[str, int]) -> Check:
    """Fail only on failures whose chain was not later delivered."""
    loop = check_id.split("_", 1)[0]
    open_keys = [key for key, chain in states if key[0] == loop and not chain.resolved]
    if check_id.endswith("_delivery"):
        failed = cavra[f"{loop}_retry_health_alert_delivery_failed_count"]
        resolved = sum(key[0] == loop and chain.resolved for key, chain in states)
        evidence = f"open_failed_chains={len(open_keys)} resolved_chains={resolved} failed_delivery_records={failed}"
        return _check(check_id, bool(open_keys), evidence)
    unresolved = [e for key in open_keys for e in facts.ledger.executions.get(key, []) if not e.succeeded]
    total = cavra[f"{check_id}_failed_count"]
    return _check(
        check_id, bool(unresolved), f"unresolved_failed_executions={len(unresolved)} failed_execution_records={total}"
    )


def _integrity_check(loaded: LoadResult, closure: Closure) -> Check:
    """Fail when evidence was rejected, missing or of a loop not judged; warn on any warning or
    unrecognised record: a check never passes over evidence it did not judge."""
    ledger = loaded.ledger
    broken = [i for i in closure.open_items if i.code in INTEGRITY_CODES]
    evidence = (
        f"rejected={len(loaded.rejected)} unjudged={sum(f.total for f in ledger.unjudged.values())} "
        f"unrecognised={len(ledger.unrecognised)} outside_closure={ledger.outside.total()} "
        f"conflicts={len(loaded.conflicts)} warnings={len(closure.warnings)}"
    )
    status = "fail" if broken else ("warning" if closure.warnings or ledger.unrecognised else "pass")
    return _check("evidence_integrity", bool(broken), evidence, status=status)


# --- counts ------------------------------------------------------------------------------------


def count_evidence(facts: Facts, states: list[ChainState], mode: RulesMode = "chain") -> dict[str, object]:
    """Counts per kind, per loop and per outcome, plus the upstream dashboard counts."""
    ledger = facts.ledger
    return {
        "records": ledger.records,
        "by_kind": dict(sorted(ledger.kinds.items())),
        "outside_closure": dict(sorted(ledger.outside.items())),
        "unjudged": {name: found.total for name, found in sorted(ledger.unjudged.items())},
        "loops": {spec.name: _loop_counts(facts, spec, states, mode) for spec in LOOPS},
        "notification": {
            "plans": ledger.notification_plans,
            "acknowledgements": ledger.notification_acks,
            "outstanding_acknowledgements": len(notification_outstanding(ledger)),
        },
        "other_deliveries": {
            source: {"deliveries": n, "failures": failed}
            for source, (n, failed) in sorted(ledger.other_deliveries.items())
        },
        "readiness_summaries": ledger.readiness_summaries,
        "runbook_exports": ledger.runbook_exports,
        "cavra": cavra_counts(facts),
    }


def _loop_counts(facts: Facts, spec: LoopSpec, all_states: list[ChainState], mode: RulesMode) -> dict[str, object]:
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
    counts: dict[str, object] = {
        "health_records": tally.health_records,
        "alert_plans": tally.alert_plans,
        "deliveries": tally.deliveries,
        "delivery_successes": tally.deliveries - tally.delivery_failures,
        "delivery_failures": tally.delivery_failures,
        "chains": {
            "total": sum(key[0] == loop for key in ledger.chains),
            "failed": len(failed),
            "resolved": sum(chain.resolved for chain in judged),
            "open": sum(not chain.resolved for chain in judged),
            "superseded": len(failed) - len(judged),
        },
        "acknowledgements": {s: tally.acks.get(s, 0) for s in ("acknowledged", "resolved", "dismissed", "escalated")},
        "acknowledgements_required": len(facts.required(loop, scope)),
        "acknowledgements_outstanding": (
            len(outstanding) if mode == "chain" else sum(len(plans) for plans in outstanding.values())
        ),
    }
    if spec.retries:  # a loop without retry machinery has no retry counts, not zero of them
        counts["retry_plans"] = len(plans)
        counts["retry_decisions"] = {a: decisions.get(a, 0) for a in ("retry", "wait", "suppress")}
        counts["worker_runs"] = {"live": tally.runs_live, "dry_run": tally.runs_dry}
        counts["executions"] = {s: tally.executions.get(s, 0) for s in ("delivered", "failed", "skipped")}
    return counts
