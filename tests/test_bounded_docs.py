"""Documents a person can read at any size: bounded by pages (PDF) and bytes (Markdown) on
generated evidence, with the open items grouped first and every cut list saying above itself what
it shows and where the rest is.

Measured, never timed: page counts (pypdf) and sizes. Printing PDFs is slow, so the PDFs of 2,000
records are built once for the module; the HTML and Markdown bounds use 100,000 records without
PDFs (`bench/run.py` records the sizes at a million).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from evidence import generated
from pagescripts import PACKED, unpack

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, pack_info
from reportgen.output.pdf import bounded_view, print_html
from reportgen.view.build import build_view
from reportgen.view.lists import elsewhere

DASHBOARD_PAGES, RUNBOOK_PAGES = 40, 25
DASHBOARD_BYTES, RUNBOOK_BYTES = 2**20, 512 * 2**10
HTML_BYTES = 10 * 10**6
MD_NOTE = re.compile(r"^This document lists [\d,]+ of [\d,]+ .+; the other [\d,]+ (is|are) in .+\.$")


def build(evidence: Path, out: Path, formats: str) -> Path:
    """`reportgen build` with default options but the formats, in a fresh process."""
    command = [sys.executable, "-m", "reportgen", "build", "-q", "--out", str(out), "--format", formats, str(evidence)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 1, result.stderr  # open, and built
    return out


@pytest.fixture(scope="module")
def pdf_pack(tmp_path_factory):
    """The pack of 2,000 generated records with its PDFs, default options."""
    evidence = generated(tmp_path_factory, 2000, profile="compact")
    return build(evidence, tmp_path_factory.mktemp("bounded-pdf") / "pack", "html,md,pdf,json")


@pytest.fixture(scope="module")
def md_pack(tmp_path_factory):
    """The HTML and Markdown pack of 100,000 generated records, default options."""
    evidence = generated(tmp_path_factory, 100_000, profile="reference")
    return build(evidence, tmp_path_factory.mktemp("bounded-md") / "pack", "html,md,json,csv")


def pdf_pages(path: Path) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(path.read_bytes())).pages]


# --- PDF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("document", "limit"), [("closure-dashboard", DASHBOARD_PAGES), ("operator-runbook", RUNBOOK_PAGES)])
def test_a_pdf_of_thousands_of_records_stays_within_its_page_limit(pdf_pack, document, limit):
    assert 1 < len(pdf_pages(pdf_pack / f"{document}.pdf")) <= limit


def test_the_dashboard_pdf_leads_with_the_groups_and_says_above_each_cut_list_where_the_rest_is(pdf_pack):
    text = " ".join(pdf_pages(pdf_pack / "closure-dashboard.pdf")).replace("\n", " ")
    groups = text.index("Grouped by what fixes them")
    assert groups < text.index("One action fixes") < text.index("Item id Group Provider")
    for noun in ("groups of open items", "warnings", "resolved chains"):
        note = re.search(rf"This PDF shows 20 of [\d,]+ {noun} \(.*?\); the other [\d,]+ are in closure-dashboard.html", text)
        assert note, noun
    assert text.index("This PDF shows 20 of") < text.index("One action fixes")


def test_the_runbook_pdf_has_one_step_per_group_and_says_where_the_other_steps_are(pdf_pack):
    text = " ".join(pdf_pages(pdf_pack / "operator-runbook.pdf")).replace("\n", " ")
    note = re.search(r"This PDF shows 20 of ([\d,]+) groups of open items", text)
    assert note and text.index(note[0]) < text.index("Step 1.")
    assert "Step 20." in text and "Step 21." not in text


def test_every_cut_list_of_a_printed_document_has_its_note_just_above_it(tmp_path_factory):
    summary = summarise(load([str(generated(tmp_path_factory, 2000, profile="compact"))]))
    view = build_view(summary, pack_info(summary, PackOptions()))
    for document, lists in (("closure-dashboard", 6), ("operator-runbook", 1)):
        cut = bounded_view(view, summary, document, 5)
        html = print_html(document, cut).decode()
        # A list of which nothing was kept is its note alone.
        found = re.finditer(r'<p class="note omitted">([^<]*)</p>', html)
        notes = [m.end() for m in found if "shows 0 of" not in m[1]]
        assert len(notes) >= lists, document
        for end in notes:
            assert re.match(r"\s*<(table|div|ol|ul)\b", html[end:]), html[end : end + 80]


# --- Markdown --------------------------------------------------------------------------------


@pytest.mark.parametrize(("document", "limit"), [("closure-dashboard", DASHBOARD_BYTES), ("operator-runbook", RUNBOOK_BYTES)])
def test_the_markdown_of_100_000_records_stays_within_its_size(md_pack, document, limit):
    assert (md_pack / f"{document}.md").stat().st_size <= limit


def test_every_cut_markdown_list_says_above_itself_what_it_shows_and_where_the_rest_is(md_pack):
    lines = (md_pack / "closure-dashboard.md").read_text().splitlines()
    notes = [i for i, line in enumerate(lines) if line.startswith("This document lists")]
    assert len(notes) >= 3
    for i in notes:
        assert MD_NOTE.match(lines[i]), lines[i]
        following = next(line for line in lines[i + 1 :] if line)
        assert following.startswith(("|", "#### ", "- ")), following
    items = [lines[i] for i in notes if "open items of this loop" in lines[i]]
    assert items and all("open-items.csv" in line and "the most severe, then the oldest" in line for line in items)


def test_the_markdown_runbook_has_one_step_per_group_the_dashboard_leads_with(md_pack):
    steps = [line for line in (md_pack / "operator-runbook.md").read_text().splitlines() if line.startswith("### Step ")]
    dashboard = (md_pack / "closure-dashboard.md").read_text()
    groups = dashboard.split("### Grouped by what fixes them", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in groups.splitlines() if re.match(r"^\| \d+ \|", line)]
    assert 1 < len(steps) == len(rows)
    assert [line.split(".")[0] for line in steps] == [f"### Step {n}" for n in range(1, len(steps) + 1)]


# --- HTML ------------------------------------------------------------------------------------


def packed_item_ids(html: str) -> list[str]:
    """The ids of the open items a dashboard packs (the first column of each packed list of items)."""
    ids = []
    for attributes, body in PACKED.findall(html):
        if 'data-rows="item"' in attributes:
            ids += json.loads(unpack(body))["columns"][0]
    return ids


def test_the_html_dashboard_of_100_000_records_is_small_and_holds_every_open_item(md_pack):
    html = (md_pack / "closure-dashboard.html").read_text()
    assert len(html.encode()) <= HTML_BYTES
    summary = json.loads((md_pack / "summary.json").read_text())
    expected = sorted(item["id"] for item in summary["closure"]["open_items"])
    in_page = re.findall(r'<article class="item [a-z]+" id="([^"]+)"', html)
    assert len(packed_item_ids(html)) > 10 * len(in_page)  # most are packed, a page's worth is markup
    assert sorted(in_page + packed_item_ids(html)) == expected


def test_a_cut_markdown_list_names_only_files_the_pack_holds(tmp_path_factory):
    evidence = generated(tmp_path_factory, 100_000, profile="reference")
    pack = build(evidence, tmp_path_factory.mktemp("md-only") / "pack", "md,csv")
    notes = [line for line in (pack / "closure-dashboard.md").read_text().splitlines() if line.startswith("This document lists")]
    items = [line for line in notes if "open items of this loop" in line]
    assert items and all(line.endswith("are in open-items.csv.") for line in items)
    warnings = next(line for line in notes if " warnings " in line)
    assert warnings.endswith("are in no file of this pack (add html and json to --format to have them listed).")
    assert all("closure-dashboard.html" not in line for line in notes)


def test_where_the_rest_is_is_said_in_words():
    assert elsewhere(("a.html", "b.json", "c.csv"), set()) == "a.html, b.json and c.csv"
    assert elsewhere(("a.html", "b.json", "c.csv"), {"b.json", "c.csv"}) == "b.json and c.csv"
    assert elsewhere(("a.html",), {"x.md"}) == "no file of this pack (add html to --format to have them listed)"
