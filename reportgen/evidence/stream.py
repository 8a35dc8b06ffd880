"""Streaming reads of evidence inputs: entries one by one in bounded memory, then the input's facts.

`InputStream` reads one input (a file or stdin) the way parse.py reads a whole one: gzip told by its
magic bytes, a UTF-8 BOM dropped, and an input no bigger than the record size limit parsed whole by
`parse.entries`, so its entries, formats and problems are exactly a whole parse's. A bigger input is
streamed: NDJSON line by line (`ndjson`), a JSON document (a list, a CAVRA store file or an API
history page) item by item (`document`), never holding more than a few chunks and one record. Its
facts (digest, sizes, format, whole-input problems, gzip damage) are there once its entries have
been read.

`ndjson.ndjson_ranges` splits one big plain NDJSON file into byte ranges that several processes can
read (`store_ranges` does the same for a pretty-printed store file); `sniff` and `sniff_file` say
which inputs that is for.
"""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from reportgen.evidence import document, ndjson, parse
from reportgen.evidence.parse import RawEntry, over_limit

MIB = 1 << 20
# Bytes read (and, for gzip, decompressed) at a time: large enough that per-chunk Python work is
# noise, small enough that a few of them beside one record stay far below the input sizes.
CHUNK = 4 * MIB
# Compressed bytes fed to zlib at a time: a damaged member loses the output of the call that fails,
# so keeping calls small keeps (nearly) all that was decompressed before the damage.
GZIP_READ = 64 * 1024
# What `sniff` needs: the record size limit plus room for a BOM.
SNIFF_EXTRA = 4


@dataclass(frozen=True)
class StreamLimits:
    """The record size limit, and the input budget left for this input (and the ones after it)."""

    max_record_bytes: int
    budget: int


class OverBudget(parse.TooLarge):
    """Raw input bytes past the budget left (stdin, or a file that grew): over the input size limit."""


def value_of(entry: RawEntry) -> Any:
    """An entry's value, parsing its raw text if the reader did not: the value, or a parse.Problem."""
    if entry.problem is not None:
        return parse.Problem(entry.problem)
    if entry.parsed:
        return entry.value
    return parse.parse_entry(entry.raw or b"")


# --- opening: regular files only, read within a cap ------------------------------------------------


# The most reportgen reads of a file it takes whole: a summary, a manifest, a waiver file.
WHOLE_FILE_BYTES = 64 * MIB


class TooBig(OSError):
    """A file larger than what reportgen reads of it."""


