"""The dashboard's server side: charts, cited records, paging, and the hashed inline script."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pypdf
import pytest
from evidence import ROOT
from pagescripts import PACKED, records_island, without_pack_scripts

from reportgen.evidence.kinds import NESTED_KEY
from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, pack_evidence, render_pack
from reportgen.output.render import environment
from reportgen.view import dashboard as view_dashboard
from reportgen.view.charts import RetryRow, SeverityRow, retry_chart, severity_chart
from reportgen.view.cited import Event, events, record_json
from reportgen.view.cited import records_island as island_json
from reportgen.view.paging import PAGE_SIZE, page
from reportgen.view.timeline import MAX_MARKERS, timeline_chart

SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


@pytest.fixture(scope="module")
def retry_states():
    """The retry-states fixture set: loaded, judged, and its pack's HTML rendered in memory."""
    loaded = load([str(ROOT / "fixtures" / "retry-states")])
    summary = summarise(loaded)
    files = render_pack(summary, PackOptions(formats=("html",)), records=loaded.records)
    return loaded, summary, {f.name: f.data.decode() for f in files}


def test_the_csp_allows_exactly_the_inline_script_by_its_hash(retry_states):
    _, _, files = retry_states
    for name in ("closure-dashboard.html", "operator-runbook.html", "index.html"):
        html = files[name]
        (body,) = SCRIPT.findall(html)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        (policy,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
        assert f"script-src 'sha256-{digest}'" in policy.split("; ")
        assert "unsafe-eval" not in policy and "default-src 'none'" in policy


def test_the_page_holds_every_cited_record_in_full_and_nothing_can_close_the_island(retry_states):
    loaded, summary, files = retry_states
    html = files["closure-dashboard.html"]
    assert [a for a, _ in PACKED.findall(html) if 'id="evidence-records"' in a]
    assert "evidence-records" not in without_pack_scripts(html), "the island must be base64 alone, in its <script>"
    records = records_island(html)
    cited = {ref.session_id for item in summary.closure.open_items for ref in item.evidence}
    assert cited <= set(records)
    source = {r["session_id"]: r for r in json.loads((ROOT / "fixtures/retry-states/records.json").read_text())}
    for session_id, record in records.items():
        assert set(record) == set(source[session_id]), session_id


def test_the_page_embeds_the_first_cited_records_up_to_its_limit_and_reads_only_those_again(monkeypatch):
    monkeypatch.setattr(view_dashboard, "MAX_EMBEDDED", 3)
    loaded = load([str(ROOT / "fixtures" / "retry-states")])
    summary = summarise(loaded)
    options = PackOptions(formats=("html",))
    records, _ = pack_evidence(summary, options, loaded)
    first = [ref.session_id for item in summary.closure.open_items for ref in item.evidence]
    assert len(set(first)) > 3
    assert {r.session_id for r in records} == set(list(dict.fromkeys(first))[:3])
    files = {f.name: f.data.decode() for f in render_pack(summary, options, records=records)}
    assert set(records_island(files["closure-dashboard.html"])) == {r.session_id for r in records}


def test_a_record_keeps_its_nested_part_under_its_own_key():
    loaded = load([str(ROOT / "fixtures" / "example")])
    for record in loaded.records:
        data = record_json(record)
        assert "body" not in data
        if hasattr(record, "body") and record.body is not None:
            assert NESTED_KEY[record.metadata_kind] in data


def test_script_unsafe_text_in_a_record_is_escaped_in_the_island():
    loaded = load([str(ROOT / "fixtures" / "example")])
    record = loaded.records[0].model_copy(update={"signer": "</script><!-- & x"})
    island = island_json([record])
    assert "</script" not in island and "<!--" not in island and "&" not in island
    assert json.loads(island)[record.session_id]["signer"] == "</script><!-- & x"


def test_timeline_events_cover_every_lane_of_the_retry_states_story(retry_states):
    loaded, _, _ = retry_states
    found = events(loaded.records)
    lanes = {(e.loop, e.lane) for e in found}
    for lane in ("failures", "retry_decisions", "worker_runs", "executions", "acknowledgements"):
        assert ("executive", lane) in lanes
    assert ("recovery", "deliveries") in lanes
    assert [e.at for e in found] == sorted(e.at for e in found)
    skipped = [e for e in found if e.outcome == "skipped"]
    assert skipped and all(e.tone == "fail" and "health_not_found" in e.note for e in skipped)


def test_charts_are_deterministic_svg_with_a_title_a_description_and_their_numbers():
    rows = [SeverityRow("Executive", 3, 1), SeverityRow("Recovery", 0, 2)]
    chart = severity_chart(rows)
    assert chart is not None and chart == severity_chart(rows)
    assert 'role="img"' in chart.svg and "<title id=" in chart.svg and "<desc id=" in chart.svg
    assert chart.rows == (("Executive", "3", "1", "4"), ("Recovery", "0", "2", "2"))
    assert "hatch" in chart.svg, "warning is hatched, not only coloured"
    assert severity_chart([]) is None and retry_chart([]) is None


def test_the_retry_chart_marks_a_provider_at_its_maximum_in_words():
    chart = retry_chart([RetryRow("slack", 2, 3, 3, 1, 0), RetryRow("webhook", 1, None, None, 0, 1)])
    assert chart is not None
    assert "3 of 3 ✖" in chart.svg and "no plan" in chart.svg
    assert "slack: 2 open chains, highest retry count 3 of 3, 1 at the maximum" in chart.caption


def test_a_timeline_of_many_events_counts_them_per_time_slot():
    start = datetime(2025, 6, 1, tzinfo=UTC)
    many = [
        Event(start + timedelta(minutes=i), "executive", "failures", "failed", "fail", f"s{i}", "")
        for i in range(MAX_MARKERS + 1)
    ]
    binned = timeline_chart("executive", "Executive", many)
    single = timeline_chart("executive", "Executive", many[:3])
    assert binned is not None and single is not None
    assert binned.columns[0] == "Lane" and binned.rows[0][2] == f"{MAX_MARKERS + 1:,}"
    assert single.columns[0] == "Time (UTC)" and len(single.rows) == 3
    assert binned.svg.count("<g>") == 0 and single.svg.count("<g>") == 3


def test_long_lists_are_split_with_a_note_saying_where_the_rest_is():
    short = page(list(range(PAGE_SIZE)), "rows")
    assert short.tail == () and short.note == ""
    long = page(list(range(PAGE_SIZE + 5)), "open items", "closure-dashboard.md")
    assert len(long.head) == PAGE_SIZE and long.tail == tuple(range(PAGE_SIZE, PAGE_SIZE + 5))
    assert (
        long.note
        == f"Showing the first {PAGE_SIZE} of {PAGE_SIZE + 5} open items; all of them are in closure-dashboard.md."
    )


def test_the_inline_script_never_closes_itself():
    body = str(environment().globals["script"].element)
    assert body.count("</script") == 1 and "<!--" not in body


def test_weasyprint_draws_the_charts_and_ignores_the_script_and_the_deferred_rows(retry_states):
    import weasyprint

    _, _, files = retry_states
    pdf = weasyprint.HTML(string=files["closure-dashboard.html"], base_url="https://reportgen.invalid/").write_pdf()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "highest retry count" in text and "Deliveries" in text and "Acknowledgements" in text
    assert "use strict" not in text and "gordackexechealthalert" in text
    assert "Clear filters" not in text
