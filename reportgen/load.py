"""The loader: evidence files, folders and stdin in; validated records with provenance out.

Nothing read is lost: every entry of every input becomes a record, a rejected entry with a
one-line reason, or an unrecognised record (a kind reportgen does not know), and the result says
which. Formats are told apart by content, not by file name.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from . import parse
from .masking import SecretFound, mask_record, may_hold_secrets
from .models import KNOWN_KINDS, RECORD_ADAPTER, Envelope, Provenance

STDIN_NAME = "<stdin>"
# Names read when a folder is walked; a file named on the command line is read whatever its name.
EVIDENCE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")


class InputError(Exception):
    """An input that cannot be opened at all (a usage error, not a bad record)."""


@dataclass(frozen=True)
class InputFile:
    """One input file: its name as given, digest, size and how many entries it held."""

    path: str
    sha256: str
    bytes: int
    format: str
    records: int = 0


@dataclass(frozen=True)
class Rejection:
    """An entry (or a whole file, line None) that could not be read, and why."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class Unrecognised:
    """A well-formed record of a kind reportgen does not know; counted, never judged."""

    source: str
    line: int | None
    session_id: str
    metadata_kind: str


@dataclass(frozen=True)
class Conflict:
    """Two records with one session_id and different content; the later-created one is kept."""

    session_id: str
    kept: Provenance
    replaced: Provenance


@dataclass(frozen=True)
class Notice:
    """Something about an input that weakens the evidence without rejecting a record."""

    code: str
    source: str
    line: int | None
    detail: str


MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile input from exhausting memory."""

    max_record_bytes: int = 16 * MIB
    max_input_bytes: int = 4096 * MIB


@dataclass(frozen=True)
class SecretExposed:
    """An unredacted secret found (and masked) in an input entry; never the secret itself."""

    source: str
    line: int | None
    session_id: str | None
    path: str
    kind: str


@dataclass
class LoadResult:
    """Everything the loader read, sorted by time then session id."""

    records: list[Envelope] = field(default_factory=list)
    files: list[InputFile] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unrecognised: list[Unrecognised] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    duplicates: list[Provenance] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    secrets: list[SecretExposed] = field(default_factory=list)

    @property
    def entries(self) -> int:
        """How many entries were read from all inputs."""
        return sum(f.records for f in self.files)


@dataclass
class _Seen:
    """The record currently kept for a session id, with its content digest."""

    record: Envelope
    digest: bytes


def expand_paths(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """Turn the command line's paths into files to read (folders walked, sorted) and skipped names."""
    files: list[str] = []
    skipped: list[str] = []
    for path in paths:
        if path == "-":
            files.append("-")
        elif os.path.isdir(path):
            found, ignored = _walk(path)
            files.extend(found)
            skipped.extend(ignored)
        elif os.path.exists(path) or os.path.islink(path):
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return files, skipped


def _walk(folder: str) -> tuple[list[str], list[str]]:
    """Walk a folder recursively in sorted order, without following links to folders."""
    found: list[str] = []
    ignored: list[str] = []
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(names):
            full = Path(root, name).as_posix()
            (found if name.lower().endswith(EVIDENCE_SUFFIXES) else ignored).append(full)
    return found, ignored


Progress = Callable[[int, int], None]
# How many entries pass between two progress reports; the report itself decides whether to show.
PROGRESS_EVERY = 2000


def load(
    paths: Sequence[str], stdin: BinaryIO | None = None, limits: Limits | None = None, progress: Progress | None = None
) -> LoadResult:
    """Read every input, validate every entry and merge duplicates and conflicts."""
    files, skipped = expand_paths(paths)
    reader = _Reader(limits or Limits(), stdin, LoadResult(skipped=skipped), progress)
    for path in files:
        reader.read_file(path)
    result = reader.result
    result.records = sorted((s.record for s in reader.seen.values()), key=lambda r: (r.created_at, r.session_id))
    return result


