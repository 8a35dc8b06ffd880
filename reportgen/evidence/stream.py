"""Streaming reads of evidence inputs: entries one by one in bounded memory, then the input's facts.

`InputStream` reads one input (a file or stdin) the way parse.py reads a whole one: gzip told by its
magic bytes, a UTF-8 BOM dropped, and an input no bigger than the record size limit parsed whole by
`parse.entries`, so its entries, formats and problems are exactly today's. A bigger input is
streamed: NDJSON line by line, a JSON document (a list, a CAVRA store file or an API history page)
item by item, never holding more than a few chunks and one record. Its facts (digest, sizes, format,
whole-input problems, gzip damage) are there once its entries have been read.

`ndjson_ranges`, `count_newlines` and `range_entries` split one big plain NDJSON file into byte
ranges that several processes can read; `sniff` and `splittable` say which inputs that is for.
"""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import orjson

from reportgen.evidence import parse

MIB = 1 << 20
# Bytes read (and, for gzip, decompressed) at a time: large enough that per-chunk Python work is
# noise, small enough that a few of them beside one record stay far below the input sizes.
CHUNK = 4 * MIB
# Compressed bytes fed to zlib at a time: a damaged member loses the output of the call that fails,
# so keeping calls small keeps (nearly) all that was decompressed before the damage.
GZIP_READ = 64 * 1024
# A part of a split NDJSON file is at least this big; smaller parts cost more than they save.
MIN_PART = MIB
# What `sniff` needs: the record size limit plus room for a BOM.
SNIFF_EXTRA = 4


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One entry of an input: where it is, its JSON text or why it has none, and its format.

    `parsed` says whether `value` holds the entry's parsed (and duplicate-key checked) value; when
    it is False the caller parses `raw` (see `value_of`). A JSON null item has parsed=True, value=None.
    """

    line: int | None
    raw: bytes | None
    problem: str | None
    format: str
    value: Any = None
    parsed: bool = False


@dataclass(frozen=True)
class StreamLimits:
    """The record size limit, and the input budget left for this input (and the ones after it)."""

    max_record_bytes: int
    budget: int


class OverBudget(parse.TooLarge):
    """Raw input bytes past the budget left (stdin, or a file that grew); the loader says it as today."""


def over_limit(length: int, max_record: int) -> str:
    """Today's reason for an entry over the record size limit."""
    return f"entry of {length} bytes is over the record size limit of {max_record} bytes"


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
        """The most bytes the gzip stream may decompress to: today's budget less the raw size."""
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


# --- NDJSON: lines split chunk by chunk -----------------------------------------------------------


def _ndjson_lines(chunks: Iterable[bytes], max_record: int, first_line: int = 1) -> Iterator[RawEntry]:
    """Each non-blank line as a RawEntry (unparsed), an over-long one as its size problem, never held whole."""
    number, carry, over, over_text = first_line, b"", 0, False
    crs = (0, False)  # of an over-long line: its carriage returns, and whether it ends with one
    for chunk in chunks:
        parts = chunk.split(b"\n")
        tail = parts.pop()
        if parts:
            if over:  # the over-long line ends here
                crs = _carriage_returns(parts[0], crs)
                if over_text or parts[0].strip():
                    yield RawEntry(number, None, _over_line(over + len(parts[0]), max_record, crs), "ndjson")
                number, over, parts, crs = number + 1, 0, parts[1:], (0, False)
            elif carry:
                parts[0], carry = carry + parts[0], b""
            for line in parts:
                if line.strip():
                    if len(line) > max_record:
                        reason = over_limit(len(line), max_record) + parse.line_end_hint(line)
                        yield RawEntry(number, None, reason, "ndjson")
                    else:
                        yield RawEntry(number, line, None, "ndjson")
                number += 1
        if over:
            over, over_text = over + len(tail), over_text or bool(tail.strip())
            crs = _carriage_returns(tail, crs)
        elif tail:
            carry += tail
            if len(carry) > max_record:  # from here only its length and whether it is blank are kept
                over, over_text, crs, carry = len(carry), bool(carry.strip()), _carriage_returns(carry, crs), b""
    if over and over_text:  # the last line, without a newline
        yield RawEntry(number, None, _over_line(over, max_record, crs), "ndjson")
    elif carry.strip():
        yield RawEntry(number, carry, None, "ndjson")


