"""The count tables: per loop, and the counts outside the alert loops, as the summary holds them."""

from __future__ import annotations

from typing import Any

from reportgen.view.model import CountTable, Fact
from reportgen.view.words import LOOP_TITLES, kind_label, loop_order

# (label, path into counts["loops"][loop]) for the per-loop count table, in display order.
LOOP_COUNT_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Deliveries", ("deliveries",)),
    ("Delivery successes", ("delivery_successes",)),
    ("Delivery failures", ("delivery_failures",)),
    ("Delivery chains that failed", ("chains", "failed")),
    ("Failed chains resolved", ("chains", "resolved")),
    ("Failed chains still open", ("chains", "open")),
    ("Failed chains superseded by a newer plan", ("chains", "superseded")),
    ("Retry plans", ("retry_plans",)),
    ("Retry decisions: retry", ("retry_decisions", "retry")),
    ("Retry decisions: wait", ("retry_decisions", "wait")),
    ("Retry decisions: suppress", ("retry_decisions", "suppress")),
    ("Worker runs: live", ("worker_runs", "live")),
    ("Worker runs: dry run", ("worker_runs", "dry_run")),
    ("Executions: delivered", ("executions", "delivered")),
    ("Executions: failed", ("executions", "failed")),
    ("Executions: skipped", ("executions", "skipped")),
    ("Acknowledgements: acknowledged", ("acknowledgements", "acknowledged")),
    ("Acknowledgements: resolved", ("acknowledgements", "resolved")),
    ("Acknowledgements: dismissed", ("acknowledgements", "dismissed")),
    ("Acknowledgements: escalated", ("acknowledgements", "escalated")),
    ("Acknowledgements required", ("acknowledgements_required",)),
    ("Acknowledgements outstanding", ("acknowledgements_outstanding",)),
    ("Health records", ("health_records",)),
    ("Alert plans", ("alert_plans",)),
)
NOTIFICATION_ROWS = (
    ("Notification plans", "plans"),
    ("Notification acknowledgements", "acknowledgements"),
    ("Notification acknowledgements outstanding", "outstanding_acknowledgements"),
)


def dig(data: Any, path: tuple[str, ...]) -> str:
    """A count from nested dicts, or '—' when the summary does not have it."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return "—"
        data = data[key]
    return str(data)


def loop_counts(counts: dict[str, Any]) -> CountTable:
    """The per-loop count table."""
    loops = counts.get("loops", {})
    names = tuple(sorted(loops, key=loop_order))
    rows = tuple((label, tuple(dig(loops[name], path) for name in names)) for label, path in LOOP_COUNT_ROWS)
    return CountTable(columns=tuple(LOOP_TITLES.get(n, n) for n in names), rows=rows)


def other_counts(counts: dict[str, Any]) -> tuple[Fact, ...]:
    """Counts outside the alert loops: notifications, other deliveries, final-reporting records, and
    the records no rule reads (upstream kinds outside the closure, loops this version does not judge)."""
    facts = [Fact(label, dig(counts, ("notification", key))) for label, key in NOTIFICATION_ROWS]
    for source, entry in sorted(counts.get("other_deliveries", {}).items()):
        facts.append(Fact(f"Deliveries from {source}", f"{entry.get('deliveries')} ({entry.get('failures')} failed)"))
    for kind, count in sorted(counts.get("outside_closure", {}).items()):
        facts.append(Fact(f"Outside the closure: {kind_label(kind)}", str(count)))
    for name, count in sorted(counts.get("unjudged", {}).items()):
        facts.append(Fact(f"Not judged (loop unknown to this version): {name}", str(count)))
    facts.append(Fact("Readiness summaries", dig(counts, ("readiness_summaries",))))
    facts.append(Fact("Runbook exports", dig(counts, ("runbook_exports",))))
    facts.append(Fact("Records read", dig(counts, ("records",))))
    return tuple(facts)
