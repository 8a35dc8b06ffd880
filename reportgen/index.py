"""The evidence arranged for the rules: per chain key, per retry plan, per loop.

A chain key is (loop, health_id, provider): health_id falls back to the delivery's event_id, and
providers of the alert loops are normalised (lowercase, '-' to '_') as upstream normalises them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from .models import (
    AlertAck,
    AlertPlan,
    Delivery,
    Envelope,
    Execution,
    Health,
    Loop,
    NotificationAck,
    NotificationPlan,
    ReadinessSummary,
    RetryDecision,
    RetryPlan,
    RunbookExport,
    WorkerRun,
)

Key = tuple[str, str, str]


def norm_provider(provider: str) -> str:
    """Normalise an alert-loop provider name as upstream does."""
    return provider.strip().lower().replace("-", "_")


@dataclass(frozen=True)
class Outcome:
    """One delivery outcome for a chain key: a delivery record or a retry execution record."""

    at: datetime
    success: bool
    record: Envelope

    @property
    def order(self) -> tuple[datetime, bool, str]:
        """Sort key: by time; on a tie a failure counts as later, so a tie never closes a chain."""
        return (self.at, not self.success, self.record.session_id)


@dataclass
class PlanDecisions:
    """A retry plan's decisions, from its own record and/or the worker runs that embed it."""

    retry_plan_id: str
    loop: Loop
    at: datetime
    decisions: list[RetryDecision]
    records: list[Envelope] = field(default_factory=list)


@dataclass
class LoopEvidence:
    """The records of one alert loop."""

    deliveries: list[Delivery] = field(default_factory=list)
    health: list[Health] = field(default_factory=list)
    plans: list[AlertPlan] = field(default_factory=list)
    acks: list[AlertAck] = field(default_factory=list)
    retry_plans: list[RetryPlan] = field(default_factory=list)
    runs: list[WorkerRun] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)


@dataclass
class EvidenceIndex:
    """Every accepted record, arranged for the rules."""

    records: list[Envelope]
    loops: dict[str, LoopEvidence] = field(default_factory=lambda: defaultdict(LoopEvidence))
    other_deliveries: list[Delivery] = field(default_factory=list)
    notification_plans: list[NotificationPlan] = field(default_factory=list)
    notification_acks: list[NotificationAck] = field(default_factory=list)
    readiness_summaries: list[ReadinessSummary] = field(default_factory=list)
    runbook_exports: list[RunbookExport] = field(default_factory=list)
    outcomes: dict[Key, list[Outcome]] = field(default_factory=lambda: defaultdict(list))
    executions: dict[Key, list[Execution]] = field(default_factory=lambda: defaultdict(list))
    plans: dict[str, PlanDecisions] = field(default_factory=dict)
    known_ids: set[str] = field(default_factory=set)
    selections: dict[Key, list[WorkerRun]] = field(default_factory=lambda: defaultdict(list))
    # Built on first use, once every plan is filed: a plan's decisions can be replaced while filing.
    _decisions: dict[Key, list[tuple[PlanDecisions, RetryDecision]]] | None = None

    def loop(self, name: str) -> LoopEvidence:
        """The records of one loop (empty when the evidence has none)."""
        return self.loops[name]

    def decisions_for(self, key: Key) -> list[tuple[PlanDecisions, RetryDecision]]:
        """Every retry decision for a chain key, oldest plan first."""
        if self._decisions is None:
            self._decisions = defaultdict(list)
            for plan in self.plans.values():
                for decision in plan.decisions:
                    self._decisions[(plan.loop, decision.health_id, norm_provider(decision.provider))].append(
                        (plan, decision)
                    )
        found = self._decisions.get(key, [])
        return sorted(found, key=lambda pair: (pair[0].at, pair[0].retry_plan_id))

    def runs_selecting(self, key: Key) -> list[WorkerRun]:
        """Worker runs, of any retry plan, that selected the key for redelivery."""
        return self.selections.get(key, [])


