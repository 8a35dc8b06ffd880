"""Pydantic models of the CAVRA evidence records that reportgen reads.

Each model reads the envelope fields (and the few nested fields) that the rules need and keeps
every other key as an extra, so nothing of a record is lost. Field types are strict: a wrong type
in a field the rules read rejects the record with a reason instead of being coerced.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    TypeAdapter,
    ValidationInfo,
)

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


def parse_timestamp(value: Any, naive: list[str] | None = None, field: str = "timestamp") -> datetime:
    """Parse an ISO-8601 string to an aware UTC datetime; a naive one is read as UTC and noted."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {value[:40]!r}") from None
    else:
        raise ValueError(f"a timestamp must be an ISO-8601 string, not {type(value).__name__}")
    if parsed.tzinfo is None:
        if naive is not None:
            naive.append(field)
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"timestamp out of range: {value!r}") from None


def _validate_timestamp(value: Any, info: ValidationInfo) -> datetime:
    """Validate a timestamp field, noting a naive one in the validation context."""
    return parse_timestamp(value, (info.context or {}).get("naive"), info.field_name or "timestamp")


UtcDateTime = Annotated[datetime, BeforeValidator(_validate_timestamp)]


class Lenient(BaseModel):
    """Base of nested parts: strict types for what is read, every other key kept."""

    model_config = ConfigDict(extra="allow", strict=True, populate_by_name=True)


class Provenance(BaseModel):
    """Where a record was read: file, line (NDJSON) or array index (JSON), and the file's sha256."""

    model_config = ConfigDict(frozen=True)

    source: str
    line: int | None
    sha256: str


class Envelope(Lenient):
    """The common envelope of every stored CAVRA evidence record (reference §2)."""

    session_id: Annotated[str, Field(min_length=1)]
    created_at: UtcDateTime
    metadata_kind: str
    signer: str | None = None
    _provenance: Provenance | None = PrivateAttr(default=None)

    @property
    def provenance(self) -> Provenance:
        """Where this record was read."""
        assert self._provenance is not None, "records get their provenance from the loader"
        return self._provenance

    @property
    def loop(self) -> Loop | None:
        """The alert loop of this record's kind, if any."""
        return loop_of_kind(self.metadata_kind)


class Delivery(DeliveryBehaviour, Envelope):
    """Kind A, `release-connector-delivery`: one connector delivery attempt over some providers."""

    metadata_kind: Literal[DELIVERY]  # type: ignore[valid-type]
    connector_delivery_source: str = ""
    event_id: str = ""
    delivery_success: bool
    providers: list[str] = []
    failed_providers: list[str] = []
    status_codes: list[int | None] = []
    health_id: str | None = None
    plan_id: str | None = None
    retry_plan_id: str | None = None
    worker_run_id: str | None = None


class Health(Envelope):
    """Kinds B, E and H2: an alert loop's health record."""

    metadata_kind: Literal[EXEC_HEALTH, REC_HEALTH, ARCHIVE_HEALTH]  # type: ignore[valid-type]
    health_id: str | None = None
    alert_level: str | None = None


class AlertPlanBody(Lenient):
    """The nested alert plan fields used as a fallback for the envelope copies."""

    acknowledgement_required_providers: list[str] = []


class AlertPlan(AlertPlanBehaviour, Envelope):
    """Kinds C1 and E: a retry health alert plan, its nested record under either retry loop's key."""

    metadata_kind: Literal[EXEC_PLAN, REC_PLAN]  # type: ignore[valid-type]
    plan_id: str | None = None
    health_id: str = ""
    alert_level: str | None = None
    selected_providers: list[str] = []
    suppressed_providers: list[str | dict[str, Any]] = []
    acknowledgement_required_providers: list[str] | None = None
    body: AlertPlanBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_PLAN], NESTED_KEY[REC_PLAN])
    )


class ArchiveAlertPlan(AlertPlan):
    """Kind H3: an archive reference health alert plan; its nested record has the loop's own key."""

    metadata_kind: Literal[ARCHIVE_PLAN]  # type: ignore[valid-type]
    body: AlertPlanBody | None = Field(default=None, validation_alias=NESTED_KEY[ARCHIVE_PLAN])


class ArchiveReference(Envelope):
    """Kind H1: an immutable archive reference, counted with its loop (no rule reads it)."""

    metadata_kind: Literal[ARCHIVE_REFERENCE]  # type: ignore[valid-type]
    reference_id: str | None = None


AckState = Literal["acknowledged", "dismissed", "escalated", "resolved"]
CLEARING_ACK_STATES = frozenset({"acknowledged", "resolved"})


class AlertAck(Envelope):
    """Kinds C2, E and H6: an acknowledgement of a health alert by one provider."""

    metadata_kind: Literal[EXEC_ACK, REC_ACK, ARCHIVE_ACK]  # type: ignore[valid-type]
    acknowledgement_id: str | None = None
    health_id: str
    plan_id: str | None = None
    provider: str
    acknowledgement_state: AckState


