"""Writing the pack under attack: crashes mid-swap, the user's own files, a read-only parent, the
attached evidence's duplicates and conflicts, and times at the ends of the calendar."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from evidence import A1, A2, EXAMPLE_STORE, example, record, write_ndjson

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output import pack as packmod
from reportgen.output import writer as writermod
from reportgen.output.pack import PackOptions, pack_evidence
from reportgen.output.pdf import PdfOptions, evidence_ndjson

NOBODY = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
HIDDEN_LEFTOVER = re.compile(r"\.(.+\.(tmp|old)|reportgen-(staging|new))-[0-9a-f]{12}")
# Run reportgen with one function of the pack writer replaced: after its Nth call the process dies
# on the spot (os._exit), as a crash or a kill -9 would leave it, with no clean-up run. Crashing
# after os.rename turns the atomic exchange off, so the swap takes its two renames.
CRASHER = """
import os, sys, time
from reportgen import cli
from reportgen.output import writer as pack
where, name, after = sys.argv[1], sys.argv[2], int(sys.argv[3])
pause = float(os.environ.get("PAUSE_INSTEAD", 0))
owner = {"os": os, "pack": pack}[where]
real = getattr(owner, name)
calls = []
def dying(*args, **kwargs):
    result = real(*args, **kwargs)
    calls.append(args)
    if len(calls) == after and pause:
        time.sleep(pause)
    elif len(calls) == after:
        os._exit(9)
    return result
if name == "rename":
    pack.exchange = lambda first, second: False
setattr(owner, name, dying)
sys.argv = ["reportgen", *sys.argv[4:]]
cli.main()
"""


def run(*args: str, user: tuple[str, ...] = (), env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process (as another user, when given)."""
    command = [*user, sys.executable, "-m", "reportgen", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)


def build(
    target: Path, *extra: str, formats: str = "html,md", user: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    """Build the example's pack into target."""
    return run("build", str(EXAMPLE_STORE), "--out", str(target), "--format", formats, "-q", *extra, user=user)


def crash(
    target: Path, where: str, name: str, after: int, *extra: str, formats: str = "md", user: tuple[str, ...] = ()
) -> None:
    """Build into target and die right after the Nth call of `where.name`."""
    args = ["build", str(EXAMPLE_STORE), "--out", str(target), "--format", formats, "-q", *extra]
    command = [*user, sys.executable, "-c", CRASHER, where, name, str(after), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, f"the build did not die where asked: {result.returncode} {result.stderr}"


def assert_complete_pack(target: Path, extra: set[str] = frozenset()) -> None:
    """The target holds one whole pack whose manifest covers every file, besides the user's `extra`."""
    manifest = json.loads((target / "manifest.json").read_bytes())
    subjects = {s["name"]: s["digest"]["sha256"] for s in manifest["subject"]}
    for name, digest in subjects.items():
        assert hashlib.sha256((target / name).read_bytes()).hexdigest() == digest, name
    assert {p.name for p in target.iterdir()} == {*subjects, "manifest.json", *extra}


def leftovers(target: Path) -> list[str]:
    """Staging or previous-pack folders left beside or inside the target."""
    places = [target.parent, target] if target.is_dir() else [target.parent]
    return sorted(p.name for place in places for p in place.iterdir() if HIDDEN_LEFTOVER.fullmatch(p.name))


def can_exchange() -> bool:
    """Whether this system swaps folders atomically (Linux renameat2 on a filesystem that has it)."""
    if writermod.__dict__.get("_renameat2") is None or writermod._renameat2() is None:
        return False
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder, "a"), Path(folder, "b")
        first.mkdir(), second.mkdir()
        return writermod.exchange(first, second)


@pytest.fixture
def shared() -> Iterator[Path]:
    """A folder every user may enter (pytest's own temporary folder is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="reportgen-pack-"))
    folder.chmod(0o755)
    yield folder
    for path in (folder, *folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)
    shutil.rmtree(folder)


def unprivileged() -> tuple[str, ...]:
    """The command prefix that runs as nobody; skips where that cannot be done."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as an unprivileged user (root writes through any mode)")
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import reportgen"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"nobody cannot run this Python: {probe.stderr.decode()[-200:]}")
    return NOBODY


