"""The rest of a long HTML list, packed: gzip-compressed, base85-encoded, inside a data <script>.

A dashboard at a million records lists tens of thousands of open items; as markup they would be
150 MB. The page keeps the first rows as markup (readable without the script) and packs the rest:
the open items, warnings and resolved chains as rows of data that `dashboard.js` turns into the
same markup on demand (`ROWS` here and `ROWS` there name the same fields in the same order), and
any other list as its own markup, compressed. The browser unpacks with DecompressionStream, so the
page stays one offline file. Evidence reaches the page only packed: it cannot close the <script>,
and the script writes it as text, never as markup.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from markupsafe import Markup

from reportgen.evidence.visible import shown_json
from reportgen.view.model import ChainView, EvidenceView, ItemView, WarningView

Row = list[Any]


class Labelled(tuple[tuple[str, Any], ...]):
    """(label, value) pairs, such as a card's facts: packed as one column of values per label."""


def evidence_row(ref: EvidenceView) -> Row:
    """One evidence line of a card: session id, kind, file:line, and the embedded record's id (1: the
    session id again, as it nearly always is, written once)."""
    record = 1 if ref.record_id and ref.record_id == ref.session_id else ref.record_id
    return [ref.session_id, ref.kind_label, ref.location, record]


def item_row(item: ItemView) -> Row:
    """An open item's card, as the dashboard's card template prints it (a fact whose value is the
    item's id: 1)."""
    facts = Labelled((fact.label, 1 if fact.value == item.id else fact.value) for fact in item.facts)
    evidence = [evidence_row(ref) for ref in item.evidence]
    head = [item.id, str(item.number), item.severity, item.severity_icon, item.severity_label, item.title]
    return [*head, item.loop, item.provider_key, item.code, item.fix, item.detail, facts,
            item.operator_action, evidence, item.evidence_hidden]  # fmt: skip


def warning_row(warning: WarningView) -> Row:
    """A warning's card."""
    return [warning.title, warning.code, warning.detail, [evidence_row(ref) for ref in warning.evidence]]


def chain_row(chain: ChainView) -> Row:
    """A resolved chain's table row."""
    by = chain.resolved_by
    failed = [[ref.session_id, ref.location] for ref in chain.failed]
    first, resolved = chain.first_failed_at, chain.resolved_at
    return [chain.loop, chain.loop_title, chain.provider, chain.health_id, str(chain.failures),
            first.iso, first.text, resolved.iso, resolved.text, chain.resolved_after,
            chain.resolution_label, by.session_id, by.kind_label, by.location, failed]  # fmt: skip


# The lists packed as data, by the name the templates and dashboard.js give them.
ROWS: dict[str, Callable[[Any], Row]] = {"item": item_row, "warning": warning_row, "chain": chain_row}


def columns(rows: Sequence[Row]) -> list[Any]:
    """Rows as columns, which compress far better (a column of ids, then one of times, ...)."""
    found: list[Any] = []
    for column in zip(*rows, strict=True):
        if any(isinstance(value, Labelled) for value in column):
            found.append(keyed_columns(column))
        elif any(isinstance(value, list) for value in column):
            found.append(nested_columns(column))
        else:
            found.append(list(column))
    return found


def nested_columns(column: Sequence[list[Row]]) -> dict[str, Any]:
    """A field holding a list of tuples: the list's length in each row, and its tuples' columns."""
    tuples = [entry for value in column for entry in value]
    return {"n": [len(value) for value in column], "c": columns(tuples) if tuples else []}


def keyed_columns(column: Sequence[Labelled]) -> dict[str, Any]:
    """A field holding labelled values: each row's labels, as an index into the label lists met,
    and one column of values per label (taken in turn, a label met twice in a row included)."""
    labels: dict[tuple[str, ...], int] = {}
    values: dict[str, list[Any]] = {}
    for pairs in column:
        for label, entry in pairs:
            values.setdefault(label, []).append(entry)
    order = [labels.setdefault(tuple(label for label, _ in pairs), len(labels)) for pairs in column]
    return {"labels": [list(names) for names in labels], "k": order, "v": values}


# base85 (RFC 1924) with "<" written as ".", which that alphabet leaves out: denser than base64,
# and no "<" can start "</script" or "<!--" inside the data <script>.
TO_PAGE = bytes.maketrans(b"<", b".")


def pack_bytes(data: bytes) -> str:
    """DATA gzip-compressed (no timestamp: the same bytes every time) and base85-encoded."""
    return base64.b85encode(gzip.compress(data, compresslevel=9, mtime=0)).translate(TO_PAGE).decode("ascii")


def packed_rows(rows: Sequence[Any], kind: str) -> Markup:
    """ROWS as data of KIND (a key of `ROWS`), in columns, packed for a data <script>."""
    encode = ROWS[kind]
    # Controls shown as marks, as the page's markup shows them (`render.finalize`).
    data = {"rows": len(rows), "columns": columns([encode(row) for row in rows])}
    return Markup(pack_bytes(orjson.dumps(shown_json(data))))


def packed_text(markup: str) -> Markup:
    """Rendered rows of a list (markup the page would hold), packed for a data <script>."""
    return Markup(pack_bytes(markup.encode("utf-8")))
