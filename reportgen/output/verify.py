"""`reportgen verify`: a pack read back, file by file, against its manifest, its PDFs and its signature.

What is checked, in order: every subject of `manifest.json` is a regular file with the recorded
sha256; the files beside them that the manifest does not cover; `summary.json` against the verdict,
rules, as-of and inputs the manifest records; `open-items.csv` against the summary's open items; the
attachments of each PDF against the pack's summary and the inputs they record; the verdict
re-derived from the attached evidence, as `reportgen check` would with the pack's rules, as-of and
waivers; and the manifest's DSSE signature, against a public key when one is given. Nothing is
written into the pack.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from reportgen.judge.summary import Summary
from reportgen.judge.verdict import utc_iso
from reportgen.output.itemscsv import OPEN_ITEMS, open_items_csv
from reportgen.output.layout import DOCUMENTS, MANIFEST, PREDICATE_TYPE, SUMMARY, pack_file_names
from reportgen.output.pdf import EVIDENCE_NAME, INPUTS_NAME, SUMMARY_NAME, WAIVERS_NAME, inputs_json, waivers_json
from reportgen.output.signing import SIGNATURE, fingerprint, read_envelope, signature_valid

# The most of one pack file read (a PDF with 1 000 000 records attached is far below).
FILE_LIMIT = 1 << 30
# Names a pack file has, whatever the format: a file beside the pack named like one claims to be it.
# Not `manifest.*`: a detached signature others make over the manifest (`manifest.json.sig`) is the
# user's own, as `build` keeps it.
PACK_STEMS = (*DOCUMENTS, "summary", "open-items", "index")
ATTACHMENT_NAMES = (SUMMARY_NAME, INPUTS_NAME, EVIDENCE_NAME, WAIVERS_NAME)


class PackUnreadable(Exception):
    """A path that holds no pack to verify: not a folder, not listable, or no manifest and no pack file."""


@dataclass(frozen=True)
class Finding:
    """One line of the report: a file and what is wrong with it (or, for a note, what it is)."""

    file: str
    text: str
    problem: bool = True


@dataclass
class Report:
    """What `verify` found in one pack."""

    pack: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    signed_by: str | None = None
    signature_checked: bool = False
    recorded: dict[str, str] | None = None
    rederived: dict[str, str] | None = None

    def problem(self, file: str, text: str) -> None:
        """Record a problem with a file."""
        self.findings.append(Finding(file, text))

    def note(self, file: str, text: str) -> None:
        """Record something worth saying that is not a problem."""
        self.findings.append(Finding(file, text, problem=False))

    @property
    def problems(self) -> list[Finding]:
        """The findings that fail verification."""
        return [f for f in self.findings if f.problem]


# --- reading the pack ------------------------------------------------------------------------


def read_file(path: Path, limit: int = FILE_LIMIT) -> bytes:
    """A regular file's bytes, never through a link; OSError says why not."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file ({stat.filemode(os.fstat(fd).st_mode)[0]})")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(f"larger than the {limit} bytes verify reads of a file")
    return data


def why(exc: OSError) -> str:
    """An OS error in a few words; a link is named as one."""
    if exc.errno == errno.ELOOP:  # what O_NOFOLLOW says of a symbolic link
        return "a symbolic link, not the pack's file"
    if exc.errno == errno.ENOENT:
        return "missing"
    return exc.strerror or str(exc)


def listing(folder: Path) -> list[str]:
    """The names in the pack folder, sorted; PackUnreadable when it is no folder that can be listed."""
    if not folder.is_dir():
        raise PackUnreadable(f"{folder}: not a folder (give the folder of a pack built by `reportgen build`)")
    try:
        return sorted(os.listdir(folder))
    except OSError as exc:
        raise PackUnreadable(f"{folder}: cannot be listed: {exc.strerror or exc}") from None


def claims_pack_name(name: str) -> bool:
    """Whether a file's name says it is one of the pack's files (or one of their attachments)."""
    lowered = name.lower()
    exact = lowered in ATTACHMENT_NAMES or lowered in (MANIFEST, SIGNATURE)
    return exact or lowered.startswith(tuple(f"{stem}." for stem in PACK_STEMS))


