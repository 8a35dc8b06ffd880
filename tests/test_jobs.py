"""Reading in worker processes, by file or by byte range, gives exactly what reading in one does.

The loader folds records into a ledger per unit of reading and merges the ledgers; these tests
hold the merged verdict to the one-process verdict, byte for byte, on generated evidence with
broken lines, duplicates and conflicting copies, in every format and in any reading order.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import sys
from pathlib import Path

import orjson
import pytest
from evidence import ROOT

from reportgen.evidence import workers
from reportgen.evidence.inputs import InputError, Limits
from reportgen.evidence.load import load
from reportgen.evidence.workers import plan_units
from reportgen.judge.summary import Summary, summarise

sys.path.insert(0, str(ROOT))
from bench.generate import write

RECORDS, SEED, BROKEN = 3000, 11, 5
# Inputs up to the record size limit are parsed whole; a small limit lets small files be split.
LIMITS = Limits(max_record_bytes=64 * 1024)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The same evidence as NDJSON, gzip NDJSON and a store file, and a shuffled copy in three files."""
    folder = tmp_path_factory.mktemp("jobs")
    paths = {
        fmt: Path(write(str(folder / f"evidence.{ext}"), fmt, RECORDS, SEED, BROKEN, profile="reference").path)
        for fmt, ext in (("ndjson", "ndjson"), ("gzip", "ndjson.gz"), ("store", "json"))
    }
    lines = paths["ndjson"].read_bytes().splitlines()
    rng = random.Random(SEED)
    copies = rng.sample(lines, 40) + [changed(line) for line in rng.sample(lines, 20)]
    shuffled = lines + copies
    rng.shuffle(shuffled)
    third = len(shuffled) // 3
    for n in range(3):
        part = shuffled[n * third : (n + 1) * third] if n < 2 else shuffled[2 * third :]
        (folder / f"shuffled-{n}.ndjson").write_bytes(b"\n".join(part) + b"\n")
    return paths | {"shuffled": folder}


def changed(line: bytes) -> bytes:
    """A conflicting copy of a record: same session id, other content (and, for some, a later time)."""
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(value, dict) or "created_at" not in value:
        return line
    value["signer"] = "someone-else"
    if len(line) % 2:
        value["created_at"] = "2031-01-01T00:00:00+00:00"
    return orjson.dumps(value)


def judged(paths: list[str], jobs: int) -> bytes:
    """The summary JSON of the paths read with this many jobs."""
    loaded = load(paths, jobs=jobs, limits=LIMITS)
    return summarise(loaded).to_json()


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    """Split any NDJSON file over 64 KiB by byte range, so small test files are split too."""
    monkeypatch.setattr(workers, "SPLIT_BYTES", 64 * 1024)


def test_one_large_ndjson_file_is_split_by_byte_range_and_judged_the_same(generated, small_ranges):
    path = str(generated["ndjson"])
    units = plan_units([(path, path)], LIMITS, jobs=3)
    assert len(units) == 3 and all(u.span is not None for u in units)
    assert judged([path], jobs=3) == judged([path], jobs=1)


def test_every_format_read_by_several_workers_gives_the_one_process_summary(generated, small_ranges):
    paths = [str(generated[fmt]) for fmt in ("ndjson", "gzip", "store")]
    assert judged(paths, jobs=2) == judged(paths, jobs=1)


def test_duplicates_and_conflicts_across_files_and_ranges_are_settled_as_in_one_process(generated, small_ranges):
    paths = sorted(str(p) for p in generated["shuffled"].glob("shuffled-*.ndjson"))
    one, two = load(paths, jobs=1, limits=LIMITS), load(paths, jobs=2, limits=LIMITS)
    assert len(one.duplicates) >= 40 and len(one.conflicts) >= 10
    assert (one.duplicates, one.conflicts) == (two.duplicates, two.conflicts)
    assert summarise(one).to_json() == summarise(two).to_json()


def test_the_reading_order_and_duplicate_copies_do_not_change_the_verdict(generated, tmp_path):
    lines = generated["ndjson"].read_bytes().splitlines()
    rng = random.Random(SEED + 1)
    shuffled = lines + rng.sample(lines, 50)
    rng.shuffle(shuffled)
    halves = [tmp_path / "a.ndjson", tmp_path / "b.ndjson"]
    halves[0].write_bytes(b"\n".join(shuffled[: len(shuffled) // 2]))
    halves[1].write_bytes(b"\n".join(shuffled[len(shuffled) // 2 :]))
    in_order, out_of_order = summarise(load([str(generated["ndjson"])])), summarise(load([str(h) for h in halves]))
    assert verdict(in_order) == verdict(out_of_order)
    assert out_of_order.inputs.records == in_order.inputs.records == RECORDS


def verdict(summary: Summary) -> tuple[object, ...]:
    """What the reading order must not change: state, open items by key with their counts, readiness."""
    items = [(i.id, i.retry_state, i.attempts, i.evidence_total, i.opened_at) for i in summary.closure.open_items]
    checks = [(c.id, c.status) for c in summary.readiness.checks if c.id != "evidence_integrity"]
    counts = {k: v for k, v in summary.counts.model_dump().items() if k != "records"}
    return summary.closure.state, items, checks, counts, len(summary.closure.resolved_chains)


def die_in_workers(numbered: tuple[int, object], progress: object = None) -> object:
    """Stand-in for the loader's unit reader: a worker dies at once, as the out-of-memory killer would do it."""
    if multiprocessing.parent_process() is not None:
        os._exit(9)
    return ORIGINAL_WORK(numbered, progress)


ORIGINAL_WORK = workers._work


def test_a_worker_that_dies_is_a_one_line_error_not_a_wait_that_never_ends(generated, small_ranges, monkeypatch):
    monkeypatch.setattr(workers, "_work", die_in_workers)
    with pytest.raises(InputError, match="worker process reading the evidence died"):
        load([str(generated["ndjson"])], jobs=2, limits=LIMITS)
