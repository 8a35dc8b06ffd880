"""`reportgen publish PACK --to DIR`: a pack's documents as wiki pages, MkDocs pages or Confluence XHTML.

The destination is a pure function of the packs published into it: every pack page and the index
page are rendered again from the summaries kept beside the pages, so publishing the same pack
twice writes nothing, and a pack published out of order still lands in its place. Everything is
rendered and checked first (every destination path, a different pack under the same page name,
edits publish did not make, and the git state for --commit); only then are the files whose bytes
differ written, through `reportgen.output.target`, which never follows a link below DIR.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson
from pydantic import ValidationError

from reportgen.evidence.stream import MIB, read_capped
from reportgen.judge.history import HistoryError, read_summary
from reportgen.judge.summary import Summary
from reportgen.judge.verdict import utc_iso
from reportgen.output import target
from reportgen.output.pubpages import (
    DOCUMENTS,
    LAYOUTS,
    Layout,
    Pack,
    breadcrumb,
    pack_page,
    pack_row,
    render_md,
    to_xhtml,
)
from reportgen.output.target import PublishError

FORMATS = ("wiki", "mkdocs", "confluence")
# The manifest's signature travels with it, so the published manifest can be checked where it is read.
ATTACHMENTS = (
    "closure-dashboard.pdf",
    "operator-runbook.pdf",
    "summary.json",
    "open-items.csv",
    "manifest.json",
    "manifest.intoto.jsonl",
)
UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
NAV_ENTRY = "Readiness packs: readiness-packs/index.md"
MKDOCS = "mkdocs.yml"
# The digests of the files publish wrote, so that an edit made since is told from publish's own bytes.
STATE = ".reportgen-publish.json"
MAX_SUMMARY_BYTES = 256 << 20
MAX_SMALL_BYTES = 4 << 20
# The most read of one file of a pack to publish (a PDF with the evidence attached included).
PACK_FILE_BYTES = 1024 * MIB


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


def manifest_parameters(raw: bytes | None) -> dict[str, object]:
    """A manifest's parameters (name, title), or nothing when there is no readable manifest."""
    try:
        data = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    predicate = data.get("predicate") if isinstance(data, dict) else None
    parameters = predicate.get("parameters") if isinstance(predicate, dict) else None
    return parameters if isinstance(parameters, dict) else {}


def read_manifest(folder: Path) -> dict[str, object]:
    """The pack's manifest parameters (name, title), or nothing when it has no manifest."""
    try:
        return manifest_parameters(read_capped(folder / "manifest.json"))
    except OSError:
        return {}


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
    return pack_of(folder.name, read_manifest(folder), summary), files


def pack_of(folder: str, parameters: dict[str, object], summary: Summary) -> Pack:
    """A pack's identity from its manifest parameters, or from its folder's name."""
    name = str(parameters.get("name") or folder)
    title = str(parameters.get("title") or name)
    return Pack(page_name(name, summary), name, title, summary)


def published_summary(root: Path, layout: Layout, page: str) -> Summary | None:
    """The summary kept beside a published page, None when there is none that reads as one."""
    raw = target.read(root, layout.attachment.format(page=page, file="summary.json"), MAX_SUMMARY_BYTES)
    try:
        return None if raw is None else Summary.model_validate_json(raw)
    except ValidationError:
        return None


def published_packs(root: Path, layout: Layout) -> dict[str, Pack]:
    """The packs already published in DIR, found by the summary kept in each real folder (links are skipped)."""
    found = {}
    for page in target.folders(root, layout.pack_folders):
        summary = published_summary(root, layout, page)
        if summary is None:
            continue
        raw = target.read(root, layout.attachment.format(page=page, file="manifest.json"), MAX_SMALL_BYTES)
        pack = pack_of(page, manifest_parameters(raw), summary)
        found[page] = Pack(page, pack.name, pack.title, summary)
    return found


# --- assembling and writing -------------------------------------------------------------------


def page_bytes(markdown: bytes, layout: Layout) -> bytes:
    """A page in the layout's format: Markdown as is, or Confluence XHTML."""
    return to_xhtml(markdown) if layout.format == "confluence" else markdown


def attached(root: Path, layout: Layout, pack: Pack, current: Pack, files: dict[str, bytes]) -> list[str]:
    """The attachments of a pack: the new pack's files, or what an earlier pack has beside its page."""
    if pack.page == current.page:
        return [name for name in ATTACHMENTS if name in files]
    return [n for n in ATTACHMENTS if target.is_file(root, layout.attachment.format(page=pack.page, file=n))]


def put(out: dict[str, bytes], name: str, data: bytes) -> None:
    """Add a file to the plan; refuse a second file at the same path (a folder named like another page)."""
    if name in out:
        raise PublishError(f"{name}: two published files would have this path (a pack folder named like a page?)")
    out[name] = data


