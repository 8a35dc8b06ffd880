"""One big pretty-printed CAVRA store file (`{"items": [...]}`) cut into byte ranges at item starts,
so that several processes can read it (`store_ranges`, `items_before`, `range_entries`).

A range is only a guess until it is read: its reader parses it with the document reader's own item
code and raises `Unsound` unless the range is exactly a run of whole top-level items, each followed
by its comma (the last range: by the list's and the document's end). The loader checks that the
ranges join up (`joined`) and otherwise reads the file whole, so a cut never changes an answer.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

from reportgen.evidence import document, ndjson, parse

FORMAT = "cavra-store"
# A range is at least this big; smaller ones cost more than they save.
MIN_PART = ndjson.MIN_PART
# How a store file written by json.dump(indent=...) begins: the first line '{' alone (what the
# stream reader takes for a document), `items` as the only key before the list, and the first item
# on its own line. The indentation before it is the items' indentation.
_HEADER = re.compile(rb'\{\n[ \t]*"items"[ \t]*:[ \t]*\[\n([ \t]{1,64})(?=[{"])')
_HEAD_BYTES = 4096
# How it ends: the list's ']' and the document's '}', with only whitespace around and after them.
_TAIL = re.compile(rb"\][ \t\r\n]*\}[ \t\r\n]*\Z")
_TAIL_BYTES = 4096
_OPEN_OBJECT, _OPEN_LIST, _CLOSE_LIST, _CLOSE_OBJECT, _COMMA, _COLON = b"{[]},:"


class Unsound(Exception):
    """A range that is not exactly a run of whole top-level items of the document."""


@dataclass(frozen=True)
class ItemCut:
    """How a range of a store file is read: the items' indentation, and whether it ends the document."""

    indent: bytes
    last: bool


def items_indent(path: str) -> bytes | None:
    """The indentation of a pretty-printed store file's items, or None when the file is not one.

    A file must also end as a store file does, with the list and the document: an API history page
    (`"total"` after its items) or anything else would make its last range unsound, and the file
    would be read twice, in ranges and then whole.
    """
    with open(path, "rb") as handle:
        found = _HEADER.match(handle.read(_HEAD_BYTES))
        if found is None:
            return None
        handle.seek(max(0, os.fstat(handle.fileno()).st_size - _TAIL_BYTES))
        return found.group(1) if _TAIL.search(handle.read(_TAIL_BYTES)) else None


def _starts(indent: bytes) -> tuple[bytes, bytes]:
    """What precedes an object item and a string item at the items' indentation, after a comma.

    JSON strings hold no raw newline, so these are never inside a string; nested values are
    indented deeper. A hostile file can still fake one: the readers' checks catch that.
    """
    return b",\n" + indent + b"{", b",\n" + indent + b'"'


def _windows(path: str, start: int, end: int, overlap: int) -> Iterator[tuple[int, bytes]]:
    """The bytes of [start, end) in chunks, each after the last `overlap` bytes of the one before
    (one less than a pattern: a pattern across two chunks is seen once, none twice), with where
    each window starts."""
    tail = b""
    for chunk in ndjson.chunks_of(path, start, end):
        data = tail + chunk
        yield start - len(tail), data
        start += len(chunk)
        tail = data[-overlap:]


def _next_cut(path: str, offset: int, size: int, indent: bytes) -> int:
    """The offset of the first object item start found at or after `offset`; the file size if none."""
    pattern = _starts(indent)[0]
    for at, data in _windows(path, offset, size, len(pattern) - 1):
        found = data.find(pattern)
        if found >= 0:
            return at + found + len(pattern) - 1
    return size


def store_ranges(path: str, parts: int, indent: bytes) -> list[tuple[int, int]]:
    """[start, end) byte ranges covering a store file, each after the first starting at an object item.

    At most `parts` ranges, fewer when a range would be under MIN_PART bytes or items are long.
    """
    size = os.path.getsize(path)
    parts = max(1, min(parts, size // max(MIN_PART, 1)))
    cuts = [0]
    for part in range(1, parts):
        cut = _next_cut(path, max(size * part // parts, cuts[-1] + 1), size, indent)
        if cuts[-1] < cut < size:
            cuts.append(cut)
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def items_before(path: str, start: int, indent: bytes) -> int:
    """How many items precede the one starting at `start`: the item starts before it, counted fast.

    Only object and string items are counted; a document with other items (or fake starts) gets a
    wrong count, which `joined` finds.
    """
    patterns = _starts(indent)
    # Up to and including the item's first byte, so its own start is counted.
    windows = _windows(path, 0, start + 1 if start else 0, len(patterns[0]) - 1)
    return sum(data.count(pattern) for _, data in windows for pattern in patterns)


def range_entries(
    path: str, span: tuple[int, int], first: int, cut: ItemCut, max_record: int
) -> Iterator[parse.RawEntry]:
    """The items of one range as the document reader gives them, numbered from `first`; Unsound
    (possibly after some items) unless the range is exactly its run of whole items."""
    start, end = span
    chunks = ndjson.chunks_of(path, start, end)
    cursor = document.Cursor(next(chunks, b""), chunks)
    doc = document.Document(cursor, max_record, [])
    try:
        indent = _header(doc) if start == 0 else cut.indent
        for entry in _items(doc, first, indent, cut.last):
            # An item over the size limit is measured to its end, maybe past the range: read it whole.
            if entry.raw is None and "over the record size limit" in (entry.problem or ""):
                raise Unsound
            yield entry
    except document.Damage:
        raise Unsound from None


def _header(doc: document.Document) -> bytes | None:
    """Read the document's start up to its first item, as the document reader does; the item's indentation."""
    cur = doc.cur
    cur.expect(_OPEN_OBJECT)
    if doc.key() != "items":
        raise Unsound
    cur.expect(_COLON)
    cur.expect(_OPEN_LIST)
    indent = cur.skip_ws()
    if cur.peek() == _CLOSE_LIST:
        raise Unsound
    return indent


def _items(doc: document.Document, index: int, indent: bytes | None, last: bool) -> Iterator[parse.RawEntry]:
    """The items from the cursor to the range's end, as `Document.items` reads them.

    A range other than the last ends just after a comma and the whitespace after it (the next
    range starts at the next item); the last ends with the list, the document and whitespace.
    """
    cur = doc.cur
    while True:
        byte = yield from doc.stretch(index, indent, FORMAT)
        index = doc.count
        if byte == _CLOSE_LIST and last:
            cur.expect(_CLOSE_OBJECT)
            doc.end_of_document()
            return
        if byte != _COMMA:
            raise Unsound
        indent = cur.skip_ws()
        if cur.pos >= cur.end() and not cur.more():
            if last:
                raise Unsound
            return


def joined(reads: list[tuple[bool, int, int]], planned: int, hashed: int | None) -> bool:
    """Whether the ranges of one file, as read, are the whole document read in one go.

    `reads` holds for each range whether it was sound, the index its first item was given, and
    how many items it held. Each range must number its items on from the ones before it, and the
    file must have kept its planned size (`hashed`: its size as hashed while the ranges were read).
    """
    if hashed != planned:
        return False
    expected = 0
    for sound, first, items in reads:
        if not sound or first != expected:
            return False
        expected += items
    return True
