"""The summary: the machine-readable verdict, `reportgen.summary.v1`, and how it is assembled.

The summary is the single source every other output renders, so it carries the verdict, the
counts and the full input inventory (what was read, rejected and not recognised).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import BaseModel, WithJsonSchema

from reportgen import __version__
from reportgen.evidence.chains import micros
from reportgen.evidence.inputs import InputError, Limits
from reportgen.evidence.ledger import quiet_gc
from reportgen.evidence.load import LoadResult, load
from reportgen.evidence.progress import Stage
from reportgen.evidence.reader import Progress
from reportgen.evidence.schema import Provenance, evidence_schema
from reportgen.evidence.visible import json_escaped
from reportgen.judge import streamjson
from reportgen.judge.counts import COUNTS_SCHEMA, Counts
from reportgen.judge.evaluate import evaluate
from reportgen.judge.verdict import Closure, Model, Readiness, RulesMode

SCHEMA_VERSION = "reportgen.summary.v1"
GENERATOR = "reportgen"


class InputFileEntry(Model):
    """One input file of the inventory."""

    path: str
    sha256: str
    bytes: int
    format: str
    records: int


class RejectedEntry(Model):
    """One input entry that could not be read."""

    source: str
    line: int | None
    reason: str


class Location(Model):
    """Where one record was read."""

    source: str
    line: int | None


class UnrecognisedEntry(Model):
    """One record of a kind that is not CAVRA rollback-drill evidence."""

    source: str
    line: int | None
    session_id: str
    metadata_kind: str


class ConflictEntry(Model):
    """Two records with one session id and different content."""

    session_id: str
    kept: Location
    replaced: Location


class Inputs(Model):
    """The input inventory: nothing read is left out."""

    files: list[InputFileEntry]
    entries: int
    records: int
    rejected: list[RejectedEntry]
    unrecognised: int
    unrecognised_kinds: dict[str, int]
    unrecognised_records: list[UnrecognisedEntry]
    # Upstream rollback-drill evidence that the closure does not read, by kind, and records of
    # rollback-drill loops this version does not judge, by kind or delivery source. Defaulted, so
    # that diff and --history read packs that do not count them.
    outside_closure: int = 0
    outside_closure_kinds: dict[str, int] = {}
    unjudged: int = 0
    unjudged_kinds: dict[str, int] = {}
    duplicates: int
    duplicate_records: list[Location]
    conflicts: list[ConflictEntry]
    skipped_files: list[str]


class Generator(Model):
    """What made the summary."""

    name: str
    version: str


class Summary(Model):
    """The machine-readable verdict of one evidence set."""

    schema_version: Literal["reportgen.summary.v1"]
    generator: Generator
    rules: RulesMode
    as_of: datetime
    closure: Closure
    readiness: Readiness
    # Published unconstrained but for the timeline: the keys of the counts depend on the loops and upstream.
    counts: Annotated[Counts, WithJsonSchema(COUNTS_SCHEMA)]
    inputs: Inputs

    def to_json(self) -> bytes:
        """Serialise deterministically: sorted keys, two-space indent, one final newline."""
        return json_escaped(streamjson.dumps(self)) + b"\n"


def _location(prov: Provenance) -> Location:
    """Turn a provenance into a location."""
    return Location(source=prov.source, line=prov.line)


def inventory(loaded: LoadResult) -> Inputs:
    """The input inventory of a load."""
    return Inputs(
        files=[InputFileEntry(**vars(f)) for f in loaded.files],
        entries=loaded.entries,
        records=loaded.ledger.records,
        rejected=[RejectedEntry(**vars(r)) for r in loaded.rejected],
        unrecognised=len(loaded.unrecognised),
        unrecognised_kinds=dict(sorted(Counter(u.metadata_kind for u in loaded.unrecognised).items())),
        unrecognised_records=[UnrecognisedEntry(**vars(u)) for u in loaded.unrecognised],
        outside_closure=loaded.ledger.outside.total(),
        outside_closure_kinds=dict(sorted(loaded.ledger.outside.items())),
        unjudged=sum(found.total for found in loaded.ledger.unjudged.values()),
        unjudged_kinds={name: found.total for name, found in sorted(loaded.ledger.unjudged.items())},
        duplicates=len(loaded.duplicates),
        duplicate_records=[_location(p) for p in loaded.duplicates],
        conflicts=[
            ConflictEntry(session_id=c.session_id, kept=_location(c.kept), replaced=_location(c.replaced))
            for c in loaded.conflicts
        ],
        skipped_files=loaded.skipped,
    )


def source_date_epoch() -> datetime | None:
    """The build time fixed by SOURCE_DATE_EPOCH, if set."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        # Past the year 9999 (or too many digits to be a number): no date can be written for it.
        raise InputError(
            f"SOURCE_DATE_EPOCH={value[:40]}: not a time reportgen can write (0 to 253402300799)"
        ) from None


