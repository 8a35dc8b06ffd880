"""Accepted risks: a waiver file, which open items each waiver covers, and the verdict after them.

A waiver matches an open item by `code` and by whichever of `loop`, `health_id`, `provider` and
`kind` (the record kind or delivery source of an `evidence_kind_unjudged` item) it gives. It is
in force from `approved_at` until `expires_at`, judged at the summary's `as_of`. A matched item
in force moves from `closure.open_items` to `closure.accepted_items` with status
`deviation-approved` and its waiver; it is shown, never hidden, and does not open the closure.
After `expires_at` the item stays open and says which waiver expired (`waiver_expired`).

Evidence that was not read (`evidence_unreadable`, `evidence_missing`) is accepted only by a
waiver that names it fully: its code and its `count`, the number of entries accepted unread. A
waiver file with an integrity waiver lacking `count` is refused, and one whose count differs
from the item's (more entries unread since) matches nothing, so the closure stays open. Evidence
of a loop this version does not judge (`evidence_kind_unjudged`) is accepted only by a waiver
that names its `kind`, so no waiver accepts a kind that first appears later.

Readiness after waivers follows one rule: a failing check is waived only when every open item it
was derived from is accepted. `final_reporting_closure_state` is judged again from the closure;
the alert-loop checks are derived from the items of their loop and `evidence_integrity` from the
integrity items, as the `CHECK_SOURCES` table of the rule family that judges each check says. A
waived check is shown as `warning`, never as `pass`, and its evidence names the waivers. A check
with no open item behind it (notification acknowledgements) cannot be waived; a check with some of
its items still open keeps failing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from reportgen.evidence.masking import mask_record
from reportgen.evidence.stream import read_capped
from reportgen.evidence.text import plural, utc_text
from reportgen.judge.evaluate import CHECK_SOURCES, readiness
from reportgen.judge.strictdoc import DocumentError, line_of, read_document
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import Check, Finding, Model, OpenItem, Readiness, ReleaseDecision, RulesMode, Waiver

SCHEMA_ID = "urn:reportgen:schema:reportgen.waivers.v1"
MATCH_FIELDS = ("loop", "health_id", "provider", "kind")
# The items that say evidence was not read (rejected entries) or not there at all: a waiver of one
# must give their number. A waiver of evidence not judged must name its kind.
UNREAD_CODES = ("evidence_unreadable", "evidence_missing")
UNJUDGED_CODE = "evidence_kind_unjudged"


class WaiverError(Exception):
    """A waiver file that cannot be read or is not valid."""


class WaiverFile(Model):
    """The waiver file: `{"waivers": [...]}`, each id unique, each expiring after its approval."""

    waivers: list[Waiver]

    @model_validator(mode="after")
    def _consistent(self) -> WaiverFile:
        """Refuse duplicate ids and waivers that expire before they were approved."""
        seen: set[str] = set()
        for waiver in self.waivers:
            if waiver.id in seen:
                raise ValueError(f"waiver id {waiver.id!r} is given twice")
            if waiver.expires_at <= waiver.approved_at:
                raise ValueError(f"waiver {waiver.id!r} expires before it was approved")
            seen.add(waiver.id)
        return self


def waiver_schema() -> dict[str, Any]:
    """The JSON Schema of the waiver file."""
    schema = WaiverFile.model_json_schema(mode="validation")
    schema["$id"] = SCHEMA_ID
    return schema


def parse_waivers(data: bytes, name: str = "waivers") -> WaiverFile:
    """Read a waiver file's bytes, strict JSON or YAML (see `reportgen.judge.strictdoc`); errors name the line."""
    try:
        raw = read_document(data)
    except DocumentError as exc:
        raise WaiverError(f"{located(name, exc.line)}: {exc.message}") from None
    except ValueError as exc:  # a number past Python's digit limit
        raise WaiverError(f"{name}: {' '.join(str(exc).split())}") from None
    try:
        # Waiver texts reach every document and the terminal: masked as evidence is.
        waivers = WaiverFile.model_validate(mask_record(raw, []))
    except OverflowError:
        raise WaiverError(f"{name}: a time is out of range once read as UTC") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        message = " ".join(first["msg"].split())
        raise WaiverError(f"{located(name, line_of(raw, first['loc']))}: {where}: {message}") from None
    refuse_unnamed_integrity(waivers, raw, name)
    return waivers


