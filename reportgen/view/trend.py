"""The view of accepted items and of the trend across packs, added to a pack's view.

Accepted items are shown with who accepted them and until when; items reopened by an expired
waiver say so among their facts. The trend chart is an inline SVG whose geometry is computed
here, so the template only draws rectangles and labels and the same history draws the same chart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from reportgen.judge.history import Trend, TrendPoint
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem
from reportgen.view.model import (
    LOOP_TITLES,
    SEVERITY_LABELS,
    Fact,
    ItemView,
    LoopGroup,
    ReportView,
    Section,
    Stamp,
    duration,
    plural,
    stamp,
)

TREND_SECTION = Section("Trend", "trend")
SERIES = (("critical", "Critical", "#b42318"), ("warning", "Warning", "#b54708"), ("accepted", "Accepted", "#667085"))
BAR_WIDTH, BAR_GAP, PLOT_HEIGHT, MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM = 36, 24, 120, 40, 16, 40


@dataclass(frozen=True)
class AcceptedView:
    """One item accepted as a deviation: what it is, and who accepted it until when."""

    number: int
    id: str
    code: str
    title: str
    severity_label: str
    severity_icon: str
    loop_title: str
    provider: str
    health_id: str
    waiver_id: str
    approved_by: str
    approved_at: Stamp
    expires_at: Stamp
    expires_in: str
    justification: str


@dataclass(frozen=True)
class Bar:
    """One rectangle of the trend chart, with the count it stands for."""

    x: int
    y: int
    width: int
    height: int
    color: str
    title: str


@dataclass(frozen=True)
class Label:
    """A text of the trend chart, anchored at (x, y)."""

    x: int
    y: int
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class ChartView:
    """The trend chart: stacked bars per pack, axis labels and a legend."""

    width: int
    height: int
    baseline: int
    axis_left: int
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    legend: tuple[tuple[str, str], ...]
    description: str


@dataclass(frozen=True)
class TrendRow:
    """One pack of the trend as a table row."""

    label: str
    as_of: Stamp
    critical: int
    warning: int
    accepted: int
    current: bool


@dataclass(frozen=True)
class AgeView:
    """How long one open item has been open, across packs."""

    title: str
    code: str
    provider: str
    since: Stamp
    open_for: str
    packs: int


@dataclass(frozen=True)
class TrendView:
    """The trend section: chart, table, changes since the previous pack, and open items' ages."""

    section: Section
    chart: ChartView
    rows: tuple[TrendRow, ...]
    previous: str
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    changed: tuple[str, ...]
    ages: tuple[AgeView, ...]
    unreadable: tuple[str, ...]


# --- accepted items ---------------------------------------------------------------------------


def accepted_view(number: int, item: OpenItem, as_of: datetime) -> AcceptedView:
    """One accepted item, ready to show."""
    label, icon = SEVERITY_LABELS[item.severity]
    waiver = item.waiver
    return AcceptedView(
        number=number,
        id=item.id,
        code=item.code,
        title=item.title,
        severity_label=label,
        severity_icon=icon,
        loop_title=LOOP_TITLES.get(item.loop or "", item.loop or "Other"),
        provider=item.provider or "—",
        health_id=item.health_id or "—",
        waiver_id=waiver.id if waiver else "—",
        approved_by=waiver.approved_by if waiver else "—",
        approved_at=stamp(waiver.approved_at if waiver else None),
        expires_at=stamp(waiver.expires_at if waiver else None),
        expires_in=duration(waiver.expires_at - as_of) if waiver else "—",
        justification=waiver.justification if waiver else "—",
    )


def with_expiry(view: ItemView, item: OpenItem) -> ItemView:
    """An open item's view, saying which waiver expired when one reopened it."""
    if not item.waiver_expired:
        return view
    return replace(view, facts=(*view.facts, Fact("Waiver expired", f"{item.waiver_expired}: open again")))


def reopened(view: ReportView, summary: Summary) -> ReportView:
    """The view with every item reopened by an expired waiver marked as such."""
    by_id = {i.id: i for i in summary.closure.open_items}
    groups: tuple[LoopGroup, ...] = tuple(
        replace(g, items=tuple(with_expiry(i, by_id[i.id]) for i in g.items)) for g in view.groups
    )
    return replace(view, groups=groups, items=tuple(i for g in groups for i in g.items))