def _carriage_returns(piece: bytes, seen: tuple[int, bool]) -> tuple[int, bool]:
    """Carriage returns counted over a line's pieces, and whether the line so far ends with one."""
    return seen[0] + piece.count(b"\r"), piece.endswith(b"\r") if piece else seen[1]


def _over_line(length: int, max_record: int, crs: tuple[int, bool]) -> str:
    """The reason for an over-long line; it says so when CR-only line ends ran records into one line."""
    count, at_end = crs
    return over_limit(length, max_record) + (parse.CR_HINT if count > int(at_end) else "")


# --- JSON documents: a window on the byte stream and a tokenizer that finds where a value ends ----

_WS = re.compile(rb"[ \t\r\n]*+")
# Outside strings: runs of plain bytes and whole strings, so the Python loop only sees brackets.
_PLAIN_OR_STRINGS = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+', re.S)
_STRING_REST = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)
_SCALAR = re.compile(rb'[^,\[\]{}"\s]*+')
_OPEN_LINE = re.compile(rb"[{\[][ \t\r]*\n")
# Indentation longer than this is not used by the fast path (it only makes the search pattern longer).
_MAX_INDENT = 256
_LOOK = 2 * _MAX_INDENT
_QUOTE, _BACKSLASH, _OPEN_LIST, _CLOSE_LIST, _OPEN_OBJECT, _CLOSE_OBJECT = b'"\\[]{}'
_COMMA, _COLON = b",:"


class _Damage(Exception):
    """The document is not valid JSON from here on."""


class _ValueEnd:
    """Finds where one JSON value ends, fed piece by piece: strings, escapes and nesting across pieces."""

    def __init__(self) -> None:
        self.depth, self.in_string, self.escape, self.scalar, self.started = 0, False, False, False, False

    def _start(self, buf: bytes, i: int) -> int:
        """Note what kind of value starts at buf[i]; where scanning goes on."""
        self.started, first = True, buf[i]
        if first == _QUOTE:
            self.in_string = True
            return i + 1
        self.scalar = first not in (_OPEN_LIST, _OPEN_OBJECT)
        return i

    def _string_rest(self, buf: bytes, i: int, n: int) -> int:
        """Read on in a string that a piece's end cut; where scanning goes on (n if it goes on past it)."""
        if self.escape:
            self.escape, i = False, i + 1
            if i >= n:
                return n
        end = _STRING_REST.match(buf, i, n).end()  # type: ignore[union-attr]
        if end >= n:
            return n
        if buf[end] == _BACKSLASH:  # the escape itself is cut by the piece's end
            self.escape = True
            return end + 1
        self.in_string = False
        return end + 1

    def feed(self, buf: bytes, i: int, n: int) -> int | None:
        """The index just past the value's end if it is in buf[i:n], else None (all of it was taken)."""
        if not self.started:
            i = self._start(buf, i)
        if self.scalar:
            end = _SCALAR.match(buf, i, n).end()  # type: ignore[union-attr]
            return end if end < n else None
        while i < n:
            if self.escape or self.in_string:
                i = self._string_rest(buf, i, n)
                if not self.in_string and self.depth == 0:
                    return i
            else:
                end = _PLAIN_OR_STRINGS.match(buf, i, n).end()  # type: ignore[union-attr]
                if end >= n:
                    return None
                byte, i = buf[end], end + 1
                if byte == _QUOTE:
                    self.in_string = True
                elif byte in (_OPEN_LIST, _OPEN_OBJECT):
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth <= 0:
                        return i
        return None


