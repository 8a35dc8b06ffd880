"""`reportgen publish`: wiki pages in a real git repository, MkDocs pages, Confluence XHTML; idempotent."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from evidence import A1, example, record, write_store
from packs import WEEKS, build, run

LINK = re.compile(r"\]\(([^)\s]+)\)")


def git(repo: Path, *args: str) -> str:
    """Run git in the test wiki."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_wiki(path: Path) -> Path:
    """An empty git repository standing in for a wiki checkout."""
    path.mkdir()
    git(path, "init", "-q")
    git(path, "config", "user.name", "Release Bot")
    git(path, "config", "user.email", "release-bot@example.invalid")
    git(path, "commit", "-q", "--allow-empty", "-m", "Initial wiki")
    return path


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (but .git) with its sha256."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


def broken_links(root: Path, suffix: str = ".md") -> list[str]:
    """Relative links in the published pages that do not point at an existing file."""
    broken = []
    for page in root.rglob(f"*{suffix}"):
        for target in LINK.findall(page.read_text()):
            if target.startswith(("#", "http://", "https://")):
                continue
            if not (page.parent / target.split("#")[0]).is_file():
                broken.append(f"{page.relative_to(root)} -> {target}")
    return broken


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """Two weekly packs with PDFs, the second with the first as history."""
    root = tmp_path_factory.mktemp("packs")
    name, fixture, as_of = WEEKS[0]
    first = build(root / name, fixture, as_of, formats="html,md,pdf,json,csv")
    name, fixture, as_of = WEEKS[1]
    second = build(root / name, fixture, as_of, "--history", str(root), formats="html,md,pdf,json,csv")
    return first, second


def test_publish_commits_the_pages_and_publishing_again_changes_nothing(packs, tmp_path):
    wiki = make_wiki(tmp_path / "wiki")
    result = run("publish", str(packs[0]), "--to", str(wiki), "--commit")
    assert result.returncode == 0, result.stderr
    assert "committed" in result.stderr
    page = "readiness-pack-20250603T000000Z"
    for name in (
        "Readiness-packs.md",
        f"{page}.md",
        f"{page}-closure-dashboard.md",
        f"{page}-operator-runbook.md",
        f"attachments/{page}/closure-dashboard.pdf",
        f"attachments/{page}/operator-runbook.pdf",
        f"attachments/{page}/summary.json",
        f"attachments/{page}/open-items.csv",
        f"attachments/{page}/manifest.json",
    ):
        assert (wiki / name).is_file(), name
    assert (wiki / f"attachments/{page}/closure-dashboard.pdf").read_bytes().startswith(b"%PDF")
    log = git(wiki, "log", "--format=%s%n%b")
    assert f"Publish readiness pack {page}" in log and "closure open, readiness blocked" in log
    assert git(wiki, "status", "--porcelain") == ""
    head, files = git(wiki, "rev-parse", "HEAD"), snapshot(wiki)

    again = run("publish", str(packs[0]), "--to", str(wiki), "--commit")
    assert again.returncode == 0, again.stderr
    assert again.stdout == "" and "0 files changed, nothing to commit" in again.stderr
    assert git(wiki, "rev-parse", "HEAD") == head
    assert snapshot(wiki) == files


def test_the_index_lists_packs_newest_first_and_each_page_says_what_changed(packs, tmp_path):
    wiki = make_wiki(tmp_path / "wiki")
    for pack in reversed(packs):  # out of order: the pages still come out right
        assert run("publish", str(pack), "--to", str(wiki), "--commit").returncode == 0
    assert len(git(wiki, "log", "--format=%H").split()) == 3
    index = (wiki / "Readiness-packs.md").read_text()
    assert index.index("20250610T000000Z") < index.index("20250603T000000Z")
    second = (wiki / "readiness-pack-20250610T000000Z.md").read_text()
    assert "Compared with [readiness-pack-20250603T000000Z](readiness-pack-20250603T000000Z.md)" in second
    assert "**Closed (9)**" in second
    first = (wiki / "readiness-pack-20250603T000000Z.md").read_text()
    assert "This is the first pack published here." in first
    assert broken_links(wiki) == []


def test_the_wiki_folder_is_a_history_for_the_next_build(packs, tmp_path):
    wiki = tmp_path / "wiki"
    for pack in packs:
        assert run("publish", str(pack), "--to", str(wiki)).returncode == 0
    name, fixture, as_of = WEEKS[2]
    third = build(tmp_path / name, fixture, as_of, "--history", str(wiki))
    text = (third / "closure-dashboard.md").read_text()
    assert "| 1 | readiness-pack-20250603T000000Z |" in text


