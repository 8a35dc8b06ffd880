"""The loader: evidence files, folders and stdin in; validated records with provenance out.

Nothing read is lost: every entry of every input becomes a record, a rejected entry with a
one-line reason, or a record no rule reads (upstream evidence outside the closure, a record of a
loop this version does not know, or an unrecognised kind), and the result says which. Formats
are told apart by content, not by file name.
"""

from __future__ import annotations

import errno
import hashlib
import io
import multiprocessing
import os
import signal
import stat
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import msgspec
import orjson
from pydantic import ValidationError

from reportgen.evidence import parse, sqlite_store, stream
from reportgen.evidence.lean import DECODER, Lean, RetryDecision, RetryPlan, WorkerRun, whole_numbers
from reportgen.evidence.ledger import EPOCH, Foreign, Ledger, quiet_gc
from reportgen.evidence.loops import standing_of_kind
from reportgen.evidence.masking import (
    SecretFound,
    mask_fields,
    mask_record,
    mask_string,
    may_hold_secrets,
    may_mark,
    strings_in,
)
from reportgen.evidence.schema import KNOWN_KINDS, RECORD_ADAPTER, Envelope, Provenance, parse_timestamp

STDIN_NAME = "<stdin>"
# Names read when a folder is walked; a file named on the command line is read whatever its name.
EVIDENCE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz", *sqlite_store.SUFFIXES)


class InputError(Exception):
    """An input that cannot be opened at all (a usage error, not a bad record); its message masked."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_string(message)[0])


@dataclass(frozen=True)
class InputFile:
    """One input file: its name as given, digest, size and how many entries it held."""

    path: str
    sha256: str
    bytes: int
    format: str
    records: int = 0


@dataclass(frozen=True)
class Rejection:
    """An entry (or a whole file, line None) that could not be read, and why."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class Unrecognised:
    """A well-formed record of a kind that is not CAVRA rollback-drill evidence; counted, never judged."""

    source: str
    line: int | None
    session_id: str
    metadata_kind: str


@dataclass(frozen=True)
class Conflict:
    """Two records with one session_id and different content; the later-created one is kept."""

    session_id: str
    kept: Provenance
    replaced: Provenance


@dataclass(frozen=True)
class Notice:
    """Something about an input that weakens the evidence without rejecting a record."""

    code: str
    source: str
    line: int | None
    detail: str


MIB = 1 << 20
# Inputs are read, copied and hashed this many bytes at a time.
CHUNK = 8 * MIB


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile input from exhausting memory."""

    max_record_bytes: int = 16 * MIB
    max_input_bytes: int = 4096 * MIB
    max_list_items: int = 1000


@dataclass(frozen=True)
class SecretExposed:
    """An unredacted secret found (and masked) in an input entry; never the secret itself."""

    source: str
    line: int | None
    session_id: str | None
    path: str
    kind: str


@dataclass
class LoadResult:
    """Everything the loader read: the folded evidence and the account of every entry."""

    ledger: Ledger = field(default_factory=Ledger)
    files: list[InputFile] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    duplicates: list[Provenance] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    secrets: list[SecretExposed] = field(default_factory=list)
    # Where the evidence can be read again: the input files, stdin as spooled to a temporary file.
    sources: list[tuple[str, str]] = field(default_factory=list)
    digests: dict[int, str] = field(default_factory=dict)
    dropped: set[tuple[int, int | None]] = field(default_factory=set)
    limits: Limits = field(default_factory=Limits)
    _spools: list[Any] = field(default_factory=list)
    _records: list[Envelope] | None = None

    @property
    def entries(self) -> int:
        """How many entries were read from all inputs."""
        return sum(f.records for f in self.files)

    @property
    def unrecognised(self) -> list[Unrecognised]:
        """The records of kinds that are not CAVRA rollback-drill evidence, in reading order."""
        return [Unrecognised(c[3], c[4], c[1], c[2]) for c in self.ledger.unrecognised]

    @property
    def records(self) -> list[Envelope]:
        """Every kept record in full, sorted by time then session id: the inputs read a second time."""
        if self._records is None:
            self._records = read_records(self)
        return self._records

    def records_at(self, places: set[tuple[str, int | None]]) -> list[Envelope]:
        """The kept records read at these places (source, line), sorted by time then session id."""
        return read_records(self, places)


@dataclass
class Found:
    """The command line's paths sorted out: files to read, files skipped, and paths not read with why."""

    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unread: list[tuple[str, str]] = field(default_factory=list)
    # Named on the command line and not a regular file (a pipe, `<(...)`, a device): read as a stream.
    streams: set[str] = field(default_factory=set)