# --- a crash in the middle of the swap -------------------------------------------------------

# Where the process dies: (module, function, after how many calls, what the next run must do).
CRASH_POINTS = {
    "while-staging": ("pack", "write_file", 2, "removed"),
    "between-the-two-renames": ("os", "rename", 1, "put back the previous pack"),
    "after-the-renames-before-removing-the-old": ("os", "rename", 2, "removed"),
    "after-the-exchange-before-removing-the-old": ("pack", "exchange", 1, "removed"),
}


@pytest.mark.parametrize("point", sorted(CRASH_POINTS))
def test_a_build_killed_mid_swap_is_recovered_by_the_next_build(tmp_path, point):
    where, name, after, said = CRASH_POINTS[point]
    if name == "exchange" and not can_exchange():
        pytest.skip("no atomic exchange of folders here: the two-renames points cover this system")
    target = tmp_path / "site" / "pack"
    assert build(target, "--title", "first").returncode == 1
    (target / "signature.asc").write_text("signed by the release manager\n")
    crash(target, where, name, after, "--title", "second", formats="md")
    assert leftovers(target), "the simulated crash left nothing to recover"
    again = build(target, "--title", "third")
    assert again.returncode == 1, again.stderr
    assert said in again.stderr and "cut short" in again.stderr
    assert_complete_pack(target, {"signature.asc"})
    assert "third" in (target / "closure-dashboard.md").read_text()
    assert (target / "signature.asc").read_text() == "signed by the release manager\n"
    assert leftovers(target) == []


def test_a_reader_of_the_pack_puts_back_the_previous_pack_a_crash_left_aside(tmp_path):
    target = tmp_path / "pack"
    assert build(target, formats="html,md,json").returncode == 1
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    crash(target, "os", "rename", 1)
    assert not target.exists()
    result = run("diff", str(target), str(target))
    assert result.returncode == 0, result.stderr
    assert "put back the previous pack" in result.stderr
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before and leftovers(target) == []


def test_a_history_folder_gets_back_a_pack_a_crash_left_aside(tmp_path):
    history, target = tmp_path / "packs", tmp_path / "packs" / "w1"
    assert build(target, "--as-of", "2025-06-01T00:00:00Z", formats="json").returncode == 1
    crash(target, "os", "rename", 1, "--as-of", "2025-06-01T00:00:00Z", formats="json")
    assert not target.exists()
    result = build(tmp_path / "now", "--history", str(history))
    assert result.returncode == 1, result.stderr
    assert "put back the previous pack" in result.stderr
    assert_complete_pack(target)
    assert "w1" in (tmp_path / "now" / "closure-dashboard.md").read_text()


def test_an_earlier_pack_set_aside_is_kept_while_the_target_holds_something_else(tmp_path):
    target = tmp_path / "pack"
    assert build(target).returncode == 1
    crash(target, "os", "rename", 1)
    target.mkdir()
    (target / "notes.txt").write_text("made while the pack was away\n")
    result = build(target)
    assert result.returncode == 2 and "not a readiness pack" in result.stderr
    assert "kept, as" in result.stderr
    (aside,) = [p for p in tmp_path.iterdir() if p.name.startswith(".pack.old-")]
    assert_complete_pack(aside)
    assert (target / "notes.txt").read_text() == "made while the pack was away\n"