def refuse_unnamed_integrity(waivers: WaiverFile, raw: Any, name: str) -> None:
    """Refuse a waiver of evidence that was not read unless it says how many entries it accepts.

    A code alone would accept any number of unread entries, in this export and every later one.
    """
    for index, waiver in enumerate(waivers.waivers):
        missing = unnamed(waiver)
        if missing:
            where = located(name, line_of(raw, ("waivers", index)))
            raise WaiverError(
                f"{where}: waivers.{index}: waiver {waiver.id!r} accepts {waiver.code}, evidence that was not "
                f"read or not judged; only a waiver that names it fully can: give {missing}"
            )


def unnamed(waiver: Waiver) -> str | None:
    """What an integrity waiver must give and does not, or None."""
    if waiver.code in UNREAD_CODES and waiver.count is None:
        return "count, the number of entries it accepts"
    if waiver.code == UNJUDGED_CODE and waiver.kind is None:
        return "kind, the record kind or delivery source it accepts"
    return None


def located(name: str, line: int | None) -> str:
    """`file:line`, or the file alone when the line is not known."""
    return name if line is None else f"{name}:{line}"


def load_waivers(path: str | Path) -> WaiverFile:
    """Read and check a waiver file."""
    try:
        data = read_capped(path, streams=True)
    except OSError as exc:
        raise WaiverError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_waivers(data, str(path))


def matches(waiver: Waiver, item: OpenItem) -> bool:
    """Whether a waiver covers an item: its code, its count if given, and every optional field it gives."""
    if waiver.code != item.code or waiver.count not in (None, item.count):
        return False
    return all(getattr(waiver, f) is None or getattr(waiver, f) == getattr(item, f) for f in MATCH_FIELDS)


def in_force(waiver: Waiver, as_of: datetime) -> bool:
    """Approved at or before as-of, and not yet expired."""
    return waiver.approved_at <= as_of < waiver.expires_at


def choose(candidates: list[Waiver], as_of: datetime) -> Waiver | None:
    """Of the waivers matching one item, the one in force that lasts longest, else the last to expire."""
    live = [w for w in candidates if in_force(w, as_of)]
    pool = live or [w for w in candidates if w.expires_at <= as_of]
    return max(pool, key=lambda w: (w.expires_at, w.id), default=None)


# --- applying waivers to a summary -------------------------------------------------------------


def apply_waivers(summary: Summary, waivers: WaiverFile) -> Summary:
    """The summary with its waivers applied: items accepted or reopened, closure and readiness judged again."""
    open_items, accepted = [], list(summary.closure.accepted_items)
    matched: dict[str, list[OpenItem]] = {w.id: [] for w in waivers.waivers}
    for item in accepted:  # accepted before (a pack built with waivers): already matched
        if item.waiver is not None and item.waiver.id in matched:
            matched[item.waiver.id].append(item)
    for item in summary.closure.open_items:
        candidates = [w for w in waivers.waivers if matches(w, item)]
        for waiver in candidates:
            matched[waiver.id].append(item)
        judged = judge_item(item, choose(candidates, summary.as_of), summary.as_of)
        (accepted if judged.status == "deviation-approved" else open_items).append(judged)
    closure = summary.closure.model_copy(
        update={
            "state": "open" if any(i.severity == "critical" for i in open_items) else "closed",
            "open_items": open_items,
            "accepted_items": accepted,
            "warnings": summary.closure.warnings + waiver_findings(waivers, matched, summary.as_of),
        }
    )
    checks = [waive_check(c, open_items, accepted, summary.rules) for c in summary.readiness.checks]
    checks = [closure_check(c, closure.state, accepted) for c in checks]
    return summary.model_copy(update={"closure": closure, "readiness": readiness_after(checks, accepted)})


