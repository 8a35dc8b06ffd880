"""`publish` into a checkout anyone can push to: links, git states, other packs and folder names.

The attacks are generated from what publish really writes: a scratch publish lists every file
and folder, and each becomes a place for a link, an edit or a hostile name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from packs import build

from reportgen.output import target
from reportgen.output.publish import LAYOUTS, PublishError, publish

FORMATS = ("wiki", "mkdocs", "confluence")
AS_OF = "2025-06-03T00:00:00Z"
PAGE = "readiness-pack-20250603T000000Z"
# Where each format keeps one folder per published pack.
PACK_FOLDERS = {"wiki": "attachments", "mkdocs": "docs/readiness-packs", "confluence": ""}
LATER = "readiness-pack-20250617T000000Z"
PRECIOUS = b"precious bytes that publish must never touch\n"
HOSTILE_NAMES = (
    "pack)x",
    "pack]x",
    "<img src=x onerror=alert(1)>",
    "with space",
    "100%25done",
    "hash#frag",
    "new\nline",
    "javascript:alert(1)",
    "[x](javascript:alert(1))",
    "pipe|cell",
    "escape\x1b[31mred\x07",
    "bidi\u202eevil",
)
# Control characters in a name are shown as visible escapes (a newline as a line break).
VISIBLE = {"\x1b": "\\x1b", "\x07": "\\x07", "\u202e": "\\u202e"}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    command = [sys.executable, "-m", "reportgen", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=env, check=False)


def git(repo: Path, *args: str) -> str:
    """Run git in a test checkout."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def make_wiki(path: Path) -> Path:
    """A git checkout standing in for a wiki, with a home page committed."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Release Bot")
    git(path, "config", "user.email", "release-bot@example.invalid")
    (path / "Home.md").write_text("# Home\n")
    git(path, "add", "Home.md")
    git(path, "commit", "-q", "-m", "Initial wiki")
    return path


def tree(root: Path) -> dict[str, str]:
    """Every entry under root but .git: a file's sha256, a link's target, a folder or a FIFO; links never followed."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(dirs + files):
            path = Path(folder, name)
            key = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[key] = f"link -> {os.readlink(path)}"
            elif path.is_dir():
                found[key] = "folder"
            elif path.is_fifo():
                found[key] = "fifo"
            else:
                found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def outside(tmp_path: Path) -> Path:
    """A folder beside the target holding a file and a folder that publish must never write to."""
    folder = tmp_path / "outside"
    (folder / "folder").mkdir(parents=True)
    (folder / "victim.txt").write_bytes(PRECIOUS)
    return folder


def written_paths(pack: Path, fmt: str, scratch: Path) -> list[str]:
    """Every file publish writes for the pack in a format, found by publishing it into a scratch folder."""
    done = publish(pack, scratch, fmt)
    return sorted(done.written)


