"""What a record of a kind means beyond its fields, written once for both of its forms.

Each mixin here is a base of a kind's pydantic model (`schema`) and of its msgspec struct (`lean`),
so the two can never read a record differently. A mixin has no state (`__slots__ = ()`, which
msgspec requires of a struct's plain bases) and reads only attributes both forms have; the
attributes it reads are declared for type checkers alone, so neither class takes them as fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reportgen.evidence.kinds import Loop
from reportgen.evidence.loops import LOOP_OF_SOURCE


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


class DeliveryBehaviour:
    """Kind A: which loop a delivery belongs to, its chain, and its outcome per provider."""

    __slots__ = ()
    if TYPE_CHECKING:
        connector_delivery_source: str
        event_id: str
        health_id: str | None
        providers: list[str]
        failed_providers: list[str]
        delivery_success: bool

    @property
    def delivery_loop(self) -> Loop | None:
        """The alert loop this delivery belongs to, judged by its source."""
        return LOOP_OF_SOURCE.get(self.connector_delivery_source)  # type: ignore[return-value]

    @property
    def chain_id(self) -> str:
        """The health id of the chain, falling back to the event id exactly as upstream does."""
        return self.health_id or self.event_id

    def outcomes(self) -> list[tuple[str, bool]]:
        """Per provider, whether this delivery succeeded for it (upstream grouping rule)."""
        return provider_outcomes(self.providers, self.failed_providers, self.delivery_success)


class AlertPlanBehaviour:
    """Kinds C1, E and H3: who an alert plan requires to acknowledge."""

    __slots__ = ()
    if TYPE_CHECKING:
        acknowledgement_required_providers: list[str] | None
        selected_providers: list[str]

        @property
        def body(self) -> Any: ...

    def required_providers(self) -> list[str]:
        """Providers that must acknowledge: the envelope copy, else the nested list, else the
        selected providers (upstream makes the two lists one; a plan missing both never reads as
        requiring nobody)."""
        body = self.body
        nested = body.acknowledgement_required_providers if body else []
        return required_of(self.acknowledgement_required_providers, nested, self.selected_providers)


class RetryPlanBehaviour:
    """Kinds D1 and E4: a retry plan's id."""

    __slots__ = ()
    if TYPE_CHECKING:
        retry_plan_id: str | None
        session_id: str

        @property
        def body(self) -> Any: ...

    @property
    def plan_key(self) -> str:
        """The plan's id: the envelope copy, else the nested id, else the session id."""
        body = self.body
        return self.retry_plan_id or (body.retry_plan_id if body else None) or self.session_id


class WorkerRunBehaviour:
    """Kinds D2 and E5: a worker run's id and the retry plan it embedded."""

    __slots__ = ()
    if TYPE_CHECKING:
        run_id: str | None
        session_id: str

        @property
        def body(self) -> Any: ...

    @property
    def run_key(self) -> str:
        """The run's id: the envelope copy, else the session id."""
        return self.run_id or self.session_id

    @property
    def retry_plan_id(self) -> str | None:
        """The id of the retry plan this run embedded, if any."""
        body = self.body
        plan = body.retry_plan if body else None
        return plan.retry_plan_id if plan else None


class ExecutionBehaviour:
    """Kinds D3/D4 and E6: whether a live retry execution went through."""

    __slots__ = ()
    if TYPE_CHECKING:
        execution_status: str

    @property
    def succeeded(self) -> bool:
        """Whether the redelivery went through."""
        return self.execution_status == "delivered"


class NotificationPlanBehaviour:
    """Kind F1: a notification plan's schedule and who it requires to acknowledge."""

    __slots__ = ()
    if TYPE_CHECKING:
        schedule_id: str | None
        acknowledgement_required_providers: list[str] | None

        @property
        def body(self) -> Any: ...

    @property
    def schedule_key(self) -> str:
        """The schedule id: the envelope copy first, then the nested one (upstream order)."""
        body = self.body
        return self.schedule_id or (body.schedule_id if body else None) or ""

    def required_providers(self) -> list[str]:
        """Providers that must acknowledge: the nested list, as upstream reads it."""
        body = self.body
        if body is not None:
            return body.acknowledgement_required_providers  # type: ignore[no-any-return]
        return self.acknowledgement_required_providers or []
