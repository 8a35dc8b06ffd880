"""Evidence that attacks the renderers: control characters, very long values, bare links.

One pack (HTML, Markdown, JSON and PDF) is built from evidence carrying every C0 and C1 control
and the Unicode line separators in providers, health ids, session ids, record kinds, rejection
reasons and the file name; runs of 2,000 to 20,000 characters in the same fields and in the path;
and URLs, `www.` names and e-mail addresses. Every format must show the controls as visible
marks, print its PDFs with a bounded page count, and turn no evidence text into a link.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest
from attack_evidence import LONG, SHOWN_POINTS, controlled, hostile_folder, long_value
from markdown_it import MarkdownIt
from markupsafe import Markup

from reportgen.output.render import md_escape

cmarkgfm = pytest.importorskip("cmarkgfm")
pytest.importorskip("linkify_it")

# A PDF of the example chain has a few pages; the long values may add some, never hundreds.
MAX_PAGES = 40
DOCUMENTS = ("closure-dashboard", "operator-runbook")
RAW_CONTROL = re.compile("[" + "".join(re.escape(chr(c)) for c in SHOWN_POINTS) + "]")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`reportgen ARGS` in a fresh process; a PDF that takes minutes fails instead of stalling."""
    env = {**os.environ, "REPORTGEN_PDF_TIMEOUT": "200"}
    command = [sys.executable, "-m", "reportgen", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=cwd, env=env, errors="replace")


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hostile evidence folder."""
    return hostile_folder(tmp_path_factory.mktemp("attacks"))


@pytest.fixture(scope="module")
def pack(evidence: Path) -> Path:
    """The pack of the hostile evidence, in every format."""
    out = evidence.parent / "pack"
    result = run("build", str(evidence), "--out", str(out), "--format", "html,md,json,pdf")
    assert result.returncode == 1, result.stderr  # open, and built
    return out


def pdf_text(path: Path) -> tuple[int, str]:
    """A PDF's page count and its text with the line breaks of its layout taken out."""
    reader = pypdf.PdfReader(path)
    return len(reader.pages), re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


# --- long values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS)
def test_long_values_still_give_a_pdf_of_bounded_length_that_says_it_shortened_them(pack, document):
    pages, text = pdf_text(pack / f"{document}.pdf")
    assert pages <= MAX_PAGES
    assert "shortenedinthisPDF" in text
    # A PDF lists open items as groups and rows: a provider is shown, a health id only in the HTML and JSON.
    for field in ("provider",):
        assert long_value(field)[:100] in text and long_value(field)[-20:] in text
        assert long_value(field)[:1000] not in text


def test_the_html_markdown_and_json_keep_every_long_value_whole(pack):
    for name in ("closure-dashboard.html", "closure-dashboard.md", "summary.json"):
        # The HTML may hold a <wbr> (a break opportunity, no text) in a long value, never cut it.
        text = (pack / name).read_text().replace("<wbr>", "")
        assert all(long_value(field) in text for field in ("provider", "health", "session", "kind")), name


def runs(node: Any) -> list[str]:
    """Every text of a view value at any depth, markup left out."""
    if isinstance(node, Markup):
        return []
    if isinstance(node, str):
        return [node]
    if isinstance(node, tuple | list):
        return [text for part in node for text in runs(part)]
    if is_dataclass(node) and not isinstance(node, type):
        return [text for f in fields(node) for text in runs(getattr(node, f.name))]
    return []


def test_no_text_the_pdf_prints_has_a_run_longer_than_the_limit(evidence):
    from reportgen.evidence.load import load
    from reportgen.judge.summary import summarise
    from reportgen.output.pack import PackOptions, pack_info
    from reportgen.output.pdf import MAX_TEXT, MAX_TOKEN, bounded_view
    from reportgen.view.build import build_view

    summary = summarise(load([str(evidence)]))
    view = build_view(summary, pack_info(summary, PackOptions()))
    assert max(len(run) for text in runs(view) for run in text.split()) >= max(LONG.values())
    for document in DOCUMENTS:
        printed = runs(bounded_view(view, summary, document, 200))
        assert max(len(run) for text in printed for run in text.split()) <= MAX_TOKEN
        assert max(len(text) for text in printed) <= MAX_TEXT + 1


# --- control characters --------------------------------------------------------------------------


def marks_in(text: str) -> set[int]:
    """The code points shown as `<U+XXXX>` marks (escaped or not) in a rendered text."""
    return {int(code, 16) for code in re.findall(r"U\+([0-9A-F]{4})", text)}


@pytest.mark.parametrize("name", [f"{d}.{s}" for d in DOCUMENTS for s in ("html", "md")] + ["index.html"])
def test_no_control_character_reaches_a_document_raw(pack, name):
    assert RAW_CONTROL.findall((pack / name).read_text()) == []


@pytest.mark.parametrize("name", [f"{d}.{s}" for d in DOCUMENTS for s in ("html", "md")])
def test_every_control_character_is_shown_as_a_mark(pack, name):
    text = (pack / name).read_text()
    assert set(SHOWN_POINTS) <= marks_in(text)
    assert "ctlprovider" in text and "ctlhealth" in text


