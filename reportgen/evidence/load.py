"""The loader: evidence files, folders and stdin in; validated records with provenance out.

Nothing read is lost: every entry of every input becomes a record, a rejected entry with a
one-line reason, or a record no rule reads (upstream evidence outside the closure, a record of a
loop this version does not know, or an unrecognised kind), and the result says which. Formats
are told apart by content, not by file name.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from itertools import chain
from typing import Any, BinaryIO

from reportgen.evidence.chains import EPOCH
from reportgen.evidence.discover import expand_paths, sources_of
from reportgen.evidence.inputs import (
    Conflict,
    InputError,
    InputFile,
    Limits,
    Notice,
    Rejection,
    SecretExposed,
    Unrecognised,
    over_budget,
)
from reportgen.evidence.ledger import Ledger, quiet_gc
from reportgen.evidence.masking import mask_fields, mask_string, may_mark, strings_in
from reportgen.evidence.reader import Held, Part, Progress, Reading, Unit, fold
from reportgen.evidence.reread import read_records
from reportgen.evidence.schema import Envelope, Provenance
from reportgen.evidence.workers import plan_units, read_units


@dataclass
class LoadResult:
    """Everything the loader read: the folded evidence and the account of every entry."""

    ledger: Ledger = field(default_factory=Ledger)
    files: list[InputFile] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    duplicates: list[Provenance] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    secrets: list[SecretExposed] = field(default_factory=list)
    # Where the evidence can be read again: the input files, stdin as spooled to a temporary file.
    sources: list[tuple[str, str]] = field(default_factory=list)
    digests: dict[int, str] = field(default_factory=dict)
    dropped: set[tuple[int, int | None]] = field(default_factory=set)
    limits: Limits = field(default_factory=Limits)
    # The names of the inputs read as SQLite databases: their entries are cited by rowid, not line.
    stores: frozenset[str] = frozenset()
    _spools: list[Any] = field(default_factory=list)
    _records: list[Envelope] | None = None

    @property
    def entries(self) -> int:
        """How many entries were read from all inputs."""
        return sum(f.records for f in self.files)

    @property
    def unrecognised(self) -> list[Unrecognised]:
        """The records of kinds that are not CAVRA rollback-drill evidence, in reading order."""
        return [Unrecognised(c[3], c[4], c[1], c[2]) for c in self.ledger.unrecognised]

    @property
    def records(self) -> list[Envelope]:
        """Every kept record in full, sorted by time then session id: the inputs read a second time."""
        if self._records is None:
            self._records = read_records(self)
        return self._records

    def forget_chains(self) -> None:
        """Let go of the ledger's per-chain state once the verdict is made: at a million records the
        biggest thing held, and nothing after judging reads it (the command line still lists the
        records of loops not judged and of kinds not recognised)."""
        light = Ledger(self.ledger.as_of)
        light.unjudged, light.unrecognised = self.ledger.unjudged, self.ledger.unrecognised
        self.ledger = light

    def records_at(self, places: set[tuple[str, int | None]]) -> list[Envelope]:
        """The kept records read at these places (source, line), sorted by time then session id."""
        return read_records(self, places)


def load(
    paths: Sequence[str],
    stdin: BinaryIO | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    as_of: datetime | None = None,
    jobs: int = 1,
    exclude: str | None = None,
    relative_names: bool = False,
) -> LoadResult:
    """Read every input, fold every record in, and account for every entry (never the folder `exclude`).

    Every input is named by its path as given, or with `relative_names` (what the published
    summary and pack use) as `name_as_given` says: never by where the building machine keeps it.

    Records are folded as they are read. When a session id turns up more than once, the inputs
    are read a second time with those ids held aside, so duplicates count once and of conflicting
    copies the later-created is kept, exactly as if everything had been read in one go.
    """
    found = expand_paths(paths, exclude)
    as_of = as_of.astimezone(UTC) if as_of is not None else None  # as summary.resolve_as_of reads it
    result = LoadResult(Ledger(as_of), skipped=found.skipped, limits=limits or Limits())
    # A path not read is rejected whole, so the verdict cannot be closed over it.
    result.rejected = [Rejection(path, None, reason) for path, reason in found.unread]
    result.sources, result._spools = sources_of(found, stdin, result.limits)
    if relative_names:
        name_as_given(result, paths)
    mask_names(result)
    units = plan_units(result.sources, result.limits, jobs)
    result.stores = frozenset(unit.name for unit in units if unit.store is not None)
    with quiet_gc():
        parts = read_units(units, Reading(result.limits, as_of), jobs, progress)
        suspects = repeated_ids(parts)
        if suspects:
            parts = read_units(units, Reading(result.limits, as_of, frozenset(suspects)), jobs, progress)
        assemble(result, units, parts)
    mask_account(result)
    return result


# --- the inputs' names, as the user gave them ---------------------------------------------------


def given_base(paths: Sequence[str]) -> str | None:
    """The folder holding every input named by an absolute path: the part of their names that says
    where the builder's machine keeps them (`/home/me/` of `/home/me/fixtures/example`), not what
    the user named; None when every input was named by a relative path."""
    parents = [os.path.dirname(os.path.normpath(p)) for p in paths if p != "-" and os.path.isabs(p)]
    return os.path.commonpath(parents) if parents else None


def name_as_given(result: LoadResult, paths: Sequence[str]) -> None:
    """Name every input relative to the common folder of the inputs named by absolute paths, so
    `/home/me/fixtures/example` gives `example/store.json`, as `fixtures/example` from `/home/me`
    gives `fixtures/example/store.json`: no output says where the builder keeps its files.

    An input whose shorter name would be another input's name keeps its full name.
    """
    base = given_base(paths)
    if base is None:
        return
    prefix = base.rstrip(os.sep) + os.sep

    def shown(name: str) -> str:
        return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else name

    names = [name for name, _ in result.sources]
    taken = Counter([*names, *(shown(name) for name in names if shown(name) != name)])
    result.sources = [(shown(name) if taken[shown(name)] == 1 else name, path) for name, path in result.sources]
    result.rejected = [replace(r, source=shown(r.source)) if r.line is None else r for r in result.rejected]
    result.skipped = [shown(name) for name in result.skipped]


# --- secrets in what the loader says about its inputs --------------------------------------------

# The lists of the account that carry strings out of the loader, and what one entry of each is.
ACCOUNT = {
    "files": "input file",
    "skipped": "skipped file",
    "rejected": "rejection",
    "unrecognised": "unrecognised record",
    "notices": "notice",
    "conflicts": "conflict",
    "duplicates": "duplicate",
}


def mask_names(result: LoadResult) -> None:
    """Mask every input's name before it is read: a name travels into every citation of its records.

    Two inputs whose names mask alike are told apart by their place on the command line.
    """
    named: list[tuple[str, str]] = []
    seen: set[str] = set()
    for index, (name, path) in enumerate(result.sources):
        masked = _said(result, name, (name, None, None), "input file name")
        if masked != name and masked in seen:
            masked = f"{masked} (input {index + 1})"
        seen.add(masked)
        named.append((masked, path))
    result.sources = named


def mask_account(result: LoadResult) -> None:
    """Mask every string the account carries out of the loader (reasons, notices, names, ids),
    each secret found noted as exposed where it was: an error message must not repeat a secret."""
    # A list the result derives instead of holding is masked where it is derived from.
    held = {f.name for f in fields(result)}
    lists = {name: label for name, label in ACCOUNT.items() if name in held}
    if not may_mark(chain.from_iterable(strings_in(entry) for name in lists for entry in getattr(result, name))):
        return
    for name, label in lists.items():
        setattr(result, name, [_masked_entry(result, entry, label) for entry in getattr(result, name)])


def _masked_entry(result: LoadResult, entry: Any, label: str) -> Any:
    """One entry of the account with every string in it masked, a secret noted at the entry's place."""
    if isinstance(entry, str):
        return _said(result, entry, (entry, None, None), f"{label} name")
    # A conflict is cited where its kept copy was read.
    kept = getattr(entry, "kept", None)
    source = getattr(entry, "source", None) or getattr(entry, "path", None) or getattr(kept, "source", None)
    where = (source, getattr(entry, "line", None), getattr(entry, "session_id", None))
    return mask_fields(entry, lambda text, name: _said(result, text, where, f"{label} {name}"))


