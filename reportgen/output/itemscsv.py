"""`open-items.csv`: the summary's open items as data, one row each, for auditors' spreadsheets.

Only open items are listed, in the order of `closure.open_items` in `summary.json`; accepted items
(and their waivers) are in `summary.json` alone. The cells are evidence, so untrusted: control
characters are shown as visible marks (as in every document), and a cell a spreadsheet would read
as a formula starts with an apostrophe (OWASP's CSV injection guidance). Secrets were masked when
the evidence was read, so the summary this is made from holds none. Quoting is RFC 4180's, by the
standard `csv` module, with CRLF line ends; the same summary always gives the same bytes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from reportgen.evidence.visible import show_controls
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem, utc_iso
from reportgen.view.model import ReportView

OPEN_ITEMS = "open-items.csv"
COLUMNS = (
    "id",
    "code",
    "severity",
    "loop",
    "health_id",
    "provider",
    "retry_state",
    "acknowledgement_state",
    "opened_at_utc",
    "operator_action",
    "evidence_session_ids",
    "evidence_total",
)
# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (OWASP: =, +, -, @, tab,
# carriage return); a line feed too, marked as a carriage return is, since it hides what follows it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
# Excel reads a CSV without a byte order mark in the system's legacy code page, so every name with
# an accent or a non-Latin script is garbled; with it, Excel, LibreOffice and `utf-8-sig` readers
# all read UTF-8.
BOM = "\ufeff"
# Several session ids in one cell; `;` as RFC 4180 readers never split a cell on it.
ID_SEPARATOR = "; "


def cell(value: object) -> str:
    """One untrusted value as a cell a spreadsheet shows as text: controls visible, formulas inert."""
    text = "" if value is None else show_controls(str(value))
    return f"'{text}" if text.startswith(FORMULA_START) else text


def session_ids(item: OpenItem) -> str:
    """The session ids of the item's cited evidence, each once, in the order cited."""
    seen = dict.fromkeys(ref.session_id for ref in item.evidence if ref.session_id is not None)
    return ID_SEPARATOR.join(seen)


def row(item: OpenItem) -> list[str]:
    """One open item as the cells of its row, in the order of `COLUMNS`."""
    values = (
        item.id,
        item.code,
        item.severity,
        item.loop,
        item.health_id,
        item.provider,
        item.retry_state,
        item.acknowledgement_state,
        utc_iso(item.opened_at),
        item.operator_action,
        session_ids(item),
        item.evidence_total,
    )
    return [cell(value) for value in values]


def table_csv(rows: Iterable[list[str]]) -> bytes:
    """A header row and the rows as RFC 4180 CSV: quoted where needed, CRLF line ends, UTF-8 with a BOM."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return (BOM + out.getvalue()).encode("utf-8")


def open_items_csv(summary: Summary) -> bytes:
    """The summary's open items as `open-items.csv`, in the summary's order."""
    return table_csv(row(item) for item in summary.closure.open_items)


class CsvRenderer:
    """The open items of the summary, as `open-items.csv`."""

    format = "csv"
    suffix = "csv"

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def render(self, document: str, view: ReportView) -> bytes:
        """The open items' deterministic CSV (the view is not needed)."""
        return open_items_csv(self.summary)
