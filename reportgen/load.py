"""The loader: evidence files, folders and stdin in; validated records with provenance out.

Nothing read is lost: every entry of every input becomes a record, a rejected entry with a
one-line reason, or an unrecognised record (a kind reportgen does not know), and the result says
which. Formats are told apart by content, not by file name.
"""

from __future__ import annotations

import hashlib
import io
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from pydantic import ValidationError

from .models import KNOWN_KINDS, RECORD_ADAPTER, Envelope, Provenance

STDIN_NAME = "<stdin>"
# Names read when a folder is walked; a file named on the command line is read whatever its name.
EVIDENCE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz")
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"


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


def load(paths: Sequence[str], stdin: BinaryIO | None = None) -> LoadResult:
    """Read every input, validate every entry and merge duplicates and conflicts."""
    files, skipped = expand_paths(paths)
    result = LoadResult(skipped=skipped)
    seen: dict[str, _Seen] = {}
    for path in files:
        _load_file(path, stdin, result, seen)
    result.records = sorted((s.record for s in seen.values()), key=lambda r: (r.created_at, r.session_id))
    return result


def _read_bytes(path: str, stdin: BinaryIO | None) -> bytes:
    """Read a whole input; stdin when the path is '-'."""
    if path == "-":
        stream = stdin if stdin is not None else io.BytesIO()
        return stream.read()
    with open(path, "rb") as handle:
        return handle.read()


def _load_file(path: str, stdin: BinaryIO | None, result: LoadResult, seen: dict[str, _Seen]) -> None:
    """Read one input file into the result; a file that cannot be read is rejected whole."""
    name = STDIN_NAME if path == "-" else path
    try:
        raw = _read_bytes(path, stdin)
    except OSError as exc:
        result.rejected.append(Rejection(name, None, f"cannot read file: {exc.strerror or exc}"))
        return
    digest = hashlib.sha256(raw).hexdigest()
    data, problem = _gunzip(raw) if raw.startswith(GZIP_MAGIC) else (raw, None)
    count, fmt = 0, "empty"
    for line, entry, entry_format in _entries(data.removeprefix(UTF8_BOM), name, result):
        count, fmt = count + 1, entry_format
        _accept(entry, Provenance(source=name, line=line, sha256=digest), result, seen)
    if problem:
        result.rejected.append(Rejection(name, None, problem))
    if not data.strip() and not problem:
        result.notices.append(Notice("evidence_file_empty", name, None, "the file holds no records"))
    fmt = f"gzip+{fmt}" if raw.startswith(GZIP_MAGIC) else fmt
    result.files.append(InputFile(path=name, sha256=digest, bytes=len(raw), format=fmt, records=count))


def _gunzip(raw: bytes) -> tuple[bytes, str | None]:
    """Decompress gzip data (every member), keeping what could be read from a damaged stream."""
    out: list[bytes] = []
    rest = raw
    try:
        while rest:
            stream = zlib.decompressobj(wbits=31)
            out.append(stream.decompress(rest))
            if not stream.eof:
                return b"".join(out), "gzip stream is cut short; the entries after the cut were not read"
            rest = stream.unused_data.lstrip(b"\x00")
    except zlib.error as exc:
        return b"".join(out), f"gzip stream is damaged ({exc}); the entries after the damage were not read"
    return b"".join(out), None


def _entries(data: bytes, name: str, result: LoadResult) -> Iterator[tuple[int | None, Any, str]]:
    """Yield (line or index, parsed entry or parse error, format) for every entry of one input."""
    if not data.strip():
        return
    if b"\x00" in data:
        result.rejected.append(Rejection(name, None, "binary data, not JSON or NDJSON text"))
        return
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if _looks_like_document(data):
            result.rejected.append(Rejection(name, None, f"not a valid JSON document: {exc}"))
            return
        yield from _ndjson_entries(data)
        return
    yield from _document_entries(document, name, result)


def _looks_like_document(data: bytes) -> bool:
    """Whether unparsable data is a (broken) multi-line JSON document rather than NDJSON."""
    first = data.lstrip().split(b"\n", 1)[0].strip()
    return first.startswith(b"[") or first == b"{"


def _ndjson_entries(data: bytes) -> Iterator[tuple[int | None, Any, str]]:
    """Yield each non-blank NDJSON line, parsed or with its parse error."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line), "ndjson"
        except orjson.JSONDecodeError as exc:
            yield number, _NotJson(str(exc)), "ndjson"


def _document_entries(document: Any, name: str, result: LoadResult) -> Iterator[tuple[int | None, Any, str]]:
    """Yield the records of one JSON document: a record, a list, a store file or an API page."""
    if isinstance(document, list):
        yield from ((i, item, "json-list") for i, item in enumerate(document))
    elif isinstance(document, dict) and isinstance(document.get("items"), list) and "metadata_kind" not in document:
        items = document["items"]
        _note_partial_page(document, len(items), name, result)
        fmt = "cavra-api-history" if "total" in document else "cavra-store"
        yield from ((i, item, fmt) for i, item in enumerate(items))
    else:
        yield 1, document, "json-record"


def _note_partial_page(document: dict[str, Any], held: int, name: str, result: LoadResult) -> None:
    """Note an API history page that holds fewer items than the history's total."""
    total = document.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > held:
        detail = (
            f"the API history response holds {held} of {total} items "
            f"(offset {document.get('offset')}, limit {document.get('limit')}): the export is incomplete"
        )
        result.notices.append(Notice("evidence_export_incomplete", name, None, detail))


@dataclass(frozen=True)
class _NotJson:
    """A line that did not parse, with the parser's message."""

    message: str


def _accept(entry: Any, prov: Provenance, result: LoadResult, seen: dict[str, _Seen]) -> None:
    """Classify one entry as a record, a rejection or an unrecognised record."""
    problem = _shape_problem(entry)
    if problem:
        result.rejected.append(Rejection(prov.source, prov.line, problem))
        return
    if entry["metadata_kind"] not in KNOWN_KINDS:
        result.unrecognised.append(Unrecognised(prov.source, prov.line, entry["session_id"], entry["metadata_kind"]))
        return
    naive: list[str] = []
    try:
        record = RECORD_ADAPTER.validate_python(entry, context={"naive": naive})
    except ValidationError as exc:
        result.rejected.append(Rejection(prov.source, prov.line, describe_validation_error(exc)))
        return
    record._provenance = prov
    if naive:
        fields = ", ".join(sorted(set(naive)))
        detail = f"timestamp without a UTC offset in {fields}; read as UTC"
        result.notices.append(Notice("timestamp_without_offset", prov.source, prov.line, detail))
    _merge(record, orjson.dumps(entry, option=orjson.OPT_SORT_KEYS), result, seen)


def _shape_problem(entry: Any) -> str | None:
    """Why an entry is not a record at all, or None when it has an object with id and kind."""
    if isinstance(entry, _NotJson):
        return f"not JSON: {entry.message}"
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
