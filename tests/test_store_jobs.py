"""A big store file read in byte ranges cut at item starts gives exactly what one process gives.

The split is a guess the readers check: on generated store files (both profiles) the ranges must
join up and the summary and `check --json` match `--jobs 1` byte for byte; on damaged and
hostile shapes the file is read whole (or the split is still exact), never read differently.
"""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from evidence import ROOT

from reportgen.cli import cli
from reportgen.evidence import ndjson, store_ranges, workers
from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.evidence.workers import plan_units
from reportgen.judge.summary import summarise

sys.path.insert(0, str(ROOT))
from bench.generate import write

SMALL = 64 * 1024
# The split's own thresholds, before the fixture below lowers them.
SPLIT_BYTES, MIN_PART = workers.SPLIT_BYTES, store_ranges.MIN_PART
LIMITS = Limits(max_record_bytes=SMALL)
RECORDS, SEED, BROKEN = 700, 5, 4


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Split any store file over 64 KiB into ranges of at least 64 KiB; note whether each split joined up."""
    monkeypatch.setattr(workers, "SPLIT_BYTES", SMALL)
    monkeypatch.setattr(store_ranges, "MIN_PART", SMALL)
    seen: list[bool] = []
    original = store_ranges.joined

    def noted(*args: Any) -> bool:
        seen.append(original(*args))
        return seen[-1]

    monkeypatch.setattr(store_ranges, "joined", noted)
    return seen


@pytest.fixture(scope="module", params=["reference", "compact"])
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store file of generated evidence, broken entries included."""
    path = tmp_path_factory.mktemp("store") / f"{request.param}.json"
    return Path(write(str(path), "store", RECORDS, SEED, BROKEN, profile=request.param).path)


