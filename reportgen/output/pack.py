"""The readiness pack: every file rendered and checked in memory, then moved into place at once.

A pack is the closure dashboard and the operator runbook (HTML, Markdown, PDF), `summary.json`,
`index.html` and `manifest.json`, an in-toto Statement whose subjects are every other file, and,
when signed (`reportgen.signing`), `manifest.intoto.jsonl`, the manifest in a DSSE envelope. The
files are written into a fresh folder beside the target, which then replaces the target in one
atomic exchange (or two renames where the system has none): a failure leaves the previous pack as
it was, and never a half-written one; a crash between the renames is recovered by the next run.
Where the target cannot be renamed, the pack is staged inside it and its files replaced one by one,
the manifest last. Whatever the user put beside the pack's own files is kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import os
import re
import secrets
import shutil
import stat
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

try:
    import fcntl
except ImportError:  # not on Windows: builds into one folder are then not serialised
    fcntl = None  # type: ignore[assignment]

from reportgen.evidence.load import LoadResult
from reportgen.evidence.reread import read_entries
from reportgen.evidence.schema import Envelope
from reportgen.judge.history import Trend
from reportgen.judge.summary import GENERATOR, Summary, source_date_epoch
from reportgen.judge.verdict import utc_iso
from reportgen.output.pdf import PdfError, PdfOptions, PdfRenderer, evidence_ndjson
from reportgen.output.render import Renderer, renderers, write_file
from reportgen.output.signing import SIGNATURE, Signer
from reportgen.view.dashboard import embedded_refs, extend_dashboard
from reportgen.view.model import DocumentLink, OutputFile, PackInfo, ReportView, build_view, bytes_text
from reportgen.view.trend import extend_view

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://reportgen.dev/readiness-pack/v1"
FORMATS = ("html", "md", "pdf", "json")
DOCUMENT_FORMATS = ("html", "md", "pdf")
DEFAULT_NAME = "readiness-pack"
DEFAULT_TITLE = "Rollback drill release readiness"
SUMMARY, INDEX, MANIFEST = "summary.json", "index.html", "manifest.json"
DOCUMENTS = {
    "closure-dashboard": (
        "Final reporting closure dashboard",
        "The verdict, every open item with its evidence, the checks, resolved chains, counts and inputs.",
    ),
    "operator-runbook": (
        "Operator runbook",
        "What to do, step by step, to close the open items; what to attach to the release record.",
    ),
}
FORMAT_TITLES = {"html": "HTML", "md": "Markdown", "pdf": "PDF", "json": "JSON"}
WINDOWS_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
)
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PackError(Exception):
    """A pack that cannot be built as asked, or written where asked."""


class PdfNotWritten(PackError):
    """The PDFs could not be printed; the pack was written without them."""

    def __init__(self, reason: str, written: list[Path]) -> None:
        super().__init__(f"no PDF written: {reason}; the pack's other files were written")
        self.written = written


@dataclass(frozen=True)
class PackOptions:
    """What the user asked for: the pack's name, title and formats, and how its PDFs are made."""

    name: str = DEFAULT_NAME
    title: str = DEFAULT_TITLE
    formats: tuple[str, ...] = FORMATS
    strict: bool = False
    pdf: PdfOptions = PdfOptions()
    # Signs the manifest (a DSSE envelope beside it) when given.
    signer: Signer | None = None


@dataclass(frozen=True)
class PackFile:
    """One rendered file of the pack, in memory."""

    name: str
    title: str
    data: bytes

    @property
    def sha256(self) -> str:
        """The file's sha256, hex."""
        return hashlib.sha256(self.data).hexdigest()

    def described(self) -> OutputFile:
        """The file as the templates list it, with its digest."""
        return OutputFile(self.name, self.title, self.sha256, bytes_text(len(self.data)))


# --- options ---------------------------------------------------------------------------------


