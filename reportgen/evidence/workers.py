"""Cutting the inputs into units of reading, and reading the units here or in forked worker processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import pickle
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait as futures_wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from reportgen.evidence import fanout, ndjson, sqlite_store, store_ranges, stream
from reportgen.evidence.children import FORK, child_signals
from reportgen.evidence.discover import is_database, is_gzip, is_spool
from reportgen.evidence.inputs import CHUNK, MIB, InputError, InputFile, Limits, over_budget
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.reader import Part, Progress, Reading, Unit, read_unit
from reportgen.evidence.store_ranges import ItemCut

# A plain NDJSON file (or a pretty-printed store file) larger than this is split by byte range over the jobs.
SPLIT_BYTES = 32 * MIB


def plan_units(sources: list[tuple[str, str]], limits: Limits, jobs: int) -> list[Unit]:
    """Cut the inputs into units of reading; plain files count against the budget before any is read."""
    budget = limits.max_input_bytes
    for name, path in sources:
        if os.path.isfile(path) and not is_gzip(path):
            budget -= os.path.getsize(path)
            if budget < 0:
                raise InputError(over_budget(name, limits))
    units: list[Unit] = []
    for index, (name, path) in enumerate(sources):
        if is_database(path):
            units += database_units(index, name, path, jobs if FORK else 1)
            continue
        kind = split_kind(path, limits) if jobs > 1 and FORK else None
        split = {"ndjson": ndjson_units, "document": store_units}.get(kind or "")
        units += (split(index, name, path, jobs) if split else []) or [Unit(index, name, path)]
    return units


def ndjson_units(index: int, name: str, path: str, jobs: int) -> list[Unit]:
    """A plain NDJSON file's byte ranges, each starting at a line; none when it is one range."""
    ranges = ndjson.ndjson_ranges(path, jobs)
    return [Unit(index, name, path, span) for span in ranges] if len(ranges) > 1 else []


def store_units(index: int, name: str, path: str, jobs: int) -> list[Unit]:
    """A pretty-printed store file's byte ranges, each starting at an item; none for any other document.

    A spooled stream (stdin) is read whole: it is one, and only files are worth the risk.
    """
    try:
        indent = store_ranges.items_indent(path) if not is_spool(path) else None
        ranges = store_ranges.store_ranges(path, jobs, indent) if indent is not None else []
    except OSError:  # read_unit says why it cannot be read
        return []
    if indent is None or len(ranges) < 2:
        return []
    size = ranges[-1][1]
    return [Unit(index, name, path, span, items=ItemCut(indent, span[1] == size)) for span in ranges]


# --- reading units, here or in worker processes ----------------------------------------------

# Set before the worker processes fork, so they inherit it instead of receiving it per unit.
_READING: Reading | None = None
_PROGRESS: Any = None


def database_units(index: int, name: str, path: str, jobs: int) -> list[Unit]:
    """A database's units: its rowid ranges, one for a small table or one that cannot be read
    (read_unit says why)."""
    try:
        state = sqlite_store.stamp(path)
        spans = sqlite_store.spans(path, jobs)
    except (sqlite_store.StoreError, OSError):
        return [Unit(index, name, path, sqlite_store.ALL_ROWS, sqlite_store.UNREAD)]
    return [Unit(index, name, path, span, state) for span in spans]


def split_kind(path: str, limits: Limits) -> str | None:
    """How a file big enough to be split over the jobs is read ("ndjson" or "document"), else None."""
    try:
        if os.path.getsize(path) <= SPLIT_BYTES:
            return None
        kind = stream.sniff_file(path, limits.max_record_bytes)
    except OSError:  # read_unit says why it cannot be read
        return None
    return kind if kind in ("ndjson", "document") else None


def read_units(units: list[Unit], reading: Reading, jobs: int, progress: Progress | None) -> list[Part]:
    """Read every unit, in worker processes when there is more than one job and more than one unit
    (one big whole input is then shared with a helper process instead)."""
    if jobs <= 1 or len(units) <= 1 or not FORK:
        parts = _read_here(units, reading, progress, jobs)
    else:
        parts = _read_in_workers(units, reading, jobs, progress)
    return _whole_stores(units, parts, reading, progress, jobs)


def _whole_stores(
    units: list[Unit], parts: list[Part], reading: Reading, progress: Progress | None, jobs: int
) -> list[Part]:
    """Read again, whole and here, every store file whose ranges did not join up into the whole document.

    The whole read's part takes the place of the file's first range, empty parts the others', so
    the parts still match the units one to one.
    """
    for index in sorted({unit.index for unit in units if unit.items is not None}):
        slots = [n for n, unit in enumerate(units) if unit.index == index]
        reads = [(parts[n].sound, parts[n].first_item, parts[n].entries) for n in slots]
        planned, hashed = units[slots[-1]].span, parts[slots[0]].file
        if planned and hashed and store_ranges.joined(reads, planned[1], hashed.bytes):
            continue
        first = units[slots[0]]
        parts[slots[0]] = _read_here([Unit(first.index, first.name, first.path)], reading, progress, jobs)[0]
        for n in slots[1:]:
            parts[n] = Part(Ledger(reading.as_of))
    return parts


def _read_here(units: list[Unit], reading: Reading, progress: Progress | None, jobs: int) -> list[Part]:
    """Read the units one after the other in this process (a big whole input shared with a helper
    process when there are jobs to spare: evidence.fanout)."""
    parts: list[Part] = []
    done = [0, 0]

    def report(bytes_read: int, entries: int) -> None:
        if progress is not None:
            progress(done[0] + bytes_read, done[1] + entries)

    for unit in units:
        with fanout.shared(unit, reading, jobs) as make:
            part = read_unit(unit, reading, report, make)
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
    pool = ProcessPoolExecutor(len(units) - 1 if here else jobs, mp_context=context, initializer=child_signals)
    try:
        futures = [pool.submit(_work_elsewhere, n) for n in (numbered[1:] if here else numbered)]
        own = [_work(numbered[0], progress)] if here else []
        while futures_wait(futures, timeout=0.25).not_done:
            _show(progress)
        sent = [future.result() for future in futures]
        futures.clear()  # `sent` alone holds the pickles now, and lets go of each as it is unpickled
        # Every worker is done: let them end (and give their memory back) before their parts are
        # unpickled here. Waiting also lets the pool close its pipes, or its management thread may
        # write to a closed one as the interpreter exits and print a traceback.
        pool.shutdown(wait=True)
        parts = own + [_unpickled(sent, n) for n in range(len(sent))]
    except BrokenProcessPool:
        raise InputError("a worker process reading the evidence died (out of memory?); try --jobs 1") from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        _READING, _PROGRESS = None, None
    for part, unit in zip(parts, units, strict=True):
        if part.file is None and unit.span is not None and unit.span[0] == 0:
            part.file = digests.file(unit)
    return parts


def _work_elsewhere(numbered: tuple[int, Unit]) -> bytes:
    """Read one unit in a worker process and send back its part pickled: the worker can then end
    before the parent unpickles it, so a large ledger is not held by both at once."""
    return pickle.dumps(_work(numbered), protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled(sent: list[bytes | None], n: int) -> Part:
    """The part a worker sent, its pickle let go of as soon as it is read."""
    data, sent[n] = sent[n], None
    assert data is not None
    return pickle.loads(data)  # noqa: S301 - pickled by our own forked worker, never read from elsewhere


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
        fmt = store_ranges.FORMAT if unit.items is not None else "ndjson"
        return InputFile(path=unit.name, sha256=thread.digest, bytes=thread.size, format=fmt)


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
