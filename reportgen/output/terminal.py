"""The verdict as a terminal shows it: control characters escaped, locations, and aligned tables."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection

from reportgen.evidence import sqlite_store
from reportgen.evidence.text import plural
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem, utc_iso


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


def verdict_text(summary: Summary) -> str:
    """The short text verdict: state, open items as a table, warnings, rejected lines, checks."""
    inputs = summary.inputs
    lines = [
        (
            f"closure: {summary.closure.state}   readiness: {summary.readiness.state}   "
            f"decision: {summary.readiness.release_decision.recommended_state}"
        ),
        (
            f"as of {utc_iso(summary.as_of)} (UTC) · rules: {summary.rules} · {inputs.records} records "
            f"from {plural(len(inputs.files), 'file')} · {len(inputs.rejected)} rejected · "
            f"{inputs.unjudged} not judged · {inputs.outside_closure} outside the closure · "
            f"{inputs.unrecognised} unrecognised"
        ),
    ]
    items = summary.closure.open_items
    lines += ["", f"Open items ({len(items)})"]
    rows = [("SEVERITY", "LOOP", "CODE", "HEALTH_ID", "PROVIDER", "STATE", "KIND")] + [
        (i.severity, i.loop or "-", i.code, i.health_id or "-", i.provider or "-", i.retry_state or "-", kind_cell(i))
        for i in items
    ]
    lines += table(with_kinds(rows)) if items else ["  none"]
    lines += accepted_text(summary)
    if summary.closure.warnings:
        lines += ["", f"Warnings ({len(summary.closure.warnings)})"]
        lines += [f"  {w.code}: {terminal_safe(w.detail)}" for w in summary.closure.warnings]
    if inputs.rejected:
        lines += ["", f"Rejected ({len(inputs.rejected)})"]
        stores = sqlite_store.stores_of(inputs.files)
        lines += [f"  {location(r.source, r.line, stores)}: {terminal_safe(r.reason)}" for r in inputs.rejected]
    lines += ["", "Readiness checks"]
    lines += table([(c.status, c.id, c.evidence) for c in summary.readiness.checks])
    return "\n".join(lines)


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
    return ["", f"Accepted items, deviation approved ({len(items)})", *table(with_kinds(rows))]


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
