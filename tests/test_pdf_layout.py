"""On paper a group of open items or a runbook step is never cut in two, and codes wrap at their
separators, never mid-word."""

from __future__ import annotations

import re
import subprocess
import sys

import pypdf
import pytest
from evidence import ROOT

from reportgen.evidence.load import load
from reportgen.judge.groups import group_items
from reportgen.judge.summary import summarise


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    out = tmp_path_factory.mktemp("layout") / "pack"
    args = ("build", "-q", "-j1", "fixtures/example", "--out", str(out), "--format", "pdf,json")
    result = subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1, result.stderr
    return out


@pytest.fixture(scope="module")
def summary():
    return summarise(load([str(ROOT / "fixtures" / "example")]))


def pages(pack, document: str) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(pack / f"{document}.pdf").pages]


def page_of(texts: list[str], needle: str, after: int = 0) -> int:
    """The first page (0-based, from `after` on) whose text holds `needle`."""
    return next(n for n, text in enumerate(texts) if n >= after and needle in text.replace("\n", " "))


def test_no_runbook_step_is_cut_across_two_pages(pack, summary):
    texts = pages(pack, "operator-runbook")
    groups = group_items(summary.closure.open_items)
    assert len(groups) >= 2
    for number, group in enumerate(groups, 1):
        start = page_of(texts, f"Step {number}.")
        # A step is one group: its heading, its action and its last example item are on one page.
        assert page_of(texts, group.example_ids[-1], start) == start, f"step {number} is cut across two pages"


def test_no_group_card_of_the_dashboard_is_cut_across_two_pages(pack, summary):
    texts = pages(pack, "closure-dashboard")
    for number, group in enumerate(group_items(summary.closure.open_items), 1):
        start = page_of(texts, group.title)
        assert page_of(texts, group.example_ids[-1], start) == start, f"group {number} is cut across two pages"


def test_codes_wrap_at_an_underscore_on_paper_never_mid_word(pack, summary):
    words = set()
    for check in summary.readiness.checks:
        words.update(check.id.split("_"))
    for item in summary.closure.open_items:
        words.update(item.code.split("_"))
    lines = [
        line for page in pages(pack, "operator-runbook") + pages(pack, "closure-dashboard") for line in page.split("\n")
    ]
    cut = []
    for line, following in zip(lines, lines[1:], strict=False):
        tail, head = re.split(r"[\s_]", line)[-1], re.split(r"[\s_]", following)[0]
        if tail and head and tail not in words and head not in words and (tail + head) in words:
            cut.append(f"{line!r} / {following!r}")
    assert cut == []
