"""The one builder of the view: every piece of a pack's view, computed from its summary in one pass."""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.evidence import sqlite_store
from reportgen.evidence.schema import Envelope
from reportgen.judge.history import Trend
from reportgen.judge.summary import Summary
from reportgen.view.counts import loop_counts, other_counts
from reportgen.view.dashboard import dashboard_view
from reportgen.view.fixes import chain_tallies, fix_views, numbered
from reportgen.view.inventory import inventory_view
from reportgen.view.items import chain_view, check_view, group_items, verdict_view, warning_view
from reportgen.view.model import PackInfo, ReportView
from reportgen.view.trend import TREND_SECTION, accepted_views, trend_view
from reportgen.view.words import DASHBOARD_SECTIONS, RUNBOOK_SECTIONS


def build_view(
    summary: Summary, pack: PackInfo, trend: Trend | None = None, records: Sequence[Envelope] = ()
) -> ReportView:
    """The view of one summary for one pack; with `trend`, its history, and `records`, the evidence the
    dashboard embeds where its findings cite it."""
    stores = sqlite_store.stores_of(summary.inputs.files)
    fixes = fix_views(summary.closure.open_items, summary.as_of)
    groups = numbered(group_items(summary.closure.open_items, summary.as_of, stores), summary.closure.open_items, fixes)
    trend_section = () if trend is None else (TREND_SECTION,)
    return ReportView(
        pack=pack,
        verdict=verdict_view(summary),
        groups=groups,
        items=tuple(item for group in groups for item in group.items),
        warnings=tuple(warning_view(w, stores) for w in summary.closure.warnings),
        checks=tuple(check_view(c) for c in summary.readiness.checks),
        chains=tuple(chain_view(c, stores) for c in summary.closure.resolved_chains),
        loop_counts=loop_counts(summary.counts),
        other_counts=other_counts(summary.counts),
        inventory=inventory_view(summary.inputs),
        dashboard_sections=DASHBOARD_SECTIONS,
        runbook_sections=RUNBOOK_SECTIONS,
        dashboard_contents=(*DASHBOARD_SECTIONS, *trend_section),
        accepted=accepted_views(summary),
        trend=None if trend is None else trend_view(trend, summary.as_of),
        dashboard=dashboard_view(summary, records),
        fixes=fixes,
        chain_tallies=chain_tallies(summary.closure.resolved_chains),
    )
