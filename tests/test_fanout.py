"""A whole input read by this process and a helper gives exactly what one process gives.

A gzip stream, a one-line store file, a JSON list and an API history page cannot be cut into
byte ranges; with a second job their entries are shared with a forked helper in batches. The
summary, the account of every entry (rejections, notices, secrets, duplicates, conflicts) and the
pack's inputs must match `--jobs 1` byte for byte, on generated evidence with broken entries,
secrets, naive timestamps, duplicates and conflicting copies in any order.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import multiprocessing.connection
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from evidence import ROOT

from reportgen.evidence import fanout, workers
from reportgen.evidence.children import child_signals
from reportgen.evidence.inputs import InputError, Limits
from reportgen.evidence.load import load
from reportgen.evidence.reader import Reading, Unit
from reportgen.evidence.workers import plan_units
from reportgen.judge.summary import summarise

sys.path.insert(0, str(ROOT))
from bench.generate import write

RECORDS, SEED, BROKEN = 1500, 23, 6
LIMITS = Limits(max_record_bytes=64 * 1024)
SECRET = "ghp_s3cr3tGithubTokenValue0123456789"


@pytest.fixture(autouse=True)
def share_small_inputs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Share any input with a helper, in small batches; note the size of every batch handed over."""
    monkeypatch.setattr(fanout, "SHARE_BYTES", 0)
    monkeypatch.setattr(fanout, "BATCH", 5)
    handed: list[int] = []
    hand = fanout._Helper.hand

    def noted(self: fanout._Helper, batch: list) -> None:  # type: ignore[type-arg]
        handed.append(len(batch))
        hand(self, batch)

    monkeypatch.setattr(fanout._Helper, "hand", noted)
    return handed


