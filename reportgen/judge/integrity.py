"""Evidence integrity: evidence that was rejected, missing, of a loop not judged or carrying a secret,
and the warnings from reading it. Both modes keep the closure open over evidence they did not judge.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from reportgen.evidence import sqlite_store
from reportgen.evidence.chains import MAX_CITED, Cite, Link, Plan, micros, moment
from reportgen.evidence.inputs import SecretExposed
from reportgen.evidence.ledger import Ledger
from reportgen.evidence.load import LoadResult
from reportgen.evidence.loops import LOOP_NAMES, LOOPS
from reportgen.judge.facts import CheckWording, check, joined_refs, ref, refs
from reportgen.judge.verdict import Check, CheckStatus, Closure, EvidenceRef, Finding, OpenItem, built, item_id, utc_iso

# The integrity items that fail the `evidence_integrity` check.
INTEGRITY_CODES = ("evidence_unreadable", "evidence_missing", "evidence_kind_unjudged")
INTEGRITY_CHECK: CheckWording = (
    "Evidence integrity",
    "Fix or re-export rejected records and review the warnings before relying on the verdict.",
)
# The open items each readiness check judged here is derived from, by code.
CHECK_SOURCES: dict[str, tuple[str, ...]] = {"evidence_integrity": INTEGRITY_CODES}

UNREADABLE_ACTION = "Fix or re-export the rejected entries listed in the input inventory, then build the pack again."
MISSING_ACTION = (
    "Export the alert-loop evidence (the CAVRA store file or the history endpoints) and build the pack "
    "again; an empty pack never reads as closed."
)
UNJUDGED_ACTION = (
    "This reportgen does not know the loop these records belong to, so it cannot say whether that loop is "
    "closed. Use a reportgen that judges it, or review the loop in CAVRA and accept the item with a waiver "
    "(code evidence_kind_unjudged, kind as shown) that records who checked it."
)
SECRET_ACTION = (
    "Rotate the exposed credential now, then fix the exporter that wrote it unredacted and export the "
    "evidence again; this pack shows the value masked."
)
NOTICE_TITLES = {
    "timestamp_without_offset": "Timestamp without a UTC offset (read as UTC)",
    "evidence_export_incomplete": "Export holds only part of the history",
    "evidence_file_empty": "Empty evidence file",
}


def loop_list() -> str:
    """The loops reportgen judges, as words: 'executive, recovery or archive alert-loop'."""
    names = [spec.name for spec in LOOPS]
    return f"{', '.join(names[:-1])} or {names[-1]} alert-loop"


def unjudged_title(name: str) -> str:
    """The title of records of a loop this version does not know."""
    return f"Evidence of a rollback-drill loop reportgen does not judge: {name}"


def unjudged_detail(name: str, count: int) -> str:
    """One line on records of a loop this version does not know."""
    what = "delivery source" if name.startswith("go_backend_") else "record kind"
    return (
        f"{count} record{'s' if count != 1 else ''} of {what} {name}, which CAVRA's rollback-drill history does "
        "not list; a newer CAVRA loop that this version cannot judge keeps the closure open"
    )


def unrecognised_detail(kind: str, count: int) -> str:
    """One line on records of a kind that is not rollback-drill evidence."""
    return f"{count} record{'s' if count != 1 else ''} of kind {kind}: not CAVRA rollback-drill evidence; counted, not judged"


# --- open items -----------------------------------------------------------------------------


def integrity_items(ledger: Ledger, loaded: LoadResult) -> list[OpenItem]:
    """Rejected records, records of loops this version does not judge, or no alert-loop evidence at
    all keep the closure open in both modes."""
    items = []
    if loaded.rejected:
        evidence = [EvidenceRef(session_id=None, source=r.source, line=r.line) for r in loaded.rejected]
        items.append(
            OpenItem(
                id=item_id("evidence_unreadable"),
                code="evidence_unreadable",
                severity="critical",
                loop="evidence",
                title="Some evidence could not be read",
                detail=f"{len(loaded.rejected)} input entries were rejected; the verdict cannot cover them.",
                operator_action=UNREADABLE_ACTION,
                count=len(loaded.rejected),
                evidence=evidence[:MAX_CITED],
                evidence_total=len(evidence),
            )
        )
    items.extend(unjudged_items(ledger))
    items.extend(secret_items(loaded))
    if not ledger.alert_loop:
        items.append(
            OpenItem(
                id=item_id("evidence_missing"),
                code="evidence_missing",
                severity="critical",
                loop="evidence",
                title="No alert-loop evidence was read",
                detail=f"No {loop_list()} record is in the evidence; an empty pack never reads as closed.",
                operator_action=MISSING_ACTION,
                count=0,
            )
        )
    return items


def unjudged_items(ledger: Ledger) -> list[OpenItem]:
    """Records of a rollback-drill loop this version does not know: never judged, so never closed."""
    items = []
    for name, found in sorted(ledger.unjudged.items()):
        evidence, total = joined_refs((), found)
        items.append(
            built(
                OpenItem,
                id=item_id("evidence_kind_unjudged", name),
                code="evidence_kind_unjudged",
                severity="critical",
                loop="evidence",
                kind=name,
                title=unjudged_title(name),
                detail=unjudged_detail(name, found.total),
                operator_action=UNJUDGED_ACTION,
                opened_at=moment(found.oldest()[0][0]),
                count=found.total,
                evidence=evidence,
                evidence_total=total,
            )
        )
    return items


def secret_items(loaded: LoadResult) -> list[OpenItem]:
    """An unredacted secret in the evidence is critical: it was masked, and it says where, never what.

    One item per record (its session id, else its place) and set of masked fields, whatever form
    and file the record was read from, so its id is the same in every export of the same evidence.
    """
    entries: dict[tuple[str, int | None], list[SecretExposed]] = {}
    for secret in loaded.secrets:
        entries.setdefault((secret.source, secret.line), []).append(secret)
    records: dict[tuple[str, ...], list[SecretExposed]] = {}
    for (source, line), found in entries.items():
        fields = tuple(sorted({f"{s.path} ({s.kind})" for s in found}))
        who = found[0].session_id or sqlite_store.location(source, line, loaded.stores)
        records.setdefault((who, *fields), []).extend(found)
    items = [_secret_item(key, found) for key, found in records.items()]
    return sorted(items, key=lambda i: (*_place_order(i.evidence[0].source, i.evidence[0].line), i.id))


def _place_order(source: str, line: int | None) -> tuple[str, int]:
    """Where an entry was read, as a sort key: a whole file before its first line."""
    return source, -1 if line is None else line


def _secret_item(key: tuple[str, ...], found: list[SecretExposed]) -> OpenItem:
    """One record's exposed secrets, pointing at every place the record was read."""
    places = sorted({(s.source, s.line) for s in found}, key=lambda p: _place_order(*p))
    fields = sorted({f"{s.path} ({s.kind})" for s in found})
    return OpenItem(
        id=item_id("evidence_secret_exposed", *key),
        code="evidence_secret_exposed",
        severity="critical",
        loop="evidence",
        title="Unredacted secret in the evidence",
        detail=f"{len(fields)} secret value(s) masked in this pack, found at: {'; '.join(fields)}",
        operator_action=SECRET_ACTION,
        count=len(fields),
        evidence=[
            EvidenceRef(session_id=found[0].session_id, source=src, line=line) for src, line in places[:MAX_CITED]
        ],
        evidence_total=len(places),
    )