# The files of a reportgen pack that a folder walk would take for evidence: the key and value that
# mark them as reportgen's own (the summary's schema, the manifest's predicate type), and every key
# such a file has, so that a file also carrying records (`items`, a record's own keys) is read.
PACK_FILES = {
    "summary.json": (
        ("schema_version", "reportgen.summary.v1"),
        frozenset({"schema_version", "generator", "rules", "as_of", "closure", "readiness", "counts", "inputs"}),
    ),
    "manifest.json": (
        ("predicateType", "https://reportgen.dev/readiness-pack/v1"),
        frozenset({"_type", "subject", "predicateType", "predicate"}),
    ),
    # The manifest's signature (reportgen.signing): a DSSE envelope, one JSON line.
    "manifest.intoto.jsonl": (
        ("payloadType", "application/vnd.in-toto+json"),
        frozenset({"payloadType", "payload", "signatures"}),
    ),
}
# The folders a build stages a pack in, inside the pack's folder: never evidence.
STAGING_PREFIX = ".reportgen-"


def expand_paths(paths: Sequence[str], exclude: str | None = None) -> Found:
    """Turn the command line's paths into files to read (folders walked, sorted), skipped and unread paths.

    `exclude` is the folder a build writes its pack into: wherever the walk meets it, the pack's own
    files and staging folders are not read; anything else a user put there is.
    """
    found = Found()
    avoid = _identity(exclude) if exclude else None
    for path in paths:
        if path == "-":
            found.files.append("-")
        elif os.path.isdir(path):
            _walk(path, found, avoid)
        elif os.path.exists(path) or os.path.islink(path):
            found.files.append(path)
            if os.path.exists(path) and not os.path.isfile(path):
                found.streams.add(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return found


def _identity(path: str) -> tuple[int, int] | None:
    """A folder's device and inode, to know it again by any name; None when it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _walk(folder: str, found: Found, avoid: tuple[int, int] | None) -> None:
    """Walk a folder in sorted order, a folder's files before its sub-folders; links to folders not followed."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            found.unread.append((Path(current).as_posix(), f"folder not read: {_why(exc)}"))
            continue
        folders = []
        in_pack = avoid is not None and _identity(current) == avoid
        for entry in entries:
            full = Path(current, entry.name).as_posix()
            if in_pack and (entry.name in PACK_FILES or entry.name.startswith(STAGING_PREFIX)):
                found.skipped.append(f"{full} (skipped: part of the pack this build writes)")
            elif _sort_entry(entry, full, found):
                folders.append(full)
        stack.extend(reversed(folders))


def _sort_entry(entry: os.DirEntry[str], full: str, found: Found) -> bool:
    """File one folder entry as read, skipped or not read; True for a sub-folder to walk."""
    evidence = entry.name.lower().endswith(EVIDENCE_SUFFIXES)
    try:
        info = entry.stat(follow_symlinks=False)
        link = stat.S_ISLNK(info.st_mode)
        if link:
            info = os.stat(full)
    except OSError as exc:
        if evidence or not entry.is_symlink():
            found.unread.append((full, f"not read: {_link_problem(exc) if entry.is_symlink() else _why(exc)}"))
        else:
            found.skipped.append(full)
        return False
    if stat.S_ISDIR(info.st_mode):
        if link:
            found.unread.append((full, "not read: a link to a folder (links to folders are not followed)"))
            return False
        return True
    _sort_file(entry.name, full, info.st_mode, link, evidence, found)
    return False


def _sort_file(name: str, full: str, mode: int, link: bool, evidence: bool, found: Found) -> None:
    """File a non-folder entry: read, skipped by name or as a pack's own file, or not read (not regular)."""
    if not evidence and not (stat.S_ISREG(mode) and sqlite_store.has_header(full)):
        found.skipped.append(full)
    elif not stat.S_ISREG(mode):
        what = stream.file_kind(mode)
        found.unread.append((full, f"not read: {'a link to ' if link else ''}{what}, not a regular file"))
    elif name in PACK_FILES and _is_pack_file(full, *PACK_FILES[name]):
        found.skipped.append(f"{full} (skipped: part of a reportgen pack, not evidence)")
    else:
        found.files.append(full)


def _is_pack_file(path: str, mark: tuple[str, str], keys: frozenset[str]) -> bool:
    """Whether a file is reportgen's own summary, manifest or signature (read within a size cap):
    its mark, and no key such a file does not have."""
    try:
        document = orjson.loads(stream.read_capped(path))  # a bigger one is read as evidence
    except (OSError, orjson.JSONDecodeError):  # stream.TooBig is an OSError
        return False
    return isinstance(document, dict) and document.get(mark[0]) == mark[1] and set(document) <= keys


def _why(exc: OSError) -> str:
    """An OS error in a few words."""
    return exc.strerror or str(exc)


def _link_problem(exc: OSError) -> str:
    """Why a link cannot be followed: broken, a loop, or the error itself."""
    if exc.errno == errno.ENOENT:
        return "a broken link (its target does not exist)"
    if exc.errno == errno.ELOOP:
        return "a link loop"
    return f"a link that cannot be followed: {_why(exc)}"


Progress = Callable[[int, int], None]
# How many entries pass between two progress reports; the report itself decides whether to show.
PROGRESS_EVERY = 2000
# A plain NDJSON file larger than this is split by byte range over the jobs.
SPLIT_BYTES = 32 * MIB
# A worker's exit code when Ctrl-C stops it (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130
# Workers are forked, so that they share this process's str hash seed (the ledger keeps ids as
# hashes); where fork does not exist (Windows) everything is read in this process.
FORK = "fork" in multiprocessing.get_all_start_methods()


@dataclass(frozen=True)
class Unit:
    """One piece of reading: a whole input, a byte range [start, end) of a plain NDJSON file, or a
    rowid range [start, end) of a SQLite database (`store` is then its state when planned)."""

    index: int
    name: str
    path: str
    span: tuple[int, int] | None = None
    store: sqlite_store.Stamp | None = None


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


@dataclass(frozen=True)
class Reading:
    """How to read: the limits, the as-of time, and the session ids read more than once (pass two)."""

    limits: Limits
    as_of: datetime | None = None
    suspects: frozenset[int] | None = None


class Rejected(Exception):
    """An entry that is not a record, with the one-line reason."""


def load(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    as_of: datetime | None = None,
    jobs: int = 1,
    exclude: str | None = None,
) -> LoadResult:
    """Read every input, fold every record in, and account for every entry (never the folder `exclude`).

    Records are folded as they are read. When a session id turns up more than once, the inputs
    are read a second time with those ids held aside, so duplicates count once and of conflicting
    copies the later-created is kept, exactly as if everything had been read in one go.
    """
    found = expand_paths(paths, exclude)
    as_of = as_of.astimezone(UTC) if as_of is not None else None  # as summary.resolve_as_of reads it
    result = LoadResult(Ledger(as_of), skipped=found.skipped, limits=limits or Limits())
    # A path not read is rejected whole, so the verdict cannot be closed over it.
    result.rejected = [Rejection(path, None, reason) for path, reason in found.unread]
    result.sources, result._spools = _sources(found, stdin, result.limits)
    mask_names(result)
    units = plan_units(result.sources, result.limits, jobs)
    with quiet_gc():
        parts = read_units(units, Reading(result.limits, as_of), jobs, progress)
        suspects = repeated_ids(parts)
        if suspects:
            parts = read_units(units, Reading(result.limits, as_of, frozenset(suspects)), jobs, progress)
        assemble(result, units, parts)
    mask_account(result)
    return result


# --- secrets in what the loader says about its inputs --------------------------------------------

# The lists of the account that carry strings out of the loader, and what one entry of each is.
ACCOUNT = {
    "files": "input file",
    "skipped": "skipped file",
    "rejected": "rejection",
    "unrecognised": "unrecognised record",
    "notices": "notice",
    "conflicts": "conflict",
    "duplicates": "duplicate",
}


def mask_names(result: LoadResult) -> None:
    """Mask every input's name before it is read: a name travels into every citation of its records.

    Two inputs whose names mask alike are told apart by their place on the command line.
    """
    named: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (name, path) in enumerate(result.sources):
        masked = _said(result, name, (name, None, None), "input file name")
        if masked != name and masked in seen:
            masked = f"{masked} (input {index + 1})"
        seen.add(masked)
        named.append((masked, path))
    result.sources = named


def mask_account(result: LoadResult) -> None:
    """Mask every string the account carries out of the loader (reasons, notices, names, ids),
    each secret found noted as exposed where it was: an error message must not repeat a secret."""
    # A list the result derives instead of holding is masked where it is derived from.
    held = {f.name for f in fields(result)}
    lists = {name: label for name, label in ACCOUNT.items() if name in held}
    if not may_mark(chain.from_iterable(strings_in(entry) for name in lists for entry in getattr(result, name))):
        return
    for name, label in lists.items():
        setattr(result, name, [_masked_entry(result, entry, label) for entry in getattr(result, name)])


def _masked_entry(result: LoadResult, entry: Any, label: str) -> Any:
    """One entry of the account with every string in it masked, a secret noted at the entry's place."""
    if isinstance(entry, str):
        return _said(result, entry, (entry, None, None), f"{label} name")
    # A conflict is cited where its kept copy was read.
    kept = getattr(entry, "kept", None)
    source = getattr(entry, "source", None) or getattr(entry, "path", None) or getattr(kept, "source", None)
    where = (source, getattr(entry, "line", None), getattr(entry, "session_id", None))
    return mask_fields(entry, lambda text, name: _said(result, text, where, f"{label} {name}"))


def _said(result: LoadResult, text: str, where: tuple[Any, int | None, Any], what: str) -> str:
    """A string the loader says, masked; a secret in it is noted as exposed at `where`."""
    masked, kinds = mask_string(text)
    if masked == text:
        return text
    source, line, session_id = where
    sid = mask_string(session_id)[0] if isinstance(session_id, str) else None
    place = mask_string(source)[0] if isinstance(source, str) else ""
    result.secrets += [SecretExposed(place, line, sid, what, kind) for kind in kinds]
    return masked


def _sources(found: Found, stdin: BinaryIO | None, limits: Limits) -> tuple[list[tuple[str, str]], list[Any]]:
    """(name, path) of every input. stdin and other streams named on the command line (a pipe,
    `<(...)`) are copied to temporary files as they are read, so they can be read again and split
    like any file; every other path is opened as a regular file or rejected, never waited on."""
    spools = []
    sources = []
    for path in found.files:
        name = STDIN_NAME if path == "-" else path
        if path != "-" and path not in found.streams:
            sources.append((name, path))
            continue
        if path == "-":
            spools.append(_spool(stdin or io.BytesIO(), name, limits))
        else:
            try:
                with open(path, "rb") as handle:
                    spools.append(_spool(handle, name, limits))
            except OSError:
                sources.append((name, path))  # read_unit rejects it with the reason
                continue
        sources.append((name, spools[-1].name))
    return sources, spools


def _spool(handle: BinaryIO, name: str, limits: Limits) -> Any:
    """A temporary file holding what a stream gives, within the input size limit.

    A stream that never ends (a character device such as /dev/zero) stops at the limit; a full or
    failing temporary folder is a one-line InputError, never a traceback.
    """
    try:
        spool = tempfile.NamedTemporaryFile(prefix="reportgen-input-", suffix=".evidence")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{name}: cannot make a temporary file to copy it into: {_why(exc)}") from None
    try:
        _copy(handle, spool, name, limits)
    except BaseException:
        spool.close()
        raise
    return spool


def _copy(handle: BinaryIO, spool: Any, name: str, limits: Limits) -> None:
    """Copy a stream into its temporary file, stopping one chunk past the input size limit."""
    copied = 0
    while True:
        try:
            chunk = handle.read(min(CHUNK, limits.max_input_bytes + 1 - copied))
        except OSError as exc:
            raise InputError(f"{name}: cannot be read: {_why(exc)}") from None
        if not chunk:
            break
        copied += len(chunk)
        if copied > limits.max_input_bytes:
            raise InputError(over_budget(name, limits))
        try:
            spool.write(chunk)
        except OSError as exc:
            raise InputError(f"{name}: cannot copy it to the temporary folder: {_why(exc)}") from None
    try:
        spool.flush()
    except OSError as exc:
        raise InputError(f"{name}: cannot copy it to the temporary folder: {_why(exc)}") from None


def over_budget(name: str, limits: Limits) -> str:
    """The one-line error for inputs over the total size limit."""
    return f"{name}: the inputs exceed the input size limit of {limits.max_input_bytes} bytes (--max-input-bytes)"


def plan_units(sources: list[tuple[str, str]], limits: Limits, jobs: int) -> list[Unit]:
    """Cut the inputs into units of reading; plain files count against the budget before any is read."""
    budget = limits.max_input_bytes
    for name, path in sources:
        if os.path.isfile(path) and not _is_gzip(path):
            budget -= os.path.getsize(path)
            if budget < 0:
                raise InputError(over_budget(name, limits))
    units: list[Unit] = []
    for index, (name, path) in enumerate(sources):
        if is_database(path):
            units += database_units(index, name, path, jobs if FORK else 1)
            continue
        split = jobs > 1 and FORK and splittable(path, limits)
        ranges = stream.ndjson_ranges(path, jobs) if split else []
        if len(ranges) > 1:
            units += [Unit(index, name, path, (start, end)) for start, end in ranges]
        else:
            units.append(Unit(index, name, path))
    return units


# --- reading units, here or in worker processes ----------------------------------------------

# Set before the worker processes fork, so they inherit it instead of receiving it per unit.
_READING: Reading | None = None
_PROGRESS: Any = None


def is_database(path: str) -> bool:
    """Whether an input is read as a SQLite database: it has the header, or is named like one and
    is not JSON text (an encrypted database has no header, and is told so)."""
    if not os.path.isfile(path):
        return False
    if sqlite_store.has_header(path):
        return True
    if not sqlite_store.named_like(path):
        return False
    try:
        with stream.open_regular(path) as handle:
            head = handle.read(64).removeprefix(parse.UTF8_BOM).lstrip()
    except OSError:
        return False
    return not head.startswith((b"{", b"[")) and bool(head)


def database_units(index: int, name: str, path: str, jobs: int) -> list[Unit]:
    """A database's units: its rowid ranges, one for a small table or one that cannot be read
    (read_unit says why)."""
    sqlite_store.ROWID_SOURCES.add(name)
    try:
        state = sqlite_store.stamp(path)
        spans = sqlite_store.spans(path, jobs)
    except (sqlite_store.StoreError, OSError):
        return [Unit(index, name, path, sqlite_store.ALL_ROWS, sqlite_store.UNREAD)]
    return [Unit(index, name, path, span, state) for span in spans]


def splittable(path: str, limits: Limits) -> bool:
    """Whether a file is plain NDJSON big enough to be split by byte range over the jobs."""
    try:
        return os.path.getsize(path) > SPLIT_BYTES and stream.splittable(path, limits.max_record_bytes)
    except OSError:  # read_unit says why it cannot be read
        return False


def _is_gzip(path: str) -> bool:
    """Whether a file starts with gzip's magic bytes."""
    try:
        with stream.open_regular(path) as handle:
            return handle.read(2) == parse.GZIP_MAGIC
    except OSError:
        return False


def read_units(units: list[Unit], reading: Reading, jobs: int, progress: Progress | None) -> list[Part]:
    """Read every unit, in worker processes when there is more than one job and more than one unit."""
    if jobs <= 1 or len(units) <= 1 or not FORK:
        return _read_here(units, reading, progress)
    return _read_in_workers(units, reading, jobs, progress)


def _read_here(units: list[Unit], reading: Reading, progress: Progress | None) -> list[Part]:
    """Read the units one after the other in this process."""
    parts: list[Part] = []
    done = [0, 0]

    def report(bytes_read: int, entries: int) -> None:
        if progress is not None:
            progress(done[0] + bytes_read, done[1] + entries)

    for unit in units:
        part = read_unit(unit, reading, report)
        done[0] += part.decompressed
        done[1] += part.entries
        parts.append(part)
    return parts


def _read_in_workers(units: list[Unit], reading: Reading, jobs: int, progress: Progress | None) -> list[Part]:
    """Read the units in forked worker processes, reporting their progress from here.

    When there are no more units than jobs, this process reads the first unit itself: one
    process fewer, and one ledger fewer to send back. A worker that dies (the out-of-memory
    killer, a signal) makes this an InputError instead of a wait that never ends.
    """
    global _READING, _PROGRESS
    context = multiprocessing.get_context("fork")
    _READING, _PROGRESS = reading, context.Array("q", 2 * len(units), lock=False)
    digests = _FileDigests(units)
    here = len(units) <= jobs
    numbered = list(enumerate(units))
    pool = ProcessPoolExecutor(len(units) - 1 if here else jobs, mp_context=context, initializer=_worker_signals)
    try:
        futures = [pool.submit(_work, n) for n in (numbered[1:] if here else numbered)]
        own = [_work(numbered[0], progress)] if here else []
        while futures_wait(futures, timeout=0.25).not_done:
            _show(progress)
        parts = own + [future.result() for future in futures]
        # Every worker is done: wait for the pool to close its pipes, or its management thread may
        # write to a closed one as the interpreter exits and print a traceback.
        pool.shutdown(wait=True)
    except BrokenProcessPool:
        raise InputError("a worker process reading the evidence died (out of memory?); try --jobs 1") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        _READING, _PROGRESS = None, None
    for part, unit in zip(parts, units, strict=True):
        if part.file is None and unit.span is not None and unit.span[0] == 0:
            part.file = digests.file(unit)
    return parts


def _worker_signals() -> None:
    """In a worker: Ctrl-C (sent to the whole process group) ends it quietly; the parent reports it."""
    signal.signal(signal.SIGINT, lambda _signum, _frame: os._exit(EXIT_INTERRUPTED))
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)


