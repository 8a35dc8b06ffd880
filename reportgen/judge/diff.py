"""`reportgen diff OLD NEW`: what changed between two packs, as text or JSON.

The exit code answers "did anything new open?": 1 when an item is open in NEW that was not open
in OLD (new, or reopened because its waiver expired), 0 otherwise.
"""

from __future__ import annotations

from typing import Any

import orjson

from reportgen.evidence.visible import json_escaped
from reportgen.judge.history import Changes, ItemChange
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem, utc_iso


def item_line(item: OpenItem) -> str:
    """One item on one line: severity, code, health id, provider, and its state."""
    parts = [item.severity, item.code, item.health_id or "-", item.provider or "-", item.retry_state or "-"]
    if item.kind is not None:
        parts.append(f"kind {item.kind}")
    if item.waiver_expired:
        parts.append(f"waiver {item.waiver_expired} expired")
    if item.waiver is not None:
        parts.append(
            f"accepted by {item.waiver.approved_by} until {utc_iso(item.waiver.expires_at)} ({item.waiver.id})"
        )
    return "  ".join(parts)


def change_line(change: ItemChange) -> str:
    """One changed item: its state before and after."""
    return f"{change.before} -> {change.after}  {item_line(change.item)}"


def diff_text(old: Summary, new: Summary, changes: Changes) -> list[str]:
    """The diff as lines of text: the verdicts, then items opened, closed and changed."""
    lines = [
        f"old: as of {utc_iso(old.as_of)}  closure {old.closure.state}  readiness {old.readiness.state}",
        f"new: as of {utc_iso(new.as_of)}  closure {new.closure.state}  readiness {new.readiness.state}",
    ]
    if old.rules != new.rules:
        lines.append(f"note: the packs were judged by different rules ({old.rules}, {new.rules}); item ids differ")
    if changes.readiness[0] != changes.readiness[1]:
        lines.append(f"readiness changed: {changes.readiness[0]} -> {changes.readiness[1]}")
    sections = (
        ("Opened", [item_line(i) for i in changes.opened]),
        ("Closed", [item_line(i) for i in changes.closed]),
        ("Changed state", [change_line(c) for c in changes.changed]),
    )
    for title, rows in sections:
        lines += ["", f"{title} ({len(rows)})"] + ([f"  {row}" for row in rows] or ["  none"])
    return lines


def diff_json(old: Summary, new: Summary, changes: Changes) -> bytes:
    """The diff as deterministic JSON."""
    data: dict[str, Any] = {
        "old": {"as_of": utc_iso(old.as_of), "closure": old.closure.state, "readiness": old.readiness.state},
        "new": {"as_of": utc_iso(new.as_of), "closure": new.closure.state, "readiness": new.readiness.state},
        "opened": [i.model_dump(mode="json") for i in changes.opened],
        "closed": [i.model_dump(mode="json") for i in changes.closed],
        "changed": [
            {"before": c.before, "after": c.after, "item": c.item.model_dump(mode="json")} for c in changes.changed
        ],
    }
    return json_escaped(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)) + b"\n"
