"""open-items.csv from hostile evidence: formulas inert, controls visible, secrets masked, quoting that round-trips."""

from __future__ import annotations

import csv
import io

import pytest
from attack_evidence import SHOWN_POINTS, hostile_records
from evidence import A1, EXAMPLE_STORE, example, record, write_ndjson

from reportgen.evidence.load import load
from reportgen.judge.summary import Summary, summarise
from reportgen.output.itemscsv import COLUMNS, open_items_csv

FORMULAS = ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "\n=1"]
LEAK = "s3cr3tSlackBotToken"


def rows(data: bytes) -> list[dict[str, str]]:
    """The CSV's rows as column -> cell, read as a spreadsheet's importer would."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def summary() -> Summary:
    """The example's summary."""
    return summarise(load([str(EXAMPLE_STORE)]))


def with_first_item(summary: Summary, **fields: object) -> Summary:
    """The summary with fields of its first open item replaced."""
    items = list(summary.closure.open_items)
    items[0] = items[0].model_copy(update=fields)
    closure = summary.closure.model_copy(update={"open_items": items})
    return summary.model_copy(update={"closure": closure})


@pytest.mark.parametrize("formula", FORMULAS, ids=repr)
def test_a_cell_a_spreadsheet_would_read_as_a_formula_starts_with_an_apostrophe(summary, formula):
    changed = with_first_item(summary, provider=formula, operator_action=formula, health_id=formula)
    first = rows(open_items_csv(changed))[0]
    for column in ("provider", "operator_action", "health_id"):
        assert first[column] == "'" + formula, column


def test_a_cell_that_only_holds_a_formula_character_later_is_left_as_it_is(summary):
    changed = with_first_item(summary, provider="slack=1+1", operator_action="Run a=b - c @ once")
    first = rows(open_items_csv(changed))[0]
    assert first["provider"] == "slack=1+1" and first["operator_action"] == "Run a=b - c @ once"


def test_a_field_with_quotes_commas_and_line_breaks_round_trips_through_csv_reader(summary):
    hostile = 'say "hi", then\nrun,\r\nthis ""twice"",\n'
    changed = with_first_item(summary, operator_action=hostile, provider='a,"b"')
    data = open_items_csv(changed)
    first = rows(data)[0]
    assert first["operator_action"] == hostile and first["provider"] == 'a,"b"'
    assert len(rows(data)) == len(summary.closure.open_items)


def test_control_characters_in_evidence_are_shown_as_marks(tmp_path):
    evidence = write_ndjson(tmp_path / "e.ndjson", hostile_records())
    data = open_items_csv(summarise(load([str(evidence)])))
    text = data.decode("utf-8")
    assert not any(chr(c) in text for c in SHOWN_POINTS)
    assert "<U+001B>" in text
    for row in rows(data):
        assert list(row) == list(COLUMNS)


def test_a_secret_planted_in_a_field_the_csv_shows_is_masked_and_its_formula_inert(tmp_path):
    records = example()
    failed = record(records, A1)
    failed["providers"] = failed["failed_providers"] = ["slack", f"=1+2 xoxb-123456789012-{LEAK}"]
    summary = summarise(load([str(write_ndjson(tmp_path / "e.ndjson", records))]))
    data = open_items_csv(summary)
    assert LEAK.encode() not in data
    providers = [row["provider"] for row in rows(data)]
    assert any(p.startswith("'=1+2 ") for p in providers), providers
    assert "evidence_secret_exposed" in [row["code"] for row in rows(data)]