def _show(progress: Progress | None) -> None:
    """Tell the progress report what every worker has read so far."""
    if progress is not None:
        shown = list(_PROGRESS)
        progress(sum(shown[0::2]), sum(shown[1::2]))


def _work(numbered: tuple[int, Unit], progress: Progress | None = None) -> Part:
    """Read one unit, in a worker process or (with `progress`) here."""
    slot, unit = numbered
    assert _READING is not None

    def report(bytes_read: int, entries: int) -> None:
        _PROGRESS[2 * slot], _PROGRESS[2 * slot + 1] = bytes_read, entries
        _show(progress)

    return read_unit(unit, _READING, report)


class _FileDigests:
    """The sha256 of every file split by byte range, computed in a thread while the workers read."""

    def __init__(self, units: list[Unit]) -> None:
        paths = sorted({u.path for u in units if u.span is not None and u.store is None})
        self.threads = {path: _DigestThread(path) for path in paths}
        for thread in self.threads.values():
            thread.start()

    def file(self, unit: Unit) -> InputFile:
        """The facts of a split file (its entries are added as its ranges are assembled)."""
        thread = self.threads[unit.path]
        thread.join()
        return InputFile(path=unit.name, sha256=thread.digest, bytes=thread.size, format="ndjson")


class _DigestThread(threading.Thread):
    """Hash one file (hashlib lets go of the interpreter while it hashes)."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path, self.digest, self.size = path, "", 0

    def run(self) -> None:
        """Read and hash the file in chunks."""
        digest = hashlib.sha256()
        with open(self.path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                self.size += len(chunk)
        self.digest = digest.hexdigest()


# --- reading one unit -------------------------------------------------------------------------


def read_unit(unit: Unit, reading: Reading, report: Progress) -> Part:
    """Read one unit's entries into a part: each folded in, rejected, held aside or not recognised."""
    part = Part(Ledger(reading.as_of))
    reader = EntryReader(part, unit, reading, report)
    limits = reading.limits
    if unit.store is not None:
        return read_database(unit, part, reader, limits)
    if unit.span is not None:
        start, end = unit.span
        # A range's lines are numbered from the newlines before it: counting them is memchr-fast.
        first = 1 + stream.count_newlines(unit.path, 0, start) if start else 1
        for entry in stream.range_entries(unit.path, start, end, first, limits.max_record_bytes):
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
    _file_problems(part, unit.name, opened)
    part.decompressed = opened.charged
    part.file = InputFile(path=unit.name, sha256=opened.sha256, bytes=opened.size, format=opened.format)
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
        reason = str(exc) if isinstance(exc, sqlite_store.StoreError) else f"cannot read file: {_why(exc)}"
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

    def read(self, entry: stream.RawEntry) -> None:
        """Account for one entry."""
        part = self.part
        part.entries += 1
        self.bytes += len(entry.raw or b"") + 1
        if part.entries % PROGRESS_EVERY == 0:
            self.report(self.bytes, part.entries)
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

    def checked(self, entry: stream.RawEntry) -> None:
        """Account for an entry step by step: rejected with its reason, kept, or kept as a record no rule reads."""
        try:
            value, raw = self.value(entry)
            kind = value["metadata_kind"]
            if kind not in KNOWN_KINDS:
                foreign = Foreign(value["session_id"], kind, standing_of_kind(kind))
                self.keep(foreign, _created(value), value, entry.line)
                return
            record, at = self.record(entry, value, raw)
        except Rejected as exc:
            self.part.rejected.append(Rejection(self.unit.name, entry.line, str(exc)))
            return
        self.keep(record, at, value, entry.line)

    def value(self, entry: stream.RawEntry) -> tuple[dict[str, Any], bytes]:
        """The entry parsed, its secrets masked, checked to be an object with an id and a kind."""
        value, raw = stream.value_of(entry), entry.raw
        if isinstance(value, parse.Problem):
            raise Rejected(value.reason)
        if raw is None or may_hold_secrets(raw):
            value = self.masked(value, entry.line)
            raw = orjson.dumps(value)
        problem = _shape_problem(value)
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

    def record(self, entry: stream.RawEntry, value: dict[str, Any], raw: bytes) -> tuple[Lean, datetime]:
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


