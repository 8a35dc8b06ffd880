"""The timeline of all the evidence: records per loop, lane and UTC day, counted while reading.

The summary's counts carry it, so the dashboard draws every record read, not only the cited ones;
summaries written before it was counted still read, and write back without it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
from evidence import A1, A3, EXEC_FAILED_EXECUTION, EXEC_RETRY_PLAN, example, generated, record, write_store

from reportgen.evidence import workers
from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.judge.history import compare, read_summary
from reportgen.judge.summary import Summary, schema_of, summarise, summarise_paths
from reportgen.view.charts import Chart, num
from reportgen.view.cited import events
from reportgen.view.dashboard import dashboard_view
from reportgen.view.timeline import timeline_chart

DAY = "2025-06-02"


def timeline_of(paths: list[str], jobs: int = 1, limits: Limits | None = None) -> dict:
    """The summary's timeline counts of these inputs, as written to summary.json."""
    loaded = load(paths, jobs=jobs, limits=limits)
    return json.loads(summarise(loaded).to_json())["counts"]["timeline"]


def test_records_are_counted_per_loop_lane_and_utc_day_as_counted_by_hand(tmp_path):
    records = example()
    record(records, EXEC_FAILED_EXECUTION)["created_at"] = "2025-06-03T00:00:00+00:00"
    record(records, A3)["created_at"] = "2025-06-01T23:59:59.999999+00:00"
    # 01:30 at +02:00 is 23:30 UTC the day before: days are UTC days.
    record(records, A1)["created_at"] = "2025-06-02T01:30:00+02:00"
    record(records, EXEC_RETRY_PLAN)["created_at"] = "2025-06-03T01:30:00+02:00"
    timeline = timeline_of([str(write_store(tmp_path / "store.json", records))])
    assert timeline == {
        "bucket": "day",
        "first": "2025-06-01",
        "last": "2025-06-03",
        "loops": {
            "executive": {
                "acknowledgements": {DAY: 1},
                "deliveries": {DAY: 1},
                "executions": {DAY: 1, "2025-06-03": 1},
                "failures": {"2025-06-01": 1},
                "retry_decisions": {DAY: 1},
                "worker_runs": {DAY: 1},
            },
            "recovery": {
                "acknowledgements": {DAY: 1},
                "deliveries": {DAY: 1},
                "executions": {DAY: 1},
                "failures": {"2025-06-01": 1},
                "retry_decisions": {DAY: 1},
                "worker_runs": {DAY: 1},
            },
        },
    }


def test_records_outside_the_alert_loops_are_not_on_the_timeline(tmp_path):
    records = [r for r in example() if "notification" in r["metadata_kind"] or "final-reporting" in r["metadata_kind"]]
    assert records
    assert timeline_of([str(write_store(tmp_path / "store.json", records))]) == {
        "bucket": "day",
        "first": DAY,
        "last": DAY,
        "loops": {},
    }


def test_ledgers_read_by_two_workers_merge_into_the_timeline_of_one(tmp_path_factory, monkeypatch):
    monkeypatch.setattr(workers, "SPLIT_BYTES", 64 * 1024)  # split the file by byte range
    path = str(generated(tmp_path_factory, 3000, profile="compact"))
    limits = Limits(max_record_bytes=64 * 1024)
    one, two = timeline_of([path], 1, limits), timeline_of([path], 2, limits)
    assert two == one
    total = sum(n for lanes in one["loops"].values() for days in lanes.values() for n in days.values())
    assert total > 1000


def test_the_timeline_counts_every_delivery_of_a_loop_on_the_deliveries_or_failures_lane(tmp_path_factory):
    summary = summarise(load([str(generated(tmp_path_factory, 3000, profile="compact"))]))
    timeline = summary.counts.timeline
    assert timeline is not None
    for loop, counts in summary.counts.loops.items():
        lanes = timeline.loops.get(loop, {})
        assert sum(lanes.get("deliveries", {}).values()) == counts.delivery_successes, loop
        assert sum(lanes.get("failures", {}).values()) == counts.delivery_failures, loop


def test_a_summary_written_before_the_timeline_was_counted_reads_and_writes_back_without_it(tmp_path):
    _, summary = summarise_paths([str(write_store(tmp_path / "store.json", example()))])
    data = json.loads(summary.to_json())
    del data["counts"]["timeline"]
    old = tmp_path / "summary.json"
    old.write_bytes(json.dumps(data).encode())
    read = read_summary(old)
    assert read.counts.timeline is None
    assert "timeline" not in json.loads(read.to_json())["counts"]
    assert not compare(read, summary).anything
    jsonschema.validate(data, schema_of("summary"))


