"""What the loader reads and says: its inputs' facts, limits and the account of every entry."""

from __future__ import annotations

from dataclasses import dataclass

from reportgen.evidence import sqlite_store
from reportgen.evidence.masking import mask_string
from reportgen.evidence.schema import Provenance

STDIN_NAME = "<stdin>"
# Names read when a folder is walked; a file named on the command line is read whatever its name.
EVIDENCE_SUFFIXES = (".json", ".ndjson", ".jsonl", ".json.gz", ".ndjson.gz", ".jsonl.gz", *sqlite_store.SUFFIXES)


class InputError(Exception):
    """An input that cannot be opened at all (a usage error, not a bad record); its message masked."""

    def __init__(self, message: str) -> None:
        super().__init__(mask_string(message)[0])


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
    """A well-formed record of a kind that is not CAVRA rollback-drill evidence; counted, never judged."""

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
# Inputs are read, copied and hashed this many bytes at a time.
CHUNK = 8 * MIB


@dataclass(frozen=True)
class Limits:
    """Caps that keep a hostile input from exhausting memory."""

    max_record_bytes: int = 16 * MIB
    max_input_bytes: int = 4096 * MIB
    max_list_items: int = 1000


@dataclass(frozen=True)
class SecretExposed:
    """An unredacted secret found (and masked) in an input entry; never the secret itself."""

    source: str
    line: int | None
    session_id: str | None
    path: str
    kind: str


def over_budget(name: str, limits: Limits) -> str:
    """The one-line error for inputs over the total size limit."""
    return f"{name}: the inputs exceed the input size limit of {limits.max_input_bytes} bytes (--max-input-bytes)"


def why(exc: OSError) -> str:
    """An OS error in a few words."""
    return exc.strerror or str(exc)