class _Reader:
    """Reads inputs one by one into a LoadResult, within the limits."""

    def __init__(self, limits: Limits, stdin: BinaryIO | None, result: LoadResult, progress: Progress | None) -> None:
        self.limits, self.stdin, self.result, self.progress = limits, stdin, result, progress
        self.entries = 0
        self.budget = limits.max_input_bytes
        self.seen: dict[str, _Seen] = {}

    def read_file(self, path: str) -> None:
        """Read one input; a file that cannot be read is rejected whole, the rest still read."""
        name = STDIN_NAME if path == "-" else path
        try:
            raw = self._read_bytes(path)
        except OSError as exc:
            self.result.rejected.append(Rejection(name, None, f"cannot read file: {exc.strerror or exc}"))
            return
        data, problem = self._decompress(raw, name)
        digest = hashlib.sha256(raw).hexdigest()
        problems: list[parse.FileProblem] = []
        count, fmt = 0, "empty"
        for entry in parse.entries(data, self.limits.max_record_bytes, problems):
            count, fmt = count + 1, entry.format
            self._report()
            self.accept(entry, Provenance(source=name, line=entry.line, sha256=digest))
        self._file_problems(name, data, problem, problems)
        fmt = f"gzip+{fmt}" if raw.startswith(parse.GZIP_MAGIC) else fmt
        self.result.files.append(InputFile(path=name, sha256=digest, bytes=len(raw), format=fmt, records=count))

    def _report(self) -> None:
        """Count one entry, and tell the progress report every so often."""
        self.entries += 1
        if self.progress is not None and self.entries % PROGRESS_EVERY == 0:
            self.progress(self.limits.max_input_bytes - self.budget, self.entries)

    def _read_bytes(self, path: str) -> bytes:
        """Read a whole input (stdin for '-'), refusing one larger than what is left of the budget."""
        if path == "-":
            stream = self.stdin if self.stdin is not None else io.BytesIO()
            raw = stream.read(self.budget + 1)
        else:
            if os.path.isfile(path) and os.path.getsize(path) > self.budget:
                raise InputError(self._over_budget(path))
            with open(path, "rb") as handle:
                raw = handle.read(self.budget + 1)
        if len(raw) > self.budget:
            raise InputError(self._over_budget(STDIN_NAME if path == "-" else path))
        self.budget -= len(raw)
        return raw

    def _over_budget(self, name: str) -> str:
        """The one-line error for inputs over the total size limit."""
        return (
            f"{name}: the inputs exceed the input size limit of {self.limits.max_input_bytes} bytes (--max-input-bytes)"
        )

    def _decompress(self, raw: bytes, name: str) -> tuple[bytes, str | None]:
        """Gunzip gzip input within the budget; other input as it is."""
        if not raw.startswith(parse.GZIP_MAGIC):
            return raw, None
        try:
            data, problem = parse.gunzip(raw, self.budget)
        except parse.TooLarge as exc:
            raise InputError(f"{name}: {exc} (--max-input-bytes)") from None
        self.budget -= len(data)
        return data, problem

    def _file_problems(self, name: str, data: bytes, cut: str | None, problems: list[parse.FileProblem]) -> None:
        """Record what was wrong with a whole input: rejections and notices."""
        for p in problems:
            if p.rejects:
                self.result.rejected.append(Rejection(name, None, p.detail))
            else:
                self.result.notices.append(Notice(p.code, name, None, p.detail))
        if cut:
            self.result.rejected.append(Rejection(name, None, cut))
        elif not data.strip():
            self.result.notices.append(Notice("evidence_file_empty", name, None, "the file holds no records"))

    def accept(self, entry: parse.Entry, prov: Provenance) -> None:
        """Classify one entry as a record, a rejection or an unrecognised record."""
        value = self._masked(entry, prov)
        problem = _shape_problem(value)
        if problem:
            self.result.rejected.append(Rejection(prov.source, prov.line, problem))
            return
        if value["metadata_kind"] not in KNOWN_KINDS:
            self.result.unrecognised.append(
                Unrecognised(prov.source, prov.line, value["session_id"], value["metadata_kind"])
            )
            return
        naive: list[str] = []
        try:
            record = RECORD_ADAPTER.validate_python(value, context={"naive": naive})
        except ValidationError as exc:
            self.result.rejected.append(Rejection(prov.source, prov.line, describe_validation_error(exc)))
            return
        record._provenance = prov
        if naive:
            detail = f"timestamp without a UTC offset in {', '.join(sorted(set(naive)))}; read as UTC"
            self.result.notices.append(Notice("timestamp_without_offset", prov.source, prov.line, detail))
        _merge(record, orjson.dumps(value, option=orjson.OPT_SORT_KEYS), self.result, self.seen)

    def _masked(self, entry: parse.Entry, prov: Provenance) -> Any:
        """The entry's value with every secret masked, each one noted with where it was."""
        value = entry.value
        if isinstance(value, parse.Problem) or (entry.raw is not None and not may_hold_secrets(entry.raw)):
            return value
        found: list[SecretFound] = []
        value = mask_record(value, found)
        session_id = value.get("session_id") if isinstance(value, dict) else None
        sid = session_id if isinstance(session_id, str) else None
        for secret in found:
            self.result.secrets.append(SecretExposed(prov.source, prov.line, sid, secret.path, secret.kind))
        return value


def _shape_problem(entry: Any) -> str | None:
    """Why an entry is not a record at all, or None when it has an object with id and kind."""
    if isinstance(entry, parse.Problem):
        return entry.reason
    if not isinstance(entry, dict):
        return f"not a JSON object but {_json_type(entry)}"
    session_id = entry.get("session_id")
    if not isinstance(session_id, str) or not session_id.strip():
        return "missing session_id" if session_id is None else "session_id must be a non-empty string"
    kind = entry.get("metadata_kind")
    if not isinstance(kind, str) or not kind:
        return "missing metadata_kind" if kind is None else "metadata_kind must be a non-empty string"
    return None


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type."""
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first invalid field and how many more there were."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    # Discriminated unions prefix the location with the kind; the field path is what helps.
    loc = [str(part) for part in first["loc"] if part not in KNOWN_KINDS]
    where = ".".join(loc) or "record"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"invalid {where}: {first['msg']}{more}"


def _merge(record: Envelope, content: bytes, result: LoadResult, seen: dict[str, _Seen]) -> None:
    """Keep one record per session id: duplicates count once, conflicts keep the later-created."""
    digest = hashlib.sha256(content).digest()
    previous = seen.get(record.session_id)
    if previous is None:
        seen[record.session_id] = _Seen(record, digest)
        return
    if previous.digest == digest:
        result.duplicates.append(record.provenance)
        return
    newer = record.created_at >= previous.record.created_at
    kept, replaced = (record, previous.record) if newer else (previous.record, record)
    result.conflicts.append(Conflict(record.session_id, kept.provenance, replaced.provenance))
    if newer:
        seen[record.session_id] = _Seen(record, digest)
