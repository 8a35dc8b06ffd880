"""Paging: how many rows of a long list the HTML shows at once, decided by the view, not the template.

A page shows the first rows and keeps the rest in a <template> until asked for; a PDF, which runs
no script, prints every row of the (already bounded) list, so its view pages nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
# Rows of one list shown at once; the rest wait in a <template> until asked for.
PAGE_SIZE = 50


@dataclass(frozen=True)
class Paged(Generic[T]):
    """A list split into the rows shown at once and the rest; `note` says what is not shown."""

    head: tuple[T, ...]
    tail: tuple[T, ...]
    note: str
    size: int = PAGE_SIZE


def page(items: Sequence[T], noun: str, where: str = "", size: int | None = PAGE_SIZE) -> Paged[T]:
    """Split a list for the page: the first SIZE rows at once, the rest on demand (None: all at once)."""
    rows = tuple(items)
    if size is None or len(rows) <= size:
        return Paged(rows, (), "")
    elsewhere = f"; all of them are in {where}" if where else ""
    note = f"Showing the first {size:,} of {len(rows):,} {noun}{elsewhere}."
    return Paged(rows[:size], rows[size:], note, size)
