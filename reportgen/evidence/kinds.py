"""Every record kind reportgen understands, described once: `KINDS`.

A kind's row says what its records are called (`metadata_kind`), the key its nested record sits
under, the alert loop it belongs to, its label in the views and the timeline lanes its records are
drawn on. The schema models, the lean structs, the loader, the rules and the views read this table;
adding a kind is one more row here, its model in `schema` (and struct in `lean`), and its fold in
the ledger. An alert loop's kinds and nested keys come from its `loops.LoopSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from reportgen.evidence.loops import ARCHIVE, DELIVERY, EXECUTIVE, LOOPS, PREFIX, RECOVERY

Loop = Literal["executive", "recovery", "archive"]

EXEC_HEALTH, REC_HEALTH, ARCHIVE_HEALTH = EXECUTIVE.health, RECOVERY.health, ARCHIVE.health
EXEC_PLAN, REC_PLAN, ARCHIVE_PLAN = EXECUTIVE.plan, RECOVERY.plan, ARCHIVE.plan
EXEC_ACK, REC_ACK, ARCHIVE_ACK = EXECUTIVE.ack, RECOVERY.ack, ARCHIVE.ack
EXEC_RETRY_PLAN, REC_RETRY_PLAN = EXECUTIVE.retry_plan, RECOVERY.retry_plan
EXEC_WORKER, REC_WORKER = EXECUTIVE.worker, RECOVERY.worker
EXEC_EXECUTION, REC_EXECUTION = EXECUTIVE.execution, RECOVERY.execution
NOTIFICATION_PLAN = "go-backend-rollback-drill-notification-plan"
NOTIFICATION_ACK = "go-backend-rollback-drill-notification-ack"
READINESS_SUMMARY = f"{PREFIX}-final-reporting-release-readiness-summary"
RUNBOOK_EXPORT = f"{PREFIX}-final-reporting-operator-runbook-export"

# The lanes of the evidence timeline, in the order drawn, and their titles.
LANES: dict[str, str] = {
    "deliveries": "Deliveries",
    "failures": "Failures",
    "retry_decisions": "Retry decisions",
    "worker_runs": "Worker runs",
    "executions": "Executions",
    "acknowledgements": "Acknowledgements",
}


@dataclass(frozen=True)
class Kind:
    """One record kind: its name, nested key, loop, label and timeline lanes."""

    metadata_kind: str
    # The key under which the kind nests its full record (reference §3-§9, H).
    nested_key: str
    loop: Loop | None
    label: str
    # The end of the kind's name that its label goes by: a kind of the same shape in a loop this
    # version does not know is labelled alike.
    suffix: str
    lanes: tuple[str, ...] = ()


# The shapes of record, by the end of their kind's name: (suffix, label, timeline lanes).
SHAPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("release-connector-delivery", "delivery", ("deliveries", "failures")),
    ("-retry-health", "retry health", ()),
    ("-archive-reference-health", "archive reference health", ()),
    ("-immutable-archive-reference", "archive reference", ()),
    ("-alert-plan", "alert plan", ()),
    ("-alert-ack", "alert acknowledgement", ("acknowledgements",)),
    ("-delivery-retry-plan", "retry plan", ("retry_decisions",)),
    ("-delivery-retry-worker-run", "retry worker run", ("worker_runs",)),
    ("-delivery-retry-execution-record", "retry execution", ("executions",)),
    ("-notification-plan", "notification plan", ()),
    ("-notification-ack", "notification acknowledgement", ()),
    ("-release-readiness-summary", "readiness summary", ()),
    ("-operator-runbook-export", "runbook export", ()),
)


def _kind(metadata_kind: str, nested_key: str, loop: str | None = None) -> Kind:
    """A kind's row, its label and lanes those of its shape."""
    suffix, label, lanes = next(shape for shape in SHAPES if metadata_kind.endswith(shape[0]))
    return Kind(metadata_kind, nested_key, loop, label, suffix, lanes)  # type: ignore[arg-type]


KINDS: tuple[Kind, ...] = (
    _kind(DELIVERY, "delivery"),
    *(_kind(kind, key, spec.name) for spec in LOOPS for kind, key in spec.kinds.items()),
    _kind(NOTIFICATION_PLAN, "plan"),
    _kind(NOTIFICATION_ACK, "acknowledgement"),
    _kind(READINESS_SUMMARY, "final_reporting_release_readiness_summary"),
    _kind(RUNBOOK_EXPORT, "final_reporting_operator_runbook_export"),
)
BY_KIND: dict[str, Kind] = {kind.metadata_kind: kind for kind in KINDS}
KNOWN_KINDS: frozenset[str] = frozenset(BY_KIND)
NESTED_KEY: dict[str, str] = {kind.metadata_kind: kind.nested_key for kind in KINDS}
LOOP_OF_KIND: dict[str, Loop] = {kind.metadata_kind: kind.loop for kind in KINDS if kind.loop is not None}
# (suffix, label) of every shape a known kind has, for labelling any kind by the end of its name.
KIND_LABELS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys((kind.suffix, kind.label) for kind in KINDS))


def loop_of_kind(kind: str) -> Loop | None:
    """The alert loop a kind belongs to, or None for kinds outside every loop."""
    return LOOP_OF_KIND.get(kind)
