"""The readiness pack: every file rendered and checked in memory, then moved into place at once.

A pack is the closure dashboard and the operator runbook (HTML, Markdown, PDF), `summary.json`,
`index.html` and `manifest.json`, an in-toto Statement whose subjects are every other file. The
files are written into a fresh folder beside the target, which then replaces the target by two
renames: a failure leaves the previous pack as it was, and never a half-written one.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from .history import Trend
from .load import LoadResult
from .models import Envelope
from .pdf import PdfError, PdfOptions, PdfRenderer, evidence_ndjson
from .render import Renderer, renderers, write_file
from .stream import read_capped
from .summary import GENERATOR, Summary, source_date_epoch
from .verdict import utc_iso
from .view import DocumentLink, OutputFile, PackInfo, ReportView, build_view, bytes_text
from .view_dashboard import embedded_refs, extend_dashboard
from .view_history import extend_view

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://reportgen.dev/readiness-pack/v1"
FORMATS = ("html", "md", "pdf", "json")
DOCUMENT_FORMATS = ("html", "md", "pdf")
DEFAULT_NAME = "readiness-pack"
DEFAULT_TITLE = "Rollback drill release readiness"
SUMMARY, INDEX, MANIFEST = "summary.json", "index.html", "manifest.json"
DOCUMENTS = {
    "closure-dashboard": (
        "Final reporting closure dashboard",
        "The verdict, every open item with its evidence, the checks, resolved chains, counts and inputs.",
    ),
    "operator-runbook": (
        "Operator runbook",
        "What to do, step by step, to close the open items; what to attach to the release record.",
    ),
}
FORMAT_TITLES = {"html": "HTML", "md": "Markdown", "pdf": "PDF", "json": "JSON"}
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PackError(Exception):
    """A pack that cannot be built as asked, or written where asked."""


class PdfNotWritten(PackError):
    """The PDFs could not be printed; the pack was written without them."""

    def __init__(self, reason: str, written: list[Path]) -> None:
        super().__init__(f"no PDF written: {reason}; the pack's other files were written")
        self.written = written


@dataclass(frozen=True)
class PackOptions:
    """What the user asked for: the pack's name, title and formats, and how its PDFs are made."""

    name: str = DEFAULT_NAME
    title: str = DEFAULT_TITLE
    formats: tuple[str, ...] = FORMATS
    strict: bool = False
    pdf: PdfOptions = PdfOptions()


@dataclass(frozen=True)
class PackFile:
    """One rendered file of the pack, in memory."""

    name: str
    title: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The file's sha256, hex."""
        return hashlib.sha256(self.data).hexdigest()

    def described(self) -> OutputFile:
        """The file as the templates list it, with its digest."""
        return OutputFile(self.name, self.title, self.sha256, bytes_text(len(self.data)))


# --- options ---------------------------------------------------------------------------------


