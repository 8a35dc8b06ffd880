"""Writing a pack: every file into a fresh folder beside the target, then one atomic swap.

The folder then replaces the target in one atomic exchange (or two renames where the system has
none): a failure leaves the previous pack as it was, and never a half-written one; a crash between
the renames is recovered by the next run. Where the target cannot be renamed, the pack is staged
inside it and its files replaced one by one, the manifest last. Whatever the user put beside the
pack's own files is kept. A single file (a CI report) is written whole or not at all by
`write_atomically`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

try:
    import fcntl
except ImportError:  # not on Windows: builds into one folder are then not serialised
    fcntl = None  # type: ignore[assignment]

from reportgen.output.layout import MANIFEST, PREDICATE_TYPE, PackError, PackFile, pack_file_names
from reportgen.output.render import write_file
from reportgen.output.signing import SIGNATURE

Say = Callable[[str], None]
# The most of a manifest reportgen reads back to recognise a pack: far above any it writes.
MANIFEST_LIMIT = 16 << 20
# What a build leaves inside the target while it writes there: staged files, then the complete pack.
INSIDE = re.compile(r"\.reportgen-(staging|new)-[0-9a-f]{12}")
# What it makes beside the target `name`: the staged pack, and the previous one while they swap.
BESIDE = re.compile(r"\.(.+)\.(tmp|old)-[0-9a-f]{12}")
RENAME_EXCHANGE = 2
AT_FDCWD = -100


def quiet(_message: str) -> None:
    """Say nothing."""


def read_manifest(folder: Path) -> Any:
    """A folder's manifest.json, parsed: a regular file only (never a link or a device), bounded in size."""
    try:
        fd = os.open(folder / MANIFEST, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = handle.read(MANIFEST_LIMIT + 1)
    try:
        return orjson.loads(data) if len(data) <= MANIFEST_LIMIT else None
    except orjson.JSONDecodeError:
        return None


def is_pack(folder: Path) -> bool:
    """Whether a folder holds a readiness pack (so it may be replaced)."""
    data = read_manifest(folder)
    return isinstance(data, dict) and data.get("predicateType") == PREDICATE_TYPE


def pack_names(folder: Path) -> set[str]:
    """The pack's own files in a folder, as its manifest lists them, and its signature; none when it holds no pack."""
    data = read_manifest(folder)
    if not isinstance(data, dict) or data.get("predicateType") != PREDICATE_TYPE:
        return set()
    subjects = data.get("subject")
    listed = [s.get("name") for s in subjects if isinstance(s, dict)] if isinstance(subjects, list) else []
    # Only names a pack can have: a hostile manifest must not make a user's file look like the pack's.
    # The signature is never a subject (it signs the manifest): it is the pack's when the manifest says it is signed.
    signed = {SIGNATURE} if signature_recorded(data) else set()
    own = pack_file_names()
    return {MANIFEST} | signed | {name for name in listed if isinstance(name, str) and name in own}


def signature_recorded(statement: dict[str, Any]) -> bool:
    """Whether a manifest records that the pack is signed (so the envelope beside it is the pack's)."""
    predicate = statement.get("predicate")
    parameters = predicate.get("parameters") if isinstance(predicate, dict) else None
    return isinstance(parameters, dict) and isinstance(parameters.get("signature"), dict)


def is_real_dir(path: Path) -> bool:
    """Whether a path is a folder itself, not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def check_target(target: Path) -> None:
    """Refuse to replace anything but an empty folder or an earlier pack."""
    if target.is_symlink():
        raise PackError(f"{target}: is a symbolic link; give the folder it points to")
    if target.exists() and not target.is_dir():
        raise PackError(f"{target}: exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not is_pack(target):
        raise PackError(f"{target}: not empty and not a readiness pack; refusing to replace it")


def foreign(target: Path) -> list[str]:
    """What a user put in a pack folder: every entry that is not one of the pack's own files."""
    if not is_real_dir(target):
        return []
    own = pack_names(target)
    return sorted(p.name for p in target.iterdir() if p.name not in own and not INSIDE.fullmatch(p.name))


def check_clashes(target: Path, kept: list[str], files: list[PackFile]) -> None:
    """Refuse to overwrite a user's file that has the name of one the new pack writes."""
    clash = sorted(set(kept) & {f.name for f in files})
    if clash:
        names = ", ".join(str(target / name) for name in clash)
        raise PackError(
            f"{names}: not part of the earlier pack, and the new pack writes a file of that name; move it away"
        )


# --- recovering from a build that was cut short ----------------------------------------------


def names_in(folder: Path) -> list[str]:
    """The names in a folder, sorted; none when it cannot be listed."""
    try:
        return sorted(os.listdir(folder))
    except OSError:
        return []


def leftovers_beside(target: Path) -> list[Path]:
    """The staging and previous-pack folders a build cut short left beside the target, sorted."""
    found = (target.parent / n for n in names_in(target.parent) if (m := BESIDE.fullmatch(n)) and m[1] == target.name)
    return [path for path in found if is_real_dir(path)]


def set_aside(path: Path) -> bool:
    """Whether a leftover beside a target is an earlier pack, set aside by a swap that was cut short."""
    match = BESIDE.fullmatch(path.name)
    return match is not None and match[2] == "old" and is_pack(path)


def recover_packs(folder: Path, say: Say = quiet) -> None:
    """Recover every pack directly in a folder of packs from builds that were cut short."""
    for name in names_in(folder):
        match = BESIDE.fullmatch(name)
        target = folder / (match[1] if match else name)
        if match or (is_real_dir(target) and any(INSIDE.fullmatch(n) for n in names_in(target))):
            recover(target, say)


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold a folder's lock, so one build or recovery at a time swaps the packs in it."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        # Not there yet (nothing can be swapping in it), or not ours to open: go on unlocked.
        yield
        return
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def recover(target: Path, say: Say = quiet) -> None:
    """Finish or undo a pack swap that was cut short, beside the target and inside it; say what was done."""
    place = Path(os.path.abspath(target))
    with locked(place.parent):
        recover_unlocked(place, say)


def recover_unlocked(place: Path, say: Say) -> None:
    """`recover`, for a caller that holds the lock of the target's parent."""
    found = leftovers_beside(place)
    if found and not is_pack(place):
        restored = restore_previous(place, found)
        if restored is not None:
            found.remove(restored)
            say(f"{place}: put back the previous pack from {restored.name}, where a build cut short had left it")
    for path in found:
        # An earlier pack is removed only once a pack is in its place.
        if set_aside(path) and not is_pack(place):
            say(f"{path}: an earlier pack a build cut short left aside; kept, as {place} holds no pack")
            continue
        shutil.rmtree(path)
        say(f"{path}: removed, left by a build that was cut short")
    if is_real_dir(place):
        recover_inside(place, say)


def restore_previous(target: Path, found: list[Path]) -> Path | None:
    """Put the newest earlier pack among the leftovers back at the target, when nothing is there."""
    if os.path.lexists(target) and not (is_real_dir(target) and not any(target.iterdir())):
        return None
    packs = [p for p in found if set_aside(p)]
    if not packs:
        return None
    newest = max(packs, key=lambda p: (os.lstat(p).st_ctime_ns, p.name))
    if os.path.lexists(target):
        target.rmdir()
    os.rename(newest, target)
    return newest


def recover_inside(target: Path, say: Say) -> None:
    """Finish installing a complete pack staged inside the target; remove an incomplete one."""
    for name in names_in(target):
        match = INSIDE.fullmatch(name)
        if not match or not is_real_dir(target / name):
            continue
        if match[1] == "new":
            install_inside(target / name, target)
            say(f"{target}: finished putting in the pack a build cut short had left in {name}")
        else:
            shutil.rmtree(target / name)
            say(f"{target / name}: removed, left by a build that was cut short")


# --- swapping the new pack in ----------------------------------------------------------------


def sibling(target: Path, tag: str) -> Path:
    """A fresh hidden folder name beside the target."""
    return target.with_name(f".{target.name}.{tag}-{secrets.token_hex(6)}")


@functools.cache
def _renameat2() -> Any:
    """Linux's renameat2 from the C library, or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step; False where the system or filesystem cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(second))


def swap(staging: Path, target: Path) -> None:
    """Move the staged pack into place; the previous pack is removed only once the new one is in.

    One atomic exchange where the system has it, else two renames; a crash between them leaves the
    previous pack under a name `recover` knows.
    """
    if not os.path.lexists(target):
        os.rename(staging, target)
        return
    if exchange(staging, target):
        old = staging
    else:
        old = sibling(target, "old")
        os.rename(target, old)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old, target)
            raise
    shutil.rmtree(old, ignore_errors=True)


def install_inside(complete: Path, target: Path) -> None:
    """Replace the pack's files in the target by those of a complete pack staged inside it, manifest last.

    Each step can be repeated, so `recover` finishes what a crash interrupted.
    """
    incoming = set(os.listdir(complete))
    for name in sorted(pack_names(target) - incoming):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target / name)
    for name in sorted(incoming, key=lambda n: (n == MANIFEST, n)):
        os.replace(complete / name, target / name)
    os.rmdir(complete)


def carry(source: Path, names: list[str], staging: Path) -> None:
    """Keep the user's own files in the new pack folder: hard links, or copies; links stay links."""
    for name in names:
        keep_entry(source / name, staging / name)


def keep_entry(source: Path, copy: Path) -> None:
    """One file, link or folder (recursively) of the user's, kept at `copy`; links are never followed."""
    mode = os.lstat(source).st_mode
    if stat.S_ISLNK(mode):
        os.symlink(os.readlink(source), copy)
    elif stat.S_ISDIR(mode):
        copy.mkdir()
        for name in sorted(os.listdir(source)):
            keep_entry(source / name, copy / name)
        shutil.copystat(source, copy, follow_symlinks=False)
    else:
        try:
            os.link(source, copy, follow_symlinks=False)
        except OSError:
            if not stat.S_ISREG(mode):
                raise PackError(f"{source}: a special file that cannot be kept in the new pack; move it away") from None
            shutil.copy2(source, copy, follow_symlinks=False)


def staging_folder(target: Path) -> tuple[Path, bool]:
    """A fresh staging folder: beside the target, or inside it when the folder beside cannot be used.

    Inside: the parent cannot be written, or the target is a mount point (which cannot be renamed).
    """
    if is_real_dir(target) and os.lstat(target).st_dev != os.lstat(target.parent).st_dev:
        return make_inside(target), True
    beside = sibling(target, "tmp")
    try:
        beside.mkdir()
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        if not is_real_dir(target):
            raise PackError(f"{target.parent}: cannot be written ({exc.strerror}); make {target} first") from None
        return make_inside(target), True
    return beside, False


def make_inside(target: Path) -> Path:
    """A fresh staging folder inside the target."""
    folder = target / f".reportgen-staging-{secrets.token_hex(6)}"
    folder.mkdir()
    return folder


def write_pack(files: list[PackFile], target: Path, say: Say = quiet) -> list[Path]:
    """Write the files into a staging folder, then swap it into place, keeping what the user added."""
    # Renames need a real name and parent: '.' or 'a/..' have neither until made absolute.
    place = Path(os.path.abspath(target))
    with locked(place.parent):
        recover_unlocked(place, say)
        check_target(place)
        kept = foreign(place)
        check_clashes(place, kept, files)
        place.parent.mkdir(parents=True, exist_ok=True)
        staging, inside = staging_folder(place)
        if not inside and not swap_in(files, staging, place, kept):
            staging, inside = make_inside(place), True
        if inside:
            put_in(files, staging, place)
    if kept:
        say(f"{place}: kept, not part of the pack (not in its manifest): {', '.join(kept)}")
    return [target / f.name for f in files]


def stage(files: list[PackFile], staging: Path) -> None:
    """Write every file of the pack into the staging folder."""
    for f in files:
        write_file(staging / f.name, f.data)


def swap_in(files: list[PackFile], staging: Path, target: Path, kept: list[str]) -> bool:
    """Stage the pack beside the target and swap it in; False when the target cannot be renamed."""
    try:
        stage(files, staging)
        carry(target, kept, staging)
        swap(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        # A mount point (or a bind mount on the same device) cannot be renamed, only written into.
        if isinstance(exc, OSError) and exc.errno in (errno.EBUSY, errno.EXDEV) and is_real_dir(target):
            return False
        raise
    return True


def put_in(files: list[PackFile], staging: Path, target: Path) -> None:
    """Stage the pack inside the target, mark it complete, then replace the pack's files with it."""
    try:
        stage(files, staging)
        complete = staging.with_name(staging.name.replace("-staging-", "-new-"))
        os.rename(staging, complete)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        install_inside(complete, target)
    except OSError as exc:
        raise PackError(f"{target}: the new pack is only partly in place ({exc}); build again to finish it") from None


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, synced, then renamed over it."""
    import stat
    import tempfile

    # Replace a file, never a device, a pipe or a folder someone named (or linked) as the output.
    if path.is_symlink() or (path.exists() and not stat.S_ISREG(path.stat().st_mode)):
        raise OSError(f"{path} exists and is not a regular file")
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private; a report is as readable as any file the user writes.
        os.fchmod(handle, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
