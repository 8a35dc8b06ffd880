"""The pack's output formats, each declared once: its renderer, the files it writes, how it is made.

Importing this module is cheap (the command line reads the format names from it); each renderer's
module is imported when a pack is made. A format is written either once per document
(`<document>.<suffix>`, e.g. the dashboard's HTML) or as files of the pack itself (`summary.json`,
`open-items.csv`). A format printed in a worker process may fail there; the pack is then written
without it. Adding a format is one `Format` here and its templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from reportgen.evidence.schema import Envelope
    from reportgen.judge.summary import Summary
    from reportgen.output.pdf import PdfOptions
    from reportgen.output.render import Renderer


class Options(Protocol):
    """The pack's options as a format reads them (`reportgen.output.pack.PackOptions`)."""

    @property
    def formats(self) -> tuple[str, ...]: ...

    @property
    def pdf(self) -> PdfOptions: ...


@dataclass(frozen=True)
class RenderInputs:
    """What a format's renderer is made from: the summary, the options, and the evidence it may carry."""

    summary: Summary
    options: Options
    records: Sequence[Envelope] = ()
    # Every entry as read, for a format that attaches the evidence; else `records` are attached.
    evidence: Sequence[Mapping[str, Any]] | None = None


def never(_options: Options) -> bool:
    """A format that carries no evidence."""
    return False


@dataclass(frozen=True)
class Format:
    """One output format of the pack."""

    name: str
    # How file titles name the format: "Final reporting closure dashboard (HTML)".
    title: str
    renderer: Callable[[RenderInputs], Renderer]
    media_type: str
    # Files written once per document, `<document>.<suffix>`; else the `pack_files` below.
    per_document: bool = True
    # A format written once per pack: file stem -> title ("summary" -> "Summary").
    pack_files: Mapping[str, str] = field(default_factory=dict)
    # Printed in a worker process, which may fail: the pack is then written without this format.
    worker: bool = False
    # Whether, with these options, the format attaches every input record (so all are read again).
    attaches_evidence: Callable[[Options], bool] = never
    # What the manifest records of the options this format was made with, if anything.
    parameters: Callable[[Options], dict[str, Any]] | None = None

    @property
    def suffix(self) -> str:
        """The file name suffix, which is also the template suffix: `<document>.<suffix>.j2`."""
        return self.name

    def document_file(self, document: str) -> str:
        """The file this format writes for one document."""
        return f"{document}.{self.suffix}"

    def own_files(self) -> dict[str, str]:
        """The files this format writes for the pack itself, name to title."""
        return {f"{stem}.{self.suffix}": f"{title} ({self.title})" for stem, title in self.pack_files.items()}

    def file_names(self, documents: Sequence[str]) -> tuple[str, ...]:
        """Every file this format writes in a pack of these documents."""
        if self.per_document:
            return tuple(self.document_file(d) for d in documents)
        return tuple(self.own_files())


def html_renderer(_inputs: RenderInputs) -> Renderer:
    """HTML, from the `.html.j2` templates."""
    from reportgen.output.render import TemplateRenderer

    return TemplateRenderer("html", "html")


def md_renderer(_inputs: RenderInputs) -> Renderer:
    """Markdown, from the `.md.j2` templates."""
    from reportgen.output.render import TemplateRenderer

    return TemplateRenderer("md", "md")


def json_renderer(inputs: RenderInputs) -> Renderer:
    """The summary's JSON."""
    from reportgen.output.render import JsonRenderer

    return JsonRenderer(inputs.summary)


def csv_renderer(inputs: RenderInputs) -> Renderer:
    """The open items' CSV."""
    from reportgen.output.itemscsv import CsvRenderer

    return CsvRenderer(inputs.summary)


def pdf_renderer(inputs: RenderInputs) -> Renderer:
    """The PDFs' renderer: it carries the evidence (else the records) when asked to attach it."""
    from reportgen.output.pdf import PdfRenderer, evidence_ndjson

    attached = None
    if pdf_attaches(inputs.options):
        carried = inputs.records if inputs.evidence is None else inputs.evidence
        if inputs.summary.inputs.records and not carried:
            raise ValueError("internal error: --attach-evidence needs the loaded records")
        attached = evidence_ndjson(carried, inputs.summary.inputs)
    return PdfRenderer(inputs.summary, inputs.options.pdf, attached)


def pdf_attaches(options: Options) -> bool:
    """The PDFs attach the evidence when asked to."""
    return options.pdf.attach_evidence


def pdf_parameters(options: Options) -> dict[str, Any]:
    """How the PDFs were made, as the manifest records it."""
    pdf = options.pdf
    return {
        "author": pdf.author,
        "variant": pdf.variant,
        "max_rows": pdf.max_rows,
        "attach_evidence": pdf.attach_evidence,
    }


REGISTRY: dict[str, Format] = {
    f.name: f
    for f in (
        Format("html", "HTML", html_renderer, "text/html"),
        Format("md", "Markdown", md_renderer, "text/markdown"),
        Format(
            "pdf",
            "PDF",
            pdf_renderer,
            "application/pdf",
            worker=True,
            attaches_evidence=pdf_attaches,
            parameters=pdf_parameters,
        ),
        Format(
            "json",
            "JSON",
            json_renderer,
            "application/json",
            per_document=False,
            pack_files={"summary": "Summary"},
        ),
        # In the default set, so every default pack has its open items as data for spreadsheets.
        Format(
            "csv",
            "CSV",
            csv_renderer,
            "text/csv",
            per_document=False,
            pack_files={"open-items": "Open items"},
        ),
    )
}


def format_names() -> tuple[str, ...]:
    """Every format's name, in the pack's fixed order."""
    return tuple(REGISTRY)


def selected(formats: Sequence[str]) -> list[Format]:
    """The registered formats among these names, in the registry's order."""
    return [f for name, f in REGISTRY.items() if name in formats]


def attaches_evidence(options: Options) -> bool:
    """Whether any format asked for attaches every input record."""
    return any(f.attaches_evidence(options) for f in selected(options.formats))


def renderers(inputs: RenderInputs) -> dict[str, Renderer]:
    """One renderer per format asked for, by format name."""
    return {f.name: f.renderer(inputs) for f in selected(inputs.options.formats)}
