"""The pack's PDFs: bounded, navigable, self-describing, archivable, and printed out of harm's way.

Each document's PDF is its HTML, printed by WeasyPrint in a child process (`reportgen.output.pdfworker`):

- **Bounded**: the open items of all loops share `max_rows` rows (the most severe and oldest, as
  rows, never cards), other tables `max_rows` each, lists of cards (groups and steps, warnings,
  resolved and accepted chains) `MAX_CARDS`; above each cut list a note says how many more there
  are and where they are. The HTML keeps every row; the Markdown bounds its lists itself.
- **Self-describing**: title, subject (the verdict), author, keywords (closure, readiness, rules),
  creation date from `as_of` (or SOURCE_DATE_EPOCH) and language; `summary.json`, `inputs.json` and
  the waivers that accepted items attached and, when asked, `evidence.ndjson`: the records as the
  loader read them, on which `reportgen check` gives the same verdict again.
- **Archivable**: plain PDF, PDF/A-3b (the attachments as associated files) or PDF/UA-1 (tagged).
- **Contained**: the worker runs in a spawned process with a memory limit and a timeout; whatever
  goes wrong there is one `PdfError`, and the pack is then written without its PDFs.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
import signal
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

import orjson
from markupsafe import Markup

from reportgen.evidence.schema import Envelope, record_json
from reportgen.evidence.visible import json_escaped
from reportgen.judge.summary import Inputs, Summary
from reportgen.judge.verdict import SEVERITY_ORDER, utc_iso
from reportgen.output import pdfworker
from reportgen.output.pdfworker import AttachedFile, PdfJob, PdfResult
from reportgen.output.render import WorkerError, encode_text, environment
from reportgen.view.lists import kept_in_order
from reportgen.view.model import ChainView, InventoryView, ItemView, LoopGroup, ReportView

VARIANTS: dict[str, str | None] = {"pdf": None, "pdf/a-3b": "pdf/a-3b", "pdf/ua-1": "pdf/ua-1"}
DEFAULT_MAX_ROWS = 200
# Lists of cards and tall rows (groups and steps, warnings, resolved and accepted chains): a page holds a few.
MAX_CARDS = 20
DEFAULT_TIMEOUT = 600.0
DEFAULT_MEMORY_MB = 2048
TIMEOUT_ENV, MEMORY_ENV = "REPORTGEN_PDF_TIMEOUT", "REPORTGEN_PDF_MEMORY_MB"
SUMMARY_NAME, INPUTS_NAME, EVIDENCE_NAME = "summary.json", "inputs.json", "evidence.ndjson"
WAIVERS_NAME, OPEN_ITEMS_CSV = "waivers.json", "open-items.csv"
INPUTS_SCHEMA = "reportgen.pdf-inputs.v1"
UNRECOGNISED_NOTE = "a record of a kind reportgen does not know; only its session_id and kind were kept"
LOG = logging.getLogger("reportgen.pdf")
NEVER = datetime.min.replace(tzinfo=UTC)
Row = TypeVar("Row")
Node = TypeVar("Node")
# Long values in a PDF: any run of this many characters without a space is cut to its two ends,
# and any text to MAX_TEXT characters. Ids, record kinds and the paths of runbook steps (up to
# 200 characters in real exports) stay whole.
MAX_TOKEN, TOKEN_HEAD, TOKEN_TAIL, MAX_TEXT = 256, 160, 40, 2000
LONG_TOKEN = re.compile(rf"\S{{{MAX_TOKEN + 1},}}")
LONG_VALUES_KEY = "long-values"


class PdfError(WorkerError):
    """A PDF that could not be printed: the worker failed, crashed, or ran out of memory or time."""


@dataclass(frozen=True)
class PdfOptions:
    """How the PDFs are made: author, variant, rows per table, the evidence attachment, the worker's limits."""

    author: str | None = None
    variant: str = "pdf"
    max_rows: int = DEFAULT_MAX_ROWS
    attach_evidence: bool = False
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB

    def __post_init__(self) -> None:
        """Refuse options no PDF can be made with."""
        if self.variant not in VARIANTS:
            raise ValueError(f"unknown PDF variant {self.variant!r} (choose from {', '.join(VARIANTS)})")
        if self.max_rows < 1 or self.timeout <= 0 or self.memory_mb < 0:
            raise ValueError("the PDF row limit and timeout must be positive, the memory limit not negative")