@pytest.fixture(scope="module")
def values(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Generated records as JSON texts, broken ones too, with secrets, naive times, copies and conflicts."""
    path = tmp_path_factory.mktemp("fanout") / "evidence.ndjson"
    lines = Path(write(str(path), "ndjson", RECORDS, SEED, BROKEN, profile="reference").path).read_bytes().splitlines()
    rng = random.Random(SEED)
    parsed = [orjson.loads(line) for line in lines if _json(line)]
    odd = [dict(v, signer=SECRET) for v in rng.sample(parsed, 5)]
    odd += [dict(v, created_at=v["created_at"][:19], session_id=v["session_id"] + "-n") for v in rng.sample(parsed, 5)]
    odd += [dict(v, signer="someone-else") for v in rng.sample(parsed, 10)]  # conflicting copies
    texts = lines + rng.sample(lines, 20) + [orjson.dumps(v) for v in odd]
    rng.shuffle(texts)
    return [t for t in texts if t.strip()]


def _json(line: bytes) -> bool:
    """Whether a line is a JSON object."""
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def as_format(values: list[bytes], fmt: str, folder: Path) -> Path:
    """The records written as one input of a format that is read whole (broken lines only in NDJSON)."""
    items = [json.loads(v) for v in values if _json(v)]
    if fmt == "gzip":
        path, data = folder / "evidence.ndjson.gz", gzip.compress(b"\n".join(values) + b"\n", mtime=0)
    elif fmt == "one-line store":
        path, data = folder / "store.json", orjson.dumps({"items": items})
    elif fmt == "pretty list":
        path, data = folder / "list.json", json.dumps(items, indent=2).encode()
    elif fmt == "gzip cut short":
        data = gzip.compress(b"\n".join(values) + b"\n", mtime=0)
        path, data = folder / "cut.ndjson.gz", data[: len(data) * 2 // 3]
    elif fmt == "damaged store":
        data = orjson.dumps({"items": items})
        path, data = folder / "damaged.json", data[: len(data) // 2] + b"}{oops" + data[len(data) // 2 :]
    else:  # an API history page, its total after the items
        path, data = folder / "page.json", json.dumps({"items": items, "total": len(items) + 3}, indent=1).encode()
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "fmt", ["gzip", "one-line store", "pretty list", "history page", "gzip cut short", "damaged store"]
)
def test_a_whole_input_shared_with_a_helper_gives_the_one_process_summary_and_account(
    values, tmp_path, fmt, share_small_inputs
):
    path = [str(as_format(values, fmt, tmp_path))]
    one, two = load(path, jobs=1, limits=LIMITS), load(path, jobs=2, limits=LIMITS)
    assert sum(share_small_inputs) > len(values) // 4  # the helper folded a good part of them
    assert one.secrets and one.duplicates and one.conflicts and one.notices
    for account in ("files", "rejected", "notices", "secrets", "duplicates", "conflicts", "dropped"):
        assert getattr(two, account) == getattr(one, account), account
    assert summarise(two).to_json() == summarise(one).to_json()


def test_a_helper_that_dies_is_an_error_that_says_so(values, tmp_path, monkeypatch):
    path = [str(as_format(values, "gzip", tmp_path))]

    def die(*_args: object) -> None:
        os._exit(9)

    monkeypatch.setattr(fanout, "_help", die)
    with pytest.raises(InputError, match="died"):
        load(path, jobs=2, limits=LIMITS)


def test_an_input_over_the_size_limit_stops_the_helper_and_says_what_one_process_says(values, tmp_path):
    gzipped = as_format(values, "gzip", tmp_path)
    path, size = [str(gzipped)], gzipped.stat().st_size
    # Read past its compressed size, stopped halfway through its decompressed bytes.
    limits = Limits(max_record_bytes=64 * 1024, max_input_bytes=size + len(gzip.decompress(gzipped.read_bytes())) // 2)
    with pytest.raises(InputError) as one:
        load(path, jobs=1, limits=limits)
    with pytest.raises(InputError) as two:
        load(path, jobs=2, limits=limits)
    assert str(two.value) == str(one.value)
    assert not multiprocessing.active_children()


def test_small_inputs_ranges_and_one_job_are_read_without_a_helper(values, tmp_path, monkeypatch):
    started: list[object] = []
    monkeypatch.setattr(fanout._Helper, "start", lambda *args: started.append(args))
    gzipped = [str(as_format(values, "gzip", tmp_path))]
    load(gzipped, jobs=2, limits=LIMITS)
    assert len(started) == 2  # a big input with a second job: both reads (the second for repeated ids)
    started.clear()
    load(gzipped, jobs=1, limits=LIMITS)
    ndjson = tmp_path / "evidence.ndjson"
    ndjson.write_bytes(b"\n".join(values))
    monkeypatch.setattr(workers, "SPLIT_BYTES", 64 * 1024)
    assert len(plan_units([(str(ndjson), str(ndjson))], LIMITS, jobs=2)) == 2
    load([str(ndjson)], jobs=2, limits=LIMITS)  # read in byte ranges by the pool's workers
    monkeypatch.setattr(fanout, "SHARE_BYTES", 1 << 40)
    load(gzipped, jobs=2, limits=LIMITS)
    assert not started


def test_a_helper_that_fails_says_why_in_one_line_with_secrets_masked(values, tmp_path, monkeypatch):
    path = [str(as_format(values, "gzip", tmp_path))]

    def fail(self: object, entry: object) -> None:
        raise ValueError(f"cannot fold {SECRET}\nsecond line")

    monkeypatch.setattr(fanout.EntryReader, "take", fail)
    monkeypatch.setattr(fanout.SharedReader, "take", ORIGINAL_TAKE)  # this process folds as usual
    with pytest.raises(InputError, match=r"failed \(ValueError: cannot fold .*\); try --jobs 1") as found:
        load(path, jobs=2, limits=LIMITS)
    assert SECRET not in str(found.value) and "second line" not in str(found.value)


ORIGINAL_TAKE = fanout.EntryReader.take


def test_batches_are_cut_by_bytes_as_well_as_by_entries(values, tmp_path, monkeypatch, share_small_inputs):
    monkeypatch.setattr(fanout, "BATCH", 1000)
    monkeypatch.setattr(fanout, "BATCH_BYTES", 10_000)
    load([str(as_format(values, "gzip", tmp_path))], jobs=2, limits=LIMITS)
    # Records of about 2 KB: five or six to a batch (a few broken one-byte lines aside), never a thousand.
    assert share_small_inputs and max(share_small_inputs) < 20


def test_a_helper_whose_reading_process_is_gone_ends_instead_of_waiting(tmp_path):
    reading = Reading(LIMITS)
    helper = fanout._Helper(Unit(0, "x", str(tmp_path / "x")), reading)
    helper.conn.close()  # as when the reading process dies: the helper must see its input end
    helper.process.join(timeout=20)
    assert helper.process.exitcode == fanout._FAILED
    helper.stop()


def _signals_in_child(ignored: bool, answer: multiprocessing.connection.Connection) -> None:
    """In a forked child: set the invoker's SIGINT, then what a reading child sets; say what it is."""
    signal.signal(signal.SIGINT, signal.SIG_IGN if ignored else signal.default_int_handler)
    child_signals()
    answer.send(signal.getsignal(signal.SIGINT) is signal.SIG_IGN)


@pytest.mark.parametrize("ignored", [True, False])
def test_a_forked_child_keeps_ignoring_ctrl_c_when_the_invoker_ignores_it(ignored):
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    child = context.Process(target=_signals_in_child, args=(ignored, theirs))
    child.start()
    assert ours.recv() is ignored
    child.join()


def test_the_loader_imports_where_there_is_no_fcntl():
    code = "import sys; sys.modules['fcntl'] = None; import reportgen.evidence.load"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _load_in_daemon(path: str, answer: multiprocessing.connection.Connection) -> None:
    """In a daemon process (which may have no children): load with two jobs, say how many records."""
    fanout.SHARE_BYTES = 0
    answer.send(load([path], jobs=2, limits=LIMITS).ledger.records)


def test_a_caller_that_may_not_fork_reads_in_one_process(values, tmp_path):
    path = str(as_format(values, "gzip", tmp_path))
    context = multiprocessing.get_context("fork")
    ours, theirs = context.Pipe()
    daemon = context.Process(target=_load_in_daemon, args=(path, theirs), daemon=True)
    daemon.start()
    assert ours.recv() == load([path], jobs=1, limits=LIMITS).ledger.records
    daemon.join()