def _said(result: LoadResult, text: str, where: tuple[Any, int | None, Any], what: str) -> str:
    """A string the loader says, masked; a secret in it is noted as exposed at `where`."""
    masked, kinds = mask_string(text)
    if masked == text:
        return text
    source, line, session_id = where
    sid = mask_string(session_id)[0] if isinstance(session_id, str) else None
    place = mask_string(source)[0] if isinstance(source, str) else ""
    result.secrets += [SecretExposed(place, line, sid, what, kind) for kind in kinds]
    return masked


# --- putting the parts together ---------------------------------------------------------------


def repeated_ids(parts: list[Part]) -> set[int]:
    """The session ids (as hashes) that more than one entry carried."""
    total = sum(len(part.ledger.sids) for part in parts)
    if len(set().union(*(part.ledger.sids for part in parts))) == total:
        return set()
    counts = Counter(chain.from_iterable(part.ledger.sids for part in parts))
    return {key for key, count in counts.items() if count > 1}


def assemble(result: LoadResult, units: list[Unit], parts: list[Part]) -> None:
    """Merge the parts, in input order, into the result; settle the records held aside."""
    files: dict[int, InputFile] = {}
    decompressed: dict[int, int] = {}
    for unit, part in zip(units, parts, strict=True):
        result.ledger.merge(part.ledger)
        # The ranges of one database that cannot be read each say so; the file is rejected once.
        result.rejected += [r for r in part.rejected if unit.store is None or r.line is not None or r not in result.rejected]
        result.notices += part.notices
        result.secrets += part.secrets
        found = files.get(unit.index) or part.file
        if found is not None:  # None: the file could not be opened, and is rejected whole
            files[unit.index] = replace(found, records=found.records + part.entries)
            decompressed[unit.index] = decompressed.get(unit.index, 0) + part.decompressed
    result.files = [files[i] for i in sorted(files)]
    _check_budget(result, files, decompressed)
    result.digests = {index: f.sha256 for index, f in files.items()}
    settle([held for part in parts for held in part.held], result)