@pytest.fixture(scope="module")
def items(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The items of a generated store file, to lay out in hostile ways."""
    path = tmp_path_factory.mktemp("items") / "store.json"
    write(str(path), "store", RECORDS, SEED + 1, BROKEN, profile="reference")
    return orjson.loads(path.read_bytes())["items"]  # type: ignore[no-any-return]


def pretty(item: Any, indent: bytes = b"    ") -> bytes:
    """One item as a store file lays it out: sorted keys, two-space steps, at this indentation."""
    text = orjson.dumps(item, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    return indent + text.replace(b"\n", b"\n" + indent)


def store(texts: list[bytes], tail: bytes = b"\n  ]\n}\n") -> bytes:
    """A store document of these laid-out items."""
    return b'{\n  "items": [\n' + b",\n".join(texts) + tail


def check_json(path: Path, jobs: int) -> str:
    """What `reportgen check --json` prints for one input, read with this many jobs."""
    args = ["check", "--json", "--jobs", str(jobs), "--max-record-bytes", str(SMALL), str(path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def same_with_jobs(path: Path, jobs: int = 2, stdin: bytes | None = None) -> None:
    """The summary (and `check --json`) read with `jobs` is the one-process one, byte for byte."""
    name = "-" if stdin is not None else str(path)

    def summary(n: int) -> bytes:
        return summarise(load([name], stdin=io.BytesIO(stdin or b""), jobs=n, limits=LIMITS)).to_json()

    assert summary(jobs) == summary(1)
    if stdin is None:
        assert check_json(path, jobs) == check_json(path, 1)


def ranges(path: Path, jobs: int = 2) -> int:
    """How many store ranges the planner cuts the file into."""
    units = plan_units([(str(path), str(path))], LIMITS, jobs)
    return sum(unit.items is not None for unit in units)


@pytest.mark.parametrize("jobs", [2, 3])
def test_a_generated_store_file_is_read_in_ranges_that_join_up_into_the_one_process_summary(
    generated, jobs, small_ranges
):
    assert ranges(generated, jobs) == jobs
    same_with_jobs(generated, jobs)
    assert small_ranges and all(small_ranges)


def test_duplicate_and_conflicting_copies_in_other_ranges_settle_as_in_one_process(items, tmp_path, small_ranges):
    copies = [dict(item, signer="someone-else") for item in items[100:130] if isinstance(item, dict)]
    path = tmp_path / "copies.json"
    path.write_bytes(store([pretty(item) for item in items + items[50:80] + copies]))
    one, two = load([str(path)], jobs=1, limits=LIMITS), load([str(path)], jobs=2, limits=LIMITS)
    assert len(one.duplicates) == 30 and len(one.conflicts) == len(copies) > 0
    assert (one.duplicates, one.conflicts, one.rejected) == (two.duplicates, two.conflicts, two.rejected)
    same_with_jobs(path)
    assert small_ranges and all(small_ranges)


# --- damaged and hostile shapes: read whole, or split and still exact ------------------------------


def objects(items: list[Any]) -> list[dict[str, Any]]:
    """The items that are objects (the generator also writes broken entries as strings)."""
    return [item for item in items if isinstance(item, dict)]


def truncated(items: list[Any]) -> bytes:
    """A store document cut off three quarters of the way through."""
    whole = store([pretty(item) for item in items])
    return whole[: len(whole) * 3 // 4]


def second_list(key: str) -> Any:
    """A document whose items are followed by another key holding a list at the items' indentation."""

    def shape(items: list[Any]) -> bytes:
        rest = b",\n".join(pretty(item) for item in items[100:])
        return store(
            [pretty(item) for item in items[:100]], b'\n  ],\n  "' + key.encode() + b'": [\n' + rest + b"\n  ]\n}\n"
        )

    return shape


def list_first(items: list[Any]) -> bytes:
    """Another key before the items."""
    return b'{\n  "more": [1, 2],\n' + store([pretty(item) for item in items])[2:]


def history_page(items: list[Any]) -> bytes:
    """An API history page: the items, then total, limit and offset."""
    return store([pretty(item) for item in items], b'\n  ],\n  "limit": 500,\n  "offset": 0,\n  "total": 9999\n}\n')


def escaped_starts(items: list[Any]) -> bytes:
    """Strings whose text looks like an item start once unescaped (JSON keeps it on one line)."""
    fake = ',\n    {\n      "session_id": "x"\n    },\n    {'
    texts = [pretty(dict(item, notes=fake) if isinstance(item, dict) else item) for item in items]
    return store(texts)


def mixed_indentation(items: list[Any]) -> bytes:
    """Every fifth item indented two spaces, every seventh six, the others four."""

    def indent(n: int) -> bytes:
        return b"  " if n % 5 == 4 else b"      " if n % 7 == 6 else b"    "

    return store([pretty(item, indent(n)) for n, item in enumerate(items)])


def one_line(items: list[Any]) -> bytes:
    """A compact store document on one line."""
    return orjson.dumps({"items": items}) + b"\n"


def compact_items(items: list[Any]) -> bytes:
    """Each item compact on its own line."""
    return store([b"    " + orjson.dumps(item) for item in items])


def over_long(items: list[Any]) -> bytes:
    """An item over the record size limit in the middle."""
    big = dict(objects(items)[0], notes="x" * (SMALL + 100))
    half = len(items) // 2
    return store([pretty(item) for item in [*items[:half], big, *items[half:]]])


def fake_starts(items: list[Any]) -> bytes:
    """Every record holds a list laid out so that one of its values looks like an item start."""
    texts = [b'    {"aaa": [0,\n    {"k": 1}],' + orjson.dumps(item)[1:] for item in objects(items)]
    return store(texts)


def odd_items(items: list[Any]) -> bytes:
    """Numbers, lists, null and booleans among the items (not counted as item starts)."""
    odd = [12, [1, 2], None, True, -3.5]
    return store([pretty(item) for item in [*items[:3], *odd, *items[3:50], *odd, *items[50:]]])


def trailing_data(items: list[Any]) -> bytes:
    """More data after the document's end."""
    return store([pretty(item) for item in items]) + b"]\n"


def damaged_item(at: float) -> Any:
    """A document with one item that is not JSON, `at` of the way through."""

    def shape(items: list[Any]) -> bytes:
        texts = [pretty(item) for item in items]
        texts.insert(int(len(texts) * at), b'    {"session_id": "x",, }')
        return store(texts)

    return shape


SHAPES = {
    "truncated": (truncated, "whole"),  # it does not end as a store file
    "second list": (second_list("more"), "fallback"),
    "items twice": (second_list("items"), "fallback"),
    "key before items": (list_first, "whole"),
    "history page": (history_page, "whole"),  # it does not end as a store file
    "escaped starts": (escaped_starts, "joined"),
    "mixed indentation": (mixed_indentation, "fallback"),
    "one line": (one_line, "whole"),
    "compact items": (compact_items, "joined"),
    "over-long item": (over_long, "fallback"),
    "fake starts": (fake_starts, "fallback"),
    "odd items": (odd_items, "fallback"),
    "trailing data": (trailing_data, "whole"),  # it does not end as a store file
    "damaged early": (damaged_item(0.2), "fallback"),
    "damaged late": (damaged_item(0.8), "fallback"),
    "CRLF": (lambda items: store([pretty(item) for item in items]).replace(b"\n", b"\r\n"), "whole"),
    "BOM": (lambda items: b"\xef\xbb\xbf" + store([pretty(item) for item in items]), "whole"),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_damaged_or_hostile_store_file_gives_the_one_process_answer(items, tmp_path, shape, small_ranges):
    make, expected = SHAPES[shape]
    path = tmp_path / "hostile.json"
    path.write_bytes(make(items))
    cut = ranges(path)
    same_with_jobs(path)
    if expected == "whole":
        assert cut == 0 and not small_ranges
    else:
        assert cut >= 2 and small_ranges
        assert all(small_ranges) if expected == "joined" else not any(small_ranges)


def test_gzip_and_stdin_store_files_are_read_whole(items, tmp_path, small_ranges):
    data = store([pretty(item) for item in items])
    packed = tmp_path / "store.json.gz"
    packed.write_bytes(gzip.compress(data))
    spool = tmp_path / "reportgen-input-x.evidence"  # a stream's temporary copy, by its name
    spool.write_bytes(data)
    assert ranges(packed) == ranges(spool) == 0
    same_with_jobs(packed)
    same_with_jobs(tmp_path, stdin=data)
    assert not small_ranges


def test_ranges_join_up_only_when_each_numbers_on_from_the_last_and_the_file_kept_its_size():
    assert store_ranges.joined([(True, 0, 5), (True, 5, 3)], 100, 100)
    assert not store_ranges.joined([(True, 0, 5), (True, 4, 3)], 100, 100)
    assert not store_ranges.joined([(True, 0, 5), (False, 5, 3)], 100, 100)
    assert not store_ranges.joined([(True, 0, 5), (True, 5, 3)], 100, 101)
    assert not store_ranges.joined([(True, 0, 5), (True, 5, 3)], 100, None)


def test_a_large_store_file_is_read_by_more_than_one_unit_at_the_default_thresholds(
    tmp_path, monkeypatch, small_ranges
):
    monkeypatch.setattr(workers, "SPLIT_BYTES", SPLIT_BYTES)
    monkeypatch.setattr(store_ranges, "MIN_PART", MIN_PART)
    path = Path(write(str(tmp_path / "large.json"), "store", 13_000, SEED, BROKEN, profile="reference").path)
    assert path.stat().st_size > SPLIT_BYTES
    units = plan_units([(str(path), str(path))], Limits(), jobs=2)
    assert len(units) == 2 and all(unit.items is not None for unit in units)
    two = load([str(path)], jobs=2)
    assert small_ranges == [True] and two.files[0].records == 13_000 + BROKEN
    assert summarise(two).to_json() == summarise(load([str(path)], jobs=1)).to_json()


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 20])
def test_the_items_before_a_range_are_counted_across_chunk_edges(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(ndjson, "CHUNK", chunk)
    items = [{"n": i, "text": ",\n    {"} if i % 3 else f"item {i}" for i in range(40)]
    path = tmp_path / "store.json"
    path.write_text(json.dumps({"items": items}, indent=4))
    data = path.read_bytes()
    indent = store_ranges.items_indent(str(path))
    assert indent == b" " * 8
    # Every item start after the first: ",\n" and the indentation, then the item's first byte.
    gap = b",\n" + indent
    starts = [0] + [i + len(gap) for i in range(len(data)) if data.startswith(gap, i)]
    starts = [s for s in starts if s == 0 or data[s : s + 1] in (b"{", b'"')]
    assert len(starts) == len(items)
    assert [store_ranges.items_before(str(path), start, indent) for start in starts] == list(range(len(items)))


@pytest.mark.parametrize(
    ("tail", "split"),
    [("", True), ("\n", True), (' , "total": 700\n}', False), ("\n}\n{}", False), ("\n}\n\x00", False)],
    ids=["store", "newline after", "api history page", "a second document", "a NUL after"],
)
def test_only_a_file_that_ends_as_a_store_file_is_cut_into_ranges_and_each_is_read_once(
    generated, tmp_path, small_ranges, tail, split
):
    text = generated.read_text()
    path = tmp_path / "evidence.json"
    path.write_text(text.rstrip().removesuffix("}").rstrip() + ("\n}" + tail if split else tail))
    assert (len(plan_units([(str(path), str(path))], LIMITS, jobs=2)) > 1) is split
    two, one = load([str(path)], jobs=2, limits=LIMITS), load([str(path)], jobs=1, limits=LIMITS)
    assert small_ranges == ([True] if split else [])  # never read in ranges and then read again whole
    assert summarise(two).to_json() == summarise(one).to_json()