def judge_item(item: OpenItem, waiver: Waiver | None, as_of: datetime) -> OpenItem:
    """An item under its chosen waiver: accepted while the waiver is in force, open again after it expired."""
    if waiver is None:
        return item
    if in_force(waiver, as_of):
        return item.model_copy(update={"status": "deviation-approved", "waiver": waiver, "waiver_expired": None})
    return item.model_copy(update={"waiver_expired": waiver.id})


def waiver_findings(waivers: WaiverFile, matched: dict[str, list[OpenItem]], as_of: datetime) -> list[Finding]:
    """Warnings for waivers that match nothing, have expired, or are not approved yet at as-of."""
    findings = []
    for waiver in waivers.waivers:
        items = matched[waiver.id]
        if not items:
            findings.append(finding("waiver_unmatched", "Waiver matches no open item", waiver, "matches no open item"))
        elif waiver.expires_at <= as_of:
            detail = f"expired at {utc_text(waiver.expires_at)}; {plural(len(items), 'item')} open again"
            findings.append(finding("waiver_expired", "Waiver expired", waiver, detail))
        elif waiver.approved_at > as_of:
            detail = f"is approved only from {utc_text(waiver.approved_at)}, after as-of; {plural(len(items), 'item')} still open"
            findings.append(finding("waiver_not_yet_approved", "Waiver not yet approved", waiver, detail))
    return findings


def finding(code: str, title: str, waiver: Waiver, what: str) -> Finding:
    """One waiver warning, naming the waiver and what it was meant to match."""
    named = ("code", *MATCH_FIELDS, "count")
    fields = ", ".join(f"{f}={getattr(waiver, f)}" for f in named if getattr(waiver, f) is not None)
    return Finding(code=code, title=title, detail=f"waiver {waiver.id} ({fields}) {what}")


# --- readiness after waivers -------------------------------------------------------------------


def check_sources(check_id: str, mode: RulesMode) -> tuple[str, ...]:
    """The codes of the open items a readiness check is derived from; () when it cannot be waived."""
    return CHECK_SOURCES[mode].get(check_id, ())


def waive_check(check: Check, open_items: list[OpenItem], accepted: list[OpenItem], mode: RulesMode) -> Check:
    """A failing check becomes a warning when every item it was derived from is accepted."""
    codes = check_sources(check.id, mode)
    if check.status != "fail" or any(i.code in codes for i in open_items):
        return check
    ids = waiver_ids(i for i in accepted if i.code in codes)
    if not ids:
        return check
    return check.model_copy(update={"status": "warning", "evidence": f"{check.evidence} accepted_by={','.join(ids)}"})


def closure_check(check: Check, state: str, accepted: list[OpenItem]) -> Check:
    """`final_reporting_closure_state` judged again: fails while open, a warning when closed by waivers."""
    if check.id != "final_reporting_closure_state":
        return check
    ids = waiver_ids(accepted)
    status = "fail" if state == "open" else ("warning" if ids else "pass")
    evidence = f"closure_state={state}" + (
        f" accepted_items={len(accepted)} accepted_by={','.join(ids)}" if ids else ""
    )
    return check.model_copy(update={"status": status, "evidence": evidence})


def waiver_ids(items: Iterable[OpenItem]) -> list[str]:
    """The ids of the waivers behind accepted items, sorted, each once."""
    return sorted({i.waiver.id for i in items if i.waiver is not None})


def readiness_after(checks: list[Check], accepted: list[OpenItem]) -> Readiness:
    """Readiness from the checks, the reason naming the accepted deviations when there are any."""
    judged = readiness(checks)
    if judged.state == "blocked" or not accepted:
        return judged
    reason = (
        f"final rollback drill reporting loop is closed with {plural(len(accepted), 'item')} accepted as deviations "
        f"(waivers: {', '.join(waiver_ids(accepted))}); no readiness check failed"
    )
    decision = ReleaseDecision(recommended_state=judged.release_decision.recommended_state, reason=reason)
    return judged.model_copy(update={"release_decision": decision})
