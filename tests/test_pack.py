"""The readiness pack as `reportgen build` writes it: files, manifest, PDFs, Markdown, determinism.

PDF rendering is slow, so the full example pack is built once per module (twice, for the
determinism test) and every test reads it.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from evidence import EXAMPLE_STORE
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin
from pagescripts import without_pack_scripts

from reportgen import __version__
from reportgen.evidence.load import load
from reportgen.judge.groups import group_items
from reportgen.judge.summary import summarise
from reportgen.output.pack import PREDICATE_TYPE, STATEMENT_TYPE, PackOptions, render_pack

ALL_FILES = [
    "closure-dashboard.html",
    "closure-dashboard.md",
    "closure-dashboard.pdf",
    "summary.json",
    "open-items.csv",
    "operator-runbook.html",
    "operator-runbook.md",
    "operator-runbook.pdf",
    "index.html",
    "manifest.json",
]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, timeout=300, cwd=cwd
    )


def build(out: Path) -> subprocess.CompletedProcess[str]:
    """Build the full example pack into out."""
    return run("build", str(EXAMPLE_STORE), "--out", str(out), "--title", "Example release")


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    """The example pack, built once with every format."""
    out = tmp_path_factory.mktemp("pack") / "example"
    result = build(out)
    assert result.returncode == 1, result.stderr
    return out, result


@pytest.fixture(scope="module")
def summary():
    """The example's summary, judged directly."""
    return summarise(load([str(EXAMPLE_STORE)], relative_names=True))


def markdown() -> MarkdownIt:
    """The GFM-like parser the pack's Markdown must render correctly through."""
    return MarkdownIt("commonmark").enable("table").use(anchors_plugin, max_level=4)


def tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text, as rows of cell texts (the header row first)."""
    found: list[list[list[str]]] = []
    row: list[str] | None = None
    for token in markdown().parse(text):
        if token.type == "table_open":
            found.append([])
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            found[-1].append(row)
            row = None
        elif token.type == "inline" and row is not None:
            row.append(token.content)
    return found


def test_build_prints_every_file_it_wrote_and_exits_1_on_the_open_example(pack):
    out, result = pack
    verdict = "closure: open   readiness: blocked   decision: hold_release_closure"
    assert result.stdout.splitlines() == [verdict, *(str(out / name) for name in ALL_FILES)]
    assert result.stderr == ""  # WeasyPrint warns about any CSS it cannot apply
    assert sorted(p.name for p in out.iterdir()) == sorted(ALL_FILES)


def test_manifest_is_an_in_toto_statement_covering_every_other_file_with_its_sha256(pack):
    out, _ = pack
    statement = json.loads((out / "manifest.json").read_bytes())
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert set(subjects) == set(ALL_FILES) - {"manifest.json"}
    for name, digest in subjects.items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    outputs = {o["path"]: (o["sha256"], o["bytes"]) for o in statement["predicate"]["outputs"]}
    assert outputs == {name: (subjects[name], (out / name).stat().st_size) for name in subjects}


def test_manifest_predicate_records_generator_as_of_rules_inputs_and_parameters(pack, summary):
    out, _ = pack
    predicate = json.loads((out / "manifest.json").read_bytes())["predicate"]
    assert predicate["generator"] == {"name": "reportgen", "version": __version__}
    assert predicate["as_of"] == "2025-06-02T11:30:00.402816Z" and predicate["rules"] == "chain"
    data = EXAMPLE_STORE.read_bytes()
    assert predicate["inputs"] == [
        # Named by its absolute path, the input is named from its folder on: the builder's home stays home.
        {"path": EXAMPLE_STORE.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "records": 21}
    ]
    assert predicate["parameters"] == {
        "name": "readiness-pack",
        "title": "Example release",
        "formats": ["html", "md", "pdf", "json", "csv"],
        "strict": False,
        "pdf": {"author": None, "variant": "pdf", "max_rows": 200, "attach_evidence": False},
    }


def test_summary_json_is_the_summary_of_check_json(pack, summary):
    out, _ = pack
    assert (out / "summary.json").read_bytes() == summary.to_json()


@pytest.mark.parametrize("document", ["closure-dashboard", "operator-runbook"])
def test_pdf_text_states_the_verdict_and_every_open_item(pack, summary, document):
    out, _ = pack
    reader = pypdf.PdfReader(out / f"{document}.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\n", " ")
    assert "Blocked: hold release closure" in text and "2025-06-02 11:30:00 UTC" in text
    squashed = text.replace(" ", "")
    for item in summary.closure.open_items:
        assert item.code in squashed, item.code
        assert item.title in text, item.title


@pytest.mark.parametrize("document", ["closure-dashboard", "operator-runbook"])
def test_pdf_is_a4_numbered_with_a_running_header_and_dated_from_as_of(pack, document):
    out, _ = pack
    reader = pypdf.PdfReader(out / f"{document}.pdf")
    pages = reader.pages
    assert len(pages) > 1
    width, height = float(pages[0].mediabox.width), float(pages[0].mediabox.height)
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    for number, page in enumerate(pages, start=1):
        text = page.extract_text()
        assert f"Page {number} of {len(pages)}" in text
        assert "Example release" in text and "Blocked: hold release closure" in text
    assert reader.metadata["/CreationDate"] == reader.metadata["/ModDate"] == "D:20250602113000Z"


def test_runbook_pdf_is_printed_from_the_runbook_html(pack):
    out, _ = pack
    reader = pypdf.PdfReader(out / "operator-runbook.pdf")
    html_digest = hashlib.sha256((out / "operator-runbook.html").read_bytes()).hexdigest()
    assert reader.trailer["/ID"][0] == html_digest[:32]


@pytest.mark.parametrize("document", ["closure-dashboard", "operator-runbook"])
def test_markdown_tables_are_well_formed(pack, document):
    out, _ = pack
    found = tables((out / f"{document}.md").read_text())
    assert found
    for table in found:
        widths = {len(row) for row in table}
        assert len(widths) == 1, table[0]


def test_dashboard_markdown_leads_with_the_groups_then_one_card_per_open_item_by_loop(pack, summary):
    out, _ = pack
    text = (out / "closure-dashboard.md").read_text()
    groups = group_items(summary.closure.open_items)
    found = [t for t in tables(text) if t[0][:3] == ["#", "Severity", "What"]]
    assert len(found) == 1 and len(found[0]) == len(groups) + 1
    assert sum(int(row[4]) for row in found[0][1:]) == len(summary.closure.open_items)
    cards = [line for line in text.splitlines() if line.startswith("#### ")]
    assert [line.split(".")[0] for line in cards] == [f"#### {n}" for n in range(1, len(cards) + 1)]
    assert [line.split(". ", 1)[1] for line in cards] == [i.title for i in summary.closure.open_items]
    assert text.index("### Grouped by what fixes them") < text.index(cards[0])


def test_markdown_contents_links_resolve_to_heading_anchors(pack):
    out, _ = pack
    for document in ("closure-dashboard", "operator-runbook"):
        html = markdown().render((out / f"{document}.md").read_text())
        links = [part.split('"')[0] for part in html.split('href="#')[1:]]
        assert links and all(f'id="{link}"' in html for link in links), links


def test_runbook_has_the_five_upstream_sections_and_one_step_per_group_of_open_items(pack, summary):
    out, _ = pack
    text = (out / "operator-runbook.md").read_text()
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings[1:6] == ["Purpose", "Readiness Gate", "Operator Steps", "Evidence To Attach", "Private Boundary"]
    steps = [line for line in text.splitlines() if line.startswith("### Step ")]
    groups = group_items(summary.closure.open_items)
    assert len(steps) == len(groups)
    html = (out / "operator-runbook.html").read_text().replace("<wbr>", "")  # break opportunities, no text
    for group in groups:
        assert group.operator_action in html


def test_runbook_lists_the_digests_of_the_files_rendered_before_it(pack):
    out, _ = pack
    for document in ("operator-runbook.md", "operator-runbook.html"):
        # The HTML writes a digest in four groups that wrap as one (its text is the digest).
        text = re.sub(r"<[^>]*>", "", (out / document).read_text())
        before = ("closure-dashboard.html", "closure-dashboard.md", "closure-dashboard.pdf", "summary.json")
        for name in (*before, "open-items.csv"):
            assert hashlib.sha256((out / name).read_bytes()).hexdigest() in text, (document, name)
        assert "covered by manifest.json" in text


def test_html_is_self_contained_and_readable_without_javascript(pack):
    out, _ = pack
    for name in ("closure-dashboard.html", "operator-runbook.html", "index.html"):
        html = without_pack_scripts((out / name).read_text())
        # url(#id) is an inline SVG's own pattern; any other url( could fetch.
        assert "<script" not in html and " src=" not in html and "@import" not in html
        assert not re.search(r"url\((?!#)", html)
        assert "http://" not in html and "https://" not in html
        assert "<style>" in html and "@page" in html and "default-src 'none'" in html


def test_index_links_every_document_file_and_states_the_verdict(pack):
    out, _ = pack
    html = (out / "index.html").read_text()
    assert "Blocked: hold release closure" in html
    for name in ALL_FILES:
        if name != "index.html":
            assert f'href="{name}"' in html, name


def test_two_builds_of_the_same_evidence_are_byte_identical(pack, tmp_path):
    out, _ = pack
    again = tmp_path / "again"
    assert build(again).returncode == 1
    for name in ALL_FILES:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_source_date_epoch_dates_the_documents_but_not_the_verdict(monkeypatch, summary):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    files = {f.name: f.data for f in render_pack(summary, PackOptions(formats=("html", "json")))}
    assert b'<meta name="dcterms.created" content="2023-11-14T22:13:20Z">' in files["closure-dashboard.html"]
    assert json.loads(files["manifest.json"])["predicate"]["as_of"] == "2025-06-02T11:30:00.402816Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    files = {f.name: f.data for f in render_pack(summary, PackOptions(formats=("html",)))}
    assert b'<meta name="dcterms.created" content="2025-06-02T11:30:00Z">' in files["closure-dashboard.html"]