def fold(ledger: Ledger, record: Lean | Foreign, at: datetime | None, source: str, line: int | None) -> None:
    """Fold one kept record into a ledger: a record the rules read, or one no rule reads."""
    if isinstance(record, Foreign):
        ledger.add_foreign(record, at, source, line)
    else:
        ledger.add(record, at or EPOCH, source, line)


def _created(value: dict[str, Any]) -> datetime | None:
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


# --- putting the parts together ---------------------------------------------------------------


def repeated_ids(parts: list[Part]) -> set[int]:
    """The session ids (as hashes) that more than one entry carried."""
    total = sum(len(part.ledger.sids) for part in parts)
    if len(set().union(*(part.ledger.sids for part in parts))) == total:
        return set()
    counts = Counter(chain.from_iterable(part.ledger.sids for part in parts))
    return {key for key, count in counts.items() if count > 1}


def assemble(result: LoadResult, units: list[Unit], parts: list[Part]) -> None:
    """Merge the parts, in input order, into the result; settle the records held aside."""
    files: dict[int, InputFile] = {}
    decompressed: dict[int, int] = {}
    for unit, part in zip(units, parts, strict=True):
        result.ledger.merge(part.ledger)
        # The ranges of one database that cannot be read each say so; the file is rejected once.
        result.rejected += [r for r in part.rejected if unit.store is None or r.line is not None or r not in result.rejected]
        result.notices += part.notices
        result.secrets += part.secrets
        found = files.get(unit.index) or part.file
        if found is not None:  # None: the file could not be opened, and is rejected whole
            files[unit.index] = replace(found, records=found.records + part.entries)
            decompressed[unit.index] = decompressed.get(unit.index, 0) + part.decompressed
    result.files = [files[i] for i in sorted(files)]
    _check_budget(result, files, decompressed)
    result.digests = {index: f.sha256 for index, f in files.items()}
    settle([held for part in parts for held in part.held], result)


