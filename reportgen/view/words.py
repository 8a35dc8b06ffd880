"""The view's words: labels for codes and states, and how times, durations, places and headings are written.

One table per kind of label, read by every format, so a state is named the same everywhere.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from reportgen.evidence import kinds, sqlite_store
from reportgen.evidence.text import number, utc_text
from reportgen.judge.verdict import LOOP_TITLES, RETRY_STATES, utc_iso
from reportgen.view.model import DashboardSections, RunbookSections, Section, Stamp

RESOLUTION_LABELS = {"delivered": "Delivered by", "superseded": "Superseded by plan"}
SEVERITY_LABELS = {"critical": ("Critical", "✖"), "warning": ("Warning", "⚠")}
STATUS_LABELS = {"pass": ("Pass", "✔"), "fail": ("Fail", "✖"), "warning": ("Warning", "⚠")}
DECISION_LABELS = {
    "approve_release_closure": "Approve release closure",
    "hold_release_closure": "Hold release closure",
}
RETRY_STATE_LABELS = {state: words.label for state, words in RETRY_STATES.items()}
# Record kinds are long; the end of the name says what the record is (no suffix ends another).
KIND_LABELS = kinds.KIND_LABELS


def stamp(value: datetime | None) -> Stamp:
    """A time shown in UTC with the zone stated, plus its ISO-8601 form."""
    if value is None:
        return Stamp(text="—", iso="")
    return Stamp(text=utc_text(value), iso=utc_iso(value) or "")


def duration(delta: timedelta) -> str:
    """A duration as people read it: '2d 3h', '1h 25m', '12m', '45s'."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "after as-of"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def age(since: datetime | None, as_of: datetime) -> str:
    """How long before as-of something happened, or '—' when unknown."""
    return "—" if since is None else duration(as_of - since)


def location(source: str, line: int | None, stores: Collection[str]) -> str:
    """`file:line` (`store.db#rowid=42` for a database row), or the file alone for a whole-file entry."""
    return sqlite_store.location(source, line, stores)


def kind_label(kind: str | None) -> str:
    """A short name for a record kind."""
    if kind is None:
        return "unreadable entry"
    return next((label for suffix, label in KIND_LABELS if kind.endswith(suffix)), kind)


def anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def sections(*titles: str) -> tuple[Section, ...]:
    """Headings with their anchors."""
    return tuple(Section(title, anchor(title)) for title in titles)


def count_text(count: int) -> str:
    """A count with a thousands separator, as `plural` writes it: 7,677."""
    return number(count)


def bytes_text(size: int) -> str:
    """A size in bytes with a thousands separator."""
    return f"{number(size)} B"


def loop_order(loop: str) -> tuple[int, str]:
    """The known loops first, in a fixed order; any other loop after them by name."""
    known = list(LOOP_TITLES)
    return (known.index(loop), "") if loop in known else (len(known), loop)


DASHBOARD_SECTIONS = DashboardSections(
    *sections(
        "Verdict",
        "Open items",
        "Warnings",
        "Readiness checks",
        "Resolved chains",
        "Counts per loop",
        "Input inventory",
    )
)
RUNBOOK_SECTIONS = RunbookSections(
    *sections(
        "Release readiness summary",
        "Purpose",
        "Readiness Gate",
        "Operator Steps",
        "Evidence To Attach",
        "Private Boundary",
        "Checks",
    )
)
