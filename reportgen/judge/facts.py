"""What the rule families share: the evidence arranged for judging, citations and plan order.

Items, chains, warnings and references are made with `verdict.built` (model_construct without
its per-field walk): a million records give hundreds of thousands of them, every field is built
here from checked evidence, and the tests validate whole summaries against the published schema.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from reportgen.evidence.chains import (
    MAX_CITED,
    Chain,
    Cite,
    ExecutionSeen,
    Key,
    Oldest,
    Pair,
    Plan,
    RequiredBy,
    norm_provider,
)
from reportgen.evidence.lean import RetryDecision
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.loops import LoopSpec, PlanScope
from reportgen.judge.verdict import Check, CheckStatus, EvidenceRef, built

# A readiness check's words, as upstream gives them: (title, operator action).
CheckWording = tuple[str, str]
ChainState = tuple[Key, Chain]


def ref(cite: Cite) -> EvidenceRef:
    """Point at one record by id and location (fields the loader already checked)."""
    return built(EvidenceRef, session_id=cite[1], source=cite[3], line=cite[4], kind=cite[2])


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
    """Whether, in a loop judged by its latest plan, that plan supersedes the one this key was judged under."""
    return latest is not None and latest.supersedes(key, chain)


def chain_states(ledger: Ledger) -> list[ChainState]:
    """Every chain key that ever failed, with its state, by key."""
    return sorted((key, chain) for key, chain in ledger.chains.items() if chain.failures)


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


def notification_outstanding(ledger: Ledger) -> list[tuple[str, str, Cite]]:
    """(schedule_id, provider, plan) pairs of the latest plan per schedule that no ack cleared (§8.3)."""
    return [
        (schedule, provider, cite)
        for schedule, (cite, providers) in sorted(ledger.schedules.items())
        for provider in providers
        if (schedule, provider) not in ledger.notification_cleared
    ]


def check(
    check_id: str, wording: CheckWording, failed: bool, evidence: str, status: CheckStatus | None = None
) -> Check:
    """A readiness check with its family's title and operator action."""
    title, action = wording
    return Check(
        id=check_id,
        title=title,
        status=status or ("fail" if failed else "pass"),
        evidence=evidence,
        operator_action=action,
    )
