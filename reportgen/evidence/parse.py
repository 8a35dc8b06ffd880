"""The evidence formats: bytes in, one parsed entry (or the reason it is not one) per record out.

Formats are told apart by content: gzip by its magic bytes, a JSON document (a record, a list, a
CAVRA store file or API history page) when the whole input parses, NDJSON otherwise. Every entry
carries its raw bytes where the format has them, so later checks need not serialise it again; a
pretty-printed document item also carries the compact text orjson writes back after its parse.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
# The deepest nesting of arrays and objects an entry may have. Records nest a few levels; orjson
# parses up to 1024 but serialises only up to 254, so a deeper entry would break every later step.
MAX_DEPTH = 64
# Outside strings: runs of bytes other than brackets and quotes, and whole strings.
_NOT_OPENERS = bytes(b for b in range(256) if b not in b"[{")
_PLAIN_OR_STRINGS = re.compile(rb'(?:[^"\[\]{}]++|"(?:[^"\\]++|\\.)*+")*+', re.S)


class TooLarge(Exception):
    """Decompressed data that would exceed the input budget."""


class TooDeep(Exception):
    """A JSON document with an item nested too deeply to parse whole: it is read item by item."""


@dataclass(frozen=True)
class Problem:
    """An entry that is not a parsed JSON value, and why."""

    reason: str


@dataclass(frozen=True)
class Entry:
    """One entry of an input: where it is, its parsed value (or a Problem) and its format."""

    line: int | None
    value: Any
    format: str
    raw: bytes | None = None


@dataclass(frozen=True)
class FileProblem:
    """Something about a whole input: rejected (nothing more read) or a notice (read anyway)."""

    code: str
    detail: str
    rejects: bool


# Not frozen: one is made per record read, and a frozen dataclass's __init__ (a setattr call per
# field) costs four times a plain one's.
@dataclass(slots=True)
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
    # A parsed item's JSON text as orjson writes it back (`item_entry`): what the checks after the
    # parse read, a third shorter than a pretty-printed item. None: they read `raw`.
    compact: bytes | None = None


def over_limit(length: int, max_record: int) -> str:
    """The reason given for an entry over the record size limit."""
    return f"entry of {length} bytes is over the record size limit of {max_record} bytes"


def gunzip(raw: bytes, budget: int) -> tuple[bytes, str | None]:
    """Decompress every gzip member, keeping what a damaged stream gave; TooLarge past the budget."""
    out: list[bytes] = []
    size, rest = 0, raw
    try:
        while rest:
            stream = zlib.decompressobj(wbits=31)
            chunk = stream.decompress(rest, budget - size + 1)
            size += len(chunk)
            if size > budget or stream.unconsumed_tail:
                raise TooLarge(f"decompresses to more than the input limit of {budget} bytes")
            out.append(chunk)
            if not stream.eof:
                return b"".join(out), "gzip stream is cut short; the entries after the cut were not read"
            rest = stream.unused_data.lstrip(b"\x00")
    except zlib.error as exc:
        return b"".join(out), f"gzip stream is damaged ({exc}); the entries after the damage were not read"
    return b"".join(out), None


def entries(data: bytes, max_record: int, problems: list[FileProblem]) -> Iterator[Entry]:
    """Every entry of one input's (decompressed) bytes; whole-input problems go into `problems`."""
    data = data.removeprefix(UTF8_BOM)
    if not data.strip():
        return
    # A NUL on the first line marks a binary file; one later is just a bad NDJSON line.
    if b"\x00" in data.lstrip().split(b"\n", 1)[0]:
        problems.append(FileProblem("binary", "binary data, not JSON or NDJSON text", rejects=True))
        return
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        whole = looks_like_document(data)
        # Too deep for orjson: a document (or one line that may be a whole store file) is read item by item.
        if (whole or b"\n" not in data.strip()) and deeper_than(data, MAX_DEPTH + 2):
            raise TooDeep from None
        if whole:
            problems.append(FileProblem("broken", f"not a valid JSON document: {exc}", rejects=True))
            return
        yield from ndjson_entries(data, max_record)
        return
    yield from document_entries(document, data, problems)


def looks_like_document(data: bytes) -> bool:
    """Whether unparsable data is a (broken) multi-line JSON document rather than NDJSON."""
    first = data.lstrip().split(b"\n", 1)[0].strip()
    return first.startswith(b"[") or first == b"{"


def ndjson_entries(data: bytes, max_record: int) -> Iterator[Entry]:
    """Each non-blank NDJSON line, parsed, or with the reason it is not a record."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        if len(line) > max_record:
            reason = f"entry of {len(line)} bytes is over the record size limit of {max_record} bytes"
            yield Entry(number, Problem(reason), "ndjson")
            continue
        yield Entry(number, parse_entry(line), "ndjson", line)


def parse_entry(raw: bytes) -> Any:
    """One entry's JSON text parsed: its value, or a Problem (too deep, not JSON, or a key it repeats)."""
    deep = depth_problem(raw)
    if deep:
        return Problem(deep)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Problem(f"not JSON: {exc}{line_end_hint(raw)}")
    problem = entry_problem(raw, value)
    return Problem(problem) if problem else value


