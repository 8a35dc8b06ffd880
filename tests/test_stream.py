"""Streaming reads: the same entries and file facts as today's whole reads, in bounded memory.

Inputs up to the record size limit must give exactly what parse.entries and parse.gunzip give. A
small `max_record` forces the streaming path on small data: NDJSON then still equals today's
(today's whole-document parse fails for it), and so does a JSON document whose items all fit the
limit. Where streaming must differ (a giant record, damage part-way), the entries are spelt out.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from evidence import EXAMPLE_STORE, example

from reportgen.evidence import parse, stream
from reportgen.evidence.ndjson import count_newlines, ndjson_ranges, range_entries
from reportgen.evidence.parse import RawEntry
from reportgen.evidence.stream import (
    InputStream,
    OverBudget,
    StreamLimits,
    sniff,
    sniff_file,
    value_of,
)

BIG_BUDGET = 1 << 40
RECORDS = example()
NDJSON = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
STORE = EXAMPLE_STORE.read_bytes()
# Bigger than any example record (the largest is under 10 KB pretty-printed), smaller than every file.
ITEM_LIMIT = 12_000
SMALL_ITEMS = 1000  # above every tricky item below (the largest, pretty, is 650 bytes)


class Pipe:
    """A non-seekable stream (stdin) whose reads return at most `step` bytes."""

    def __init__(self, data: bytes, step: int = 1000) -> None:
        self.data, self.step, self.at = data, step, 0

    def read(self, size: int = -1) -> bytes:
        """At most `step` bytes."""
        size = self.step if size < 0 else min(size, self.step)
        chunk = self.data[self.at : self.at + size]
        self.at += len(chunk)
        return chunk


class Generated:
    """A non-seekable stream made on the fly, so a big input never exists whole."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self.pieces, self.left = pieces, b""

    def read(self, size: int = -1) -> bytes:
        """Up to `size` bytes of the generated pieces."""
        parts, have = [self.left], len(self.left)
        while have < size and (piece := next(self.pieces, None)) is not None:
            parts.append(piece)
            have += len(piece)
        data = b"".join(parts)
        chunk, self.left = data[:size], data[size:]
        return chunk


@pytest.fixture(params=[stream.CHUNK, 4096, 7], ids=["4 MiB chunks", "4 KiB chunks", "7 B chunks"])
def chunk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Read inputs in chunks of this size, so chunk ends fall inside lines, strings and escapes."""
    monkeypatch.setattr(stream, "CHUNK", request.param)
    return request.param  # type: ignore[no-any-return]


def today(
    raw: bytes, max_record: int, budget: int = BIG_BUDGET
) -> tuple[list[tuple[Any, ...]], list, str | None, bytes]:
    """What parse.py gives today for these bytes: entries, problems, gzip cut, decompressed data."""
    data, cut = raw, None
    if raw.startswith(parse.GZIP_MAGIC):
        data, cut = parse.gunzip(raw, budget - len(raw))
    problems: list[parse.FileProblem] = []
    entries = [(e.line, e.value, e.format) for e in parse.entries(data, max_record, problems)]
    return entries, problems, cut, data


def streamed(raw: bytes, max_record: int, handle: Any = None, budget: int = BIG_BUDGET) -> tuple[list, InputStream]:
    """The streamed entries (line, value or Problem, format) and the stream, its facts set."""
    reader = InputStream("x", handle or io.BytesIO(raw), StreamLimits(max_record, budget))
    return [(e.line, value_of(e), e.format) for e in reader.entries()], reader


def assert_as_today(raw: bytes, max_record: int = 16 << 20, handle: Any = None) -> InputStream:
    """Entries, problems and file facts equal today's; the stream is returned for more checks."""
    entries, problems, cut, data = today(raw, max_record)
    got, reader = streamed(raw, max_record, handle)
    assert got == entries
    assert reader.problems == problems
    assert reader.cut == cut
    assert reader.sha256 == hashlib.sha256(raw).hexdigest() and reader.size == len(raw)
    assert reader.decompressed == len(data) and reader.blank == (not data.removeprefix(parse.UTF8_BOM).strip())
    fmt = entries[-1][2] if entries else "empty"
    assert reader.format == (f"gzip+{fmt}" if raw.startswith(parse.GZIP_MAGIC) else fmt)
    return reader


