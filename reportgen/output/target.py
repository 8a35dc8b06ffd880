"""The folder `publish` writes into: paths kept inside it, read and written without following links.

A wiki checkout is not ours: anyone who can push to it can plant a symbolic link where publish
will write. So every path below the target is walked one component at a time from an open
folder (`openat` with O_NOFOLLOW): a link anywhere on the way, a folder, the file itself or a
dangling one, is refused and never followed. The target itself may be a link: the user named it.
A file is written to a temporary name that is unpredictable and created exclusively in its
folder, then renamed over the old file, so a reader sees the old bytes or the new, never a part.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

CLOEXEC = getattr(os, "O_CLOEXEC", 0)
FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | CLOEXEC
CHUNK = 1 << 20


class PublishError(Exception):
    """A pack that cannot be published as asked."""


def parts_of(name: str) -> tuple[str, ...]:
    """A path relative to the target as its components; refuses any path that could leave the target."""
    parts = tuple(name.split("/"))
    if not name or name.startswith("/") or "\0" in name or any(p in ("", ".", "..") for p in parts):
        raise PublishError(f"{name!r}: not a path inside the target; publish writes only below it")
    return parts


def refusal(path: Path, exc: OSError, wanted: str) -> PublishError:
    """Why a path below the target cannot be used: a link, the wrong kind of file, or the system's reason."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return PublishError(f"{path}: is a symbolic link; publish never reads or writes through links (remove it)")
    if mode and exc.errno in (errno.ENOTDIR, errno.ELOOP, errno.EISDIR):
        return PublishError(f"{path}: exists and is not a {wanted}")
    return PublishError(f"{path}: cannot open: {exc.strerror}")


def open_root(root: Path, create: bool) -> int | None:
    """The target folder, opened; None when it does not exist and is not to be made."""
    if create:
        root.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY | CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PublishError(f"{root}: cannot open the target folder: {exc.strerror}") from None


def step(root: Path, parts: tuple[str, ...], number: int, parent: int, create: bool) -> int | None:
    """The next folder on the way, opened without following a link; None when absent and not to be made."""
    try:
        return os.open(parts[number], FOLDER_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            return None
    except OSError as exc:
        raise refusal(root.joinpath(*parts[: number + 1]), exc, "folder") from None
    os.mkdir(parts[number], dir_fd=parent)
    return step(root, parts, number, parent, create=False)


@contextmanager
def folder(root: Path, parts: tuple[str, ...], create: bool = False) -> Iterator[int | None]:
    """A folder below root reached through real folders only; None when absent and not to be made."""
    fd = open_root(root, create)
    try:
        for number in range(len(parts)):
            if fd is None:
                break
            child = step(root, parts, number, fd, create)
            os.close(fd)
            fd = child
        yield fd
    finally:
        if fd is not None:
            os.close(fd)


@contextmanager
def opened(root: Path, name: str) -> Iterator[tuple[int, os.stat_result] | None]:
    """A regular file below root opened for reading with its status; None when absent."""
    parts = parts_of(name)
    with folder(root, parts[:-1]) as parent:
        try:
            fd = None if parent is None else os.open(parts[-1], READ_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            fd = None
        except OSError as exc:
            raise refusal(root / name, exc, "regular file") from None
        if fd is None:
            yield None
            return
        try:
            status = os.fstat(fd)
            if not stat.S_ISREG(status.st_mode):
                raise PublishError(f"{root / name}: exists and is not a regular file")
            yield fd, status
        finally:
            os.close(fd)


def read(root: Path, name: str, limit: int) -> bytes | None:
    """A regular file's bytes below root, None when absent; refuses links, special files and files over limit."""
    with opened(root, name) as found:
        if found is None:
            return None
        fd, status = found
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(limit + 1) if status.st_size <= limit else b""
        if status.st_size > limit or len(data) > limit:  # the file may grow while it is read
            raise PublishError(f"{root / name}: more than the {limit} bytes publish reads from such a file")
        return data


def digest(root: Path, name: str) -> str | None:
    """The sha256 of a regular file below root, None when absent; refuses links and special files."""
    with opened(root, name) as found:
        if found is None:
            return None
        sha = hashlib.sha256()
        with os.fdopen(os.dup(found[0]), "rb") as stream:
            while chunk := stream.read(CHUNK):
                sha.update(chunk)
        return sha.hexdigest()


def is_file(root: Path, name: str) -> bool:
    """Whether a regular file is at name below root, reached without links (a link is no file here)."""
    try:
        with opened(root, name) as found:
            return found is not None
    except PublishError:
        return False


def folders(root: Path, name: str) -> list[str]:
    """The visible real folders with UTF-8 names in a folder below root ("" for root), sorted; links are skipped."""
    with folder(root, parts_of(name) if name else ()) as fd:
        if fd is None:
            return []
        with os.scandir(fd) as entries:
            names = [e.name for e in entries if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    # A name that is not UTF-8 cannot be a page publish made, nor be written into a UTF-8 page.
    return sorted(name for name in names if name.encode("utf-8", "surrogateescape").decode("utf-8", "replace") == name)


def create_exclusive(parent: int, name: str) -> tuple[str, int]:
    """A new temporary file beside name, with an unpredictable name that no file or link held before."""
    for _ in range(100):
        temporary = f".{name[:64]}.{secrets.token_hex(8)}.publishing"
        try:
            return temporary, os.open(temporary, CREATE_FLAGS, 0o666, dir_fd=parent)
        except FileExistsError:
            continue
    raise PublishError(f"{name}: cannot create a temporary file beside it")


def write(root: Path, name: str, data: bytes) -> None:
    """Write a file below root atomically: an exclusive temporary file, then renamed over the old one."""
    parts = parts_of(name)
    with folder(root, parts[:-1], create=True) as parent:
        assert parent is not None  # made by folder(create=True)
        temporary, fd = create_exclusive(parent, parts[-1])
        try:
            with os.fdopen(fd, "wb") as stream:
                stream.write(data)
                stream.flush()
                os.fsync(stream.fileno())
            os.rename(temporary, parts[-1], src_dir_fd=parent, dst_dir_fd=parent)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=parent)
            raise