def test_a_build_running_alongside_another_waits_and_never_takes_its_staging_for_a_leftover(tmp_path):
    target = tmp_path / "pack"
    assert build(target).returncode == 1
    args = ["build", str(EXAMPLE_STORE), "--out", str(target), "--format", "md", "-q", "--title", "slow"]
    slow = subprocess.Popen(
        [sys.executable, "-c", CRASHER, "pack", "write_file", "2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PAUSE_INSTEAD": "4"},
    )
    for _ in range(600):
        if leftovers(target) or slow.poll() is not None:
            break
        time.sleep(0.05)
    assert leftovers(target), "the slow build never started staging"
    fast = build(target, "--title", "fast")
    _, errors = slow.communicate(timeout=300)
    assert slow.returncode == 1, errors
    assert fast.returncode == 1 and "cut short" not in fast.stderr, fast.stderr
    assert "fast" in (target / "closure-dashboard.md").read_text()
    assert_complete_pack(target)
    assert leftovers(target) == []


# --- what the user put beside the pack -------------------------------------------------------


def user_entries(target: Path, outside: Path) -> dict[str, str]:
    """Put a file, a hidden file, a folder, links (never to be followed) and a pack-like name in target."""
    (target / "signature.asc").write_text("sig\n")
    (target / ".notes").write_text("hidden notes\n")
    (target / "review").mkdir()
    (target / "review" / "comments.txt").write_text("looks fine\n")
    outside.write_text("outside the pack\n")
    (target / "link-out").symlink_to(outside)
    (target / "dangling").symlink_to(target / "no-such-file")
    (target / "closure-dashboard.pdf").write_text("my own print\n")
    return {
        "signature.asc": "sig\n",
        ".notes": "hidden notes\n",
        "review/comments.txt": "looks fine\n",
        "closure-dashboard.pdf": "my own print\n",
    }


def test_a_rebuild_keeps_every_entry_the_user_added_and_names_them(tmp_path):
    target, outside = tmp_path / "pack", tmp_path / "outside.txt"
    assert build(target).returncode == 1
    contents = user_entries(target, outside)
    result = build(target, formats="html")
    assert result.returncode == 1, result.stderr
    names = ".notes, closure-dashboard.pdf, dangling, link-out, review, signature.asc"
    assert f"kept, not part of the pack (not in its manifest): {names}" in result.stderr
    for name, text in contents.items():
        assert (target / name).read_text() == text
    assert os.readlink(target / "link-out") == str(outside) and (target / "link-out").is_symlink()
    assert os.readlink(target / "dangling") == str(target / "no-such-file")
    assert outside.read_text() == "outside the pack\n"
    assert_complete_pack(target, {n.split("/")[0] for n in contents} | {"link-out", "dangling"})
    manifest = (target / "manifest.json").read_text()
    assert "signature.asc" not in manifest and "closure-dashboard.md" not in manifest
    assert leftovers(target) == []


def test_files_of_the_earlier_pack_the_new_one_no_longer_writes_are_removed(tmp_path):
    target = tmp_path / "pack"
    assert build(target, formats="html,md,json").returncode == 1
    result = build(target, formats="html")
    assert result.returncode == 1, result.stderr
    assert "kept" not in result.stderr
    assert_complete_pack(target)
    assert not (target / "closure-dashboard.md").exists() and not (target / "summary.json").exists()


@pytest.mark.parametrize("name", ["operator-runbook.md", "summary.json"])
def test_a_user_file_the_new_pack_would_overwrite_is_refused_with_its_name(tmp_path, name):
    target = tmp_path / "pack"
    assert build(target, formats="html").returncode == 1
    (target / name).write_text("mine\n")
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    result = build(target, formats="html,md,json")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(target / name) in result.stderr
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before and leftovers(target) == []


@pytest.mark.parametrize(
    "forged",
    [
        [{"name": "notes.txt", "digest": {}}, {"name": "../outside", "digest": {}}],
        [{"name": ["notes.txt"]}, {"name": {"a": 1}}, "notes.txt", None],
    ],
    ids=["names", "not-names"],
)
def test_a_hostile_manifest_cannot_make_a_user_file_look_like_the_packs(tmp_path, forged):
    target = tmp_path / "pack"
    assert build(target, formats="html").returncode == 1
    (target / "notes.txt").write_text("mine\n")
    manifest = json.loads((target / "manifest.json").read_text())
    manifest["subject"] += forged
    (target / "manifest.json").write_text(json.dumps(manifest))
    result = build(target, formats="html")
    assert result.returncode == 1, result.stderr
    assert (target / "notes.txt").read_text() == "mine\n" and "notes.txt" in result.stderr


