"""A short GitHub-flavoured Markdown job summary, fit to append to `$GITHUB_STEP_SUMMARY`.

It never passes `SUMMARY_LIMIT` bytes, whatever the record count: the groups' tables are cut
where the budget ends, and a note says how much was left out and where it is listed.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.evidence.text import plural
from reportgen.judge.groups import Group, group_items
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import Check, utc_iso
from reportgen.output.ci.groups import action_text, is_ready, verdict_line, visible
from reportgen.output.render import md_escape

SUMMARY_LIMIT = 64 * 1024
# Bytes kept free below the limit for the note that says what a cut left out.
NOTE_ROOM = 1024
# Longest evidence text one table cell quotes.
CELL_TEXT = 400
GROUP_HEADER = (
    "| Severity | Loop | Code | State | Provider | Items | Oldest opened (UTC) | Operator action |",
    "|---|---|---|---|---|---|---|---|",
)


def md(text: object, limit: int = CELL_TEXT) -> str:
    """Text as inert GitHub-flavoured Markdown that also stays inside one table cell."""
    return str(md_escape(visible(text, limit)))


def size_of(lines: Sequence[str]) -> int:
    """The UTF-8 size of lines joined by newlines, with a final newline."""
    return sum(len(line.encode()) + 1 for line in lines)


def fitted(rows: Sequence[str], budget: int) -> list[str]:
    """The leading rows whose UTF-8 size stays within the budget."""
    kept, used = [], 0
    for row in rows:
        used += len(row.encode()) + 1
        if used > budget:
            break
        kept.append(row)
    return kept


def check_rows(checks: Sequence[Check]) -> list[str]:
    """Checks as a Markdown table: title and id, status, evidence, operator action."""
    rows = ["| Check | Status | Evidence | Operator action |", "|---|---|---|---|"]
    for check in checks:
        status = "✖ fail" if check.status == "fail" else "⚠ warning"
        cells = f"{md(check.title)} (`{check.id}`) | {status} | {md(check.evidence)} | {md(check.operator_action)}"
        rows.append(f"| {cells} |")
    return rows


def group_row(group: Group) -> str:
    """One group of open items as a table row."""
    cells = [
        md(group.severity),
        md(group.loop),
        md(group.code),
        md(group.state or "-"),
        md(group.provider or "-"),
        str(group.count),
        md(utc_iso(group.oldest_opened_at) or "-"),
        md(action_text(group), 2 * CELL_TEXT),
    ]
    return f"| {' | '.join(cells)} |"


def head(summary: Summary) -> list[str]:
    """The verdict, the decision's reason, and what was read."""
    inputs = summary.inputs
    return [
        f"## {'✔' if is_ready(summary) else '✖'} reportgen: {md(verdict_line(summary))}",
        "",
        f"Reason: {md(summary.readiness.release_decision.reason)}",
        "",
        (
            f"{plural(inputs.records, 'record')} from {plural(len(inputs.files), 'file')}; "
            f"{len(inputs.rejected)} rejected, {inputs.unjudged} not judged, "
            f"{inputs.outside_closure} outside the closure, {inputs.unrecognised} unrecognised; "
            f"{plural(len(summary.closure.warnings), 'warning')}. Times are UTC."
        ),
    ]


def checks_section(summary: Summary) -> list[str]:
    """The failed checks, then the checks that passed with a warning."""
    checks = summary.readiness.checks
    failed = [c for c in checks if c.status == "fail"]
    warned = [c for c in checks if c.status == "warning"]
    lines = []
    if failed:
        lines += ["", f"### Failed checks: {len(failed)} of {len(checks)}", "", *check_rows(failed)]
    if warned:
        lines += ["", f"### Checks passed with a warning: {len(warned)}", "", *check_rows(warned)]
    return lines


def group_section(title: str, groups: list[Group], budget: int) -> tuple[list[str], str | None]:
    """A table of groups cut to the budget, and a note on what the cut left out, if anything."""
    if not groups:
        return [], None
    items = sum(g.count for g in groups)
    top = ["", f"### {title}: {plural(items, 'item')} in {plural(len(groups), 'group')}", "", *GROUP_HEADER]
    rows = fitted([group_row(g) for g in groups], budget - size_of(top))
    if len(rows) == len(groups):
        return top + rows, None
    hidden = groups[len(rows) :]
    note = f"{plural(len(hidden), 'more group')} of {title.lower()} ({plural(sum(g.count for g in hidden), 'item')})"
    return (top + rows if rows else top[:2] + ["", "*(no room left for this table)*"]), note


def pack_lines(links: Sequence[tuple[str, str]]) -> list[str]:
    """Links to the pack's files, when `build` wrote them."""
    if not links:
        return []
    return ["", "### Readiness pack", "", *(f"- [{md(name)}]({href})" for name, href in links)]


def summary_markdown(summary: Summary, links: Sequence[tuple[str, str]] = (), limit: int = SUMMARY_LIMIT) -> str:
    """The job summary, at most `limit` bytes; `links` are (file name, URL-encoded href) of the pack's files."""
    lines, tail, notes = head(summary) + checks_section(summary), pack_lines(links), []
    for title, items in (
        ("Open items", summary.closure.open_items),
        ("Accepted items", summary.closure.accepted_items),
    ):
        section, note = group_section(title, group_items(items), limit - NOTE_ROOM - size_of(lines + tail))
        lines += section
        notes += [note] if note else []
    if not summary.closure.open_items:
        lines += ["", "No open items."]
    if notes:
        where = "the pack's closure dashboard and summary.json" if links else "`reportgen check --json`"
        lines += ["", f"*Cut to stay under {limit // 1024} KiB: {'; '.join(notes)} are listed in {where}.*"]
    return clipped(lines + tail, limit)


def clipped(lines: list[str], limit: int) -> str:
    """The lines as one text; past the limit (only absurdly long paths or checks get there) cut at a line, said so."""
    text = "\n".join(lines) + "\n"
    if len(text.encode()) <= limit:
        return text
    note = "*Cut here to stay under the size limit; `reportgen check --json` gives everything.*"
    kept = fitted(lines, limit - size_of(["", note]))
    return "\n".join([*kept, "", note]) + "\n"
