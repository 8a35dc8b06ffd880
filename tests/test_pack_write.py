"""Writing a pack: atomic replacement, safe names and targets, format subsets, exit codes of build."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from evidence import A2, EXAMPLE_STORE, EXEC_ACK, example, record, write_ndjson, write_store

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output import render
from reportgen.output import writer as writermod
from reportgen.output.pack import PackError, PackOptions, build_pack, pack_options, sanitise_name

FAST = PackOptions(formats=("html", "md", "json"))


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


@pytest.fixture(scope="module")
def summary():
    """The example's summary."""
    return summarise(load([str(EXAMPLE_STORE)]))


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def leftovers(parent: Path) -> list[str]:
    """Hidden staging or old folders left beside a target."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def closed_records() -> list[dict]:
    """The example chain with the slack chain redelivered and acknowledged: closed and ready."""
    records = example()
    record(records, A2)["providers"] = ["slack", "webhook"]
    records.append(dict(record(records, EXEC_ACK), session_id="gordackexechealthack-slack", provider="slack"))
    return records


def test_a_failing_render_leaves_the_previous_pack_intact_and_no_staging_folder(tmp_path, summary, monkeypatch):
    target = tmp_path / "pack"
    build_pack(summary, FAST, target)
    before = snapshot(target)
    real = render.TemplateRenderer.render

    def broken(self, document, view):
        if document == "operator-runbook":
            raise RuntimeError("template exploded")
        return real(self, document, view)

    monkeypatch.setattr(render.TemplateRenderer, "render", broken)
    with pytest.raises(RuntimeError, match="template exploded"):
        build_pack(summary, PackOptions(name="other", formats=("html", "md")), target)
    assert snapshot(target) == before
    assert leftovers(tmp_path) == []


def test_a_failing_write_removes_the_staging_folder_and_keeps_the_previous_pack(tmp_path, summary, monkeypatch):
    target = tmp_path / "pack"
    build_pack(summary, FAST, target)
    before = snapshot(target)
    written = []

    def failing_write(path, data):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(path)
        path.write_bytes(data)

    monkeypatch.setattr(writermod, "write_file", failing_write)
    with pytest.raises(OSError, match="No space left"):
        build_pack(summary, PackOptions(title="new", formats=("html", "md")), target)
    assert snapshot(target) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("atomic", [True, False], ids=["exchange", "two-renames"])
def test_a_failing_swap_puts_the_previous_pack_back(tmp_path, summary, monkeypatch, atomic):
    target = tmp_path / "pack"
    build_pack(summary, FAST, target)
    before = snapshot(target)
    real_rename = writermod.os.rename

    def rename(src, dst):
        if Path(src).name.startswith(".pack.tmp-"):
            raise OSError(5, "Input/output error")
        real_rename(src, dst)

    def exchange(first, second):
        if atomic:
            raise OSError(5, "Input/output error")
        return False

    monkeypatch.setattr(writermod.os, "rename", rename)
    monkeypatch.setattr(writermod, "exchange", exchange)
    with pytest.raises(OSError, match="Input/output"):
        build_pack(summary, PackOptions(title="new", formats=("md",)), target)
    assert snapshot(target) == before
    assert leftovers(tmp_path) == []


def test_a_new_build_replaces_an_earlier_pack_completely(tmp_path, summary):
    target = tmp_path / "pack"
    build_pack(summary, FAST, target)
    build_pack(summary, PackOptions(formats=("md",)), target)
    assert sorted(snapshot(target)) == ["closure-dashboard.md", "index.html", "manifest.json", "operator-runbook.md"]
    assert leftovers(tmp_path) == []


def test_a_folder_that_is_not_a_pack_is_never_replaced(tmp_path, summary):
    target = tmp_path / "home"
    target.mkdir()
    (target / "precious.txt").write_text("keep me")
    with pytest.raises(PackError, match="not a readiness pack"):
        build_pack(summary, FAST, target)
    assert snapshot(target) == {"precious.txt": b"keep me"}
    assert leftovers(tmp_path) == []


def test_an_existing_file_is_not_a_target(tmp_path, summary):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(PackError, match="not a folder"):
        build_pack(summary, FAST, target)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("readiness-pack", "readiness-pack"),
        ("../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("a\x00b", "a-b"),
        ("Rel 1.2 / rc", "Rel-1.2-rc"),
        ("con", "pack-con"),
        ("LPT1.txt", "pack-LPT1.txt"),
    ],
)
def test_pack_names_are_made_one_safe_folder_name(raw, name):
    assert sanitise_name(raw) == name


@pytest.mark.parametrize("raw", ["..", "/", "", "..//.."])
def test_a_pack_name_with_nothing_usable_is_refused(raw):
    with pytest.raises(PackError):
        sanitise_name(raw)


def test_formats_are_comma_separated_or_repeated_and_kept_in_pack_order():
    assert pack_options("p", None, ["pdf,md", "html"]).formats == ("html", "md", "pdf")
    with pytest.raises(PackError, match="unknown format docx"):
        pack_options("p", None, ["html,docx"])


def test_build_writes_the_default_out_folder_under_the_working_folder(tmp_path):
    result = run("build", str(EXAMPLE_STORE), "--format", "md", "--name", "../escape", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "escape").iterdir()) == [
        "closure-dashboard.md",
        "index.html",
        "manifest.json",
        "operator-runbook.md",
    ]
    assert not (tmp_path / "escape").exists()


def test_build_exits_0_and_writes_the_pack_when_closed_and_ready(tmp_path):
    store = write_store(tmp_path / "store.json", closed_records())
    result = run("build", str(store), "--out", str(tmp_path / "pack"), "--format", "md")
    assert result.returncode == 0, result.stderr
    assert "Ready: approve release closure" in (tmp_path / "pack" / "closure-dashboard.md").read_text()


def test_build_exits_2_and_writes_nothing_for_rejected_input_under_strict(tmp_path):
    bad = write_ndjson(tmp_path / "bad.ndjson", [{"session_id": "x", "metadata_kind": "release-connector-delivery"}])
    out = tmp_path / "pack"
    result = run("build", str(EXAMPLE_STORE), str(bad), "--out", str(out), "--strict")
    assert result.returncode == 2
    assert "rejected" in result.stderr and "no pack written" in result.stderr and "Traceback" not in result.stderr
    assert not out.exists()


def test_build_without_strict_writes_a_pack_that_lists_the_rejected_entry(tmp_path):
    bad = write_ndjson(tmp_path / "bad.ndjson", [{"session_id": "x", "metadata_kind": "release-connector-delivery"}])
    out = tmp_path / "pack"
    result = run("build", str(EXAMPLE_STORE), str(bad), "--out", str(out), "--format", "md")
    assert result.returncode == 1, result.stderr
    dashboard = (out / "closure-dashboard.md").read_text()
    assert f"{bad.parent.name}/{bad.name}:1" in dashboard and "evidence_unreadable" in dashboard


@pytest.mark.parametrize(
    "args",
    [("--format", "docx"), ("--name", ".."), ("--out", "{file}")],
)
def test_build_exits_2_with_one_error_line_on_bad_usage(tmp_path, args):
    existing = tmp_path / "file"
    existing.write_text("x")
    args = tuple(a.format(file=existing) for a in args)
    result = run("build", str(EXAMPLE_STORE), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_working_folder_can_be_the_target_when_it_holds_an_earlier_pack(tmp_path, summary, monkeypatch):
    target = tmp_path / "pack"
    build_pack(summary, FAST, target)
    monkeypatch.chdir(target)
    written = build_pack(summary, PackOptions(formats=("md",)), Path("."))
    assert [str(p) for p in written] == ["closure-dashboard.md", "operator-runbook.md", "index.html", "manifest.json"]
    assert sorted(snapshot(target)) == ["closure-dashboard.md", "index.html", "manifest.json", "operator-runbook.md"]
    assert leftovers(tmp_path) == []


def test_a_symbolic_link_is_not_followed_or_replaced(tmp_path, summary):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(PackError, match="symbolic link"):
        build_pack(summary, FAST, tmp_path / "link")
    assert list(real.iterdir()) == []