def lines(*texts: bytes) -> bytes:
    """NDJSON text from lines, each ended by a newline."""
    return b"".join(text + b"\n" for text in texts)


GOOD = [json.dumps(r).encode() for r in RECORDS]
DUPLICATE = b'{"session_id": "d", "metadata_kind": "k", "session_id": "e"}'
MESSY_NDJSON = (
    parse.UTF8_BOM
    + lines(GOOD[0], b"", b"   ", GOOD[1] + b"\r", b"{not json", DUPLICATE, b"[1, 2]", b'"text"', b"\t")
    + GOOD[2]  # the last line has no newline
)

TRICKY_ITEMS: list[Any] = [
    {
        "s": 'a "quoted" [bracket] {brace} \\ back\\slash \n newline \t tab',
        "items": [1, {"x": "}],"}],
        "u": "\u00e9\u2603 \U0001f600",
        "n": None,
        "nested": [[[{"a": [{}]}]]],
        "fake close": "\\n    },\\n    {\\n",
        "e": {},
        "l": [],
    },
    "just a string, with ] and }",
    -1.5e-3,
    None,
    True,
    [],
    {},
    [{"k": "]"}, "\\"],
]


# --- inputs small enough to be parsed whole: exactly today's -------------------------------------------

SMALL = {
    "store": STORE,
    "ndjson": NDJSON,
    "messy ndjson": MESSY_NDJSON,
    "gzip": gzip.compress(NDJSON, mtime=0),
    "gzip multi-member with NUL padding": gzip.compress(NDJSON[:9000], mtime=0)
    + b"\x00" * 50
    + gzip.compress(NDJSON[9000:], mtime=0)
    + b"\x00" * 7,
    "gzip cut short": gzip.compress(NDJSON, mtime=0)[:4000],
    "gzip damaged in its second member": gzip.compress(NDJSON[:9000], mtime=0)
    + gzip.compress(NDJSON[9000:], mtime=0)[:1500]
    + b"\xff" * 64
    + gzip.compress(NDJSON[9000:], mtime=0)[1564:],
    "gzip with garbage after it": gzip.compress(NDJSON, mtime=0) + b"garbage",
    "json list": json.dumps(RECORDS[:3]).encode(),
    "one record": json.dumps(RECORDS[0], indent=2).encode(),
    "api page, part of the history": json.dumps({"items": RECORDS[:2], "total": 40, "limit": 2, "offset": 0}).encode(),
    "store without items": b'{"items": []}',
    "empty": b"",
    "blank": b" \n\r\n\t ",
    "a BOM alone": parse.UTF8_BOM,
    "binary": b"\x00\x01\x02 not text",
    "broken store": STORE[:5000],
    "bad first line then ndjson": lines(GOOD[0][:-1] + b", NaN}", GOOD[1], GOOD[2]),
    "tricky list": json.dumps(TRICKY_ITEMS, indent=2).encode(),
}


@pytest.mark.parametrize("case", sorted(SMALL))
def test_an_input_within_the_record_limit_gives_todays_entries_and_facts(case):
    assert_as_today(SMALL[case])


@pytest.mark.parametrize("case", sorted(SMALL))
def test_stdin_in_short_reads_gives_the_same_as_a_file(case):
    assert_as_today(SMALL[case], handle=Pipe(SMALL[case], step=333))


def test_a_file_handle_gives_the_same_as_a_stream(tmp_path):
    path = tmp_path / "store.json"
    path.write_bytes(STORE)
    with open(path, "rb") as handle:
        reader = assert_as_today(STORE, handle=handle)
    assert reader.format == "cavra-store" and reader.charged == len(STORE)


def test_an_input_is_read_only_once_so_its_facts_stay_those_of_the_whole_input():
    reader = InputStream("x", io.BytesIO(NDJSON), StreamLimits(ITEM_LIMIT, BIG_BUDGET))
    assert len(list(reader.entries())) == 21
    with pytest.raises(RuntimeError, match="only once"):
        list(reader.entries())
    assert reader.format == "ndjson" and reader.size == len(NDJSON)


