"""The dashboard's pictures, drawn on the server as inline SVG, with a text alternative each.

Charts are plain SVG markup: they show without JavaScript, in every browser and in the PDF.
Colours are presentation attributes (what WeasyPrint paints) plus classes the screen stylesheet
recolours for dark mode; every colour is repeated by a shape, a pattern or a word. Numbers are
written with one decimal, so the same view always gives the same bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import markupsafe
from markupsafe import Markup

from reportgen.evidence.text import plural
from reportgen.evidence.visible import show_controls
from reportgen.view.cited import LANES, Event

COLOURS = {
    "fail": "#a4161a",
    "warn": "#8a5300",
    "ok": "#1b6e3a",
    "info": "#1f4f8f",
    "ink": "#1d232b",
    "muted": "#5a6472",
    "line": "#d5dae1",
    "paper": "#ffffff",
}
FONT = "Noto Sans, Noto Sans Symbols2, DejaVu Sans, Liberation Sans, Arial, sans-serif"
TONE_WORDS = {"ok": "delivered or cleared", "fail": "failed, skipped or suppressed", "info": "other"}
# Above this many events a timeline counts events per time slot instead of drawing each one.
MAX_MARKERS = 160
# Characters of one line of text in a chart: more would run past its edge anyway.
MAX_LABEL = 80
BINS = 72


@dataclass(frozen=True)
class SeverityRow:
    """Open items of one loop, by severity."""

    label: str
    critical: int
    warning: int


@dataclass(frozen=True)
class RetryRow:
    """The open delivery chains of one provider and how far their retries got."""

    provider: str
    chains: int
    highest: int | None
    maximum: int | None
    at_maximum: int
    without_plan: int


@dataclass(frozen=True)
class Chart:
    """One picture: SVG, a caption in words, and its data as a table for screen readers."""

    id: str
    title: str
    caption: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    wide: bool = False
    note: str = ""


# --- SVG markup ------------------------------------------------------------------------------


def escape(value: object) -> Markup:
    """Text for SVG: escaped, its control characters shown as marks (see `reportgen.visible`)."""
    return markupsafe.escape(show_controls(str(value)))


def num(value: float) -> str:
    """A coordinate with at most one decimal."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def tag(name: str, body: str = "", **attrs: object) -> str:
    """One SVG element; attribute names use '_' for '-', a trailing '_' is dropped."""
    parts = [f' {key.rstrip("_").replace("_", "-")}="{escape(value)}"' for key, value in attrs.items()]
    opened = f"<{name}{''.join(parts)}"
    return f"{opened}>{body}</{name}>" if body else f"{opened}/>"


def text(x: float, y: float, words: str, size: float = 12, tone: str = "ink", **attrs: object) -> str:
    """A line of text, cut to what a chart has room for (its caption and table hold it whole)."""
    shown = words if len(words) <= MAX_LABEL else f"{words[: MAX_LABEL - 1]}…"
    return tag(
        "text",
        str(escape(shown)),
        x=num(x),
        y=num(y),
        font_size=num(size),
        fill=COLOURS[tone],
        class_=f"f-{tone}",
        **attrs,
    )


def rect(x: float, y: float, w: float, h: float, tone: str, **attrs: object) -> str:
    """A filled rectangle."""
    return tag(
        "rect", x=num(x), y=num(y), width=num(max(w, 0)), height=num(h), fill=COLOURS[tone], class_=f"f-{tone}", **attrs
    )


def hatch(pattern_id: str, tone: str) -> str:
    """A diagonal hatch pattern: a second signal besides colour."""
    stripe = rect(0, 0, 3, 6, tone)
    return tag(
        "pattern",
        stripe,
        id=pattern_id,
        width="6",
        height="6",
        patternUnits="userSpaceOnUse",
        patternTransform="rotate(45)",
    )