def open_text(view: ReportView, accepted: int) -> str:
    """The verdict's open-items text, naming the accepted items too."""
    return f"{view.verdict.open_text}; {plural(accepted, 'item')} accepted as deviations"


# --- the trend --------------------------------------------------------------------------------


def chart(points: tuple[TrendPoint, ...]) -> ChartView:
    """Stacked bars per pack (critical, warning, accepted), scaled to the largest total."""
    top = max([p.critical + p.warning + p.accepted for p in points] + [1])
    baseline = MARGIN_TOP + PLOT_HEIGHT
    bars, labels = (
        [],
        [Label(MARGIN_LEFT - 6, baseline, "0", "end"), Label(MARGIN_LEFT - 6, MARGIN_TOP + 4, str(top), "end")],
    )
    for number, point in enumerate(points):
        x, y = MARGIN_LEFT + BAR_GAP // 2 + number * (BAR_WIDTH + BAR_GAP), baseline
        for key, title, color in SERIES:
            count = getattr(point, key)
            height = round(count * PLOT_HEIGHT / top)
            if count:
                y -= height
                bars.append(Bar(x, y, BAR_WIDTH, height, color, f"{point.label}: {count} {title.lower()}"))
        total = point.critical + point.warning + point.accepted
        labels.append(Label(x + BAR_WIDTH // 2, y - 4, str(total)))
        labels.append(Label(x + BAR_WIDTH // 2, baseline + 16, f"{point.as_of:%m-%d}"))
        labels.append(Label(x + BAR_WIDTH // 2, baseline + 30, "this" if point.current else f"#{number + 1}"))
    width = MARGIN_LEFT + len(points) * (BAR_WIDTH + BAR_GAP) + 8
    description = "; ".join(
        f"{p.label}: {p.critical} critical, {p.warning} warning, {p.accepted} accepted" for p in points
    )
    legend = tuple((title, color) for _, title, color in SERIES)
    return ChartView(
        width, baseline + MARGIN_BOTTOM, baseline, MARGIN_LEFT - 2, tuple(bars), tuple(labels), legend, description
    )


def item_text(item: OpenItem) -> str:
    """An item in a change list."""
    return f"{item.title} ({item.code}; provider {item.provider or '—'}; health id {item.health_id or '—'})"


def trend_view(trend: Trend, as_of: datetime) -> TrendView:
    """The trend section of the dashboard."""
    changes = trend.changes
    rows = tuple(TrendRow(p.label, stamp(p.as_of), p.critical, p.warning, p.accepted, p.current) for p in trend.points)
    ages = tuple(
        AgeView(o.item.title, o.item.code, o.item.provider or "—", stamp(o.since), duration(as_of - o.since), o.packs)
        for o in trend.open_since
    )
    return TrendView(
        section=TREND_SECTION,
        chart=chart(trend.points),
        rows=rows,
        previous=trend.previous or "",
        opened=tuple(item_text(i) for i in changes.opened) if changes else (),
        closed=tuple(item_text(i) for i in changes.closed) if changes else (),
        changed=tuple(f"{item_text(c.item)}: {c.before} → {c.after}" for c in changes.changed) if changes else (),
        ages=ages,
        unreadable=trend.unreadable,
    )


def extend_view(view: ReportView, summary: Summary, trend: Trend | None = None) -> ReportView:
    """The pack's view with its accepted items, reopened items and (with history) the trend."""
    as_of = summary.as_of
    accepted = tuple(accepted_view(n, i, as_of) for n, i in enumerate(summary.closure.accepted_items, start=1))
    view = reopened(view, summary)
    if accepted:
        view = replace(view, accepted=accepted, verdict=replace(view.verdict, open_text=open_text(view, len(accepted))))
    if trend is not None:
        sections = (*view.dashboard_sections, TREND_SECTION)
        view = replace(view, trend=trend_view(trend, as_of), dashboard_sections=sections)
    return view
