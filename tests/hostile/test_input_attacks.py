"""Hostile inputs, round two: how inputs are found, opened and parsed.

Each class of attack is tried in several generated variants: paths left unread, special files,
deep nesting, duplicate keys spelled to dodge a byte count, lists that explode one record, a pack
read back as evidence, files with no records, CR-only line ends, an --as-of out of range and a
full temporary folder. Every variant ends in a located reason or a one-line error, never a hang,
a traceback or a verdict that reads as closed over evidence that was not read.
"""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import pickle
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import CliRunner
from evidence import A1, FIXTURES, example, record

from reportgen.cli import cli
from reportgen.evidence import discover, stream
from reportgen.evidence import load as load_module
from reportgen.evidence.inputs import InputError, Limits
from reportgen.evidence.load import load

CLEAN = FIXTURES / "clean" / "store.json"
GOOD = [json.dumps(r) for r in example()]
# Every run gets a small input limit, so a stream that never ends stops fast.
SMALL = ["--max-input-bytes", "64M"]


def reportgen(*args: str, cwd: Path | None = None, memory: int = 2 << 30) -> Any:
    """Run the command line in a fresh process with bounded time and memory."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    command = [sys.executable, "-m", "reportgen", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=False, cwd=cwd, preexec_fn=limit, env=env
    )


def one_line_error(result: Any) -> bool:
    """Exit 2 with one line on stderr that is not an internal error or a traceback."""
    lines = result.stderr.strip().splitlines()
    return result.returncode == 2 and len(lines) == 1 and "internal error" not in lines[0]


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    """A folder of clean evidence: `check --strict` on it says closed, ready, exit 0."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    shutil.copy(CLEAN, folder / "store.json")
    return folder


@pytest.fixture
def public() -> Iterator[Path]:
    """A folder that an unprivileged user can reach (pytest's own temporary folder is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="reportgen-attack-"))
    folder.chmod(0o755)
    yield folder
    for root, folders, _ in os.walk(folder):  # top-down: a locked folder is opened before it is listed
        for name in folders:
            if not os.path.islink(os.path.join(root, name)):
                os.chmod(os.path.join(root, name), 0o755)
    shutil.rmtree(folder)


# --- 1 and 7: paths that are not read are listed and keep the verdict open ---------------------


def add_fifo(folder: Path) -> str:
    """A FIFO with an evidence name, which nothing ever writes to."""
    os.mkfifo(folder / "pipe.ndjson")
    return "pipe.ndjson"


def add_socket(folder: Path) -> str:
    """A listening Unix socket with an evidence name."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "socket.json"))
    return "socket.json"


def add_zero_link(folder: Path) -> str:
    """A link to /dev/zero with an evidence name: read, it would never end."""
    (folder / "zero.ndjson").symlink_to("/dev/zero")
    return "zero.ndjson"


def add_fifo_link(folder: Path) -> str:
    """A link to a FIFO outside the folder."""
    os.mkfifo(folder.parent / "outside-pipe")
    (folder / "linked.jsonl").symlink_to(folder.parent / "outside-pipe")
    return "linked.jsonl"


def add_folder_link(folder: Path) -> str:
    """A link to a folder of evidence that says open."""
    other = folder.parent / "elsewhere"
    other.mkdir()
    (other / "open.ndjson").write_text(GOOD[-4] + "\n")
    (folder / "more").symlink_to(other, target_is_directory=True)
    return "more"


NOT_READ = {
    "a FIFO": add_fifo,
    "a socket": add_socket,
    "a link to /dev/zero": add_zero_link,
    "a link to a FIFO": add_fifo_link,
    "a link to a folder": add_folder_link,
}


@pytest.mark.parametrize("case", sorted(NOT_READ))
def test_a_path_that_is_not_a_regular_file_is_listed_and_keeps_the_verdict_open(evidence, case):
    name = NOT_READ[case](evidence)
    strict = reportgen("check", "--strict", *SMALL, str(evidence))
    plain = reportgen("check", *SMALL, str(evidence))
    assert strict.returncode == 2, strict.stdout + strict.stderr
    assert plain.returncode == 1 and "closure: open" in plain.stdout, plain.stdout + plain.stderr
    assert f"{evidence.name}/{name}: not read" in plain.stdout  # named from the folder given on
    assert "13 records" in plain.stdout  # the regular files beside it are read