def file_kind(mode: int) -> str:
    """What a file that is not a regular one is, in a few words."""
    kinds = (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    return next((text for test, text in kinds if test(mode)), "not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; a FIFO, device or socket is refused (OSError), never waited on."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"{file_kind(mode)}, not a regular file", os.fspath(path))
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_capped(path: str | os.PathLike[str], limit: int = WHOLE_FILE_BYTES, streams: bool = False) -> bytes:
    """A regular file's bytes; TooBig past `limit` bytes, so a file that never ends is never read whole.

    With `streams`, a named pipe or device is read too (a pipe waits for its writer, as stdin does).
    """
    with open(path, "rb") if streams else open_regular(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise TooBig(errno.EFBIG, f"larger than the {limit} bytes reportgen reads of it", os.fspath(path))
    return data


# --- the bytes: raw chunks hashed and counted, gzip members decompressed within the budget -------


def _regular_size(handle: BinaryIO) -> int | None:
    """The bytes left in a regular file, or None for a pipe, a terminal or an in-memory stream."""
    try:
        info = os.fstat(handle.fileno())
        return info.st_size - handle.tell() if stat.S_ISREG(info.st_mode) else None
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None


class _Source:
    """The decompressed bytes of one input in chunks; hashes, counts and budgets the raw bytes read."""

    def __init__(self, handle: BinaryIO, budget: int) -> None:
        self.handle, self.budget = handle, budget
        self.digest = hashlib.sha256()
        self.size = self.decompressed = 0
        self.known = _regular_size(handle)
        self.gzip = self.damaged = self.nonblank = False
        self.cut: str | None = None
        self.member_start = 0  # where, in the decompressed bytes, the gzip member being read began
        if self.known is not None and self.known > budget:
            raise OverBudget(f"is larger than the {budget} bytes left of the input size limit")

    def _read(self) -> bytes:
        """One raw chunk, hashed and counted; b"" at the end."""
        chunk = self.handle.read(CHUNK)
        if chunk:
            self.size += len(chunk)
            if self.size > self.budget:
                raise OverBudget(f"is larger than the {self.budget} bytes left of the input size limit")
            self.digest.update(chunk)
        return chunk

    def _raw_chunks(self, first: bytes) -> Iterator[bytes]:
        """The raw chunks, the first one already read."""
        if first:
            yield first
        while chunk := self._read():
            yield chunk

    def chunks(self) -> Iterator[bytes]:
        """The decompressed chunks; every raw byte is read (and hashed) before this ends."""
        first = self._read()
        while 0 < len(first) < len(parse.GZIP_MAGIC) and (more := self._read()):
            first += more
        self.gzip = first.startswith(parse.GZIP_MAGIC)
        raws = self._raw_chunks(first)
        bom = True  # a BOM at the very start is no content
        for chunk in self._gunzip(raws) if self.gzip else raws:
            if not self.gzip:
                self.decompressed += len(chunk)
            if not self.nonblank and (chunk.removeprefix(parse.UTF8_BOM) if bom else chunk).strip():
                self.nonblank = True
            bom = bom and not chunk
            yield chunk
        for _ in raws:  # after gzip damage the rest is still hashed, counted and budgeted
            pass

    def _limit(self) -> int:
        """The most bytes the gzip stream may decompress to: the input's budget less its raw size."""
        return self.budget - (self.known if self.known is not None else self.size)

    def _gunzip(self, raws: Iterator[bytes]) -> Iterator[bytes]:
        """Every gzip member in turn (NUL padding between them skipped), as parse.gunzip reads them."""
        member = None
        for data in self._pieces(raws):
            while data:
                if member is None:
                    data = bytes(data).lstrip(b"\x00")
                    if not data:
                        break
                    member, self.member_start = zlib.decompressobj(wbits=31), self.decompressed
                try:
                    out = member.decompress(data, self._room())
                except zlib.error as exc:
                    self.damaged = True
                    self.cut = f"gzip stream is damaged ({exc}); the entries after the damage were not read"
                    return
                self._count(len(out))
                if out:
                    yield out
                data, member = (member.unused_data, None) if member.eof else (member.unconsumed_tail, member)
        if member is not None:
            self.cut = "gzip stream is cut short; the entries after the cut were not read"

    def _pieces(self, raws: Iterator[bytes]) -> Iterator[memoryview]:
        """The compressed bytes in pieces of GZIP_READ, without copying them."""
        for chunk in raws:
            view = memoryview(chunk)
            for at in range(0, len(view), GZIP_READ):
                yield view[at : at + GZIP_READ]

    def _room(self) -> int:
        """How much one decompress call may give: a chunk, or one byte past the budget to detect it."""
        self._count(0)  # stdin's budget shrinks as raw bytes come in
        return min(CHUNK, self._limit() - self.decompressed + 1)

    def _count(self, produced: int) -> None:
        """Count decompressed bytes; TooLarge past the budget, as parse.gunzip."""
        self.decompressed += produced
        limit = self._limit()
        if self.decompressed > limit:
            raise parse.TooLarge(f"decompresses to more than the input limit of {limit} bytes")


# --- telling inputs apart ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _FirstLine:
    """What the first non-blank line of an input says about it."""

    kind: str  # "blank", "binary", "list", "object", "long-object", "ndjson" or "more" (read on to tell)
    number: int  # its 1-based line number
    start: int  # its offset, from the start of its line


def _first_line(head: bytes, max_record: int, eof: bool) -> _FirstLine:
    """Classify an input by its first non-blank line, as parse.entries and parse.looks_like_document do."""
    stripped = head.lstrip()
    if not stripped:
        return _FirstLine("blank", 1, 0)
    lead = len(head) - len(stripped)
    start = head.rfind(b"\n", 0, lead) + 1
    number = head.count(b"\n", 0, lead) + 1
    newline = head.find(b"\n", lead)
    line = head[lead:] if newline < 0 else head[lead:newline]
    if b"\x00" in line:
        return _FirstLine("binary", number, start)
    first = line.strip()
    if first.startswith(b"["):
        return _FirstLine("list", number, start)
    if first == b"{":
        return _FirstLine("object", number, start)
    if not first.startswith(b"{"):
        return _FirstLine("ndjson", number, start)
    length = (len(head) if newline < 0 else newline) - start
    if length > max_record:
        return _FirstLine("long-object", number, start)
    return _FirstLine("ndjson" if newline >= 0 or eof else "more", number, start)


def sniff(head: bytes, max_record_bytes: int) -> str:
    """How InputStream reads an input starting with `head` (its first max_record_bytes + 4 bytes, or all of it).

    "gzip": compressed; "whole": small enough to be parsed whole (parse.entries); "binary": rejected;
    "document": a big JSON document (or a first line too long to tell), read item by item;
    "ndjson": big plain NDJSON, read line by line, so it can be split with `ndjson_ranges`.
    """
    if head.startswith(parse.GZIP_MAGIC):
        return "gzip"
    data = head.removeprefix(parse.UTF8_BOM)
    if len(data) <= max_record_bytes:
        return "whole"
    kind = _first_line(data, max_record_bytes, eof=False).kind
    if kind == "binary":
        return "binary"
    return "ndjson" if kind in ("ndjson", "blank") else "document"


def sniff_file(path: str, max_record_bytes: int) -> str:
    """What a file's head says it is (`sniff`), from as much of it as that takes."""
    with open(path, "rb") as handle:
        return sniff(handle.read(max_record_bytes + SNIFF_EXTRA), max_record_bytes)


# --- one input --------------------------------------------------------------------------------------


def _from_entry(entry: parse.Entry) -> RawEntry:
    """A parse.Entry (a whole input parsed) as a RawEntry, parsed; a document item's raw is its value re-serialised."""
    if isinstance(entry.value, parse.Problem):
        return RawEntry(entry.line, None, entry.value.reason, entry.format)
    raw = entry.raw
    if raw is None:
        try:
            raw = orjson.dumps(entry.value)
        except TypeError:  # an integer past 64 bits: orjson reads it but does not write it
            raw = repr(entry.value).encode()
        deep = parse.depth_problem(raw)  # an item of a document parsed whole
        if deep:
            return RawEntry(entry.line, None, deep, entry.format)
    return RawEntry(entry.line, raw, None, entry.format, entry.value, True)


class InputStream:
    """One input opened for streaming: its entries, then its facts (set once `entries()` is exhausted).

    Facts: sha256 and size of the raw bytes; decompressed (== size unless gzip); format ("empty",
    or the entries' format, "gzip+" in front for gzip); problems (whole-input rejections and
    notices, as parse.entries gives them); cut (gzip damage, as parse.gunzip gives it); blank
    (the decompressed bytes are only whitespace, for the loader's empty-file notice).
    Raises parse.TooLarge when gzip data decompresses past the budget, and its subclass OverBudget
    when the raw bytes themselves are more than the budget left.
    """

    def __init__(self, path: str, handle: BinaryIO, limits: StreamLimits) -> None:
        self.path, self.max_record = path, limits.max_record_bytes
        self._source = _Source(handle, limits.budget)
        self._chunks = self._source.chunks()
        self._decompressed: int | None = None  # a whole parse's count, where it differs from what was decompressed
        self._format: str | None = None  # the document's final format, where its entries could not know it
        self._read = False
        self.sha256, self.size, self.decompressed, self.format = "", 0, 0, "empty"
        self.problems: list[parse.FileProblem] = []
        self.cut: str | None = None
        self.blank = True

    @property
    def charged(self) -> int:
        """What this input costs of the input budget: its raw bytes, plus the decompressed ones for gzip."""
        return self.size + (self.decompressed if self._source.gzip else 0)

    def entries(self) -> Iterator[RawEntry]:
        """Every entry of the input, in order; then the facts are set. An input is read once."""
        if self._read:
            raise RuntimeError(f"{self.path}: the entries of an input can be read only once")
        self._read = True
        count, fmt = 0, "empty"
        for entry in self._entries():
            count, fmt = count + 1, entry.format
            yield entry
        for _ in self._chunks:  # read to the end: the digest, the sizes and the budget need every byte
            pass
        self._finish(fmt if count == 0 or self._format is None else self._format)

    def _finish(self, fmt: str) -> None:
        """Set the input's facts from what was read."""
        source = self._source
        self.sha256, self.size, self.cut = source.digest.hexdigest(), source.size, source.cut
        self.decompressed = source.decompressed if self._decompressed is None else self._decompressed
        if self._decompressed is None:
            self.blank = not source.nonblank
        self.format = f"gzip+{fmt}" if source.gzip else fmt

    def _entries(self) -> Iterator[RawEntry]:
        """Small inputs parsed whole (parse.entries); bigger ones streamed in bounded memory."""
        parts: list[bytes] = []
        total = 0
        limit = self.max_record + len(parse.UTF8_BOM)
        for chunk in self._chunks:
            parts.append(chunk)
            total += len(chunk)
            if total > limit:
                break
        joined = b"".join(parts)
        head = joined.removeprefix(parse.UTF8_BOM)
        if len(head) <= self.max_record:  # every byte is read: the whole parse, exactly
            yield from self._whole(joined)
        else:
            yield from self._streamed(head)

    def _whole(self, data: bytes) -> Iterator[RawEntry]:
        """A small input parsed whole by parse.entries; a damaged gzip member is dropped whole, as parse.gunzip drops it."""
        if self._source.damaged:
            data = data[: self._source.member_start]
        self._decompressed, self.blank = len(data), not data.removeprefix(parse.UTF8_BOM).strip()
        try:
            for entry in parse.entries(data, self.max_record, self.problems):
                yield _from_entry(entry)
        except parse.TooDeep:  # raised before any entry: a document whose items are read one by one
            yield from self._deep(data.removeprefix(parse.UTF8_BOM))

    def _deep(self, data: bytes) -> Iterator[RawEntry]:
        """A small JSON document nested too deeply to parse whole, read item by item whatever its layout."""
        kind = "list" if data.lstrip().startswith(b"[") else "object"
        lone = parse.depth_problem(data) or "not a valid JSON document"
        yield from self._document(document.Cursor(data, iter(())), kind, lone)

    def _streamed(self, head: bytes) -> Iterator[RawEntry]:
        """A big input: NDJSON line by line, or a JSON document item by item."""
        first = _first_line(head, self.max_record, eof=False)
        while first.kind == "more":  # a first line starting with '{': is it longer than a record may be?
            chunk = next(self._chunks, None)
            head = head + chunk if chunk is not None else head
            first = _first_line(head, self.max_record, eof=chunk is None)
        if first.kind == "binary":
            self.problems.append(parse.FileProblem("binary", "binary data, not JSON or NDJSON text", rejects=True))
        elif first.kind in ("list", "object"):
            yield from self._document(document.Cursor(head, self._chunks), first.kind)
        elif first.kind == "long-object":
            yield from self._long_line(head, first)
        else:
            yield from ndjson.ndjson_lines(itertools.chain([head], self._chunks), self.max_record)

    def _document(self, cursor: document.Cursor, kind: str, lone: str | None = None) -> Iterator[RawEntry]:
        """A big JSON document spread over lines: its items, or one record over the size limit (or `lone`'s reason)."""
        doc = document.Document(cursor, self.max_record, self.problems)
        try:
            yield from doc.list_entries() if kind == "list" else doc.object_entries()
            if doc.container:
                doc.end_of_document()
        except document.Damage as exc:
            doc.damaged(str(exc))
            return
        if doc.container:
            doc.notices()
            self._format = "cavra-api-history" if "total" in doc.top else None
            return
        # A lone record: it cannot be read within the record size limit, like an over-long line.
        yield RawEntry(1, None, lone or over_limit(cursor.drain(), self.max_record), "json-record")

    def _long_line(self, head: bytes, first: _FirstLine) -> Iterator[RawEntry]:
        """A first line over the record size limit starting with '{': a one-line document, or an NDJSON record.

        Its top-level keys are read, without passing its end, until an `items` list shows it is a
        container (read item by item, then it must end the input); otherwise it is an NDJSON line
        over the limit (a record: `metadata_kind` comes first, or it closes without items), and the
        lines after it are NDJSON.
        """
        cursor = document.Cursor(head, self._chunks)
        cursor.fence_line(first.start)
        doc = document.Document(cursor, self.max_record, self.problems)
        try:
            yield from doc.object_entries()
            if doc.container:
                doc.end_of_document()
        except document.Damage as exc:
            if doc.container:
                doc.damaged(str(exc))
                return
        if doc.container:
            doc.notices()
            self._format = "cavra-api-history" if "total" in doc.top else None
            return
        # Records run together by CR-only line ends show a CR within the line's first record's length.
        known = head[first.start : first.start + self.max_record + 1].split(b"\n", 1)[0]
        yield from self._over_long_line(cursor, first, doc.record, parse.line_end_hint(known))

    def _over_long_line(self, cursor: document.Cursor, first: _FirstLine, record: bool, hint: str) -> Iterator[RawEntry]:
        """The long first line as an entry over the size limit, then the NDJSON lines after it."""
        fence = cursor.fence
        cursor.unfence()
        if fence is None:  # no newline seen yet: read on to the end of the line, keeping nothing
            while (found := cursor.buf.find(b"\n", cursor.pos)) < 0:
                cursor.pos = len(cursor.buf)
                if not cursor.more():
                    break
            fence = cursor.base + found if found >= 0 else None
        end = fence if fence is not None else cursor.base + len(cursor.buf)
        rest: Iterator[RawEntry] = iter(())
        if fence is not None:
            cursor.pos = fence - cursor.base + 1
            lines = itertools.chain([cursor.buf[cursor.pos :]], cursor.rest)
            rest = ndjson.ndjson_lines(lines, self.max_record, first.number + 1)
        after = next(rest, None)
        # Alone in the input and closed as an object, it is what a whole parse reads as a lone record.
        fmt = "json-record" if record and after is None else "ndjson"
        yield RawEntry(first.number, None, over_limit(end - first.start, self.max_record) + hint, fmt)
        if after is not None:
            yield after
            yield from rest
