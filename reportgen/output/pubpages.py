"""The pages `reportgen publish` writes for one pack: where each format puts them, and what they say.

Rendered from the pack's summary and manifest parameters (`Pack`) with the publish templates; the
Confluence format converts the rendered Markdown to XHTML.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.judge.history import Changes, compare
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import OpenItem
from reportgen.output.render import encode_text, environment, md_escape
from reportgen.output.target import PublishError
from reportgen.view.items import reason_text

DOCUMENTS = {"closure-dashboard": "Final reporting closure dashboard", "operator-runbook": "Operator runbook"}
# C0 and C1 controls but the newline (which Markdown escaping turns into a line break), DEL, bidi controls.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# Confluence storage format is XHTML: markup-it's raw <br> must be closed to be well-formed XML.
RAW_BREAK = "<br>"


@dataclass(frozen=True)
class Layout:
    """Where one format puts the index page, each pack's page, its documents and attachments."""

    format: str
    index: str
    pack: str
    document: str
    attachment: str
    suffix: str

    @property
    def pack_folders(self) -> str:
        """The folder holding one folder per published pack ("" for DIR itself)."""
        return self.attachment.split("{page}")[0].rstrip("/")


LAYOUTS = {
    "wiki": Layout("wiki", "Readiness-packs.md", "{page}.md", "{page}-{doc}.md", "attachments/{page}/{file}", "md"),
    "mkdocs": Layout(
        "mkdocs",
        "docs/readiness-packs/index.md",
        "docs/readiness-packs/{page}/index.md",
        "docs/readiness-packs/{page}/{doc}.md",
        "docs/readiness-packs/{page}/{file}",
        "md",
    ),
    "confluence": Layout(
        "confluence", "readiness-packs.xhtml", "{page}/index.xhtml", "{page}/{doc}.xhtml", "{page}/{file}", "xhtml"
    ),
}


@dataclass(frozen=True)
class Pack:
    """One published pack: its page name, summary and manifest parameters."""

    page: str
    name: str
    title: str
    summary: Summary


@dataclass(frozen=True)
class Link:
    """A relative link from one published page to another file."""

    text: str
    href: Markup


@dataclass(frozen=True)
class PackRow:
    """One pack as the index and its own page show it."""

    page: Link
    title: str
    as_of: str
    closure: str
    readiness: str
    decision: str
    open_items: int
    critical: int
    accepted: int


@dataclass(frozen=True)
class AcceptedRow:
    """One accepted item: what it is, and who accepted it until when."""

    title: str
    code: str
    provider: str
    health_id: str
    waiver: str
    approved_by: str
    approved_at: str
    expires_at: str
    justification: str


@dataclass(frozen=True)
class PackPage:
    """Everything a pack's page shows."""

    row: PackRow
    reason: str
    index: Link
    documents: tuple[Link, ...]
    attachments: tuple[Link, ...]
    accepted: tuple[AcceptedRow, ...]
    previous: Link | None
    opened: tuple[str, ...]
    closed: tuple[str, ...]
    changed: tuple[str, ...]


def rel(destination: str, source: str) -> Markup:
    """The relative link from the page at `source` to `destination` (both relative to DIR), percent-encoded.

    Folder names in DIR are anyone's: encoding every byte but letters, digits, `-._~` and `/` keeps a
    name from ending the link (`)`, `>`, a space or a newline), making a fragment or a scheme
    (`#`, `:`), or reaching the page as markup in any format.
    """
    return Markup(quote(posixpath.relpath(destination, posixpath.dirname(source) or "."), safe="/"))


def label(page: str) -> str:
    """A page name or title as text: control characters (a folder name is anyone's) shown as visible escapes."""
    return CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", page)


def when(value: datetime | None) -> str:
    """A time as the pages show it, UTC stated."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def pack_row(pack: Pack, layout: Layout, source: str) -> PackRow:
    """A pack's verdict in one row, linked from the page at `source`."""
    closure, readiness = pack.summary.closure, pack.summary.readiness
    return PackRow(
        page=Link(label(pack.page), rel(layout.pack.format(page=pack.page), source)),
        title=label(pack.title),
        as_of=when(pack.summary.as_of),
        closure=closure.state,
        readiness=readiness.state,
        decision=readiness.release_decision.recommended_state,
        open_items=len(closure.open_items),
        critical=sum(i.severity == "critical" for i in closure.open_items),
        accepted=len(closure.accepted_items),
    )


def accepted_row(item: OpenItem) -> AcceptedRow:
    """One accepted item for the pack page."""
    waiver = item.waiver
    return AcceptedRow(
        title=item.title,
        code=item.code,
        provider=item.provider or "—",
        health_id=item.health_id or "—",
        waiver=waiver.id if waiver else "—",
        approved_by=waiver.approved_by if waiver else "—",
        approved_at=when(waiver.approved_at if waiver else None),
        expires_at=when(waiver.expires_at if waiver else None),
        justification=waiver.justification if waiver else "—",
    )


def item_text(item: OpenItem) -> str:
    """An item in a change list."""
    return f"{item.title} ({item.code}; provider {item.provider or '—'}; health id {item.health_id or '—'})"


def change_lists(changes: Changes | None) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """Items opened, closed and changed since the previous pack, as text."""
    if changes is None:
        return (), (), ()
    changed = tuple(f"{item_text(c.item)}: {c.before} → {c.after}" for c in changes.changed)
    return tuple(map(item_text, changes.opened)), tuple(map(item_text, changes.closed)), changed


def pack_page(pack: Pack, previous: Pack | None, layout: Layout, files: Iterable[str]) -> PackPage:
    """A pack's page: its verdict, documents, attachments, accepted items and changes since the previous pack."""
    source = layout.pack.format(page=pack.page)
    documents = tuple(
        Link(title, rel(layout.document.format(page=pack.page, doc=doc), source)) for doc, title in DOCUMENTS.items()
    )
    attachments = tuple(Link(f, rel(layout.attachment.format(page=pack.page, file=f), source)) for f in files)
    changes = compare(previous.summary, pack.summary) if previous else None
    opened, closed, changed = change_lists(changes)
    return PackPage(
        row=pack_row(pack, layout, source),
        reason=reason_text(pack.summary.readiness.release_decision),
        index=Link("Readiness packs", rel(layout.index, source)),
        documents=documents,
        attachments=attachments,
        accepted=tuple(accepted_row(i) for i in pack.summary.closure.accepted_items),
        previous=Link(label(previous.page), rel(layout.pack.format(page=previous.page), source)) if previous else None,
        opened=opened,
        closed=closed,
        changed=changed,
    )


def render_md(template: str, **context: object) -> bytes:
    """A publishing page rendered from its Markdown template."""
    return encode_text(environment().get_template(template).render(**context))


def to_xhtml(markdown: bytes) -> bytes:
    """Markdown as Confluence storage-format XHTML, checked to be well-formed XML."""
    source = markdown.decode("utf-8").replace(RAW_BREAK, "<br />")
    html = MarkdownIt("commonmark", {"xhtmlOut": True, "html": True}).enable("table").render(source)
    try:
        ET.fromstring(f"<page>{html}</page>")
    except ET.ParseError as exc:
        raise PublishError(f"internal error: the Confluence page is not well-formed XML: {exc}") from None
    return encode_text(html)


def breadcrumb(pack: Pack, layout: Layout, source: str) -> bytes:
    """A line leading from a document back to its pack's page and the index."""
    index, page = rel(layout.index, source), rel(layout.pack.format(page=pack.page), source)
    return f"[Readiness packs]({index}) › [{md_escape(label(pack.page))}]({page})\n\n".encode()
