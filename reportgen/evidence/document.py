"""JSON documents too big to parse whole: a window on the byte stream (`Cursor`), a tokenizer that
finds where a value ends (`ValueEnd`), and the reader of a list or `items` list item by item (`Document`)."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from typing import Any

import orjson

from reportgen.evidence import parse

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


class Damage(Exception):
    """The document is not valid JSON from here on."""


class ValueEnd:
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


class Cursor:
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
        """The next byte, not consumed; Damage at the end of the input."""
        if self.pos >= self.end() and not self.more():
            raise Damage("the document ends early")
        return self.buf[self.pos]

    def expect(self, byte: int) -> None:
        """Consume the next non-blank byte, which must be `byte`."""
        self.skip_ws()
        if self.peek() != byte:
            raise Damage(f"expected {chr(byte)!r} but found {chr(self.buf[self.pos])!r}")
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


class Document:
    """Reads one big JSON document item by item: a list, or an object holding an `items` list."""

    def __init__(self, cursor: Cursor, max_record: int, problems: list[parse.FileProblem]) -> None:
        self.cur, self.max_record, self.problems = cursor, max_record, problems
        self.fast = True  # the line-based fast path is used until it once gets an item wrong
        self.top: dict[str, Any] = {}
        self.count = 0  # items read
        self.at_item: int | None = None  # the item being read, for a damage report
        self.container = self.record = False

    # -- values ------------------------------------------------------------------------------------

    def _parse(self, raw: bytes) -> Any:
        """A value's JSON text parsed; Damage if it is not JSON or nests too deeply."""
        deep = parse.depth_problem(raw)
        if deep:
            raise Damage(deep)
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise Damage(f"not JSON: {exc}") from None

    def exact_value(self) -> tuple[bytes | None, int]:
        """The next value's bytes found by the tokenizer, or (None, its length) when over the record size limit."""
        cur, scan, dropped, keep = self.cur, ValueEnd(), 0, True
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
                raise Damage("the document ends inside a value")

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

    def item(self, index: int, indent: bytes | None, fmt: str) -> parse.RawEntry:
        """The next item of the list as a checked entry."""
        self.at_item = index
        self.cur.peek()
        found = self.fast_value(indent) if self.fast and indent is not None else None
        if found is None:
            raw, length = self.exact_value()
            if raw is None:
                return parse.RawEntry(index, None, parse.over_limit(length, self.max_record), fmt)
            deep = parse.depth_problem(raw)  # before the parse, which a deep item would end
            if deep:
                return parse.RawEntry(index, None, deep, fmt)
            found = raw, self._parse(raw)
        raw, value = found
        return parse.item_entry(index, raw, value, fmt)

    def pretty_run(self, index: int, indent: bytes, fmt: str) -> Iterator[parse.RawEntry]:
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
            cur.pos = pos
            yield parse.item_entry(index, raw, value, fmt)
            index = self.count = index + 1

    def stretch(self, index: int, indent: bytes | None, fmt: str) -> Generator[parse.RawEntry, None, int]:
        """The items from the cursor, numbered from INDEX: those found by their layout, then one read
        exactly. Returns the byte after the last one (past whitespace), consumed: ',' or ']' in a list."""
        if self.fast and indent is not None:
            for entry in self.pretty_run(index, indent, fmt):
                yield entry
                index += 1
        yield self.item(index, indent, fmt)
        self.count = self.at_item = index + 1  # damage from here on is the next item's
        cur = self.cur
        cur.skip_ws()
        byte = cur.peek()
        cur.pos += 1
        return byte

    def items(self, fmt: str) -> Iterator[parse.RawEntry]:
        """The items of a list whose '[' was just consumed, up to and including its ']'."""
        cur = self.cur
        indent = cur.skip_ws()
        if cur.peek() == _CLOSE_LIST:
            cur.pos += 1
            return
        index = 0
        while True:
            byte = yield from self.stretch(index, indent, fmt)
            index = self.count
            if byte == _CLOSE_LIST:
                self.at_item = None
                return
            if byte != _COMMA:
                raise Damage(f"expected ',' or ']' before it but found {chr(byte)!r}")
            indent = cur.skip_ws()

    # -- the document ----------------------------------------------------------------------------

    def list_entries(self) -> Iterator[parse.RawEntry]:
        """The items of a top-level list, then the check that nothing follows it."""
        self.cur.expect(_OPEN_LIST)
        self.container = True
        yield from self.items("json-list")

    def object_entries(self) -> Iterator[parse.RawEntry]:
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
                raise Damage(f"expected ',' or '}}' after key {key!r} but found {chr(byte)!r}")

    def items_key(self) -> Iterator[parse.RawEntry]:
        """The `items` list of an object: from here on it is a container, read on past the first line."""
        if self.container:
            raise Damage("duplicate key 'items'")
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
            raise Damage(f"expected a key but found {chr(self.cur.peek())!r}")
        raw, _ = self.exact_value()
        if raw is None:
            raise Damage("a key over the record size limit")
        return self._parse(raw)  # type: ignore[no-any-return]

    def end_of_document(self) -> None:
        """Nothing but whitespace may follow the document."""
        self.cur.skip_ws()
        if self.cur.pos < self.cur.end():
            raise Damage("more data after the end of the document")

    def damaged(self, reason: str) -> None:
        """Reject the rest of the document, saying where it broke and that the items before were read."""
        where = f"item {self.at_item} (byte {self.cur.offset()})" if self.at_item is not None else None
        where = where or f"byte {self.cur.offset()}"
        items = f"{self.count} item" + ("" if self.count == 1 else "s")
        kept = f"; the {items} before it were read, the rest were not" if self.count else ""
        detail = f"not a valid JSON document: damaged at {where}: {reason}{kept}"
        self.problems.append(parse.FileProblem("broken", detail, rejects=True))

    def notices(self) -> None:
        """The notices the container gives, as a whole parse gives them: part of an API history, or no records."""
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
