"""The PDFs stay bounded: at 1 000 and 10 000 generated records, with a small row limit so every
long table is cut at both sizes, the page counts match; a cut table keeps the most severe and
oldest rows and says how many more there are; the HTML keeps every row.

Judging 10 000 records and printing their PDFs takes a few seconds, so each size is built once per
module (the evidence once per run, tests/evidence.py). The behaviour under test is the tenfold
growth with every long table cut, not the absolute size, so the sizes are kept small.
"""

from __future__ import annotations

import io
import json
import re

import pypdf
import pytest
from evidence import generated

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.judge.verdict import SEVERITY_ORDER
from reportgen.output.pack import PackOptions, pack_info, pack_renderers, render_pack
from reportgen.output.pdf import NEVER, PdfOptions, bounded_view
from reportgen.output.render import TemplateRenderer
from reportgen.view.build import build_view

SIZES = (1000, 10000)
ROWS = 5  # below every long table's length at both sizes
OPTIONS = PackOptions(formats=("pdf", "csv"), pdf=PdfOptions(max_rows=ROWS, attach_evidence=True))


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """Generated evidence at each size, loaded and judged."""
    found = {}
    for size in SIZES:
        loaded = load([str(generated(tmp_path_factory, size, profile="compact"))])
        found[size] = (loaded, summarise(loaded))
    return found


@pytest.fixture(scope="module")
def printed(judged):
    """Each size's PDFs by file name, and what each cost its worker."""
    found = {}
    for size, (loaded, summary) in judged.items():
        by_format = pack_renderers(summary, OPTIONS, loaded.records)
        files = render_pack(summary, OPTIONS, by_format=by_format, records=loaded.records)
        found[size] = {f.name: f.data for f in files} | {"results": by_format["pdf"].results}
    return found


def pages(data: bytes) -> list[str]:
    """The text of each page of a PDF."""
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.mark.parametrize("document", ["closure-dashboard.pdf", "operator-runbook.pdf"])
def test_ten_times_the_records_gives_the_same_page_count_within_one_page(judged, printed, document):
    small, large = (len(pages(printed[size][document])) for size in SIZES)
    assert judged[10000][1].inputs.records == 10 * judged[1000][1].inputs.records
    assert small > 1 and abs(large - small) <= 1, (small, large)


def test_every_cut_table_says_how_many_rows_it_left_out_and_where_they_are(judged, printed):
    text = " ".join(pages(printed[10000]["closure-dashboard.pdf"])).replace("\n", " ")
    summary = judged[10000][1]
    executive = sum(i.loop == "executive" for i in summary.closure.open_items)
    # The open items of all loops share the row limit: each loop's list says what it kept of its own.
    shown = re.search(rf"This PDF shows (\d+) of {executive:,} open items \(the most severe, then the oldest, of all loops\)", text)
    assert shown and int(shown[1]) <= ROWS
    assert "and in the pack's open-items.csv" in text
    assert "summary.json (their records: evidence.ndjson), attached to this PDF" in text
    for noun in ("warnings", "resolved chains"):
        assert re.search(rf"This PDF shows {ROWS} of [\d,]+ {noun}", text), noun


def test_a_cut_table_keeps_the_most_severe_and_then_the_oldest_open_items(judged):
    loaded, summary = judged[10000]
    view = build_view(summary, pack_info(summary, OPTIONS))
    cut = bounded_view(view, summary, "closure-dashboard", ROWS)
    # Items without an opening time rank after those with one.
    opened = {i.id: (i.opened_at is None, i.opened_at or NEVER) for i in summary.closure.open_items}
    notes = dict(cut.omitted)
    # The open items of every loop share one limit: the most severe and oldest of them all.
    everything = [item for group in view.groups for item in group.items]
    ranked = sorted(everything, key=lambda i: (SEVERITY_ORDER[i.severity], opened[i.id], i.number))
    assert {i.id for i in cut.items} == {i.id for i in ranked[:ROWS]}
    for whole, kept in zip(view.groups, cut.groups, strict=True):
        assert [i.number for i in kept.items] == sorted(i.number for i in kept.items)
        if len(kept.items) < len(whole.items):
            assert f"{len(kept.items)} of {len(whole.items):,} open items" in notes[whole.anchor]
        else:
            assert whole.anchor not in notes
    assert len(cut.items) == ROWS and "steps" in notes and "fixes" in notes


def test_the_html_keeps_every_row(judged):
    _, summary = judged[1000]
    view = build_view(summary, pack_info(summary, OPTIONS))
    html = TemplateRenderer("html", "html").render("closure-dashboard", view).decode()
    for item in summary.closure.open_items:
        assert f'id="{item.id}"' in html


def test_the_generated_evidence_in_the_pdf_gives_the_same_verdict(judged, printed, tmp_path):
    _, summary = judged[1000]
    attached = pypdf.PdfReader(io.BytesIO(printed[1000]["closure-dashboard.pdf"])).attachments
    (tmp_path / "evidence.ndjson").write_bytes(attached["evidence.ndjson"][0])
    again = summarise(load([str(tmp_path / "evidence.ndjson")]), summary.rules, summary.as_of)
    assert json.loads(attached["summary.json"][0]) == json.loads(summary.to_json())
    assert [i.id for i in again.closure.open_items] == [i.id for i in summary.closure.open_items]
    assert [(c.id, c.status) for c in again.readiness.checks] == [(c.id, c.status) for c in summary.readiness.checks]
    assert (again.closure.state, again.readiness.state) == (summary.closure.state, summary.readiness.state)


def test_each_worker_reports_its_render_time_and_peak_memory(printed):
    for size in SIZES:
        for _, result in printed[size]["results"]:
            assert result.seconds > 0 and result.peak_rss > 2**20
