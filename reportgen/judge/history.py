"""History: earlier packs' summaries, what changed between two packs, and the trend over many.

Packs are compared by open item `id`, which is the same across packs built from the same chain.
An item is *opened* when it is open now and was not open before (new, or reopened when its
waiver expired), *closed* when it was open or accepted before and is gone now, and *changed*
when it is in both and its status, severity, retry state or acknowledgement state differs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from pydantic import ValidationError

from reportgen.evidence.masking import mask_record, may_hold_secrets
from reportgen.evidence.stream import read_capped
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem

SUMMARY_FILE = "summary.json"
MAX_PACKS = 10
COMPARED = ("status", "severity", "retry_state", "acknowledgement_state")


class HistoryError(Exception):
    """A pack or summary that cannot be read."""


@dataclass(frozen=True)
class PackRecord:
    """One earlier pack: where its summary was found, and what it said."""

    label: str
    summary: Summary


@dataclass(frozen=True)
class History:
    """Earlier packs, oldest first, and the summaries that could not be read."""

    packs: tuple[PackRecord, ...] = ()
    unreadable: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemChange:
    """An item whose state differs between two packs."""

    item: OpenItem
    before: str
    after: str


@dataclass(frozen=True)
class Changes:
    """What changed from one pack to the next."""

    opened: tuple[OpenItem, ...]
    closed: tuple[OpenItem, ...]
    changed: tuple[ItemChange, ...]
    readiness: tuple[str, str]
    closure: tuple[str, str]

    @property
    def anything(self) -> bool:
        """Whether anything changed at all."""
        return bool(self.opened or self.closed or self.changed) or self.readiness[0] != self.readiness[1]


@dataclass(frozen=True)
class OpenSince:
    """How long one open item has been open, across packs."""

    item: OpenItem
    since: datetime
    packs: int


@dataclass(frozen=True)
class TrendPoint:
    """One pack on the trend: its open items by severity, and its accepted items."""

    label: str
    as_of: datetime
    critical: int
    warning: int
    accepted: int
    current: bool = False


@dataclass(frozen=True)
class Trend:
    """The trend over the last packs, the changes since the previous one, and each open item's age."""

    points: tuple[TrendPoint, ...]
    previous: str | None
    changes: Changes | None
    open_since: tuple[OpenSince, ...]
    unreadable: tuple[str, ...] = ()


# --- reading packs ----------------------------------------------------------------------------


def read_summary(path: Path) -> Summary:
    """A summary.json, or a pack folder's summary.json."""
    file = path / SUMMARY_FILE if path.is_dir() else path
    try:
        data = read_capped(file)
        if not may_hold_secrets(data):
            return Summary.model_validate_json(data)
        # A summary from a shared folder (a wiki) may have been written by anyone: its strings are
        # masked as evidence is before anything shows them.
        return Summary.model_validate(mask_record(orjson.loads(data), []))
    except orjson.JSONDecodeError as exc:
        raise HistoryError(f"{file}: not a reportgen summary: {exc}") from None
    except OSError as exc:
        raise HistoryError(f"{file}: cannot read: {exc.strerror}") from None
    except ValidationError as exc:
        raise HistoryError(f"{file}: not a reportgen summary: {exc.errors()[0]['msg']}") from None


def find_summaries(folder: Path) -> list[Path]:
    """Every summary.json under a folder, in sorted order, leaving out hidden folders (.git, staging)."""
    found = folder.rglob(SUMMARY_FILE)
    return sorted(p for p in found if not any(part.startswith(".") for part in p.relative_to(folder).parts))


def load_history(folder: Path, before: datetime | None = None, limit: int = MAX_PACKS) -> History:
    """The last `limit` packs under a folder judged before `before`, oldest first; one pack per as-of."""
    packs: dict[datetime, PackRecord] = {}
    unreadable = []
    for path in find_summaries(folder):
        try:
            summary = read_summary(path)
        except HistoryError:
            unreadable.append(path.relative_to(folder).as_posix())
            continue
        if (before is None or summary.as_of < before) and summary.as_of not in packs:
            packs[summary.as_of] = PackRecord(pack_label(path, folder), summary)
    ordered = [packs[when] for when in sorted(packs)]
    return History(tuple(ordered[-limit:] if limit else ordered), tuple(unreadable))


