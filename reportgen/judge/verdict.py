"""The typed results of the rules: open items, warnings, readiness checks and the verdict.

These models are the contract that the summary publishes and every renderer reads.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_serializer, field_validator
from pydantic.fields import FieldInfo

from reportgen.evidence.loops import LOOPS
from reportgen.judge.counts import Counts

Severity = Literal["critical", "warning"]
RetryState = Literal["exhausted", "waiting", "execution_failed", "dry_run_only", "retry_pending", "no_retry_plan"]
CheckStatus = Literal["pass", "fail", "warning"]
RulesMode = Literal["chain", "cavra"]
ItemStatus = Literal["open", "deviation-approved", "closed"]

SEVERITY_ORDER = {"critical": 0, "warning": 1}


class RetryStateWords(NamedTuple):
    """A retry state in words: as an open chain's title ends, and as the documents label it."""

    title: str
    label: str


RETRY_STATES: dict[RetryState, RetryStateWords] = {
    "exhausted": RetryStateWords("retries exhausted", "Retries exhausted"),
    "waiting": RetryStateWords("retry waiting for its delay", "Waiting for the retry delay"),
    "execution_failed": RetryStateWords("live retry failed", "Live retry failed"),
    "dry_run_only": RetryStateWords("retried in dry runs only", "Dry runs only"),
    "retry_pending": RetryStateWords("retry planned, not executed", "Retry planned, not run"),
    "no_retry_plan": RetryStateWords("no retry planned", "No retry planned"),
}
# What each loop an open item can name is called, the alert loops first in the loop table's
# order; `evidence` is the loop of the integrity items.
LOOP_TITLES: dict[str, str] = {**{spec.name: spec.title for spec in LOOPS}, "evidence": "Evidence integrity"}


def utc_iso(value: datetime | None) -> str | None:
    """Format an aware datetime as ISO-8601 UTC with a Z suffix."""
    if value is None:
        return None
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


class Model(BaseModel):
    """Base of every verdict model: no unknown fields, datetimes written as UTC with Z."""

    model_config = ConfigDict(extra="forbid")

    @field_serializer("*", when_used="json")
    def _times(self, value: object) -> object:
        """Write every datetime as ISO-8601 UTC."""
        return utc_iso(value) if isinstance(value, datetime) else value


M = TypeVar("M", bound=Model)
# Per model: its field names in order, and each field's name with its default when it is
# immutable (else its FieldInfo, asked for a fresh copy each time) or _REQUIRED.
Shape = tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]
# The fields set of every instance given the same fields, one set for them all (some 700 bytes an
# item): the models are frozen, and pydantic changes a fields set only on assignment (model_copy
# changes a copy of it).
_FIELDS_SET: dict[tuple[type[Model], tuple[str, ...]], set[str]] = {}
_SHAPES: dict[type[Model], Shape] = {}
_REQUIRED, _IMMUTABLE = object(), (type(None), str, int, bool, float, tuple, frozenset)


def built(cls: type[M], **values: Any) -> M:
    """A model made from values the rules built from checked evidence, as `model_construct` makes
    it (field order, defaults, fields set) without its per-field alias walk, which costs several
    times the rest at hundreds of thousands of items and references. A name that is not a field
    is an error."""
    names, defaults = _SHAPES.get(cls) or _shape(cls)
    given = tuple(values)
    fields_set = _FIELDS_SET.get((cls, given))
    if fields_set is None:
        unknown = set(given) - set(names)
        if unknown:  # model_construct would drop them silently: here a misspelt field is an error
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        fields_set = _FIELDS_SET[(cls, given)] = set(given)
    model = cls.__new__(cls)
    # Every field given, in order (an evidence reference): the dict as it is.
    object.__setattr__(model, "__dict__", values if given == names else _filled(defaults, values))
    object.__setattr__(model, "__pydantic_fields_set__", fields_set)
    object.__setattr__(model, "__pydantic_extra__", None)
    object.__setattr__(model, "__pydantic_private__", None)
    return model


def _filled(defaults: tuple[tuple[str, Any], ...], values: dict[str, Any]) -> dict[str, Any]:
    """The given values in field order, with the defaults of the fields not given."""
    fields: dict[str, Any] = {}
    for name, default in defaults:
        if name in values:
            fields[name] = values[name]
        elif isinstance(default, FieldInfo):
            fields[name] = default.get_default(call_default_factory=True, validated_data=fields)
        elif default is not _REQUIRED:
            fields[name] = default
    return fields


