"""Open items grouped by what fixes them, and the wording every CI output shares.

Self-contained on purpose: it reads only verdict models, so it can move to the view layer.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from reportgen.evidence.loops import LOOP_NAMES
from reportgen.evidence.text import plural
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import SEVERITY_ORDER, OpenItem, Severity, utc_iso

# How many item ids a group names; the rest are in summary.json and the pack.
EXAMPLE_IDS = 5
# Longest piece of text any CI output quotes, so one hostile field cannot fill a page.
MAX_TEXT = 1000
# The characters XML 1.0 allows besides tab; anything else (ESC, NUL, lone surrogates) would make a
# JUnit file unreadable, and the same set is shown escaped in every CI output.
XML_CHARS = ((0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))

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
    def name(self) -> str:
        """A name stable across runs for the same kind of open item: code, state and provider."""
        return f"{self.code} [state={self.state or '-'}, provider={self.provider or '-'}]"


def visible(text: object, limit: int = MAX_TEXT) -> str:
    """Text with control, format and XML-illegal characters shown as escapes, cut at `limit` characters."""
    out = []
    for char in str(text):
        code = ord(char)
        legal = char == "\t" or any(low <= code <= high for low, high in XML_CHARS)
        if not legal or unicodedata.category(char) in ("Cc", "Cf"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def utc_text(value: datetime | None) -> str:
    """A time as ISO-8601 UTC with its zone said in words, or 'unknown'."""
    return f"{utc_iso(value)} (UTC)" if value is not None else "unknown"


def _group_key(item: OpenItem) -> GroupKey:
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
        found.setdefault(_group_key(item), []).append(item)
    return sorted((_group(key, sorted(members, key=_oldest_first)) for key, members in found.items()), key=_group_order)


def action_text(group: Group) -> str:
    """The group's operator action, saying so when it is the oldest item's and the others differ."""
    if group.action_shared:
        return group.operator_action
    return f"{group.operator_action} (the oldest item's action; each item's own is in summary.json)"


def group_line(group: Group) -> str:
    """One line on a group: how many, where, and since when."""
    where = f"loop {group.loop}, state {group.state or '-'}, provider {group.provider or '-'}"
    return (
        f"{plural(group.count, 'open item')} {group.code} ({group.severity}; {where}); "
        f"oldest opened at {utc_text(group.oldest_opened_at)}"
    )


def is_ready(summary: Summary) -> bool:
    """Closed and ready: what exit code 0 means."""
    return summary.closure.state == "closed" and summary.readiness.state == "ready"


def verdict_line(summary: Summary) -> str:
    """The verdict in one line: ready or blocked, the states, and as of when."""
    decision = summary.readiness.release_decision.recommended_state
    head = "Ready: approve release closure" if is_ready(summary) else "Blocked: hold release closure"
    return (
        f"{head} (closure {summary.closure.state}, readiness {summary.readiness.state}, decision {decision}; "
        f"as of {utc_text(summary.as_of)}, rules {summary.rules})"
    )