def test_document_items_parsed_whole_carry_their_value_and_its_json_text():
    entries = list(InputStream("x", io.BytesIO(STORE), StreamLimits(16 << 20, BIG_BUDGET)).entries())
    assert all(e.parsed and e.problem is None for e in entries)
    assert [json.loads(e.raw) for e in entries] == RECORDS == [e.value for e in entries]


def test_a_damaged_gzip_member_is_dropped_whole_in_a_small_input_as_today():
    reader = assert_as_today(SMALL["gzip damaged in its second member"])
    assert reader.cut is not None and "damaged" in reader.cut
    assert reader.decompressed == 9000


# --- bigger inputs: NDJSON streamed line by line -------------------------------------------------------


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("max_record", [ITEM_LIMIT, 20_000])
def test_big_ndjson_gives_todays_entries(max_record):
    assert_as_today(NDJSON, max_record)


@pytest.mark.usefixtures("chunk")
def test_big_messy_ndjson_gives_todays_entries_bom_crlf_blank_lines_bad_lines_and_a_last_line_without_newline():
    reader = assert_as_today(MESSY_NDJSON, 3000)
    assert reader.format == "ndjson" and not reader.blank
    assert_as_today(NDJSON + b"  \t ", 3000)  # a blank last line without a newline is no entry


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("extra", [0, -1])
def test_a_first_line_of_exactly_the_record_limit_is_a_record_and_one_byte_longer_is_over_it(extra):
    limit = len(GOOD[0]) + extra
    got = assert_as_today(NDJSON, limit)
    assert got.format == "ndjson"
    first = next(iter(InputStream("x", io.BytesIO(NDJSON), StreamLimits(limit, BIG_BUDGET)).entries()))
    assert (first.problem is None) == (extra == 0)


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("where", ["first", "middle", "last without newline"])
def test_an_over_long_line_gives_todays_size_problem_at_its_line(where):
    huge = b'{"pad": "' + b"x" * 50_000 + b'"}'
    parts = {"first": [huge, *GOOD[:3]], "middle": [GOOD[0], huge, GOOD[1]], "last without newline": GOOD[:2]}
    raw = lines(*parts[where]) + (huge if where == "last without newline" else b"")
    reader = assert_as_today(raw, ITEM_LIMIT)
    entries = list(InputStream("x", io.BytesIO(raw), StreamLimits(ITEM_LIMIT, BIG_BUDGET)).entries())
    assert [e.problem for e in entries if e.problem] == [parse.over_limit(len(huge), ITEM_LIMIT)]
    assert reader.format == "ndjson"


@pytest.mark.usefixtures("chunk")
def test_an_over_long_blank_line_is_skipped_as_today():
    assert_as_today(lines(GOOD[0], b" " * 40_000, GOOD[1]), ITEM_LIMIT)


@pytest.mark.usefixtures("chunk")
def test_big_gzip_ndjson_in_several_members_gives_todays_entries():
    raw = gzip.compress(NDJSON[:20000], mtime=0) + b"\x00\x00" + gzip.compress(NDJSON[20000:], mtime=0)
    assert assert_as_today(raw, ITEM_LIMIT).format == "gzip+ndjson"


