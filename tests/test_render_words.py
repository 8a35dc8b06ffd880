"""Issue 15: one number format in every document, and inputs named as the user named them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from evidence import ROOT

from reportgen.evidence.load import load
from reportgen.evidence.text import plural
from reportgen.judge.summary import summarise, summarise_paths
from reportgen.output.pack import PackOptions, render_pack
from reportgen.view.inventory import inventory_view
from reportgen.view.words import bytes_text, count_text

EXAMPLE = ROOT / "fixtures" / "example"


def test_counts_are_always_written_with_a_thousands_separator():
    assert plural(7677, "open item") == "7,677 open items"
    assert plural(1234567, "record") == "1,234,567 records"
    assert plural(1, "entry", "entries") == "1 entry"
    assert count_text(7677) == "7,677" and count_text(12) == "12"
    assert bytes_text(1234567) == "1,234,567 B"


def test_the_input_inventory_writes_every_count_as_the_charts_do():
    summary = summarise(load([str(EXAMPLE)]))
    inputs = summary.inputs.model_copy(
        update={
            "entries": 7677,
            "records": 12345,
            "files": [f.model_copy(update={"records": 7677}) for f in summary.inputs.files],
        }
    )
    view = inventory_view(inputs)
    facts = {fact.label: fact.value for fact in view.totals}
    assert facts["Entries read"] == "7,677" and facts["Records used"] == "12,345"
    assert view.files[0].records == "7,677"


@pytest.fixture
def in_root():
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(cwd)


def test_an_input_named_by_a_relative_path_keeps_that_name(in_root):
    _, summary = summarise_paths(["fixtures/example"])
    assert [f.path for f in summary.inputs.files] == ["fixtures/example/store.json"]


def test_an_input_named_by_an_absolute_path_is_named_from_its_folder_on(tmp_path):
    _, summary = summarise_paths([str(EXAMPLE)])
    assert [f.path for f in summary.inputs.files] == ["example/store.json"]
    # No output of the pack says where the builder keeps its files: not the summary, not a document.
    files = {
        f.name: f.data for f in render_pack(summary, PackOptions(name="p", title="P", formats=("html", "md", "json")))
    }
    assert "summary.json" in files and "closure-dashboard.html" in files
    for name, data in files.items():
        assert str(ROOT).encode() not in data, name
    assert b"example/store.json:3" in files["closure-dashboard.md"]


def test_inputs_named_by_absolute_paths_in_two_folders_are_named_from_their_common_folder(tmp_path):
    first, second = tmp_path / "a" / "evidence", tmp_path / "b" / "more"
    for folder in (first, second):
        folder.mkdir(parents=True)
        (folder / "store.json").write_bytes((EXAMPLE / "store.json").read_bytes())
    loaded, _ = summarise_paths([str(first), str(second / "store.json")])
    assert sorted(f.path for f in loaded.files) == ["a/evidence/store.json", "b/more/store.json"]


def test_a_shorter_name_that_is_another_inputs_name_is_not_taken(tmp_path, monkeypatch):
    (tmp_path / "example").mkdir()
    (tmp_path / "example" / "store.json").write_bytes((EXAMPLE / "store.json").read_bytes())
    monkeypatch.chdir(tmp_path)
    other = Path(tmp_path / "copy" / "example")
    other.mkdir(parents=True)
    (other / "store.json").write_bytes((EXAMPLE / "store.json").read_bytes())
    loaded, _ = summarise_paths(["example", str(other)])
    assert sorted(f.path for f in loaded.files) == sorted(["example/store.json", str(other / "store.json")])


def test_the_counts_tables_and_the_trend_write_counts_as_the_charts_do():
    from reportgen.view.counts import shown

    assert shown(7677) == "7,677" and shown(None) == "—"
    # A pack rendered from evidence with over a thousand entries says the same number one way.
    summary = summarise(load([str(EXAMPLE)]))
    inputs = summary.inputs.model_copy(update={"entries": 7677})
    files = render_pack(
        summary.model_copy(update={"inputs": inputs}), PackOptions(name="p", title="P", formats=("html", "md"))
    )
    for file in files:
        if file.name.endswith((".html", ".md")) and b"7,677" in file.data:
            assert b"7677" not in file.data, file.name
    assert any(b"7,677" in file.data for file in files)


def test_the_loader_alone_names_inputs_as_given_unless_asked():
    assert [f.path for f in load([str(EXAMPLE)]).files] == [str(EXAMPLE / "store.json")]
    assert [f.path for f in load([str(EXAMPLE)], relative_names=True).files] == ["example/store.json"]