def sanitise_name(raw: str) -> str:
    """A pack name safe as one folder name: letters, digits, '.', '_', '-'; never '.', '..' or a path."""
    text = unicodedata.normalize("NFKC", raw)
    name = UNSAFE_NAME.sub("-", text).strip("-.")[:100]
    if not name:
        raise PackError(f"pack name {raw!r} has no usable characters (use letters, digits, '.', '_', '-')")
    # Names Windows reserves for devices cannot be folders there, whatever their extension.
    if name.split(".")[0].upper() in WINDOWS_RESERVED:
        name = f"pack-{name}"
    return name


def parse_formats(values: Iterable[str]) -> tuple[str, ...]:
    """The formats asked for (comma-separated, repeatable), in the pack's fixed order."""
    asked = {part.strip().lower() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(asked - set(FORMATS))
    if unknown:
        raise PackError(f"unknown format {', '.join(unknown)} (choose from {', '.join(FORMATS)})")
    if not asked:
        raise PackError(f"no format given (choose from {', '.join(FORMATS)})")
    return tuple(f for f in FORMATS if f in asked)


def pack_options(
    name: str,
    title: str | None,
    formats: Iterable[str],
    strict: bool = False,
    pdf: PdfOptions | None = None,
    signer: Signer | None = None,
) -> PackOptions:
    """Options from the command line, checked and made safe."""
    clean_title = " ".join((title or DEFAULT_TITLE).split()) or DEFAULT_TITLE
    return PackOptions(sanitise_name(name), clean_title, parse_formats(formats), strict, pdf or PdfOptions(), signer)


def default_out(name: str) -> Path:
    """Where a pack goes when --out is not given."""
    return Path("out") / name


# --- rendering in memory ---------------------------------------------------------------------


def built_at(summary: Summary) -> datetime:
    """The build time written into documents: SOURCE_DATE_EPOCH if set, else as_of; never the clock."""
    return source_date_epoch() or summary.as_of


def document_files(document: str, formats: tuple[str, ...]) -> tuple[OutputFile, ...]:
    """The files a document is written as, digests not yet known."""
    title = DOCUMENTS[document][0]
    return tuple(
        OutputFile(f"{document}.{fmt}", f"{title} ({FORMAT_TITLES[fmt]})") for fmt in DOCUMENT_FORMATS if fmt in formats
    )


def pack_info(summary: Summary, options: PackOptions) -> PackInfo:
    """The pack's own metadata, before any file is rendered."""
    documents = tuple(
        DocumentLink(title, description, document_files(doc, options.formats))
        for doc, (title, description) in DOCUMENTS.items()
    )
    return PackInfo(
        name=options.name,
        title=options.title,
        formats=options.formats,
        built_at=built_at(summary),
        generator=f"{summary.generator.name} {summary.generator.version}",
        documents=documents,
        signed_by=options.signer.fingerprint if options.signer else None,
    )


def file_titles(info: PackInfo) -> dict[str, str]:
    """What each file of the pack is, by file name."""
    titles = {f.name: f.title for d in info.documents for f in d.files}
    return titles | {
        SUMMARY: "Summary (JSON)",
        INDEX: "Index (HTML)",
        MANIFEST: "Manifest (in-toto Statement, JSON)",
        SIGNATURE: "Signature of the manifest (DSSE envelope, Ed25519)",
    }


def stages(formats: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """The pack's files, in rendering stages: every file of a stage lists the digests of earlier stages.

    All formats of one document are one stage, so its HTML, Markdown and PDF say the same thing.
    """
    docs = {doc: tuple(f"{doc}.{fmt}" for fmt in DOCUMENT_FORMATS if fmt in formats) for doc in DOCUMENTS}
    summary = (SUMMARY,) if "json" in formats else ()
    return tuple(s for s in (docs["closure-dashboard"], summary, docs["operator-runbook"], (INDEX,)) if s)


def pending_note(name: str) -> str:
    """Why a file's digest is not shown: the manifest covers it, or it is the manifest."""
    return "made last, over every other file" if name == MANIFEST else f"covered by {MANIFEST}"


def with_digests(view: ReportView, done: list[PackFile], planned: tuple[str, ...]) -> ReportView:
    """The view, listing every planned file of the pack with the digests of those already rendered."""
    known = {f.name: f.described() for f in done}
    titles = file_titles(view.pack)
    attachments = tuple(known.get(name, OutputFile(name, titles[name], note=pending_note(name))) for name in planned)
    documents = tuple(replace(d, files=tuple(known.get(f.name, f) for f in d.files)) for d in view.pack.documents)
    return replace(view, pack=replace(view.pack, attachments=attachments, documents=documents))


def render_pack(
    summary: Summary,
    options: PackOptions,
    by_format: Mapping[str, Renderer] | None = None,
    trend: Trend | None = None,
    records: Sequence[Envelope] = (),
    evidence: Sequence[Mapping[str, Any]] | None = None,
) -> list[PackFile]:
    """Render every file of the pack in memory; the manifest last, over all the others.

    `records` are the loaded evidence: the dashboard embeds those its findings cite; `evidence`,
    when given, is what the PDFs attach (else `records`).
    """
    by_format = by_format or pack_renderers(summary, options, records, evidence)
    view = extend_view(build_view(summary, pack_info(summary, options)), summary, trend)
    view = extend_dashboard(view, summary, records)
    titles = file_titles(view.pack)
    planned = (*(name for stage in stages(options.formats) for name in stage), MANIFEST)
    done: list[PackFile] = []
    for stage in stages(options.formats):
        stage_view = with_digests(view, done, planned)
        for name in stage:
            document, fmt = name.rsplit(".", 1)
            done.append(PackFile(name, titles[name], by_format[fmt].render(document, stage_view)))
    done.append(PackFile(MANIFEST, titles[MANIFEST], manifest(summary, options, done)))
    if options.signer is not None:
        # The envelope signs the manifest's exact bytes; it cannot be a subject of what it signs.
        done.append(PackFile(SIGNATURE, titles[SIGNATURE], options.signer.sign(done[-1].data)))
    return done


def records_for(summary: Summary, options: PackOptions, loaded: LoadResult) -> list[Envelope]:
    """The records a pack carries, read again from the inputs: all of them when the PDF attaches
    the evidence, else the ones the dashboard embeds."""
    if options.pdf.attach_evidence and "pdf" in options.formats:
        return loaded.records
    return loaded.records_at({(ref.source, ref.line) for ref in embedded_refs(summary)})


def evidence_for(options: PackOptions, loaded: LoadResult) -> list[dict[str, Any]] | None:
    """What the PDFs attach, when asked to: every record entry as read, the duplicate and
    conflicting copies too, so a re-check counts them and warns again as this check did."""
    if options.pdf.attach_evidence and "pdf" in options.formats:
        return read_entries(loaded)
    return None


def pack_renderers(
    summary: Summary,
    options: PackOptions,
    records: Sequence[Envelope],
    evidence: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Renderer]:
    """One renderer per format; the PDF's carries the evidence (else the records) when asked to."""
    attached = None
    if options.pdf.attach_evidence and "pdf" in options.formats:
        carried = records if evidence is None else evidence
        if summary.inputs.records and not carried:
            raise PackError("internal error: --attach-evidence needs the loaded records")
        attached = evidence_ndjson(carried, summary.inputs)
    return {**renderers(summary), "pdf": PdfRenderer(summary, options.pdf, attached)}


# --- the manifest ----------------------------------------------------------------------------


def manifest(summary: Summary, options: PackOptions, files: list[PackFile]) -> bytes:
    """An in-toto Statement v1 over every other file of the pack; the predicate says how it was made."""
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": f.name, "digest": {"sha256": f.sha256}} for f in sorted(files, key=lambda f: f.name)],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "generator": {"name": GENERATOR, "version": summary.generator.version},
            "as_of": utc_iso(summary.as_of),
            "rules": summary.rules,
            "verdict": {
                "closure": summary.closure.state,
                "readiness": summary.readiness.state,
                "release_decision": summary.readiness.release_decision.recommended_state,
            },
            "inputs": [
                {"path": f.path, "sha256": f.sha256, "bytes": f.bytes, "records": f.records}
                for f in summary.inputs.files
            ],
            "outputs": [
                {"path": f.name, "sha256": f.sha256, "bytes": len(f.data)} for f in sorted(files, key=lambda f: f.name)
            ],
            "parameters": parameters(options),
        },
    }
    return orjson.dumps(statement, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2) + b"\n"


