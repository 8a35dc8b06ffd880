"""The readiness pack: every file rendered and checked in memory, then written at once (`reportgen.output.writer`).

A pack is the closure dashboard and the operator runbook in each document format asked for (HTML,
Markdown, PDF; `reportgen.output.formats`), `summary.json`, `open-items.csv`, `index.html` and
`manifest.json`, an in-toto Statement whose subjects are every other file, and, when signed
(`reportgen.output.signing`), `manifest.intoto.jsonl`, the manifest in a DSSE envelope.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from reportgen.evidence.load import LoadResult
from reportgen.evidence.progress import Stage
from reportgen.evidence.schema import Envelope
from reportgen.evidence.text import plural
from reportgen.judge.history import Trend
from reportgen.judge.summary import GENERATOR, Summary, source_date_epoch
from reportgen.judge.verdict import utc_iso
from reportgen.output.formats import REGISTRY, RenderInputs, format_names, renderers, selected
from reportgen.output.layout import (
    DOCUMENTS,
    INDEX,
    MANIFEST,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    SUMMARY,
    PackError,
    PackFile,
)
from reportgen.output.pdf import PdfOptions
from reportgen.output.render import Renderer, TemplateRenderer, WorkerError
from reportgen.output.signing import SIGNATURE, Signer
from reportgen.output.writer import Say, quiet, write_pack
from reportgen.view.build import build_view
from reportgen.view.model import DocumentLink, OutputFile, PackInfo, ReportView

__all__ = ["PREDICATE_TYPE", "STATEMENT_TYPE", "SUMMARY", "PackError", "PackFile"]

DEFAULT_NAME = "readiness-pack"
DEFAULT_TITLE = "Rollback drill release readiness"
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# The index is always HTML, whichever formats the documents are written in.
INDEX_RENDERER = TemplateRenderer("html", "html")


def unseen(_step: str) -> None:
    """No progress line: the steps go unshown."""


class PdfNotWritten(PackError):
    """A format printed in a worker (the PDFs) could not be made; the pack was written without it."""

    def __init__(self, reason: str, written: list[Path], titles: Sequence[str] = ("PDF",)) -> None:
        super().__init__(f"no {', '.join(titles)} written: {reason}; the pack's other files were written")
        self.written = written


@dataclass(frozen=True)
class PackOptions:
    """What the user asked for: the pack's name, title and formats, and how its PDFs are made."""

    name: str = DEFAULT_NAME
    title: str = DEFAULT_TITLE
    formats: tuple[str, ...] = field(default_factory=format_names)
    strict: bool = False
    pdf: PdfOptions = PdfOptions()
    # Signs the manifest (a DSSE envelope beside it) when given.
    signer: Signer | None = None


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
    known = format_names()
    asked = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(known))
    if unknown:
        raise PackError(f"unknown format {', '.join(unknown)} (choose from {', '.join(known)})")
    if not asked:
        raise PackError(f"no format given (choose from {', '.join(known)})")
    return tuple(f for f in known if f in asked)


def pack_options(
    name: str,
    title: str | None,
    formats: Iterable[str],
    strict: bool = False,
    pdf: PdfOptions | None = None,
    signer: Signer | None = None,
) -> PackOptions:
    """Options from the command line, checked and made safe."""
    clean_title = " ".join((title or DEFAULT_TITLE).split()) or DEFAULT_TITLE
    return PackOptions(sanitise_name(name), clean_title, parse_formats(formats), strict, pdf or PdfOptions(), signer)


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
        OutputFile(f.document_file(document), f"{title} ({f.title})") for f in selected(formats) if f.per_document
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
        signed_by=options.signer.fingerprint if options.signer else None,
    )


def file_titles(info: PackInfo) -> dict[str, str]:
    """What each file of the pack is, by file name."""
    titles = {f.name: f.title for d in info.documents for f in d.files}
    own = {name: title for f in REGISTRY.values() if not f.per_document for name, title in f.own_files().items()}
    return (
        titles
        | own
        | {
            INDEX: "Index (HTML)",
            MANIFEST: "Manifest (in-toto Statement, JSON)",
            SIGNATURE: "Signature of the manifest (DSSE envelope, Ed25519)",
        }
    )