def _check_budget(result: LoadResult, files: dict[int, InputFile], decompressed: dict[int, int]) -> None:
    """Refuse inputs whose decompressed size, all together, is over the input limit."""
    total = 0
    for index in sorted(files):
        total += decompressed[index]
        if total > result.limits.max_input_bytes:
            raise InputError(over_budget(files[index].path, result.limits))


def settle(held: list[Held], result: LoadResult) -> None:
    """Of the records sharing a session id: duplicates count once, conflicts keep the later-created."""
    kept: dict[str, Held] = {}
    for record in held:
        sid = record.record.session_id
        previous = kept.get(sid)
        if previous is None:
            kept[sid] = record
        elif previous.digest == record.digest:
            result.duplicates.append(_provenance(record, result))
            result.dropped.add((record.index, record.line))
        else:
            newer = (record.at or EPOCH) >= (previous.at or EPOCH)
            winner, loser = (record, previous) if newer else (previous, record)
            result.conflicts.append(Conflict(sid, _provenance(winner, result), _provenance(loser, result)))
            result.dropped.add((loser.index, loser.line))
            if newer:
                kept[sid] = record
    for record in kept.values():
        fold(result.ledger, record.record, record.at, result.sources[record.index][0], record.line)


def _provenance(held: Held, result: LoadResult) -> Provenance:
    """Where a held record was read."""
    return Provenance(source=result.sources[held.index][0], line=held.line, sha256=result.digests[held.index])
