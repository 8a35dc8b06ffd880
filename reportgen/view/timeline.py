"""A loop's timeline: one lane per kind of event (kinds.LANES) on one UTC time axis, as inline SVG.

Drawn from the summary's timeline counts (records per loop, lane and UTC day, of every record
read) over the whole evidence span, with the records the dashboard cites marked on it. A summary
written before those counts existed has only its cited records, so its timeline shows them alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from reportgen.evidence.text import plural
from reportgen.judge.counts import Timeline
from reportgen.view.charts import COLOURS, Chart, escape, hatch, num, rect, svg, tag, text
from reportgen.view.cited import LANES, Event

TONE_WORDS = {"ok": "delivered or cleared", "fail": "failed, skipped or suppressed", "info": "other"}
# Above this many events a timeline counts events per time slot instead of drawing each one.
MAX_MARKERS = 160
BINS = 72

LEFT, RIGHT, LANE_TOP, LANE_HEIGHT = 124.0, 708.0, 30.0, 28.0
# Below the lanes: the axis, a line of tick labels and, on a line of its own, the axis title (on
# the tick labels' line it ran into the first of them).
AXIS_HEIGHT = 54


def timeline_chart(loop: str, title: str, found: Sequence[Event]) -> Chart | None:
    """Every cited event of one loop on one time axis, one lane per kind of event."""
    if not found:
        return None
    chart_id, width = f"chart-timeline-{loop}", 720
    start, end = span(found)
    binned = len(found) > MAX_MARKERS
    body = [tag("defs", hatch(f"{chart_id}-hatch", "fail")), *timeline_legend(chart_id, binned), *lane_guides()]
    body += bins(chart_id, found, start, end) if binned else [marker(e, x_of(e.at, start, end)) for e in found]
    body += axis(start, end)
    caption = timeline_words(found, start, end)
    full_title = f"Timeline: {title}"
    height = LANE_TOP + len(LANES) * LANE_HEIGHT + AXIS_HEIGHT
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


def lane_guides() -> list[str]:
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
            *swatch(chart_id, LEFT, "ok", "delivered or cleared"),
            *swatch(chart_id, LEFT + 160, "hatch", "failed, skipped or suppressed"),
            *swatch(chart_id, LEFT + 372, "info", "other · bar height: events per slot"),
        ]
    return [
        shape("ok", LEFT + 6, 10),
        text(LEFT + 17, 14.5, "delivered or cleared", 12),
        shape("fail", LEFT + 166, 10),
        text(LEFT + 177, 14.5, "failed, skipped or suppressed", 12),
        shape("info", LEFT + 378, 10),
        text(LEFT + 389, 14.5, "other (retry, wait, run, open ack)", 12),
    ]


def swatch(chart_id: str, x: float, fill: str, label: str) -> list[str]:
    """One entry of a key: a 12 px swatch of FILL ("hatch": the chart's failure pattern) and its label."""
    if fill == "hatch":
        box = tag("rect", x=num(x), y="4", width="12", height="12", fill=f"url(#{chart_id}-hatch)")
    else:
        box = rect(x, 4, 12, 12, fill)
    return [box, text(x + 17, 14.5, label, 12)]


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
    parts.append(axis_title(f"UTC, {when}"))
    return parts


def axis_title(words: str) -> str:
    """The axis title, on its own line under the tick labels."""
    return text(LEFT, LANE_TOP + len(LANES) * LANE_HEIGHT + 35, words, 11, "muted")


def timeline_words(found: Sequence[Event], start: datetime, end: datetime) -> str:
    """The timeline in words: how many events of each lane, and over what time."""
    per_lane = Counter(e.lane for e in found)
    lanes_text = ", ".join(f"{LANES[lane].lower()} {per_lane[lane]:,}" for lane in LANES if per_lane[lane])
    failed = sum(e.tone == "fail" for e in found)
    return (
        f"{plural(len(found), 'event')} from {found[0].at:%Y-%m-%d %H:%M} to {found[-1].at:%Y-%m-%d %H:%M} UTC "
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


# --- a loop's timeline from the summary's day counts ------------------------------------------

# The fill of each lane's bars; the other lanes' records are neither a delivery nor a failure.
LANE_TONES = {"deliveries": "ok", "failures": "fail"}


@dataclass(frozen=True)
class Days:
    """The evidence span in UTC days, and how many days one bar of a timeline covers."""

    first: date
    days: int
    per_bar: int

    @classmethod
    def of(cls, counted: Timeline | None) -> Days | None:
        """The span of the summary's timeline counts: its first to last day, or None without any."""
        found = sorted(
            {day for lanes in (counted.loops if counted else {}).values() for d in lanes.values() for day in d}
        )
        if counted is None or not found:
            return None
        first = min(found[0], counted.first or found[0])
        last = max(found[-1], counted.last or found[-1])
        days = (date.fromisoformat(last) - date.fromisoformat(first)).days + 1
        return cls(date.fromisoformat(first), days, -(-days // BINS))

    @property
    def start(self) -> datetime:
        """The span's first instant, midnight UTC of its first day."""
        return datetime.combine(self.first, time(), UTC)

    def x(self, days: float) -> float:
        """Where a point this many days into the span falls on the axis."""
        return LEFT + (RIGHT - LEFT) * days / self.days

    def unit(self) -> str:
        """What one bar covers, in words."""
        return "day" if self.per_bar == 1 else f"{self.per_bar} days"


def counted_chart(loop: str, title: str, lanes: dict[str, dict[str, int]], span: Days, found: Sequence[Event]) -> Chart:
    """One loop's records per lane over the whole evidence span, from the day counts; cited records marked."""
    chart_id, width = f"chart-timeline-{loop}", 720
    per_bar = bar_counts(lanes, span)
    marked = found if len(found) <= MAX_MARKERS else ()
    end = span.start + timedelta(days=span.days)
    body = [
        tag("defs", hatch(f"{chart_id}-hatch", "fail")),
        *counted_legend(chart_id, span, bool(marked)),
        *lane_guides(),
    ]
    body += counted_bars(chart_id, per_bar, span)
    body += [marker(e, min(max(x_of(e.at, span.start, end), LEFT), RIGHT)) for e in marked]
    body += day_axis(span)
    caption = counted_words(lanes, span, len(found), len(marked))
    full_title = f"Timeline: {title}"
    drawing = svg(
        chart_id, full_title, caption, width, LANE_TOP + len(LANES) * LANE_HEIGHT + AXIS_HEIGHT, "".join(body)
    )
    columns = ("Lane", "Records", "First day (UTC)", "Last day (UTC)", "Most in one day")
    rows = tuple(counted_row(lane, lanes[lane]) for lane in LANES if lanes.get(lane))
    return Chart(chart_id, full_title, caption, drawing, columns, rows, wide=True, note=caption)


def bar_counts(lanes: dict[str, dict[str, int]], span: Days) -> Counter[tuple[str, int]]:
    """The day counts re-binned to the chart's bars: records per (lane, bar)."""
    counts: Counter[tuple[str, int]] = Counter()
    for lane, days in lanes.items():
        if lane in LANES:
            for day, n in days.items():
                counts[(lane, (date.fromisoformat(day) - span.first).days // span.per_bar)] += n
    return counts


def counted_bars(chart_id: str, counts: Counter[tuple[str, int]], span: Days) -> list[str]:
    """Per lane, a bar per time slot as tall as its records (against the lane's busiest slot), with its numbers."""
    tops: Counter[str] = Counter()
    for (lane, _), n in counts.items():
        tops[lane] = max(tops[lane], n)
    parts = []
    for (lane, bar), n in sorted(counts.items(), key=lambda item: (list(LANES).index(item[0][0]), item[0][1])):
        top = tops[lane]
        left, right = span.x(bar * span.per_bar), span.x(min((bar + 1) * span.per_bar, span.days))
        height = max((LANE_HEIGHT - 6) * n / top, 1.0)  # one record still shows
        base = lane_y(lane) + LANE_HEIGHT / 2 - 3
        tone = LANE_TONES.get(lane, "info")
        fill = f"url(#{chart_id}-hatch)" if tone == "fail" else COLOURS[tone]
        width = num(max(right - left - 1, 0.5))
        drawn = tag(
            "rect",
            x=num(left),
            y=num(base - height),
            width=width,
            height=num(height),
            fill=fill,
            class_=("" if tone == "fail" else f"f-{tone}"),
        )
        parts.append(tag("g", tag("title", str(escape(bar_words(lane, bar, n, span)))) + drawn))
    return parts


def bar_words(lane: str, bar: int, n: int, span: Days) -> str:
    """A bar's tooltip: its lane, its days and its records."""
    first = span.first + timedelta(days=bar * span.per_bar)
    last = span.first + timedelta(days=min((bar + 1) * span.per_bar, span.days) - 1)
    when = f"{first:%Y-%m-%d}" if first == last else f"{first:%Y-%m-%d} to {last:%Y-%m-%d}"
    return f"{when} UTC · {LANES[lane]}: {plural(n, 'record')}"


def counted_legend(chart_id: str, span: Days, marks: bool) -> list[str]:
    """The key: which fill is which lane's records, and what a bar's height means."""
    return [
        *swatch(chart_id, LEFT, "ok", "delivered"),
        *swatch(chart_id, LEFT + 90, "hatch", "failed"),
        *swatch(chart_id, LEFT + 168, "info", "other records"),
        text(
            LEFT + 280,
            14.5,
            f"height: records per {span.unit()}" + ("; marks: cited records" if marks else ""),
            11,
            "muted",
        ),
    ]


def day_axis(span: Days) -> list[str]:
    """Up to five ticks on whole days, the first day at the left edge and the last at the right."""
    y = LANE_TOP + len(LANES) * LANE_HEIGHT + 4
    parts = [tag("line", x1=num(LEFT), y1=num(y), x2=num(RIGHT), y2=num(y), stroke=COLOURS["muted"], class_="s-muted")]
    for k in sorted({round(i * (span.days - 1) / 4) for i in range(5)}):
        x, anchor = (LEFT, "start") if k == 0 else (RIGHT, "end") if k == span.days - 1 else (span.x(k), "middle")
        day = span.first + timedelta(days=k)
        parts.append(
            tag("line", x1=num(x), y1=num(y), x2=num(x), y2=num(y + 4), stroke=COLOURS["muted"], class_="s-muted")
        )
        parts.append(text(x, y + 16, f"{day:%Y-%m-%d}", 11, "muted", text_anchor=anchor))
    last = span.first + timedelta(days=span.days - 1)
    parts.append(axis_title(f"UTC days, {span.first:%Y-%m-%d} to {last:%Y-%m-%d}; one bar per {span.unit()}"))
    return parts


def counted_words(lanes: dict[str, dict[str, int]], span: Days, cited: int, marked: int) -> str:
    """The timeline in words: the loop's records per lane over the span, and which records are marked."""
    totals = {lane: sum(lanes[lane].values()) for lane in LANES if lanes.get(lane)}
    last = span.first + timedelta(days=span.days - 1)
    lanes_text = ", ".join(f"{LANES[lane].lower()} {n:,}" for lane, n in totals.items()) or "none"
    marks = (
        f" Marked: the {plural(marked, 'record')} of this loop this dashboard cites."
        if marked
        else f" The {cited:,} cited records of this loop are too many to mark."
        if cited
        else ""
    )
    return (
        f"{plural(sum(totals.values()), 'record')} from {span.first:%Y-%m-%d} to {last:%Y-%m-%d} UTC "
        f"({lanes_text}), counted per UTC day from every record read; one bar per {span.unit()}.{marks}"
    )


def counted_row(lane: str, days: dict[str, int]) -> tuple[str, ...]:
    """One lane's row of the table: its records, first and last day, and its busiest day."""
    busiest = max(sorted(days), key=lambda day: days[day])
    first, last = min(days), max(days)
    return (LANES[lane], f"{sum(days.values()):,}", first, last, f"{days[busiest]:,} on {busiest}")
