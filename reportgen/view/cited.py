"""The records a pack cites: their full JSON for the dashboard, and their events on a time axis.

The summary points at evidence by session id, file and line; the dashboard embeds the cited
records themselves, so an open item can be expanded to its evidence. The summary holds no
per-record events: the loop timelines count every record from the summary's day counts and mark
these cited records on them (a summary without those counts has its cited records alone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson

from reportgen.evidence import kinds
from reportgen.evidence.schema import AlertAck, Delivery, Envelope, Execution, RetryPlan, WorkerRun, record_json
from reportgen.evidence.visible import shown_json
from reportgen.judge.verdict import EvidenceRef

LANES = kinds.LANES
# The most telling decision of a retry plan stands for the plan on the timeline.
ACTION_WEIGHT = {"retry": 0, "wait": 1, "suppress": 2}
# JSON inside <script> must never close it or open a comment, and evidence text must not reorder
# the page's source around it (bidi controls) or end a JavaScript line: these become \u escapes.
SCRIPT_UNSAFE = re.compile("[<>&\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029]")


@dataclass(frozen=True)
class Event:
    """One cited record on its loop's time axis."""

    at: datetime
    loop: str
    lane: str
    outcome: str
    tone: str  # ok: delivered or cleared; fail: failed, skipped or suppressed; info: anything else
    session_id: str
    note: str


def cited_ids(refs: Iterable[EvidenceRef]) -> set[str]:
    """The session ids of evidence references (entries without one are not records)."""
    return {ref.session_id for ref in refs if ref.session_id}


def cited_records(ids: set[str], records: Sequence[Envelope]) -> list[Envelope]:
    """The records with those session ids, in the loader's order (time, then session id)."""
    return [record for record in records if record.session_id in ids]


def records_island(records: Iterable[Envelope]) -> str:
    """The records as one JSON object by session id, safe to place inside a <script> element."""
    # Marked as the page marks them, so the script shows marks and finds records by the ids shown.
    data = shown_json({record.session_id: record_json(record) for record in records})
    text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode("utf-8")
    return SCRIPT_UNSAFE.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


# --- timeline events -------------------------------------------------------------------------


def events(records: Iterable[Envelope]) -> list[Event]:
    """The timeline events of alert-loop records, oldest first; other records have none."""
    found = [event for record in records if (event := record_event(record)) is not None]
    return sorted(found, key=lambda e: (e.at, e.session_id))


def record_event(record: Envelope) -> Event | None:
    """One record as a timeline event, or None for a record that is not one."""
    if isinstance(record, Delivery):
        return delivery_event(record)
    if record.loop is None:
        return None
    if isinstance(record, RetryPlan):
        return plan_event(record)
    if isinstance(record, WorkerRun):
        outcome = "dry run" if record.dry_run else "live"
        return event(record, "worker_runs", outcome, "info", selected(record))
    if isinstance(record, Execution):
        tone = "ok" if record.succeeded else "fail"
        note = record.provider + (f" ({record.body.skipped})" if record.body and record.body.skipped else "")
        return event(record, "executions", record.execution_status, tone, note)
    if isinstance(record, AlertAck):
        tone = "ok" if record.acknowledgement_state in ("acknowledged", "resolved") else "info"
        return event(record, "acknowledgements", record.acknowledgement_state, tone, record.provider)
    return None


def event(record: Envelope, lane: str, outcome: str, tone: str, note: str, loop: str | None = None) -> Event:
    """An event of a record."""
    where = loop or record.loop or ""
    return Event(record.created_at, where, lane, outcome, tone, record.session_id, note)


def delivery_event(record: Delivery) -> Event | None:
    """A delivery of an alert loop: a success on the deliveries lane, else on the failures lane."""
    loop = record.delivery_loop
    if loop is None:
        return None
    codes = [f"{p} {c}" if c is not None else p for p, c in zip(record.providers, record.status_codes, strict=False)]
    note = ", ".join(codes or record.providers)
    if record.delivery_success:
        return event(record, "deliveries", "delivered", "ok", note, loop)
    return event(record, "failures", "failed", "fail", note, loop)


def plan_event(record: RetryPlan) -> Event:
    """A retry plan, shown by its most telling decision and listing all of them."""
    decisions = record.body.retry_decisions if record.body else []
    if not decisions:
        return event(record, "retry_decisions", "no decision", "info", "")
    worst = max(decisions, key=lambda d: ACTION_WEIGHT[d.action]).action
    note = "; ".join(f"{d.provider} {d.action} {d.retry_count}/{d.max_retry_attempts or '?'}" for d in decisions)
    return event(record, "retry_decisions", worst, "fail" if worst == "suppress" else "info", note)


def selected(run: WorkerRun) -> str:
    """The providers a worker run selected, as text."""
    chosen = run.body.selected_retries if run.body else []
    return "selected " + (", ".join(d.provider for d in chosen) or "nothing")
