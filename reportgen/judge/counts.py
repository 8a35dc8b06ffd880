"""The summary's counts, typed: per kind, per loop and per outcome, plus the upstream dashboard counts.

They serialise to the keys `summary.json` has always carried. A count a pack does not have (a
summary written by a reportgen that did not count it, or a loop without retry machinery, which has
no retry counts rather than zero of them) reads as None and is written back absent, so diff,
--history and verify read packs built earlier, and unknown keys are kept as read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer


class Counted(BaseModel):
    """Base of the count models: unknown keys kept, a count the pack does not have left absent."""

    model_config = ConfigDict(extra="allow")

    @model_serializer(mode="wrap")
    def _present(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave out the optional counts that are not there, as the pack was written."""
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        return {k: v for k, v in data.items() if v is not None or k not in fields or fields[k].is_required()}


class ChainCounts(Counted):
    """A loop's delivery chains: every chain, and those that failed split by how they stand."""

    total: int
    failed: int
    resolved: int
    open: int
    superseded: int | None = None


class AckCounts(Counted):
    """A loop's acknowledgement records by state."""

    acknowledged: int
    resolved: int
    dismissed: int
    escalated: int


class RetryDecisionCounts(Counted):
    """A loop's retry decisions by action."""

    retry: int
    wait: int
    suppress: int


class WorkerRunCounts(Counted):
    """A loop's retry worker runs, live and dry."""

    live: int
    dry_run: int


class ExecutionCounts(Counted):
    """A loop's retry execution records by status."""

    delivered: int
    failed: int
    skipped: int


class LoopCounts(Counted):
    """The counts of one alert loop; the retry counts only for a loop with retry machinery."""

    health_records: int
    alert_plans: int
    deliveries: int
    delivery_successes: int
    delivery_failures: int
    chains: ChainCounts
    acknowledgements: AckCounts
    acknowledgements_required: int
    acknowledgements_outstanding: int
    retry_plans: int | None = None
    retry_decisions: RetryDecisionCounts | None = None
    worker_runs: WorkerRunCounts | None = None
    executions: ExecutionCounts | None = None


class NotificationCounts(Counted):
    """Notification plans and acknowledgements, and the routes still outstanding."""

    plans: int
    acknowledgements: int
    outstanding_acknowledgements: int


class DeliveryCounts(Counted):
    """Deliveries from one source outside the alert loops."""

    deliveries: int
    failures: int


class Timeline(Counted):
    """Records per alert loop, timeline lane and UTC day, of all the evidence read (days without any left out)."""

    bucket: Literal["day"] = "day"
    # The UTC days of the oldest and newest record read, of any kind: the span the timeline covers.
    first: str | None = None
    last: str | None = None
    loops: dict[str, dict[str, dict[str, int]]] = Field(
        description='Alert loop -> timeline lane (deliveries, failures, retry_decisions, worker_runs, executions, '
        'acknowledgements) -> UTC day as "YYYY-MM-DD" -> records of that lane made that day.'
    )


class Counts(Counted):
    """Every count of a summary. `cavra` holds upstream's dashboard counts by their upstream names."""

    records: int
    by_kind: dict[str, int]
    outside_closure: dict[str, int] | None = None
    unjudged: dict[str, int] | None = None
    loops: dict[str, LoopCounts]
    notification: NotificationCounts
    other_deliveries: dict[str, DeliveryCounts]
    readiness_summaries: int
    runbook_exports: int
    cavra: dict[str, int]
    # Absent from summaries of a reportgen that did not count it.
    timeline: Timeline | None = None


# The counts are published unconstrained (their keys depend on the loops and on upstream's names),
# except the timeline, whose shape a reader of summary.json needs to know to draw it.
COUNTS_SCHEMA: dict[str, Any] = {
    "title": "Counts",
    "type": "object",
    "properties": {"timeline": Timeline.model_json_schema(mode="validation")},
}