def svg(chart_id: str, title: str, caption: str, width: int, height: float, body: str) -> Markup:
    """The outer SVG element, named by its title and described by its caption."""
    head = tag("title", str(escape(title)), id=f"{chart_id}-title") + tag(
        "desc", str(escape(caption)), id=f"{chart_id}-desc"
    )
    return Markup(
        tag(
            "svg",
            head + body,
            viewBox=f"0 0 {width} {num(height)}",
            width=str(width),
            height=num(height),
            role="img",
            aria_labelledby=f"{chart_id}-title {chart_id}-desc",
            font_family=FONT,
            class_="chart-svg",
        )
    )


# --- open items by loop and severity ---------------------------------------------------------


def severity_chart(rows: Sequence[SeverityRow]) -> Chart | None:
    """Horizontal bars per loop: critical solid, warning hatched, with the counts written out."""
    if not rows:
        return None
    chart_id, width = "chart-open-items", 360
    top = max(r.critical + r.warning for r in rows) or 1
    scale = (width - 130) / top
    body = [tag("defs", hatch(f"{chart_id}-hatch", "warn")), *severity_legend(chart_id)]
    for i, row in enumerate(rows):
        y = 34 + i * 44
        body.append(text(0, y + 12, row.label, 12.5, font_weight="600"))
        body.append(rect(0, y + 19, row.critical * scale, 14, "fail"))
        body.append(rect(row.critical * scale, y + 19, row.warning * scale, 14, "warn", fill_opacity="0"))
        body.append(
            tag(
                "rect",
                x=num(row.critical * scale),
                y=num(y + 19),
                width=num(row.warning * scale),
                height="14",
                fill=f"url(#{chart_id}-hatch)",
            )
        )
        end = (row.critical + row.warning) * scale + 6
        body.append(text(end, y + 30.5, severity_words(row), 12))
    total = sum(r.critical + r.warning for r in rows)
    caption = (
        f"{plural(total, 'open item', grouped=True)} by loop: " + "; ".join(f"{r.label}: {severity_words(r)}" for r in rows) + "."
    )
    title = "Open items by loop and severity"
    table = tuple((r.label, str(r.critical), str(r.warning), str(r.critical + r.warning)) for r in rows)
    drawing = svg(chart_id, title, caption, width, 34 + len(rows) * 44, "".join(body))
    note = f"{plural(total, 'open item', grouped=True)}: solid bars are critical, hatched bars warning."
    return Chart(chart_id, title, caption, drawing, ("Loop", "Critical", "Warning", "Total"), table, note=note)


def severity_legend(chart_id: str) -> list[str]:
    """The key of the severity chart: solid is critical, hatched is warning."""
    return [
        rect(0, 4, 14, 12, "fail"),
        text(19, 14.5, "✖ Critical", 12),
        tag(
            "rect",
            x="104",
            y="4",
            width="14",
            height="12",
            fill=f"url(#{chart_id}-hatch)",
            stroke=COLOURS["warn"],
            class_="s-warn",
        ),
        text(123, 14.5, "⚠ Warning", 12),
    ]


def severity_words(row: SeverityRow) -> str:
    """'3 critical', '3 critical, 1 warning'."""
    words = [f"{row.critical:,} critical"] if row.critical or not row.warning else []
    return ", ".join(words + ([f"{row.warning:,} warning"] if row.warning else []))


# --- retries per provider against the maximum ------------------------------------------------


def retry_chart(rows: Sequence[RetryRow]) -> Chart | None:
    """Per provider, the highest retry count of its open chains as a bar, the maximum as a line."""
    if not rows:
        return None
    chart_id, width, track = "chart-retries", 360, 250
    top = max([r.maximum or 0 for r in rows] + [r.highest or 0 for r in rows] + [1])
    scale = track / top
    body = [*retry_legend()]
    for i, row in enumerate(rows):
        body.extend(retry_row(row, 34 + i * 44, scale, track))
    caption = "Retries used by the open delivery chains, per provider: " + "; ".join(map(retry_words, rows)) + "."
    title = "Retry attempts per provider against the maximum"
    columns = ("Provider", "Open chains", "Highest retry count", "Maximum", "At the maximum", "No retry plan")
    table = tuple(
        (r.provider, str(r.chains), dash(r.highest), dash(r.maximum), str(r.at_maximum), str(r.without_plan))
        for r in rows
    )
    drawing = svg(chart_id, title, caption, width, 34 + len(rows) * 44, "".join(body))
    note = "The highest retry count of each provider's open delivery chains, against the maximum attempts; ✖ marks a provider at the maximum."
    return Chart(chart_id, title, caption, drawing, columns, table, note=note)


