"""Lists as a bounded document (Markdown) shows them: at most so many rows, and above them a note
saying which rows were kept and where the others are."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Generic

from reportgen.judge.verdict import SEVERITY_ORDER
from reportgen.view.paging import T

# Rows of one list a Markdown document shows; the rest are in the HTML, summary.json and open-items.csv.
MD_ROWS = 200


@dataclass(frozen=True)
class Listed(Generic[T]):
    """A list as a bounded document shows it: the rows kept, and above them what was left out and where."""

    rows: tuple[T, ...]
    note: str = ""


def kept_in_order(rows: tuple[T, ...], ranked: Sequence[int], limit: int) -> tuple[T, ...]:
    """The rows at the first `limit` ranked positions, shown in their original order."""
    keep = set(ranked[:limit])
    return tuple(row for index, row in enumerate(rows) if index in keep)


def pressing(row: Any) -> tuple[int, int]:
    """How pressing a row is: the most severe first, then the oldest (an unknown age last)."""
    age = getattr(row, "age_seconds", -1)
    return (SEVERITY_ORDER.get(getattr(row, "severity", ""), 2), -age if age >= 0 else 1)


def listed(rows: Sequence[T], noun: str, where: str, limit: int) -> Listed[T]:
    """At most LIMIT rows, in the order shown: open items (rows with a severity) the most severe and
    oldest, any other list its first rows; the note says so, and where the rest is."""
    rows = tuple(rows)
    if len(rows) <= limit:
        return Listed(rows)
    if all(hasattr(row, "severity") for row in rows):
        ranked = sorted(range(len(rows)), key=lambda i: (*pressing(rows[i]), i))
        kept, chosen = kept_in_order(rows, ranked, limit), "the most severe, then the oldest"
    else:
        kept, chosen = rows[:limit], "the first, in the order shown"
    rest = len(rows) - limit
    note = (
        f"This document lists {limit:,} of {len(rows):,} {noun} ({chosen}); "
        f"the other {rest:,} {'is' if rest == 1 else 'are'} in {where}."
    )
    return Listed(kept, note)


def elsewhere(files: Sequence[str], planned: Collection[str]) -> str:
    """Where the rest of a cut list is: those of FILES the pack holds (all of them when the pack's
    files are not known), in words; when it holds none, which formats would add them."""
    present = [name for name in files if name in planned] if planned else list(files)
    if not present:
        formats = sorted({name.rsplit(".", 1)[-1] for name in files})
        return f"no file of this pack (add {in_words(formats)} to --format to have them listed)"
    return in_words(present)


def in_words(names: Sequence[str]) -> str:
    """Names as a sentence lists them: "a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
