"""The view of accepted items and of the trend across packs.

Accepted items are shown with who accepted them and until when. The trend chart is an inline SVG
whose geometry is computed here, so the template only draws rectangles and labels and the same
history draws the same chart.
"""

from __future__ import annotations

from datetime import datetime

from reportgen.judge.history import Trend, TrendPoint
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem
from reportgen.view.model import AcceptedView, AgeView, Bar, ChartView, Label, Section, TrendRow, TrendView
from reportgen.view.words import LOOP_TITLES, SEVERITY_LABELS, count_text, duration, stamp

TREND_SECTION = Section("Trend", "trend")
SERIES = (("critical", "Critical", "#b42318"), ("warning", "Warning", "#b54708"), ("accepted", "Accepted", "#667085"))
BAR_WIDTH, BAR_GAP, PLOT_HEIGHT, MARGIN_LEFT, MARGIN_TOP, MARGIN_BOTTOM = 36, 24, 120, 40, 16, 40


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


def accepted_views(summary: Summary) -> tuple[AcceptedView, ...]:
    """Every item accepted as a deviation, numbered in the summary's order."""
    as_of = summary.as_of
    return tuple(accepted_view(n, i, as_of) for n, i in enumerate(summary.closure.accepted_items, start=1))


# --- the trend --------------------------------------------------------------------------------


def chart(points: tuple[TrendPoint, ...]) -> ChartView:
    """Stacked bars per pack (critical, warning, accepted), scaled to the largest total."""
    top = max([p.critical + p.warning + p.accepted for p in points] + [1])
    baseline = MARGIN_TOP + PLOT_HEIGHT
    bars, labels = (
        [],
        [Label(MARGIN_LEFT - 6, baseline, "0", "end"), Label(MARGIN_LEFT - 6, MARGIN_TOP + 4, count_text(top), "end")],
    )
    for number, point in enumerate(points):
        x, y = MARGIN_LEFT + BAR_GAP // 2 + number * (BAR_WIDTH + BAR_GAP), baseline
        for key, title, color in SERIES:
            count = getattr(point, key)
            height = round(count * PLOT_HEIGHT / top)
            if count:
                y -= height
                bars.append(Bar(x, y, BAR_WIDTH, height, color, f"{point.label}: {count_text(count)} {title.lower()}"))
        total = point.critical + point.warning + point.accepted
        labels.append(Label(x + BAR_WIDTH // 2, y - 4, count_text(total)))
        labels.append(Label(x + BAR_WIDTH // 2, baseline + 16, f"{point.as_of:%m-%d}"))
        labels.append(Label(x + BAR_WIDTH // 2, baseline + 30, "this" if point.current else f"#{number + 1}"))
    width = MARGIN_LEFT + len(points) * (BAR_WIDTH + BAR_GAP) + 8
    description = "; ".join(
        f"{p.label}: {count_text(p.critical)} critical, {count_text(p.warning)} warning, {count_text(p.accepted)} accepted" for p in points
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
