"""Markup in evidence is shown as text in every format: no element, link or structure is made from it."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from evidence import A1, EXEC_ACK, EXEC_PLAN, example, record, write_ndjson
from markdown_it import MarkdownIt
from pagescripts import as_markup

PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src="http://127.0.0.1:9/x" onerror="alert(2)">',
    "javascript:alert(3)",
    "[click](javascript:alert(4))",
    "![pixel](http://127.0.0.1:9/p.png)",
    "| a | b |",
    "`code` ```fence```",
    "# Heading",
    "<div>raw html block</div>",
    "evil\u202egnp.exe\u2066x\u2069",
]
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def hostile(text: str) -> list[dict]:
    """The example chain with text in every field the documents show: provider, ids, reasons, kinds."""
    records = example()
    failed = record(records, A1)
    failed["providers"] = failed["failed_providers"] = ["slack", text]
    plan = record(records, EXEC_PLAN)
    plan["acknowledgement_required_providers"].append(text)
    record(records, EXEC_ACK)["provider"] = text
    records.append({"session_id": f"x-{text}", "metadata_kind": f"kind-{text}", "created_at": "2025-06-02T10:00:00Z"})
    records.append({"session_id": f"y-{text}", "metadata_kind": "release-connector-delivery", "created_at": text})
    return records


def build(folder: Path, text: str) -> Path:
    """Build a pack (HTML and Markdown) from evidence carrying the text."""
    evidence = write_ndjson(folder / "evidence.ndjson", hostile(text))
    out = folder / "pack"
    subprocess.run(
        [sys.executable, "-m", "reportgen", "build", str(evidence), "--out", str(out), "--format", "html,md,json"],
        capture_output=True,
        timeout=300,
        check=False,
    )
    return out


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A pack built with every payload at once, and the same built with plain text instead."""
    payload = " ".join(PAYLOADS)
    return build(tmp_path_factory.mktemp("hostile"), payload), build(tmp_path_factory.mktemp("plain"), "plaintext")


class Elements(HTMLParser):
    """Counts elements, event-handler attributes and script-like URLs of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.handlers: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Note one element."""
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.handlers += [name for name, _ in attrs if name.startswith("on")]
        self.urls += [v or "" for name, v in attrs if name in ("href", "src", "action")]


def elements(path: Path) -> Elements:
    """Parse one HTML file."""
    parser = Elements()
    parser.feed(as_markup(path.read_text()))
    return parser


@pytest.mark.parametrize("name", ["closure-dashboard.html", "operator-runbook.html", "index.html"])
def test_html_makes_no_element_link_or_handler_from_evidence(packs, name):
    evil, plain = (elements(p / name) for p in packs)
    assert evil.tags.get("script", 0) == plain.tags.get("script", 0)
    assert evil.tags.get("img", 0) == plain.tags.get("img", 0) == 0
    assert evil.tags.get("a", 0) == plain.tags.get("a", 0)
    assert not evil.handlers
    assert not [u for u in evil.urls if u.lower().startswith(("javascript:", "http:", "https:", "data:", "file:"))]


def markdown_tokens(path: Path) -> list:
    """Every token of a Markdown file, inline children included."""
    md = MarkdownIt("commonmark").enable("table")
    tokens = []
    for token in md.parse(path.read_text()):
        tokens.append(token)
        tokens.extend(token.children or [])
    return tokens


@pytest.mark.parametrize("name", ["closure-dashboard.md", "operator-runbook.md"])
def test_markdown_makes_no_structure_from_evidence(packs, name):
    evil, plain = (markdown_tokens(p / name) for p in packs)
    assert not [t for t in evil if t.type in ("html_block", "html_inline", "image", "code_inline", "fence")]
    hrefs = [t.attrGet("href") for t in evil if t.type == "link_open"]
    assert all(str(h).startswith("#") or "/" not in str(h) and ":" not in str(h) for h in hrefs), hrefs
    for kind in ("heading_open", "table_open", "tr_open", "link_open", "bullet_list_open"):
        assert sum(t.type == kind for t in evil) == sum(t.type == kind for t in plain), kind
    cells = [sum(1 for t in row if t.type in ("th_open", "td_open")) for row in _rows(evil)]
    assert cells == [sum(1 for t in row if t.type in ("th_open", "td_open")) for row in _rows(plain)]


def _rows(tokens: list) -> list[list]:
    """The tokens of each table row."""
    rows, current = [], None
    for token in tokens:
        if token.type == "tr_open":
            current = []
        elif token.type == "tr_close":
            rows.append(current)
            current = None
        elif current is not None:
            current.append(token)
    return rows


@pytest.mark.parametrize(
    "name", ["closure-dashboard.html", "closure-dashboard.md", "operator-runbook.md", "summary.json"]
)
def test_bidi_controls_never_reach_an_output_raw(packs, name):
    text = (packs[0] / name).read_text()
    assert "gnp.exe" in text  # the evidence is shown...
    assert not any(c in text for c in BIDI)  # ...but cannot reorder what is around it
