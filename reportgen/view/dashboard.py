"""The dashboard's pictures and interactive parts: charts, filter choices, the cited records,
and the paging of long lists.

Everything here is computed once, on the server: the charts are SVG, the filter choices are the
values the page holds, and long lists are split into the rows shown at once and the rows kept in
a `<template>` for the page's script to show on demand (a reader without JavaScript, and the PDF,
see the first rows and a note saying where the rest are).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

from markupsafe import Markup

from reportgen.evidence.schema import Envelope
from reportgen.judge.counts import Timeline
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import EvidenceRef, OpenItem
from reportgen.view.charts import Chart, RetryRow, SeverityRow, retry_chart, severity_chart
from reportgen.view.cited import Event, cited_ids, cited_records, events, records_island
from reportgen.view.model import Choice, DashboardView, Filters
from reportgen.view.timeline import Days, counted_chart, timeline_chart
from reportgen.view.words import LOOP_TITLES, SEVERITY_LABELS, loop_order

T = TypeVar("T")
# Cited records the page embeds, the first cited first (open items, then warnings, then resolved
# chains); the others are named by file and line. More would make a page no browser opens quickly.
MAX_EMBEDDED = 2000


def dashboard_view(summary: Summary, records: Sequence[Envelope] = ()) -> DashboardView:
    """The dashboard's charts, filters and cited records."""
    cited = cited_records(cited_ids(embedded_refs(summary)), records)
    overview = (severity_chart(severity_rows(summary.closure.open_items)), retry_chart(retry_rows(summary)))
    counted = summary.counts.timeline
    return DashboardView(
        filters=filters(summary),
        overview=tuple(c for c in overview if c is not None),
        timelines=loop_timelines(counted, events(cited)),
        records_json=Markup(records_island(cited)),
        records=len(cited),
        counted=Days.of(counted) is not None,
    )


def loop_timelines(counted: Timeline | None, found: list[Event]) -> tuple[Chart, ...]:
    """Each loop's timeline: from the summary's day counts over the evidence span, else (a summary
    written before they were counted) from the cited records alone."""
    span = Days.of(counted)
    loops = {e.loop for e in found} | set(counted.loops if counted and span else ())
    charts = []
    for loop in sorted(loops, key=loop_order):
        mine, title = [e for e in found if e.loop == loop], LOOP_TITLES.get(loop, loop)
        lanes = counted.loops.get(loop) if counted and span else None
        chart = counted_chart(loop, title, lanes, span, mine) if lanes and span else timeline_chart(loop, title, mine)
        if chart is not None:
            charts.append(chart)
    return tuple(charts)


def all_refs(summary: Summary) -> list[EvidenceRef]:
    """Every evidence reference the dashboard shows: open items, warnings and resolved chains."""
    closure = summary.closure
    refs = [ref for item in closure.open_items for ref in item.evidence]
    refs += [ref for finding in closure.warnings for ref in finding.evidence]
    refs += [ref for chain in closure.resolved_chains for ref in (*chain.failed, chain.resolved_by)]
    return refs


def embedded_refs(summary: Summary) -> list[EvidenceRef]:
    """The cited records the dashboard embeds: the first MAX_EMBEDDED distinct ones."""
    chosen: dict[str, EvidenceRef] = {}
    for ref in all_refs(summary):
        if ref.session_id and ref.session_id not in chosen:
            if len(chosen) == MAX_EMBEDDED:
                break
            chosen[ref.session_id] = ref
    return list(chosen.values())


def filters(summary: Summary) -> Filters:
    """The filter choices: every loop and provider present, and both severities."""
    closure = summary.closure
    loops = {i.loop or "other" for i in closure.open_items} | {c.loop for c in closure.resolved_chains}
    providers = {i.provider for i in closure.open_items if i.provider} | {c.provider for c in closure.resolved_chains}
    return Filters(
        loops=tuple(Choice(loop, LOOP_TITLES.get(loop, loop)) for loop in sorted(loops, key=loop_order)),
        providers=tuple(Choice(p, p) for p in sorted(providers)),
        severities=tuple(Choice(s, f"{icon} {label}") for s, (label, icon) in SEVERITY_LABELS.items()),
    )


def severity_rows(items: Sequence[OpenItem]) -> list[SeverityRow]:
    """Open items per loop and severity, loops in the dashboard's order."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in items:
        counts[item.loop or "other"][item.severity != "critical"] += 1
    return [SeverityRow(LOOP_TITLES.get(loop, loop), *counts[loop]) for loop in sorted(counts, key=loop_order)]


def retry_rows(summary: Summary) -> list[RetryRow]:
    """Per provider, the open delivery chains and how far their retries got."""
    by_provider: dict[str, list[OpenItem]] = defaultdict(list)
    for item in summary.closure.open_items:
        if item.retry_state is not None and item.provider:
            by_provider[item.provider].append(item)
    return [retry_row(provider, by_provider[provider]) for provider in sorted(by_provider)]


def retry_row(provider: str, items: list[OpenItem]) -> RetryRow:
    """One provider's open chains, summed up."""
    counted = [i for i in items if i.retry_count is not None]
    maxima = [i.max_retry_attempts for i in counted if i.max_retry_attempts is not None]
    at_maximum = sum(i.max_retry_attempts is not None and (i.retry_count or 0) >= i.max_retry_attempts for i in counted)
    return RetryRow(
        provider=provider,
        chains=len(items),
        highest=max((i.retry_count or 0 for i in counted), default=None),
        maximum=max(maxima, default=None),
        at_maximum=at_maximum,
        without_plan=sum(i.retry_state == "no_retry_plan" for i in items),
    )