def unprivileged(args: list[str]) -> tuple[int, str]:
    """Run the command line in-process as a user without root's power to read anything: (exit code, output).

    As root, a forked child drops to the user nobody first (the interpreter itself may be out of
    nobody's reach, so it is not started again); as anyone else, permissions already hold.
    """
    if os.geteuid() != 0:
        result = CliRunner().invoke(cli, args)
        return result.exit_code, result.output
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, send back the outcome, and leave at once
        os.close(read)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
        result = CliRunner().invoke(cli, args)
        with os.fdopen(write, "wb") as out:
            out.write(pickle.dumps((result.exit_code, result.output)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as back:
        data = back.read()
    os.waitpid(pid, 0)
    return pickle.loads(data)  # type: ignore[no-any-return]


@pytest.mark.parametrize("depth", [1, 3])
def test_an_unreadable_sub_folder_is_listed_and_keeps_the_verdict_open(public, depth):
    evidence = public / "evidence"
    shutil.copytree(CLEAN.parent, evidence)
    locked = evidence.joinpath(*(f"level{n}" for n in range(depth)))
    locked.mkdir(parents=True)
    shutil.copytree(CLEAN.parent, locked / "copy")
    for path in [public, *evidence.rglob("*"), evidence]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    locked.chmod(0o000)
    strict = unprivileged(["check", "--strict", str(evidence)])
    plain = unprivileged(["check", str(evidence)])
    assert strict[0] == 2, strict
    shown = locked.relative_to(evidence.parent)  # named from the folder given on
    assert plain[0] == 1 and f"{shown}: folder not read: Permission denied" in plain[1], plain


@pytest.mark.parametrize("fails", ["the top folder", "a sub-folder"])
def test_a_folder_that_cannot_be_listed_is_rejected_with_the_reason(evidence, monkeypatch, fails):
    (evidence / "sub").mkdir()
    (evidence / "sub" / "more.ndjson").write_text(GOOD[0] + "\n")
    locked = str(evidence if fails == "the top folder" else evidence / "sub")
    real = os.scandir

    def scandir(path: Any) -> Any:
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    loaded = load([str(evidence)])
    assert [(r.source, r.reason) for r in loaded.rejected] == [(locked, "folder not read: Permission denied")]


def test_a_fifo_swapped_in_after_the_walk_is_rejected_not_waited_on(evidence, monkeypatch):
    target = evidence / "late.ndjson"
    target.write_text(GOOD[0] + "\n")
    walk = load_module.expand_paths

    def swap(*args: Any, **kwargs: Any) -> Any:
        found = walk(*args, **kwargs)
        target.unlink()
        os.mkfifo(target)
        return found

    monkeypatch.setattr(load_module, "expand_paths", swap)
    loaded = load([str(evidence)])
    assert [r.reason for r in loaded.rejected] == ["cannot read file: a FIFO (named pipe), not a regular file"]


# --- 7: every whole-file read is capped; special files never hang or fill memory ----------------


def pack_with_summary(folder: Path, target: str) -> Path:
    """A pack folder whose summary.json is a link to `target`."""
    folder.mkdir(parents=True)
    (folder / "summary.json").symlink_to(target)
    return folder


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_diff_refuses_a_summary_that_is_a_device_in_one_line(tmp_path, target):
    old = pack_with_summary(tmp_path / "old", target)
    result = reportgen("diff", str(old), str(old), memory=1 << 30)
    assert one_line_error(result) and "not a regular file" in result.stderr, result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_a_waiver_file_that_never_ends_stops_at_the_size_cap(evidence, target):
    result = reportgen("check", "--waivers", target, str(evidence), memory=1 << 30)
    assert one_line_error(result) and "larger than" in result.stderr, result.stderr


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_history_lists_a_pack_whose_summary_is_not_a_regular_file_and_builds(tmp_path, evidence, target):
    history = tmp_path / "history"
    if target == "fifo":
        os.mkfifo(tmp_path / "fifo")
        target = str(tmp_path / "fifo")
    pack_with_summary(history / "pack-1", target)
    out = tmp_path / "out"
    result = reportgen("build", "--format", "json", "--out", str(out), "--history", str(history), str(evidence))
    assert result.returncode == 0, result.stderr
    assert (out / "summary.json").is_file()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_named_on_the_command_line_stops_at_the_input_limit(device):
    result = reportgen("check", "--max-input-bytes", "4M", device)
    assert one_line_error(result) and "input size limit" in result.stderr, result.stderr


# --- 5: nesting deeper than the limit rejects that entry, with its place --------------------------


def nested(depth: int, shape: str) -> bytes:
    """A value nested `depth` levels: arrays, objects, or both in turn."""
    opens = {"arrays": [b"["], "objects": [b'{"a":'], "mixed": [b"[", b'{"a":']}[shape]
    closes = {b"[": b"]", b'{"a":': b"}"}
    left = [opens[n % len(opens)] for n in range(depth)]
    inner = b"1" if left[-1] != b"[" else b""
    return b"".join(left) + inner + b"".join(closes[o] for o in reversed(left))


def deep_record(depth: int, shape: str) -> bytes:
    """The failed delivery A1 with a field nested so that the whole record is `depth` levels deep."""
    a1 = json.dumps(record(example(), A1)).encode()
    return a1[:-1] + b', "deep": ' + nested(depth - 1, shape) + b"}"


DEPTHS = [65, 200, 254, 255, 1000, 100000]
SHAPES = ["arrays", "objects", "mixed"]


def ndjson_with(tmp_path: Path, bad: bytes, name: str = "e.ndjson") -> Path:
    """Two good lines, the bad line (line 3), then two more good lines."""
    path = tmp_path / name
    path.write_bytes(b"\n".join([GOOD[0].encode(), GOOD[1].encode(), bad, GOOD[2].encode(), GOOD[3].encode()]) + b"\n")
    return path


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", DEPTHS)
def test_a_line_nested_too_deeply_is_rejected_with_its_line_and_the_rest_is_read(tmp_path, depth, shape):
    loaded = load([str(ndjson_with(tmp_path, deep_record(depth, shape)))])
    assert [(r.line, "nested more than 64 levels" in r.reason) for r in loaded.rejected] == [(3, True)]
    assert len(loaded.records) == 4


@pytest.mark.parametrize("shape", SHAPES)
def test_a_record_nested_exactly_to_the_limit_is_read(tmp_path, shape):
    loaded = load([str(ndjson_with(tmp_path, deep_record(64, shape)))])
    assert not loaded.rejected and len(loaded.records) == 5


def store_with(items: list[bytes], indent: bool) -> bytes:
    """A store file holding these items' JSON texts, pretty-printed or on one line."""
    if not indent:
        return b'{"items": [' + b", ".join(items) + b"]}"
    return b'{\n  "items": [\n    ' + b",\n    ".join(items) + b"\n  ]\n}\n"


@pytest.mark.parametrize("layout", ["pretty", "one line", "list", "streamed"])
@pytest.mark.parametrize("depth", [65, 254, 255, 1000, 100000])
def test_a_store_item_nested_too_deeply_is_rejected_with_its_index_and_the_rest_is_read(tmp_path, depth, layout):
    items = [GOOD[0].encode(), deep_record(depth, "mixed"), GOOD[1].encode(), GOOD[2].encode()]
    data = b"[\n" + b",\n".join(items) + b"\n]\n" if layout == "list" else store_with(items, layout != "one line")
    (tmp_path / "store.json").write_bytes(data)
    # Streamed: the record size limit is below the file's size, so it is read item by item.
    limits = Limits(max_record_bytes=len(data) - 1) if layout == "streamed" else Limits()
    loaded = load([str(tmp_path / "store.json")], limits=limits)
    assert [(r.line, "nested more than 64 levels" in r.reason) for r in loaded.rejected] == [(1, True)]
    assert len(loaded.records) == 3


@pytest.mark.parametrize("depth", [255, 1000, 100000])
def test_a_deep_line_on_stdin_is_one_located_rejection_not_an_internal_error(evidence, depth):
    line = deep_record(depth, "arrays") + b"\n"
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", str(evidence), "-"],
        input=line,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1 and b"<stdin>:1: nested more than 64" in result.stdout, result.stderr


# --- 6: repeated keys are found however the key and its colon are written ------------------------

KEY = b'"delivery_success"'
DUPLICATES = {
    "a tab before the colon": KEY + b"\t: true",
    "a CR before the colon": KEY + b"\r: true",
    "a LF before the colon": KEY + b"\n: true",
    "two spaces before the colon": KEY + b"  : true",
    "every whitespace before the colon": KEY + b" \t\r\n : true",
    "an escaped key": b'"\\u0064elivery_success": true',
    "an escaped key and a tab": b'"delivery\\u005fsuccess"\t:true',
    "an escaped colon elsewhere": KEY + b': true, "note": "\\u003a"',
}


def with_duplicate(second: bytes, newlines: bool = True) -> bytes:
    """A1 with `delivery_success` given a second time as `second` (JSON text of a member).

    Without `newlines` (an NDJSON line), a line feed in it becomes a carriage return, JSON whitespace too.
    """
    line = json.dumps(record(example(), A1)).encode()
    line = line.replace(b'"delivery_success": false', b'"delivery_success": false, ' + second)
    return line if newlines else line.replace(b"\n", b"\r")


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_a_repeated_key_in_a_line_is_rejected_however_it_is_spelled(tmp_path, case):
    path = ndjson_with(tmp_path, with_duplicate(DUPLICATES[case], newlines=False))
    loaded = load([str(path)])
    assert [(r.line, r.reason) for r in loaded.rejected] == [(3, "duplicate key 'delivery_success'")]


@pytest.mark.parametrize("layout", ["pretty", "streamed"])
@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_a_repeated_key_in_a_store_item_is_rejected_however_it_is_spelled(tmp_path, case, layout):
    items = [GOOD[0].encode(), with_duplicate(DUPLICATES[case]), GOOD[1].encode()]
    data = store_with(items, indent=True)
    (tmp_path / "store.json").write_bytes(data)
    limits = Limits(max_record_bytes=len(data) - 1) if layout == "streamed" else Limits()
    loaded = load([str(tmp_path / "store.json")], limits=limits)
    assert [(r.line, r.reason) for r in loaded.rejected] == [(1, "duplicate key 'delivery_success'")]


ESCAPED_KEYS = {
    "a key ending in a backslash": (b'"x\\\\"', b'"x\\\\"'),
    "a key that is a backslash": (b'"\\\\"', b'"\\\\"'),
    "a key ending in two backslashes": (b'"p\\\\\\\\"', b'"p\\\\\\\\"'),
    "an escaped letter and a backslash": (b'"\\u0078\\\\"', b'"x\\\\"'),
}


@pytest.mark.parametrize("case", sorted(ESCAPED_KEYS))
def test_a_repeated_key_with_escapes_of_its_own_is_rejected(tmp_path, case):
    first, second = ESCAPED_KEYS[case]
    a1 = json.dumps(record(example(), A1)).encode()[:-1]
    line = a1 + b"," + first + b":1," + second + b":2}"
    loaded = load([str(ndjson_with(tmp_path, line))])
    assert [(r.line, r.reason.startswith("duplicate key")) for r in loaded.rejected] == [(3, True)]


# --- 8: a record's lists are bounded before it is decoded ------------------------------------------

LIST_FIELDS = {
    "providers",
    "failed_providers",
    "status_codes",
    "selected_providers",
    "suppressed_providers",
    "acknowledgement_required_providers",
    "retry_decisions",
    "selected_retries",
    "failed_status_codes",
}
LIMIT = 6


def list_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every list of a record whose field is one of LIST_FIELDS."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(inner, list) and key in LIST_FIELDS:
                yield (*path, key)
            yield from list_paths(inner, (*path, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from list_paths(inner, (*path, index))


CASES = [(r["session_id"], p) for r in example() for p in list_paths(r)]


def grown(session_id: str, path: tuple[Any, ...], size: int) -> dict[str, Any]:
    """The record with the list at `path` grown (or cut) to `size` items."""
    victim = record(example(), session_id)
    parent = victim
    for part in path[:-1]:
        parent = parent[part]
    items = parent[path[-1]]
    first = items[0] if items else "provider"
    parent[path[-1]] = [f"{first}-{n}" if isinstance(first, str) else first for n in range(size)]
    return victim


@pytest.mark.parametrize(("session_id", "path"), CASES, ids=[".".join(map(str, p)) + "@" + s[-6:] for s, p in CASES])
def test_a_list_at_the_limit_is_read_and_one_item_more_rejects_the_record(tmp_path, session_id, path):
    at, over = grown(session_id, path, LIMIT), grown(session_id, path, LIMIT + 1)
    (tmp_path / "e.ndjson").write_text(json.dumps(at) + "\n" + json.dumps(over) + "\n")
    loaded = load([str(tmp_path / "e.ndjson")], limits=Limits(max_list_items=LIMIT))
    dotted = ".".join(map(str, path))
    assert [(r.line, r.reason) for r in loaded.rejected] == [
        (2, f"{dotted} holds {LIMIT + 1} items, over the limit of {LIMIT} per list (--max-list-items)")
    ]


def test_a_record_of_an_unknown_kind_with_a_long_list_is_unrecognised_not_rejected(tmp_path):
    other = {"session_id": "s-1", "metadata_kind": "some-future-kind", "lines": [f"log {n}" for n in range(LIMIT + 1)]}
    (tmp_path / "e.ndjson").write_text(json.dumps(other) + "\n")
    loaded = load([str(tmp_path / "e.ndjson")], limits=Limits(max_list_items=LIMIT))
    assert not loaded.rejected and [u.metadata_kind for u in loaded.unrecognised] == ["some-future-kind"]


@pytest.mark.parametrize("field", ["providers", "status_codes"])
def test_a_record_with_a_thousand_and_one_items_is_rejected_by_default(evidence, field):
    a1 = record(example(), A1)
    a1[field] = [200 if field == "status_codes" else f"p{n}" for n in range(1001)]
    (evidence / "big.ndjson").write_text(json.dumps(a1) + "\n")
    result = reportgen("check", str(evidence))
    assert result.returncode == 1 and f"big.ndjson:1: {field} holds 1001 items, over the limit of 1000" in result.stdout


# --- 14: a pack is never read back as evidence ----------------------------------------------------


@pytest.mark.parametrize("out", [None, "packs/latest", "../evidence/nested/../by-another-name"])
def test_building_into_the_evidence_folder_twice_gives_the_same_verdict(evidence, out):
    args = ["build", "--strict", "--format", "json", *(["--out", out] if out else []), "."]
    first = reportgen(*args, cwd=evidence)
    second = reportgen(*args, cwd=evidence)
    again = reportgen("check", "--strict", ".", cwd=evidence)
    assert (first.returncode, second.returncode, again.returncode) == (0, 0, 0), second.stderr + again.stdout
    assert "closure: closed" in again.stdout


def test_an_earlier_pack_inside_the_evidence_is_skipped_with_the_reason(evidence, tmp_path):
    reportgen("build", "--format", "json", "--out", str(evidence / "archive" / "pack-1"), str(evidence))
    loaded = load([str(evidence)])
    assert not loaded.rejected
    assert sorted(os.path.basename(s.split(" ")[0]) for s in loaded.skipped if "reportgen pack" in s) == [
        "manifest.json",
        "summary.json",
    ]


def test_a_file_beside_a_pack_manifest_is_still_read(evidence):
    pack = evidence / "archive"
    reportgen("build", "--format", "json", "--out", str(pack), str(evidence))
    (pack / "sneaked.ndjson").write_text(GOOD[-4] + "\n")
    loaded = load([str(evidence)])
    assert any(f.path.endswith("sneaked.ndjson") for f in loaded.files)


# --- 15: files with no records, CR-only line ends, --as-of out of range, a full temporary folder ---

EMPTY = {
    "a BOM alone": b"\xef\xbb\xbf",
    "a BOM and spaces": b"\xef\xbb\xbf   \t ",
    "a BOM and CRLF": b"\xef\xbb\xbf\r\n\r\n",
    "gzip of a BOM": gzip.compress(b"\xef\xbb\xbf\n", mtime=0),
    "whitespace": b" \n\t\r\n",
    "gzip of nothing": gzip.compress(b"", mtime=0),
    "a store with no items": b'{"items": []}',
    "a BOM and a store with no items": b'\xef\xbb\xbf{"items": []}\n',
}


@pytest.mark.parametrize("case", sorted(EMPTY))
def test_a_file_with_no_records_gets_the_empty_file_notice(tmp_path, case):
    (tmp_path / "e.ndjson").write_bytes(EMPTY[case])
    loaded = load([str(tmp_path / "e.ndjson")])
    assert [n.code for n in loaded.notices] == ["evidence_file_empty"] and not loaded.rejected


CR_ONLY = {
    "CR between records": b"\r".join(g.encode() for g in GOOD[:3]),
    "CR after every record": b"".join(g.encode() + b"\r" for g in GOOD[:3]),
    "a BOM and CR": b"\xef\xbb\xbf" + b"\r".join(g.encode() for g in GOOD[:2]),
    "gzip with CR": gzip.compress(b"\r".join(g.encode() for g in GOOD[:3]), mtime=0),
}


@pytest.mark.parametrize("streamed", [False, True], ids=["parsed whole", "streamed"])
@pytest.mark.parametrize("case", sorted(CR_ONLY))
def test_a_file_with_cr_only_line_ends_says_so_in_the_reason(tmp_path, case, streamed):
    (tmp_path / "e.ndjson").write_bytes(CR_ONLY[case])
    # Streamed: the record size limit is below the file's size, so its one long line is over it.
    limits = Limits(max_record_bytes=len(GOOD[0]) + len(GOOD[1])) if streamed else Limits()
    [rejection] = load([str(tmp_path / "e.ndjson")], limits=limits).rejected
    assert "CR-only line ends" in rejection.reason and rejection.line == 1


def test_an_over_long_line_with_crlf_line_ends_does_not_blame_them(tmp_path, monkeypatch):
    monkeypatch.setattr(stream, "CHUNK", 7)  # chunk ends fall between CR and LF too
    line = GOOD[0].encode() + b"\r\n"
    (tmp_path / "e.ndjson").write_bytes(line * 3)
    rejected = load([str(tmp_path / "e.ndjson")], limits=Limits(max_record_bytes=len(line) - 3)).rejected
    assert [r.line for r in rejected] == [1, 2, 3] and not any("CR-only" in r.reason for r in rejected)


@pytest.mark.parametrize(
    "as_of",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999Z",
        "9999-06-01T00:00:00+05:00",
    ],
)
@pytest.mark.parametrize("command", ["check", "build"])
def test_an_as_of_out_of_range_is_a_one_line_usage_error(evidence, tmp_path, as_of, command):
    extra = ["--format", "json", "--out", str(tmp_path / "out")] if command == "build" else []
    result = reportgen(command, "--as-of", as_of, *extra, str(evidence))
    assert one_line_error(result) and "out of range" in result.stderr, result.stderr


class FullDisk(io.BytesIO):
    """A temporary file on a full disk: every write fails."""

    name = "/tmp/full"

    def write(self, data: Any) -> int:
        """Fail as a full disk does."""
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("fails", ["write", "create"])
def test_a_full_temporary_folder_while_copying_stdin_is_a_one_line_error(monkeypatch, fails):
    def temporary(*args: Any, **kwargs: Any) -> Any:
        if fails == "create":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return FullDisk()

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", temporary)
    with pytest.raises(InputError, match="<stdin>: cannot .*No space left on device"):
        load(["-"], stdin=io.BytesIO(GOOD[0].encode()))
    result = CliRunner().invoke(cli, ["check", "-"], input=GOOD[0])
    assert result.exit_code == 2 and "No space left on device" in result.output


def test_the_pack_file_marks_are_reportgens_own():
    from reportgen.judge.summary import Summary
    from reportgen.output.pack import PREDICATE_TYPE

    assert discover.PACK_FILES["manifest.json"][0] == ("predicateType", PREDICATE_TYPE)
    assert discover.PACK_FILES["summary.json"][0] == (
        "schema_version",
        *get_args(Summary.model_fields["schema_version"].annotation),
    )
    # Every key a summary has, and no other: a file with another key (records) is read as evidence.
    assert discover.PACK_FILES["summary.json"][1] == set(Summary.model_fields)
