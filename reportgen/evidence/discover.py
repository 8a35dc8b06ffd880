"""Finding the inputs: the command line's paths and folders sorted out, a pack's own files told apart,
streams copied to temporary files, and how each input is read (JSON text, gzip or a SQLite database)."""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from reportgen.evidence import parse, sqlite_store, stream
from reportgen.evidence.inputs import CHUNK, EVIDENCE_SUFFIXES, STDIN_NAME, InputError, Limits, over_budget, why


@dataclass
class Found:
    """The command line's paths sorted out: files to read, files skipped, and paths not read with why."""

    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    unread: list[tuple[str, str]] = field(default_factory=list)
    # Named on the command line and not a regular file (a pipe, `<(...)`, a device): read as a stream.
    streams: set[str] = field(default_factory=set)


# The files of a reportgen pack that a folder walk would take for evidence: the key and value that
# mark them as reportgen's own (the summary's schema, the manifest's predicate type), and every key
# such a file has, so that a file also carrying records (`items`, a record's own keys) is read.
PACK_FILES = {
    "summary.json": (
        ("schema_version", "reportgen.summary.v1"),
        frozenset({"schema_version", "generator", "rules", "as_of", "closure", "readiness", "counts", "inputs"}),
    ),
    "manifest.json": (
        ("predicateType", "https://reportgen.dev/readiness-pack/v1"),
        frozenset({"_type", "subject", "predicateType", "predicate"}),
    ),
    # The manifest's signature (reportgen.signing): a DSSE envelope, one JSON line.
    "manifest.intoto.jsonl": (
        ("payloadType", "application/vnd.in-toto+json"),
        frozenset({"payloadType", "payload", "signatures"}),
    ),
}
# The folders a build stages a pack in, inside the pack's folder: never evidence.
STAGING_PREFIX = ".reportgen-"


