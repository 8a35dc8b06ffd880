"""The wording every CI output shares: text made safe for CI logs and XML, the verdict line, a group's line."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from reportgen.evidence.text import plural
from reportgen.judge.groups import Group
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import utc_iso

# Longest piece of text any CI output quotes, so one hostile field cannot fill a page.
MAX_TEXT = 1000
# The characters XML 1.0 allows besides tab; anything else (ESC, NUL, lone surrogates) would make a
# JUnit file unreadable, and the same set is shown escaped in every CI output.
XML_CHARS = ((0x20, 0xD7FF), (0xE000, 0xFFFD), (0x10000, 0x10FFFF))


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
