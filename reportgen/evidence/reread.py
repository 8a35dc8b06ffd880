"""Reading the inputs a second time, for kept records in full and every entry as read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from reportgen.evidence import parse, sqlite_store, stream
from reportgen.evidence.chains import EPOCH
from reportgen.evidence.discover import is_database
from reportgen.evidence.inputs import InputError, Limits
from reportgen.evidence.kinds import KNOWN_KINDS
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.reader import EntryReader, Part, Reading, Rejected, Unit, created
from reportgen.evidence.schema import RECORD_ADAPTER, Envelope, Provenance


class Judged(Protocol):
    """What reading again needs of a load's result: where each input is, the digests judged, the
    copies dropped (by input index and line) and the limits."""

    sources: list[tuple[str, str]]
    digests: dict[int, str]
    dropped: set[tuple[int, int | None]]
    limits: Limits


def read_records(result: Judged, places: set[tuple[str, int | None]] | None = None) -> list[Envelope]:
    """Read the inputs again for the kept records in full: all of them, or those at `places`.

    An input whose bytes are not the ones judged (changed since) is an InputError: a pack never
    shows records from other evidence than its verdict's.
    """
    records = [read.record for read in reread(result, places) if read.record is not None]
    return sorted(records, key=lambda r: (r.created_at, r.session_id))


def read_entries(result: Judged) -> list[dict[str, Any]]:
    """Every well-formed entry read, as read (secrets masked): the records, their duplicate and
    conflicting copies, and the records no rule reads (so a re-check still finds every kind).

    Each copy comes right after the kept records of its time, and the copies of one session id in
    reading order, which decides what they are: read again, they settle as they did the first time.
    """
    read = reread(result, None, copies=True)
    kept_at = {found.session_id: found.at for found in read if not found.dropped}
    # A stable sort keeps the reading order within one session id.
    read.sort(key=lambda found: (kept_at.get(found.session_id, found.at), found.session_id))
    return [found.value for found in read]


@dataclass(frozen=True)
class Reread:
    """One well-formed entry read again: its value, whether it was dropped, and its record when a
    rule reads its kind (None for a record no rule reads)."""

    session_id: str
    at: datetime
    value: dict[str, Any]
    dropped: bool
    record: Envelope | None


def reread(result: Judged, places: set[tuple[str, int | None]] | None, copies: bool = False) -> list[Reread]:
    """The inputs' well-formed entries read again in reading order.

    Dropped copies (duplicates, the losers of conflicts) and records no rule reads are read only
    with `copies`.
    """
    found = []
    limits = stream.StreamLimits(result.limits.max_record_bytes, result.limits.max_input_bytes)
    for index, (name, path) in enumerate(result.sources):
        if index not in result.digests:
            continue
        if is_database(path):
            found += _reread_database(result, index, (name, path), places, copies)
            continue
        try:
            with stream.open_regular(path) as handle:
                opened = stream.InputStream(name, handle, limits)
                for entry in opened.entries():
                    _take(found, result, (index, name), entry, places, copies)
        except (OSError, parse.TooLarge) as exc:
            raise InputError(f"{name}: cannot be read again for the pack ({exc})") from None
        if opened.sha256 != result.digests[index]:
            raise InputError(f"{name}: changed while reportgen was reading it; build the pack again")
    return found


def _take(
    found: list[Reread],
    result: Judged,
    source: tuple[int, str],
    entry: parse.RawEntry,
    places: set[tuple[str, int | None]] | None,
    copies: bool,
) -> None:
    """Add one entry read again to `found` when it is asked for (see `reread`)."""
    index, name = source
    dropped = (index, entry.line) in result.dropped
    if (dropped and not copies) or (places is not None and (name, entry.line) not in places):
        return
    read = read_again(entry, name, result.digests[index], dropped, result.limits)
    if read is not None and (copies or read.record is not None):
        found.append(read)


def _reread_database(
    result: Judged,
    index: int,
    source: tuple[str, str],
    places: set[tuple[str, int | None]] | None,
    copies: bool,
) -> list[Reread]:
    """A database's rows read again, when its bytes are still the ones judged.

    Reading stops where it stopped the first time: the same bytes give the same rows and errors.
    """
    name, path = source
    found: list[Reread] = []
    try:
        if sqlite_store.digest(path)[0] != result.digests[index]:
            raise InputError(f"{name}: changed while reportgen was reading it; build the pack again")
        for entry in sqlite_store.entries(path, sqlite_store.ALL_ROWS, result.limits.max_record_bytes):
            _take(found, result, (index, name), entry, places, copies)
    except sqlite_store.StoreError:
        pass
    except OSError as exc:
        raise InputError(f"{name}: cannot be read again for the pack ({exc})") from None
    return found


def read_again(
    entry: parse.RawEntry, name: str, sha256: str, dropped: bool, limits: Limits | None = None
) -> Reread | None:
    """One entry read again: a full, validated record, a record no rule reads, or None when it is
    not a well-formed record."""
    reader = EntryReader(Part(Ledger()), Unit(0, name, ""), Reading(limits or Limits()), lambda _b, _n: None)
    try:
        value, _ = reader.value(entry)
        if value["metadata_kind"] not in KNOWN_KINDS:
            return Reread(value["session_id"], created(value) or EPOCH, value, dropped, None)
        record = RECORD_ADAPTER.validate_python(value, context={"naive": []})
    except (Rejected, ValidationError):
        return None
    record._provenance = Provenance(source=name, line=entry.line, sha256=sha256)
    return Reread(record.session_id, record.created_at, value, dropped, record)
