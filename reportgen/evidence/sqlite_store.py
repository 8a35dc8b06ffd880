"""CAVRA's SQLite evidence store (reference §1.3) read as evidence: rows in, RawEntries out.

The database is opened read-only and `immutable`, so SQLite takes no lock and creates no `-wal`,
`-shm` or `-journal` beside it: reading never slows or blocks the CAVRA process writing to it.
`immutable` also means SQLite cannot see another writer, so reportgen checks for one itself: a
database with a `-journal` holding anything (a write in progress or interrupted) or changes still
in its `-wal` is refused, and so is one whose size, time or identity changes while it is read. What is read is
then exactly the committed database file whose sha256 the inventory records.

Rows are fetched `BATCH` at a time in `rowid` order, each payload at most the record size limit
(a longer one is measured by SQLite, never fetched), so memory does not grow with the row count.
Each row becomes a RawEntry numbered by its rowid: from there it is read exactly as a JSON record.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import sqlite3
import urllib.parse
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from reportgen.evidence.parse import RawEntry, over_limit

HEADER = b"SQLite format 3\x00"
# Names a folder walk reads as databases (any other walked file is read when it has the header).
SUFFIXES = (".db", ".sqlite", ".sqlite3")
FORMAT = "sqlite"
TABLE = "evidence_metadata"
COLUMNS = ("session_id", "created_at", "signer", "decision_count", "blocked_count", "approval_required_count")
COUNTS = COLUMNS[3:]
# Rows fetched from SQLite at a time.
BATCH = 512
# The whole range of SQLite rowids, as [start, end).
ALL_ROWS = (-(1 << 63), 1 << 63)
# Fewer rows than this are read by one process whatever --jobs says.
SPLIT_ROWS = 4096
CHUNK = 4 << 20


class StoreError(Exception):
    """A database that cannot be read as a CAVRA evidence store; the message says why in one line."""


@dataclass(frozen=True)
class Stamp:
    """What identifies the database file's state: a change between two stamps means a writer."""

    device: int
    inode: int
    size: int
    mtime_ns: int


# A database whose state could not be taken when it was planned: read_unit says why.
UNREAD = Stamp(0, 0, 0, 0)
def location(source: str, line: int | None, stores: Collection[str]) -> str:
    """Where an entry was read: `file:line`, `store.db#rowid=42` for a row of one of the inputs read
    as databases (`stores`, by name: a citation carries only a name and a number), or the file alone."""
    if line is None:
        return source
    return f"{source}#rowid={line}" if source in stores else f"{source}:{line}"


def stores_of(files: Iterable[Any]) -> frozenset[str]:
    """The names of the inputs of an inventory (anything with a path and a format) read as databases."""
    return frozenset(f.path for f in files if f.format == FORMAT)


def snapshot_hint(path: str) -> str:
    """How to read a database that is being written to: a consistent copy made by SQLite itself."""
    return f"read a snapshot instead: sqlite3 {shlex.quote(os.path.basename(path))} '.backup snapshot.db'"


def has_header(path: str) -> bool:
    """Whether a file starts with the SQLite header (unreadable files are not databases)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(HEADER)) == HEADER
    except OSError:
        return False


def named_like(path: str) -> bool:
    """Whether a file's name is one a folder walk reads as a database."""
    return path.lower().endswith(SUFFIXES)


