"""The per-chain state a ledger keeps: citations, the oldest records of a kind, a chain key's
outcomes (`Chain`), an alert plan's state (`Plan`), an acknowledgement pair (`AckPair`), the links
between records, and each loop's tally. Each merges with its copy from another part of the evidence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from sys import intern

from reportgen.evidence.lean import (
    RetryDecision,
)
from reportgen.evidence.loops import Standing
from reportgen.evidence.schema import CLEARING_ACK_STATES

# (created_at in microseconds since 1970 UTC, session_id, kind, source, line): where a finding
# points; sorts oldest first. Integer times: a datetime costs 48 bytes and is slow to pickle.
Cite = tuple[int, str, str, str, int | None]
# (created_at, failed, session_id): an outcome's place; on a tie a failure counts as later.
Order = tuple[int, bool, str]
Key = tuple[str, str, str]
Pair = tuple[str, str]
# Findings cite at most this many records each, the oldest first; totals are always exact.
MAX_CITED = 50


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    """A UTC time as microseconds since 1970."""
    return (at - EPOCH) // MICROSECOND


def moment(stamp: int) -> datetime:
    """Microseconds since 1970 as a UTC time."""
    return EPOCH + timedelta(microseconds=stamp)


# Evidence names a handful of providers a million times: each normal form is made once and shared.
_NORMAL: dict[str, str] = {}


def norm_provider(provider: str) -> str:
    """Normalise an alert-loop provider name as upstream does."""
    normal = _NORMAL.get(provider)
    if normal is None:
        normal = provider.strip().lower().replace("-", "_")
        if len(_NORMAL) < 10_000:  # a hostile input with a million providers does not grow it unbounded
            _NORMAL[provider] = normal
    return normal


class Oldest:
    """The oldest MAX_CITED citations of a set of distinct records, and how many there were."""

    __slots__ = ("total", "cites")

    def __init__(self) -> None:
        self.total = 0
        self.cites: list[Cite] = []

    def add(self, cite: Cite) -> None:
        """Count one record; keep its citation while it is among the oldest."""
        self.total += 1
        self.cites.append(cite)
        if len(self.cites) > 4 * MAX_CITED:
            self.cites = sorted(self.cites)[:MAX_CITED]

    def merge(self, other: Oldest) -> None:
        """Fold in another part's records (disjoint from this one's)."""
        self.total += other.total
        self.cites = sorted(self.cites + other.cites)[:MAX_CITED]

    def oldest(self) -> list[Cite]:
        """The kept citations, oldest first."""
        return sorted(self.cites)[:MAX_CITED]

    def __getstate__(self) -> tuple[int, list[Cite]]:
        """A plain tuple: workers send many of these to the parent."""
        return self.total, self.cites

    def __setstate__(self, state: tuple[int, list[Cite]]) -> None:
        """Restore from `__getstate__`."""
        self.total, self.cites = state


class Chain:
    """One chain key's delivery outcomes, reduced to what judging its latest outcome needs.

    Outcomes are kept as citations; an outcome's place in time is (created_at, failed,
    session_id), so on a tie a failure counts as later and a tie never closes a chain.
    """

    __slots__ = ("failures", "failed", "last_success", "last_failure", "streak", "closers")

    def __init__(self) -> None:
        self.failures = 0
        self.failed: Oldest | None = None
        self.last_success: Cite | None = None
        self.last_failure: Cite | None = None
        # Failures after the latest success (what keeps the chain open), and successes after the
        # latest failure with whether each is an execution (what closed it). Tuples: most chains
        # never fail, and an empty tuple costs nothing.
        self.streak: tuple[Cite, ...] = ()
        self.closers: tuple[tuple[Cite, bool], ...] = ()

    def add(self, cite: Cite, success: bool, execution: bool) -> None:
        """Fold in one outcome."""
        if success:
            order = _success(cite)
            if self.last_success is None or cite > self.last_success:
                self.last_success = cite
                self.streak = tuple(f for f in self.streak if _failure(f) > order)
            if self.last_failure is None or order > _failure(self.last_failure):
                self.closers += ((cite, execution),)
            return
        self.failures += 1
        if self.failed is None:
            self.failed = Oldest()
        self.failed.add(cite)
        order = _failure(cite)
        if self.last_failure is None or cite > self.last_failure:
            self.last_failure = cite
            self.closers = tuple(c for c in self.closers if _success(c[0]) > order)
        if self.last_success is None or order > _success(self.last_success):
            self.streak += (cite,)

    def merge(self, other: Chain) -> None:
        """Fold in the same key's outcomes from another part of the evidence."""
        self.failures += other.failures
        if other.failed is not None:
            if self.failed is None:
                self.failed = Oldest()
            self.failed.merge(other.failed)
        self.last_success = _latest(self.last_success, other.last_success)
        self.last_failure = _latest(self.last_failure, other.last_failure)
        success, failure = self.last_success, self.last_failure
        self.streak = tuple(f for f in self.streak + other.streak if success is None or _failure(f) > _success(success))
        self.closers = tuple(
            c for c in self.closers + other.closers if failure is None or _success(c[0]) > _failure(failure)
        )

    @property
    def resolved(self) -> bool:
        """Whether the latest outcome is a success."""
        if self.last_success is None:
            return False
        return self.last_failure is None or _success(self.last_success) > _failure(self.last_failure)

    @property
    def latest_at(self) -> int:
        """When the latest outcome happened."""
        return (self.last_success if self.resolved else self.last_failure)[0]  # type: ignore[index]

    def open_streak(self) -> list[Cite]:
        """The failures since the latest success, oldest first."""
        return sorted(self.streak)

    def closer(self) -> Cite:
        """The record that closed a resolved chain: its first execution after the failure, else its first success."""
        closers = sorted(self.closers)
        executions = [c for c in closers if c[1]]
        return (executions or closers)[0][0]

    def __getstate__(self) -> tuple[object, ...]:
        """A plain tuple: workers send hundreds of thousands of these to the parent."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        """Restore from `__getstate__`."""
        for name, value in zip(self.__slots__, state, strict=True):
            setattr(self, name, value)


def later(a: Cite, b: Cite) -> bool:
    """Whether record a is later than record b in upstream's order: newer, or as new with the smaller id.

    Upstream's store is sorted by session id and its histories by time, newest first, with a
    stable sort: of records made at the same instant, the one with the smaller id is read first.
    """
    return a[0] > b[0] or (a[0] == b[0] and a[1] < b[1])


def _success(cite: Cite) -> Order:
    """A success's place in time."""
    return (cite[0], False, cite[1])