def entry_problem(raw: bytes, value: Any) -> str | None:
    """Why an entry's parsed JSON text is not taken (nested too deeply, a repeated key), or None."""
    return _problem(raw, written(value))


def _problem(raw: bytes, again: bytes | None) -> str | None:
    """`entry_problem` given the value as `written` writes it."""
    deep = depth_problem(raw)
    if deep:
        return deep
    duplicate = _duplicate(raw, again)
    return f"duplicate key {duplicate!r}" if duplicate else None


def list_problem(raw: bytes, value: Any, limit: int) -> str | None:
    """The reason an entry holds a list of more than `limit` items (its path and length), or None.

    Checked before a record is decoded, so one record cannot make thousands of open items.
    """
    # A list of more than `limit` items takes 2 * limit + 3 bytes and `limit` commas at least.
    if len(raw) < 2 * limit + 3 or raw.count(b",") < limit:
        return None
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, list):
            if len(node) > limit:
                where = path or "the entry"
                return f"{where} holds {len(node)} items, over the limit of {limit} per list (--max-list-items)"
            stack += [(f"{path}.{i}", item) for i, item in enumerate(node) if isinstance(item, list | dict)]
        elif isinstance(node, dict):
            stack += [(f"{path}.{k}" if path else k, v) for k, v in node.items() if isinstance(v, list | dict)]
    return None


CR_HINT = "; the line holds carriage returns (CR): CR-only line ends (old Mac style) are not read, use LF or CRLF"


def line_end_hint(raw: bytes) -> str:
    """Why several records may have run into one line: carriage returns used as line ends."""
    return CR_HINT if b"\r" in raw.rstrip(b"\r\n \t") else ""


def openers(raw: bytes) -> int:
    """How many '[' and '{' a text holds, strings included (one pass: everything else is dropped)."""
    return len(raw.translate(None, _NOT_OPENERS))


def may_be_deep(raw: bytes) -> bool:
    """A fast look that never misses: False when the text has too few brackets to nest past MAX_DEPTH."""
    return openers(raw) > MAX_DEPTH


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether JSON text nests arrays and objects more than `limit` levels (brackets in strings not counted)."""
    if openers(raw) <= limit:
        return False
    depth, at, end = 0, 0, len(raw)
    while True:
        at = _PLAIN_OR_STRINGS.match(raw, at).end()  # type: ignore[union-attr]
        if at >= end or raw[at] == 0x22:  # the end, or a string never closed (not JSON anyway)
            return False
        depth += 1 if raw[at] in b"[{" else -1
        if depth > limit:
            return True
        at += 1


def depth_problem(raw: bytes) -> str | None:
    """The reason an entry's text nests too deeply, or None: the nesting limit, checked in this one place."""
    if deeper_than(raw, MAX_DEPTH):
        return f"nested more than {MAX_DEPTH} levels deep (arrays and objects); the limit is {MAX_DEPTH}"
    return None


def document_items(document: Any) -> tuple[list[Any], str] | None:
    """The records of a list, a store file or an API history page, and which it is; None for one record."""
    if isinstance(document, list):
        return document, "json-list"
    if isinstance(document, dict) and isinstance(document.get("items"), list) and "metadata_kind" not in document:
        return document["items"], "cavra-api-history" if "total" in document else "cavra-store"
    return None


def document_entries(document: Any, data: bytes, problems: list[FileProblem]) -> Iterator[Entry]:
    """The records of one JSON document: a record, a list, a store file or an API history page."""
    found_items = document_items(document)
    if found_items is None:
        if isinstance(document, dict) and isinstance(document.get("items"), list):
            reason = "a record that also holds an items list: the items were not read"
            problems.append(FileProblem("evidence_document_key_unread", reason, rejects=True))
        # A lone record: it starts on line 1, and there is no array index to give.
        problem = entry_problem(data, document)
        yield Entry(1, Problem(problem) if problem else document, "json-record", data)
        return
    container = container_problems(data, document)
    problems.extend(container)
    if any(p.rejects and p.code == "evidence_document_repeated_key" for p in container):
        return
    duplicates = duplicate_keys_by_item(data, document)
    items, fmt = found_items
    partial = partial_page(document, len(items)) if fmt == "cavra-api-history" else None
    if partial:
        problems.append(FileProblem("evidence_export_incomplete", partial, rejects=False))
    if not items:
        problems.append(FileProblem("evidence_file_empty", "the JSON document holds no records", rejects=False))
    for index, item in enumerate(items):
        found = duplicates.get(index)
        yield Entry(index, Problem(f"duplicate key {found!r}") if found else item, fmt)