class RetryDecision(Lenient):
    """One decision of a delivery retry plan for a (health_id, provider) key (reference §6.1)."""

    health_id: str = ""
    plan_id: str = ""
    provider: str
    action: Literal["retry", "wait", "suppress"]
    reason: str = ""
    retry_count: int = 0
    max_retry_attempts: int | None = None
    latest_delivery_id: str = ""
    next_retry_at: UtcDateTime | None = None


class RetryPlanBody(Lenient):
    """The nested retry plan: its id and its decisions."""

    retry_plan_id: str | None = None
    retry_decisions: list[RetryDecision] = []


class RetryPlan(RetryPlanBehaviour, Envelope):
    """Kinds D1 and E4: a delivery retry plan."""

    metadata_kind: Literal[EXEC_RETRY_PLAN, REC_RETRY_PLAN]  # type: ignore[valid-type]
    retry_plan_id: str | None = None
    body: RetryPlanBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_RETRY_PLAN], NESTED_KEY[REC_RETRY_PLAN])
    )


class WorkerRunBody(Lenient):
    """The nested worker run: the retry plan it used and the retries it selected."""

    dry_run: bool | None = None
    retry_plan: RetryPlanBody | None = None
    selected_retries: list[RetryDecision] = []


class WorkerRun(WorkerRunBehaviour, Envelope):
    """Kinds D2 and E5: a delivery retry worker run, dry-run unless explicitly executed."""

    metadata_kind: Literal[EXEC_WORKER, REC_WORKER]  # type: ignore[valid-type]
    run_id: str | None = None
    dry_run: bool
    body: WorkerRunBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_WORKER], NESTED_KEY[REC_WORKER])
    )


class ExecutionBody(Lenient):
    """The nested execution record fields the envelope does not copy."""

    latest_delivery_id: str = ""
    delivery_metadata_id: str = ""
    skipped: str = ""


class Execution(ExecutionBehaviour, Envelope):
    """Kinds D3/D4 and E6: one live retry execution of a selected decision."""

    metadata_kind: Literal[EXEC_EXECUTION, REC_EXECUTION]  # type: ignore[valid-type]
    execution_id: str | None = None
    execution_status: Literal["delivered", "failed", "skipped"]
    worker_run_id: str = ""
    health_id: str
    retry_plan_id: str = ""
    plan_id: str = ""
    provider: str
    delivery_success: bool | None = None
    body: ExecutionBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_EXECUTION], NESTED_KEY[REC_EXECUTION])
    )


class NotificationPlanBody(Lenient):
    """The nested notification plan fields the outstanding-ack count reads."""

    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] = []


class NotificationPlan(NotificationPlanBehaviour, Envelope):
    """Kind F1: a rollback-drill notification plan for one schedule."""

    metadata_kind: Literal[NOTIFICATION_PLAN]  # type: ignore[valid-type]
    plan_id: str | None = None
    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] | None = None
    body: NotificationPlanBody | None = Field(default=None, validation_alias=NESTED_KEY[NOTIFICATION_PLAN])


class NotificationAck(Envelope):
    """Kind F2: an acknowledgement of a notification route."""

    metadata_kind: Literal[NOTIFICATION_ACK]  # type: ignore[valid-type]
    schedule_id: str
    provider: str
    acknowledgement_state: AckState


class ReadinessSummary(Envelope):
    """Kind G1: a release-readiness summary as CAVRA computed it."""

    metadata_kind: Literal[READINESS_SUMMARY]  # type: ignore[valid-type]
    summary_id: str | None = None
    readiness_state: str | None = None
    closure_state: str | None = None


class RunbookExport(Envelope):
    """Kind G2: an operator runbook export as CAVRA wrote it."""

    metadata_kind: Literal[RUNBOOK_EXPORT]  # type: ignore[valid-type]
    export_id: str | None = None
    readiness_summary_id: str | None = None
    readiness_state: str | None = None
    closure_state: str | None = None


EvidenceRecord = Annotated[
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
    | RunbookExport,
    Field(discriminator="metadata_kind"),
]
RECORD_ADAPTER: TypeAdapter[EvidenceRecord] = TypeAdapter(EvidenceRecord)


def record_json(record: Envelope) -> dict[str, Any]:
    """A record as the loader read it: every key it had, its nested record under the kind's own key."""
    data = record.model_dump(mode="json", exclude_unset=True)
    # The models read a kind's nested record into `body`; in the evidence it has the kind's name.
    if "body" in data:
        data[NESTED_KEY[record.metadata_kind]] = data.pop("body")
    return data


def evidence_schema() -> dict[str, Any]:
    """The JSON Schema of one evidence record, as reportgen validates it."""
    schema = RECORD_ADAPTER.json_schema(mode="validation")
    schema["title"] = "reportgen evidence record (CAVRA evidence metadata envelope)"
    return schema