def _failure(cite: Cite) -> Order:
    """A failure's place in time (after a success of the same instant)."""
    return (cite[0], True, cite[1])


def _latest(a: Cite | None, b: Cite | None) -> Cite | None:
    """The later of two optional citations."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def shared_decisions(decisions: list[RetryDecision]) -> list[RetryDecision]:
    """Decisions whose texts are shared with every other copy of them (sys.intern): a plan's
    providers, reasons and ids recur in plan after plan and worker run after worker run, and a
    million records would otherwise keep one copy of each per decision."""
    for d in decisions:
        d.provider, d.health_id, d.plan_id = intern(d.provider), intern(d.health_id), intern(d.plan_id)
        d.reason, d.latest_delivery_id = intern(d.reason), intern(d.latest_delivery_id)
        if d.next_retry_at is not None:
            d.next_retry_at = intern(d.next_retry_at)
    return decisions


@dataclass(slots=True)
class Plan:
    """A retry plan's decisions: its own record's (the latest, if several), else the first embedded copy's."""

    loop: str
    first: Cite
    decisions: list[RetryDecision]
    own: Cite | None = None
    records: list[Cite] = field(default_factory=list)

    @classmethod
    def start(cls, loop: str, cite: Cite, decisions: list[RetryDecision], own: bool) -> Plan:
        """The plan as its first record seen shows it."""
        return cls(loop, cite, shared_decisions(decisions), cite if own else None, [cite])

    @property
    def at(self) -> int:
        """When the plan whose decisions count was made."""
        return (self.own or self.first)[0]

    def add(self, loop: str, cite: Cite, decisions: list[RetryDecision], own: bool) -> None:
        """Fold in one more record carrying this plan (its decisions shared only if they are kept)."""
        self.merge(Plan(loop, cite, decisions, cite if own else None, [cite]))

    def merge(self, other: Plan) -> None:
        """Fold in the same plan as seen by other records; the plan's own latest record wins."""
        self.records.extend(other.records)
        if other.own is not None and (self.own is None or later(other.own, self.own)):
            self.own, self.decisions = other.own, shared_decisions(other.decisions)
        if other.first < self.first:
            self.first, self.loop = other.first, other.loop
            if self.own is None:
                self.decisions = shared_decisions(other.decisions)