def test_the_json_keeps_every_control_character_exactly_but_escaped(pack, evidence):
    printed = run("check", "--json", str(evidence)).stdout
    for text in ((pack / "summary.json").read_text(), printed):
        assert RAW_CONTROL.findall(text) == []
        providers = {item.get("provider") for item in json.loads(text)["closure"]["open_items"]}
        assert controlled("provider") in providers


@pytest.mark.parametrize("document", DOCUMENTS)
def test_no_control_character_reaches_a_pdf_raw(pack, document):
    text = "".join(page.extract_text() for page in pypdf.PdfReader(pack / f"{document}.pdf").pages)
    assert RAW_CONTROL.findall(text) == []
    assert set(SHOWN_POINTS) <= marks_in(text)


def test_confluence_pages_are_well_formed_and_show_the_controls(pack, tmp_path):
    result = run("publish", str(pack), "--to", str(tmp_path / "confluence"), "--format", "confluence")
    assert result.returncode == 0, result.stderr
    pages = sorted((tmp_path / "confluence").rglob("*.xhtml"))
    assert len(pages) == 4
    for page in pages:
        text = page.read_text()
        ET.fromstring(f"<page>{text}</page>")
        assert RAW_CONTROL.findall(text) == []
    assert "U+001B" in (pages[0].parent / "closure-dashboard.xhtml").read_text()


def test_the_terminal_shows_every_control_as_an_escape(evidence):
    result = run("check", str(evidence))
    assert result.returncode == 1, result.stderr
    assert RAW_CONTROL.findall(result.stdout + result.stderr) == []
    assert "\\u001b" in result.stdout and "\\u2028" in result.stdout


# --- links ---------------------------------------------------------------------------------------

SCHEMES = ("http://", "https://", "HTTPS://", "ftp://", "//")
HOSTS = ("evil.example", "www.evil.example:8080", "127.0.0.1", "user:pw@evil.example", "xn--80ak6aa92e.com")
TAILS = ("", "/path?q=1&r=2#frag", "/a_b-c.d/")
NAMES = ("www.evil.example", "WWW.Evil.Example/x", "www.evil.example.", "first.last+tag@mail.evil.example")
NAMES += ("mailto:ops@evil.example", "MAILTO:ops@evil.example", "xmpp:ops@evil.example", "ops@localhost")
AROUND = ("{}", "({})", "<{}>", "see {}.", "*{}*", "_{}_", "~{}~", "`{}`", '"{}"', "[{}]", "a{}b", "x,{};y")


def link_variants() -> list[str]:
    """URLs of several schemes and shapes, `www.` names and e-mail addresses, with punctuation around."""
    urls = [f"{s}{h}{t}" for s in SCHEMES for h in HOSTS for t in TAILS]
    return [around.format(text) for text in urls + list(NAMES) for around in AROUND]


def rendered_links(markdown: str) -> list[str]:
    """The link targets of a Markdown text as GitHub (cmark-gfm) and markdown-it with linkify show it."""
    github = cmarkgfm.github_flavored_markdown_to_html(markdown)
    linkified = MarkdownIt("gfm-like", {"linkify": True}).render(markdown)
    return re.findall(r'<a href="([^"]*)"', github) + re.findall(r'<a href="([^"]*)"', linkified)


def shown(markdown: str) -> str:
    """The text GitHub shows for a Markdown text."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown)
    text = re.sub(r"<[^>]+>", "", html).replace("\u2060", "").strip()
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def test_no_url_www_name_or_address_in_escaped_text_becomes_a_link():
    variants = link_variants()
    assert len(variants) > 500
    linked = [text for text in variants if rendered_links(str(md_escape(text)))]
    assert linked == []


def test_escaped_links_show_the_same_text():
    changed = [text for text in link_variants() if shown(str(md_escape(text))) != text]
    assert changed == []


LINKS = "see https://evil.example/x, www.evil.example and ops@evil.example (mailto:ops@evil.example)"


@pytest.fixture(scope="module")
def linked_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Markdown pack whose evidence holds links in a provider, a session id and a record kind."""
    from evidence import A1, example, record, write_ndjson

    folder = tmp_path_factory.mktemp("links")
    records = example()
    record(records, A1)["providers"] = record(records, A1)["failed_providers"] = ["slack", LINKS]
    records.append({"session_id": LINKS, "metadata_kind": f"kind {LINKS}", "created_at": "2025-06-02T10:00:00Z"})
    evidence = write_ndjson(folder / "links.ndjson", records)
    result = run("build", str(evidence), "--out", str(folder / "pack"), "--format", "md,json")
    assert result.returncode == 1, result.stderr
    return folder / "pack"


def internal(href: str) -> bool:
    """A link a pack makes itself: an anchor or a relative path to one of its files."""
    return href.startswith("#") or not re.search(r"[:@]|www\.|evil", href)


def test_no_evidence_text_becomes_a_link_in_the_pack_or_its_wiki_pages(linked_pack, tmp_path):
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    subprocess.run(["git", "init", "-q", str(wiki)], check=True)
    result = run("publish", str(linked_pack), "--to", str(wiki), "--format", "wiki")
    assert result.returncode == 0, result.stderr
    pages = sorted(linked_pack.glob("*.md")) + sorted(wiki.rglob("*.md"))
    assert len(pages) >= 4
    for page in pages:
        assert [href for href in rendered_links(page.read_text()) if not internal(href)] == [], page
    assert "www\\.evil.example" in (linked_pack / "closure-dashboard.md").read_text()  # shown, inert
