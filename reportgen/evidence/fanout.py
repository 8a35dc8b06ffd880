"""One input read by two processes: this one reads the stream (decompressing, splitting lines,
finding a document's items) and folds some of its entries; a forked helper folds the batches of
entries it is handed whenever it has room. For a big whole input read by one process while a job
is to spare: above all those that cannot be cut into byte ranges (a gzip stream, a one-line JSON
document or list, an API history page, a spooled stdin), and any other below the size for ranges.

The helper's part is merged into this one's in reading order (every list that follows the reading
order is merged by line), so the part is the one a single process gives (`tests/test_fanout.py`).
"""

from __future__ import annotations

import heapq
import multiprocessing
import os
import pickle
from array import array
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from typing import Any

import orjson

try:
    import fcntl
except ImportError:  # not on Windows, where nothing is forked anyway
    fcntl = None  # type: ignore[assignment]

from reportgen.evidence.children import FORK, child_signals
from reportgen.evidence.inputs import InputError
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.masking import mask_string
from reportgen.evidence.parse import RawEntry
from reportgen.evidence.reader import EntryReader, Part, Progress, ReaderMaker, Reading, Unit

# A whole input at least this big (compressed, for gzip) is read with a helper.
SHARE_BYTES = 4 << 20
# Entries handed over at a time (fewer when they reach BATCH_BYTES: memory stays bounded by a few
# batches whatever the records' size), and how many batches may wait for the helper. Small batches
# keep both processes busy to the end (on 100 000 gzip records these were as fast as any measured).
BATCH = 48
BATCH_BYTES = 256 << 10
AHEAD = 2
# The pipe to the helper holds this much (Linux lets an unprivileged process ask for up to 1 MiB),
# so handing a batch over does not wait for the helper to take the one before.
PIPE_BYTES = 1 << 20
# Exit codes of the helper: done, or stopped by an error (which it reports first, if it can).
_DONE, _FAILED = 0, 70
# What starts a message from the helper that reports its error, instead of an acknowledgement (empty)
# or its part (a pickle, which starts with b"\x80").
_ERROR = b"!"

# An entry as it travels: line, text, problem, format, parsed, and the value of a parsed entry
# that has no compact text (the whole-document parse's entries).
Wire = tuple[int | None, bytes | None, str | None, str, bool, Any]


@contextmanager
def shared(unit: Unit, reading: Reading, jobs: int) -> Iterator[ReaderMaker | None]:
    """A maker of readers that share a big whole input with a helper (stopped however reading ends), or None."""
    helper = _Helper.start(unit, reading) if _worth(unit, jobs) else None
    if helper is None:
        yield None
        return
    try:
        yield lambda part, unit, reading, report: SharedReader(part, unit, reading, report, helper)
    finally:
        helper.stop()


def _worth(unit: Unit, jobs: int) -> bool:
    """Whether a unit is a whole input big enough for a helper, with a second job to run it."""
    if jobs < 2 or not FORK:
        return False
    if unit.span is not None or unit.store is not None or unit.items is not None:
        return False
    try:
        return os.path.getsize(unit.path) >= SHARE_BYTES
    except OSError:
        return False  # read_unit says why


class SharedReader(EntryReader):
    """An entry reader that hands batches of entries to a helper whenever it has room, and folds
    the rest itself; at the end it takes the helper's part into its own."""

    def __init__(self, part: Part, unit: Unit, reading: Reading, report: Progress, helper: _Helper) -> None:
        super().__init__(part, unit, reading, report)
        self.helper, self.batch, self.batch_bytes = helper, list[RawEntry](), 0

    def read(self, entry: RawEntry) -> None:
        """Count the entry here; fold it with its batch, here or in the helper."""
        self.count(entry)
        self.batch.append(entry)
        self.batch_bytes += len(entry.compact or entry.raw or b"")
        if len(self.batch) >= BATCH or self.batch_bytes >= BATCH_BYTES:
            batch, self.batch, self.batch_bytes = self.batch, [], 0
            if self.helper.has_room():
                self.helper.hand(batch)
            else:
                for held in batch:
                    self.take(held)

    def finish(self) -> None:
        """Fold the last entries here, and merge the helper's part in reading order."""
        for entry in self.batch:
            self.take(entry)
        self.batch = []
        merge_in_order(self.part, self.helper.part())


def merge_in_order(part: Part, other: Part) -> None:
    """Take in another reader's part of the same input, as if this reader had read it too."""
    # Session ids go in this part's own array, where the loader looks for repeated ones; what
    # follows the reading order (the account's lists, dated and unrecognised records) by line.
    part.ledger.sids.extend(other.ledger.sids)
    other.ledger.sids = array("q")
    part.ledger.merge(other.ledger)
    for name in ("rejected", "notices", "secrets", "held"):
        setattr(part, name, list(heapq.merge(getattr(part, name), getattr(other, name), key=_line)))
    ledger = part.ledger
    ledger.future.sort(key=_cite_line)
    ledger.unrecognised.sort(key=_cite_line)


def _line(found: Any) -> int:
    """The line (or item) of an entry's rejection, notice, secret or held record."""
    return found.line if found.line is not None else -1


def _cite_line(cite: tuple[Any, ...]) -> int:
    """The line of a citation."""
    return cite[4] if cite[4] is not None else -1