def test_mkdocs_pages_go_under_docs_with_one_nav_entry(packs, tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "mkdocs.yml").write_text(
        "site_name: Releases\nnav:\n  - Home: index.md\n  - About: about.md\ntheme: readthedocs\n"
    )
    for pack in packs:
        assert run("publish", str(pack), "--to", str(site), "--format", "mkdocs").returncode == 0
    config = yaml.safe_load((site / "mkdocs.yml").read_text())
    assert config["nav"] == [
        {"Home": "index.md"},
        {"About": "about.md"},
        {"Readiness packs": "readiness-packs/index.md"},
    ]
    assert config["theme"] == "readthedocs"
    docs = site / "docs" / "readiness-packs"
    assert (docs / "index.md").is_file()
    assert (docs / "readiness-pack-20250610T000000Z" / "closure-dashboard.pdf").is_file()
    assert broken_links(site / "docs") == []


def test_confluence_pages_are_well_formed_xhtml_and_escape_evidence(tmp_path):
    records = example()
    nasty = '<script>alert("x")</script> & <b>co</b>'
    record(records, A1)["providers"] = ["slack", nasty]
    record(records, A1)["failed_providers"] = ["slack", nasty]
    store = write_store(tmp_path / "store.json", records) or tmp_path / "store.json"
    pack = tmp_path / "pack"
    assert run("build", str(store), "--out", str(pack), "--format", "html,md,json").returncode == 1
    out = tmp_path / "confluence"
    result = run("publish", str(pack), "--to", str(out), "--format", "confluence")
    assert result.returncode == 0, result.stderr
    pages = sorted(out.rglob("*.xhtml"))
    assert len(pages) == 4  # the index, the pack's page and its two documents
    for page in pages:
        ET.fromstring(f"<page>{page.read_text()}</page>")
    dashboard = next(p for p in pages if p.name == "closure-dashboard.xhtml").read_text()
    assert "&lt;script&gt;" in dashboard and "<script" not in dashboard and "<b>co" not in dashboard


def test_publish_refuses_a_pack_without_markdown_and_commit_outside_git(packs, tmp_path):
    html_only = build(tmp_path / "html-only", "example", "2025-06-03T00:00:00Z", formats="html,json")
    result = run("publish", str(html_only), "--to", str(tmp_path / "wiki"))
    assert result.returncode == 2 and "--format md" in result.stderr
    plain = tmp_path / "plain"
    plain.mkdir()
    result = run("publish", str(packs[0]), "--to", str(plain), "--commit")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert list(plain.iterdir()) == []


def test_publish_page_names_are_stable_and_come_from_the_manifest(packs, tmp_path):
    manifest = json.loads((packs[0] / "manifest.json").read_text())
    assert manifest["predicate"]["parameters"]["name"] == "readiness-pack"
    out = tmp_path / "wiki"
    assert run("publish", str(packs[0]), "--to", str(out)).returncode == 0
    assert (out / "readiness-pack-20250603T000000Z.md").is_file()


@pytest.mark.parametrize("fmt", ["wiki", "mkdocs", "confluence"])
@pytest.mark.parametrize("how", ["committed each time", "never committed", "not in git"])
def test_pages_publish_wrote_itself_are_rewritten_without_complaint(packs, tmp_path, fmt, how):
    root = make_wiki(tmp_path / "wiki") if how != "not in git" else tmp_path / "plain"
    commit = ("--commit",) if how == "committed each time" else ()
    for pack in reversed(packs):  # out of order: the later pack's page and the index are rewritten
        result = run("publish", str(pack), "--to", str(root), "--format", fmt, *commit)
        assert result.returncode == 0, result.stderr
    assert "readiness-pack-20250610T000000Z" in result.stdout  # the later pack's page, rewritten


def test_the_same_pack_copied_elsewhere_republishes_as_itself(packs, tmp_path):
    wiki = make_wiki(tmp_path / "wiki")
    copy = shutil.copytree(packs[0], tmp_path / "copy-of-the-pack")
    assert run("publish", str(packs[0]), "--to", str(wiki), "--commit").returncode == 0
    result = run("publish", str(copy), "--to", str(wiki), "--commit")
    assert result.returncode == 0 and "0 files changed, nothing to commit" in result.stderr, result.stderr
