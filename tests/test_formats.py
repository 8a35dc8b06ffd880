"""The format registry: a format declared there alone is built, listed and checked like the others."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evidence import EXAMPLE_STORE

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output import formats
from reportgen.output.formats import Format, RenderInputs
from reportgen.output.pack import build_pack, pack_options
from reportgen.output.verify import verify_pack
from reportgen.view.model import ReportView

EXISTING = ("html", "md", "json")


class TextRenderer:
    """A throwaway plain-text format: the document's name and the verdict, one line each."""

    format = "txt"
    suffix = "txt"

    def render(self, document: str, view: ReportView) -> bytes:
        """The document as two lines of text."""
        return f"{document}\n{view.pack.name}\n".encode()


TXT = Format("txt", "Text", lambda _inputs: TextRenderer(), "text/plain")


@pytest.fixture(scope="module")
def summary():
    """The example's summary."""
    return summarise(load([str(EXAMPLE_STORE)]))


@pytest.fixture
def with_txt(monkeypatch):
    """The registry with the throwaway format added, for this test only."""
    monkeypatch.setitem(formats.REGISTRY, "txt", TXT)


def built(summary, target: Path, names: tuple[str, ...]) -> dict[str, bytes]:
    """Build a pack through the normal entry point; every file it holds, by name."""
    build_pack(summary, pack_options("p", None, [",".join(names)]), target)
    return {p.name: p.read_bytes() for p in sorted(target.iterdir())}


def test_a_registered_format_is_written_listed_in_the_manifest_and_index_and_verifies(tmp_path, summary, with_txt):
    files = built(summary, tmp_path / "with", (*EXISTING, "txt"))
    documents = ("closure-dashboard", "operator-runbook")
    for document in documents:
        assert files[f"{document}.txt"] == f"{document}\np\n".encode()
    manifest = json.loads(files["manifest.json"])
    subjects = {s["name"] for s in manifest["subject"]}
    assert {f"{d}.txt" for d in documents} <= subjects
    assert manifest["predicate"]["parameters"]["formats"] == [*EXISTING, "txt"]
    index = files["index.html"].decode()
    for document in documents:
        assert f'<a href="{document}.txt">' in index
    assert "Final reporting closure dashboard (Text)" in index
    assert not verify_pack(tmp_path / "with", None).problems


def test_the_existing_formats_are_unchanged_by_a_registered_one(tmp_path, summary, monkeypatch):
    before = built(summary, tmp_path / "before", EXISTING)
    monkeypatch.setitem(formats.REGISTRY, "txt", TXT)
    unasked = built(summary, tmp_path / "unasked", EXISTING)
    assert unasked == before
    asked = built(summary, tmp_path / "asked", (*EXISTING, "txt"))
    assert set(asked) - set(before) == {"closure-dashboard.txt", "operator-runbook.txt"}
    assert asked["summary.json"] == before["summary.json"]


def test_the_registry_declares_every_format_once_with_its_files():
    assert formats.format_names() == ("html", "md", "pdf", "json", "csv")
    assert [f.name for f in formats.REGISTRY.values() if f.worker] == ["pdf"]
    assert formats.REGISTRY["json"].file_names(("closure-dashboard",)) == ("summary.json",)
    assert formats.REGISTRY["csv"].file_names(("closure-dashboard",)) == ("open-items.csv",)
    assert formats.REGISTRY["md"].file_names(("closure-dashboard",)) == ("closure-dashboard.md",)
    inputs = RenderInputs(summarise(load([str(EXAMPLE_STORE)])), pack_options("p", None, ["html"]))
    assert set(formats.renderers(inputs)) == {"html"}


def test_the_command_line_builds_a_registered_format(tmp_path, with_txt):
    from click.testing import CliRunner

    from reportgen.cli import cli

    out = tmp_path / "pack"
    args = ["build", str(EXAMPLE_STORE), "--out", str(out), "--name", "p", "--format", "md,txt", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert (out / "operator-runbook.txt").read_bytes() == b"operator-runbook\np\n"
    subjects = {s["name"] for s in json.loads((out / "manifest.json").read_text())["subject"]}
    assert subjects == {
        "closure-dashboard.md",
        "closure-dashboard.txt",
        "operator-runbook.md",
        "operator-runbook.txt",
    } | {"index.html"}