# The keys of a CAVRA store file (`items`) and of its API history pages (reference §1.2, §1.5).
CONTAINER_KEYS = frozenset({"items", "total", "limit", "offset", "schema_version", "product"})


def container_problems(data: bytes, document: Any) -> list[FileProblem]:
    """What is wrong with a store file's or history page's own keys: a repeated key (the parser kept
    one of two item lists, so the document cannot be trusted and is not read), or another key
    holding an object or list (content that would otherwise go unread without a word)."""
    if not isinstance(document, dict):
        return []
    problems = []
    if may_repeat_keys(data, document) and not deeper_than(data, MAX_DEPTH + 2):
        top = json.loads(data, object_pairs_hook=_pairs)
        if isinstance(top, _Pairs) and top.duplicate is not None:
            reason = f"the document's own key {top.duplicate!r} is given twice; the document is not read"
            return [FileProblem("evidence_document_repeated_key", reason, rejects=True)]
    for key in sorted(set(document) - CONTAINER_KEYS):
        if isinstance(document[key], (dict, list)):
            reason = f"key {key!r} is not part of a CAVRA store or history page; its content was not read"
            problems.append(FileProblem("evidence_document_key_unread", reason, rejects=True))
    return problems


def partial_page(document: dict[str, Any], held: int) -> str | None:
    """Why an API history page holds only part of the history, or None."""
    total = document.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > held:
        return (
            f"the API history response holds {held} of {total} items "
            f"(offset {document.get('offset')}, limit {document.get('limit')}): the export is incomplete"
        )
    return None


# --- duplicate keys: orjson keeps the last silently, so they are looked for ---------------------


class _Pairs(dict):  # type: ignore[type-arg]
    """A JSON object that remembers the first key it saw twice."""

    duplicate: str | None = None


def _pairs(pairs: list[tuple[str, Any]]) -> _Pairs:
    """Build an object from its key/value pairs, noting a repeated key."""
    obj = _Pairs()
    for key, value in pairs:
        if key in obj and obj.duplicate is None:
            obj.duplicate = key
        obj[key] = value
    return obj


def colons(text: bytes) -> int:
    """How many colons a JSON text holds, written or escaped (an escape counted even where it is not one)."""
    found = text.count(b":")
    if b"\\" in text:  # memchr-fast, and most records escape nothing: two scans saved
        found += text.count(b"\\u003a") + text.count(b"\\u003A")
    return found


def may_repeat_keys(raw: bytes, value: Any) -> bool:
    """A fast look that never misses: False only when the text cannot repeat a key.

    Every object member has one colon outside strings; a colon inside a string is written or
    escaped. orjson writes the parsed value back with each key once and no colon escaped, so if the
    text repeats a key, it holds more colons (escapes counted) than that: whatever the whitespace
    around the colon and however the key is escaped.
    """
    return _may_repeat(raw, written(value))


def _may_repeat(raw: bytes, again: bytes | None) -> bool:
    """`may_repeat_keys` given the value as `written` writes it."""
    return again is None or (again != raw and colons(raw) > again.count(b":"))


def written(value: Any) -> bytes | None:
    """A parsed value written back by orjson: each key once, no whitespace, nothing escaped that
    need not be; None for a value orjson will not write (nested past its own limit), which the
    parse with pairs then reads."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return None


def item_entry(line: int | None, raw: bytes, value: Any, fmt: str) -> RawEntry:
    """A parsed document item as an entry: its problem (nested too deeply, a repeated key), or its
    value with the compact text the reader's later checks read instead of the pretty-printed one."""
    again = written(value)
    problem = _problem(raw, again)
    if problem:
        return RawEntry(line, None, problem, fmt)
    return RawEntry(line, raw, None, fmt, value, True, again)


def first_duplicate(value: Any) -> str | None:
    """The first repeated key found in a value parsed with `_pairs`."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, _Pairs) and node.duplicate is not None:
            return node.duplicate
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def _duplicate(raw: bytes, again: bytes | None) -> str | None:
    """The first key an entry's text repeats, or None; `again` is its value as `written` writes it."""
    if not _may_repeat(raw, again):
        return None
    return first_duplicate(json.loads(raw, object_pairs_hook=_pairs))


def duplicate_keys_by_item(data: bytes, document: Any) -> dict[int, str]:
    """For a list, store file or API history page, the repeated key of each item (by index) that repeats one."""
    if not may_repeat_keys(data, document):
        return {}
    if deeper_than(data, MAX_DEPTH + 2):  # too deep for the parse with pairs: read item by item
        raise TooDeep
    slow = json.loads(data, object_pairs_hook=_pairs)
    items = (document_items(slow) or ([], ""))[0]
    found = {i: first_duplicate(item) for i, item in enumerate(items)}
    return {i: key for i, key in found.items() if key is not None}
