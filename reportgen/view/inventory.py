"""The input inventory: every file read, and every entry that was not used as read."""

from __future__ import annotations

from reportgen.evidence import sqlite_store
from reportgen.judge.summary import Inputs
from reportgen.view.model import Fact, InputView, InventoryView, Problem
from reportgen.view.words import bytes_text, count_text, location


def inventory_view(inputs: Inputs) -> InventoryView:
    """The input inventory: nothing read is hidden."""
    stores = sqlite_store.stores_of(inputs.files)
    totals = (
        Fact("Files", count_text(len(inputs.files))),
        Fact("Entries read", count_text(inputs.entries)),
        Fact("Records used", count_text(inputs.records)),
        Fact("Rejected", count_text(len(inputs.rejected))),
        Fact("Outside the closure (upstream kinds no rule reads)", count_text(inputs.outside_closure)),
        Fact("Not judged (loops this version does not know)", count_text(inputs.unjudged)),
        Fact("Unrecognised", count_text(inputs.unrecognised)),
        Fact("Duplicates (counted once)", count_text(inputs.duplicates)),
        Fact("Conflicts", count_text(len(inputs.conflicts))),
        Fact("Files skipped by name", count_text(len(inputs.skipped_files))),
    )
    return InventoryView(
        files=tuple(InputView(f.path, f.format, bytes_text(f.bytes), count_text(f.records), f.sha256) for f in inputs.files),
        totals=totals,
        rejected=tuple(Problem(location(r.source, r.line, stores), "rejected", r.reason) for r in inputs.rejected),
        unrecognised=tuple(
            Problem(location(u.source, u.line, stores), u.session_id, f"unrecognised metadata_kind {u.metadata_kind}")
            for u in inputs.unrecognised_records
        ),
        conflicts=tuple(
            Problem(
                location(c.replaced.source, c.replaced.line, stores),
                c.session_id,
                f"conflicts with {location(c.kept.source, c.kept.line, stores)}; the later-created record is used",
            )
            for c in inputs.conflicts
        ),
        duplicates=tuple(
            Problem(location(d.source, d.line, stores), "duplicate", "identical to an earlier record; counted once")
            for d in inputs.duplicate_records
        ),
        skipped=tuple(inputs.skipped_files),
    )
