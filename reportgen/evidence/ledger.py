"""The evidence ledger: every accepted record folded, as it is read, into what the rules need.

Nothing here holds a record. A record leaves behind counts, a citation (time, session id, kind,
file, line) where a finding may have to point at it, and per-chain state: a chain key's failures
since its latest success and successes since its latest failure, its executions, the worker runs
that selected it, and the retry plans' decisions. Memory therefore grows with the chains, the
plans and the acknowledgement pairs, not with the records or the bytes read.

Folding is order-free: every "latest" and "first" is decided by (created_at, session_id), never
by reading order, so ledgers of parts of the evidence (other files, other byte ranges, other
processes) merge into the ledger of the whole, and any reading order gives the same verdict.
"""

from __future__ import annotations

import gc
from array import array
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from reportgen.evidence.lean import (
    AlertAck,
    AlertPlan,
    ArchiveAlertPlan,
    Delivery,
    Execution,
    Health,
    Lean,
    NotificationAck,
    NotificationPlan,
    ReadinessSummary,
    RetryDecision,
    RetryPlan,
    RetryPlanBody,
    RunbookExport,
    WorkerRun,
)
from reportgen.evidence.loops import ALERT_KINDS, LOOP_NAMES, Standing, source_unjudged
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


@contextmanager
def quiet_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a ledger is built or judged.

    A ledger is millions of small acyclic objects; the collector would walk all of them again on
    every burst of allocations, which costs more than the folding itself. Afterwards they are
    frozen out of its sight (refcounting still frees them).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


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


@dataclass
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
        return cls(loop, cite, decisions, cite if own else None, [cite])

    @property
    def at(self) -> int:
        """When the plan whose decisions count was made."""
        return (self.own or self.first)[0]

    def add(self, loop: str, cite: Cite, decisions: list[RetryDecision], own: bool) -> None:
        """Fold in one more record carrying this plan."""
        self.merge(Plan.start(loop, cite, decisions, own))

    def merge(self, other: Plan) -> None:
        """Fold in the same plan as seen by other records; the plan's own latest record wins."""
        self.records.extend(other.records)
        if other.own is not None and (self.own is None or later(other.own, self.own)):
            self.own, self.decisions = other.own, other.decisions
        if other.first < self.first:
            self.first, self.loop = other.first, other.loop
            if self.own is None:
                self.decisions = other.decisions


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