def pdf_options(
    author: str | None, variant: str, max_rows: int, attach_evidence: bool, environ: Mapping[str, str] = os.environ
) -> PdfOptions:
    """Options from the command line, with the worker's limits from the environment (0 MiB: no limit)."""
    try:
        timeout = float(environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
        memory_mb = int(environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB))
    except ValueError:
        raise ValueError(f"{TIMEOUT_ENV} must be seconds and {MEMORY_ENV} a whole number of MiB") from None
    author = " ".join((author or "").split()) or None
    return PdfOptions(author, variant, max_rows, attach_evidence, timeout, memory_mb)


# --- what travels with the PDF ---------------------------------------------------------------


def evidence_lines(records: Sequence[Envelope | Mapping[str, Any]], inputs: Inputs) -> list[dict[str, Any]]:
    """The records the verdict was made from (models, or every entry as read), then a stand-in for
    each entry that was not a record.

    Entries as read carry the records no rule reads themselves; models stand in for an
    unrecognised record with its kind and session id. A rejected entry becomes an object the
    loader rejects again, so a re-check counts them as the first check did.
    """
    lines = [record_json(r) if isinstance(r, Envelope) else dict(r) for r in records]
    if all(isinstance(r, Envelope) for r in records):
        lines += [
            {"metadata_kind": u.metadata_kind, "session_id": u.session_id, "reportgen_note": UNRECOGNISED_NOTE}
            for u in inputs.unrecognised_records
        ]
    lines += [{"reportgen_rejected": {"source": r.source, "line": r.line, "reason": r.reason}} for r in inputs.rejected]
    return lines