def retry_legend() -> list[str]:
    """The key of the retry chart."""
    return [
        rect(0, 4, 14, 12, "info"),
        text(19, 14.5, "highest retry count", 12),
        tag("line", x1="152", y1="2", x2="152", y2="18", stroke=COLOURS["ink"], stroke_width="2.5", class_="s-ink"),
        text(158, 14.5, "maximum attempts", 12),
    ]


def retry_row(row: RetryRow, y: float, scale: float, track: float) -> list[str]:
    """One provider: name and chain count, the track, the bar, the maximum and the words."""
    label = f"{row.provider} · {plural(row.chains, 'open chain', grouped=True)}"
    parts = [text(0, y + 12, label, 12.5, font_weight="600"), rect(0, y + 19, track, 14, "line")]
    if row.highest is not None:
        exhausted = row.maximum is not None and row.highest >= row.maximum
        parts.append(rect(0, y + 19, row.highest * scale, 14, "fail" if exhausted else "info"))
    if row.maximum is not None:
        x = row.maximum * scale
        parts.append(
            tag(
                "line",
                x1=num(x),
                y1=num(y + 15),
                x2=num(x),
                y2=num(y + 37),
                stroke=COLOURS["ink"],
                stroke_width="2.5",
                class_="s-ink",
            )
        )
    parts.append(text(track + 8, y + 30.5, short_retry_words(row), 12))
    return parts


def short_retry_words(row: RetryRow) -> str:
    """'2 of 3', '3 of 3 ✖', or 'no plan'."""
    if row.highest is None:
        return "no plan"
    limit = f" of {row.maximum}" if row.maximum is not None else ""
    return f"{row.highest}{limit}" + (" ✖" if row.at_maximum else "")


def retry_words(row: RetryRow) -> str:
    """One provider in words."""
    if row.highest is None:
        return f"{row.provider}: {plural(row.chains, 'open chain', grouped=True)}, no retry planned"
    limit = f" of {row.maximum}" if row.maximum is not None else ""
    plan = f", {row.without_plan:,} without a retry plan" if row.without_plan else ""
    return (
        f"{row.provider}: {plural(row.chains, 'open chain', grouped=True)}, highest retry count {row.highest}{limit}, "
        f"{row.at_maximum:,} at the maximum{plan}"
    )


def dash(value: int | None) -> str:
    """A number, or '—'."""
    return "—" if value is None else str(value)


# --- a loop's timeline -----------------------------------------------------------------------

LEFT, RIGHT, LANE_TOP, LANE_HEIGHT = 124.0, 708.0, 30.0, 28.0


def timeline_chart(loop: str, title: str, found: Sequence[Event]) -> Chart | None:
    """Every cited event of one loop on one time axis, one lane per kind of event."""
    if not found:
        return None
    chart_id, width = f"chart-timeline-{loop}", 720
    start, end = span(found)
    binned = len(found) > MAX_MARKERS
    body = [tag("defs", hatch(f"{chart_id}-hatch", "fail")), *timeline_legend(chart_id, binned), *lanes()]
    body += bins(chart_id, found, start, end) if binned else [marker(e, x_of(e.at, start, end)) for e in found]
    body += axis(start, end)
    caption = timeline_words(found, start, end)
    full_title = f"Timeline: {title}"
    height = LANE_TOP + len(LANES) * LANE_HEIGHT + 40
    drawing = svg(chart_id, full_title, caption, width, height, "".join(body))
    columns, rows = timeline_table(found, binned)
    note = caption.split(". Drawn from", 1)[0] + "."
    return Chart(chart_id, full_title, caption, drawing, columns, rows, wide=True, note=note)


