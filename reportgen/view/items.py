"""The verdict, open items, checks, warnings and resolved chains of a summary, ready to show."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from reportgen.evidence.text import plural
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import Check, EvidenceRef, Finding, OpenItem, ReleaseDecision, ResolvedChain
from reportgen.view.model import (
    ChainView,
    CheckView,
    EvidenceView,
    Fact,
    ItemView,
    LoopGroup,
    VerdictView,
    WarningView,
)
from reportgen.view.words import (
    DECISION_LABELS,
    LOOP_TITLES,
    RESOLUTION_LABELS,
    RETRY_STATE_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    age,
    anchor,
    kind_label,
    location,
    loop_order,
    stamp,
)


def evidence_view(ref: EvidenceRef, stores: Collection[str]) -> EvidenceView:
    """One evidence reference, located."""
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
    # An item a waiver would have accepted, were the waiver not expired, says which waiver it was.
    expired = (Fact("Waiver expired", f"{item.waiver_expired}: open again"),) if item.waiver_expired else ()
    return (*(Fact(label, str(value)) for label, value in candidates if value is not None), *expired)


def item_view(number: int, item: OpenItem, as_of: datetime, stores: Collection[str]) -> ItemView:
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


def group_items(items: list[OpenItem], as_of: datetime, stores: Collection[str]) -> tuple[LoopGroup, ...]:
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
        open_text=open_text(closure.open_items, len(closure.accepted_items)),
        checks_text=f"{failed} of {plural(len(readiness.checks), 'check')} failed",
    )


def reason_text(decision: ReleaseDecision) -> str:
    """The decision's reason, and the checks that failed when there are any."""
    if not decision.failed_checks:
        return decision.reason
    return f"{decision.reason} (failed checks: {', '.join(decision.failed_checks)})"


def open_text(items: list[OpenItem], accepted: int = 0) -> str:
    """'No open items', or '3 open items, 2 critical', naming the items accepted as deviations when there are any."""
    if not items:
        text = "No open items"
    else:
        critical = sum(i.severity == "critical" for i in items)
        text = f"{plural(len(items), 'open item')}, {critical} critical"
    return f"{text}; {plural(accepted, 'item')} accepted as deviations" if accepted else text


def check_view(check: Check) -> CheckView:
    """One readiness check."""
    label, icon = STATUS_LABELS[check.status]
    return CheckView(check.id, check.title, check.status, label, icon, check.evidence, check.operator_action)


def warning_view(finding: Finding, stores: Collection[str]) -> WarningView:
    """One warning."""
    return WarningView(finding.code, finding.title, finding.detail, tuple(evidence_view(r, stores) for r in finding.evidence))


def chain_view(chain: ResolvedChain, stores: Collection[str]) -> ChainView:
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
