"""The summary's JSON written list by list is the same bytes as the whole model dumped at once."""

from __future__ import annotations

import orjson
import pytest
from evidence import ROOT, generated

from reportgen.evidence.load import load
from reportgen.judge import streamjson
from reportgen.judge.summary import summarise

FIXTURES = sorted(path.name for path in (ROOT / "fixtures").iterdir() if path.is_dir())


def whole(summary) -> bytes:
    """The summary dumped at once, as it was written before lists were streamed."""
    return orjson.dumps(summary.model_dump(mode="json"), option=streamjson.OPTIONS)


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("long", [0, 1, streamjson.LONG])
def test_a_fixture_summary_streamed_is_the_whole_dump_byte_for_byte(name, long):
    summary = summarise(load([str(ROOT / "fixtures" / name)]))
    assert streamjson.dumps(summary, long) == whole(summary)


def test_a_generated_summary_streams_its_long_lists_and_keeps_every_byte(tmp_path_factory):
    summary = summarise(load([str(generated(tmp_path_factory, 3000, profile="reference"))]))
    paths = streamjson.long_lists(summary, 10)
    assert ("closure", "open_items") in paths
    assert streamjson.dumps(summary, 10) == whole(summary)