def _check_budget(result: LoadResult, files: dict[int, InputFile], decompressed: dict[int, int]) -> None:
    """Refuse inputs whose decompressed size, all together, is over the input limit."""
    total = 0
    for index in sorted(files):
        total += decompressed[index]
        if total > result.limits.max_input_bytes:
            raise InputError(over_budget(files[index].path, result.limits))


def settle(held: list[Held], result: LoadResult) -> None:
    """Of the records sharing a session id: duplicates count once, conflicts keep the later-created."""
    kept: dict[str, Held] = {}
    for record in held:
        sid = record.record.session_id
        previous = kept.get(sid)
        if previous is None:
            kept[sid] = record
        elif previous.digest == record.digest:
            result.duplicates.append(_provenance(record, result))
            result.dropped.add((record.index, record.line))
        else:
            newer = (record.at or EPOCH) >= (previous.at or EPOCH)
            winner, loser = (record, previous) if newer else (previous, record)
            result.conflicts.append(Conflict(sid, _provenance(winner, result), _provenance(loser, result)))
            result.dropped.add((loser.index, loser.line))
            if newer:
                kept[sid] = record
    for record in kept.values():
        fold(result.ledger, record.record, record.at, result.sources[record.index][0], record.line)


def _provenance(held: Held, result: LoadResult) -> Provenance:
    """Where a held record was read."""
    return Provenance(source=result.sources[held.index][0], line=held.line, sha256=result.digests[held.index])


