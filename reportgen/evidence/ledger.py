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
from datetime import datetime
from sys import intern

from reportgen.evidence.chains import (
    AckPair,
    Chain,
    Cite,
    ExecutionSeen,
    Foreign,
    Key,
    Link,
    LoopTally,
    Oldest,
    Pair,
    Plan,
    RequiredBy,
    later,
    micros,
    norm_provider,
)
from reportgen.evidence.kinds import BY_KIND
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
    RetryPlan,
    RetryPlanBody,
    RunbookExport,
    WorkerRun,
)
from reportgen.evidence.loops import ALERT_KINDS, LOOP_NAMES, source_unjudged
from reportgen.evidence.schema import CLEARING_ACK_STATES

DAY_MICROS = 86_400_000_000
# References waiting for their targets are looked up again whenever this many (or twice as many as
# were left the last time) are waiting: a million records would otherwise keep hundreds of thousands.
PRUNE_LINKS_AT = 65_536
# The timeline lanes of each kind that has any (kinds.py); a delivery takes its second lane when it failed.
KIND_LANES: dict[str, tuple[str, ...]] = {name: kind.lanes for name, kind in BY_KIND.items() if kind.lanes}


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


class Ledger:
    """The folded evidence: fold records in with `add`, other parts in with `merge`."""

    def __init__(self, as_of: datetime | None = None) -> None:
        self.as_of = as_of
        self.as_of_micros = None if as_of is None else micros(as_of)
        self.records = 0
        self.kinds: Counter[str] = Counter()
        self.alert_loop = False
        self.newest: datetime | None = None
        self.oldest: datetime | None = None
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
        # Ids are kept as their hashes (str hashes are the same in this process and the workers it
        # forks) in arrays, 8 bytes each: session ids, one a record, and the other ids records
        # carry. They are looked up only in batches: when references are pruned, and once all is read.
        self.known: array[int] = array("q")
        self.sids: array[int] = array("q")
        self.known_parts: list[array[int]] = []
        self.links: list[Link] = []
        self._prune_at = PRUNE_LINKS_AT
        self.providers: dict[tuple[str, ...], tuple[str, ...]] = {}
        # Records per (loop, timeline lane, UTC day as days since 1970): the timeline of all the
        # evidence, not only of the records a pack cites. A few thousand keys, whatever the size.
        self.timeline: Counter[tuple[str, str, int]] = Counter()

    # --- folding one record -------------------------------------------------------------------

    def add(self, record: Lean, at: datetime, source: str, line: int | None) -> None:
        """Fold one accepted record in."""
        stamp = micros(at)
        cite: Cite = (stamp, record.session_id, record.metadata_kind, source, line)
        self.records += 1
        self.kinds[cite[2]] += 1
        self._place_in_time(at, cite)
        lanes = KIND_LANES.get(cite[2])
        if lanes:
            self._on_timeline(record, lanes, stamp)
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
        """Note the oldest and newest records (the timeline's span, the default as-of) and those after the as-of."""
        if self.newest is None or at > self.newest:
            self.newest = at
        if self.oldest is None or at < self.oldest:
            self.oldest = at
        if self.as_of_micros is not None and cite[0] > self.as_of_micros:
            self.future.append(cite)

    def _on_timeline(self, record: Lean, lanes: tuple[str, ...], stamp: int) -> None:
        """Count a record of an alert loop on its lane, on the UTC day it was made."""
        if isinstance(record, Delivery):
            loop, lane = record.delivery_loop, lanes[0] if record.delivery_success else lanes[-1]
        else:
            loop, lane = record.loop, lanes[0]
        if loop is not None:  # deliveries of other sources belong to no loop's timeline
            self.timeline[(loop, lane, stamp // DAY_MICROS)] += 1

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
            self.known.append(hash(some_id))

    def link(self, target: str, place: tuple[object, ...], cite: Cite, name: str) -> None:
        """Note a reference; it is looked up in batches (`prune_links`) and once all is read."""
        if target:
            self.links.append(Link(target, place, cite, name))
            if len(self.links) >= self._prune_at:
                self.prune_links()

    def prune_links(self) -> None:
        """Let go of the noted references whose targets have been read so far (most of them); the
        rest are checked once all is read."""
        found = self.knows({hash(link.target) for link in self.links})
        self.links = [link for link in self.links if hash(link.target) not in found]
        self._prune_at = max(PRUNE_LINKS_AT, 2 * len(self.links))

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
        chain_id = intern(record.chain_id)  # a chain's id recurs in its executions, plans and acknowledgements
        for provider, success in record.outcomes():
            key = (loop, chain_id, norm_provider(provider))
            self._chain(key).add(cite, success, False)

    def _execution(self, record: Execution, cite: Cite) -> None:
        """An execution: an outcome of its key, a link to its run, plan and delivery."""
        loop = record.loop
        assert loop is not None
        key = (loop, intern(record.health_id), norm_provider(record.provider))
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
        for key in sorted({(loop, intern(d.health_id), norm_provider(d.provider)) for d in selected}):
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
            pair = (intern(record.health_id), norm_provider(record.provider))
            self.acks[loop].setdefault(pair, AckPair()).add(cite, record.acknowledgement_state)
        elif isinstance(record, (AlertPlan, ArchiveAlertPlan)):
            tally.alert_plans += 1
            self.know(record.plan_id)
            providers = tuple(norm_provider(p) for p in record.required_providers())
            providers = self.providers.setdefault(providers, providers)  # most plans share a few lists
            level = None if record.alert_level is None else intern(record.alert_level)
            self.required[loop].append(RequiredBy(cite, intern(record.health_id), providers, level))
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
        self.timeline.update(other.timeline)
        self.alert_loop = self.alert_loop or other.alert_loop
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest
        if other.oldest is not None and (self.oldest is None or other.oldest < self.oldest):
            self.oldest = other.oldest
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
        found: set[int] = set()
        for part in (self.known, self.sids, *self.known_parts):
            found |= targets.intersection(part)
        return found


def _merge_by_key(mine: dict, theirs: dict) -> None:  # type: ignore[type-arg]
    """Merge two mappings of mergeable states key by key (taking over states only one has)."""
    for key, state in theirs.items():
        if key in mine:
            mine[key].merge(state)
        else:
            mine[key] = state