def read_statement(folder: Path, names: list[str], report: Report) -> tuple[bytes, dict[str, Any]] | None:
    """The manifest's bytes and Statement; None (with the problem recorded) when there is none to read."""
    if MANIFEST not in names:
        if not any(claims_pack_name(n) for n in names):
            raise PackUnreadable(f"{folder}: no {MANIFEST} and no pack file; not a readiness pack")
        report.problem(MANIFEST, "missing: nothing in the pack can be checked against it")
        return None
    try:
        data = read_file(folder / MANIFEST)
        statement = orjson.loads(data)
    except OSError as exc:
        report.problem(MANIFEST, f"cannot be read: {why(exc)}")
        return None
    except orjson.JSONDecodeError as exc:
        report.problem(MANIFEST, f"not JSON: {str(exc).splitlines()[0][:120]}")
        return None
    if not isinstance(statement, dict) or statement.get("predicateType") != PREDICATE_TYPE:
        report.problem(MANIFEST, f"not the in-toto Statement of a readiness pack (predicateType {PREDICATE_TYPE})")
        return None
    return data, statement


def subjects(statement: dict[str, Any], report: Report) -> dict[str, str]:
    """The manifest's subjects, name to sha256; a name no pack has is a problem, never a path to read."""
    listed: dict[str, str] = {}
    raw = statement.get("subject")
    for entry in raw if isinstance(raw, list) else []:
        name = entry.get("name") if isinstance(entry, dict) else None
        digests = entry.get("digest") if isinstance(entry, dict) else None
        digest = digests.get("sha256") if isinstance(digests, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str):
            report.problem(MANIFEST, "a subject without a name and a sha256 digest")
        elif name not in pack_file_names() or name == MANIFEST:
            report.problem(MANIFEST, f"lists {name[:120]!r}, which is not a file a pack has")
        elif name in listed:
            report.problem(MANIFEST, f"lists {name} twice")
        else:
            listed[name] = digest.lower()
    if not listed:
        report.problem(MANIFEST, "lists no file")
    return listed


def check_subjects(folder: Path, listed: dict[str, str], report: Report) -> dict[str, bytes]:
    """Every listed file present, a regular file, with the recorded sha256; returns those that match."""
    good: dict[str, bytes] = {}
    for name, digest in sorted(listed.items()):
        try:
            data = read_file(folder / name)
        except OSError as exc:
            report.problem(name, f"{why(exc)} ({MANIFEST} lists it)")
            continue
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            report.problem(name, f"sha256 {actual} differs from {digest}, the digest {MANIFEST} records")
            continue
        good[name] = data
        report.checked.append(name)
    return good


def check_uncovered(names: list[str], listed: dict[str, str], report: Report) -> None:
    """Files beside the pack that the manifest does not cover: a problem when named like a pack file."""
    for name in names:
        if name in listed or name in (MANIFEST, SIGNATURE):
            continue
        if claims_pack_name(name):
            report.problem(name, f"named like a pack file, but {MANIFEST} does not list it")
        else:
            # A user's notes kept beside the pack (as `build` keeps them), or a build's staging left over.
            report.note(name, f"not part of the pack: {MANIFEST} does not cover it, so it was not checked")


# --- the summary against the manifest --------------------------------------------------------


def verdict_of(summary: Summary) -> dict[str, str]:
    """The verdict a summary records, as the manifest writes it."""
    return {
        "closure": summary.closure.state,
        "readiness": summary.readiness.state,
        "release_decision": summary.readiness.release_decision.recommended_state,
    }


def parse_summary(name: str, data: bytes, report: Report) -> Summary | None:
    """A summary.json's bytes as a Summary; None (with the problem) when it is not one."""
    try:
        return Summary.model_validate_json(data)
    except ValidationError as exc:
        report.problem(name, f"not a reportgen summary: {exc.errors()[0]['msg'][:120]}")
        return None