def _shape(cls: type[Model]) -> Shape:
    """A model's fields as `built` reads them; only plain frozen models (no aliases, no post-init) have one."""
    if cls.__pydantic_post_init__ or cls.__private_attributes__ or not cls.model_config.get("frozen"):
        raise TypeError(f"{cls.__name__} needs model_construct (built makes only plain frozen models)")
    shape = []
    for name, field in cls.__pydantic_fields__.items():
        if field.alias not in (None, name) or field.validation_alias is not None:
            raise TypeError(f"{cls.__name__}.{name} has an alias: it needs model_construct")
        plain = field.default_factory is None and isinstance(field.default, _IMMUTABLE)
        shape.append((name, _REQUIRED if field.is_required() else field.default if plain else field))
    _SHAPES[cls] = found = (tuple(name for name, _ in shape), tuple(shape))
    return found


class EvidenceRef(Model):
    """A pointer from a finding to one input record."""

    model_config = ConfigDict(frozen=True)  # made by `built`

    session_id: str | None
    source: str
    line: int | None
    kind: str | None = None


class Waiver(Model):
    """An accepted risk: which open items it covers, who approved it, and until when."""

    id: str = Field(min_length=1)
    code: str = Field(min_length=1)
    loop: str | None = None
    health_id: str | None = None
    provider: str | None = None
    kind: str | None = None
    justification: str = Field(min_length=1)
    approved_by: str = Field(min_length=1)
    approved_at: datetime
    expires_at: datetime
    # The item's count, when given, must match too: a waiver file must give it to accept evidence
    # that was not read (see reportgen.judge.waivers), so it accepts only the entries someone looked at.
    count: StrictInt | None = Field(default=None, ge=0)

    @field_validator("approved_at", "expires_at", mode="before")
    @classmethod
    def _utc(cls, value: object) -> object:
        """Read a date as midnight UTC and a time without an offset as UTC."""
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            value = datetime.fromisoformat(value.strip())
        if isinstance(value, datetime):
            return value.replace(tzinfo=value.tzinfo or UTC).astimezone(UTC)
        return value


class OpenItem(Model):
    """One open reporting risk: what is open, how bad, what happened, and what to do."""

    model_config = ConfigDict(frozen=True)  # made by `built`

    id: str
    code: str
    severity: Severity
    status: ItemStatus = "open"
    loop: str | None
    health_id: str | None = None
    provider: str | None = None
    # The record kind or delivery source an integrity item is about.
    kind: str | None = None
    retry_state: RetryState | None = None
    title: str
    detail: str
    operator_action: str
    opened_at: datetime | None = None
    count: int | None = None
    attempts: int | None = None
    retry_count: int | None = None
    max_retry_attempts: int | None = None
    next_retry_at: datetime | None = None
    skip_reason: str | None = None
    acknowledgement_state: str | None = None
    evidence: list[EvidenceRef] = []
    evidence_total: int = 0
    waiver: Waiver | None = None
    waiver_expired: str | None = None


class Finding(Model):
    """A warning: shown everywhere, never opens the closure by itself."""

    model_config = ConfigDict(frozen=True)  # made by `built`

    code: str
    severity: Literal["warning"] = "warning"
    title: str
    detail: str
    evidence: list[EvidenceRef] = []


class ResolvedChain(Model):
    """A (health_id, provider) chain that failed and was later delivered, or that a newer alert
    plan superseded (`resolved_by` is then that plan)."""

    model_config = ConfigDict(frozen=True)  # made by `built`

    loop: str
    health_id: str
    provider: str
    resolution: Literal["delivered", "superseded"] = "delivered"
    failures: int
    first_failed_at: datetime | None
    resolved_at: datetime
    resolved_by: EvidenceRef
    failed: list[EvidenceRef] = []


class Closure(Model):
    """Whether the final reporting loop is closed, and what keeps it open."""

    state: Literal["open", "closed"]
    open_items: list[OpenItem]
    accepted_items: list[OpenItem] = []
    warnings: list[Finding] = []
    resolved_chains: list[ResolvedChain] = []


class Check(Model):
    """One readiness check, as upstream names them."""

    id: str
    title: str
    status: CheckStatus
    evidence: str
    operator_action: str


class ReleaseDecision(Model):
    """The recommendation for the release closure."""

    recommended_state: Literal["approve_release_closure", "hold_release_closure"]
    reason: str
    failed_checks: list[str] = []


class Readiness(Model):
    """The release-readiness verdict: ready when no check fails."""

    state: Literal["ready", "blocked"]
    checks: list[Check]
    release_decision: ReleaseDecision


class Verdict(Model):
    """Everything the rules conclude from the evidence."""

    rules: RulesMode
    closure: Closure
    readiness: Readiness
    counts: Counts


def item_id(*parts: str | None) -> str:
    """A short, stable id for an open item, the same across packs built from the same chain."""
    material = "|".join(part or "" for part in parts)
    return "it-" + hashlib.sha256(material.encode()).hexdigest()[:12]