def folders_of(paths: list[str]) -> list[str]:
    """Every folder on the way to the paths, relative to the target."""
    return sorted({"/".join(p.split("/")[:n]) for p in paths for n in range(1, p.count("/") + 1)})


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An open and a closed pack with the same name and as-of, and a later pack."""
    root = tmp_path_factory.mktemp("packs")
    return {
        "open": build(root / "open", "example", AS_OF),
        "closed": build(root / "closed", "clean", AS_OF),
        "later": build(root / "later", "exhausted", "2025-06-17T00:00:00Z"),
    }


# --- links below the target ------------------------------------------------------------------


LINK_KINDS = {"file": "victim.txt", "folder": "folder", "dangling": "missing/nothing-here"}


@pytest.mark.parametrize("kind", sorted(LINK_KINDS))
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_link_at_any_path_publish_writes_or_on_the_way_is_refused_before_anything_is_written(
    packs: dict[str, Path], tmp_path: Path, fmt: str, kind: str
) -> None:
    files = written_paths(packs["open"], fmt, tmp_path / "scratch")
    away = outside(tmp_path)
    positions = files + folders_of(files)
    assert len(positions) >= 7
    for number, position in enumerate(positions):
        root = tmp_path / f"target-{number}"
        link = root / position
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(away / LINK_KINDS[kind])
        before, away_before = tree(root), tree(away)
        with pytest.raises(PublishError) as refused:
            publish(packs["open"], root, fmt)
        assert str(link) in str(refused.value) and "link" in str(refused.value), position
        assert tree(root) == before, position
        assert tree(away) == away_before, position


@pytest.mark.parametrize("fmt", FORMATS)
def test_links_at_the_old_predictable_staging_names_are_never_written_through(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    files = written_paths(packs["open"], fmt, tmp_path / "scratch")
    away = outside(tmp_path)
    root = tmp_path / "target"
    for number, name in enumerate(files):
        staging = root / name
        staging = staging.with_name(f".{staging.name}.publishing")
        staging.parent.mkdir(parents=True, exist_ok=True)
        (away / f"victim-{number}").write_bytes(PRECIOUS)
        staging.symlink_to(away / f"victim-{number}")
    away_before = tree(away)
    publish(packs["open"], root, fmt)
    assert tree(away) == away_before
    assert all((root / name).is_file() and not (root / name).is_symlink() for name in files)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_link_to_a_file_outside_at_a_page_an_earlier_publish_wrote_is_refused(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    root, away = tmp_path / "target", outside(tmp_path)
    publish(packs["open"], root, fmt)
    index = root / LAYOUTS[fmt].index
    index.unlink()
    index.symlink_to(away / "victim.txt")
    before = tree(root)
    with pytest.raises(PublishError, match="symbolic link"):
        publish(packs["later"], root, fmt)
    assert (away / "victim.txt").read_bytes() == PRECIOUS
    assert tree(root) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fifo_at_a_file_or_a_file_in_place_of_a_folder_is_refused_without_waiting(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    files = written_paths(packs["open"], fmt, tmp_path / "scratch")
    for number, position in enumerate(files + folders_of(files)):
        root = tmp_path / f"target-{number}"
        (root / position).parent.mkdir(parents=True, exist_ok=True)
        if position in files:
            os.mkfifo(root / position)
        else:
            (root / position).write_bytes(PRECIOUS)
        before = tree(root)
        with pytest.raises(PublishError, match="is not a (regular file|folder)"):
            publish(packs["open"], root, fmt)
        assert tree(root) == before, position


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_linked_pack_folder_beside_the_published_ones_is_neither_followed_nor_listed(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    away, root = outside(tmp_path), tmp_path / "target"
    elsewhere = away / "folder" / "elsewhere"
    elsewhere.mkdir()
    shutil.copy(packs["later"] / "summary.json", elsewhere / "summary.json")
    (root / PACK_FOLDERS[fmt]).mkdir(parents=True, exist_ok=True)
    (root / PACK_FOLDERS[fmt] / "elsewhere").symlink_to(elsewhere)
    away_before = tree(away)
    publish(packs["open"], root, fmt)
    assert "elsewhere" not in (root / LAYOUTS[fmt].index).read_text()
    assert not any("elsewhere" in name for name in tree(root) if name != f"{PACK_FOLDERS[fmt]}/elsewhere".lstrip("/"))
    assert tree(away) == away_before


@pytest.mark.parametrize(
    "fmt, position",
    [("wiki", "attachments"), ("wiki", f"attachments/{PAGE}"), ("mkdocs", "docs"), ("confluence", PAGE)],
)
def test_the_cli_refuses_a_linked_folder_in_one_line_naming_it(
    packs: dict[str, Path], tmp_path: Path, fmt: str, position: str
) -> None:
    root, away = tmp_path / "wiki", outside(tmp_path)
    link = root / position
    link.parent.mkdir(parents=True)
    link.symlink_to(away / "folder")
    result = cli("publish", str(packs["open"]), "--to", str(root), "--format", fmt)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and str(link) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert list((away / "folder").iterdir()) == []


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../escape.md", "a/../../b.md", "a//b.md", "./a.md", "", "a/\0.md", "a/.."]
)
def test_a_path_that_could_leave_the_target_is_refused(tmp_path: Path, name: str) -> None:
    root = tmp_path / "target"
    root.mkdir()
    with pytest.raises(PublishError, match="not a path inside the target"):
        target.write(root, name, b"x")
    assert list(tmp_path.rglob("*")) == [root]


# --- --commit: every refusal before anything is written ------------------------------------------


def detached(wiki: Path) -> None:
    """HEAD detached at the current commit."""
    git(wiki, "checkout", "-q", "--detach")


def staged(wiki: Path) -> None:
    """A change staged in git's index but not committed."""
    (wiki / "Home.md").write_text("# Home\n\nstaged, not committed\n")
    git(wiki, "add", "Home.md")


def merging(wiki: Path) -> None:
    """A merge under way."""
    (wiki / ".git" / "MERGE_HEAD").write_text(git(wiki, "rev-parse", "HEAD"))


def ignoring(wiki: Path) -> None:
    """The attachments ignored by a committed .gitignore."""
    (wiki / ".gitignore").write_text("attachments/\n")
    git(wiki, "add", ".gitignore")
    git(wiki, "commit", "-q", "-m", "Ignore attachments")


