"""The view model: everything the pack's templates show, computed from a summary.

Templates only loop and branch over these fields; every label, time, age, grouping and count row
is decided here, once, for every format. Values stay raw text: each format escapes them itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from reportgen.evidence import kinds, sqlite_store
from reportgen.evidence.loops import LOOPS
from reportgen.evidence.text import plural, utc_text
from reportgen.judge.summary import Inputs, Summary
from reportgen.judge.verdict import Check, EvidenceRef, Finding, OpenItem, ReleaseDecision, ResolvedChain, utc_iso

if TYPE_CHECKING:
    from reportgen.view.dashboard import DashboardView
    from reportgen.view.trend import AcceptedView, TrendView

LOOP_TITLES = {**{spec.name: spec.title for spec in LOOPS}, "evidence": "Evidence integrity"}
RESOLUTION_LABELS = {"delivered": "Delivered by", "superseded": "Superseded by plan"}
SEVERITY_LABELS = {"critical": ("Critical", "✖"), "warning": ("Warning", "⚠")}
STATUS_LABELS = {"pass": ("Pass", "✔"), "fail": ("Fail", "✖"), "warning": ("Warning", "⚠")}
DECISION_LABELS = {
    "approve_release_closure": "Approve release closure",
    "hold_release_closure": "Hold release closure",
}
RETRY_STATE_LABELS = {
    "exhausted": "Retries exhausted",
    "waiting": "Waiting for the retry delay",
    "execution_failed": "Live retry failed",
    "dry_run_only": "Dry runs only",
    "retry_pending": "Retry planned, not run",
    "no_retry_plan": "No retry planned",
}
# Record kinds are long; the end of the name says what the record is (no suffix ends another).
KIND_LABELS = kinds.KIND_LABELS
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


@dataclass(frozen=True)
class Section:
    """A heading of a document and its stable anchor (the same in HTML and GitHub Markdown)."""

    title: str
    anchor: str


@dataclass(frozen=True)
class OutputFile:
    """One file of the pack, with its digest once it is known."""

    name: str
    title: str
    sha256: str = ""
    size: str = "—"
    note: str = ""


@dataclass(frozen=True)
class DocumentLink:
    """One document of the pack and the files it was written as."""

    title: str
    description: str
    files: tuple[OutputFile, ...]


@dataclass(frozen=True)
class PackInfo:
    """What the pack is: its name, title, formats and build time."""

    name: str
    title: str
    formats: tuple[str, ...]
    built_at: datetime
    generator: str
    documents: tuple[DocumentLink, ...] = ()
    attachments: tuple[OutputFile, ...] = ()
    # The fingerprint (`SHA256:...`) of the key that signs the manifest; None when unsigned.
    signed_by: str | None = None

    @property
    def built_at_iso(self) -> str:
        """The build time as a W3C date (seconds), as PDF metadata wants it."""
        # strftime's %Y is not padded before the year 1000 on every platform; PDF dates need four digits.
        return f"{self.built_at.year:04d}{self.built_at:-%m-%dT%H:%M:%SZ}"


@dataclass(frozen=True)
class Stamp:
    """A time as shown (UTC stated) and as machine-readable ISO-8601."""

    text: str
    iso: str


@dataclass(frozen=True)
class Fact:
    """A labelled value."""

    label: str
    value: str


@dataclass(frozen=True)
class VerdictView:
    """The verdict banner: the answer first."""

    ready: bool
    tone: str
    icon: str
    headline: str
    closure_state: str
    readiness_state: str
    decision: str
    decision_label: str
    reason: str
    as_of: Stamp
    rules: str
    open_items: int
    critical_items: int
    failed_checks: int
    checks: int
    warnings: int
    open_text: str
    checks_text: str


@dataclass(frozen=True)
class EvidenceView:
    """One record behind a finding, located as file:line."""

    session_id: str
    location: str
    kind: str
    kind_label: str
    record_id: str = ""


@dataclass(frozen=True)
class ItemView:
    """One open item, with its facts precomputed."""

    number: int
    id: str
    code: str
    severity: str
    severity_label: str
    severity_icon: str
    loop_title: str
    title: str
    detail: str
    operator_action: str
    provider: str
    health_id: str
    retry_state: str
    retry_state_label: str
    age: str
    facts: tuple[Fact, ...]
    evidence: tuple[EvidenceView, ...]
    evidence_hidden: int
    loop: str = ""
    provider_key: str = ""
    age_seconds: int = -1


@dataclass(frozen=True)
class LoopGroup:
    """The open items of one loop."""

    loop: str
    title: str
    anchor: str
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class CheckView:
    """One readiness check with its status as text and icon."""

    id: str
    title: str
    status: str
    status_label: str
    status_icon: str
    evidence: str
    operator_action: str


@dataclass(frozen=True)
class WarningView:
    """One warning finding."""

    code: str
    title: str
    detail: str
    evidence: tuple[EvidenceView, ...]


@dataclass(frozen=True)
class ChainView:
    """A delivery chain that failed and was closed later, and the record that closed it."""

    loop_title: str
    health_id: str
    provider: str
    failures: int
    first_failed_at: Stamp
    resolved_at: Stamp
    resolved_after: str
    resolved_by: EvidenceView
    failed: tuple[EvidenceView, ...]
    loop: str = ""
    resolution_label: str = "Delivered by"


@dataclass(frozen=True)
class CountTable:
    """A table of counts: one column per loop, one row per measure."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class Problem:
    """One input entry that was not used as read: where, what, and why."""

    location: str
    what: str
    detail: str