def evidence_ndjson(records: Sequence[Envelope | Mapping[str, Any]], inputs: Inputs) -> bytes:
    """The loaded evidence as NDJSON: one object a line, keys sorted, records in the loader's order."""
    lines = evidence_lines(records, inputs)
    return b"".join(orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n" for line in lines)


def waivers_json(summary: Summary) -> bytes | None:
    """The waivers that accepted items of this verdict, as a waiver file; None when none did.

    Waivers that accepted nothing only ever add warnings, so these are all a re-check needs.
    """
    used = {item.waiver.id: item.waiver for item in summary.closure.accepted_items if item.waiver}
    if not used:
        return None
    waivers = [used[key].model_dump(mode="json") for key in sorted(used)]
    return orjson.dumps({"waivers": waivers}, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def recheck_command(summary: Summary) -> str:
    """The command that judges the attached evidence again, as this pack judged it."""
    waivers = f" --waivers {WAIVERS_NAME}" if waivers_json(summary) else ""
    return f"reportgen check --rules {summary.rules} --as-of {utc_iso(summary.as_of)}{waivers} {EVIDENCE_NAME}"


def evidence_entry(summary: Summary, evidence: bytes) -> dict[str, Any]:
    """What inputs.json says about the attached evidence."""
    return {
        "name": EVIDENCE_NAME,
        "sha256": hashlib.sha256(evidence).hexdigest(),
        "bytes": len(evidence),
        "lines": evidence.count(b"\n"),
        "records": summary.inputs.records,
        "recheck": recheck_command(summary),
    }


def inputs_json(summary: Summary, evidence: bytes | None) -> bytes:
    """`inputs.json`: every input file with its sha256, bytes and entries, and the attached evidence."""
    inputs = summary.inputs
    data = {
        "schema_version": INPUTS_SCHEMA,
        "as_of": utc_iso(summary.as_of),
        "rules": summary.rules,
        "files": [
            {"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "format": f.format, "records": f.records}
            for f in inputs.files
        ],
        "entries": inputs.entries,
        "records": inputs.records,
        "rejected": len(inputs.rejected),
        "unrecognised": inputs.unrecognised,
        "duplicates": inputs.duplicates,
        "conflicts": len(inputs.conflicts),
        "evidence": None if evidence is None else evidence_entry(summary, evidence),
    }
    return json_escaped(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)) + b"\n"


def attached_files(summary: Summary, evidence: bytes | None) -> tuple[AttachedFile, ...]:
    """The files embedded in every PDF of the pack."""
    files = [
        AttachedFile(SUMMARY_NAME, "The verdict: the pack's summary.json (reportgen.summary.v1)", summary.to_json()),
        AttachedFile(
            INPUTS_NAME, "Every input file with its sha256, bytes and record count", inputs_json(summary, evidence)
        ),
    ]
    if evidence is not None:
        description = f"The evidence records as reportgen read them; re-check with: {recheck_command(summary)}"
        files.append(AttachedFile(EVIDENCE_NAME, description, evidence, "Source"))
    waivers = waivers_json(summary)
    if waivers is not None:
        files.append(AttachedFile(WAIVERS_NAME, "The waivers that accepted open items of this verdict", waivers))
    return tuple(files)


# --- metadata --------------------------------------------------------------------------------


def subject(document: str, view: ReportView) -> str:
    """The PDF's subject: the verdict and its time, then what the document is for."""
    name = f"{document}.pdf"
    purpose = next((d.description for d in view.pack.documents if any(f.name == name for f in d.files)), "")
    return " ".join(f"{view.verdict.headline} (as of {view.verdict.as_of.text}). {purpose}".split())


def keywords(view: ReportView) -> tuple[str, ...]:
    """The PDF's keywords: closure state, readiness state, rules mode and release decision."""
    verdict = view.verdict
    return (
        f"closure:{verdict.closure_state}",
        f"readiness:{verdict.readiness_state}",
        f"rules:{verdict.rules}",
        f"decision:{verdict.decision}",
    )


# --- the HTML a PDF prints ------------------------------------------------------------------


def without_script_data(view: ReportView) -> ReportView:
    """The view without the records the dashboard embeds for its script.

    Only the script reads them and a PDF runs none; at 100 000 records they are most of the HTML's
    bytes, and WeasyPrint would parse them all for nothing.
    """
    return replace(view, dashboard=view.dashboard and replace(view.dashboard, records_json=Markup("{}")))


def print_html(document: str, view: ReportView) -> bytes:
    """The document's HTML as a PDF prints it."""
    return encode_text(environment().get_template(f"{document}.html.j2").render(view=view))


# --- the bounded view ------------------------------------------------------------------------


def omitted_note(shown: int, total: int, noun: str, chosen: str, where: str) -> str:
    """What a cut table says about the rows it left out."""
    rest = total - shown
    return f"This PDF shows {shown:,} of {total:,} {noun} ({chosen}); the other {rest:,} {'is' if rest == 1 else 'are'} in {where}."


def elsewhere(document: str, view: ReportView, evidence: bool) -> str:
    """Where the rows a PDF leaves out can be read: the document's HTML and the attached data."""
    records = f" (their records: {EVIDENCE_NAME})" if evidence else ""
    data = f"{SUMMARY_NAME}{records}, attached to this PDF"
    return f"{document}.html and in {data}" if "html" in view.pack.formats else data


def most_pressing(
    items: tuple[ItemView, ...], opened: Mapping[str, datetime | None], limit: int
) -> tuple[ItemView, ...]:
    """The most severe open items and, among equally severe ones, the oldest; in the order shown."""

    def rank(index: int) -> tuple[int, bool, datetime, int]:
        item = items[index]
        since = opened.get(item.id)
        return (SEVERITY_ORDER.get(item.severity, 2), since is None, since or NEVER, index)

    return kept_in_order(items, sorted(range(len(items)), key=rank), limit)


def oldest_chains(chains: tuple[ChainView, ...], failed_at: Sequence[datetime], limit: int) -> tuple[ChainView, ...]:
    """The resolved chains that first failed longest ago; in the order shown."""
    return kept_in_order(chains, sorted(range(len(chains)), key=lambda i: (failed_at[i], i)), limit)


class Cutter:
    """Cuts a view's tables to a row limit and writes the note of each table it cut."""

    def __init__(self, limit: int, where: str, items_where: str = "") -> None:
        self.limit = limit
        self.where = where
        # Where a loop's cut open items are: open-items.csv as well, when the pack has it.
        self.items_where = items_where or where
        self.notes: list[tuple[str, str]] = []

    def note(self, key: str, shown: int, total: int, noun: str, chosen: str) -> None:
        """Note a table (by its key in the templates) that lost rows."""
        if shown < total:
            self.notes.append((key, omitted_note(shown, total, noun, chosen, self.where)))

    def rows(self, key: str, rows: tuple[Row, ...], noun: str) -> tuple[Row, ...]:
        """The first rows of a table whose order carries no severity or age."""
        kept = rows[: self.limit]
        self.note(key, len(kept), len(rows), noun, "the first, in the order shown")
        return kept

    def group(self, group: LoopGroup, kept: set[str]) -> LoopGroup:
        """One loop's open items, only those KEPT (the most pressing of all loops)."""
        items = tuple(item for item in group.items if item.id in kept)
        if len(items) < len(group.items):
            chosen = "the most severe, then the oldest, of all loops"
            note = omitted_note(len(items), len(group.items), "open items", chosen, self.items_where)
            self.notes.append((group.anchor, note))
        return replace(group, items=items)

    def inventory(self, inventory: InventoryView) -> InventoryView:
        """The inventory's lists, cut."""
        return replace(
            inventory,
            files=self.rows("input-files", inventory.files, "input files"),
            rejected=self.rows("rejected-entries", inventory.rejected, "rejected entries"),
            unrecognised=self.rows("unrecognised-records", inventory.unrecognised, "unrecognised records"),
            conflicts=self.rows("conflicts", inventory.conflicts, "conflicts"),
            duplicates=self.rows("duplicates", inventory.duplicates, "duplicates"),
            skipped=self.rows("skipped-files", inventory.skipped, "skipped files"),
        )


def bounded_view(view: ReportView, summary: Summary, document: str, limit: int, evidence: bool = False) -> ReportView:
    """The view a PDF prints: every long table cut to `limit` rows, with a note where rows were left out."""
    where = elsewhere(document, view, evidence)
    with_csv = f"{where}, and in the pack's {OPEN_ITEMS_CSV}" if "csv" in view.pack.formats else where
    cut = Cutter(limit, where, with_csv)
    opened = {item.id: item.opened_at for item in summary.closure.open_items}
    # A superseded chain that never failed is placed by when its plan was superseded.
    since = [c.first_failed_at or c.resolved_at for c in summary.closure.resolved_chains]
    # The open items' rows share one limit, the most severe and oldest of every loop; lists of cards a smaller one.
    kept = {item.id for item in most_pressing(view.items, opened, limit)}
    groups = tuple(cut.group(group, kept) for group in view.groups)
    cards = Cutter(min(limit, MAX_CARDS), cut.where)
    # The groups come most severe first: the first are the most pressing. The runbook's steps are its groups.
    fixes = cards.rows("fixes", view.fixes, "groups of open items")
    chains = oldest_chains(view.chains, since, cards.limit)
    cards.note("chains", len(chains), len(view.chains), "resolved chains", "the oldest")
    warnings = cards.rows("warnings", view.warnings, "warnings")
    accepted = cards.rows("accepted-items", view.accepted, "accepted items")
    cut.notes.extend(cards.notes)
    cut.notes.extend(("steps", text) for key, text in list(cut.notes) if key == "fixes")
    bounded = replace(
        view,
        groups=groups,
        items=tuple(item for group in groups for item in group.items),
        fixes=fixes,
        chain_tallies=cut.rows("chain-tallies", view.chain_tallies, "loops and providers"),
        warnings=warnings,
        chains=chains,
        inventory=cut.inventory(view.inventory),
        accepted=accepted,
        trend=view.trend and replace(view.trend, ages=cut.rows("open-for", view.trend.ages, "open items")),
    )
    shortened = print_values(bounded)
    if shortened != bounded:
        cut.notes.insert(0, (LONG_VALUES_KEY, long_values_note(cut.where)))
    # Every row at once: a PDF has no script to show more, and the lists are cut already.
    return replace(shortened, omitted=tuple(cut.notes), page_size=None, item_cards=False)


# --- long values -----------------------------------------------------------------------------


def print_text(text: str) -> str:
    """A text as a PDF prints it: each long run without a space cut to its two ends, the whole cut too."""
    # WeasyPrint's time to break one run grows much faster than the run's length: 2,000 characters
    # took two minutes, so a run's length must be bounded, not only the text's.
    text = LONG_TOKEN.sub(lambda m: f"{m[0][:TOKEN_HEAD]}…{m[0][-TOKEN_TAIL:]}", text)
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}…"


def print_values(node: Node) -> Node:
    """A view value with every text in it, at any depth, as `print_text` prints it; markup kept."""
    if isinstance(node, Markup):
        return node
    if isinstance(node, str):
        return print_text(node)  # type: ignore[return-value]
    if isinstance(node, tuple):
        return tuple(print_values(part) for part in node)  # type: ignore[return-value]
    if is_dataclass(node) and not isinstance(node, type):
        changes = {f.name: print_values(getattr(node, f.name)) for f in fields(node) if f.init}
        return replace(node, **changes)  # type: ignore[return-value]
    return node


def long_values_note(where: str) -> str:
    """What a PDF says once when it shortened long values."""
    return (
        f"Values with more than {MAX_TOKEN} characters between spaces are shortened in this PDF to their first "
        f"{TOKEN_HEAD} and last {TOKEN_TAIL} characters, joined by …, and texts longer than {MAX_TEXT:,} characters "
        f"to their first {MAX_TEXT:,}; the full values are in {where}."
    )


# --- printing in a child process -------------------------------------------------------------


def exit_text(code: int | None) -> str:
    """How a worker process ended, in words."""
    if code is None:
        return "still running"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


def last_words(scratch: Path) -> str:
    """The last line the worker's C libraries printed before it stopped, if any."""
    try:
        lines = (scratch / pdfworker.STDERR_LOG).read_text("utf-8", "replace").splitlines()
    except OSError:
        return ""
    said = [line.strip() for line in lines if line.strip()]
    return f": {pdfworker.one_line(said[-1])}" if said else ""


def outcome(receiver: Connection, process: Any, timeout: float, scratch: Path) -> PdfResult:
    """The worker's result, or a PdfError saying in one line why there is none."""
    if not receiver.poll(timeout):
        raise PdfError(f"the PDF renderer did not finish within {timeout:g} s")
    try:
        status, payload = receiver.recv()
    except (EOFError, OSError):
        process.join(5)
        raise PdfError(f"the PDF renderer stopped ({exit_text(process.exitcode)}){last_words(scratch)}") from None
    if status != "ok":
        raise PdfError(f"the PDF renderer failed: {payload}")
    return payload


def print_in_child(job: PdfJob, timeout: float) -> PdfResult:
    """Print a job in a fresh spawned process; it is killed if it outlives the timeout."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    with tempfile.TemporaryDirectory(prefix="reportgen-pdf-") as scratch:
        process = context.Process(target=pdfworker.work, args=(job, sender, scratch), name="reportgen-pdf", daemon=True)
        process.start()
        sender.close()
        try:
            return outcome(receiver, process, timeout, Path(scratch))
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join()


class PdfRenderer:
    """A document's HTML, bounded and printed to PDF in a child process, its evidence attached."""

    format = "pdf"
    suffix = "pdf"

    def __init__(self, summary: Summary, options: PdfOptions, evidence: bytes | None = None) -> None:
        self.summary = summary
        self.options = options
        self.attachments = attached_files(summary, evidence)
        self.results: list[tuple[str, PdfResult]] = []

    def job(self, document: str, view: ReportView) -> PdfJob:
        """What the worker prints for one document."""
        evidence = any(f.name == EVIDENCE_NAME for f in self.attachments)
        bounded = bounded_view(view, self.summary, document, self.options.max_rows, evidence)
        html = print_html(document, without_script_data(bounded))
        return PdfJob(
            html=html.decode("utf-8"),
            identifier=hashlib.sha256(html).hexdigest()[:32].encode(),
            created=view.pack.built_at,
            authors=(self.options.author or self.summary.generator.name,),
            subject=subject(document, view),
            keywords=keywords(view),
            attachments=self.attachments,
            variant=VARIANTS[self.options.variant],
            memory_limit=self.options.memory_mb * 2**20,
        )

    def render(self, document: str, view: ReportView) -> bytes:
        """Print the document; every URL the renderer refused is logged."""
        result = print_in_child(self.job(document, view), self.options.timeout)
        self.results.append((document, result))
        for url in result.refused:
            LOG.warning("%s.pdf: refused to fetch %s", document, url[:120])
        for message in result.messages:
            LOG.debug("%s.pdf: %s", document, message)
        return result.pdf