def anonymous(wiki: Path) -> None:
    """No committer identity, and git told not to guess one."""
    git(wiki, "config", "--unset", "user.name")
    git(wiki, "config", "--unset", "user.email")
    git(wiki, "config", "user.useConfigOnly", "true")


GIT_STATES = {"detached": detached, "staged": staged, "merging": merging, "ignoring": ignoring, "anonymous": anonymous}


def isolated_env(home: Path) -> dict[str, str]:
    """The environment with no global or system git configuration (no identity from the user running tests)."""
    home.mkdir(exist_ok=True)
    return os.environ | {"HOME": str(home), "XDG_CONFIG_HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.mark.parametrize("state", sorted(GIT_STATES))
def test_commit_refuses_a_git_state_it_cannot_commit_in_and_leaves_the_checkout_untouched(
    packs: dict[str, Path], tmp_path: Path, state: str
) -> None:
    env = isolated_env(tmp_path / "home")
    wiki = make_wiki(tmp_path / "wiki")
    GIT_STATES[state](wiki)
    before = (tree(wiki), git(wiki, "rev-parse", "HEAD"), git(wiki, "status", "--porcelain"))
    result = cli("publish", str(packs["open"]), "--to", str(wiki), "--commit", env=env)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and str(wiki) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert (tree(wiki), git(wiki, "rev-parse", "HEAD"), git(wiki, "status", "--porcelain")) == before


@pytest.mark.parametrize("where", ["plain folder", "inside .git"])
def test_commit_refuses_a_target_outside_any_work_tree_before_writing(
    packs: dict[str, Path], tmp_path: Path, where: str
) -> None:
    wiki = make_wiki(tmp_path / "wiki")
    root = tmp_path / "plain" if where == "plain folder" else wiki / ".git" / "pages"
    root.mkdir()
    (root / "notes.md").write_text("mine\n")
    before = tree(root)
    result = cli("publish", str(packs["open"]), "--to", str(root), "--commit")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert str(root) in result.stderr and "Traceback" not in result.stderr
    assert tree(root) == before


# --- a different pack under the same page name -------------------------------------------------


@pytest.mark.parametrize("order", [("open", "closed"), ("closed", "open")])
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_different_pack_with_the_same_name_and_as_of_is_refused_naming_it(
    packs: dict[str, Path], tmp_path: Path, fmt: str, order: tuple[str, str]
) -> None:
    root = tmp_path / "target"
    first, second = order
    publish(packs[first], root, fmt)
    before = tree(root)
    result = cli("publish", str(packs[second]), "--to", str(root), "--format", fmt)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and PAGE in result.stderr and "different pack" in result.stderr
    assert tree(root) == before
    again = cli("publish", str(packs[first]), "--to", str(root), "--format", fmt)
    assert again.returncode == 0 and "0 files changed" in again.stderr, again.stderr


# --- edits publish did not make ---------------------------------------------------------------


def edit(path: Path) -> bytes:
    """Append a line to a file, as a person editing the page would; returns the new bytes."""
    path.write_bytes(path.read_bytes() + b"\nA note added by hand.\n")
    return path.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("how", ["uncommitted", "staged", "not in git"])
def test_an_edited_index_page_is_never_overwritten(packs: dict[str, Path], tmp_path: Path, fmt: str, how: str) -> None:
    root = make_wiki(tmp_path / "wiki") if how != "not in git" else tmp_path / "plain"
    publish(packs["open"], root, fmt, do_commit=how != "not in git")
    index = root / LAYOUTS[fmt].index
    edited = edit(index)
    if how == "staged":
        git(root, "add", "--", LAYOUTS[fmt].index)
    before = tree(root)
    result = cli("publish", str(packs["later"]), "--to", str(root), "--format", fmt)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert str(index) in result.stderr
    assert index.read_bytes() == edited and tree(root) == before


@pytest.mark.parametrize("git_checkout", [True, False])
def test_a_file_publish_did_not_write_at_a_page_path_is_never_overwritten(
    packs: dict[str, Path], tmp_path: Path, git_checkout: bool
) -> None:
    root = make_wiki(tmp_path / "wiki") if git_checkout else tmp_path / "plain"
    publish(packs["open"], root, "wiki", do_commit=git_checkout)
    theirs = root / f"{LATER}-operator-runbook.md"
    theirs.write_bytes(b"someone else's page\n")
    with pytest.raises(PublishError, match="not written by publish"):
        publish(packs["later"], root, "wiki")
    assert theirs.read_bytes() == b"someone else's page\n"


@pytest.mark.parametrize("git_checkout", [True, False])
def test_an_edited_page_of_another_pack_is_never_overwritten(
    packs: dict[str, Path], tmp_path: Path, git_checkout: bool
) -> None:
    root = make_wiki(tmp_path / "wiki") if git_checkout else tmp_path / "plain"
    publish(packs["later"], root, "wiki", do_commit=git_checkout)
    later_page = root / f"{LATER}.md"
    edited = edit(later_page)
    with pytest.raises(PublishError, match=LATER):
        publish(packs["open"], root, "wiki")  # out of order: the later page would say what changed
    assert later_page.read_bytes() == edited


# --- folder names in link targets and texts ---------------------------------------------------


def visible(name: str) -> str:
    """A name as the pages must show it."""
    return "".join(VISIBLE.get(c, c) for c in name)


def plant_hostile_packs(pack: Path, root: Path, fmt: str) -> None:
    """Folders with hostile names in the target, each holding a published pack's summary and a hostile title.

    One more folder's name is not UTF-8: it cannot be a page publish made, so it is left out.
    """
    layout = LAYOUTS[fmt]
    not_utf8 = os.fsencode(root / PACK_FOLDERS[fmt]) + b"/not-utf8-\xff"
    os.makedirs(not_utf8)
    shutil.copy(pack / "summary.json", os.fsdecode(not_utf8 + b"/summary.json"))
    manifest = (pack / "manifest.json").read_text().replace('"title": "', '"title": "](javascript:alert(9)) <b>x</b> ')
    for name in HOSTILE_NAMES:
        folder = root / PACK_FOLDERS[fmt] / name
        folder.mkdir(parents=True)
        (folder / "summary.json").write_bytes((pack / "summary.json").read_bytes())
        (folder / "manifest.json").write_text(manifest)
        for doc in ("closure-dashboard", "operator-runbook"):
            (root / layout.document.format(page=name, doc=doc)).write_text("A document.\n")


def markdown_links(text: str) -> list[tuple[str, str]]:
    """Every link of a Markdown page as (target, text), parsed as GitHub's tables allow."""
    links, current = [], None
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        for child in token.children or ():
            if child.type == "link_open":
                current = [str(child.attrs["href"]), ""]
            elif child.type == "link_close" and current:
                links.append((current[0], current[1]))
                current = None
            elif current is not None:
                current[1] += "\n" if child.content == "<br>" else child.content
    return links


def xhtml_links(text: str) -> list[tuple[str, str]]:
    """Every link of a Confluence XHTML page as (target, text), <br /> as a newline."""
    links = []
    for anchor in ET.fromstring(f"<page>{text}</page>").iter("a"):
        parts = [anchor.text or ""] + [("\n" if child.tag == "br" else "") + (child.tail or "") for child in anchor]
        links.append((anchor.get("href", ""), "".join(parts)))
    return links


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_folder_names_reach_the_pages_only_as_encoded_targets_and_escaped_text(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    root, layout = tmp_path / "target", LAYOUTS[fmt]
    plant_hostile_packs(packs["open"], root, fmt)
    publish(packs["later"], root, fmt)
    index = root / layout.index
    text = index.read_text()
    links = xhtml_links(text) if fmt == "confluence" else markdown_links(text)
    shown = {visible(name): name for name in [*HOSTILE_NAMES, LATER]}
    assert sorted(label for _, label in links) == sorted(shown)
    for href, label in links:
        parts = urlsplit(href)
        assert not parts.scheme and not parts.fragment and not parts.query, href
        page = layout.pack.format(page=shown[label])
        assert unquote(href) == os.path.relpath(page, os.path.dirname(layout.index) or ".")
        assert (index.parent / unquote(href)).is_file(), href
    assert "<b>" not in text and "javascript:alert(9)" not in [h for h, _ in links]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_link_of_every_page_published_beside_hostile_folders_leads_to_a_file(
    packs: dict[str, Path], tmp_path: Path, fmt: str
) -> None:
    root = tmp_path / "target"
    plant_hostile_packs(packs["open"], root, fmt)
    publish(packs["later"], root, fmt)
    suffix = LAYOUTS[fmt].suffix
    pages = [p for p in root.rglob(f"*.{suffix}") if not p.name.startswith(".")]
    assert len(pages) >= len(HOSTILE_NAMES) + 1
    for page in pages:
        text = page.read_text()
        for href, _ in xhtml_links(text) if fmt == "confluence" else markdown_links(text):
            assert not urlsplit(href).scheme, (page, href)
            if not href.startswith("#"):  # the documents' own table of contents
                assert (page.parent / unquote(href)).is_file(), (page, href)