@dataclass(frozen=True)
class InputView:
    """One input file of the inventory."""

    path: str
    format: str
    size: str
    records: int
    sha256: str


@dataclass(frozen=True)
class InventoryView:
    """The input inventory: every file, and every entry that was not used as read."""

    files: tuple[InputView, ...]
    totals: tuple[Fact, ...]
    rejected: tuple[Problem, ...]
    unrecognised: tuple[Problem, ...]
    conflicts: tuple[Problem, ...]
    duplicates: tuple[Problem, ...]
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class ReportView:
    """Everything both documents and the index show."""

    pack: PackInfo
    verdict: VerdictView
    groups: tuple[LoopGroup, ...]
    items: tuple[ItemView, ...]
    warnings: tuple[WarningView, ...]
    checks: tuple[CheckView, ...]
    chains: tuple[ChainView, ...]
    loop_counts: CountTable
    other_counts: tuple[Fact, ...]
    inventory: InventoryView
    dashboard_sections: tuple[Section, ...] = ()
    runbook_sections: tuple[Section, ...] = ()
    accepted: tuple[AcceptedView, ...] = ()
    trend: TrendView | None = None
    dashboard: DashboardView | None = None
    # (table key, note) for each table a PDF cut to its row limit; empty everywhere else.
    omitted: tuple[tuple[str, str], ...] = ()


# --- small formatters ------------------------------------------------------------------------


def stamp(value: datetime | None) -> Stamp:
    """A time shown in UTC with the zone stated, plus its ISO-8601 form."""
    if value is None:
        return Stamp(text="—", iso="")
    return Stamp(text=utc_text(value), iso=utc_iso(value) or "")


def duration(delta: timedelta) -> str:
    """A duration as people read it: '2d 3h', '1h 25m', '12m', '45s'."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "after as-of"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def age(since: datetime | None, as_of: datetime) -> str:
    """How long before as-of something happened, or '—' when unknown."""
    return "—" if since is None else duration(as_of - since)


def location(source: str, line: int | None, stores: Collection[str]) -> str:
    """`file:line` (`store.db#rowid=42` for a row of one of the `stores`), or the file alone for a whole-file entry."""
    return sqlite_store.location(source, line, stores)


def kind_label(kind: str | None) -> str:
    """A short name for a record kind."""
    if kind is None:
        return "unreadable entry"
    return next((label for suffix, label in KIND_LABELS if kind.endswith(suffix)), kind)


def anchor(text: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")


def sections(*titles: str) -> tuple[Section, ...]:
    """Headings with their anchors."""
    return tuple(Section(title, anchor(title)) for title in titles)


def bytes_text(size: int) -> str:
    """A size in bytes with a thousands separator."""
    return f"{size:,} B"


# --- building the view -----------------------------------------------------------------------


def evidence_view(ref: EvidenceRef, stores: Collection[str] = frozenset()) -> EvidenceView:
    """One evidence reference, located (`stores`: the inputs read as databases, cited by rowid)."""
    return EvidenceView(
        session_id=ref.session_id or "—",
        location=location(ref.source, ref.line, stores),
        kind=ref.kind or "—",
        kind_label=kind_label(ref.kind),
        record_id=ref.session_id or "",
    )


def item_facts(item: OpenItem, as_of: datetime) -> tuple[Fact, ...]:
    """The item's known facts, in a fixed order, leaving out what it does not have."""
    retries = None
    if item.retry_count is not None:
        limit = f" of {item.max_retry_attempts}" if item.max_retry_attempts is not None else ""
        retries = f"{item.retry_count}{limit}"
    opened = None if item.opened_at is None else f"{stamp(item.opened_at).text} ({age(item.opened_at, as_of)} ago)"
    candidates = (
        ("Loop", LOOP_TITLES.get(item.loop or "", item.loop)),
        ("Provider", item.provider),
        ("Health id", item.health_id),
        ("Retry state", item.retry_state and f"{RETRY_STATE_LABELS[item.retry_state]} ({item.retry_state})"),
        ("Opened", opened),
        ("Failed attempts", item.attempts),
        ("Retries", retries),
        ("Next retry", item.next_retry_at and stamp(item.next_retry_at).text),
        ("Skip reason", item.skip_reason),
        ("Acknowledgement state", item.acknowledgement_state),
        ("Count", item.count),
        ("Item id", item.id),
    )
    return tuple(Fact(label, str(value)) for label, value in candidates if value is not None)