def span(found: Sequence[Event]) -> tuple[datetime, datetime]:
    """The time axis: first to last event, widened around a single instant."""
    start, end = found[0].at, found[-1].at
    if end - start < timedelta(minutes=2):
        middle = start + (end - start) / 2
        return middle - timedelta(minutes=1), middle + timedelta(minutes=1)
    return start, end


def x_of(at: datetime, start: datetime, end: datetime) -> float:
    """Where a time falls on the axis."""
    return LEFT + (RIGHT - LEFT) * ((at - start) / (end - start))


def lane_y(lane: str) -> float:
    """The middle of a lane."""
    return LANE_TOP + list(LANES).index(lane) * LANE_HEIGHT + LANE_HEIGHT / 2


def lanes() -> list[str]:
    """The lane names and their guide lines."""
    parts = []
    for lane, label in LANES.items():
        y = lane_y(lane)
        parts.append(text(0, y + 4, label, 12))
        parts.append(
            tag(
                "line",
                x1=num(LEFT),
                y1=num(y),
                x2=num(RIGHT),
                y2=num(y),
                stroke=COLOURS["line"],
                stroke_width="1",
                class_="s-line",
            )
        )
    return parts


def marker(event: Event, x: float) -> str:
    """One event, with its time, outcome and record as a tooltip."""
    label = f"{event.at:%Y-%m-%d %H:%M:%S} UTC · {LANES[event.lane]}: {event.outcome}"
    note = f" · {event.note}" if event.note else ""
    tip = tag("title", str(escape(f"{label}{note} · {event.session_id}")))
    return tag("g", tip + shape(event.tone, x, lane_y(event.lane)))


def shape(tone: str, x: float, y: float) -> str:
    """A dot when it went well, a cross when it failed, a hollow diamond otherwise."""
    if tone == "ok":
        return tag("circle", cx=num(x), cy=num(y), r="5", fill=COLOURS["ok"], class_="f-ok")
    if tone == "fail":
        a, b = 4.5, 4.5
        path = (
            f"M{num(x - a)} {num(y - b)}L{num(x + a)} {num(y + b)}M{num(x - a)} {num(y + b)}L{num(x + a)} {num(y - b)}"
        )
        return tag("path", d=path, stroke=COLOURS["fail"], stroke_width="2.6", class_="s-fail")
    path = f"M{num(x)} {num(y - 5.5)}L{num(x + 5.5)} {num(y)}L{num(x)} {num(y + 5.5)}L{num(x - 5.5)} {num(y)}Z"
    return tag("path", d=path, fill=COLOURS["paper"], stroke=COLOURS["info"], stroke_width="2", class_="f-paper s-info")


def bins(chart_id: str, found: Sequence[Event], start: datetime, end: datetime) -> list[str]:
    """Many events: per lane and time slot, a bar as tall as its count, failures hatched at the base."""
    counts: Counter[tuple[str, int, str]] = Counter()
    for e in found:
        slot = min(int((e.at - start) / (end - start) * BINS), BINS - 1)
        counts[(e.lane, slot, e.tone)] += 1
    slot_width = (RIGHT - LEFT) / BINS
    parts = []
    for lane in LANES:
        top = max((sum(counts[(lane, s, t)] for t in TONE_WORDS) for s in range(BINS)), default=0) or 1
        base = lane_y(lane) + LANE_HEIGHT / 2 - 3
        for slot in range(BINS):
            parts += slot_bar(chart_id, counts, lane, slot, LEFT + slot * slot_width, base, (LANE_HEIGHT - 6) / top)
    return parts


def slot_bar(chart_id: str, counts: Counter, lane: str, slot: int, x: float, base: float, unit: float) -> list[str]:
    """The stacked bar of one lane's time slot."""
    parts, y = [], base
    width = (RIGHT - LEFT) / BINS - 1.5
    for tone in ("fail", "ok", "info"):
        count = counts[(lane, slot, tone)]
        if not count:
            continue
        y -= count * unit
        fill = f"url(#{chart_id}-hatch)" if tone == "fail" else COLOURS[tone]
        parts.append(
            tag(
                "rect",
                x=num(x),
                y=num(y),
                width=num(width),
                height=num(count * unit),
                fill=fill,
                class_="" if tone == "fail" else f"f-{tone}",
            )
        )
    return parts


