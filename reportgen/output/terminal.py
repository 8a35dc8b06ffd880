"""The verdict as a terminal shows it: open items by group, control characters escaped, locations, aligned tables."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Sequence

from reportgen.evidence import sqlite_store
from reportgen.evidence.text import plural
from reportgen.judge.groups import Group, GroupKey, group_items, group_key
from reportgen.judge.summary import RejectedEntry, Summary
from reportgen.judge.verdict import OpenItem, utc_iso
from reportgen.output.ci.groups import action_text, utc_text


def terminal_safe(text: object) -> str:
    """Evidence text made safe for a terminal: control characters shown as escapes, never obeyed."""
    out = []
    for char in str(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") and char not in "\t":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


def location(source: str, line: int | None, stores: Collection[str]) -> str:
    """`file:line` (`store.db#rowid=42` for a row of one of the `stores`), or the file alone for a whole-file problem.

    A location starts many a printed line, and CI runners read a line starting `::` as a workflow
    command: a file named like one is shown as `./::…`, the same file.
    """
    text = terminal_safe(sqlite_store.location(source, line, stores))
    return f"./{text}" if text.startswith("::") else text


# Groups shown in full before the rest are summed up by code, a line a code, so the verdict stays a screenful.
MAX_GROUPS = 8
MAX_CODES = 8
# Warnings and rejected entries listed unless --items asks for them all.
MAX_LISTED = 5
# Item ids a group names as examples; every id is in summary.json.
EXAMPLES = 3
WHERE_ALL = "every item is in summary.json (reportgen build) and `reportgen check --json`"
WHERE_WARNINGS = "`--items` lists every warning; summary.json and `reportgen check --json` hold them all"
WHERE_REJECTED = "`--items` or `reportgen validate` lists every one"


def verdict_text(summary: Summary, items: bool = False, limit: int | None = None) -> str:
    """The text verdict, a screenful however large: states, counts, open items by group, warnings, rejected, checks.

    `items` adds every open item, and lists every warning and rejected entry; `limit` caps each of those lists.
    """
    inputs = summary.inputs
    cap = limit if items else MAX_LISTED
    lines = [state_line(summary), counts_line(summary)]
    lines += groups_text(summary.closure.open_items)
    if items:
        lines += items_text(summary.closure.open_items, limit)
    lines += accepted_text(summary)
    if summary.closure.warnings:
        shown = [f"  {w.code}: {terminal_safe(w.detail)}" for w in summary.closure.warnings[:cap]]
        lines += listed("Warnings", shown, len(summary.closure.warnings), WHERE_WARNINGS)
    if inputs.rejected:
        stores = sqlite_store.stores_of(inputs.files)
        lines += ["", f"Rejected ({len(inputs.rejected):,})", *rejected_text(inputs.rejected, stores, cap)]
    lines += ["", "Readiness checks"]
    lines += table([(c.status, c.id, c.evidence) for c in summary.readiness.checks])
    return "\n".join(lines)


def listed(title: str, shown: list[str], total: int, where: str) -> list[str]:
    """A titled list of the lines shown out of `total`, saying how many more there are and where they are."""
    more = [f"  ... and {total - len(shown):,} more: {where}"] if total > len(shown) else []
    return ["", f"{title} ({total:,})", *shown, *more]


def rejected_text(rejected: Sequence[RejectedEntry], stores: Collection[str], cap: int | None) -> list[str]:
    """The rejected entries a file at a time, every file named: its whole-file problems first (they say why
    the rest was not read), then at most `cap` of its entries and how many more there are."""
    by_source: dict[str, list[RejectedEntry]] = {}
    for found in rejected:
        by_source.setdefault(found.source, []).append(found)
    lines = []
    for source, found in by_source.items():
        entries = [r for r in found if r.line is not None]
        shown = [r for r in found if r.line is None] + entries[:cap]
        lines += [f"  {location(r.source, r.line, stores)}: {terminal_safe(r.reason)}" for r in shown]
        if cap is not None and len(entries) > cap:
            more = plural(len(entries) - cap, "more rejected entry", "more rejected entries")
            lines.append(f"  ... and {more} of {location(source, None, stores)}: {WHERE_REJECTED}")
    return lines


def state_line(summary: Summary) -> str:
    """The verdict's first line: closure and readiness states and the release decision (check and build print it)."""
    return (
        f"closure: {summary.closure.state}   readiness: {summary.readiness.state}   "
        f"decision: {summary.readiness.release_decision.recommended_state}"
    )


def counts_line(summary: Summary) -> str:
    """As of when, under which rules, and what was read, every number written 7,677."""
    inputs = summary.inputs
    return (
        f"as of {utc_iso(summary.as_of)} (UTC) · rules: {summary.rules} · {inputs.records:,} records "
        f"from {plural(len(inputs.files), 'file')} · {len(inputs.rejected):,} rejected · "
        f"{inputs.unjudged:,} not judged · {inputs.outside_closure:,} outside the closure · "
        f"{inputs.unrecognised:,} unrecognised"
    )