def check_summary(summary: Summary, predicate: dict[str, Any], report: Report) -> None:
    """The summary's verdict, rules, as-of and inputs against what the manifest records."""
    recorded = predicate.get("verdict") if isinstance(predicate.get("verdict"), dict) else {}
    for key, value in verdict_of(summary).items():
        if recorded.get(key) != value:
            report.problem(SUMMARY, f"{key} is {value}, {MANIFEST} records {recorded.get(key)}")
    if predicate.get("rules") != summary.rules:
        report.problem(SUMMARY, f"rules {summary.rules}, {MANIFEST} records {predicate.get('rules')}")
    if predicate.get("as_of") != utc_iso(summary.as_of):
        report.problem(SUMMARY, f"as_of {utc_iso(summary.as_of)}, {MANIFEST} records {predicate.get('as_of')}")
    inputs = [
        {"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "records": f.records} for f in summary.inputs.files
    ]
    if predicate.get("inputs") != inputs:
        report.problem(SUMMARY, f"its input files differ from those {MANIFEST} records")


# --- the PDFs' attachments -------------------------------------------------------------------


def pdf_attachments(name: str, data: bytes, report: Report) -> dict[str, bytes] | None:
    """The files embedded in a PDF, by name; None (with the problem) when they cannot be read."""
    from pypdf import PdfReader

    try:
        found = PdfReader(io.BytesIO(data)).attachments
        files = {key: found[key] for key in sorted(found)}
    except Exception as exc:  # pypdf raises many kinds on a damaged file; each is one line here
        report.problem(name, f"its attachments cannot be read: {type(exc).__name__}")
        return None
    for key, copies in files.items():
        if len(copies) != 1:
            report.problem(name, f"attaches {len(copies)} files named {key!r}")
    return {key: copies[0] for key, copies in files.items() if copies}


def expected_attachments(summary: Summary, summary_bytes: bytes, evidence: bytes | None) -> dict[str, bytes]:
    """What a PDF of this pack attaches, given the evidence it carries (when it carries any)."""
    expected = {SUMMARY_NAME: summary_bytes, INPUTS_NAME: inputs_json(summary, evidence)}
    if evidence is not None:
        expected[EVIDENCE_NAME] = evidence
    waivers = waivers_json(summary)
    if waivers is not None:
        expected[WAIVERS_NAME] = waivers
    return expected


def check_pdf(name: str, attached: dict[str, bytes], summary: Summary, summary_bytes: bytes, report: Report) -> None:
    """One PDF's attachments against the pack's summary and the inputs and evidence they record."""
    evidence = attached.get(EVIDENCE_NAME)
    expected = expected_attachments(summary, summary_bytes, evidence)
    for key in sorted(set(expected) | set(attached)):
        where = f"{name} (attached {key})"
        if key not in attached:
            report.problem(where, "missing")
        elif key not in expected:
            report.problem(where, "a file a pack's PDF does not attach")
        elif attached[key] != expected[key]:
            report.problem(where, differs(key))


def differs(key: str) -> str:
    """What it means that an attachment is not the one expected."""
    if key == SUMMARY_NAME:
        return f"differs from the pack's {SUMMARY}"
    if key == INPUTS_NAME:
        return f"differs from the inputs and the attached evidence the pack's {SUMMARY} records"
    return f"differs from the {key} the pack's {SUMMARY} records"


# --- the verdict again, from the attached evidence ------------------------------------------


def rederive(summary: Summary, evidence: bytes) -> Summary:
    """The verdict `reportgen check` gives the evidence, with the pack's rules, as-of and waivers."""
    from reportgen.judge.summary import summarise_paths
    from reportgen.judge.waivers import apply_waivers, load_waivers

    with tempfile.TemporaryDirectory(prefix="reportgen-verify-") as scratch:
        path = Path(scratch, EVIDENCE_NAME)
        path.write_bytes(evidence)
        _, again = summarise_paths([str(path)], summary.rules, summary.as_of, jobs=1)  # type: ignore[arg-type]
        waivers = waivers_json(summary)
        if waivers is not None:
            Path(scratch, WAIVERS_NAME).write_bytes(waivers)
            again = apply_waivers(again, load_waivers(Path(scratch, WAIVERS_NAME)))
    return again


def check_rederived(where: str, summary: Summary, evidence: bytes, report: Report) -> None:
    """Judge the attached evidence again and compare the verdict and its open items with the recorded ones."""
    from reportgen.evidence.inputs import InputError
    from reportgen.judge.waivers import WaiverError

    try:
        again = rederive(summary, evidence)
    except (InputError, WaiverError, OSError) as exc:
        report.problem(where, f"cannot be judged again: {str(exc)[:200]}")
        return
    report.recorded, report.rederived = verdict_of(summary), verdict_of(again)
    for key, value in report.rederived.items():
        if report.recorded[key] != value:
            report.problem(where, f"judged again, {key} is {value}; {SUMMARY} records {report.recorded[key]}")
    for label, before, after in (
        ("open items", summary.closure.open_items, again.closure.open_items),
        ("accepted items", summary.closure.accepted_items, again.closure.accepted_items),
    ):
        if sorted(i.id for i in before) != sorted(i.id for i in after):
            report.problem(where, f"judged again, its {label} differ from those {SUMMARY} records")


# --- the signature ---------------------------------------------------------------------------


def recorded_keyid(predicate: dict[str, Any]) -> str | None:
    """The key fingerprint the manifest says signs it, if it says so."""
    parameters = predicate.get("parameters")
    signature = parameters.get("signature") if isinstance(parameters, dict) else None
    keyid = signature.get("keyid") if isinstance(signature, dict) else None
    return keyid if isinstance(keyid, str) else None


def check_signature(
    folder: Path, names: list[str], manifest: bytes, keyid: str | None, key: Any, report: Report
) -> None:
    """The DSSE envelope beside the manifest: it holds the manifest's bytes, and with a key, the key signed it."""
    report.signed_by = keyid
    if SIGNATURE not in names:
        if keyid is not None:
            report.problem(SIGNATURE, f"missing; {MANIFEST} says the pack is signed by {keyid}")
        elif key is not None:
            report.problem(SIGNATURE, "missing: the pack is not signed, so no key can vouch for it")
        return
    try:
        payload, signatures = read_envelope(read_file(folder / SIGNATURE))
    except OSError as exc:
        report.problem(SIGNATURE, f"cannot be read: {why(exc)}")
        return
    except ValueError as exc:
        report.problem(SIGNATURE, str(exc))
        return
    if payload != manifest:
        report.problem(SIGNATURE, f"signs other bytes than {MANIFEST}")
    if keyid is None:
        report.problem(MANIFEST, f"records no signature, yet {SIGNATURE} is beside it")
    elif keyid not in [s.get("keyid") for s in signatures]:
        report.problem(SIGNATURE, f"holds no signature by {keyid}, the key {MANIFEST} names")
    if key is not None:
        check_key(payload, signatures, keyid, key, report)


def check_key(payload: bytes, signatures: list[dict[str, Any]], keyid: str | None, key: Any, report: Report) -> None:
    """Whether the given public key made one of the envelope's signatures, and is the key the manifest names."""
    given = fingerprint(key)
    if not any(signature_valid(payload, s, key) for s in signatures):
        report.problem(SIGNATURE, f"no valid signature by the key given, {given}")
        return
    if keyid is not None and keyid != given:
        report.problem(MANIFEST, f"names the key {keyid}, but the pack is signed by {given}")
        return
    report.signature_checked = True


# --- the whole pack --------------------------------------------------------------------------


def verify_pack(folder: Path, key: Any = None) -> Report:
    """Every check on one pack folder; PackUnreadable when there is no pack to check."""
    report = Report(str(folder))
    names = listing(folder)
    found = read_statement(folder, names, report)
    if found is None:
        return report
    manifest, statement = found
    predicate = statement.get("predicate") if isinstance(statement.get("predicate"), dict) else {}
    listed = subjects(statement, report)
    good = check_subjects(folder, listed, report)
    check_uncovered(names, listed, report)
    check_signature(folder, names, manifest, recorded_keyid(predicate), key, report)
    check_contents(good, predicate, report)
    return report


def check_contents(good: dict[str, bytes], predicate: dict[str, Any], report: Report) -> None:
    """The summary against the manifest, the PDFs against the summary, and the verdict against the evidence."""
    summary_bytes, pdfs = good.get(SUMMARY), {n: d for n, d in good.items() if n.endswith(".pdf")}
    attached = {n: a for n, d in pdfs.items() if (a := pdf_attachments(n, d, report)) is not None}
    if summary_bytes is None and attached:
        # A pack built without JSON: its PDFs' summary stands in for it.
        summary_bytes = next(iter(attached.values())).get(SUMMARY_NAME)
    summary = parse_summary(SUMMARY, summary_bytes, report) if summary_bytes else None
    if summary is None or summary_bytes is None:
        return
    check_summary(summary, predicate, report)
    if OPEN_ITEMS in good and good[OPEN_ITEMS] != open_items_csv(summary):
        # Caught even when the manifest was made again over the changed file (an unsigned pack).
        report.problem(OPEN_ITEMS, f"differs from the open items of the pack's {SUMMARY}")
    for name, files in attached.items():
        check_pdf(name, files, summary, summary_bytes, report)
    wanted = evidence_wanted(predicate)
    for name, files in attached.items():
        if wanted != (EVIDENCE_NAME in files):
            said = "asks for it to be attached" if wanted else "records that it was not attached"
            report.problem(
                f"{name} (attached {EVIDENCE_NAME})", f"{'missing' if wanted else 'present'}; {MANIFEST} {said}"
            )
    carried = [(n, files[EVIDENCE_NAME]) for n, files in attached.items() if EVIDENCE_NAME in files]
    if carried:
        name, evidence = carried[0]
        check_rederived(f"{name} (attached {EVIDENCE_NAME})", summary, evidence, report)


def evidence_wanted(predicate: dict[str, Any]) -> bool:
    """Whether the manifest records that the PDFs attach the evidence."""
    parameters = predicate.get("parameters")
    pdf = parameters.get("pdf") if isinstance(parameters, dict) else None
    return isinstance(pdf, dict) and pdf.get("attach_evidence") is True


# --- what is printed -------------------------------------------------------------------------


def report_lines(report: Report, safe: Callable[[object], str] = str) -> list[str]:
    """The report as text: one line per problem, then the notes, then one line of outcome."""
    base = Path(report.pack)
    lines = [f"{safe(base / f.file)}: {safe(f.text)}" for f in report.problems]
    lines += [f"{safe(base / f.file)}: note: {safe(f.text)}" for f in report.findings if not f.problem]
    lines.append(safe(outcome(report)))
    return lines


def outcome(report: Report) -> str:
    """The last line: verified or not, with what was and was not checked."""
    if report.problems:
        count = len(report.problems)
        return f"{report.pack}: NOT verified: {count} problem{'s' if count != 1 else ''}"
    parts = [f"{len(report.checked)} files match {MANIFEST}"]
    if report.signature_checked:
        parts.append(f"signature by {report.signed_by} checked")
    elif report.signed_by:
        parts.append(f"signed by {report.signed_by}, signature not checked (give --key)")
    else:
        parts.append("not signed")
    if report.rederived:
        said = ", ".join(f"{key} {value}" for key, value in report.rederived.items())
        parts.append(f"verdict re-derived from the attached evidence: {said}")
    return f"{report.pack}: verified: {'; '.join(parts)}"


def report_json(report: Report) -> bytes:
    """The report for tools: every finding, the files checked, the signature and the verdicts."""
    data = {
        "pack": report.pack,
        "verified": not report.problems,
        "problems": [{"file": f.file, "problem": f.text} for f in report.problems],
        "not_covered": [{"file": f.file, "note": f.text} for f in report.findings if not f.problem],
        "files_checked": report.checked,
        "signature": {"keyid": report.signed_by, "checked": report.signature_checked},
        "verdict": {"recorded": report.recorded, "rederived": report.rederived},
    }
    return orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"
