"""NDJSON: lines split chunk by chunk in bounded memory, and one big plain NDJSON file cut into byte
ranges that several processes can read (`ndjson_ranges`, `count_newlines`, `range_entries`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator

from reportgen.evidence import parse
from reportgen.evidence.parse import RawEntry, over_limit

MIB = 1 << 20
# Bytes of a range read at a time (as stream.CHUNK, for the same reason).
CHUNK = 4 * MIB
# A part of a split NDJSON file is at least this big; smaller parts cost more than they save.
MIN_PART = MIB


# --- NDJSON: lines split chunk by chunk -----------------------------------------------------------


def ndjson_lines(chunks: Iterable[bytes], max_record: int, first_line: int = 1) -> Iterator[RawEntry]:
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


# --- one big plain NDJSON file in byte ranges ---------------------------------------------------------


def chunks_of(path: str, start: int, end: int) -> Iterator[bytes]:
    """The bytes of [start, end) of a file, in chunks."""
    with open(path, "rb") as handle:
        handle.seek(start)
        left = end - start
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


def _after_newline(path: str, offset: int, size: int) -> int:
    """The offset just after the first newline at or after `offset`; the file size if there is none."""
    for chunk in chunks_of(path, offset, size):
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
    return sum(chunk.count(b"\n") for chunk in chunks_of(path, start, end))


def range_entries(path: str, start: int, end: int, first_line: int, max_record_bytes: int) -> Iterator[RawEntry]:
    """The NDJSON entries of [start, end) of a plain file, its lines numbered from `first_line`.

    Together the ranges of `ndjson_ranges` give exactly the entries InputStream gives for a file
    that `stream.sniff_file` finds to be NDJSON (a BOM at offset 0 is dropped).
    """
    chunks = chunks_of(path, start, end)
    if start == 0:
        head = b""
        for chunk in chunks:
            head += chunk
            if len(head) >= len(parse.UTF8_BOM):
                break
        chunks = itertools.chain([head.removeprefix(parse.UTF8_BOM)], chunks)
    return ndjson_lines(chunks, max_record_bytes, first_line)