def resolve_as_of(loaded: LoadResult, as_of: datetime | None) -> datetime:
    """The as-of time: given, else the newest record, else SOURCE_DATE_EPOCH, else the epoch."""
    if as_of is not None:
        return as_of.astimezone(UTC)
    if loaded.ledger.newest is not None:
        return loaded.ledger.newest
    return source_date_epoch() or datetime(1970, 1, 1, tzinfo=UTC)


def note_future(loaded: LoadResult, as_of: datetime) -> None:
    """Make sure the ledger knows the records created after the as-of time.

    The loader notes them while reading when it is told the as-of time; judged as of another
    time, the evidence is read again for them.
    """
    ledger = loaded.ledger
    if ledger.as_of == as_of or ledger.newest is None or ledger.newest <= as_of:
        return
    ledger.as_of, ledger.as_of_micros = as_of, micros(as_of)
    ledger.future = [
        (micros(r.created_at), r.session_id, r.metadata_kind, r.provenance.source, r.provenance.line)
        for r in loaded.records
        if r.created_at > as_of
    ]


def summarise(loaded: LoadResult, mode: RulesMode = "chain", as_of: datetime | None = None) -> Summary:
    """Judge loaded evidence and assemble its summary."""
    when = resolve_as_of(loaded, as_of)
    note_future(loaded, when)
    with quiet_gc():
        verdict = evaluate(loaded, mode, when)
    return Summary(
        schema_version=SCHEMA_VERSION,
        generator=Generator(name=GENERATOR, version=__version__),
        rules=mode,
        as_of=when,
        closure=verdict.closure,
        readiness=verdict.readiness,
        counts=verdict.counts,
        inputs=inventory(loaded),
    )


def summarise_paths(
    paths: Sequence[str],
    mode: RulesMode = "chain",
    as_of: datetime | None = None,
    stdin: BinaryIO | None = None,
    limits: Limits | None = None,
    progress: Progress | None = None,
    jobs: int = 1,
    exclude: str | None = None,
    stage: Stage | None = None,
) -> tuple[LoadResult, Summary]:
    """Load evidence from paths (never from the folder `exclude`) and judge it, telling `stage` when judging starts.

    The inputs are named as the user named them (`inputs.files[].path`, every `source`): a path
    given relative stays as given, inputs given by absolute paths are named from the folder that
    holds them all on (`evidence.load.name_as_given`), so no summary says where the building
    machine keeps its files.
    """
    loaded = load(
        paths,
        stdin=stdin,
        limits=limits,
        progress=progress,
        as_of=as_of,
        jobs=jobs,
        exclude=exclude,
        relative_names=True,
    )
    if stage is not None:
        stage(f"judging {loaded.entries:,} entries")
    summary = summarise(loaded, mode, as_of)
    loaded.forget_chains()
    return loaded, summary


def schema_of(name: str) -> dict[str, Any]:
    """The JSON Schema of the summary, its input inventory, or one evidence record."""
    models: dict[str, type[BaseModel]] = {"summary": Summary, "inputs": Inputs}
    if name == "evidence":
        return evidence_schema()
    schema = models[name].model_json_schema(mode="serialization")
    schema["$id"] = f"urn:reportgen:schema:{SCHEMA_VERSION}:{name}"
    return schema
