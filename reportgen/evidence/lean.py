"""Lean evidence records: only the fields the rules read, decoded straight from a record's JSON.

The pydantic models in `schema` are the published schema and the authority on what a valid record
is; these msgspec structs mirror them field for field (same names, same strict types, same
defaults) so that a record accepted here is a record the schema accepts, at a fraction of the
cost. Keys the rules do not read are skipped by the decoder, never built. Anything the decoder
refuses goes back to the pydantic models for the one-line reason (see `reader`), and
tests/test_lean.py holds the two to the same verdict on mutated records.

What a record means beyond its fields (`behaviour`) is one mixin shared with its model. Timestamps
stay strings here: `schema.parse_timestamp` reads them, so both paths share one rule.
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from reportgen.evidence.behaviour import (
    AlertPlanBehaviour,
    DeliveryBehaviour,
    ExecutionBehaviour,
    NotificationPlanBehaviour,
    RetryPlanBehaviour,
    WorkerRunBehaviour,
)
from reportgen.evidence.kinds import (
    ARCHIVE_ACK,
    ARCHIVE_HEALTH,
    ARCHIVE_PLAN,
    EXEC_ACK,
    EXEC_EXECUTION,
    EXEC_HEALTH,
    EXEC_PLAN,
    EXEC_RETRY_PLAN,
    EXEC_WORKER,
    NESTED_KEY,
    NOTIFICATION_ACK,
    NOTIFICATION_PLAN,
    READINESS_SUMMARY,
    REC_ACK,
    REC_EXECUTION,
    REC_HEALTH,
    REC_PLAN,
    REC_RETRY_PLAN,
    REC_WORKER,
    RUNBOOK_EXPORT,
    Loop,
    loop_of_kind,
)
from reportgen.evidence.loops import ARCHIVE_REFERENCE, DELIVERY

AckState = Literal["acknowledged", "dismissed", "escalated", "resolved"]
NonEmpty = Annotated[str, Meta(min_length=1)]
# orjson, and so the schema, reads a whole number outside these bounds as a float, which the
# schema's int fields refuse; msgspec reads it as an int (and cannot bound it past int64).
WHOLE = range(-(2**63), 2**64)


def whole_numbers(record: Lean, decisions: list[RetryDecision]) -> bool:
    """Whether every whole number the rules read is one the schema reads as a whole number too."""
    numbers = [*getattr(record, "status_codes", ())]
    numbers += [n for d in decisions for n in (d.retry_count, d.max_retry_attempts)]
    return all(n is None or n in WHOLE for n in numbers)


P = TypeVar("P")


def either(exec_body: object, rec_body: object, kind: type[P]) -> P | None:
    """A nested record under either loop's key: the first key present, as the schema reads it."""
    body = exec_body if exec_body is not UNSET else rec_body
    return body if isinstance(body, kind) else None


class Part(msgspec.Struct, kw_only=True, gc=False):
    """Base of the nested parts: unknown keys are skipped, never kept."""


class Lean(msgspec.Struct, tag_field="metadata_kind", kw_only=True, gc=False):
    """The envelope every record has (reference §2)."""

    session_id: NonEmpty
    created_at: str
    signer: str | None = None
    # Set on each kind's struct (below): read for every record, so never computed per record.
    metadata_kind: ClassVar[str] = ""
    loop: ClassVar[Loop | None] = None
    # The nested record's type, for kinds whose nested record may sit under either loop's key.
    BODY: ClassVar[type | None] = None

    def settle(self) -> None:
        """Read the nested record under the second loop's key, when the first is absent.

        The schema takes the first of the two keys present and ignores the other, so the second
        is kept raw by the decoder and only read here when it is the one that counts.
        """
        if self.BODY is None or self.exec_body is not UNSET:
            return
        raw = self.rec_body
        if isinstance(raw, msgspec.Raw):
            self.rec_body = msgspec.json.decode(raw, type=self.BODY | None)  # type: ignore[attr-defined]


class Delivery(Lean, DeliveryBehaviour, tag=DELIVERY):
    """Kind A: one connector delivery attempt."""

    delivery_success: bool
    connector_delivery_source: str = ""
    event_id: str = ""
    providers: list[str] = []
    failed_providers: list[str] = []
    status_codes: list[int | None] = []
    health_id: str | None = None
    plan_id: str | None = None
    retry_plan_id: str | None = None
    worker_run_id: str | None = None