def sanitise_name(raw: str) -> str:
    """A pack name safe as one folder name: letters, digits, '.', '_', '-'; never '.', '..' or a path."""
    text = unicodedata.normalize("NFKC", raw)
    name = UNSAFE_NAME.sub("-", text).strip("-.")[:100]
    if not name:
        raise PackError(f"pack name {raw!r} has no usable characters (use letters, digits, '.', '_', '-')")
    # Names Windows reserves for devices cannot be folders there, whatever their extension.
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = f"pack-{name}"
    return name


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """The formats asked for (comma-separated, repeatable), in the pack's fixed order."""
    asked = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(FORMATS))
    if unknown:
        raise PackError(f"unknown format {', '.join(unknown)} (choose from {', '.join(FORMATS)})")
    if not asked:
        raise PackError(f"no format given (choose from {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in asked)


def pack_options(
    name: str, title: str | None, formats: Iterable[str], strict: bool = False, pdf: PdfOptions | None = None
) -> PackOptions:
    """Options from the command line, checked and made safe."""
    clean_title = " ".join((title or DEFAULT_TITLE).split()) or DEFAULT_TITLE
    return PackOptions(sanitise_name(name), clean_title, parse_formats(formats), strict, pdf or PdfOptions())


def default_out(name: str) -> Path:
    """Where a pack goes when --out is not given."""
    return Path("out") / name


# --- rendering in memory ---------------------------------------------------------------------


def built_at(summary: Summary) -> datetime:
    """The build time written into documents: SOURCE_DATE_EPOCH if set, else as_of; never the clock."""
    return source_date_epoch() or summary.as_of


def document_files(document: str, formats: tuple[str, ...]) -> tuple[OutputFile, ...]:
    """The files a document is written as, digests not yet known."""
    title = DOCUMENTS[document][0]
    return tuple(
        OutputFile(f"{document}.{fmt}", f"{title} ({FORMAT_TITLES[fmt]})") for fmt in DOCUMENT_FORMATS if fmt in formats
    )


def pack_info(summary: Summary, options: PackOptions) -> PackInfo:
    """The pack's own metadata, before any file is rendered."""
    documents = tuple(
        DocumentLink(title, description, document_files(doc, options.formats))
        for doc, (title, description) in DOCUMENTS.items()
    )
    return PackInfo(
        name=options.name,
        title=options.title,
        formats=options.formats,
        built_at=built_at(summary),
        generator=f"{summary.generator.name} {summary.generator.version}",
        documents=documents,
    )


def file_titles(info: PackInfo) -> dict[str, str]:
    """What each file of the pack is, by file name."""
    titles = {f.name: f.title for d in info.documents for f in d.files}
    return titles | {SUMMARY: "Summary (JSON)", INDEX: "Index (HTML)", MANIFEST: "Manifest (in-toto Statement, JSON)"}


def stages(formats: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The pack's files, in rendering stages: every file of a stage lists the digests of earlier stages.

    All formats of one document are one stage, so its HTML, Markdown and PDF say the same thing.
    """
    docs = {doc: tuple(f"{doc}.{fmt}" for fmt in DOCUMENT_FORMATS if fmt in formats) for doc in DOCUMENTS}
    summary = (SUMMARY,) if "json" in formats else ()
    return tuple(s for s in (docs["closure-dashboard"], summary, docs["operator-runbook"], (INDEX,)) if s)


def pending_note(name: str) -> str:
    """Why a file's digest is not shown: the manifest covers it, or it is the manifest."""
    return "made last, over every other file" if name == MANIFEST else f"covered by {MANIFEST}"


def with_digests(view: ReportView, done: list[PackFile], planned: tuple[str, ...]) -> ReportView:
    """The view, listing every planned file of the pack with the digests of those already rendered."""
    known = {f.name: f.described() for f in done}
    titles = file_titles(view.pack)
    attachments = tuple(known.get(name, OutputFile(name, titles[name], note=pending_note(name))) for name in planned)
    documents = tuple(replace(d, files=tuple(known.get(f.name, f) for f in d.files)) for d in view.pack.documents)
    return replace(view, pack=replace(view.pack, attachments=attachments, documents=documents))


def render_pack(
    summary: Summary,
    options: PackOptions,
    by_format: Mapping[str, Renderer] | None = None,
    trend: Trend | None = None,
    records: Sequence[Envelope] = (),
) -> list[PackFile]:
    """Render every file of the pack in memory; the manifest last, over all the others.

    `records` are the loaded evidence: the dashboard embeds those its findings cite.
    """
    by_format = by_format or pack_renderers(summary, options, records)
    view = extend_view(build_view(summary, pack_info(summary, options)), summary, trend)
    view = extend_dashboard(view, summary, records)
    titles = file_titles(view.pack)
    planned = (*(name for stage in stages(options.formats) for name in stage), MANIFEST)
    done: list[PackFile] = []
    for stage in stages(options.formats):
        stage_view = with_digests(view, done, planned)
        for name in stage:
            document, fmt = name.rsplit(".", 1)
            done.append(PackFile(name, titles[name], by_format[fmt].render(document, stage_view)))
    done.append(PackFile(MANIFEST, titles[MANIFEST], manifest(summary, options, done)))
    return done


def records_for(summary: Summary, options: PackOptions, loaded: LoadResult) -> list[Envelope]:
    """The records a pack carries, read again from the inputs: all of them when the PDF attaches
    the evidence, else the ones the dashboard embeds."""
    if options.pdf.attach_evidence and "pdf" in options.formats:
        return loaded.records
    return loaded.records_at({(ref.source, ref.line) for ref in embedded_refs(summary)})


def pack_renderers(summary: Summary, options: PackOptions, records: Sequence[Envelope]) -> dict[str, Renderer]:
    """One renderer per format; the PDF's carries the evidence when asked to."""
    evidence = None
    if options.pdf.attach_evidence and "pdf" in options.formats:
        if summary.inputs.records and not records:
            raise PackError("internal error: --attach-evidence needs the loaded records")
        evidence = evidence_ndjson(records, summary.inputs)
    return {**renderers(summary), "pdf": PdfRenderer(summary, options.pdf, evidence)}


# --- the manifest ----------------------------------------------------------------------------


def manifest(summary: Summary, options: PackOptions, files: list[PackFile]) -> bytes:
    """An in-toto Statement v1 over every other file of the pack; the predicate says how it was made."""
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f.name, "digest": {"sha256": f.sha256}} for f in sorted(files, key=lambda f: f.name)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "generator": {"name": GENERATOR, "version": summary.generator.version},
            "as_of": utc_iso(summary.as_of),
            "rules": summary.rules,
            "verdict": {
                "closure": summary.closure.state,
                "readiness": summary.readiness.state,
                "release_decision": summary.readiness.release_decision.recommended_state,
            },
            "inputs": [
                {"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "records": f.records}
                for f in summary.inputs.files
            ],
            "outputs": [
                {"path": f.name, "sha256": f.sha256, "bytes": len(f.data)} for f in sorted(files, key=lambda f: f.name)
            ],
            "parameters": parameters(options),
        },
    }
    return orjson.dumps(statement, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def parameters(options: PackOptions) -> dict[str, Any]:
    """The options the pack was built with, as the manifest records them."""
    recorded: dict[str, Any] = {
        "name": options.name,
        "title": options.title,
        "formats": list(options.formats),
        "strict": options.strict,
    }
    if "pdf" in options.formats:
        pdf = options.pdf
        recorded["pdf"] = {
            "author": pdf.author,
            "variant": pdf.variant,
            "max_rows": pdf.max_rows,
            "attach_evidence": pdf.attach_evidence,
        }
    return recorded


def validate(files: list[PackFile]) -> None:
    """Check the rendered pack before anything is written: unique safe names, no empty file, manifest last."""
    names = [f.name for f in files]
    if len(set(names)) != len(names) or any("/" in n or n.startswith(".") for n in names):
        raise PackError(f"internal error: bad file names in the pack: {names}")
    empty = [f.name for f in files if not f.data]
    if empty:
        raise PackError(f"internal error: empty files in the pack: {empty}")
    subjects = orjson.loads(files[-1].data)["subject"]
    if files[-1].name != MANIFEST or {s["name"] for s in subjects} != set(names[:-1]):
        raise PackError("internal error: the manifest does not cover every file of the pack")


# --- writing ---------------------------------------------------------------------------------


def is_pack(folder: Path) -> bool:
    """Whether a folder holds a readiness pack (so it may be replaced)."""
    try:
        data: Any = orjson.loads(read_capped(folder / MANIFEST))
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and data.get("predicateType") == PREDICATE_TYPE


def check_target(target: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier pack."""
    if target.is_symlink():
        raise PackError(f"{target}: is a symbolic link; give the folder it points to")
    if target.exists() and not target.is_dir():
        raise PackError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not is_pack(target):
        raise PackError(f"{target}: not empty and not a readiness pack; refusing to replace it")


def sibling(target: Path, tag: str) -> Path:
    """A fresh hidden folder name beside the target."""
    return target.with_name(f".{target.name}.{tag}-{secrets.token_hex(6)}")


def swap(staging: Path, target: Path) -> None:
    """Move the staged pack into place; the previous pack is removed only once the new one is in."""
    if not target.exists():
        os.rename(staging, target)
        return
    old = sibling(target, "old")
    os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def write_pack(files: list[PackFile], target: Path) -> list[Path]:
    """Write the files into a staging folder beside the target, then swap it into place."""
    # Renames need a real name and parent: '.' or 'a/..' have neither until made absolute.
    place = Path(os.path.abspath(target))
    check_target(place)
    place.parent.mkdir(parents=True, exist_ok=True)
    staging = sibling(place, "tmp")
    staging.mkdir()
    try:
        for f in files:
            write_file(staging / f.name, f.data)
        swap(staging, place)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target / f.name for f in files]


def build_pack(
    summary: Summary,
    options: PackOptions,
    target: Path,
    trend: Trend | None = None,
    records: Sequence[Envelope] = (),
) -> list[Path]:
    """Render, check and write one pack (with the trend over earlier packs, if given); returns the paths written.

    When the PDFs cannot be printed, the pack is written without them and `PdfNotWritten` says why.
    """
    try:
        files, failure = render_pack(summary, options, trend=trend, records=records), None
    except PdfError as exc:
        without_pdf = replace(options, formats=tuple(f for f in options.formats if f != "pdf"))
        files, failure = render_pack(summary, without_pdf, trend=trend, records=records), str(exc)
    validate(files)
    written = write_pack(files, target)
    if failure:
        raise PdfNotWritten(failure, written)
    return written