def build_index(records: list[Envelope], unrecognised_ids: list[str] | None = None) -> EvidenceIndex:
    """Arrange the accepted records (already sorted by time) for the rules."""
    index = EvidenceIndex(records=records)
    index.known_ids.update(unrecognised_ids or [])
    for record in records:
        index.known_ids.add(record.session_id)
        _file(record, index)
    return index


def _file(record: Envelope, index: EvidenceIndex) -> None:
    """Put one record where the rules look for it."""
    if isinstance(record, Delivery):
        _file_delivery(record, index)
    elif isinstance(record, Execution):
        _file_execution(record, index)
    elif isinstance(record, (RetryPlan, WorkerRun)):
        _file_retry(record, index)
    elif isinstance(record, (Health, AlertPlan, AlertAck)):
        _file_alert(record, index)
    else:
        _file_other(record, index)


def _file_delivery(record: Delivery, index: EvidenceIndex) -> None:
    """File a delivery under its loop and record one outcome per provider."""
    loop = record.delivery_loop
    if loop is None:
        index.other_deliveries.append(record)
        return
    index.loop(loop).deliveries.append(record)
    for provider, success in record.outcomes():
        key = (loop, record.chain_id, norm_provider(provider))
        index.outcomes[key].append(Outcome(record.created_at, success, record))


def _file_execution(record: Execution, index: EvidenceIndex) -> None:
    """File an execution record: it is both an outcome of its key and a link to its run."""
    loop = record.loop
    assert loop is not None
    key = (loop, record.health_id, norm_provider(record.provider))
    index.loop(loop).executions.append(record)
    index.executions[key].append(record)
    index.outcomes[key].append(Outcome(record.created_at, record.succeeded, record))
    index.known_ids.update(i for i in (record.execution_id,) if i)


def _file_retry(record: RetryPlan | WorkerRun, index: EvidenceIndex) -> None:
    """File a retry plan, or a worker run and the plan it embeds, by retry plan id."""
    loop = record.loop
    assert loop is not None
    if isinstance(record, RetryPlan):
        index.loop(loop).retry_plans.append(record)
        plan_id, body = record.plan_key, record.body
    else:
        index.loop(loop).runs.append(record)
        index.known_ids.add(record.run_key)
        _file_selections(record, loop, index)
        plan_id, body = record.retry_plan_id, record.body.retry_plan if record.body else None
    if not plan_id or body is None:
        return
    index.known_ids.add(plan_id)
    entry = index.plans.get(plan_id)
    if entry is None:
        entry = index.plans[plan_id] = PlanDecisions(plan_id, loop, record.created_at, body.retry_decisions)
    elif isinstance(record, RetryPlan):
        # The plan's own record is the authority; an embedded copy only adds a place it was seen.
        entry.decisions, entry.at = body.retry_decisions, record.created_at
    entry.records.append(record)


def _file_selections(run: WorkerRun, loop: str, index: EvidenceIndex) -> None:
    """Note which chain keys a worker run selected, once per key."""
    keys = {(loop, d.health_id, norm_provider(d.provider)) for d in (run.body.selected_retries if run.body else [])}
    for key in sorted(keys):
        index.selections[key].append(run)


def _file_alert(record: Health | AlertPlan | AlertAck, index: EvidenceIndex) -> None:
    """File a health record, an alert plan or an alert ack under its loop."""
    loop = index.loop(record.loop or "")
    if isinstance(record, Health):
        loop.health.append(record)
        index.known_ids.update(i for i in (record.health_id,) if i)
    elif isinstance(record, AlertPlan):
        loop.plans.append(record)
        index.known_ids.update(i for i in (record.plan_id,) if i)
    else:
        loop.acks.append(record)


def _file_other(record: Envelope, index: EvidenceIndex) -> None:
    """File the notification and final-reporting records."""
    if isinstance(record, NotificationPlan):
        index.notification_plans.append(record)
        index.known_ids.update(i for i in (record.plan_id,) if i)
    elif isinstance(record, NotificationAck):
        index.notification_acks.append(record)
    elif isinstance(record, ReadinessSummary):
        index.readiness_summaries.append(record)
    elif isinstance(record, RunbookExport):
        index.runbook_exports.append(record)
