"""The dashboard's pictures, drawn on the server as inline SVG, with a text alternative each.

Charts are plain SVG markup: they show without JavaScript, in every browser and in the PDF.
Colours are presentation attributes (what WeasyPrint paints) plus classes the screen stylesheet
recolours for dark mode; every colour is repeated by a shape, a pattern or a word. Numbers are
written with one decimal, so the same view always gives the same bytes. The loops' timelines,
drawn with the same parts, are in `reportgen.view.timeline`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import markupsafe
from markupsafe import Markup

from reportgen.evidence.text import plural
from reportgen.evidence.visible import show_controls

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
# Characters of one line of text in a chart: more would run past its edge anyway.
MAX_LABEL = 80


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
        f"{plural(total, 'open item')} by loop: " + "; ".join(f"{r.label}: {severity_words(r)}" for r in rows) + "."
    )
    title = "Open items by loop and severity"
    table = tuple((r.label, str(r.critical), str(r.warning), str(r.critical + r.warning)) for r in rows)
    drawing = svg(chart_id, title, caption, width, 34 + len(rows) * 44, "".join(body))
    note = f"{plural(total, 'open item')}: solid bars are critical, hatched bars warning."
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
    label = f"{row.provider} · {plural(row.chains, 'open chain')}"
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
        return f"{row.provider}: {plural(row.chains, 'open chain')}, no retry planned"
    limit = f" of {row.maximum}" if row.maximum is not None else ""
    plan = f", {row.without_plan:,} without a retry plan" if row.without_plan else ""
    return (
        f"{row.provider}: {plural(row.chains, 'open chain')}, highest retry count {row.highest}{limit}, "
        f"{row.at_maximum:,} at the maximum{plan}"
    )


def dash(value: int | None) -> str:
    """A number, or '—'."""
    return "—" if value is None else str(value)
