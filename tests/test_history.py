"""History: the trend over earlier packs, changes since the previous pack, and how long items stay open."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from packs import build, shared_weeks

from reportgen.judge.history import compare, load_history, read_summary, trend
from reportgen.view.trend import chart

SLACK_DELIVERY = "executive_retry_health_alert_delivery_failed"


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """Three weekly packs, each built with the earlier ones as its history."""
    return shared_weeks(tmp_path_factory)


def test_the_trend_counts_open_items_by_severity_over_three_packs(weeks):
    text = (weeks[2] / "closure-dashboard.md").read_text()
    section = text[text.index("## Trend") :]
    assert "| 1 | w1 | 2025-06-03 00:00:00 UTC | 11 | 0 | 0 |" in section
    assert "| 2 | w2 | 2025-06-10 00:00:00 UTC | 2 | 0 | 0 |" in section
    assert "| this | this pack | 2025-06-17 00:00:00 UTC | 2 | 0 | 0 |" in section
    assert "- [Trend](#trend)" in text


def test_items_open_across_packs_say_since_when(weeks):
    text = (weeks[2] / "closure-dashboard.md").read_text()
    ages = text[text.index("### How long each open item has been open") :]
    rows = [line for line in ages.splitlines() if SLACK_DELIVERY.replace("_", "\\_") in line or SLACK_DELIVERY in line]
    assert rows and "2025-06-03 00:00:00 UTC | 14d 0h | 3 |" in rows[0]


def test_changes_since_the_previous_pack_are_listed(weeks):
    second = (weeks[1] / "closure-dashboard.md").read_text()
    assert "### Since the previous pack (w1)" in second
    assert "**Opened (0)**" in second and "**Closed (9)**" in second
    third = (weeks[2] / "closure-dashboard.md").read_text()
    assert "**Opened (0)**" in third and "**Closed (0)**" in third


def test_the_html_trend_is_an_inline_svg_chart(weeks):
    html = (weeks[2] / "closure-dashboard.html").read_text()
    svg = re.search(r"<svg.*?</svg>", html[html.index('<section id="trend">') :], re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 3  # one critical bar per pack
    assert "http://" not in svg.group(0).replace("http://www.w3.org/2000/svg", "")


def test_a_pack_built_with_the_same_history_is_byte_identical(weeks, tmp_path):
    history = weeks[0].parent
    again = build(tmp_path / "w3", "exhausted", "2025-06-17T00:00:00Z", "--history", str(history))
    for name in ("closure-dashboard.html", "closure-dashboard.md", "summary.json"):
        assert (again / name).read_bytes() == (weeks[2] / name).read_bytes()


def test_the_first_pack_says_there_is_no_earlier_pack_and_without_history_there_is_no_trend(weeks, tmp_path):
    first = (weeks[0] / "closure-dashboard.md").read_text()
    assert "No earlier pack was found in the history folder." in first
    plain = build(tmp_path / "plain", "exhausted", "2025-06-17T00:00:00Z")
    assert "Trend" not in (plain / "closure-dashboard.md").read_text()


def test_history_reads_only_earlier_packs_and_lists_unreadable_summaries(weeks, tmp_path):
    root = tmp_path / "history"
    for pack in weeks:
        shutil.copytree(pack, root / pack.name)
    shutil.copytree(weeks[0], root / ".git" / "w1-copy")
    (root / "broken").mkdir()
    (root / "broken" / "summary.json").write_text("{}")
    history = load_history(root, before=datetime(2025, 6, 17, tzinfo=UTC))
    assert [p.label for p in history.packs] == ["w1", "w2"]
    assert history.unreadable == ("broken/summary.json",)
    everything = load_history(root)
    assert [p.label for p in everything.packs] == ["w1", "w2", "w3"]


def test_open_since_counts_the_unbroken_run_of_packs(weeks):
    history = load_history(weeks[0].parent, before=datetime(2025, 6, 17, tzinfo=UTC))
    current = read_summary(weeks[2])
    result = trend(history, current)
    assert {o.packs for o in result.open_since} == {3}
    assert {o.since for o in result.open_since} == {datetime(2025, 6, 3, tzinfo=UTC)}
    assert [p.critical for p in result.points] == [11, 2, 2]


def test_compare_finds_opened_closed_and_changed_items_by_id(weeks):
    first, second = read_summary(weeks[0]), read_summary(weeks[1])
    forward = compare(first, second)
    assert len(forward.closed) == 9 and not forward.opened
    assert all(i.status == "closed" for i in forward.closed)
    (changed,) = [c for c in forward.changed if c.item.code == SLACK_DELIVERY]
    assert changed.before == "retry_state=dry_run_only" and changed.after == "retry_state=exhausted"
    backward = compare(second, first)
    assert len(backward.opened) == 9 and not backward.closed


def test_the_chart_is_deterministic_and_scaled_to_the_largest_pack(weeks):
    history = load_history(weeks[0].parent, before=datetime(2025, 6, 17, tzinfo=UTC))
    points = trend(history, read_summary(weeks[2])).points
    assert chart(points) == chart(points)
    tallest = max(chart(points).bars, key=lambda b: b.height)
    assert tallest.height == 120 and tallest.title == "w1: 11 critical"
