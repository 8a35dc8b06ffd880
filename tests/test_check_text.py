"""`reportgen check`'s text: open items grouped by what fixes them, the items on request, numbers as 7,677."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from evidence import EXAMPLE_STORE, synthetic_item, with_items

from reportgen.cli import cli
from reportgen.judge.summary import Summary, summarise_paths
from reportgen.judge.verdict import OpenItem
from reportgen.output.terminal import MAX_CODES, MAX_GROUPS, MAX_LISTED, verdict_text

PROVIDERS = ("slack", "email", "teams", "webhook")


def item(number: int, **changes: object) -> OpenItem:
    """A synthetic open item whose provider turns with its number."""
    return synthetic_item(number, **{"provider": PROVIDERS[number % len(PROVIDERS)], **changes})


@pytest.fixture(scope="module")
def example() -> Summary:
    """The example store, judged."""
    return summarise_paths([str(EXAMPLE_STORE)])[1]


def invoke(*args: str) -> str:
    """Run `reportgen ARGS` in this process and return what it printed on stdout."""
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 1, result.output
    return result.stdout


def test_thousands_of_open_items_print_as_a_screenful_of_groups_with_counts_and_actions(example):
    text = verdict_text(with_items(example, [item(n) for n in range(7677)]))
    lines = text.splitlines()
    assert len(lines) < 60
    assert "Open items: 7,677 in 4 groups" in text and "(times in UTC)" in text
    assert "critical · 1,920 items · executive_retry_health_alert_delivery_failed" in text
    assert "one action fixes 1,920 items: Repair the connector and redeliver." in text
    assert "oldest opened 2025-06-02T00:00:00.000000Z (UTC)" in text
    assert "e.g. it-000000000000, it-000000000004, it-000000000008 (and 1,917 more)" in text
    assert "health-7676" not in text  # no line per item unless asked


def test_groups_beyond_the_first_screenful_are_summed_up_with_where_the_rest_are(example):
    items = [item(n, code=f"code_{n:02d}") for n in range(MAX_GROUPS + 3)] + [
        item(99, code="code_00", provider="slack")
    ]
    text = verdict_text(with_items(example, items))
    assert text.count("one action fixes") == MAX_GROUPS
    assert "... and 3 more groups (3 items), by code:" in text
    assert f"    critical · 1 item in 1 group · code_{MAX_GROUPS:02d}" in text and f"code_{MAX_GROUPS + 2:02d}" in text
    assert "every item is in summary.json" in text


def test_beyond_a_few_codes_the_hidden_groups_say_how_many_more_codes(example):
    items = [item(n, code=f"code_{n:02d}") for n in range(MAX_GROUPS + MAX_CODES + 2)]
    text = verdict_text(with_items(example, items))
    assert f"    critical · 1 item in 1 group · code_{MAX_GROUPS + MAX_CODES - 1:02d}" in text
    assert f"code_{MAX_GROUPS + MAX_CODES:02d}" not in text and "    ... and 2 more codes" in text


def test_long_warning_and_rejected_lists_are_cut_unless_items_are_asked_for(example):
    warning = example.closure.warnings[0]
    many = example.closure.model_copy(update={"warnings": [warning] * (MAX_LISTED + 7)})
    summary = example.model_copy(update={"closure": many})
    short = verdict_text(summary)
    assert short.count(f"  {warning.code}: ") == MAX_LISTED and "... and 7 more: `--items` lists every warning" in short
    assert verdict_text(summary, items=True).count(f"  {warning.code}: ") == MAX_LISTED + 7
    assert verdict_text(summary, items=True, limit=2).count(f"  {warning.code}: ") == 2


def test_a_group_whose_items_differ_in_action_says_it_shows_the_oldest_items(example):
    items = [item(0), item(4, operator_action="Wait until 10:00 (UTC), then retry.")]
    text = verdict_text(with_items(example, items))
    assert "one action fixes 2 items: Repair the connector and redeliver. (the oldest item's action" in text


def test_the_counts_line_writes_every_number_with_thousands_separators(example):
    inputs = example.inputs.model_copy(update={"records": 12345, "unjudged": 1000})
    text = verdict_text(example.model_copy(update={"inputs": inputs}))
    assert "12,345 records from 1 file" in text and "1,000 not judged" in text


def test_evidence_text_in_a_group_is_shown_escaped(example):
    text = verdict_text(with_items(example, [item(1, provider="\x1b[31mred", operator_action="go\u202eback")]))
    assert "\x1b" not in text and "\u202e" not in text
    assert "provider \\u001b[31mred" in text and "go\\u202eback" in text


def test_check_prints_the_groups_first_and_no_item_table_unless_asked():
    out = invoke("check", "-q", str(EXAMPLE_STORE))
    assert out.splitlines()[0].startswith("closure: open")
    assert "Open items: 2 in 2 groups" in out and "one action fixes 1 item:" in out
    assert "HEALTH_ID" not in out and "reportgen check --items" in out


def test_check_items_prints_the_item_table_after_the_groups():
    out = invoke("check", "-q", "--items", str(EXAMPLE_STORE))
    assert out.index("Open items: 2 in 2 groups") < out.index("Open items, one a line (2)") < out.index("HEALTH_ID")
    assert out.count("gordackexecdeliveryhealth-3a9c5e17b2d04f68") >= 2
    assert "more open item" not in out


def test_check_limit_caps_the_items_and_says_how_many_more_and_where():
    out = invoke("check", "-q", "--limit", "1", str(EXAMPLE_STORE))
    table = out[out.index("Open items, one a line (2)") : out.index("Warnings")]
    assert table.count("  critical  executive") == 1
    assert "... and 1 more open item: every item is in summary.json (reportgen build) and `reportgen check --json`" in (
        table
    )


def test_check_limit_must_be_a_positive_number():
    result = CliRunner().invoke(cli, ["check", "--limit", "0", str(EXAMPLE_STORE)])
    assert result.exit_code == 2 and "--limit" in result.output


@pytest.mark.parametrize("option", [["--items"], ["--limit", "3"]])
def test_check_json_with_items_or_limit_is_refused_before_anything_is_read(option, tmp_path):
    missing = tmp_path / "not-there.ndjson"
    result = CliRunner().invoke(cli, ["check", "--json", *option, str(missing)])
    assert result.exit_code == 2
    assert "--json prints every item" in result.output and "not-there" not in result.output


def test_build_prints_checks_verdict_line_before_the_paths_it_wrote(tmp_path):
    result = CliRunner().invoke(cli, ["build", "-q", str(EXAMPLE_STORE), "--out", str(tmp_path), "--format", "md"])
    checked = invoke("check", "-q", str(EXAMPLE_STORE))
    assert result.exit_code == 1, result.output
    first, *paths = result.stdout.splitlines()
    assert first == checked.splitlines()[0] == "closure: open   readiness: blocked   decision: hold_release_closure"
    assert paths and all(path.startswith(str(tmp_path)) for path in paths)


def test_validate_and_check_write_their_counts_with_thousands_separators(tmp_path):
    path = tmp_path / "e.ndjson"
    path.write_text("{}\n" * 1001)
    validated = CliRunner().invoke(cli, ["validate", "-q", str(path)])
    assert validated.exit_code == 2
    assert validated.stdout.splitlines()[-1].startswith("1,001 entries in 1 file: 0 records, 1,001 rejected")
    assert "· 1,001 rejected ·" in CliRunner().invoke(cli, ["check", "-q", str(path)]).stdout


def test_rejected_entries_name_every_file_its_whole_file_problem_first_and_cut_each_file_short(tmp_path):
    shown = tmp_path.name  # inputs are named from the folder that holds them all
    (tmp_path / "many.ndjson").write_text("{}\n" * (MAX_LISTED + 4))
    (tmp_path / "one.ndjson").write_text("not json\n")
    (tmp_path / "cut.ndjson.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    out = CliRunner().invoke(cli, ["check", "-q", str(tmp_path)]).stdout
    rejected = out[out.index("Rejected (") : out.index("Readiness checks")]
    assert rejected.count(f"  {shown}/many.ndjson:") == MAX_LISTED
    assert f"... and 4 more rejected entries of {shown}/many.ndjson: `--items`" in rejected
    assert f"{shown}/one.ndjson:1: " in rejected and f"{shown}/cut.ndjson.gz: " in rejected
    listed = CliRunner().invoke(cli, ["check", "-q", "--items", str(tmp_path)]).stdout
    assert listed.count(f"  {shown}/many.ndjson:") == MAX_LISTED + 4 and "more rejected" not in listed