def pack_pages(root: Path, layout: Layout, current: Pack, files: dict[str, bytes]) -> dict[str, bytes]:
    """Every pack's page and the index page, rendered from every pack published so far and the new one."""
    packs = published_packs(root, layout) | {current.page: current}
    ordered = sorted(packs.values(), key=lambda p: (p.summary.as_of, p.page))
    pages: dict[str, bytes] = {}
    for number, pack in enumerate(ordered):
        previous = ordered[number - 1] if number else None
        page = pack_page(pack, previous, layout, attached(root, layout, pack, current, files))
        put(pages, layout.pack.format(page=pack.page), page_bytes(render_md("publish-pack.md.j2", page=page), layout))
    rows = [pack_row(p, layout, layout.index) for p in reversed(ordered)]
    put(pages, layout.index, page_bytes(render_md("publish-index.md.j2", rows=rows), layout))
    return pages


def plan(root: Path, layout: Layout, pack: Pack, files: dict[str, bytes]) -> dict[str, bytes]:
    """Every file publishing should leave in DIR, by path relative to DIR, its own state file included."""
    out: dict[str, bytes] = {}
    for doc in DOCUMENTS:
        path = layout.document.format(page=pack.page, doc=doc)
        put(out, path, page_bytes(breadcrumb(pack, layout, path) + files[f"{doc}.md"], layout))
    for name in ATTACHMENTS:
        if name in files:
            put(out, layout.attachment.format(page=pack.page, file=name), files[name])
    for name, data in pack_pages(root, layout, pack, files).items():
        put(out, name, data)
    config = mkdocs_config(root) if layout.format == "mkdocs" else None
    if config is not None:
        put(out, MKDOCS, config)
    put(out, STATE, state_file(recorded(root) | {name: sha256(data) for name, data in out.items() if name != MKDOCS}))
    return dict(sorted(out.items()))


def mkdocs_config(root: Path) -> bytes | None:
    """mkdocs.yml with a nav entry for the packs; None when it needs none (already there, or no nav)."""
    raw = target.read(root, MKDOCS, MAX_SMALL_BYTES)
    if raw is None:
        return f"site_name: Release readiness\nnav:\n  - {NAV_ENTRY}\n".encode()
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise PublishError(f"{root / MKDOCS}: not UTF-8 text") from None
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


# --- what DIR holds: publish's own record, and git's -------------------------------------------


def sha256(data: bytes) -> str:
    """A file's sha256, hex."""
    return hashlib.sha256(data).hexdigest()


def recorded(root: Path) -> dict[str, str]:
    """The sha256 of every file publish wrote in DIR, by path, from its state file."""
    raw = target.read(root, STATE, MAX_SMALL_BYTES)
    if raw is None:
        return {}
    try:
        files = orjson.loads(raw)["files"]
    except (orjson.JSONDecodeError, TypeError, KeyError):
        files = None
    if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
        raise PublishError(f"{root / STATE}: not a reportgen publish state file")
    return files