def test_the_summary_schema_documents_the_timeline():
    timeline = schema_of("summary")["properties"]["counts"]["properties"]["timeline"]
    assert timeline["properties"]["bucket"]["const"] == "day"
    assert "YYYY-MM-DD" in timeline["properties"]["loops"]["description"]
    bad = {"bucket": "day", "loops": {"executive": {"deliveries": {DAY: "three"}}}}
    summary = json.loads(Summary.model_validate_json(summarise(load([])).to_json()).to_json())
    summary["counts"]["timeline"] = bad
    try:
        jsonschema.validate(summary, schema_of("summary"))
    except jsonschema.ValidationError:
        return
    raise AssertionError("a day's count that is not a number passed the schema")


def test_generated_evidence_is_counted_from_its_first_to_its_last_day(tmp_path_factory):
    path = Path(generated(tmp_path_factory, 3000, profile="compact"))
    days = sorted(day for line in path.read_text().splitlines() if (day := utc_day(line)))
    timeline = timeline_of([str(path)])
    counted = sorted({day for lanes in timeline["loops"].values() for found in lanes.values() for day in found})
    assert (timeline["first"], timeline["last"]) == (days[0], days[-1])
    assert days[0] <= counted[0] and counted[-1] <= days[-1] and len(counted) > 100


def utc_day(line: str) -> str | None:
    """The UTC day a line of NDJSON says its record was made, if it says so readably."""
    try:
        made = datetime.fromisoformat(json.loads(line)["created_at"])
    except (ValueError, TypeError, KeyError):
        return None
    return made.astimezone(UTC).date().isoformat() if made.tzinfo else made.date().isoformat()


# --- the dashboard's timeline charts ---------------------------------------------------------


def tick_labels(chart: Chart) -> list[tuple[float, float, str]]:
    """The (x, y, words) of the muted texts under the lanes of a chart: tick labels and the axis title."""
    found = re.findall(r'<text x="([\d.]+)" y="([\d.]+)"[^>]*class="f-muted"[^>]*>([^<]*)</text>', str(chart.svg))
    return [(float(x), float(y), words) for x, y, words in found if float(y) > 20]


def test_the_timeline_spans_the_evidence_from_its_first_to_its_last_day_with_deliveries(tmp_path_factory):
    loaded = load([str(generated(tmp_path_factory, 3000, profile="compact"))])
    summary = summarise(loaded)
    timeline = summary.counts.timeline
    view = dashboard_view(summary, loaded.records)
    assert view.counted and {c.id for c in view.timelines} == {f"chart-timeline-{loop}" for loop in timeline.loops}
    for chart in view.timelines:
        labels = [words for _, _, words in tick_labels(chart)]
        assert labels[0] == timeline.first and labels[-2] == timeline.last, chart.id
        assert labels[-1].startswith(f"UTC days, {timeline.first} to {timeline.last}")
        deliveries = next(row for row in chart.rows if row[0] == "Deliveries")
        assert int(deliveries[1].replace(",", "")) > 0
        assert "Deliveries: " in str(chart.svg)  # a bar's tooltip on the deliveries lane
        assert f"{timeline.first} to {timeline.last}" in chart.caption


def test_the_axis_title_sits_below_the_tick_labels_not_over_the_first(tmp_path_factory):
    loaded = load([str(generated(tmp_path_factory, 3000, profile="compact"))])
    many = [e for e in events(loaded.records) if e.loop == "executive"]
    for chart in (*dashboard_view(summarise(loaded), loaded.records).timelines, timeline_chart("executive", "E", many)):
        *ticks, title = tick_labels(chart)
        assert all(title[1] >= y + 11 for _, y, _ in ticks), chart.id
        assert f'height="{num(title[1] + 19)}"' in str(chart.svg).split(">", 1)[0], chart.id


def test_a_summary_without_the_timeline_counts_draws_the_cited_records_as_before(tmp_path):
    loaded = load([str(write_store(tmp_path / "store.json", example()))])
    summary = summarise(loaded)
    old = summary.model_copy(update={"counts": summary.counts.model_copy(update={"timeline": None})})
    before, now = dashboard_view(old, loaded.records), dashboard_view(summary, loaded.records)
    assert not before.counted and now.counted
    assert [c.id for c in before.timelines] == [c.id for c in now.timelines] == [
        "chart-timeline-executive",
        "chart-timeline-recovery",
    ]
    assert "Drawn from the records this dashboard cites" in before.timelines[0].caption
    assert "from every record read" in now.timelines[0].caption
