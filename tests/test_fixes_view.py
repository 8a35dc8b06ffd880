"""The view's groups of what fixes the open items, its tallies of resolved chains, and the bounded
lists of a Markdown document."""

from __future__ import annotations

from dataclasses import dataclass

from evidence import EXAMPLE_STORE

from reportgen.evidence.load import load
from reportgen.judge.groups import group_items
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, pack_info
from reportgen.view.build import build_view
from reportgen.view.fixes import action_text, chain_tallies
from reportgen.view.lists import listed


@dataclass(frozen=True)
class Row:
    name: str
    severity: str
    age_seconds: int


def test_a_list_within_its_limit_is_shown_whole_without_a_note():
    rows = (Row("a", "warning", 5), Row("b", "critical", 1))
    assert listed(rows, "open items", "x.html", 2).rows == rows
    assert listed(rows, "open items", "x.html", 2).note == ""


def test_a_long_list_keeps_the_most_severe_then_the_oldest_in_the_order_shown_and_says_where_the_rest_is():
    rows = (Row("a", "warning", 500), Row("b", "critical", 1), Row("c", "critical", 50), Row("d", "critical", -1))
    kept = listed(rows, "open items", "x.html and summary.json", 2)
    assert [r.name for r in kept.rows] == ["b", "c"]
    assert kept.note == (
        "This document lists 2 of 4 open items (the most severe, then the oldest); the other 2 are in x.html and summary.json."
    )


def test_a_long_list_without_severities_keeps_its_first_rows():
    kept = listed(("x", "y", "z"), "files", "summary.json", 1)
    assert kept.rows == ("x",) and "(the first, in the order shown); the other 2 are in summary.json." in kept.note


def test_the_view_leads_with_groups_whose_counts_cover_every_item_and_each_item_names_its_group():
    summary = summarise(load([str(EXAMPLE_STORE)]))
    view = build_view(summary, pack_info(summary, PackOptions()))
    groups = group_items(summary.closure.open_items)
    assert [(f.code, f.count) for f in view.fixes] == [(g.code, g.count) for g in groups]
    assert sum(f.count for f in view.fixes) == len(view.items)
    by_number = {f.number: f for f in view.fixes}
    assert all(by_number[i.fix].code == i.code and by_number[i.fix].provider_key == (i.provider_key) for i in view.items)
    assert [f.anchor for f in view.fixes] == [f"fix-{n}" for n in range(1, len(groups) + 1)]


def test_resolved_chains_are_counted_by_loop_and_provider():
    summary = summarise(load([str(EXAMPLE_STORE)]))
    tallies = chain_tallies(summary.closure.resolved_chains)
    assert sum(t.chains for t in tallies) == len(summary.closure.resolved_chains)
    assert sum(t.failures for t in tallies) == sum(c.failures for c in summary.closure.resolved_chains)


def test_the_action_text_says_one_action_fixes_the_group_and_whose_action_is_shown():
    assert action_text(1, True) == "One action fixes 1 open item"
    assert action_text(1200, False).startswith("One action fixes 1,200 open items (each item names its own details")