@pytest.mark.usefixtures("chunk")
def test_a_big_gzip_stream_cut_short_keeps_what_was_decompressed_and_says_so():
    raw = gzip.compress(NDJSON, mtime=0)
    reader = assert_as_today(raw[: len(raw) * 2 // 3], ITEM_LIMIT)
    assert reader.cut == "gzip stream is cut short; the entries after the cut were not read"


def test_a_big_damaged_gzip_member_keeps_the_entries_decompressed_before_the_damage(monkeypatch):
    # Past the size threshold a member cannot be held back whole: what it gave before zlib saw the
    # damage is kept (its last lines may be garbage: zlib can only say where it noticed the damage).
    monkeypatch.setattr(stream, "GZIP_READ", 500)
    first = gzip.compress(NDJSON[:20000], mtime=0)
    second = gzip.compress(NDJSON[20000:], mtime=0)
    raw = first + second[:3000] + bytes(b ^ 0x55 for b in second[3000:3100]) + second[3100:]
    entries, _, cut, data = today(raw, ITEM_LIMIT)
    got, reader = streamed(raw, ITEM_LIMIT)
    assert reader.cut == cut and cut.startswith("gzip stream is damaged (")
    assert len(data) == 20000 < reader.decompressed and len(got) > len(entries)
    whole_lines = NDJSON[:20000].count(b"\n")  # today's last entry is the line the first member cuts
    assert got[:whole_lines] == entries[:whole_lines]


# --- bigger inputs: JSON documents streamed item by item ---------------------------------------------

DOCUMENTS = {
    "pretty store": STORE,
    "compact store on one line": json.dumps({"items": RECORDS}).encode(),
    "compact store, sorted, no spaces": json.dumps({"items": RECORDS}, separators=(",", ":")).encode(),
    "pretty list": json.dumps(RECORDS, indent=2).encode(),
    "compact list": json.dumps(RECORDS).encode(),
    "list with tabs": json.dumps(RECORDS, indent="\t").encode(),
    "list at indent 0": json.dumps(RECORDS, indent=0).encode(),
    "store with CRLF": STORE.replace(b"\n", b"\r\n"),
    "tricky items, pretty": json.dumps({"items": TRICKY_ITEMS * 40}, indent=4).encode(),
    "tricky items, compact": json.dumps({"items": TRICKY_ITEMS * 40}, ensure_ascii=False).encode(),
    "a long first line going on over more lines": b'{"items": ['
    + b", ".join(GOOD[:6])
    + b",\n"
    + json.dumps(RECORDS[6:], indent=2).encode()[1:]
    + b"}",
    "odd indentation": b"[\n  {\n  "
    b'"a": {\n  },\n  "b": [\n  ]\n  },\n  {\n"c": "\\"},\\n  {"\n  }\n  ,{"d":\n1}' + b" " * 3000 + b"\n]",
    "items of one line each": b"[\n" + b",\n".join(GOOD) + b"\n]\n",
    "pretty api page, total first": json.dumps(
        {"total": 21, "offset": 0, "limit": 50, "items": RECORDS}, indent=2, sort_keys=False
    ).encode(),
}


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("case", sorted(DOCUMENTS))
def test_a_big_document_gives_todays_entries_item_by_item(case):
    limit = SMALL_ITEMS if "tricky" in case or "odd" in case else ITEM_LIMIT
    assert len(DOCUMENTS[case]) > 2 * limit
    assert_as_today(DOCUMENTS[case], limit)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 4096])
@pytest.mark.parametrize(
    "case",
    ["pretty store", "compact store on one line", "tricky items, pretty", "tricky items, compact", "odd indentation"],
)
def test_chunk_ends_anywhere_in_a_document_change_nothing(monkeypatch, case, size):
    # Escapes, strings and brackets cut by a chunk end are the tokenizer's hardest cases.
    monkeypatch.setattr(stream, "CHUNK", size)
    assert_as_today(DOCUMENTS[case], SMALL_ITEMS if "tricky" in case or "odd" in case else ITEM_LIMIT)


@pytest.mark.parametrize("size", [1, 3, 4096])
def test_chunk_ends_anywhere_in_ndjson_and_gzip_change_nothing(monkeypatch, size):
    monkeypatch.setattr(stream, "CHUNK", size)
    assert_as_today(MESSY_NDJSON, 3000)
    assert_as_today(gzip.compress(NDJSON[:30000], mtime=0) + b"\x00" + gzip.compress(NDJSON[30000:]), ITEM_LIMIT)


def test_a_streamed_item_has_its_exact_bytes_index_and_parsed_value():
    entries = list(InputStream("x", io.BytesIO(STORE), StreamLimits(ITEM_LIMIT, BIG_BUDGET)).entries())
    items = json.loads(STORE)["items"]
    assert [e.line for e in entries] == list(range(len(items)))
    assert all(e.parsed and e.raw is not None and e.raw in STORE for e in entries)
    assert [orjson_loads(e.raw) for e in entries] == items == [e.value for e in entries]
    assert entries[0].raw.startswith(b"{\n") and entries[0].raw.endswith(b"}")