def stamp(path: str) -> Stamp:
    """The database file's state now, after checking no writer has left changes beside it."""
    _check_companions(path)
    info = os.stat(path)
    return Stamp(info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def _check_companions(path: str) -> None:
    """Refuse a database with a journal or changes in its WAL: its file alone is not its contents.

    A journal with content is a write in progress or interrupted (a hot journal, its header not
    yet written), or one that `journal_mode=PERSIST` keeps: without taking a lock reportgen cannot
    tell them apart, so it reads none of them.
    """
    name = os.path.basename(path)
    if _size(path + "-journal"):
        raise StoreError(f"a write is in progress or was interrupted ({name}-journal); {snapshot_hint(path)}")
    wal = _size(path + "-wal")
    if wal:
        pending = f"in WAL mode with {wal} bytes of changes not yet checkpointed into it ({name}-wal)"
        raise StoreError(f"{pending}; {snapshot_hint(path)}")


def _size(path: str) -> int:
    """A file's size, 0 when it does not exist."""
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def _check_size(path: str) -> None:
    """Refuse a database shorter than its header says it is (a cut copy)."""
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100:
        raise StoreError(f"truncated: {len(header)} bytes, shorter than a SQLite header")
    page = int.from_bytes(header[16:18], "big")
    page = 65536 if page == 1 else page
    pages = int.from_bytes(header[28:32], "big")
    size = os.path.getsize(path)
    # The header's page count is valid only when its change counter matches (SQLite's own rule).
    if pages and header[24:28] == header[92:96] and size < page * pages:
        raise StoreError(f"truncated: the header says {page * pages} bytes, the file has {size}")


def connect(path: str) -> sqlite3.Connection:
    """Open the database read-only and immutable (no lock, no file created), its schema checked."""
    if not has_header(path):
        raise StoreError("not a SQLite database: no SQLite header (encrypted, or not a database at all)")
    _check_size(path)
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        conn.text_factory = lambda data: data.decode("utf-8", "replace")
        _check_schema(conn)
    except sqlite3.Error as exc:
        raise StoreError(f"damaged SQLite database: {exc}") from None
    return conn


def _check_schema(conn: sqlite3.Connection) -> None:
    """Refuse a database without the reference's table and columns (§1.3)."""
    columns = [row[1] for row in conn.execute(f"PRAGMA table_info({TABLE})")]
    if not columns:
        raise StoreError(f"not a CAVRA evidence store: it has no table {TABLE}")
    expected = (*COLUMNS, "payload")
    missing = [c for c in expected if c not in columns]
    extra = [c for c in columns if c not in expected]
    if missing or extra:
        said = [f"missing {', '.join(missing)}"] * bool(missing) + [f"unexpected {', '.join(extra)}"] * bool(extra)
        raise StoreError(f"table {TABLE} does not have the reference's columns ({'; '.join(said)})")
    try:
        conn.execute(f"SELECT rowid FROM {TABLE} LIMIT 0")
    except sqlite3.OperationalError:
        raise StoreError(f"{TABLE} has no rowid to read its rows in order by (a view, or WITHOUT ROWID)") from None


def row_count(path: str) -> tuple[int, int, int]:
    """How many rows the table holds, and its smallest and largest rowid (for splitting)."""
    conn = connect(path)
    try:
        count, low, high = conn.execute(f"SELECT count(*), min(rowid), max(rowid) FROM {TABLE}").fetchone()
    except sqlite3.Error as exc:
        raise StoreError(f"damaged SQLite database: {exc}") from None
    finally:
        conn.close()
    return count, low or 0, high or 0


def spans(path: str, parts: int) -> list[tuple[int, int]]:
    """[start, end) rowid ranges covering every row, at most `parts`, none for a small table."""
    count, low, high = row_count(path)
    if parts < 2 or count < SPLIT_ROWS:
        return [ALL_ROWS]
    cuts = sorted({low + (high - low + 1) * n // parts for n in range(1, parts)} - {low})
    bounds = [ALL_ROWS[0], *cuts, ALL_ROWS[1]]
    return list(zip(bounds, bounds[1:], strict=False))


def batches(conn: sqlite3.Connection, span: tuple[int, int], max_record: int) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a rowid range, in rowid order, BATCH at a time; a payload over `max_record` not fetched."""
    query = (
        f"SELECT rowid, {', '.join(COLUMNS)}, typeof(payload), length(CAST(payload AS BLOB)), "
        f"CASE WHEN length(CAST(payload AS BLOB)) > ? THEN NULL ELSE CAST(payload AS BLOB) END "
        f"FROM {TABLE} WHERE rowid >= ? AND rowid <= ? ORDER BY rowid"
    )
    # The end is exclusive; as `<=` it reaches the largest rowid, 2**63 - 1, too.
    cursor = conn.execute(query, (max_record, span[0], span[1] - 1))
    while rows := cursor.fetchmany(BATCH):
        yield rows


def entry(row: tuple[Any, ...], max_record: int) -> RawEntry:
    """One row as an entry numbered by its rowid: its payload, or why it has none or disagrees."""
    rowid, *columns, kind, length, payload = row
    if kind == "null":
        return RawEntry(rowid, None, "payload is NULL", FORMAT)
    if payload is None:
        return RawEntry(rowid, None, over_limit(length, max_record), FORMAT)
    problem = disagreement(dict(zip(COLUMNS, columns, strict=True)), payload)
    return RawEntry(rowid, None if problem else payload, problem, FORMAT)


def disagreement(columns: dict[str, Any], payload: bytes) -> str | None:
    """Which column says other than the payload it indexes; None when they agree (or the payload is
    not a JSON object, which the record's own reading rejects with its reason)."""
    try:
        value = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    for name, column in columns.items():
        said = value.get(name)
        if name in COUNTS and said is None:
            said = 0  # a store writes a count the item lacks as 0
        agree = column == said and type(column) is type(said) if name in COUNTS else column == said
        if not agree and not (column in (None, "") and said in (None, "")):
            return f"column {name} is {_short(column)} but the payload says {_short(said)}"
    return None


def _short(value: Any) -> str:
    """A column or payload value in at most 60 characters."""
    text = orjson.dumps(value).decode() if isinstance(value, str | int | float | type(None)) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def entries(path: str, span: tuple[int, int], max_record: int, expected: Stamp = UNREAD) -> Iterator[RawEntry]:
    """Every row of a rowid range as an entry; StoreError when the database cannot be read, or is
    not in the `expected` state (the one its other ranges are read in) or changes while read."""
    before = stamp(path)
    conn = connect(path)
    if expected not in (UNREAD, before):
        conn.close()
        raise StoreError(f"changed while reportgen was reading it; {snapshot_hint(path)}")
    last = None
    try:
        for rows in batches(conn, span, max_record):
            for row in rows:
                last = row[0]
                yield entry(row, max_record)
    except sqlite3.Error as exc:
        after = "" if last is None else f"; the rows after rowid {last} were not read"
        raise StoreError(f"damaged SQLite database: {exc}{after}") from None
    finally:
        conn.close()
    if stamp(path) != before:
        raise StoreError(f"changed while reportgen was reading it; {snapshot_hint(path)}")


def digest(path: str) -> tuple[str, int]:
    """The database file's sha256 and size."""
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size