class _Cursor:
    """A window on a byte stream: buf[pos:] is not consumed yet; more() drops buf[:pos] and reads on.

    A fence (an absolute offset) stops reading at the end of a line: used while it is not yet known
    whether a long first line is one JSON document or an NDJSON record.
    """

    def __init__(self, first: bytes, rest: Iterator[bytes]) -> None:
        self.buf, self.pos, self.base, self.rest = first, 0, 0, rest
        self.fence: int | None = None
        self.watch = False

    def offset(self) -> int:
        """The absolute offset of the next byte to consume."""
        return self.base + self.pos

    def end(self) -> int:
        """Where the readable bytes of the buffer stop: its end, or the fence."""
        return len(self.buf) if self.fence is None else min(len(self.buf), self.fence - self.base)

    def fence_line(self, line_start: int) -> None:
        """Stop reading at the newline that ends the line starting at this buffer index."""
        self.watch = True
        self._look_for_fence(line_start)

    def unfence(self) -> None:
        """Read on past the line's end."""
        self.watch, self.fence = False, None

    def _look_for_fence(self, start: int) -> None:
        """Set the fence at the first newline from buffer index `start`, if there is one."""
        found = self.buf.find(b"\n", start)
        if found >= 0:
            self.fence = self.base + found

    def more(self) -> bool:
        """Read one more chunk, dropping the consumed bytes; False at the end of the input or at the fence."""
        if self.fence is not None and self.fence - self.base < len(self.buf):
            return False
        for chunk in self.rest:
            if chunk:
                old = len(self.buf) - self.pos
                self.base += self.pos
                self.buf, self.pos = self.buf[self.pos :] + chunk, 0
                if self.watch and self.fence is None:
                    self._look_for_fence(old)
                return True
        return False

    def skip_ws(self) -> bytes | None:
        """Skip JSON whitespace; the indentation after the last newline skipped, or None if none was."""
        indent: bytes | None = None
        while True:
            stop = self.end()
            end = _WS.match(self.buf, self.pos, stop).end()  # type: ignore[union-attr]
            newline = self.buf.rfind(b"\n", self.pos, end)
            if newline >= 0:
                indent = self.buf[newline + 1 : end]
            elif indent is not None:
                indent += self.buf[self.pos : end]
            if indent is not None and len(indent) > _MAX_INDENT:
                indent = None
            self.pos = end
            if end < stop or not self.more():
                return indent

    def peek(self) -> int:
        """The next byte, not consumed; _Damage at the end of the input."""
        if self.pos >= self.end() and not self.more():
            raise _Damage("the document ends early")
        return self.buf[self.pos]

    def expect(self, byte: int) -> None:
        """Consume the next non-blank byte, which must be `byte`."""
        self.skip_ws()
        if self.peek() != byte:
            raise _Damage(f"expected {chr(byte)!r} but found {chr(self.buf[self.pos])!r}")
        self.pos += 1

    def find(self, pattern: bytes, limit: int) -> int:
        """The offset from pos of `pattern`, reading on as needed; -1 if not in the next `limit` bytes."""
        found = self.buf.find(pattern, self.pos, self.pos + limit + len(pattern))
        while found < 0:
            searched = len(self.buf) - self.pos
            if searched >= limit or not self.more():
                return -1
            since = max(self.pos, self.pos + searched - len(pattern) + 1)
            found = self.buf.find(pattern, since, self.pos + limit + len(pattern))
        return found - self.pos

    def drain(self) -> int:
        """Read to the end, keeping nothing; the absolute offset of the end."""
        self.pos = len(self.buf)
        while self.more():
            self.pos = len(self.buf)
        return self.base + len(self.buf)


_UNREAD = object()  # a top-level value too big to keep


