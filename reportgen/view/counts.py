"""The count tables: per loop, and the counts outside the alert loops, as the summary holds them."""

from __future__ import annotations

from collections.abc import Callable

from reportgen.judge.counts import Counts, LoopCounts, NotificationCounts
from reportgen.view.model import CountTable, Fact
from reportgen.view.words import LOOP_TITLES, count_text, kind_label, loop_order

# (label, the count of a loop) for the per-loop count table, in display order; None when the
# summary does not have it.
LOOP_COUNT_ROWS: tuple[tuple[str, Callable[[LoopCounts], int | None]], ...] = (
    ("Deliveries", lambda c: c.deliveries),
    ("Delivery successes", lambda c: c.delivery_successes),
    ("Delivery failures", lambda c: c.delivery_failures),
    ("Delivery chains that failed", lambda c: c.chains.failed),
    ("Failed chains resolved", lambda c: c.chains.resolved),
    ("Failed chains still open", lambda c: c.chains.open),
    ("Failed chains superseded by a newer plan", lambda c: c.chains.superseded),
    ("Retry plans", lambda c: c.retry_plans),
    ("Retry decisions: retry", lambda c: c.retry_decisions and c.retry_decisions.retry),
    ("Retry decisions: wait", lambda c: c.retry_decisions and c.retry_decisions.wait),
    ("Retry decisions: suppress", lambda c: c.retry_decisions and c.retry_decisions.suppress),
    ("Worker runs: live", lambda c: c.worker_runs and c.worker_runs.live),
    ("Worker runs: dry run", lambda c: c.worker_runs and c.worker_runs.dry_run),
    ("Executions: delivered", lambda c: c.executions and c.executions.delivered),
    ("Executions: failed", lambda c: c.executions and c.executions.failed),
    ("Executions: skipped", lambda c: c.executions and c.executions.skipped),
    ("Acknowledgements: acknowledged", lambda c: c.acknowledgements.acknowledged),
    ("Acknowledgements: resolved", lambda c: c.acknowledgements.resolved),
    ("Acknowledgements: dismissed", lambda c: c.acknowledgements.dismissed),
    ("Acknowledgements: escalated", lambda c: c.acknowledgements.escalated),
    ("Acknowledgements required", lambda c: c.acknowledgements_required),
    ("Acknowledgements outstanding", lambda c: c.acknowledgements_outstanding),
    ("Health records", lambda c: c.health_records),
    ("Alert plans", lambda c: c.alert_plans),
)
NOTIFICATION_ROWS: tuple[tuple[str, Callable[[NotificationCounts], int]], ...] = (
    ("Notification plans", lambda n: n.plans),
    ("Notification acknowledgements", lambda n: n.acknowledgements),
    ("Notification acknowledgements outstanding", lambda n: n.outstanding_acknowledgements),
)


def shown(count: int | None) -> str:
    """A count as text, or '—' when the summary does not have it."""
    return "—" if count is None else count_text(count)


def loop_counts(counts: Counts) -> CountTable:
    """The per-loop count table."""
    loops = counts.loops
    names = tuple(sorted(loops, key=loop_order))
    rows = tuple((label, tuple(shown(count(loops[name])) for name in names)) for label, count in LOOP_COUNT_ROWS)
    return CountTable(columns=tuple(LOOP_TITLES.get(n, n) for n in names), rows=rows)


def other_counts(counts: Counts) -> tuple[Fact, ...]:
    """Counts outside the alert loops: notifications, other deliveries, final-reporting records, and
    the records no rule reads (upstream kinds outside the closure, loops this version does not judge)."""
    facts = [Fact(label, shown(count(counts.notification))) for label, count in NOTIFICATION_ROWS]
    for source, entry in sorted(counts.other_deliveries.items()):
        facts.append(Fact(f"Deliveries from {source}", f"{count_text(entry.deliveries)} ({count_text(entry.failures)} failed)"))
    for kind, number in sorted((counts.outside_closure or {}).items()):
        facts.append(Fact(f"Outside the closure: {kind_label(kind)}", count_text(number)))
    for name, number in sorted((counts.unjudged or {}).items()):
        facts.append(Fact(f"Not judged (loop unknown to this version): {name}", count_text(number)))
    facts.append(Fact("Readiness summaries", shown(counts.readiness_summaries)))
    facts.append(Fact("Runbook exports", shown(counts.runbook_exports)))
    facts.append(Fact("Records read", shown(counts.records)))
    return tuple(facts)