class Health(Lean):
    """Kinds B, E and H2: an alert loop's health record."""

    health_id: str | None = None
    alert_level: str | None = None


class AlertPlanBody(Part):
    """The nested alert plan's required providers (the fallback for the envelope copy)."""

    acknowledgement_required_providers: list[str] = []


class AlertPlan(Lean, AlertPlanBehaviour):
    """Kinds C1 and E: a retry health alert plan; its nested body may sit under either loop's key."""

    plan_id: str | None = None
    health_id: str = ""
    alert_level: str | None = None
    selected_providers: list[str] = []
    suppressed_providers: list[str | dict[str, Any]] = []
    acknowledgement_required_providers: list[str] | None = None
    exec_body: AlertPlanBody | None | UnsetType = field(default=UNSET, name=NESTED_KEY[EXEC_PLAN])
    # Kept raw; read (into a body or None) only when the first key is absent (see `settle`).
    rec_body: msgspec.Raw | UnsetType = field(default=UNSET, name=NESTED_KEY[REC_PLAN])
    BODY: ClassVar[type | None] = AlertPlanBody

    @property
    def body(self) -> AlertPlanBody | None:
        """The nested plan, read from the first of the two keys present (as the schema reads it)."""
        return either(self.exec_body, self.rec_body, AlertPlanBody)


class ArchiveAlertPlan(Lean, AlertPlanBehaviour, tag=ARCHIVE_PLAN):
    """Kind H3: an archive reference health alert plan; its nested record has the loop's own key."""

    plan_id: str | None = None
    health_id: str = ""
    alert_level: str | None = None
    selected_providers: list[str] = []
    suppressed_providers: list[str | dict[str, Any]] = []
    acknowledgement_required_providers: list[str] | None = None
    body: AlertPlanBody | None = field(default=None, name=NESTED_KEY[ARCHIVE_PLAN])


class ArchiveReference(Lean, tag=ARCHIVE_REFERENCE):
    """Kind H1: an immutable archive reference, counted with its loop (no rule reads it)."""

    reference_id: str | None = None


class AlertAck(Lean):
    """Kinds C2, E and H6: an acknowledgement of a health alert by one provider."""

    health_id: str
    provider: str
    acknowledgement_state: AckState
    acknowledgement_id: str | None = None
    plan_id: str | None = None


class RetryDecision(Part):
    """One retry decision for a (health_id, provider) key (reference §6.1)."""

    provider: str
    action: Literal["retry", "wait", "suppress"]
    health_id: str = ""
    plan_id: str = ""
    reason: str = ""
    retry_count: int = 0
    max_retry_attempts: int | None = None
    latest_delivery_id: str = ""
    next_retry_at: str | None = None


class RetryPlanBody(Part):
    """A nested retry plan: its id and its decisions."""

    retry_plan_id: str | None = None
    retry_decisions: list[RetryDecision] = []


class RetryPlan(Lean, RetryPlanBehaviour):
    """Kinds D1 and E4: a delivery retry plan; its body may sit under either loop's key."""

    retry_plan_id: str | None = None
    exec_body: RetryPlanBody | None | UnsetType = field(default=UNSET, name=NESTED_KEY[EXEC_RETRY_PLAN])
    # Kept raw; read (into a body or None) only when the first key is absent (see `settle`).
    rec_body: msgspec.Raw | UnsetType = field(default=UNSET, name=NESTED_KEY[REC_RETRY_PLAN])
    BODY: ClassVar[type | None] = RetryPlanBody

    @property
    def body(self) -> RetryPlanBody | None:
        """The nested plan, read from the first of the two keys present (as the schema reads it)."""
        return either(self.exec_body, self.rec_body, RetryPlanBody)


class WorkerRunBody(Part):
    """A nested worker run: the retry plan it used and the retries it selected."""

    dry_run: bool | None = None
    retry_plan: RetryPlanBody | None = None
    selected_retries: list[RetryDecision] = []


class WorkerRun(Lean, WorkerRunBehaviour):
    """Kinds D2 and E5: a retry worker run, dry-run unless explicitly executed."""

    dry_run: bool
    run_id: str | None = None
    exec_body: WorkerRunBody | None | UnsetType = field(default=UNSET, name=NESTED_KEY[EXEC_WORKER])
    # Kept raw; read (into a body or None) only when the first key is absent (see `settle`).
    rec_body: msgspec.Raw | UnsetType = field(default=UNSET, name=NESTED_KEY[REC_WORKER])
    BODY: ClassVar[type | None] = WorkerRunBody

    @property
    def body(self) -> WorkerRunBody | None:
        """The nested run, read from the first of the two keys present."""
        return either(self.exec_body, self.rec_body, WorkerRunBody)