class _Document:
    """Reads one big JSON document item by item: a list, or an object holding an `items` list."""

    def __init__(self, cursor: _Cursor, max_record: int, problems: list[parse.FileProblem]) -> None:
        self.cur, self.max_record, self.problems = cursor, max_record, problems
        self.fast = True  # the line-based fast path is used until it once gets an item wrong
        self.top: dict[str, Any] = {}
        self.count = 0  # items read
        self.at_item: int | None = None  # the item being read, for a damage report
        self.container = self.record = False

    # -- values ------------------------------------------------------------------------------------

    def _parse(self, raw: bytes) -> Any:
        """A value's JSON text parsed; _Damage if it is not JSON or nests too deeply."""
        deep = parse.depth_problem(raw)
        if deep:
            raise _Damage(deep)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise _Damage(f"not JSON: {exc}") from None

    def exact_value(self) -> tuple[bytes | None, int]:
        """The next value's bytes found by the tokenizer, or (None, its length) when over the record size limit."""
        cur, scan, dropped, keep = self.cur, _ValueEnd(), 0, True
        scanned = 0  # bytes from pos already fed to the tokenizer
        while True:
            stop = cur.end()
            end = scan.feed(cur.buf, cur.pos + scanned, stop) if cur.pos + scanned < stop else None
            if end is not None:
                length = dropped + end - cur.pos
                raw = cur.buf[cur.pos : end] if keep and length <= self.max_record else None
                cur.pos = end
                return raw, length
            scanned = stop - cur.pos
            keep = keep and scanned <= self.max_record
            if not keep:  # over the limit: from now on only its length is counted
                dropped, cur.pos, scanned = dropped + scanned, stop, 0
            if not cur.more():
                raise _Damage("the document ends inside a value")

    def fast_value(self, indent: bytes) -> tuple[bytes, Any] | None:
        """The next item found by its layout (pretty-printed JSON), parsed; None when the layout does not tell."""
        cur = self.cur
        while len(cur.buf) - cur.pos < _LOOK and cur.more():
            pass  # enough bytes to see the item's first line
        head = cur.buf[cur.pos]
        if head in (_OPEN_LIST, _OPEN_OBJECT) and _OPEN_LINE.match(cur.buf, cur.pos):
            # Its closing bracket is the first at the item's own indentation: inner lines are deeper.
            pattern = b"\n" + indent + (b"}" if head == _OPEN_OBJECT else b"]")
            found = cur.find(pattern, self.max_record)
            raw = cur.buf[cur.pos : cur.pos + found + len(pattern)] if found >= 0 else b""
        else:
            found = cur.find(b"\n", self.max_record)
            raw = cur.buf[cur.pos : cur.pos + found].rstrip().removesuffix(b",").rstrip() if found >= 0 else b""
        if len(raw) > self.max_record:
            return None  # the tokenizer measures it
        try:
            # One whole value from the item's first byte is that item: JSON values end unambiguously.
            value = orjson.loads(raw) if raw else _UNREAD
        except orjson.JSONDecodeError:
            value = _UNREAD
        if value is _UNREAD:
            self.fast = False
            return None
        cur.pos += len(raw)
        return raw, value

    def item(self, index: int, indent: bytes | None, fmt: str) -> RawEntry:
        """The next item of the list as a checked entry."""
        self.at_item = index
        self.cur.peek()
        found = self.fast_value(indent) if self.fast and indent is not None else None
        if found is None:
            raw, length = self.exact_value()
            if raw is None:
                return RawEntry(index, None, over_limit(length, self.max_record), fmt)
            deep = parse.depth_problem(raw)  # before the parse, which a deep item would end
            if deep:
                return RawEntry(index, None, deep, fmt)
            found = raw, self._parse(raw)
        raw, value = found
        problem = parse.entry_problem(raw, value)
        if problem:
            return RawEntry(index, None, problem, fmt)
        return RawEntry(index, raw, None, fmt, value, True)

    def pretty_run(self, index: int, indent: bytes, fmt: str) -> Iterator[RawEntry]:
        """Items laid out as json.dumps(indent=...) writes them, found within the buffer by their closing lines.

        Only an item followed by its comma and the next item's indentation is taken, so the run
        stops at an item start (the last item, a buffer end or another layout go the general way).
        """
        cur, buf, limit = self.cur, self.cur.buf, self.max_record
        close = b"\n" + indent + b"}"
        # Searching for the whole gap between two items is twice as fast as for the closing line.
        between = close + b",\n" + indent + b"{\n"
        pos = cur.pos
        while buf.startswith(b"{\n", pos):
            found = buf.find(between, pos, pos + limit + len(between))
            end = found + len(close)
            if found < 0 or end - pos > limit:
                return
            raw = buf[pos:end]
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError:  # orjson stops at the first byte past a value: a wrong guess is cheap
                return
            self.at_item, pos = index, found + len(between) - 2
            problem = parse.entry_problem(raw, value)
            cur.pos = pos
            yield RawEntry(index, None, problem, fmt) if problem else RawEntry(index, raw, None, fmt, value, True)
            index = self.count = index + 1

    def items(self, fmt: str) -> Iterator[RawEntry]:
        """The items of a list whose '[' was just consumed, up to and including its ']'."""
        cur = self.cur
        indent = cur.skip_ws()
        if cur.peek() == _CLOSE_LIST:
            cur.pos += 1
            return
        index = 0
        while True:
            if self.fast and indent is not None:
                for entry in self.pretty_run(index, indent, fmt):
                    yield entry
                    index += 1
            yield self.item(index, indent, fmt)
            index = self.count = self.at_item = index + 1  # damage from here on is the next item's
            cur.skip_ws()
            byte = cur.peek()
            cur.pos += 1
            if byte == _CLOSE_LIST:
                self.at_item = None
                return
            if byte != _COMMA:
                raise _Damage(f"expected ',' or ']' before it but found {chr(byte)!r}")
            indent = cur.skip_ws()

    # -- the document ----------------------------------------------------------------------------

    def list_entries(self) -> Iterator[RawEntry]:
        """The items of a top-level list, then the check that nothing follows it."""
        self.cur.expect(_OPEN_LIST)
        self.container = True
        yield from self.items("json-list")

    def object_entries(self) -> Iterator[RawEntry]:
        """The top-level keys of an object, streaming its `items` list; stops early at a record's kind."""
        cur = self.cur
        cur.expect(_OPEN_OBJECT)
        cur.skip_ws()
        if cur.peek() == _CLOSE_OBJECT:
            cur.pos += 1
            return
        while True:
            key = self.key()
            cur.expect(_COLON)
            cur.skip_ws()
            if key == "items" and cur.peek() == _OPEN_LIST and not self.record:
                yield from self.items_key()
            elif self.top_value(key):
                return  # one giant record: nothing more of it is needed
            cur.skip_ws()
            byte = cur.peek()
            cur.pos += 1
            if byte == _CLOSE_OBJECT:
                return
            if byte != _COMMA:
                raise _Damage(f"expected ',' or '}}' after key {key!r} but found {chr(byte)!r}")

    def items_key(self) -> Iterator[RawEntry]:
        """The `items` list of an object: from here on it is a container, read on past the first line."""
        if self.container:
            raise _Damage("duplicate key 'items'")
        self.cur.unfence()
        self.cur.pos, self.container = self.cur.pos + 1, True
        yield from self.items("cavra-api-history" if "total" in self.top else "cavra-store")

    def top_value(self, key: str) -> bool:
        """Keep a top-level value other than the items; True when it shows the object is one record."""
        raw, _ = self.exact_value()
        self.top[key] = _UNREAD if raw is None else self._parse(raw)
        if key == "metadata_kind":
            self.record = True
        return self.record and not self.container

    def key(self) -> str:
        """The next object key."""
        self.cur.skip_ws()
        if self.cur.peek() != _QUOTE:
            raise _Damage(f"expected a key but found {chr(self.cur.peek())!r}")
        raw, _ = self.exact_value()
        if raw is None:
            raise _Damage("a key over the record size limit")
        return self._parse(raw)  # type: ignore[no-any-return]

    def end_of_document(self) -> None:
        """Nothing but whitespace may follow the document."""
        self.cur.skip_ws()
        if self.cur.pos < self.cur.end():
            raise _Damage("more data after the end of the document")

    def damaged(self, reason: str) -> None:
        """Reject the rest of the document, saying where it broke and that the items before were read."""
        where = f"item {self.at_item} (byte {self.cur.offset()})" if self.at_item is not None else None
        where = where or f"byte {self.cur.offset()}"
        items = f"{self.count} item" + ("" if self.count == 1 else "s")
        kept = f"; the {items} before it were read, the rest were not" if self.count else ""
        detail = f"not a valid JSON document: damaged at {where}: {reason}{kept}"
        self.problems.append(parse.FileProblem("broken", detail, rejects=True))

    def notices(self) -> None:
        """The notices a whole container gives today: part of an API history, or no records."""
        if self.record:
            detail = (
                "the JSON document is one record (it has a top-level metadata_kind) over the record size limit "
                f"of {self.max_record} bytes; its {self.count} items were read as records before that was seen"
            )
            self.problems.append(parse.FileProblem("broken", detail, rejects=True))
            return
        partial = parse.partial_page(self.top, self.count) if "total" in self.top else None
        if partial:
            self.problems.append(parse.FileProblem("evidence_export_incomplete", partial, rejects=False))
        if not self.count:
            self.problems.append(
                parse.FileProblem("evidence_file_empty", "the JSON document holds no records", rejects=False)
            )


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

    "gzip": compressed; "whole": small enough to be parsed whole as today; "binary": rejected;
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


