"""`reportgen publish PACK --to DIR`: a pack's documents as wiki pages, MkDocs pages or Confluence XHTML.

The destination is a pure function of the packs published into it: every pack page and the index
page are rendered again from the summaries kept beside the pages, so publishing the same pack
twice writes nothing, and a pack published out of order still lands in its place. Everything is
rendered and checked in memory first; then only files whose bytes differ are written.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import orjson
from markdown_it import MarkdownIt
from markupsafe import Markup

from .history import Changes, HistoryError, compare, read_summary
from .render import encode_text, environment
from .stream import MIB, read_capped
from .summary import Summary
from .verdict import OpenItem, utc_iso

FORMATS = ("wiki", "mkdocs", "confluence")
DOCUMENTS = {"closure-dashboard": "Final reporting closure dashboard", "operator-runbook": "Operator runbook"}
ATTACHMENTS = ("closure-dashboard.pdf", "operator-runbook.pdf", "summary.json", "manifest.json")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NAV_ENTRY = "Readiness packs: readiness-packs/index.md"
# The most read of one file of a pack to publish (a PDF with the evidence attached included).
PACK_FILE_BYTES = 1024 * MIB
# Confluence storage format is XHTML: markup-it's raw <br> must be closed to be well-formed XML.
RAW_BREAK = "<br>"


class PublishError(Exception):
    """A pack that cannot be published as asked."""


@dataclass(frozen=True)
class Layout:
    """Where one format puts the index page, each pack's page, its documents and attachments."""

    format: str
    index: str
    pack: str
    document: str
    attachment: str
    suffix: str


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
class Published:
    """What publishing did: the files it wrote (relative to DIR), and whether it committed."""

    page: str
    written: tuple[str, ...]
    committed: bool


# --- reading the pack -------------------------------------------------------------------------


def page_name(name: str, summary: Summary) -> str:
    """A pack's stable page name: its name and its as-of time."""
    return UNSAFE.sub("-", f"{name}-{summary.as_of:%Y%m%dT%H%M%SZ}").strip("-.")


def read_manifest(folder: Path) -> dict[str, object]:
    """The pack's manifest parameters (name, title), or nothing when it has no manifest."""
    try:
        data = orjson.loads(read_capped(folder / "manifest.json"))
    except (OSError, orjson.JSONDecodeError):
        return {}
    parameters = data.get("predicate", {}).get("parameters", {}) if isinstance(data, dict) else {}
    return parameters if isinstance(parameters, dict) else {}


def read_pack(folder: Path) -> tuple[Pack, dict[str, bytes]]:
    """A built pack: who it is, and its files by name."""
    if not folder.is_dir():
        raise PublishError(f"{folder}: not a folder (give a pack built by `reportgen build`)")
    if not (folder / "summary.json").is_file():
        raise PublishError(f"{folder}: no summary.json (build the pack with --format json)")
    try:
        summary = read_summary(folder)
    except HistoryError as exc:
        raise PublishError(str(exc)) from None
    missing = [f"{doc}.md" for doc in DOCUMENTS if not (folder / f"{doc}.md").is_file()]
    if missing:
        raise PublishError(f"{folder}: no {', '.join(missing)} (build the pack with --format md)")
    names = [f"{doc}.md" for doc in DOCUMENTS] + [n for n in ATTACHMENTS if (folder / n).is_file()]
    try:
        files = {n: read_capped(folder / n, PACK_FILE_BYTES) for n in names}
    except OSError as exc:
        raise PublishError(f"{exc.filename or folder}: cannot read: {exc.strerror or exc}") from None
    return pack_of(folder, summary), files


def pack_of(folder: Path, summary: Summary) -> Pack:
    """A pack's identity from its manifest, or from its folder's name."""
    parameters = read_manifest(folder)
    name = str(parameters.get("name") or folder.name)
    title = str(parameters.get("title") or name)
    return Pack(page_name(name, summary), name, title, summary)


def published_packs(root: Path, layout: Layout) -> dict[str, Pack]:
    """The packs already published in DIR, found by the summary kept beside each page."""
    found = {}
    pattern = layout.attachment.format(page="*", file="summary.json")
    for path in sorted(root.glob(pattern)):
        try:
            summary = read_summary(path)
        except HistoryError:
            continue
        pack = pack_of(path.parent, summary)
        found[path.parent.name] = Pack(path.parent.name, pack.name, pack.title, summary)
    return found


# --- the pages --------------------------------------------------------------------------------


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


def rel(target: str, source: str) -> Markup:
    """The relative link from the page at `source` to `target` (both relative to DIR; safe names only)."""
    return Markup(posixpath.relpath(target, posixpath.dirname(source) or "."))