def pack_label(path: Path, folder: Path) -> str:
    """A pack's name in the history: the name of the folder its summary is in."""
    return path.parent.name or folder.name


# --- comparing two packs ----------------------------------------------------------------------


def items_by_id(summary: Summary) -> dict[str, OpenItem]:
    """Every open and accepted item of a summary, by id."""
    return {i.id: i for i in (*summary.closure.open_items, *summary.closure.accepted_items)}


def compare(old: Summary, new: Summary) -> Changes:
    """What changed from the old pack to the new one, by item id."""
    before, after = items_by_id(old), items_by_id(new)
    opened = [i for i in new.closure.open_items if before.get(i.id) is None or before[i.id].status != "open"]
    closed = [i.model_copy(update={"status": "closed"}) for key, i in before.items() if key not in after]
    opened_ids = {i.id for i in opened}
    changed = [
        change(before.get(key), item)
        for key, item in after.items()
        if key not in opened_ids and (key not in before or differs(before[key], item))
    ]
    return Changes(
        opened=tuple(opened),
        closed=tuple(sorted(closed, key=item_order)),
        changed=tuple(sorted(changed, key=lambda c: item_order(c.item))),
        readiness=(old.readiness.state, new.readiness.state),
        closure=(old.closure.state, new.closure.state),
    )


def differs(old: OpenItem, new: OpenItem) -> bool:
    """Whether an item's state changed between two packs."""
    return any(getattr(old, field) != getattr(new, field) for field in COMPARED)


def change(old: OpenItem | None, new: OpenItem) -> ItemChange:
    """An item's change as 'field=value' before and after, naming only the fields that changed."""
    if old is None:
        return ItemChange(new, "new", f"status={new.status}")
    fields = [f for f in COMPARED if getattr(old, f) != getattr(new, f)]
    before = ", ".join(f"{f}={getattr(old, f) or '-'}" for f in fields)
    return ItemChange(new, before, ", ".join(f"{f}={getattr(new, f) or '-'}" for f in fields))


def item_order(item: OpenItem) -> tuple[str, str, str, str, str]:
    """A stable order for items: loop, code, health id, provider, kind."""
    return (item.loop or "", item.code, item.health_id or "", item.provider or "", item.kind or "")


# --- the trend --------------------------------------------------------------------------------


def point(label: str, summary: Summary, current: bool = False) -> TrendPoint:
    """One pack's counts for the trend chart."""
    items = summary.closure.open_items
    return TrendPoint(
        label=label,
        as_of=summary.as_of,
        critical=sum(i.severity == "critical" for i in items),
        warning=sum(i.severity == "warning" for i in items),
        accepted=len(summary.closure.accepted_items),
        current=current,
    )


def open_since(history: History, current: Summary) -> tuple[OpenSince, ...]:
    """For each open item, the first pack of its unbroken run of packs in which it was open."""
    runs = []
    for item in current.closure.open_items:
        since, packs = current.as_of, 1
        for record in reversed(history.packs):
            earlier = items_by_id(record.summary).get(item.id)
            if earlier is None or earlier.status != "open":
                break
            since, packs = record.summary.as_of, packs + 1
        runs.append(OpenSince(item, since, packs))
    return tuple(runs)


def trend(history: History, current: Summary, label: str = "this pack") -> Trend:
    """The trend of the current pack over the earlier ones."""
    points = tuple(point(r.label, r.summary) for r in history.packs) + (point(label, current, current=True),)
    previous = history.packs[-1] if history.packs else None
    return Trend(
        points=points[-MAX_PACKS:],
        previous=previous.label if previous else None,
        changes=compare(previous.summary, current) if previous else None,
        open_since=open_since(history, current),
        unreadable=history.unreadable,
    )
