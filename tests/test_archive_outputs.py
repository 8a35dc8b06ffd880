"""The archive loop appears wherever the other loops do: terminal, documents, PDF outline, diff, history, publish."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pypdf
import pytest
from evidence import FIXTURES
from packs import build, run

ARCH_FAILED = "final_archive_health_alert_delivery_failed"
ARCH_ACK = "final_archive_health_alert_acknowledgement_outstanding"
LOOP_TITLE = "Final reporting archive health alert loop"
OPEN_AT, SUPERSEDED_AT = "2025-06-02T12:30:00Z", "2025-06-02T14:00:00Z"


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """A pack with only the archive loop open (PDFs too), then one where a newer plan closed it."""
    root = tmp_path_factory.mktemp("archive-packs")
    first = build(root / "open", "archive-open", OPEN_AT, formats="html,md,pdf,json")
    second = build(root / "closed", "archive-superseded", SUPERSEDED_AT, "--history", str(root))
    return first, second


def outline_titles(pdf: Path) -> list[str]:
    """Every bookmark title of a PDF, depth first."""
    reader, found = pypdf.PdfReader(pdf), []

    def walk(entries: list) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry)
            else:
                found.append(entry.title)

    walk(reader.outline)
    return found


def test_the_terminal_table_names_the_archive_loop_and_its_items():
    result = run("check", "--items", str(FIXTURES / "archive-open"))
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  critical  ")]
    assert [(row[1], row[2], row[4]) for row in rows] == [
        ("archive", ARCH_ACK, "webhook"),
        ("archive", ARCH_FAILED, "webhook"),
    ]


def test_the_dashboard_groups_filters_and_counts_the_archive_loop(packs):
    html = (packs[0] / "closure-dashboard.html").read_text()
    assert LOOP_TITLE in html and '<option value="archive">' in html
    markdown = (packs[0] / "closure-dashboard.md").read_text()
    assert f"### {LOOP_TITLE}" in markdown
    header = next(line for line in markdown.splitlines() if line.startswith("| Measure |"))
    assert header.endswith(f"| {LOOP_TITLE} |")


def test_the_runbook_has_one_step_per_open_archive_item(packs):
    runbook = (packs[0] / "operator-runbook.md").read_text()
    steps = [line for line in runbook.splitlines() if "final-reporting-archive-reference-health-alerts" in line]
    assert any("/deliver" in line for line in steps) and any("/acknowledgements" in line for line in steps)


def test_the_pdf_outline_bookmarks_the_archive_loop_and_its_steps(packs):
    # The dashboard's PDF lists open items as rows under their loop; the runbook has a step per group.
    assert LOOP_TITLE in outline_titles(packs[0] / "closure-dashboard.pdf")
    titles = outline_titles(packs[0] / "operator-runbook.pdf")
    assert sum("archive health alert" in t.lower() for t in titles) >= 2


def test_the_resolved_chains_show_what_superseded_the_old_plan(packs):
    markdown = (packs[1] / "closure-dashboard.md").read_text()
    # The chains are counted by loop and provider first; every chain is listed after.
    listed = markdown.split("### Every resolved chain", 1)[1]
    rows = [line for line in listed.splitlines() if line.startswith(f"| {LOOP_TITLE} |")]
    assert len(rows) == 2 and all("Superseded by plan gordackfinalarchalert-" in row for row in rows)


def test_diff_reports_the_archive_items_closed(packs):
    result = run("diff", str(packs[0]), str(packs[1]), "--json")
    assert result.returncode == 0, result.stderr
    closed = json.loads(result.stdout)["closed"]
    assert sorted(item["code"] for item in closed) == [ARCH_ACK, ARCH_FAILED]


def test_the_history_trend_counts_the_archive_items_of_the_earlier_pack(packs):
    markdown = (packs[1] / "closure-dashboard.md").read_text()
    trend = markdown[markdown.index("## Trend") :]
    assert "| 1 | open | 2025-06-02 12:30:00 UTC | 2 | 0 | 0 |" in trend


def test_publish_puts_the_archive_items_on_the_wiki_pages(packs, tmp_path):
    wiki = tmp_path / "wiki"
    wiki.mkdir()
    subprocess.run(["git", "init", "-q", str(wiki)], check=True)
    result = run("publish", str(packs[0]), "--to", str(wiki))
    assert result.returncode == 0, result.stderr
    pages = "".join(p.read_text() for p in wiki.glob("*.md"))
    assert ARCH_FAILED in pages and LOOP_TITLE in pages