def when(value: datetime | None) -> str:
    """A time as the pages show it, UTC stated."""
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def pack_row(pack: Pack, layout: Layout, source: str) -> PackRow:
    """A pack's verdict in one row, linked from the page at `source`."""
    closure, readiness = pack.summary.closure, pack.summary.readiness
    return PackRow(
        page=Link(pack.page, rel(layout.pack.format(page=pack.page), source)),
        title=pack.title,
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
        reason=pack.summary.readiness.release_decision.reason,
        index=Link("Readiness packs", rel(layout.index, source)),
        documents=documents,
        attachments=attachments,
        accepted=tuple(accepted_row(i) for i in pack.summary.closure.accepted_items),
        previous=Link(previous.page, rel(layout.pack.format(page=previous.page), source)) if previous else None,
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
    return f"[Readiness packs]({index}) › [{pack.page}]({page})\n\n".encode()


# --- assembling and writing -------------------------------------------------------------------


def page_bytes(markdown: bytes, layout: Layout) -> bytes:
    """A page in the layout's format: Markdown as is, or Confluence XHTML."""
    return to_xhtml(markdown) if layout.format == "confluence" else markdown


def attached(root: Path, layout: Layout, pack: Pack, current: Pack, files: dict[str, bytes]) -> list[str]:
    """The attachments of a pack: the new pack's files, or what an earlier pack has beside its page."""
    if pack.page == current.page:
        return [name for name in ATTACHMENTS if name in files]
    return [n for n in ATTACHMENTS if (root / layout.attachment.format(page=pack.page, file=n)).is_file()]


def pack_pages(root: Path, layout: Layout, current: Pack, files: dict[str, bytes]) -> dict[str, bytes]:
    """Every pack's page and the index page, rendered from every pack published so far and the new one."""
    packs = published_packs(root, layout) | {current.page: current}
    ordered = sorted(packs.values(), key=lambda p: (p.summary.as_of, p.page))
    pages = {}
    for number, pack in enumerate(ordered):
        previous = ordered[number - 1] if number else None
        page = pack_page(pack, previous, layout, attached(root, layout, pack, current, files))
        pages[layout.pack.format(page=pack.page)] = page_bytes(render_md("publish-pack.md.j2", page=page), layout)
    rows = [pack_row(p, layout, layout.index) for p in reversed(ordered)]
    pages[layout.index] = page_bytes(render_md("publish-index.md.j2", rows=rows), layout)
    return pages


def plan(root: Path, layout: Layout, pack: Pack, files: dict[str, bytes]) -> dict[str, bytes]:
    """Every file publishing should leave in DIR, by path relative to DIR."""
    out = {}
    for doc in DOCUMENTS:
        path = layout.document.format(page=pack.page, doc=doc)
        out[path] = page_bytes(breadcrumb(pack, layout, path) + files[f"{doc}.md"], layout)
    for name in ATTACHMENTS:
        if name in files:
            out[layout.attachment.format(page=pack.page, file=name)] = files[name]
    out |= pack_pages(root, layout, pack, files)
    config = mkdocs_config(root) if layout.format == "mkdocs" else None
    if config is not None:
        out["mkdocs.yml"] = config
    return dict(sorted(out.items()))


def mkdocs_config(root: Path) -> bytes | None:
    """mkdocs.yml with a nav entry for the packs; None when it needs none (already there, or no nav)."""
    path = root / "mkdocs.yml"
    if not path.exists():
        return f"site_name: Release readiness\nnav:\n  - {NAV_ENTRY}\n".encode()
    lines = read_capped(path).decode("utf-8").splitlines()
    start = next((n for n, line in enumerate(lines) if re.fullmatch(r"nav:\s*", line)), None)
    if start is None or any("readiness-packs/index.md" in line for line in lines):
        return None  # without a nav, MkDocs lists every page itself
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t-#"):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    first = next((line for line in lines[start + 1 : end] if line.lstrip().startswith("-")), "  -")
    lines.insert(end, f"{first[: len(first) - len(first.lstrip())]}- {NAV_ENTRY}")
    return ("\n".join(lines) + "\n").encode()


def write_changed(root: Path, files: dict[str, bytes]) -> list[str]:
    """Write the files whose bytes differ from what DIR holds; return their paths."""
    written = []
    for name, data in files.items():
        target = root / name
        if target.is_file() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.publishing")
        staging.write_bytes(data)
        os.replace(staging, target)
        written.append(name)
    return written


def git(root: Path, *args: str) -> str:
    """Run git in DIR; a failure becomes a PublishError with git's own message."""
    try:
        done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise PublishError("git is not installed (--commit needs it)") from None
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or exc.stdout or "").strip().splitlines() or ["failed"]
        raise PublishError(f"git {args[0]}: {message[0]}") from None
    return done.stdout


def commit(root: Path, paths: list[str], message: str) -> bool:
    """Commit the published files (only those); False when git has nothing new for them."""
    git(root, "add", "--", *paths)
    if not git(root, "status", "--porcelain", "--", *paths).strip():
        return False
    git(root, "commit", "-q", "-m", message, "--", *paths)
    return True


def commit_message(pack: Pack) -> str:
    """A descriptive commit message: which pack, and its verdict."""
    summary = pack.summary
    items = summary.closure.open_items
    return (
        f"Publish readiness pack {pack.page}\n\n"
        f"{pack.title}: closure {summary.closure.state}, readiness {summary.readiness.state} "
        f"({summary.readiness.release_decision.recommended_state}); {len(items)} open items "
        f"({sum(i.severity == 'critical' for i in items)} critical), {len(summary.closure.accepted_items)} accepted; "
        f"evidence as of {utc_iso(summary.as_of)} (rules: {summary.rules}).\n"
    )


def publish(pack_dir: Path, root: Path, fmt: str = "wiki", do_commit: bool = False) -> Published:
    """Publish a built pack into DIR in one format; commit the pages when asked."""
    if fmt not in LAYOUTS:
        raise PublishError(f"unknown format {fmt} (choose from {', '.join(FORMATS)})")
    pack, files = read_pack(pack_dir)
    if root.exists() and not root.is_dir():
        raise PublishError(f"{root}: exists and is not a folder")
    if do_commit:
        git(root, "rev-parse", "--is-inside-work-tree")
    planned = plan(root, LAYOUTS[fmt], pack, files)
    written = write_changed(root, planned)
    committed = commit(root, list(planned), commit_message(pack)) if do_commit else False
    return Published(pack.page, tuple(written), committed)
