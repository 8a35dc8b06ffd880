"""Acknowledgements: a provider an alert plan requires stays open until it acknowledges or resolves.

Also the notification acknowledgements check, judged in both modes by the latest notification
plan of each schedule.
"""

from __future__ import annotations

from reportgen.evidence.chains import Oldest, moment
from reportgen.evidence.loops import BY_NAME, LOOPS
from reportgen.judge.facts import CheckWording, Facts, check, joined_refs, outstanding_acks
from reportgen.judge.verdict import Check, OpenItem, built, item_id

NOTIFICATION_CHECK: CheckWording = (
    "Notification acknowledgements",
    "Acknowledge or resolve outstanding rollback drill routes.",
)
# No open item is behind the notification check, so no waiver can waive it.
CHECK_SOURCES: dict[str, tuple[str, ...]] = {"notification_acknowledgements": ()}


def ack_items(facts: Facts) -> list[OpenItem]:
    """A required acknowledgement that is not acknowledged or resolved stays open."""
    ledger = facts.ledger
    items = []
    for spec in LOOPS:
        loop = spec.name
        for (health_id, provider), plans in sorted(outstanding_acks(facts, loop, spec.chain_plans).items()):
            seen = ledger.acks[loop].get((health_id, provider))
            state = seen.latest[1] if seen is not None and seen.latest is not None else None
            acks = seen.acks if seen is not None and seen.acks is not None else Oldest()
            evidence, total = joined_refs((p.cite for p in plans), acks)
            items.append(
                built(
                    OpenItem,
                    id=item_id(spec.ack_code, loop, health_id, provider),
                    code=spec.ack_code,
                    severity="critical",
                    loop=loop,
                    health_id=health_id,
                    provider=provider,
                    title=ack_title(loop, provider),
                    detail=ack_detail(len(plans), state),
                    operator_action=ack_action(loop, health_id, provider, state),
                    opened_at=moment(min(p.cite[0] for p in plans)),
                    acknowledgement_state=state,
                    evidence=evidence,
                    evidence_total=total,
                )
            )
    return items


def ack_title(loop: str, provider: str) -> str:
    """The title of an outstanding acknowledgement."""
    return f"{BY_NAME[loop].alert} acknowledgement from {provider} outstanding"


def ack_detail(plans: int, state: str | None) -> str:
    """One line on why the acknowledgement is outstanding."""
    required = f"required by {plans} alert plan{'s' if plans != 1 else ''}"
    if state is None:
        return f"{required}; no acknowledgement recorded"
    return f"{required}; latest acknowledgement is {state}, which does not clear it"


def ack_action(loop: str, health_id: str, provider: str, state: str | None) -> str:
    """What the operator does to clear an outstanding acknowledgement."""
    path = BY_NAME[loop].alerts_path
    prefix = f"The last acknowledgement was {state}. " if state else ""
    return (
        f"{prefix}Request the acknowledgement from {provider} and record it with POST "
        f"{path}/{health_id}/acknowledgements (provider={provider}, acknowledgement_state=acknowledged)."
    )


def notification_check(outstanding: int) -> Check:
    """Fail while a notification route the latest plan of its schedule selected is not cleared."""
    return check(
        "notification_acknowledgements",
        NOTIFICATION_CHECK,
        outstanding > 0,
        f"outstanding_acknowledgement_count={outstanding}",
    )
