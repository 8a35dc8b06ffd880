"""Rendering: the one Jinja environment, Markdown escaping, the renderers, and the writer.

Every document of the pack is rendered from the same view model. HTML is autoescaped by Jinja;
Markdown templates get the same protection from `md_escape`, applied to every expression they
output (a `Markup` value is trusted as-is, as in HTML). The PDF renderer (`reportgen.output.pdf`)
prints the HTML with WeasyPrint; `reportgen.output.formats` says which renderer makes which format.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import jinja2
from markupsafe import Markup

from reportgen.evidence.visible import inert_links, show_controls
from reportgen.judge.summary import Summary
from reportgen.output.islands import packed_rows, packed_text
from reportgen.view.model import ReportView

TEMPLATES = "reportgen.templates"
STYLESHEET = "pack.css"
SCRIPT = "dashboard.js"
# Print and PDF rules, inlined right after the stylesheet, so a browser prints what a PDF shows.
PRINT_STYLESHEET = "print.css"

MD_SPECIAL = re.compile(r"([\\`*\[\]<>#|~&$])")
# An underscore between two ASCII letters or digits can never open or close emphasis.
MD_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
MD_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")
NEWLINES = re.compile(r"\r\n|\r|\n")
BLANK_RUNS = re.compile(r"\n{3,}")


def md_escape(value: Any) -> Markup:
    """Escape a value for GitHub-flavoured Markdown: inline text that also survives in a table cell."""
    if isinstance(value, Markup):
        return value
    text = MD_SPECIAL.sub(r"\\\1", show_controls(str(value)))
    text = MD_UNDERSCORE.sub(r"\\_", text)
    text = MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", text)
    return Markup(NEWLINES.sub("<br>", inert_links(text)))


@jinja2.pass_eval_context
def finalize(eval_ctx: jinja2.nodes.EvalContext, value: Any) -> Any:
    """Escape every expression of a Markdown template, as autoescape does for HTML; controls shown in both."""
    if not eval_ctx.autoescape:
        return md_escape(value)
    return show_controls(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def autoescape(name: str | None) -> bool:
    """HTML escaping everywhere but in Markdown templates, which `finalize` escapes instead."""
    return not (name or "").endswith(".md.j2")


# --- where long codes, ids and paths may break -------------------------------------------------

# Neither a browser nor WeasyPrint may break `hold_release_closure` but mid-word: an underscore is
# no break opportunity. So the text of every page gets a <wbr> (a break opportunity that copies,
# searches and reads as nothing) where a code may wrap, and the stylesheets never need to let a
# word break anywhere. Text of an element with class `mono` or `wrap` (or a <code>): after each
# _ - / . and in every run of 16 characters with none (an id or hash wraps at a fixed group, as a
# sha256 does, so a table of ids still fits a page); prose: after each _ between two word
# characters (a code quoted in a sentence) and in every run of 32 characters with no break, so no
# word of either is longer than that.
MONO_BREAKS = re.compile(r"([_/.-])(?=[^\s<])")
PROSE_BREAKS = re.compile(r"(?<=\w)_(?=\w)")
LONG_RUN = re.compile(r"[^\s_/.&;<>-]{32}(?=[^\s_/.&;<>-])")
LONG_MONO_RUN = re.compile(r"[^\s_/.&;<>-]{16}(?=[^\s_/.&;<>-])")
# A sha256 is written in four groups of 16 that never break inside (`.digest-part`), so a digest
# wraps, when it must, at a group: never one character alone on a line.
DIGEST = re.compile(r"\b([0-9a-f]{16})([0-9a-f]{16})([0-9a-f]{16})([0-9a-f]{16})\b")
DIGEST_GROUPS = "<wbr>".join(rf'<span class="digest-part">\{group}</span>' for group in range(1, 5))
HTML_TOKEN = re.compile(r"(<!--.*?-->|<(script|style)\b.*?</\2\s*>|<[^>]*>)", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)([^>]*?)(/?)>", re.DOTALL)
BREAKABLE_CLASS = re.compile(r"""\bclass\s*=\s*["'][^"']*\b(mono|wrap)\b""", re.IGNORECASE)
VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
# Elements whose text is not laid out as a page's text (or may hold no element).
UNTOUCHED = frozenset("head title svg math select option textarea".split())
SKIP, PROSE, MONO = 0, 1, 2


def breakable(page: str, inside_body: bool = False) -> str:
    """The HTML page (or, INSIDE_BODY, a fragment of its body) with `<wbr>` where its codes, ids,
    paths and hashes may wrap (see above)."""
    out: list[str] = []
    top = PROSE if inside_body else SKIP
    open_tags: list[tuple[str, int]] = []
    for index, part in enumerate(HTML_TOKEN.split(page)):
        if part is None or index % 3 == 2:
            continue  # the script/style name group of the split
        if index % 3 == 0:
            out.append(_breakable_text(part, open_tags[-1][1] if open_tags else top))
            continue
        out.append(part)
        tag = TAG.fullmatch(part)
        if tag is None:
            continue
        closing, name, attributes, self_closing = tag[1], tag[2].lower(), tag[3], tag[4]
        if closing:
            while open_tags and open_tags.pop()[0] != name:
                pass
        elif name not in VOID and not self_closing:
            open_tags.append((name, _context(name, attributes, open_tags[-1][1] if open_tags else top)))
    return "".join(out)


def _context(name: str, attributes: str, parent: int) -> int:
    """How the text of a new element may break, inside its parent's."""
    if name in UNTOUCHED:
        return SKIP
    if name == "body":
        return PROSE
    if parent == SKIP or parent == MONO:
        return parent
    return MONO if name == "code" or BREAKABLE_CLASS.search(attributes) else PROSE


def _breakable_text(text: str, context: int) -> str:
    """One text of the page with its break opportunities."""
    if context == SKIP or not text.strip():
        return text
    if context == PROSE:
        return LONG_RUN.sub(r"\g<0><wbr>", PROSE_BREAKS.sub("_<wbr>", text))
    text = MONO_BREAKS.sub(r"\1<wbr>", text)
    if DIGEST.search(text):
        return DIGEST.sub(DIGEST_GROUPS, text)
    return LONG_MONO_RUN.sub(r"\g<0><wbr>", text)


class HtmlTemplate(jinja2.Template):
    """A template whose HTML pages (`.html.j2`) leave long codes room to wrap: see `breakable`."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        text = super().render(*args, **kwargs)
        return breakable(text) if (self.name or "").endswith(".html.j2") else text


@functools.cache
def environment() -> jinja2.Environment:
    """The one Jinja environment of reportgen."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATES, "."),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=finalize,
    )
    env.template_class = HtmlTemplate
    env.filters["md"] = md_escape
    env.filters["packed"] = packed_text
    env.filters["packed_rows"] = packed_rows
    env.filters["packed_markup"] = lambda markup: packed_text(breakable(str(markup), inside_body=True))
    env.globals["stylesheet"] = Markup("\n".join(stylesheet_text(name) for name in (STYLESHEET, PRINT_STYLESHEET)))
    env.globals["script"] = inline_script(SCRIPT)
    return env