def timeline_legend(chart_id: str, binned: bool) -> list[str]:
    """The key: which shape (or fill) means what."""
    if binned:
        return [
            rect(LEFT, 4, 12, 12, "ok"),
            text(LEFT + 17, 14.5, "delivered or cleared", 12),
            tag("rect", x=num(LEFT + 160), y="4", width="12", height="12", fill=f"url(#{chart_id}-hatch)"),
            text(LEFT + 177, 14.5, "failed, skipped or suppressed", 12),
            rect(LEFT + 372, 4, 12, 12, "info"),
            text(LEFT + 389, 14.5, "other · bar height: events per slot", 12),
        ]
    return [
        shape("ok", LEFT + 6, 10),
        text(LEFT + 17, 14.5, "delivered or cleared", 12),
        shape("fail", LEFT + 166, 10),
        text(LEFT + 177, 14.5, "failed, skipped or suppressed", 12),
        shape("info", LEFT + 378, 10),
        text(LEFT + 389, 14.5, "other (retry, wait, run, open ack)", 12),
    ]


def axis(start: datetime, end: datetime) -> list[str]:
    """Five ticks with times, and the axis title saying the zone and the dates."""
    y = LANE_TOP + len(LANES) * LANE_HEIGHT + 4
    days = end - start > timedelta(days=2)
    parts = [tag("line", x1=num(LEFT), y1=num(y), x2=num(RIGHT), y2=num(y), stroke=COLOURS["muted"], class_="s-muted")]
    for i in range(5):
        at = start + (end - start) * (i / 4)
        x = LEFT + (RIGHT - LEFT) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            tag("line", x1=num(x), y1=num(y), x2=num(x), y2=num(y + 4), stroke=COLOURS["muted"], class_="s-muted")
        )
        parts.append(text(x, y + 16, f"{at:%Y-%m-%d}" if days else f"{at:%H:%M}", 11, "muted", text_anchor=anchor))
    when = f"{start:%Y-%m-%d} to {end:%Y-%m-%d}" if days or start.date() != end.date() else f"{start:%Y-%m-%d}"
    parts.append(text(0, y + 16, f"UTC, {when}", 11, "muted"))
    return parts


def timeline_words(found: Sequence[Event], start: datetime, end: datetime) -> str:
    """The timeline in words: how many events of each lane, and over what time."""
    per_lane = Counter(e.lane for e in found)
    lanes_text = ", ".join(f"{LANES[lane].lower()} {per_lane[lane]:,}" for lane in LANES if per_lane[lane])
    failed = sum(e.tone == "fail" for e in found)
    return (
        f"{plural(len(found), 'event', grouped=True)} from {found[0].at:%Y-%m-%d %H:%M} to {found[-1].at:%Y-%m-%d %H:%M} UTC "
        f"({lanes_text}); {failed:,} failed, skipped or suppressed. Drawn from the records this dashboard cites "
        "as evidence, not from every record read."
    )


def timeline_table(found: Sequence[Event], binned: bool) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    """The timeline's data: every event, or per lane the counts by outcome when there are many."""
    if not binned:
        columns = ("Time (UTC)", "Lane", "Outcome", "Detail", "Record")
        rows = tuple((f"{e.at:%Y-%m-%d %H:%M:%S}", LANES[e.lane], e.outcome, e.note, e.session_id) for e in found)
        return columns, rows
    columns = ("Lane", "Delivered or cleared", "Failed, skipped or suppressed", "Other", "First (UTC)", "Last (UTC)")
    table = []
    for lane, label in LANES.items():
        mine = [e for e in found if e.lane == lane]
        if mine:
            tones = Counter(e.tone for e in mine)
            first, last = f"{mine[0].at:%Y-%m-%d %H:%M}", f"{mine[-1].at:%Y-%m-%d %H:%M}"
            table.append((label, f"{tones['ok']:,}", f"{tones['fail']:,}", f"{tones['info']:,}", first, last))
    return columns, tuple(table)
