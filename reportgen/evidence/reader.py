"""Reading one unit of an input: every entry folded in, rejected with its reason, held aside or kept
as a record no rule reads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import orjson
from pydantic import ValidationError

from reportgen.evidence import ndjson, parse, sqlite_store, store_ranges, stream
from reportgen.evidence.chains import EPOCH, Foreign
from reportgen.evidence.inputs import InputError, InputFile, Limits, Notice, Rejection, SecretExposed, why
from reportgen.evidence.kinds import KNOWN_KINDS
from reportgen.evidence.lean import DECODER, Lean, RetryDecision, RetryPlan, WorkerRun, whole_numbers
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.loops import standing_of_kind
from reportgen.evidence.masking import SecretFound, mask_record, may_hold_secrets
from reportgen.evidence.schema import RECORD_ADAPTER, parse_timestamp

Progress = Callable[[int, int], None]
# How many entries pass between two progress reports; the report itself decides whether to show.
PROGRESS_EVERY = 2000


@dataclass(frozen=True)
class Unit:
    """One piece of reading: a whole input, a byte range [start, end) of a plain NDJSON file or
    (with `items`) of a store file, or a rowid range [start, end) of a SQLite database (`store` is
    then its state when planned)."""

    index: int
    name: str
    path: str
    span: tuple[int, int] | None = None
    store: sqlite_store.Stamp | None = None
    items: store_ranges.ItemCut | None = None


@dataclass(frozen=True)
class Held:
    """A record whose session id is read more than once, kept aside until every copy is seen."""

    record: Lean | Foreign
    at: datetime | None
    digest: bytes
    index: int
    line: int | None


@dataclass
class Part:
    """What reading one unit gave: its folded records and its account of every entry."""

    ledger: Ledger
    entries: int = 0
    decompressed: int = 0
    file: InputFile | None = None
    rejected: list[Rejection] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    secrets: list[SecretExposed] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    # Of a store file's range: whether it was exactly its run of items, and its first item's index.
    sound: bool = True
    first_item: int = 0


@dataclass(frozen=True)
class Reading:
    """How to read: the limits, the as-of time, and the session ids read more than once (pass two)."""

    limits: Limits
    as_of: datetime | None = None
    suspects: frozenset[int] | None = None


class Rejected(Exception):
    """An entry that is not a record, with the one-line reason."""


def read_unit(unit: Unit, reading: Reading, report: Progress, make: ReaderMaker | None = None) -> Part:
    """Read one unit's entries into a part: each folded in, rejected, held aside or not recognised
    (by the reader `make` makes, for a whole input, when given)."""
    part = _read_entries(unit, reading, report, make)
    part.ledger.prune_links()  # before a worker sends the part: most references are resolved within it
    return part


def _read_entries(unit: Unit, reading: Reading, report: Progress, make: ReaderMaker | None) -> Part:
    """`read_unit` up to the references still waiting for their targets."""
    part = Part(Ledger(reading.as_of))
    whole = unit.store is None and unit.items is None and unit.span is None
    reader = (make if make is not None and whole else EntryReader)(part, unit, reading, report)
    limits = reading.limits
    if unit.store is not None:
        return read_database(unit, part, reader, limits)
    if unit.items is not None:
        return read_item_range(unit, part, reader, limits)
    if unit.span is not None:
        start, end = unit.span
        # A range's lines are numbered from the newlines before it: counting them is memchr-fast.
        first = 1 + ndjson.count_newlines(unit.path, 0, start) if start else 1
        for entry in ndjson.range_entries(unit.path, start, end, first, limits.max_record_bytes):
            reader.read(entry)
        part.decompressed = end - start
        return part
    try:
        handle = stream.open_regular(unit.path)
    except OSError as exc:
        part.rejected.append(Rejection(unit.name, None, f"cannot read file: {exc.strerror or exc}"))
        return part
    with handle:
        opened = stream.InputStream(
            unit.name, handle, stream.StreamLimits(limits.max_record_bytes, limits.max_input_bytes)
        )
        try:
            for entry in opened.entries():
                reader.read(entry)
        except parse.TooLarge as exc:
            raise InputError(f"{unit.name}: {exc} (--max-input-bytes)") from None
    reader.finish()
    _file_problems(part, unit.name, opened)
    part.decompressed = opened.charged
    part.file = InputFile(path=unit.name, sha256=opened.sha256, bytes=opened.size, format=opened.format)
    return part


def read_item_range(unit: Unit, part: Part, reader: EntryReader, limits: Limits) -> Part:
    """Read one byte range of a store file; the loader reads the file whole unless every range is sound."""
    assert unit.items is not None and unit.span is not None
    start, end = unit.span
    try:
        # A range's items are numbered from the item starts before it, counted here, in parallel
        # with the other ranges' reading (the parent counting them all first cost more at 1M records).
        part.first_item = store_ranges.items_before(unit.path, start, unit.items.indent)
        cut, limit = unit.items, limits.max_record_bytes
        for entry in store_ranges.range_entries(unit.path, unit.span, part.first_item, cut, limit):
            reader.read(entry)
    except (store_ranges.Unsound, OSError):  # read whole, the file says what is wrong with it
        part.sound = False
    part.decompressed = end - start
    return part


def read_database(unit: Unit, part: Part, reader: EntryReader, limits: Limits) -> Part:
    """Read one rowid range of a database; the first range also gives the file's facts.

    A database that cannot be read (or changes) is rejected whole in one line; the rows read
    before that stay read.
    """
    assert unit.store is not None and unit.span is not None
    first = unit.span[0] == sqlite_store.ALL_ROWS[0]
    try:
        for entry in sqlite_store.entries(unit.path, unit.span, limits.max_record_bytes, unit.store):
            reader.read(entry)
    except (sqlite_store.StoreError, OSError) as exc:
        reason = str(exc) if isinstance(exc, sqlite_store.StoreError) else f"cannot read file: {why(exc)}"
        part.rejected.append(Rejection(unit.name, None, reason))  # one line: assemble merges the ranges' copies
    if first:
        try:
            sha256, size = sqlite_store.digest(unit.path)
        except OSError:
            return part  # not readable at all: rejected above, and not in the inventory
        part.file = InputFile(path=unit.name, sha256=sha256, bytes=size, format=sqlite_store.FORMAT)
        part.decompressed = size
    return part


def _file_problems(part: Part, name: str, opened: stream.InputStream) -> None:
    """Record what was wrong with a whole input: rejections and notices."""
    for p in opened.problems:
        if p.rejects:
            part.rejected.append(Rejection(name, None, p.detail))
        else:
            part.notices.append(Notice(p.code, name, None, p.detail))
    if opened.cut:
        part.rejected.append(Rejection(name, None, opened.cut))
    elif opened.blank:
        part.notices.append(Notice("evidence_file_empty", name, None, "the file holds no records"))


class EntryReader:
    """Turns the entries of one unit into folded records, rejections and records no rule reads."""

    def __init__(self, part: Part, unit: Unit, reading: Reading, report: Progress) -> None:
        self.part, self.unit, self.reading, self.report = part, unit, reading, report
        self.bytes = 0

    def read(self, entry: parse.RawEntry) -> None:
        """Account for one entry."""
        self.count(entry)
        self.take(entry)

    def count(self, entry: parse.RawEntry) -> None:
        """Count an entry read, and report the progress now and then."""
        part = self.part
        part.entries += 1
        self.bytes += len(entry.raw or b"") + 1
        if part.entries % PROGRESS_EVERY == 0:
            self.report(self.bytes, part.entries)

    def finish(self) -> None:
        """Every entry has been read (a reader that hands entries elsewhere takes them back here)."""

    def take(self, entry: parse.RawEntry) -> None:
        """Fold an entry in, reject it with its reason, or keep it as a record no rule reads."""
        if entry.raw is not None and entry.problem is None and not entry.parsed:
            found = self.plain(entry.raw)
            if found is not None:
                self.keep(*found, entry.line)
                return
        self.checked(entry)

    def plain(self, raw: bytes) -> tuple[Lean, datetime, dict[str, Any]] | None:
        """The common case in one go, or None for anything else (which `checked` reads in full).

        Common: valid JSON with no repeated key and no mark of a secret, a record of a known kind
        that the lean structs decode, with timestamps that carry their offset.
        """
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(value, dict) or value.get("metadata_kind") not in KNOWN_KINDS:
            return None
        if parse.may_be_deep(raw) or parse.may_repeat_keys(raw, value) or may_hold_secrets(raw):
            return None
        if parse.list_problem(raw, value, self.reading.limits.max_list_items):
            return None
        naive: list[str] = []
        try:
            record, at = decode(raw, naive)
        except (msgspec.MsgspecError, ValueError):
            return None
        if naive or not record.session_id.strip():
            return None
        return record, at, value

    def checked(self, entry: parse.RawEntry) -> None:
        """Account for an entry step by step: rejected with its reason, kept, or kept as a record no rule reads."""
        try:
            value, raw = self.value(entry)
            kind = value["metadata_kind"]
            if kind not in KNOWN_KINDS:
                foreign = Foreign(value["session_id"], kind, standing_of_kind(kind))
                self.keep(foreign, created(value), value, entry.line)
                return
            record, at = self.record(entry, value, raw)
        except Rejected as exc:
            self.part.rejected.append(Rejection(self.unit.name, entry.line, str(exc)))
            return
        self.keep(record, at, value, entry.line)

    def value(self, entry: parse.RawEntry) -> tuple[dict[str, Any], bytes]:
        """The entry parsed, its secrets masked, checked to be an object with an id and a kind."""
        value, raw = stream.value_of(entry), entry.compact or entry.raw
        if isinstance(value, parse.Problem):
            raise Rejected(value.reason)
        if raw is None or may_hold_secrets(raw):
            value = self.masked(value, entry.line)
            raw = orjson.dumps(value)
        problem = shape_problem(value)
        if not problem and value["metadata_kind"] in KNOWN_KINDS:  # what the rules read is bounded
            problem = parse.list_problem(raw, value, self.reading.limits.max_list_items)
        if problem:
            raise Rejected(problem)
        return value, raw

    def masked(self, value: Any, line: int | None) -> Any:
        """The value with every secret masked, each one noted with where it was."""
        found: list[SecretFound] = []
        value = mask_record(value, found)
        session_id = value.get("session_id") if isinstance(value, dict) else None
        sid = session_id if isinstance(session_id, str) else None
        for secret in found:
            self.part.secrets.append(SecretExposed(self.unit.name, line, sid, secret.path, secret.kind))
        return value

    def record(self, entry: parse.RawEntry, value: dict[str, Any], raw: bytes) -> tuple[Lean, datetime]:
        """The lean record and its creation time; the schema gives the reason when it is not valid."""
        naive: list[str] = []
        try:
            record, at = decode(raw, naive)
        except (msgspec.MsgspecError, ValueError) as exc:
            raise Rejected(schema_reason(value, exc)) from None
        if naive:
            detail = f"timestamp without a UTC offset in {', '.join(sorted(set(naive)))}; read as UTC"
            self.part.notices.append(Notice("timestamp_without_offset", self.unit.name, entry.line, detail))
        return record, at

    def keep(self, record: Lean | Foreign, at: datetime | None, value: dict[str, Any], line: int | None) -> None:
        """Fold the record in, or hold it aside when its session id is read more than once."""
        suspects = self.reading.suspects
        if suspects is not None and hash(record.session_id) in suspects:
            digest = hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).digest()
            self.part.held.append(Held(record, at, digest, self.unit.index, line))
            return
        fold(self.part.ledger, record, at, self.unit.name, line)


# What makes the reader of a whole input: EntryReader, or one that shares the work (evidence.fanout).
ReaderMaker = Callable[[Part, Unit, Reading, Progress], EntryReader]


def fold(ledger: Ledger, record: Lean | Foreign, at: datetime | None, source: str, line: int | None) -> None:
    """Fold one kept record into a ledger: a record the rules read, or one no rule reads."""
    if isinstance(record, Foreign):
        ledger.add_foreign(record, at, source, line)
    else:
        ledger.add(record, at or EPOCH, source, line)


def created(value: dict[str, Any]) -> datetime | None:
    """When a record no rule reads was made, if it says so readably (it orders its copies)."""
    try:
        return parse_timestamp(value.get("created_at"))
    except ValueError:
        return None


def decode(raw: bytes, naive: list[str]) -> tuple[Lean, datetime]:
    """A record's lean struct and creation time, every timestamp it carries checked (naive ones noted).

    Raises msgspec's error or ValueError for a record the lean structs do not take.
    """
    record = DECODER.decode(raw)
    record.settle()
    at = parse_timestamp(record.created_at, naive, "created_at")
    decisions = decisions_of(record)
    for decision in decisions:
        if decision.next_retry_at is not None:
            parse_timestamp(decision.next_retry_at, naive, "next_retry_at")
    if not whole_numbers(record, decisions):
        raise ValueError("a whole number too large for the schema")
    return record, at


def decisions_of(record: Lean) -> list[RetryDecision]:
    """Every retry decision a record carries (their timestamps are validated too)."""
    if isinstance(record, RetryPlan):
        return record.body.retry_decisions if record.body else []
    if isinstance(record, WorkerRun) and record.body is not None:
        embedded = record.body.retry_plan.retry_decisions if record.body.retry_plan else []
        return [*embedded, *record.body.selected_retries]
    return []


def schema_reason(value: dict[str, Any], exc: Exception) -> str:
    """Why a record is invalid, in the published schema's words."""
    try:
        RECORD_ADAPTER.validate_python(value, context={"naive": []})
    except ValidationError as error:
        return describe_validation_error(error)
    return f"invalid record: {exc}"


def shape_problem(entry: Any) -> str | None:
    """Why an entry is not a record at all, or None when it has an object with id and kind."""
    if isinstance(entry, parse.Problem):
        return entry.reason
    if not isinstance(entry, dict):
        return f"not a JSON object but {_json_type(entry)}"
    session_id = entry.get("session_id")
    if not isinstance(session_id, str) or not session_id.strip():
        return "missing session_id" if session_id is None else "session_id must be a non-empty string"
    kind = entry.get("metadata_kind")
    if not isinstance(kind, str) or not kind:
        return "missing metadata_kind" if kind is None else "metadata_kind must be a non-empty string"
    return None


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first invalid field and how many more there were."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    # Discriminated unions prefix the location with the kind; the field path is what helps.
    loc = [str(part) for part in first["loc"] if part not in KNOWN_KINDS]
    where = ".".join(loc) or "record"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid {where}: {first['msg']}{more}"