# --- warnings -------------------------------------------------------------------------------


def reference_warnings(ledger: Ledger) -> list[Finding]:
    """An execution record, worker run or retry decision that points at an id not in the evidence."""
    targets = {hash(link.target) for link in ledger.links}
    targets.update(hash(target) for _, _, _, _, target in _plan_targets(ledger))
    found = ledger.knows(targets)
    links = [*ledger.links, *_plan_links(ledger, found)]
    broken = sorted((link for link in links if hash(link.target) not in found), key=lambda link: link.place)
    return [
        built(
            Finding,
            code="evidence_reference_broken",
            title="Reference to a record that is not in the evidence",
            detail=f"{link.cite[1]} {link.field} -> {link.target} is not in the evidence",
            evidence=[ref(link.cite)],
        )
        for link in broken
    ]


# The fields of a retry decision that point at other records, in the order their links are placed.
PLAN_FIELDS = ("retry_decisions.latest_delivery_id", "retry_decisions.plan_id", "retry_decisions.health_id")


def _plan_targets(ledger: Ledger) -> Iterator[tuple[str, Plan, int, int, str]]:
    """Every id a retry plan's decisions point at: (plan id, plan, decision, field, target)."""
    for plan_id, plan in ledger.plans.items():
        for i, decision in enumerate(plan.decisions):
            for j, target in enumerate((decision.latest_delivery_id, decision.plan_id, decision.health_id)):
                if target:
                    yield plan_id, plan, i, j, target