def groups_text(items: Sequence[OpenItem]) -> list[str]:
    """The open items by what fixes them, most severe first: a few lines a group, however many items."""
    if not items:
        return ["", "Open items: none"]
    groups = group_items(items)
    lines = [
        "",
        (
            f"Open items: {len(items):,} in {plural(len(groups), 'group')} by what fixes them, "
            "most severe first (times in UTC)"
        ),
    ]
    kinds = kinds_by_group(items)
    for group in groups[:MAX_GROUPS]:
        lines += group_text(group, kinds.get(group.key, []))
    if len(groups) > MAX_GROUPS:
        lines += hidden_text(groups[MAX_GROUPS:])
    lines.append("  Each item: `reportgen check --items` (`--limit N` prints the first N).")
    return lines


def hidden_text(rest: Sequence[Group]) -> list[str]:
    """The groups not shown, summed up by severity and code (most severe first), so every code is named."""
    by_code: dict[tuple[str, str], list[int]] = {}
    for group in rest:
        counts = by_code.setdefault((group.severity, group.code), [0, 0])
        counts[0] += group.count
        counts[1] += 1
    hidden = sum(group.count for group in rest)
    lines = [f"  ... and {plural(len(rest), 'more group')} ({hidden:,} items), by code:"]
    for (severity, code), (count, groups) in list(by_code.items())[:MAX_CODES]:
        in_groups = plural(groups, "group")
        lines.append(terminal_safe(f"    {severity} · {plural(count, 'item')} in {in_groups} · {code}"))
    if len(by_code) > MAX_CODES:
        lines.append(f"    ... and {plural(len(by_code) - MAX_CODES, 'more code')}")
    return [*lines, f"    {WHERE_ALL}"]


def kinds_by_group(items: Sequence[OpenItem]) -> dict[GroupKey, list[str]]:
    """The record kinds (with their counts) the integrity items of each group are about, in item order."""
    found: dict[GroupKey, list[str]] = {}
    for item in items:
        if item.kind is not None:
            found.setdefault(group_key(item), []).append(kind_cell(item))
    return found


def group_text(group: Group, kinds: Sequence[str] = ()) -> list[str]:
    """One group: severity, count and code; where; since when; its one action; a few example ids; its kinds."""
    examples = ", ".join(group.example_ids[:EXAMPLES])
    more = group.count - min(group.count, EXAMPLES)
    lines = [
        f"  {group.severity} · {plural(group.count, 'item')} · {group.code}",
        (
            f"    loop {group.loop}, state {group.state or '-'}, provider {group.provider or '-'}; "
            f"oldest opened {utc_text(group.oldest_opened_at)}"
        ),
        f"    one action fixes {plural(group.count, 'item')}: {action_text(group)}",
        f"    e.g. {examples} (and {more:,} more)"
        if more
        else f"    {'item' if group.count == 1 else 'items'}: {examples}",
    ]
    if kinds:
        more_kinds = f" (and {len(kinds) - EXAMPLES:,} more)" if len(kinds) > EXAMPLES else ""
        lines.append(f"    kinds: {', '.join(kinds[:EXAMPLES])}{more_kinds}")
    return [terminal_safe(line) for line in lines]


def items_text(items: Sequence[OpenItem], limit: int | None) -> list[str]:
    """Every open item as a table row (the first `limit` of them), saying how many more there are and where."""
    shown = list(items if limit is None else items[:limit])
    lines = ["", f"Open items, one a line ({len(items):,})"]
    rows = [("SEVERITY", "LOOP", "CODE", "HEALTH_ID", "PROVIDER", "STATE", "KIND")] + [
        (i.severity, i.loop or "-", i.code, i.health_id or "-", i.provider or "-", i.retry_state or "-", kind_cell(i))
        for i in shown
    ]
    lines += table(with_kinds(rows)) if shown else ["  none"]
    if len(items) > len(shown):
        lines.append(f"  ... and {plural(len(items) - len(shown), 'more open item')}: {WHERE_ALL}")
    return lines


def accepted_text(summary: Summary) -> list[str]:
    """The accepted items as a table: shown, never hidden, with who accepted them and until when."""
    items = summary.closure.accepted_items
    if not items:
        return []
    rows = [("SEVERITY", "CODE", "HEALTH_ID", "PROVIDER", "WAIVER", "APPROVED_BY", "EXPIRES_AT (UTC)", "KIND")] + [
        (
            i.severity,
            i.code,
            i.health_id or "-",
            i.provider or "-",
            i.waiver.id if i.waiver else "-",
            i.waiver.approved_by if i.waiver else "-",
            utc_iso(i.waiver.expires_at) if i.waiver else "-",
            kind_cell(i),
        )
        for i in items
    ]
    return ["", f"Accepted items, deviation approved ({len(items):,})", *table(with_kinds(rows))]


def kind_cell(item: OpenItem) -> str:
    """The record kind or delivery source an integrity item is about, with its record count."""
    if item.kind is None:
        return ""
    return item.kind if item.count is None else f"{item.kind} ({plural(item.count, 'record')})"


def with_kinds(rows: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """The rows, their last column (the kind) only when some item has one."""
    return rows if any(row[-1] for row in rows[1:]) else [row[:-1] for row in rows]


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns, two spaces apart, indented."""
    safe = [tuple(terminal_safe(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in safe) for i in range(len(safe[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in safe]