def splittable(path: str, max_record_bytes: int) -> bool:
    """Whether a file is big plain NDJSON, whose byte ranges (`ndjson_ranges`) can be read apart."""
    with open(path, "rb") as handle:
        return sniff(handle.read(max_record_bytes + SNIFF_EXTRA), max_record_bytes) == "ndjson"


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
        self._decompressed: int | None = None  # today's count where it differs from what was decompressed
        self._format: str | None = None  # the document's final format, where its entries could not know it
        self._read = False
        self.sha256, self.size, self.decompressed, self.format = "", 0, 0, "empty"
        self.problems: list[parse.FileProblem] = []
        self.cut: str | None = None
        self.blank = True

    @property
    def charged(self) -> int:
        """What this input costs of the input budget, as today: its raw bytes, plus the decompressed ones for gzip."""
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
        """Small inputs parsed whole as today; bigger ones streamed."""
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
        if len(head) <= self.max_record:  # every byte is read: today's whole parse, exactly
            yield from self._whole(joined)
        else:
            yield from self._streamed(head)

    def _whole(self, data: bytes) -> Iterator[RawEntry]:
        """A small input parsed whole by parse.entries; a damaged gzip member is dropped whole, as today."""
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
        yield from self._document(_Cursor(data, iter(())), kind, lone)

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
            yield from self._document(_Cursor(head, self._chunks), first.kind)
        elif first.kind == "long-object":
            yield from self._long_line(head, first)
        else:
            yield from _ndjson_lines(itertools.chain([head], self._chunks), self.max_record)

    def _document(self, cursor: _Cursor, kind: str, lone: str | None = None) -> Iterator[RawEntry]:
        """A big JSON document spread over lines: its items, or one record over the size limit (or `lone`'s reason)."""
        doc = _Document(cursor, self.max_record, self.problems)
        try:
            yield from doc.list_entries() if kind == "list" else doc.object_entries()
            if doc.container:
                doc.end_of_document()
        except _Damage as exc:
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
        cursor = _Cursor(head, self._chunks)
        cursor.fence_line(first.start)
        doc = _Document(cursor, self.max_record, self.problems)
        try:
            yield from doc.object_entries()
            if doc.container:
                doc.end_of_document()
        except _Damage as exc:
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

    def _over_long_line(self, cursor: _Cursor, first: _FirstLine, record: bool, hint: str) -> Iterator[RawEntry]:
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
            rest = _ndjson_lines(lines, self.max_record, first.number + 1)
        after = next(rest, None)
        # Alone in the input and closed as an object, it is what today reads as a lone record.
        fmt = "json-record" if record and after is None else "ndjson"
        yield RawEntry(first.number, None, over_limit(end - first.start, self.max_record) + hint, fmt)
        if after is not None:
            yield after
            yield from rest