def stages(formats: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The pack's files, in rendering stages: every file of a stage lists the digests of earlier stages.

    All formats of one document are one stage, so its HTML, Markdown and PDF say the same thing. The
    pack's own files (the summary) come after the dashboard, so the runbook lists their digests.
    """
    chosen = selected(formats)
    docs = {doc: tuple(f.document_file(doc) for f in chosen if f.per_document) for doc in DOCUMENTS}
    own = tuple(name for f in chosen if not f.per_document for name in f.own_files())
    return tuple(s for s in (docs["closure-dashboard"], own, docs["operator-runbook"], (INDEX,)) if s)


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
    evidence: Sequence[Mapping[str, Any]] | None = None,
    step: Stage = unseen,
) -> list[PackFile]:
    """Render every file of the pack in memory; the manifest last, over all the others.

    `records` are the loaded evidence: the dashboard embeds those its findings cite; `evidence`,
    when given, is what the PDFs attach (else `records`). `step` hears each file as its rendering starts.
    """
    by_format = by_format or pack_renderers(summary, options, records, evidence)
    step("building the documents' view")
    view = build_view(summary, pack_info(summary, options), trend, records)
    titles = file_titles(view.pack)
    planned = (*(name for stage in stages(options.formats) for name in stage), MANIFEST)
    makers = file_makers(options.formats, by_format)
    done: list[PackFile] = []
    for stage in stages(options.formats):
        stage_view = with_digests(view, done, planned)
        for name in stage:
            renderer, stem = makers[name]
            step(f"rendering {name}")
            done.append(PackFile(name, titles[name], renderer.render(stem, stage_view)))
    done.append(PackFile(MANIFEST, titles[MANIFEST], manifest(summary, options, done)))
    if options.signer is not None:
        # The envelope signs the manifest's exact bytes; it cannot be a subject of what it signs.
        done.append(PackFile(SIGNATURE, titles[SIGNATURE], options.signer.sign(done[-1].data)))
    return done


def file_makers(formats: Sequence[str], by_format: Mapping[str, Renderer]) -> dict[str, tuple[Renderer, str]]:
    """Each file of the pack by name: the renderer that makes it and the document (or file stem) it renders."""
    makers = {INDEX: (INDEX_RENDERER, INDEX.rsplit(".", 1)[0])}
    for f in selected(formats):
        if f.per_document:
            makers |= {f.document_file(doc): (by_format[f.name], doc) for doc in DOCUMENTS}
        else:
            makers |= {name: (by_format[f.name], name.rsplit(".", 1)[0]) for name in f.own_files()}
    return makers


def pack_renderers(
    summary: Summary,
    options: PackOptions,
    records: Sequence[Envelope],
    evidence: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Renderer]:
    """One renderer per format asked for; one that attaches evidence carries it (else the records)."""
    try:
        return renderers(RenderInputs(summary, options, records, evidence))
    except ValueError as exc:
        raise PackError(str(exc)) from None


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
    for f in selected(options.formats):
        if f.parameters is not None:
            recorded[f.name] = f.parameters(options)
    if options.signer is not None:
        # Recorded inside what is signed, so removing the envelope is noticed without the key.
        recorded["signature"] = {"envelope": SIGNATURE, "keyid": options.signer.fingerprint}
    return recorded


def validate(files: list[PackFile]) -> None:
    """Check the rendered pack before anything is written: unique safe names, no empty file, manifest last
    (then its signature, when signed)."""
    signature = files[-1] if files and files[-1].name == SIGNATURE else None
    files = files[:-1] if signature else files
    names = [f.name for f in files]
    if len(set(names)) != len(names) or any("/" in n or n.startswith(".") for n in names):
        raise PackError(f"internal error: bad file names in the pack: {names}")
    empty = [f.name for f in files if not f.data]
    if empty:
        raise PackError(f"internal error: empty files in the pack: {empty}")
    subjects = orjson.loads(files[-1].data)["subject"]
    if files[-1].name != MANIFEST or {s["name"] for s in subjects} != set(names[:-1]):
        raise PackError("internal error: the manifest does not cover every file of the pack")


def pack_evidence(
    summary: Summary, options: PackOptions, loaded: LoadResult
) -> tuple[list[Envelope], list[dict[str, Any]] | None]:
    """The records a pack carries, read again from the inputs before any file is written: those the
    dashboard embeds, or all of them when a format attaches the evidence; then what it attaches: every
    entry as read, the duplicate and conflicting copies too, so a re-check counts them and warns again."""
    from reportgen.evidence.reread import read_entries
    from reportgen.output.formats import attaches_evidence
    from reportgen.view.dashboard import embedded_refs

    if attaches_evidence(options):
        return loaded.records, read_entries(loaded)
    return loaded.records_at({(ref.source, ref.line) for ref in embedded_refs(summary)}), None


def build_pack(
    summary: Summary,
    options: PackOptions,
    target: Path,
    trend: Trend | None = None,
    records: Sequence[Envelope] = (),
    evidence: Sequence[Mapping[str, Any]] | None = None,
    say: Say = quiet,
    step: Stage = unseen,
) -> list[Path]:
    """Render, check and write one pack (with the trend over earlier packs, if given); returns the paths written.

    When a format printed in a worker (the PDFs) cannot be made, the pack is written without it and
    `PdfNotWritten` says why.
    `say` hears what was recovered from a build cut short and what of the user's was kept; `step`, each
    step as it starts (the progress line).
    """
    try:
        files, failure = render_pack(summary, options, None, trend, records, evidence, step), None
    except WorkerError as exc:
        failed = [f for f in selected(options.formats) if f.worker]
        without = replace(
            options, formats=tuple(name for name in options.formats if name not in {f.name for f in failed})
        )
        files, failure = render_pack(summary, without, None, trend, records, step=step), str(exc)
    validate(files)
    step(f"writing {plural(len(files), 'file')}")
    written = write_pack(files, target, say)
    if failure:
        raise PdfNotWritten(failure, written, [f.title for f in failed])
    return written