def parameters(options: PackOptions) -> dict[str, Any]:
    """The options the pack was built with, as the manifest records them."""
    recorded: dict[str, Any] = {
        "name": options.name,
        "title": options.title,
        "formats": list(options.formats),
        "strict": options.strict,
    }
    if "pdf" in options.formats:
        pdf = options.pdf
        recorded["pdf"] = {
            "author": pdf.author,
            "variant": pdf.variant,
            "max_rows": pdf.max_rows,
            "attach_evidence": pdf.attach_evidence,
        }
    if options.signer is not None:
        # Recorded inside what is signed, so removing the envelope is noticed without the key.
        recorded["signature"] = {"envelope": SIGNATURE, "keyid": options.signer.fingerprint}
    return recorded


def validate(files: list[PackFile]) -> None:
    """Check the rendered pack before anything is written: unique safe names, no empty file, manifest last
    (then its signature, when signed)."""
    signature = files[-1] if files and files[-1].name == SIGNATURE else None
    files = files[:-1] if signature else files
    names = [f.name for f in files]
    if len(set(names)) != len(names) or any("/" in n or n.startswith(".") for n in names):
        raise PackError(f"internal error: bad file names in the pack: {names}")
    empty = [f.name for f in files if not f.data]
    if empty:
        raise PackError(f"internal error: empty files in the pack: {empty}")
    subjects = orjson.loads(files[-1].data)["subject"]
    if files[-1].name != MANIFEST or {s["name"] for s in subjects} != set(names[:-1]):
        raise PackError("internal error: the manifest does not cover every file of the pack")