@pytest.mark.parametrize("kind", ["fifo", "link-to-dev-zero", "link-to-a-real-manifest"])
def test_a_manifest_that_is_not_a_regular_file_is_never_read_and_the_folder_not_replaced(tmp_path, kind):
    target, elsewhere = tmp_path / "pack", tmp_path / "elsewhere"
    assert build(elsewhere, formats="md").returncode == 1
    target.mkdir()
    (target / "precious.txt").write_text("keep\n")
    manifest = target / "manifest.json"
    if kind == "fifo":
        os.mkfifo(manifest)
    else:
        manifest.symlink_to("/dev/zero" if kind == "link-to-dev-zero" else elsewhere / "manifest.json")
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "build", str(EXAMPLE_STORE), "--out", str(target), "--format", "md"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "not a readiness pack" in result.stderr
    assert (target / "precious.txt").read_text() == "keep\n" and leftovers(target) == []


# --- a target whose parent cannot be written -------------------------------------------------


def read_only_parent(shared: Path) -> Path:
    """A folder only root may write in, holding an empty pack folder that nobody owns."""
    parent = shared / "readonly"
    target = parent / "pack"
    target.mkdir(parents=True)
    os.chown(target, 65534, 65534)
    parent.chmod(0o555)
    return target


def test_a_writable_target_in_a_read_only_parent_is_built_and_rebuilt(shared):
    nobody = unprivileged()
    target = read_only_parent(shared)
    first = build(target, "--title", "first", user=nobody)
    assert first.returncode == 1, first.stderr
    assert_complete_pack(target)
    (target / "notes.txt").write_text("mine\n")
    again = build(target, "--title", "second", formats="md", user=nobody)
    assert again.returncode == 1, again.stderr
    assert_complete_pack(target, {"notes.txt"})
    assert "second" in (target / "closure-dashboard.md").read_text()
    assert not (target / "closure-dashboard.html").exists()
    assert "notes.txt" in again.stderr and leftovers(target) == []


@pytest.mark.parametrize(
    ("where", "name", "after"),
    [("pack", "write_file", 2), ("os", "rename", 1), ("os", "replace", 1), ("os", "replace", 3)],
    ids=["while-staging", "staged-complete", "first-file-in", "half-the-files-in"],
)
def test_a_build_killed_inside_a_read_only_parents_target_is_finished_or_undone(shared, where, name, after):
    nobody = unprivileged()
    target = read_only_parent(shared)
    assert build(target, "--title", "first", user=nobody).returncode == 1
    crash(target, where, name, after, "--title", "second", formats="md,json", user=nobody)
    assert leftovers(target), "the simulated crash left nothing to recover"
    again = build(target, "--title", "third", user=nobody)
    assert again.returncode == 1, again.stderr
    assert "cut short" in again.stderr
    assert_complete_pack(target)
    assert "third" in (target / "closure-dashboard.md").read_text() and leftovers(target) == []


def test_a_missing_target_in_a_read_only_parent_is_one_line_naming_the_parent(shared):
    nobody = unprivileged()
    target = read_only_parent(shared).parent / "absent"
    result = build(target, user=nobody)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and str(target.parent) in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("error", ["EBUSY", "EXDEV"])
