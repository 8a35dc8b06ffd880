"""Open items grouped by what fixes them: one operator action for every item of a group.

Thousands of failures are usually a handful of causes: a group is the items of one loop, code,
retry or acknowledgement state and provider, with its count, oldest item and action. Every
document leads with the groups; each item stays listed in full in summary.json.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reportgen.evidence.loops import LOOP_NAMES
from reportgen.judge.verdict import SEVERITY_ORDER, OpenItem, Severity, utc_iso

# How many item ids a group names; the rest are in summary.json and the pack.
EXAMPLE_IDS = 5
GroupKey = tuple[str, str, str | None, str | None]



@dataclass(frozen=True)
class Group:
    """Open items that one operator action fixes: same loop, code, retry or ack state, and provider."""

    loop: str
    code: str
    state: str | None
    provider: str | None
    severity: Severity
    count: int
    oldest_opened_at: datetime | None
    operator_action: str
    # False when items differ in their action (a waiting retry names its own time): the oldest's is shown.
    action_shared: bool
    example_ids: tuple[str, ...]
    # The oldest item's title and detail, as an example of the group.
    title: str
    detail: str

    @property
    def key(self) -> GroupKey:
        """What fixes the group's items: the key every one of them was grouped by."""
        return (self.loop, self.code, self.state, self.provider)

    @property
    def name(self) -> str:
        """A name stable across runs for the same kind of open item: code, state and provider."""
        return f"{self.code} [state={self.state or '-'}, provider={self.provider or '-'}]"


def group_key(item: OpenItem) -> GroupKey:
    """What fixes an item: its loop, code, retry or acknowledgement state, and provider."""
    return (item.loop or "other", item.code, item.retry_state or item.acknowledgement_state, item.provider)


def _oldest_first(item: OpenItem) -> tuple[int, str, str]:
    """Oldest opened first, items without a time last, then by id so that ties are stable."""
    when = utc_iso(item.opened_at)
    return (0 if when else 1, when or "", item.id)


def _group_order(group: Group) -> tuple[int, int, str, str, str, str]:
    """Most severe first; known loops in their fixed order, then by code, state and provider."""
    loop = LOOP_NAMES.index(group.loop) if group.loop in LOOP_NAMES else len(LOOP_NAMES)
    return (SEVERITY_ORDER[group.severity], loop, group.loop, group.code, group.state or "", group.provider or "")


def _group(key: GroupKey, members: list[OpenItem]) -> Group:
    """One group from its key and its items, sorted oldest first."""
    oldest = members[0]
    return Group(
        loop=key[0],
        code=key[1],
        state=key[2],
        provider=key[3],
        severity=min((m.severity for m in members), key=SEVERITY_ORDER.__getitem__),
        count=len(members),
        oldest_opened_at=oldest.opened_at,
        operator_action=oldest.operator_action,
        action_shared=all(m.operator_action == oldest.operator_action for m in members),
        example_ids=tuple(m.id for m in members[:EXAMPLE_IDS]),
        title=oldest.title,
        detail=oldest.detail,
    )


def group_items(items: Iterable[OpenItem]) -> list[Group]:
    """The items grouped by what fixes them, most severe first, in an order stable across runs."""
    found: dict[GroupKey, list[OpenItem]] = {}
    for item in items:
        found.setdefault(group_key(item), []).append(item)
    return sorted((_group(key, sorted(members, key=_oldest_first)) for key, members in found.items()), key=_group_order)