def orjson_loads(raw: bytes | None) -> Any:
    """Parse an entry's raw text."""
    assert raw is not None
    return json.loads(raw)


@pytest.mark.usefixtures("chunk")
def test_a_big_api_page_holding_part_of_the_history_is_noted_as_today():
    raw = json.dumps({"items": RECORDS, "total": 40, "limit": 21, "offset": 0}, indent=2, sort_keys=True).encode()
    entries, problems, _, _ = today(raw, ITEM_LIMIT)
    got, reader = streamed(raw, ITEM_LIMIT)
    assert [(line, value) for line, value, _ in got] == [(line, value) for line, value, _ in entries]
    assert reader.problems == problems and problems[0].code == "evidence_export_incomplete"
    # `total` comes after the items: the entries could not know, the input's format does.
    assert reader.format == "cavra-api-history"


@pytest.mark.usefixtures("chunk")
def test_a_big_store_with_no_items_is_noted_empty_as_today():
    reader = assert_as_today(b'{\n  "items": [\n' + b" " * 5000 + b"\n  ]\n}\n", 1000)
    assert [p.code for p in reader.problems] == ["evidence_file_empty"] and reader.format == "empty"


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("where", ["middle", "last"])
@pytest.mark.parametrize("over", [0, 1, 2, 3])
def test_a_pretty_item_just_over_the_record_limit_is_over_it(where, over):
    # The fast paths find an item by a pattern that may end past the limit: its size is checked.
    big = RECORDS[9]
    items = [RECORDS[0], big, RECORDS[1]] if where == "middle" else [RECORDS[0], RECORDS[1], big]
    raw = json.dumps({"items": items}, indent=2).encode()
    size = len(json.dumps(big, indent=2).replace("\n", "\n    "))
    got, _ = streamed(raw, size - over)
    problems = [(line, value.reason) for line, value, _ in got if isinstance(value, parse.Problem)]
    expected = [(items.index(big), parse.over_limit(size, size - over))] if over else []
    assert problems == expected and len(got) == 3


@pytest.mark.usefixtures("chunk")
def test_a_big_object_with_metadata_kind_after_its_items_is_rejected_as_one_record_over_the_limit():
    # Today it is one json-record; streamed, its items are read before the key that says so is seen.
    raw = json.dumps({"items": RECORDS[:8], "metadata_kind": "k", "session_id": "s"}, indent=2).encode()
    got, reader = streamed(raw, ITEM_LIMIT)
    assert [value for _, value, _ in got] == RECORDS[:8]
    [problem] = reader.problems
    assert problem.code == "broken" and problem.rejects and "is one record" in problem.detail


@pytest.mark.usefixtures("chunk")
def test_a_big_object_with_metadata_kind_before_its_items_is_one_record_over_the_limit():
    raw = json.dumps({"metadata_kind": "k", "items": RECORDS[:8]}, indent=2).encode()
    got, reader = streamed(raw, ITEM_LIMIT)
    assert got == [(1, parse.Problem(parse.over_limit(len(raw), ITEM_LIMIT)), "json-record")]
    assert not reader.problems


@pytest.mark.usefixtures("chunk")
def test_a_duplicate_key_in_a_streamed_item_rejects_that_item_as_today():
    raw = b'[\n  {"a": 1, "a": 2},\n' + b",\n".join(GOOD[:3]) + b"\n]"
    got = assert_as_today(raw, ITEM_LIMIT)
    assert got.format == "json-list"
    assert streamed(raw, ITEM_LIMIT)[0][0] == (0, parse.Problem("duplicate key 'a'"), "json-list")