def test_a_target_that_cannot_be_renamed_is_rebuilt_in_place_keeping_the_users_files(tmp_path, monkeypatch, error):
    target = tmp_path / "mounted"
    assert build(target, formats="html").returncode == 1
    (target / "notes.txt").write_text("mine\n")
    real_rename = os.rename

    def refuse(first, second):
        raise OSError(getattr(errno, error), os.strerror(getattr(errno, error)), str(second))

    def rename(source, destination):
        if Path(source) == target or Path(destination) == target:
            refuse(source, destination)
        real_rename(source, destination)

    monkeypatch.setattr(writermod, "exchange", refuse)
    monkeypatch.setattr(writermod.os, "rename", rename)
    summary = summarise(load([str(EXAMPLE_STORE)]))
    said: list[str] = []
    packmod.build_pack(summary, PackOptions(title="in place", formats=("md",)), target, say=said.append)
    assert_complete_pack(target, {"notes.txt"})
    assert (
        "in place" in (target / "closure-dashboard.md").read_text() and not (target / "closure-dashboard.html").exists()
    )
    assert (target / "notes.txt").read_text() == "mine\n" and leftovers(target) == []
    assert said == [f"{target}: kept, not part of the pack (not in its manifest): notes.txt"]


# --- the attached evidence: every copy read, so a re-check counts them again -----------------


def accounting(summary) -> tuple:
    """What a re-check must reproduce of the inputs: counts, and the warnings by code."""
    inputs = summary.inputs
    warnings = sorted(w.code for w in summary.closure.warnings)
    verdict = (summary.closure.state, summary.readiness.state, [i.id for i in summary.closure.open_items])
    counts = (inputs.records, inputs.duplicates, len(inputs.conflicts), len(inputs.rejected), inputs.unrecognised)
    return counts, warnings, verdict


def copies(records: list[dict], session_id: str, **changes: object) -> dict:
    """A copy of a record, changed."""
    return dict(record(records, session_id), **changes)


def two_files(tmp_path: Path, variant: str) -> list[str]:
    """The example split over two files, with copies of records across (and within) them."""
    records = example()
    first, second = records[:12], records[12:]
    a1, a2 = record(records, A1), record(records, A2)
    if variant == "duplicate-across-files":
        second.append(a1)
    elif variant == "conflict-later-in-second-file":
        second.append(dict(a1, created_at="2031-01-01T00:00:00Z"))
    elif variant == "conflict-later-in-first-file":
        first.append(dict(a2, created_at="2031-01-01T00:00:00Z"))
        second.append(a2)
    elif variant == "conflict-same-time":
        second.append(dict(a1, operator_note="changed"))
    elif variant == "copy-conflict-copy":
        # A, then B (later, different), then A again: two conflicts, no duplicate, in this order only.
        first.append(dict(a1, created_at="2031-01-01T00:00:00Z"))
        second.append(a1)
    elif variant == "conflict-only-in-how-a-time-is-written":
        second.append(dict(a1, created_at=a1["created_at"].replace("+00:00", "Z")))
    elif variant == "copy-with-a-time-without-offset":
        second.append(dict(a2, created_at=a2["created_at"].replace("+00:00", "")))
    elif variant == "duplicates-and-conflicts-mixed":
        first += [a1, a2]
        second += [
            a1,
            dict(a2, operator_note="changed"),
            dict(a1, operator_note="x", created_at="2030-01-01T00:00:00Z"),
        ]
    one = write_ndjson(tmp_path / "one.ndjson", first)
    two = write_ndjson(tmp_path / "two.ndjson", second)
    return [str(one), str(two)]


VARIANTS = [
    "duplicate-across-files",
    "conflict-later-in-second-file",
    "conflict-later-in-first-file",
    "conflict-same-time",
    "copy-conflict-copy",
    "conflict-only-in-how-a-time-is-written",
    "copy-with-a-time-without-offset",
    "duplicates-and-conflicts-mixed",
]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_attached_evidence_re_checks_to_the_same_duplicates_conflicts_and_warnings(tmp_path, variant):
    loaded = load(two_files(tmp_path, variant))
    summary = summarise(loaded)
    assert summary.inputs.duplicates or summary.inputs.conflicts
    options = PackOptions(formats=("pdf",), pdf=PdfOptions(attach_evidence=True))
    _, attached = pack_evidence(summary, options, loaded)
    data = evidence_ndjson(attached, summary.inputs)
    _, again_read = pack_evidence(summary, options, load(two_files(tmp_path, variant)))
    assert data == evidence_ndjson(again_read, summary.inputs)
    again_file = tmp_path / "evidence.ndjson"
    again_file.write_bytes(data)
    again = summarise(load([str(again_file)]), summary.rules, summary.as_of)
    assert accounting(again) == accounting(summary)