@dataclass(frozen=True)
class InlineScript:
    """A script inlined into every page, and the Content-Security-Policy source that allows it alone."""

    element: Markup
    csp: Markup


def inline_script(name: str) -> InlineScript:
    """Read a script, normalised as every page is, and hash exactly the text the page will hold."""
    body = "\n" + encode_text(resources.files(TEMPLATES).joinpath(name).read_text("utf-8")).decode("utf-8")
    if "</script" in body.lower() or "<!--" in body:
        raise ValueError(f"{name}: an inline script must not contain '</script' or '<!--'")
    digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
    return InlineScript(Markup(f"<script>{body}</script>"), Markup(f"'sha256-{digest}'"))


def stylesheet_text(name: str) -> str:
    """A stylesheet of the package, as text."""
    return resources.files(TEMPLATES).joinpath(name).read_text("utf-8")


def encode_text(text: str) -> bytes:
    """Normalise a rendered text (LF newlines, no trailing spaces, no blank runs, one final newline)."""
    lines = [line.rstrip() for line in NEWLINES.split(text)]
    body = BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip("\n")
    return (body + "\n").encode("utf-8")


def write_file(path: Path, data: bytes) -> None:
    """The one writer: every file of a pack is written here, as bytes, and synced to disk."""
    with open(path, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


class WorkerError(Exception):
    """A file a worker process could not make (it failed, crashed, or ran out of memory or time)."""


class Renderer(Protocol):
    """One output format: renders a named document of the pack to bytes."""

    format: str
    suffix: str

    def render(self, document: str, view: ReportView) -> bytes:
        """The document's bytes in this format."""
        ...


class TemplateRenderer:
    """A format rendered from `<document>.<suffix>.j2` templates."""

    def __init__(self, format: str, suffix: str) -> None:
        self.format = format
        self.suffix = suffix

    def render(self, document: str, view: ReportView) -> bytes:
        """Render the document's template with the view."""
        template = environment().get_template(f"{document}.{self.suffix}.j2")
        return encode_text(template.render(view=view))


class JsonRenderer:
    """The summary, as `summary.json`."""

    format = "json"
    suffix = "json"

    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def render(self, document: str, view: ReportView) -> bytes:
        """The summary's deterministic JSON (the view is not needed)."""
        return self.summary.to_json()