# --- writing ---------------------------------------------------------------------------------

Say = Callable[[str], None]
# The most of a manifest reportgen reads back to recognise a pack: far above any it writes.
MANIFEST_LIMIT = 16 << 20
PACK_NAMES = frozenset({f"{doc}.{fmt}" for doc in DOCUMENTS for fmt in DOCUMENT_FORMATS} | {SUMMARY, INDEX, MANIFEST})
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
    return {MANIFEST} | signed | {name for name in listed if isinstance(name, str) and name in PACK_NAMES}


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


def build_pack(
    summary: Summary,
    options: PackOptions,
    target: Path,
    trend: Trend | None = None,
    records: Sequence[Envelope] = (),
    evidence: Sequence[Mapping[str, Any]] | None = None,
    say: Say = quiet,
) -> list[Path]:
    """Render, check and write one pack (with the trend over earlier packs, if given); returns the paths written.

    When the PDFs cannot be printed, the pack is written without them and `PdfNotWritten` says why.
    `say` hears what was recovered from a build cut short and what of the user's was kept.
    """
    try:
        files, failure = render_pack(summary, options, trend=trend, records=records, evidence=evidence), None
    except PdfError as exc:
        without_pdf = replace(options, formats=tuple(f for f in options.formats if f != "pdf"))
        files, failure = render_pack(summary, without_pdf, trend=trend, records=records), str(exc)
    validate(files)
    written = write_pack(files, target, say)
    if failure:
        raise PdfNotWritten(failure, written)
    return written