def _plan_links(ledger: Ledger, found: set[int]) -> Iterator[Link]:
    """The links of retry plans' decisions to ids not in `found`, cited at the first record that
    carried the plan (the others are whole: hundreds of thousands at a million records)."""
    for plan_id, plan, i, j, target in _plan_targets(ledger):
        if hash(target) not in found:
            yield Link(target, (len(LOOP_NAMES), plan_id, i, j), min(plan.records), PLAN_FIELDS[j])


def load_warnings(loaded: LoadResult, ledger: Ledger, as_of: datetime) -> list[Finding]:
    """Warnings from reading the evidence: conflicts, naive or future timestamps, partial exports."""
    findings = [
        Finding(
            code="evidence_conflict",
            title="Two records share a session id with different content",
            detail=f"{c.session_id}: kept {sqlite_store.location(c.kept.source, c.kept.line, loaded.stores)}, "
            f"replaced {sqlite_store.location(c.replaced.source, c.replaced.line, loaded.stores)}",
            evidence=[
                EvidenceRef(session_id=c.session_id, source=c.kept.source, line=c.kept.line),
                EvidenceRef(session_id=c.session_id, source=c.replaced.source, line=c.replaced.line),
            ],
        )
        for c in loaded.conflicts
    ]
    findings += [
        Finding(
            code=n.code,
            title=NOTICE_TITLES.get(n.code, n.code),
            detail=n.detail,
            evidence=[EvidenceRef(session_id=None, source=n.source, line=n.line)],
        )
        for n in loaded.notices
    ]
    findings += kind_warnings(ledger)
    findings += [
        Finding(
            code="timestamp_in_future",
            title="Record created after the as-of time",
            detail=f"{cite[1]} was created at {utc_iso(moment(cite[0]))}, after as-of {utc_iso(as_of)}",
            evidence=[ref(cite)],
        )
        for cite in sorted(ledger.future)
        if cite[0] > micros(as_of)
    ]
    return findings


def kind_warnings(ledger: Ledger) -> list[Finding]:
    """Records of a kind that is not CAVRA rollback-drill evidence: counted and listed, never judged."""
    by_kind: dict[str, list[Cite]] = {}
    for cite in ledger.unrecognised:
        by_kind.setdefault(cite[2], []).append(cite)
    return [
        built(
            Finding,
            code="evidence_kind_unrecognised",
            title="Records of a kind that is not CAVRA rollback-drill evidence",
            detail=unrecognised_detail(kind, len(cites)),
            evidence=refs(cites)[0],
        )
        for kind, cites in sorted(by_kind.items())
    ]


# --- readiness ------------------------------------------------------------------------------


def integrity_check(loaded: LoadResult, closure: Closure) -> Check:
    """Fail when evidence was rejected, missing or of a loop not judged; warn on any warning or
    unrecognised record: a check never passes over evidence it did not judge."""
    ledger = loaded.ledger
    broken = [i for i in closure.open_items if i.code in INTEGRITY_CODES]
    evidence = (
        f"rejected={len(loaded.rejected)} unjudged={sum(f.total for f in ledger.unjudged.values())} "
        f"unrecognised={len(ledger.unrecognised)} outside_closure={ledger.outside.total()} "
        f"conflicts={len(loaded.conflicts)} warnings={len(closure.warnings)}"
    )
    status: CheckStatus = "fail" if broken else ("warning" if closure.warnings or ledger.unrecognised else "pass")
    return check("evidence_integrity", INTEGRITY_CHECK, bool(broken), evidence, status=status)
