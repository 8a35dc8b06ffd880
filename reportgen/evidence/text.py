"""Text every layer writes the same way: counted nouns and UTC times."""

from __future__ import annotations

from datetime import datetime


def number(count: int) -> str:
    """A count as every output writes it: with a thousands separator, 7,677."""
    return f"{count:,}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """'1 file', '2 files', '7,677 files' ('1 entry', '2 entries' given NOUNS)."""
    return f"{number(count)} {noun if count == 1 else nouns or noun + 's'}"


def utc_text(value: datetime) -> str:
    """A time as people read it, the zone stated: '2025-06-02 11:30:00 UTC'."""
    return f"{value.year:04d}{value:-%m-%d %H:%M:%S} UTC"