def state_file(files: dict[str, str]) -> bytes:
    """The state file: what publish wrote, by path, sorted."""
    return orjson.dumps({"files": files}, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def git_run(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run git in DIR; pathspecs are literal (a folder named `*` or `:(glob)x` is no pattern)."""
    # check-ignore reads paths, not pathspecs, and refuses to run with literal pathspecs on.
    literal = {} if args[0] == "check-ignore" else {"GIT_LITERAL_PATHSPECS": "1"}
    env = os.environ | literal
    command = ["git", "-C", str(root), *args]
    encoding = {"encoding": "utf-8", "errors": "surrogateescape"}
    return subprocess.run(command, input=stdin, capture_output=True, env=env, check=False, **encoding)


def git(root: Path, *args: str) -> str:
    """Run git in DIR; a failure becomes a PublishError with git's own message."""
    try:
        done = git_run(root, *args)
    except FileNotFoundError:
        raise PublishError("git is not installed (--commit needs it)") from None
    if done.returncode:
        message = (done.stderr or done.stdout or "").strip().splitlines() or ["failed"]
        raise PublishError(f"{root}: git {args[0]}: {message[0]}")
    return done.stdout


def work_tree_prefix(root: Path) -> str | None:
    """DIR's path inside its git work tree ("" at the top), None when DIR is in none."""
    try:
        done = git_run(root, "rev-parse", "--is-inside-work-tree", "--show-prefix")
    except FileNotFoundError:
        return None
    lines = done.stdout.split("\n")
    return lines[1] if done.returncode == 0 and lines[0] == "true" and len(lines) > 1 else None


def git_changed(root: Path, names: list[str]) -> set[str] | None:
    """Which of the paths git reports modified, staged, untracked or ignored; None when DIR is not in git."""
    prefix = work_tree_prefix(root)
    if prefix is None:
        return None
    if not names:
        return set()
    out = git(root, "status", "--porcelain", "-z", "--ignored", "--untracked-files=all", "--", *names)
    fields, paths = out.split("\0"), set()
    while fields:
        entry = fields.pop(0)
        if entry:
            paths.add(entry[3:])
            if entry[0] in "RC" and fields:
                paths.add(fields.pop(0))
    return {p[len(prefix) :] for p in paths if p.startswith(prefix)}


# --- the checks before anything is written -------------------------------------------------------


def check_same_pack(root: Path, layout: Layout, pack: Pack, files: dict[str, bytes]) -> None:
    """Refuse to replace a published pack by a different one with the same name and as-of."""
    name = layout.attachment.format(page=pack.page, file="summary.json")
    published = target.digest(root, name)
    if published is not None and published != sha256(files["summary.json"]):
        folder = posixpath.dirname(name) or name
        raise PublishError(
            f"{pack.page}: a different pack with the same name and as-of is already published in {root} "
            f"(its summary.json differs); build this one under another --name, or remove {folder} first"
        )


def check_local_edits(root: Path, planned: dict[str, bytes], current: dict[str, str | None]) -> None:
    """Refuse to overwrite a file holding bytes publish did not write: an edit, or someone else's file.

    A file is publish's when it holds what publish last wrote there (its state file says), or, in
    a git checkout, when git has it committed as it is. mkdocs.yml is merged, never overwritten.
    """
    replaced = [n for n, data in planned.items() if n not in (MKDOCS, STATE) and current[n] not in (None, sha256(data))]
    records = recorded(root)
    edited = [n for n in replaced if current[n] != records.get(n)]
    changed = git_changed(root, edited)
    edited = [n for n in edited if changed is None or n in changed]
    if edited:
        more = f" (and {len(edited) - 1} more)" if len(edited) > 1 else ""
        raise PublishError(
            f"{root / edited[0]}{more}: changed since publish wrote it, or not written by publish; "
            "commit or move the changes away first, publish would overwrite them"
        )


def check_repository(root: Path) -> None:
    """Refuse --commit unless DIR is in a git work tree on a branch, with no operation under way."""
    if work_tree_prefix(root) is None:
        git(root, "rev-parse", "--is-inside-work-tree")  # git's own reason, when it has one
        raise PublishError(f"{root}: not inside a git work tree (--commit needs one)")
    if git_run(root, "symbolic-ref", "-q", "HEAD").returncode:
        raise PublishError(f"{root}: git HEAD is detached; check out a branch first (--commit commits on a branch)")
    markers = ("MERGE_HEAD", "CHERRY_PICK_HEAD", "REVERT_HEAD", "rebase-merge", "rebase-apply")
    args = [arg for marker in markers for arg in ("--git-path", marker)]
    for marker, path in zip(markers, git(root, "rev-parse", *args).splitlines(), strict=False):
        if (root / path).exists():
            raise PublishError(f"{root}: a git operation is under way ({marker}); finish or abort it first")
    if git_run(root, "diff", "--cached", "--quiet").returncode:
        raise PublishError(f"{root}: the git index holds staged changes; commit or unstage them first")
    git(root, "var", "GIT_AUTHOR_IDENT")
    git(root, "var", "GIT_COMMITTER_IDENT")


def check_commit_paths(root: Path, planned: dict[str, bytes], current: dict[str, str | None]) -> None:
    """Refuse --commit when git ignores a published path, or when committing would take a user's edit along."""
    folders = {posixpath.dirname(name) + "/" for name in planned if "/" in name}
    paths = "\0".join(sorted(folders) + list(planned)) + "\0"
    ignored = git_run(root, "check-ignore", "-z", "--stdin", stdin=paths).stdout.split("\0")[0]
    if ignored:
        raise PublishError(f"{root / ignored}: ignored by git, so --commit cannot commit it")
    merged = MKDOCS in planned and current[MKDOCS] is not None
    if merged and git_changed(root, [MKDOCS]):
        raise PublishError(f"{root / MKDOCS}: has uncommitted changes that --commit would commit; commit them first")


# --- writing and committing -----------------------------------------------------------------------


def write_changed(root: Path, planned: dict[str, bytes], current: dict[str, str | None]) -> list[str]:
    """Write the files whose bytes differ from what DIR holds; return their paths."""
    written = []
    for name, data in planned.items():
        if current[name] != sha256(data):
            target.write(root, name, data)
            written.append(name)
    return written


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
    """Publish a built pack into DIR in one format, checking everything first; commit the pages when asked."""
    if fmt not in LAYOUTS:
        raise PublishError(f"unknown format {fmt} (choose from {', '.join(FORMATS)})")
    pack, files = read_pack(pack_dir)
    if root.is_symlink() and not root.exists():
        raise PublishError(f"{root}: a symbolic link to nothing; give the folder to publish into")
    if root.exists() and not root.is_dir():
        raise PublishError(f"{root}: exists and is not a folder")
    if do_commit:
        check_repository(root)
    layout = LAYOUTS[fmt]
    check_same_pack(root, layout, pack, files)
    planned = plan(root, layout, pack, files)
    current = {name: target.digest(root, name) for name in planned}
    check_local_edits(root, planned, current)
    if do_commit:
        check_commit_paths(root, planned, current)
    written = write_changed(root, planned, current)
    committed = commit(root, list(planned), commit_message(pack)) if do_commit else False
    return Published(pack.page, tuple(written), committed)