# --- one big plain NDJSON file in byte ranges ---------------------------------------------------------


def _chunks_of(path: str, start: int, end: int) -> Iterator[bytes]:
    """The bytes of [start, end) of a file, in chunks."""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


def _after_newline(path: str, offset: int, size: int) -> int:
    """The offset just after the first newline at or after `offset`; the file size if there is none."""
    for chunk in _chunks_of(path, offset, size):
        found = chunk.find(b"\n")
        if found >= 0:
            return offset + found + 1
        offset += len(chunk)
    return size


def ndjson_ranges(path: str, parts: int, min_part: int = MIN_PART) -> list[tuple[int, int]]:
    """[start, end) byte ranges covering a plain file, each cut just after a newline, none empty.

    At most `parts` ranges, fewer when a range would be under `min_part` bytes or lines are long.
    """
    size = os.path.getsize(path)
    parts = max(1, min(parts, size // max(min_part, 1)))
    cuts = [0]
    for part in range(1, parts):
        cut = _after_newline(path, max(size * part // parts, cuts[-1]), size)
        if cuts[-1] < cut < size:
            cuts.append(cut)
    cuts.append(size)
    return [(start, end) for start, end in itertools.pairwise(cuts) if end > start]


def count_newlines(path: str, start: int, end: int) -> int:
    """How many newlines [start, end) of a file holds (the line number of a range is 1 + those before it)."""
    return sum(chunk.count(b"\n") for chunk in _chunks_of(path, start, end))


def range_entries(path: str, start: int, end: int, first_line: int, max_record_bytes: int) -> Iterator[RawEntry]:
    """The NDJSON entries of [start, end) of a plain file, its lines numbered from `first_line`.

    Together the ranges of `ndjson_ranges` give exactly the entries InputStream gives for a file
    that `splittable` accepts (a BOM at offset 0 is dropped).
    """
    chunks = _chunks_of(path, start, end)
    if start == 0:
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= len(parse.UTF8_BOM):
                break
        chunks = itertools.chain([head.removeprefix(parse.UTF8_BOM)], chunks)
    return _ndjson_lines(chunks, max_record_bytes, first_line)
