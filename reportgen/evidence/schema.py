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

from reportgen.evidence.loops import (
    ARCHIVE,
    ARCHIVE_REFERENCE,
    DELIVERY,
    EXECUTIVE,
    LOOP_OF_KIND,
    LOOP_OF_SOURCE,
    LOOPS,
    PREFIX,
    RECOVERY,
)

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

Loop = Literal["executive", "recovery", "archive"]

# The kind-specific key under which each kind nests its full record (reference §3-§9, H).
NESTED_KEY: dict[str, str] = {
    DELIVERY: "delivery",
    **{kind: key for spec in LOOPS for kind, key in spec.kinds.items()},
    NOTIFICATION_PLAN: "plan",
    NOTIFICATION_ACK: "acknowledgement",
    READINESS_SUMMARY: "final_reporting_release_readiness_summary",
    RUNBOOK_EXPORT: "final_reporting_operator_runbook_export",
}
KNOWN_KINDS: frozenset[str] = frozenset(NESTED_KEY)


def loop_of_kind(kind: str) -> Loop | None:
    """Return the alert loop a kind belongs to, or None for kinds outside every loop."""
    return LOOP_OF_KIND.get(kind)  # type: ignore[return-value]


def provider_outcomes(providers: list[str], failed_providers: list[str], success: bool) -> list[tuple[str, bool]]:
    """Per provider of a delivery, whether it succeeded for that provider (upstream grouping rule).

    A failed delivery that names no failed provider failed for all of them.
    """
    failed = set(failed_providers)
    if not failed and not success:
        failed = set(providers)
    return [(p, p not in failed) for p in sorted(set(providers) | failed)]


def required_of(envelope: list[str] | None, nested: list[str], selected: list[str]) -> list[str]:
    """Who an alert plan requires to acknowledge: the envelope copy, else the nested list, else the
    selected providers (upstream makes the lists one; a plan missing both never requires nobody)."""
    if envelope is not None:
        return envelope
    return nested or selected


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


class Delivery(Envelope):
    """Kind A, `release-connector-delivery`: one connector delivery attempt over some providers."""

    metadata_kind: Literal["release-connector-delivery"]
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

    @property
    def delivery_loop(self) -> Loop | None:
        """The alert loop this delivery belongs to, judged by its source."""
        return LOOP_OF_SOURCE.get(self.connector_delivery_source)

    @property
    def chain_id(self) -> str:
        """The health id of the chain, falling back to the event id exactly as upstream does."""
        return self.health_id or self.event_id

    def outcomes(self) -> list[tuple[str, bool]]:
        """Per provider, whether this delivery succeeded for it (upstream grouping rule)."""
        return provider_outcomes(self.providers, self.failed_providers, self.delivery_success)


class Health(Envelope):
    """Kinds B, E and H2: an alert loop's health record."""

    metadata_kind: Literal[EXEC_HEALTH, REC_HEALTH, ARCHIVE_HEALTH]  # type: ignore[valid-type]
    health_id: str | None = None
    alert_level: str | None = None


class AlertPlanBody(Lenient):
    """The nested alert plan fields used as a fallback for the envelope copies."""

    acknowledgement_required_providers: list[str] = []


class AlertPlan(Envelope):
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

    def required_providers(self) -> list[str]:
        """Providers that must acknowledge: the envelope copy, else the nested list, else the
        selected providers (upstream makes the two lists one; a plan missing both never reads as
        requiring nobody)."""
        nested = self.body.acknowledgement_required_providers if self.body else []
        return required_of(self.acknowledgement_required_providers, nested, self.selected_providers)


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


class RetryPlan(Envelope):
    """Kinds D1 and E4: a delivery retry plan."""

    metadata_kind: Literal[EXEC_RETRY_PLAN, REC_RETRY_PLAN]  # type: ignore[valid-type]
    retry_plan_id: str | None = None
    body: RetryPlanBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_RETRY_PLAN], NESTED_KEY[REC_RETRY_PLAN])
    )

    @property
    def plan_key(self) -> str:
        """The plan's id: the envelope copy, else the nested id, else the session id."""
        return self.retry_plan_id or (self.body.retry_plan_id if self.body else None) or self.session_id


class WorkerRunBody(Lenient):
    """The nested worker run: the retry plan it used and the retries it selected."""

    dry_run: bool | None = None
    retry_plan: RetryPlanBody | None = None
    selected_retries: list[RetryDecision] = []


class WorkerRun(Envelope):
    """Kinds D2 and E5: a delivery retry worker run, dry-run unless explicitly executed."""

    metadata_kind: Literal[EXEC_WORKER, REC_WORKER]  # type: ignore[valid-type]
    run_id: str | None = None
    dry_run: bool
    body: WorkerRunBody | None = Field(
        default=None, validation_alias=AliasChoices(NESTED_KEY[EXEC_WORKER], NESTED_KEY[REC_WORKER])
    )

    @property
    def run_key(self) -> str:
        """The run's id: the envelope copy, else the session id."""
        return self.run_id or self.session_id

    @property
    def retry_plan_id(self) -> str | None:
        """The id of the retry plan this run embedded, if any."""
        plan = self.body.retry_plan if self.body else None
        return plan.retry_plan_id if plan else None


class ExecutionBody(Lenient):
    """The nested execution record fields the envelope does not copy."""

    latest_delivery_id: str = ""
    delivery_metadata_id: str = ""
    skipped: str = ""


class Execution(Envelope):
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

    @property
    def succeeded(self) -> bool:
        """Whether the redelivery went through."""
        return self.execution_status == "delivered"


class NotificationPlanBody(Lenient):
    """The nested notification plan fields the outstanding-ack count reads."""

    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] = []


class NotificationPlan(Envelope):
    """Kind F1: a rollback-drill notification plan for one schedule."""

    metadata_kind: Literal["go-backend-rollback-drill-notification-plan"]
    plan_id: str | None = None
    schedule_id: str | None = None
    acknowledgement_required_providers: list[str] | None = None
    body: NotificationPlanBody | None = Field(default=None, validation_alias="plan")

    @property
    def schedule_key(self) -> str:
        """The schedule id: the envelope copy first, then the nested one (upstream order)."""
        return self.schedule_id or (self.body.schedule_id if self.body else None) or ""

    def required_providers(self) -> list[str]:
        """Providers that must acknowledge: the nested list, as upstream reads it."""
        if self.body is not None:
            return self.body.acknowledgement_required_providers
        return self.acknowledgement_required_providers or []


class NotificationAck(Envelope):
    """Kind F2: an acknowledgement of a notification route."""

    metadata_kind: Literal["go-backend-rollback-drill-notification-ack"]
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
