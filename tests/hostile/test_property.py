"""Random and mutated evidence: nothing escapes, every entry is accounted for exactly once."""

from __future__ import annotations

import json

from evidence import example
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reportgen.evidence.load import LoadResult, load
from reportgen.judge.summary import summarise

EXAMPLE = example()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
FIELDS = sorted({key for r in EXAMPLE for key in r})


@st.composite
def mutated_record(draw: st.DrawFn) -> dict:
    """An example record with a few top-level fields replaced, removed or added."""
    rec = dict(draw(st.sampled_from(EXAMPLE)))
    for _ in range(draw(st.integers(0, 3))):
        key = draw(st.sampled_from(FIELDS) | st.text(max_size=8))
        if draw(st.booleans()):
            rec[key] = draw(JSON_VALUES)
        else:
            rec.pop(key, None)
    return rec


LINES = st.lists(
    mutated_record().map(json.dumps)
    | JSON_VALUES.map(json.dumps)
    | st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
    min_size=1,
    max_size=12,
)


def accounted(loaded: LoadResult) -> int:
    """Entries read, rejected, unrecognised, merged as duplicates, or replaced in a conflict."""
    return (
        len(loaded.records)
        + len([r for r in loaded.rejected if r.line is not None])
        + len(loaded.unrecognised)
        + len(loaded.duplicates)
        + len(loaded.conflicts)
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_random_lines_are_each_accounted_for_once_and_never_close_a_rejected_set(tmp_path, lines):
    # A good first line makes the file NDJSON, so every other line is one entry to account for.
    lines = [json.dumps(EXAMPLE[0]), *lines]
    path = tmp_path / "random.ndjson"
    path.write_text("\n".join(lines) + "\n")
    loaded = load([str(path)])
    assert loaded.entries == sum(1 for line in lines if line.encode().strip())
    assert accounted(loaded) == loaded.entries
    for mode in ("chain", "cavra"):
        summary = summarise(loaded, mode)
        summary.to_json()
        if loaded.rejected:
            assert summary.closure.state == "open"