class Ledger:
    """The folded evidence: fold records in with `add`, other parts in with `merge`."""

    def __init__(self, as_of: datetime | None = None) -> None:
        self.as_of = as_of
        self.as_of_micros = None if as_of is None else micros(as_of)
        self.records = 0
        self.kinds: Counter[str] = Counter()
        self.alert_loop = False
        self.newest: datetime | None = None
        self.future: list[Cite] = []
        self.loops = {loop: LoopTally() for loop in LOOP_NAMES}
        self.chains: dict[Key, Chain] = {}
        self.executions: dict[Key, list[ExecutionSeen]] = {}
        self.selections: dict[Key, list[tuple[Cite, bool]]] = {}
        self.plans: dict[str, Plan] = {}
        self.required: dict[str, list[RequiredBy]] = {loop: [] for loop in LOOP_NAMES}
        self.acks: dict[str, dict[Pair, AckPair]] = {loop: {} for loop in LOOP_NAMES}
        self.notification_plans = 0
        self.notification_acks = 0
        self.schedules: dict[str, tuple[Cite, tuple[str, ...]]] = {}
        self.notification_cleared: set[Pair] = set()
        self.other_deliveries: dict[str, list[int]] = {}
        self.readiness_summaries = 0
        self.runbook_exports = 0
        # Records no rule reads: upstream kinds outside the closure (counted by kind), kinds and
        # sources of loops this version does not know (cited: each keeps the closure open), and
        # records of other kinds (cited one by one, as the inventory lists them).
        self.outside: Counter[str] = Counter()
        self.unjudged: dict[str, Oldest] = {}
        self.unrecognised: list[Cite] = []
        # Ids are kept as their hashes: str hashes are the same in this process and the workers it
        # forks, and a set of ints is a fraction of a set of the ids themselves. Session ids, one
        # a record, go in an array (8 bytes each): they are looked up only once all is read.
        self.known: set[int] = set()
        self.sids: array[int] = array("q")
        self.known_parts: list[set[int] | array[int]] = []
        self.links: list[Link] = []
        self.providers: dict[tuple[str, ...], tuple[str, ...]] = {}

    # --- folding one record -------------------------------------------------------------------

    def add(self, record: Lean, at: datetime, source: str, line: int | None) -> None:
        """Fold one accepted record in."""
        stamp = micros(at)
        cite: Cite = (stamp, record.session_id, record.metadata_kind, source, line)
        self.records += 1
        self.kinds[cite[2]] += 1
        self._place_in_time(at, cite)
        self.sids.append(hash(record.session_id))
        self.alert_loop = self.alert_loop or record.metadata_kind in ALERT_KINDS
        if isinstance(record, Delivery):
            self._delivery(record, cite)
        elif isinstance(record, (AlertAck, AlertPlan, ArchiveAlertPlan, Health)):
            self._alert(record, cite)
        elif isinstance(record, (WorkerRun, RetryPlan)):
            self._retry(record, cite)
        elif isinstance(record, Execution):
            self._execution(record, cite)
        else:
            self._other(record, cite)

    def _place_in_time(self, at: datetime, cite: Cite) -> None:
        """Note the newest record (the default as-of) and the records made after the as-of time."""
        if self.newest is None or at > self.newest:
            self.newest = at
        if self.as_of_micros is not None and cite[0] > self.as_of_micros:
            self.future.append(cite)

    def add_foreign(self, record: Foreign, at: datetime | None, source: str, line: int | None) -> None:
        """Account for a record no rule reads; its id still counts once and is known to links."""
        cite: Cite = (0 if at is None else micros(at), record.session_id, record.kind, source, line)
        self.sids.append(hash(record.session_id))
        if at is not None:
            self._place_in_time(at, cite)
        if record.standing == "outside_closure":
            self.outside[record.kind] += 1
        elif record.standing == "unjudged":
            self._unjudged(record.kind, cite)
        else:
            self.unrecognised.append(cite)

    def _unjudged(self, name: str, cite: Cite) -> None:
        """Cite a record of a loop this version does not know, under its kind or delivery source."""
        found = self.unjudged.get(name)
        if found is None:
            found = self.unjudged[name] = Oldest()
        found.add(cite)

    def know(self, some_id: str | None) -> None:
        """Note an id as present in the evidence."""
        if some_id:
            self.known.add(hash(some_id))

    def link(self, target: str, place: tuple[object, ...], cite: Cite, name: str) -> None:
        """Note a reference whose target is not known yet; it is checked once all is read."""
        if target and hash(target) not in self.known:
            self.links.append(Link(target, place, cite, name))

    def _chain(self, key: Key) -> Chain:
        """The chain state of a key, new if unseen."""
        chain = self.chains.get(key)
        if chain is None:
            chain = self.chains[key] = Chain()
        return chain

    def _delivery(self, record: Delivery, cite: Cite) -> None:
        """A delivery: counted under its loop (or its source), one outcome per provider."""
        loop = record.delivery_loop
        if loop is None:
            source = record.connector_delivery_source
            counts = self.other_deliveries.setdefault(source or "(none)", [0, 0])
            counts[0] += 1
            counts[1] += not record.delivery_success
            if source_unjudged(source):
                self._unjudged(source, cite)
            return
        self.alert_loop = True
        tally = self.loops[loop]
        tally.deliveries += 1
        if not record.delivery_success:
            tally.delivery_failures += 1
            tally.failed_deliveries.add(cite)
        chain_id = record.chain_id
        for provider, success in record.outcomes():
            key = (loop, chain_id, norm_provider(provider))
            self._chain(key).add(cite, success, False)

    def _execution(self, record: Execution, cite: Cite) -> None:
        """An execution: an outcome of its key, a link to its run, plan and delivery."""
        loop = record.loop
        assert loop is not None
        key = (loop, record.health_id, norm_provider(record.provider))
        tally = self.loops[loop]
        tally.executions[record.execution_status] += 1
        ok = record.succeeded
        if not ok:
            tally.failed_executions.add(cite)
        body = record.body
        self.executions.setdefault(key, []).append(
            ExecutionSeen(cite, ok, body.skipped if body and body.skipped else None)
        )
        self._chain(key).add(cite, ok, True)
        self.know(record.execution_id)
        fields = [
            ("worker_run_id", record.worker_run_id),
            ("retry_plan_id", record.retry_plan_id),
            ("health_id", record.health_id),
            ("plan_id", record.plan_id),
        ]
        if body is not None:
            fields += [
                ("latest_delivery_id", body.latest_delivery_id),
                ("delivery_metadata_id", body.delivery_metadata_id),
            ]
        place = LOOP_NAMES.index(loop)
        for i, (name, target) in enumerate(fields):
            self.link(target, (place, 0, cite[0], cite[1], i), cite, name)

    def _retry(self, record: WorkerRun | RetryPlan, cite: Cite) -> None:
        """A retry plan, or a worker run with the plan it embeds and the keys it selected."""
        loop = record.loop
        assert loop is not None
        if isinstance(record, RetryPlan):
            plan_id, body = record.plan_key, record.body
        else:
            plan_id, body = self._run(record, loop, cite)
        if not plan_id or body is None:
            return
        self.know(plan_id)
        own = isinstance(record, RetryPlan)
        plan = self.plans.get(plan_id)
        if plan is None:
            self.plans[plan_id] = Plan.start(loop, cite, body.retry_decisions, own)
        else:
            plan.add(loop, cite, body.retry_decisions, own)

    def _run(self, run: WorkerRun, loop: str, cite: Cite) -> tuple[str | None, RetryPlanBody | None]:
        """Count a worker run, note the keys it selected; return the plan it embeds."""
        tally = self.loops[loop]
        if run.dry_run:
            tally.runs_dry += 1
        else:
            tally.runs_live += 1
        self.know(run.run_key)
        body = run.body
        selected = body.selected_retries if body else []
        for key in sorted({(loop, d.health_id, norm_provider(d.provider)) for d in selected}):
            self.selections.setdefault(key, []).append((cite, run.dry_run))
        place = LOOP_NAMES.index(loop)
        for i, decision in enumerate(selected):
            self.link(
                decision.latest_delivery_id,
                (place, 1, cite[0], cite[1], i),
                cite,
                "selected_retries.latest_delivery_id",
            )
        embedded = body.retry_plan if body else None
        return (embedded.retry_plan_id if embedded else None), embedded

    def _alert(self, record: AlertAck | AlertPlan | ArchiveAlertPlan | Health, cite: Cite) -> None:
        """A health record, an alert plan or an alert acknowledgement."""
        loop = record.loop
        assert loop is not None
        tally = self.loops[loop]
        if isinstance(record, AlertAck):
            tally.acks[record.acknowledgement_state] += 1
            pair = (record.health_id, norm_provider(record.provider))
            self.acks[loop].setdefault(pair, AckPair()).add(cite, record.acknowledgement_state)
        elif isinstance(record, (AlertPlan, ArchiveAlertPlan)):
            tally.alert_plans += 1
            self.know(record.plan_id)
            providers = tuple(norm_provider(p) for p in record.required_providers())
            providers = self.providers.setdefault(providers, providers)  # most plans share a few lists
            self.required[loop].append(RequiredBy(cite, record.health_id, providers, record.alert_level))
        else:
            tally.health_records += 1
            self.know(record.health_id)

    def _other(self, record: Lean, cite: Cite) -> None:
        """The notification and final-reporting records."""
        if isinstance(record, NotificationPlan):
            self.notification_plans += 1
            self.know(record.plan_id)
            schedule = record.schedule_key
            latest = self.schedules.get(schedule)
            if latest is None or later(cite, latest[0]):
                self.schedules[schedule] = (cite, tuple(record.required_providers()))
        elif isinstance(record, NotificationAck):
            self.notification_acks += 1
            if record.acknowledgement_state in CLEARING_ACK_STATES:
                self.notification_cleared.add((record.schedule_id, record.provider))
        elif isinstance(record, ReadinessSummary):
            self.readiness_summaries += 1
        elif isinstance(record, RunbookExport):
            self.runbook_exports += 1

    # --- merging another part -----------------------------------------------------------------

    def merge(self, other: Ledger) -> None:
        """Fold in the ledger of another part of the evidence (other records, same as-of)."""
        self.records += other.records
        self.kinds.update(other.kinds)
        self.alert_loop = self.alert_loop or other.alert_loop
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest
        self.future += other.future
        for loop in LOOP_NAMES:
            self.loops[loop].merge(other.loops[loop])
            self.required[loop] += other.required[loop]
            _merge_by_key(self.acks[loop], other.acks[loop])
        _merge_by_key(self.chains, other.chains)
        _merge_by_key(self.plans, other.plans)
        for key, seen in other.executions.items():
            self.executions.setdefault(key, []).extend(seen)
        for key, runs in other.selections.items():
            self.selections.setdefault(key, []).extend(runs)
        self._merge_notifications(other)
        for source, (count, failed) in other.other_deliveries.items():
            counts = self.other_deliveries.setdefault(source, [0, 0])
            counts[0] += count
            counts[1] += failed
        self.readiness_summaries += other.readiness_summaries
        self.runbook_exports += other.runbook_exports
        self.outside.update(other.outside)
        _merge_by_key(self.unjudged, other.unjudged)
        self.unrecognised += other.unrecognised
        self.known_parts += [other.known, other.sids, *other.known_parts]
        self.links += other.links

    def _merge_notifications(self, other: Ledger) -> None:
        """Merge the notification plans (latest per schedule) and acknowledgements."""
        self.notification_plans += other.notification_plans
        self.notification_acks += other.notification_acks
        for schedule, latest in other.schedules.items():
            mine = self.schedules.get(schedule)
            if mine is None or later(latest[0], mine[0]):
                self.schedules[schedule] = latest
        self.notification_cleared |= other.notification_cleared

    def knows(self, targets: set[int]) -> set[int]:
        """Which of these id hashes are present in any part of the evidence."""
        found = targets & self.known
        for part in (self.sids, *self.known_parts):
            found |= targets.intersection(part)
        return found


def _merge_by_key(mine: dict, theirs: dict) -> None:  # type: ignore[type-arg]
    """Merge two mappings of mergeable states key by key (taking over states only one has)."""
    for key, state in theirs.items():
        if key in mine:
            mine[key].merge(state)
        else:
            mine[key] = state