@pytest.mark.usefixtures("chunk")
def test_an_item_over_the_record_limit_is_its_size_problem_and_the_rest_is_read():
    big = {"session_id": "big", "pad": "x" * 30_000}
    raw = json.dumps({"items": [RECORDS[0], big, RECORDS[1]]}, indent=2).encode()
    size = len(json.dumps(big, indent=2).replace("\n", "\n    "))
    got, reader = streamed(raw, ITEM_LIMIT)
    assert got == [
        (0, RECORDS[0], "cavra-store"),
        (1, parse.Problem(parse.over_limit(size, ITEM_LIMIT)), "cavra-store"),
        (2, RECORDS[1], "cavra-store"),
    ]
    assert not reader.problems


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize(
    ("case", "raw"),
    [
        ("pretty", json.dumps(dict(RECORDS[0], pad="x" * 20_000), indent=2, sort_keys=True).encode()),
        ("compact, one line", json.dumps(dict(RECORDS[0], pad="x" * 20_000)).encode() + b"\n"),
    ],
    ids=["pretty", "compact"],
)
def test_a_big_lone_record_is_one_entry_over_the_size_limit(case, raw):
    got, reader = streamed(raw, ITEM_LIMIT)
    size = len(raw.rstrip(b"\n"))
    if case == "pretty":
        size = len(raw)  # the whole document is the record
    assert got == [(1, parse.Problem(parse.over_limit(size, ITEM_LIMIT)), "json-record")]
    assert reader.format == "json-record" and not reader.problems


@pytest.mark.usefixtures("chunk")
def test_a_giant_first_ndjson_line_is_over_the_limit_and_the_lines_after_it_are_read_as_today():
    huge = json.dumps({"session_id": "big", "metadata_kind": "k", "pad": "x" * 30_000}).encode()
    assert assert_as_today(lines(huge, GOOD[0], b"", GOOD[1]), ITEM_LIMIT).format == "ndjson"


@pytest.mark.usefixtures("chunk")
def test_a_giant_broken_first_line_is_over_the_limit_and_the_lines_after_it_are_read_as_today():
    huge = b'{"pad": "' + b"x" * 30_000  # never closed
    assert_as_today(lines(huge, GOOD[0], GOOD[1]), ITEM_LIMIT)
    assert assert_as_today(huge, ITEM_LIMIT).format == "ndjson"
    assert assert_as_today(huge + b"}\n \n", ITEM_LIMIT).format == "ndjson"  # not closed: '"}' is needed


@pytest.mark.usefixtures("chunk")
def test_a_big_binary_input_is_rejected_whole():
    raw = b"\x00\x01" + bytes(range(256)) * 200
    assert assert_as_today(raw, 1000).problems[0].code == "binary"