class _Helper:
    """A forked process folding the batches it is handed into a part of its own."""

    def __init__(self, unit: Unit, reading: Reading) -> None:
        context = multiprocessing.get_context("fork")
        self.replies, replying = context.Pipe(duplex=False)
        handed, self.conn = context.Pipe(duplex=False)
        _widen(self.conn)
        ours = (self.conn, self.replies)  # closed in the helper: if this process dies, it reads the end
        self.process = context.Process(target=_help, args=(handed, replying, ours, unit, reading), daemon=True)
        self.ahead = 0
        try:
            self.process.start()
        finally:
            handed.close()
            replying.close()

    @classmethod
    def start(cls, unit: Unit, reading: Reading) -> _Helper | None:
        """A helper, or None when none can be started (no process to spare, or inside a daemon process)."""
        try:
            return cls(unit, reading)
        except (OSError, AssertionError):  # multiprocessing asserts that a daemon has no children
            return None

    def has_room(self) -> bool:
        """Whether fewer than AHEAD batches wait for the helper (it says when it has folded one)."""
        while self.ahead and self.replies.poll():
            self._receive()
            self.ahead -= 1
        return self.ahead < AHEAD

    def hand(self, batch: list[RawEntry]) -> None:
        """Hand a batch over."""
        self._send(pickle.dumps([_wire(entry) for entry in batch], protocol=pickle.HIGHEST_PROTOCOL))
        self.ahead += 1

    def part(self) -> Part:
        """Tell the helper it has everything, and take its part once it has ended."""
        self._send(b"")
        while not (found := self._receive()):
            pass  # the last batches' acknowledgements
        self.process.join()
        return pickle.loads(found)  # noqa: S301 - pickled by our own forked helper

    def stop(self) -> None:
        """End the helper if reading stopped early (an error, Ctrl-C)."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()
        self.replies.close()

    def _send(self, data: bytes) -> None:
        """Send to the helper; a helper that died is an error, not a wait that never ends."""
        try:
            self.conn.send_bytes(data)
        except (BrokenPipeError, ConnectionResetError):
            raise _died() from None

    def _receive(self) -> bytes:
        """Receive from the helper; a helper that failed or died is an error."""
        try:
            found = self.replies.recv_bytes()
        except (EOFError, ConnectionResetError):
            raise _died() from None
        if found.startswith(_ERROR):
            raise InputError(f"a worker process reading the evidence failed ({found[1:].decode()}); try --jobs 1")
        return found


def _died() -> InputError:
    """The error for a helper that ended before it sent its part."""
    return InputError("a worker process reading the evidence died (out of memory?); try --jobs 1")


def _wire(entry: RawEntry) -> Wire:
    """An entry as it travels: a parsed item as its compact text (parsed again there, faster than
    its value pickled), every other entry as its text or its problem."""
    if entry.parsed and entry.compact is not None:
        return entry.line, entry.compact, None, entry.format, True, None
    return entry.line, entry.raw, entry.problem, entry.format, entry.parsed, entry.value


def _entry(wire: Wire) -> RawEntry:
    """The entry `_wire` sent."""
    line, text, problem, fmt, parsed, value = wire
    if parsed and value is None and text is not None:
        return RawEntry(line, text, None, fmt, orjson.loads(text), True, text)
    return RawEntry(line, text, problem, fmt, value, parsed)


def _widen(conn: Connection) -> None:
    """Let the pipe to the helper hold PIPE_BYTES, where the system lets it (Linux)."""
    command = getattr(fcntl, "F_SETPIPE_SZ", None)
    if command is None:
        return
    try:
        fcntl.fcntl(conn.fileno(), command, PIPE_BYTES)
    except OSError:
        pass  # the default size: handing over may wait now and then


def _help(conn: Connection, replies: Connection, ours: tuple[Connection, ...], unit: Unit, reading: Reading) -> None:
    """In the helper: fold every batch handed over, say so after each, send the part at the end."""
    child_signals()
    for end in ours:
        end.close()
    code = _FAILED
    try:
        _fold_batches(conn, replies, unit, reading)
        code = _DONE
    except Exception as exc:  # one line back to the reading process, never a traceback
        with suppress(OSError):
            replies.send_bytes(_ERROR + _said(exc).encode())
    finally:
        os._exit(code)


def _said(exc: Exception) -> str:
    """An error in one line, any secret in it masked (its text may quote evidence)."""
    first = (str(exc).splitlines() or [""])[0][:300]
    return f"{type(exc).__name__}: {mask_string(first)[0]}".rstrip(": ")


def _fold_batches(conn: Connection, replies: Connection, unit: Unit, reading: Reading) -> None:
    """Fold every batch handed over, acknowledge each, and send the part once the end comes."""
    part = Part(Ledger(reading.as_of))
    reader = EntryReader(part, unit, reading, lambda _bytes, _entries: None)
    while batch := conn.recv_bytes():
        for wire in pickle.loads(batch):  # noqa: S301 - pickled by the process that forked this one
            reader.take(_entry(wire))
        replies.send_bytes(b"")
    part.ledger.prune_links()
    replies.send_bytes(pickle.dumps(part, protocol=pickle.HIGHEST_PROTOCOL))