class ExecutionBody(Part):
    """The nested execution record fields the envelope does not copy."""

    latest_delivery_id: str = ""
    delivery_metadata_id: str = ""
    skipped: str = ""


class Execution(Lean, ExecutionBehaviour):
    """Kinds D3/D4 and E6: one live retry execution of a selected decision."""

    execution_status: Literal["delivered", "failed", "skipped"]
    health_id: str
    provider: str
    execution_id: str | None = None
    worker_run_id: str = ""
    retry_plan_id: str = ""
    plan_id: str = ""
    delivery_success: bool | None = None
    exec_body: ExecutionBody | None | UnsetType = field(default=UNSET, name=NESTED_KEY[EXEC_EXECUTION])
    # Kept raw; read (into a body or None) only when the first key is absent (see `settle`).
    rec_body: msgspec.Raw | UnsetType = field(default=UNSET, name=NESTED_KEY[REC_EXECUTION])
    BODY: ClassVar[type | None] = ExecutionBody

    @property
    def body(self) -> ExecutionBody | None:
        """The nested record, read from the first of the two keys present."""
        return either(self.exec_body, self.rec_body, ExecutionBody)


class NotificationPlanBody(Part):
    """The nested notification plan fields the outstanding-ack count reads."""

    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] = []


class NotificationPlan(Lean, NotificationPlanBehaviour, tag=NOTIFICATION_PLAN):
    """Kind F1: a rollback-drill notification plan for one schedule."""

    plan_id: str | None = None
    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] | None = None
    body: NotificationPlanBody | None = field(default=None, name=NESTED_KEY[NOTIFICATION_PLAN])


class NotificationAck(Lean, tag=NOTIFICATION_ACK):
    """Kind F2: an acknowledgement of a notification route."""

    schedule_id: str
    provider: str
    acknowledgement_state: AckState


class ReadinessSummary(Lean, tag=READINESS_SUMMARY):
    """Kind G1: a release-readiness summary as CAVRA computed it."""

    summary_id: str | None = None
    readiness_state: str | None = None
    closure_state: str | None = None


class RunbookExport(Lean, tag=RUNBOOK_EXPORT):
    """Kind G2: an operator runbook export as CAVRA wrote it."""

    export_id: str | None = None
    readiness_summary_id: str | None = None
    readiness_state: str | None = None
    closure_state: str | None = None


def _tagged(base: type[Lean], *kinds: str) -> list[type[Lean]]:
    """One struct per kind (the alert loops share a shape but not a tag), importable by name."""
    made = []
    for kind in kinds:
        name = f"{str(loop_of_kind(kind)).title()}{base.__name__}"
        made.append(type(name, (base,), {"__module__": __name__, "__qualname__": name}, tag=kind))  # type: ignore[call-arg]
        globals()[name] = made[-1]
    return made


KINDS: tuple[type[Lean], ...] = (
    Delivery,
    *_tagged(Health, EXEC_HEALTH, REC_HEALTH, ARCHIVE_HEALTH),
    *_tagged(AlertPlan, EXEC_PLAN, REC_PLAN),
    ArchiveAlertPlan,
    ArchiveReference,
    *_tagged(AlertAck, EXEC_ACK, REC_ACK, ARCHIVE_ACK),
    *_tagged(RetryPlan, EXEC_RETRY_PLAN, REC_RETRY_PLAN),
    *_tagged(WorkerRun, EXEC_WORKER, REC_WORKER),
    *_tagged(Execution, EXEC_EXECUTION, REC_EXECUTION),
    NotificationPlan,
    NotificationAck,
    ReadinessSummary,
    RunbookExport,
)
for _kind in KINDS:
    _kind.metadata_kind = _kind.__struct_config__.tag  # type: ignore[assignment]
    _kind.loop = loop_of_kind(_kind.metadata_kind)

Record = (
    Delivery
    | Health
    | AlertPlan
    | ArchiveAlertPlan
    | ArchiveReference
    | AlertAck
    | RetryPlan
    | WorkerRun
    | Execution
    | NotificationPlan
    | NotificationAck
    | ReadinessSummary
    | RunbookExport
)
DECODER: msgspec.json.Decoder[Record] = msgspec.json.Decoder(functools.reduce(operator.or_, KINDS))