def expand_paths(paths: Sequence[str], exclude: str | None = None) -> Found:
    """Turn the command line's paths into files to read (folders walked, sorted), skipped and unread paths.

    `exclude` is the folder a build writes its pack into: wherever the walk meets it, the pack's own
    files and staging folders are not read; anything else a user put there is.
    """
    found = Found()
    avoid = _identity(exclude) if exclude else None
    for path in paths:
        if path == "-":
            found.files.append("-")
        elif os.path.isdir(path):
            _walk(path, found, avoid)
        elif os.path.exists(path) or os.path.islink(path):
            found.files.append(path)
            if os.path.exists(path) and not os.path.isfile(path):
                found.streams.add(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return found


def _identity(path: str) -> tuple[int, int] | None:
    """A folder's device and inode, to know it again by any name; None when it does not exist."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _walk(folder: str, found: Found, avoid: tuple[int, int] | None) -> None:
    """Walk a folder in sorted order, a folder's files before its sub-folders; links to folders not followed."""
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError as exc:
            found.unread.append((Path(current).as_posix(), f"folder not read: {why(exc)}"))
            continue
        folders = []
        in_pack = avoid is not None and _identity(current) == avoid
        for entry in entries:
            full = Path(current, entry.name).as_posix()
            if in_pack and (entry.name in PACK_FILES or entry.name.startswith(STAGING_PREFIX)):
                found.skipped.append(f"{full} (skipped: part of the pack this build writes)")
            elif _sort_entry(entry, full, found):
                folders.append(full)
        stack.extend(reversed(folders))


def _sort_entry(entry: os.DirEntry[str], full: str, found: Found) -> bool:
    """File one folder entry as read, skipped or not read; True for a sub-folder to walk."""
    evidence = entry.name.lower().endswith(EVIDENCE_SUFFIXES)
    try:
        info = entry.stat(follow_symlinks=False)
        link = stat.S_ISLNK(info.st_mode)
        if link:
            info = os.stat(full)
    except OSError as exc:
        if evidence or not entry.is_symlink():
            found.unread.append((full, f"not read: {_link_problem(exc) if entry.is_symlink() else why(exc)}"))
        else:
            found.skipped.append(full)
        return False
    if stat.S_ISDIR(info.st_mode):
        if link:
            found.unread.append((full, "not read: a link to a folder (links to folders are not followed)"))
            return False
        return True
    _sort_file(entry.name, full, info.st_mode, link, evidence, found)
    return False


def _sort_file(name: str, full: str, mode: int, link: bool, evidence: bool, found: Found) -> None:
    """File a non-folder entry: read, skipped by name or as a pack's own file, or not read (not regular)."""
    if not evidence and not (stat.S_ISREG(mode) and sqlite_store.has_header(full)):
        found.skipped.append(full)
    elif not stat.S_ISREG(mode):
        what = stream.file_kind(mode)
        found.unread.append((full, f"not read: {'a link to ' if link else ''}{what}, not a regular file"))
    elif name in PACK_FILES and _is_pack_file(full, *PACK_FILES[name]):
        found.skipped.append(f"{full} (skipped: part of a reportgen pack, not evidence)")
    else:
        found.files.append(full)


def _is_pack_file(path: str, mark: tuple[str, str], keys: frozenset[str]) -> bool:
    """Whether a file is reportgen's own summary, manifest or signature (read within a size cap):
    its mark, and no key such a file does not have."""
    try:
        document = orjson.loads(stream.read_capped(path))  # a bigger one is read as evidence
    except (OSError, orjson.JSONDecodeError):  # stream.TooBig is an OSError
        return False
    return isinstance(document, dict) and document.get(mark[0]) == mark[1] and set(document) <= keys


def _link_problem(exc: OSError) -> str:
    """Why a link cannot be followed: broken, a loop, or the error itself."""
    if exc.errno == errno.ENOENT:
        return "a broken link (its target does not exist)"
    if exc.errno == errno.ELOOP:
        return "a link loop"
    return f"a link that cannot be followed: {why(exc)}"


def sources_of(found: Found, stdin: BinaryIO | None, limits: Limits) -> tuple[list[tuple[str, str]], list[Any]]:
    """(name, path) of every input. stdin and other streams named on the command line (a pipe,
    `<(...)`) are copied to temporary files as they are read, so they can be read again and split
    like any file; every other path is opened as a regular file or rejected, never waited on."""
    spools = []
    sources = []
    for path in found.files:
        name = STDIN_NAME if path == "-" else path
        if path != "-" and path not in found.streams:
            sources.append((name, path))
            continue
        if path == "-":
            spools.append(_spool(stdin or io.BytesIO(), name, limits))
        else:
            try:
                with open(path, "rb") as handle:
                    spools.append(_spool(handle, name, limits))
            except OSError:
                sources.append((name, path))  # read_unit rejects it with the reason
                continue
        sources.append((name, spools[-1].name))
    return sources, spools


# The names of the temporary files streams are copied into.
SPOOL_PREFIX, SPOOL_SUFFIX = "reportgen-input-", ".evidence"


def is_spool(path: str) -> bool:
    """Whether a path is (by its name) a temporary copy of a stream such as stdin."""
    name = os.path.basename(path)
    return name.startswith(SPOOL_PREFIX) and name.endswith(SPOOL_SUFFIX)


def _spool(handle: BinaryIO, name: str, limits: Limits) -> Any:
    """A temporary file holding what a stream gives, within the input size limit.

    A stream that never ends (a character device such as /dev/zero) stops at the limit; a full or
    failing temporary folder is a one-line InputError, never a traceback.
    """
    try:
        spool = tempfile.NamedTemporaryFile(prefix=SPOOL_PREFIX, suffix=SPOOL_SUFFIX)  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{name}: cannot make a temporary file to copy it into: {why(exc)}") from None
    try:
        _copy(handle, spool, name, limits)
    except BaseException:
        spool.close()
        raise
    return spool


def _copy(handle: BinaryIO, spool: Any, name: str, limits: Limits) -> None:
    """Copy a stream into its temporary file, stopping one chunk past the input size limit."""
    copied = 0
    while True:
        try:
            chunk = handle.read(min(CHUNK, limits.max_input_bytes + 1 - copied))
        except OSError as exc:
            raise InputError(f"{name}: cannot be read: {why(exc)}") from None
        if not chunk:
            break
        copied += len(chunk)
        if copied > limits.max_input_bytes:
            raise InputError(over_budget(name, limits))
        try:
            spool.write(chunk)
        except OSError as exc:
            raise InputError(f"{name}: cannot copy it to the temporary folder: {why(exc)}") from None
    try:
        spool.flush()
    except OSError as exc:
        raise InputError(f"{name}: cannot copy it to the temporary folder: {why(exc)}") from None


def is_database(path: str) -> bool:
    """Whether an input is read as a SQLite database: it has the header, or is named like one and
    is not JSON text (an encrypted database has no header, and is told so)."""
    if not os.path.isfile(path):
        return False
    if sqlite_store.has_header(path):
        return True
    if not sqlite_store.named_like(path):
        return False
    try:
        with stream.open_regular(path) as handle:
            head = handle.read(64).removeprefix(parse.UTF8_BOM).lstrip()
    except OSError:
        return False
    return not head.startswith((b"{", b"[")) and bool(head)


def is_gzip(path: str) -> bool:
    """Whether a file starts with gzip's magic bytes."""
    try:
        with stream.open_regular(path) as handle:
            return handle.read(2) == parse.GZIP_MAGIC
    except OSError:
        return False


def plain_size(paths: Sequence[str], exclude: str | None = None) -> int | None:
    """The bytes of JSON text the inputs hold, for the progress line's percentage; None when that is not
    known before reading: stdin or another stream, a gzip file or a database (what is read of those is
    not their size on disk), or a path that cannot be looked at."""
    try:
        found = expand_paths(paths, exclude)
        if found.streams or "-" in found.files:
            return None
        if any(is_gzip(path) or is_database(path) for path in found.files):
            return None
        return sum(os.stat(path).st_size for path in found.files) or None
    except (InputError, OSError):
        return None