def item_view(number: int, item: OpenItem, as_of: datetime, stores: Collection[str] = frozenset()) -> ItemView:
    """One open item, ready to show."""
    label, icon = SEVERITY_LABELS[item.severity]
    return ItemView(
        number=number,
        id=item.id,
        code=item.code,
        severity=item.severity,
        severity_label=label,
        severity_icon=icon,
        loop_title=LOOP_TITLES.get(item.loop or "", item.loop or "Other"),
        title=item.title,
        detail=item.detail,
        operator_action=item.operator_action,
        provider=item.provider or "—",
        health_id=item.health_id or "—",
        retry_state=item.retry_state or "—",
        retry_state_label=RETRY_STATE_LABELS.get(item.retry_state or "", "—"),
        age=age(item.opened_at, as_of),
        facts=item_facts(item, as_of),
        evidence=tuple(evidence_view(ref, stores) for ref in item.evidence),
        evidence_hidden=max(item.evidence_total - len(item.evidence), 0),
        loop=item.loop or "other",
        provider_key=item.provider or "",
        age_seconds=-1 if item.opened_at is None else int((as_of - item.opened_at).total_seconds()),
    )


def loop_order(loop: str) -> tuple[int, str]:
    """The known loops first, in a fixed order; any other loop after them by name."""
    known = list(LOOP_TITLES)
    return (known.index(loop), "") if loop in known else (len(known), loop)


def group_items(items: list[OpenItem], as_of: datetime, stores: Collection[str] = frozenset()) -> tuple[LoopGroup, ...]:
    """The open items grouped by loop, numbered in the order shown; the summary's order within a loop."""
    by_loop: dict[str, list[OpenItem]] = {}
    for item in items:
        by_loop.setdefault(item.loop or "other", []).append(item)
    groups, number = [], 0
    for loop in sorted(by_loop, key=loop_order):
        views = [item_view((number := number + 1), item, as_of, stores) for item in by_loop[loop]]
        title = LOOP_TITLES.get(loop, loop)
        groups.append(LoopGroup(loop=loop, title=title, anchor=anchor(title), items=tuple(views)))
    return tuple(groups)


def verdict_view(summary: Summary) -> VerdictView:
    """The verdict banner."""
    readiness, closure = summary.readiness, summary.closure
    ready = closure.state == "closed" and readiness.state == "ready"
    decision = readiness.release_decision.recommended_state
    return VerdictView(
        ready=ready,
        tone="pass" if ready else "fail",
        icon="✔" if ready else "✖",
        headline="Ready: approve release closure" if ready else "Blocked: hold release closure",
        closure_state=closure.state,
        readiness_state=readiness.state,
        decision=decision,
        decision_label=DECISION_LABELS.get(decision, decision),
        reason=reason_text(readiness.release_decision),
        as_of=stamp(summary.as_of),
        rules=summary.rules,
        open_items=len(closure.open_items),
        critical_items=sum(i.severity == "critical" for i in closure.open_items),
        failed_checks=(failed := sum(c.status == "fail" for c in readiness.checks)),
        checks=len(readiness.checks),
        warnings=len(closure.warnings),
        open_text=open_text(closure.open_items),
        checks_text=f"{failed} of {plural(len(readiness.checks), 'check')} failed",
    )


def reason_text(decision: ReleaseDecision) -> str:
    """The decision's reason, and the checks that failed when there are any."""
    if not decision.failed_checks:
        return decision.reason
    return f"{decision.reason} (failed checks: {', '.join(decision.failed_checks)})"


def open_text(items: list[OpenItem]) -> str:
    """'No open items', or '3 open items, 2 critical'."""
    if not items:
        return "No open items"
    critical = sum(i.severity == "critical" for i in items)
    return f"{plural(len(items), 'open item')}, {critical} critical"