def test_the_evidence_extracted_from_the_pdf_re_checks_with_the_conflict_warning(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "pack"
    evidence = two_files(tmp_path, "duplicates-and-conflicts-mixed")
    result = run("build", *evidence, "--out", str(out), "--format", "pdf,json", "--attach-evidence", "-q")
    assert result.returncode in (0, 1), result.stderr
    attached = pypdf.PdfReader(out / "closure-dashboard.pdf").attachments["evidence.ndjson"][0]
    (tmp_path / "evidence.ndjson").write_bytes(attached)
    summary = json.loads((out / "summary.json").read_text())
    again = run("check", "--json", "--as-of", summary["as_of"], str(tmp_path / "evidence.ndjson"))
    checked = json.loads(again.stdout)
    assert checked["inputs"]["duplicates"] == summary["inputs"]["duplicates"] > 0
    assert len(checked["inputs"]["conflicts"]) == len(summary["inputs"]["conflicts"]) > 0
    codes = sorted(w["code"] for w in checked["closure"]["warnings"])
    assert codes == sorted(w["code"] for w in summary["closure"]["warnings"]) and "evidence_conflict" in codes


# --- times at the ends of the calendar -------------------------------------------------------


# The first and last times --as-of takes (the CLI keeps a year of room at either end of the calendar).
FIRST_AS_OF, LAST_AS_OF = "0002-01-01T00:00:00Z", "9998-12-31T23:59:59Z"


@pytest.mark.parametrize("as_of", [FIRST_AS_OF, LAST_AS_OF, "9998-12-31T23:59:59+00:00"])
def test_a_pack_is_built_as_of_the_first_and_last_representable_times(tmp_path, as_of):
    result = build(tmp_path / "pack", "--as-of", as_of, formats="html,md,json")
    assert result.returncode == 1, result.stderr
    assert_complete_pack(tmp_path / "pack")
    assert json.loads((tmp_path / "pack" / "summary.json").read_text())["as_of"][:4] == as_of[:4]
    assert f"{as_of[:10]} " in (tmp_path / "pack" / "closure-dashboard.md").read_text()


def test_pdfs_with_attached_evidence_are_dated_at_either_end_of_the_calendar(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    for as_of in (FIRST_AS_OF, LAST_AS_OF):
        out = tmp_path / as_of[:4]
        result = build(out, "--as-of", as_of, "--attach-evidence", formats="pdf")
        assert result.returncode == 1, result.stderr
        assert_complete_pack(out)
        metadata = pypdf.PdfReader(out / "closure-dashboard.pdf").metadata
        assert str(metadata["/CreationDate"]).startswith(f"D:{as_of[:4]}")
        assert f"as of {as_of[:10]} " in metadata["/Subject"]


@pytest.mark.parametrize("epoch", ["253402300800", "99999999999999999999", "9" * 5000])
def test_a_source_date_epoch_past_the_year_9999_is_one_line_naming_it(tmp_path, epoch):
    result = run(
        "build",
        str(EXAMPLE_STORE),
        "--out",
        str(tmp_path / "pack"),
        "--format",
        "md",
        "-q",
        env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
    )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "SOURCE_DATE_EPOCH" in result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "pack").exists()


@pytest.mark.parametrize("epoch", ["0", "253402300799"])
def test_a_source_date_epoch_at_either_end_of_the_calendar_builds(tmp_path, epoch):
    result = run(
        "build",
        str(EXAMPLE_STORE),
        "--out",
        str(tmp_path / "pack"),
        "--format",
        "md,json",
        "-q",
        env={**os.environ, "SOURCE_DATE_EPOCH": epoch},
    )
    assert result.returncode == 1, result.stderr
    assert_complete_pack(tmp_path / "pack")