@dataclass(slots=True)
class AckPair:
    """The acknowledgements of one (health_id, provider) pair; once cleared, only that is kept."""

    cleared: bool = False
    latest: tuple[Cite, str] | None = None
    acks: Oldest | None = field(default_factory=Oldest)

    def add(self, cite: Cite, state: str) -> None:
        """Fold in one acknowledgement."""
        if self.cleared:
            return
        if state in CLEARING_ACK_STATES:
            self.clear()
            return
        if self.latest is None or later(cite, self.latest[0]):
            self.latest = (cite, state)
        assert self.acks is not None
        self.acks.add(cite)

    def clear(self) -> None:
        """The pair is cleared, whatever else is read: what would explain it being open is dropped."""
        self.cleared, self.latest, self.acks = True, None, None

    def merge(self, other: AckPair) -> None:
        """Fold in the same pair's acknowledgements from another part."""
        if self.cleared or other.cleared:
            self.clear()
            return
        if other.latest is not None and (self.latest is None or later(other.latest[0], self.latest[0])):
            self.latest = other.latest
        assert self.acks is not None and other.acks is not None
        self.acks.merge(other.acks)


@dataclass(frozen=True, slots=True)
class RequiredBy:
    """An alert plan, reduced to who it requires to acknowledge."""

    cite: Cite
    health_id: str
    providers: tuple[str, ...]
    # The health's alert level as the plan copied it: a plan that requires nobody closes only a
    # healthy alert.
    level: str | None = None


@dataclass(frozen=True, slots=True)
class ExecutionSeen:
    """An execution record of a chain key."""

    cite: Cite
    succeeded: bool
    skipped: str | None


@dataclass(frozen=True, slots=True)
class Link:
    """A reference from one record to an id that was not (yet) in the evidence when it was read."""

    target: str
    place: tuple[object, ...]
    cite: Cite
    field: str


@dataclass(frozen=True, slots=True)
class Foreign:
    """A record no rule reads: its id, its kind (or delivery source) and how it stands to the closure."""

    session_id: str
    kind: str
    standing: Standing


@dataclass
class LoopTally:
    """The counts of one alert loop, and the oldest records behind its upstream failure counts."""

    health_records: int = 0
    alert_plans: int = 0
    deliveries: int = 0
    delivery_failures: int = 0
    runs_live: int = 0
    runs_dry: int = 0
    executions: Counter[str] = field(default_factory=Counter)
    acks: Counter[str] = field(default_factory=Counter)
    failed_deliveries: Oldest = field(default_factory=Oldest)
    failed_executions: Oldest = field(default_factory=Oldest)

    def merge(self, other: LoopTally) -> None:
        """Add another part's counts."""
        for name in ("health_records", "alert_plans", "deliveries", "delivery_failures", "runs_live", "runs_dry"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.executions.update(other.executions)
        self.acks.update(other.acks)
        self.failed_deliveries.merge(other.failed_deliveries)
        self.failed_executions.merge(other.failed_executions)