def check_view(check: Check) -> CheckView:
    """One readiness check."""
    label, icon = STATUS_LABELS[check.status]
    return CheckView(check.id, check.title, check.status, label, icon, check.evidence, check.operator_action)


def warning_view(finding: Finding, stores: Collection[str] = frozenset()) -> WarningView:
    """One warning."""
    evidence = tuple(evidence_view(r, stores) for r in finding.evidence)
    return WarningView(finding.code, finding.title, finding.detail, evidence)


def chain_view(chain: ResolvedChain, stores: Collection[str] = frozenset()) -> ChainView:
    """One resolved chain: what failed, and which record closed it."""
    return ChainView(
        loop_title=LOOP_TITLES.get(chain.loop, chain.loop),
        health_id=chain.health_id,
        provider=chain.provider,
        failures=chain.failures,
        first_failed_at=stamp(chain.first_failed_at),
        resolved_at=stamp(chain.resolved_at),
        resolved_after=age(chain.first_failed_at, chain.resolved_at),
        resolved_by=evidence_view(chain.resolved_by, stores),
        failed=tuple(evidence_view(r, stores) for r in chain.failed),
        loop=chain.loop,
        resolution_label=RESOLUTION_LABELS[chain.resolution],
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


def inventory_view(inputs: Inputs) -> InventoryView:
    """The input inventory: nothing read is hidden."""
    stores = sqlite_store.stores_of(inputs.files)
    totals = (
        Fact("Files", str(len(inputs.files))),
        Fact("Entries read", str(inputs.entries)),
        Fact("Records used", str(inputs.records)),
        Fact("Rejected", str(len(inputs.rejected))),
        Fact("Outside the closure (upstream kinds no rule reads)", str(inputs.outside_closure)),
        Fact("Not judged (loops this version does not know)", str(inputs.unjudged)),
        Fact("Unrecognised", str(inputs.unrecognised)),
        Fact("Duplicates (counted once)", str(inputs.duplicates)),
        Fact("Conflicts", str(len(inputs.conflicts))),
        Fact("Files skipped by name", str(len(inputs.skipped_files))),
    )
    return InventoryView(
        files=tuple(InputView(f.path, f.format, bytes_text(f.bytes), f.records, f.sha256) for f in inputs.files),
        totals=totals,
        rejected=tuple(Problem(location(r.source, r.line, stores), "rejected", r.reason) for r in inputs.rejected),
        unrecognised=tuple(
            Problem(location(u.source, u.line, stores), u.session_id, f"unrecognised metadata_kind {u.metadata_kind}")
            for u in inputs.unrecognised_records
        ),
        conflicts=tuple(
            Problem(
                location(c.replaced.source, c.replaced.line, stores),
                c.session_id,
                f"conflicts with {location(c.kept.source, c.kept.line, stores)}; the later-created record is used",
            )
            for c in inputs.conflicts
        ),
        duplicates=tuple(
            Problem(location(d.source, d.line, stores), "duplicate", "identical to an earlier record; counted once")
            for d in inputs.duplicate_records
        ),
        skipped=tuple(inputs.skipped_files),
    )


DASHBOARD_SECTIONS = sections(
    "Verdict",
    "Open items",
    "Warnings",
    "Readiness checks",
    "Resolved chains",
    "Counts per loop",
    "Input inventory",
)
RUNBOOK_SECTIONS = sections(
    "Release readiness summary",
    "Purpose",
    "Readiness Gate",
    "Operator Steps",
    "Evidence To Attach",
    "Private Boundary",
    "Checks",
)


def build_view(summary: Summary, pack: PackInfo) -> ReportView:
    """The view of one summary for one pack."""
    stores = sqlite_store.stores_of(summary.inputs.files)
    groups = group_items(summary.closure.open_items, summary.as_of, stores)
    return ReportView(
        pack=pack,
        verdict=verdict_view(summary),
        groups=groups,
        items=tuple(item for group in groups for item in group.items),
        warnings=tuple(warning_view(w, stores) for w in summary.closure.warnings),
        checks=tuple(check_view(c) for c in summary.readiness.checks),
        chains=tuple(chain_view(c, stores) for c in summary.closure.resolved_chains),
        loop_counts=loop_counts(summary.counts),
        other_counts=other_counts(summary.counts),
        inventory=inventory_view(summary.inputs),
        dashboard_sections=DASHBOARD_SECTIONS,
        runbook_sections=RUNBOOK_SECTIONS,
    )