DAMAGED = {
    "truncated store": (STORE[: len(STORE) // 2], "the document ends"),
    "an item that is not JSON": (STORE.replace(b'"decision_count": 1', b'"decision_count": NaN', 1), "not JSON"),
    "garbage after the document": (STORE + b"\n{}\n", "more data after the end of the document"),
    "a missing comma": (STORE.replace(b"},\n    {", b"}\n    {", 3), "expected ',' or ']' before it"),
}


@pytest.mark.usefixtures("chunk")
@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_a_big_document_damaged_part_way_keeps_the_items_before_the_damage(case):
    raw, reason = DAMAGED[case]
    got, reader = streamed(raw, ITEM_LIMIT)
    [problem] = reader.problems
    assert problem.code == "broken" and problem.rejects and reason in problem.detail
    assert problem.detail.startswith("not a valid JSON document: damaged at ")
    items = json.loads(STORE)["items"]
    assert [value for _, value, _ in got] == items[: len(got)]
    assert [line for line, _, _ in got] == list(range(len(got)))
    if case != "garbage after the document":
        assert len(got) < len(items) and f"item {len(got)}" in problem.detail
    else:
        assert len(got) == len(items)
    assert reader.size == len(raw)  # the whole input was still read: its digest covers every byte


@pytest.mark.usefixtures("chunk")
def test_a_big_document_damaged_before_its_items_is_rejected_whole():
    got, reader = streamed(b'{\n  "items" [\n' + b" " * 3000 + b"]}", 1000)
    assert got == [] and [p.code for p in reader.problems] == ["broken"]


# --- budget --------------------------------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_budget_as_today(tmp_path):
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(b" " * (8 << 20), mtime=0))
    with pytest.raises(parse.TooLarge) as today_error:
        parse.gunzip(path.read_bytes(), (1 << 20) - path.stat().st_size)
    with open(path, "rb") as handle, pytest.raises(parse.TooLarge) as error:
        list(InputStream(str(path), handle, StreamLimits(1000, 1 << 20)).entries())
    assert str(error.value) == str(today_error.value)


def test_gzip_within_the_budget_is_charged_its_raw_and_decompressed_bytes_as_today():
    raw = gzip.compress(NDJSON, mtime=0)
    budget = len(raw) + len(NDJSON)
    reader = InputStream("-", Pipe(raw), StreamLimits(ITEM_LIMIT, budget))
    assert len(list(reader.entries())) == 21 and reader.charged == budget
    with pytest.raises(parse.TooLarge):
        list(InputStream("-", Pipe(raw), StreamLimits(ITEM_LIMIT, budget - 1)).entries())


def test_stdin_gzip_is_too_large_exactly_when_its_raw_and_decompressed_bytes_pass_the_budget():
    raw = gzip.compress(NDJSON, mtime=0)
    need = len(raw) + len(NDJSON)
    # Every budget from the raw size up: stdin's budget shrinks as raw bytes come in between zlib calls.
    for budget in [*range(len(raw), need, 97), need - 1, need]:
        reader = InputStream("-", Pipe(raw, step=1000), StreamLimits(ITEM_LIMIT, budget))
        if budget < need:
            with pytest.raises(parse.TooLarge):
                list(reader.entries())
        else:
            assert len(list(reader.entries())) == 21 and reader.charged == need


def test_stdin_bigger_than_the_budget_is_refused(tmp_path):
    with pytest.raises(OverBudget):
        list(InputStream("-", Pipe(NDJSON), StreamLimits(ITEM_LIMIT, len(NDJSON) - 1)).entries())
    path = tmp_path / "e.ndjson"
    path.write_bytes(NDJSON)
    with open(path, "rb") as handle, pytest.raises(OverBudget):
        InputStream(str(path), handle, StreamLimits(ITEM_LIMIT, len(NDJSON) - 1))


def test_streaming_memory_stays_far_below_the_input_size():
    # 200 MB of NDJSON (one over-long line of 40 MB among them) made on the fly, never whole.
    line = json.dumps(dict(RECORDS[0], pad="y" * 1000)).encode() + b"\n"
    count = (160 << 20) // len(line)

    def pieces() -> Iterator[bytes]:
        """Records, the over-long line in 1 MiB pieces, records."""
        for _ in range(count // 2):
            yield line
        yield b'{"pad": "'
        for _ in range(40):
            yield b"z" * (1 << 20)
        yield b'"}\n'
        for _ in range(count - count // 2):
            yield line

    tracemalloc.start()
    try:
        reader = InputStream("-", Generated(pieces()), StreamLimits(1 << 20, BIG_BUDGET))
        problems = [e.line for e in reader.entries() if e.problem]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reader.size > 200_000_000 and problems == [count // 2 + 1]
    assert peak < 60 << 20, peak


def test_a_one_line_document_is_streamed_in_bounded_memory_too(monkeypatch):
    # 36 MB of compact store on a single line, one item of 10 MB in it: no line structure to lean on.
    monkeypatch.setattr(stream, "CHUNK", 1 << 20)
    item = json.dumps(RECORDS[1], separators=(",", ":")).encode()
    count = (24 << 20) // (len(item) + 1)

    def pieces() -> Iterator[bytes]:
        """The store, a piece at a time."""
        yield b'{"items":['
        for index in range(count):
            yield (b"," if index else b"") + item
            if index == count // 2:
                yield b',{"pad":"'
                for _ in range(10):
                    yield b"w" * (1 << 20)
                yield b'"}'
        yield b'],"total":1}'

    tracemalloc.start()
    try:
        reader = InputStream("-", Generated(pieces()), StreamLimits(1 << 20, BIG_BUDGET))
        entries = [(e.line, e.problem) for e in reader.entries() if e.problem or e.line in (0, count)]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    big = len(b'{"pad":"') + (10 << 20) + 2
    assert entries == [(0, None), (count // 2 + 1, parse.over_limit(big, 1 << 20)), (count, None)]
    assert reader.size > 35_000_000 and reader.format == "cavra-api-history"
    assert peak < 16 << 20, peak  # a few chunks and one record, whatever the input size


# --- byte ranges of one big NDJSON file ----------------------------------------------------------------


def ranges_file(tmp_path: Path) -> Path:
    """An NDJSON file with a BOM, blank lines, an over-long line, CRLF and no final newline."""
    huge = b'{"pad": "' + b"x" * 9_000 + b'"}'
    body = [parse.UTF8_BOM + GOOD[0], b"", *GOOD[1:8], b"  ", huge, *(g + b"\r" for g in GOOD[8:15]), huge]
    path = tmp_path / "big.ndjson"
    path.write_bytes(b"\n".join([*body, *GOOD[15:]]))
    return path


@pytest.mark.parametrize("parts", [1, 2, 3, 5, 8, 40])
def test_the_entries_of_all_ranges_are_the_entries_of_the_whole_file(tmp_path, parts):
    path = ranges_file(tmp_path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        whole = list(InputStream(str(path), handle, StreamLimits(5000, BIG_BUDGET)).entries())
    assert sniff_file(str(path), 5000) == "ndjson"
    spans = ndjson_ranges(str(path), parts, min_part=1)
    assert spans[0][0] == 0 and spans[-1][1] == size and 1 <= len(spans) <= parts
    assert all(a < b for a, b in spans) and all(b == c for (_, b), (c, _) in zip(spans, spans[1:], strict=False))
    data = path.read_bytes()
    assert all(data[start - 1 : start] == b"\n" for start, _ in spans[1:])
    joined: list[RawEntry] = []
    for start, end in spans:
        joined += range_entries(str(path), start, end, 1 + count_newlines(str(path), 0, start), 5000)
    assert joined == whole and len(whole) == 23
    assert [e.line for e in whole if e.problem] == [11, 13, 19]


def test_a_small_file_is_one_range_and_an_empty_file_none(tmp_path):
    path = ranges_file(tmp_path)
    assert ndjson_ranges(str(path), 8) == [(0, path.stat().st_size)]
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    assert ndjson_ranges(str(empty), 8) == []


def test_count_newlines_counts_in_a_range():
    path = EXAMPLE_STORE
    data = path.read_bytes()
    assert count_newlines(str(path), 100, 5000) == data[100:5000].count(b"\n")


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (gzip.compress(NDJSON), "gzip"),
        (NDJSON, "whole"),
        (NDJSON, "ndjson"),
        (parse.UTF8_BOM + b"\n\n" + NDJSON, "ndjson"),
        (STORE, "document"),
        (json.dumps(RECORDS).encode(), "document"),
        (json.dumps({"items": RECORDS}).encode(), "document"),
        (b"\x00" + NDJSON, "binary"),
    ],
    ids=["gzip", "small", "ndjson", "bom and blank lines", "store", "compact list", "compact store", "binary"],
)
def test_sniff_tells_which_inputs_are_splittable_ndjson(head, kind):
    limit = len(head) if kind == "whole" else 2000  # the first record (1007 bytes) fits
    assert sniff(head[: limit + stream.SNIFF_EXTRA], limit) == kind


def test_parse_entry_gives_todays_reasons():
    assert parse.parse_entry(b"{not json") == next(parse.ndjson_entries(b"{not json", 100)).value
    assert parse.parse_entry(DUPLICATE) == parse.Problem("duplicate key 'session_id'")
    assert parse.parse_entry(GOOD[0]) == RECORDS[0]


def test_zlib_error_text_is_the_same_streamed_as_whole():
    raw = gzip.compress(NDJSON, mtime=0)
    broken = raw[:100] + b"\xff" * 40 + raw[140:]
    with pytest.raises(zlib.error) as whole:
        zlib.decompressobj(wbits=31).decompress(broken)
    _, reader = streamed(broken, 16 << 20)
    assert reader.cut == f"gzip stream is damaged ({whole.value}); the entries after the damage were not read"