def read_records(result: LoadResult, places: set[tuple[str, int | None]] | None = None) -> list[Envelope]:
    """Read the inputs again for the kept records in full: all of them, or those at `places`.

    An input whose bytes are not the ones judged (changed since) is an InputError: a pack never
    shows records from other evidence than its verdict's.
    """
    records = [read.record for read in reread(result, places) if read.record is not None]
    return sorted(records, key=lambda r: (r.created_at, r.session_id))


def read_entries(result: LoadResult) -> list[dict[str, Any]]:
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


def reread(result: LoadResult, places: set[tuple[str, int | None]] | None, copies: bool = False) -> list[Reread]:
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
    result: LoadResult,
    source: tuple[int, str],
    entry: stream.RawEntry,
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
    result: LoadResult,
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
    entry: stream.RawEntry, name: str, sha256: str, dropped: bool, limits: Limits | None = None
) -> Reread | None:
    """One entry read again: a full, validated record, a record no rule reads, or None when it is
    not a well-formed record."""
    reader = EntryReader(Part(Ledger()), Unit(0, name, ""), Reading(limits or Limits()), lambda _b, _n: None)
    try:
        value, _ = reader.value(entry)
        if value["metadata_kind"] not in KNOWN_KINDS:
            return Reread(value["session_id"], _created(value) or EPOCH, value, dropped, None)
        record = RECORD_ADAPTER.validate_python(value, context={"naive": []})
    except (Rejected, ValidationError):
        return None
    record._provenance = Provenance(source=name, line=entry.line, sha256=sha256)
    return Reread(record.session_id, record.created_at, value, dropped, record)


def _shape_problem(entry: Any) -> str | None:
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
