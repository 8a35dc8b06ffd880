"""The CI outputs: JUnit XML, the Markdown job summary and GitHub annotations, on fixtures and at scale."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from evidence import EXAMPLE_STORE, FIXTURES, ROOT, generated, synthetic_item, with_items
from junitparser import Failure, JUnitXml, Skipped
from lxml import etree
from markdown_it import MarkdownIt

from reportgen.judge.summary import Summary, summarise_paths
from reportgen.judge.verdict import OpenItem
from reportgen.judge.waivers import apply_waivers, load_waivers
from reportgen.output.ci import annotations, escape_data, escape_property, group_items, junit_xml, summary_markdown
from reportgen.output.ci.markdown import SUMMARY_LIMIT

XSD = Path(__file__).parent / "data" / "junit-10.xsd"
SETS = ["example", "clean", "retry-states", "broken", "archive", "empty", "exhausted"]
WAIVERS = FIXTURES / "waivers" / "example.yaml"
COMMANDS = re.compile(r"^::(error|warning|notice) title=[^:]*::")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, with GITHUB_ACTIONS unset unless given."""
    base = {k: v for k, v in os.environ.items() if k != "GITHUB_ACTIONS"}
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**base, **(env or {})},
        cwd=ROOT,
    )


def judged(name: str) -> Summary:
    """The summary of one fixture set."""
    return summarise_paths([str(FIXTURES / name)], jobs=1)[1]


def waived_example() -> Summary:
    """The example with its waivers applied: every open item accepted."""
    return apply_waivers(judged("example"), load_waivers(WAIVERS))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    """The Jenkins JUnit schema."""
    return etree.XMLSchema(etree.parse(str(XSD)))


def junit_read(data: bytes, tmp_path: Path) -> JUnitXml:
    """The JUnit XML as junitparser reads it from a file."""
    path = tmp_path / "junit.xml"
    path.write_bytes(data)
    return JUnitXml.fromfile(str(path))


def outcomes(xml: JUnitXml) -> dict[str, dict[str, str]]:
    """Each suite's cases by name: 'failure', 'skipped' or 'passed'."""
    found: dict[str, dict[str, str]] = {}
    for suite in xml:
        for case in suite:
            kinds = {type(r) for r in case.result}
            outcome = "failure" if Failure in kinds else "skipped" if Skipped in kinds else "passed"
            found.setdefault(suite.name, {})[case.name] = outcome
    return found


def item(number: int, **changes: object) -> OpenItem:
    """A synthetic open delivery item to slack."""
    return synthetic_item(number, **{"title": "Executive retry health alert delivery to slack failed",
                                    "operator_action": "Repair the slack connector and redeliver.", **changes})  # fmt: skip


# --- grouping ---------------------------------------------------------------------------------


def test_group_items_merges_items_one_action_fixes_and_keeps_the_oldest_first():
    items = [
        item(3),
        item(1, operator_action="Wait until 10:00 (UTC), then retry."),
        item(2),
        item(4, provider="email"),
    ]
    groups = group_items(items)
    assert [(g.provider, g.count) for g in groups] == [("email", 1), ("slack", 3)]
    slack = groups[1]
    assert slack.oldest_opened_at == datetime(2025, 6, 2, 0, 1, tzinfo=UTC)
    assert slack.example_ids == ("it-000000000001", "it-000000000002", "it-000000000003")
    assert slack.operator_action.startswith("Wait until") and not slack.action_shared


def test_group_items_splits_by_loop_code_state_and_provider_and_orders_severity_first():
    items = [
        item(1, severity="warning", code="evidence_kind_unrecognised", loop="evidence", retry_state=None),
        item(2, retry_state="waiting"),
        item(3, loop="recovery", code="recovery_retry_health_alert_delivery_failed"),
        item(4),
    ]
    groups = group_items(items)
    assert [(g.loop, g.code.split("_")[0], g.state) for g in groups] == [
        ("executive", "executive", "exhausted"),
        ("executive", "executive", "waiting"),
        ("recovery", "recovery", "exhausted"),
        ("evidence", "evidence", None),
    ]
    assert group_items(list(reversed(items))) == groups


def test_group_counts_add_up_to_the_open_items_of_every_fixture():
    for name in SETS:
        summary = judged(name)
        assert sum(g.count for g in group_items(summary.closure.open_items)) == len(summary.closure.open_items), name


# --- JUnit XML --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SETS)
def test_junit_validates_against_the_jenkins_schema(name, schema):
    document = etree.fromstring(junit_xml(judged(name)))
    assert schema.validate(document), schema.error_log


def test_junit_with_accepted_and_warning_checks_validates_too(schema):
    assert schema.validate(etree.fromstring(junit_xml(waived_example()))), schema.error_log


@pytest.mark.parametrize("name", SETS)
def test_junitparser_reads_the_counts_summary_json_gives(name, tmp_path):
    summary = judged(name)
    xml = junit_read(junit_xml(summary), tmp_path)
    suites = {suite.name: suite for suite in xml}
    checks = summary.readiness.checks
    groups = group_items(summary.closure.open_items)
    readiness = suites["reportgen.readiness"]
    assert (readiness.tests, readiness.failures) == (len(checks), sum(c.status == "fail" for c in checks))
    items = suites["reportgen.open_items"]
    assert items.failures == len(groups)
    assert items.tests == max(len(groups), 1)
    assert xml.failures == readiness.failures + items.failures and xml.errors == 0
    counted = sum(int(case.result[0].message.split()[0]) for case in items if case.result)
    assert counted == len(summary.closure.open_items)


def test_junit_failed_check_carries_its_evidence_and_action(tmp_path):
    summary = judged("retry-states")
    cases = {case.name: case for suite in junit_read(junit_xml(summary), tmp_path) for case in suite}
    failed = next(c for c in summary.readiness.checks if c.status == "fail")
    result = cases[failed.id].result[0]
    assert isinstance(result, Failure)
    assert failed.evidence in result.message
    assert failed.operator_action in result.text and failed.evidence in result.text


def test_junit_open_item_group_says_count_oldest_utc_time_and_action(tmp_path):
    summary = judged("retry-states")
    suite = {s.name: s for s in junit_read(junit_xml(summary), tmp_path)}["reportgen.open_items"]
    group = group_items(summary.closure.open_items)[0]
    case = next(c for c in suite if c.name == group.name)
    message = case.result[0].message
    assert message.startswith(f"{group.count} open item")
    assert f"oldest opened at {group.oldest_opened_at.isoformat(timespec='microseconds')[:26]}" in message
    assert "Z (UTC)" in message and f"action: {group.operator_action}" in message
    assert case.classname == f"reportgen.open_items.{group.loop}"


def test_junit_warning_check_passes_with_the_warning_on_system_out_and_a_property(tmp_path):
    summary = waived_example()
    warned = [c for c in summary.readiness.checks if c.status == "warning"]
    assert warned
    root = etree.fromstring(junit_xml(summary))
    for check in warned:
        case = root.find(f".//testcase[@name='{check.id}']")
        assert case.find("failure") is None and case.find("skipped") is None
        assert check.evidence in case.findtext("system-out")
        assert root.find(f".//property[@name='reportgen.warning.{check.id}']").get("value") == check.evidence


def test_junit_accepted_items_are_skipped_with_their_waiver_said(tmp_path):
    summary = waived_example()
    xml = junit_read(junit_xml(summary), tmp_path)
    found = outcomes(xml)["reportgen.open_items"]
    assert set(found.values()) == {"skipped"}
    assert len(found) == len(group_items(summary.closure.accepted_items)) == 2
    suite = {s.name: s for s in xml}["reportgen.open_items"]
    assert (suite.tests, suite.skipped, suite.failures) == (2, 2, 0)
    assert b'message="accepted by waiver: ' in junit_xml(summary)


def test_junit_closed_evidence_has_one_passing_open_items_case(tmp_path):
    found = outcomes(junit_read(junit_xml(judged("clean")), tmp_path))
    assert found["reportgen.open_items"] == {"no open items": "passed"}
    assert set(found["reportgen.readiness"].values()) == {"passed"}


def test_junit_names_stay_the_same_when_the_same_kinds_of_item_are_open_later(tmp_path):
    summary = judged("retry-states")
    later = summary.model_copy(update={"as_of": summary.as_of + timedelta(days=3)})
    renamed = with_items(
        summary, [i.model_copy(update={"health_id": "other", "id": "it-x" + i.id}) for i in summary.closure.open_items]
    )
    names = [outcomes(junit_read(junit_xml(s), tmp_path)) for s in (summary, later, renamed)]
    assert names[0] == names[1] == names[2]
    assert junit_xml(summary) == junit_xml(judged("retry-states"))


# --- Markdown job summary ---------------------------------------------------------------------


def tokens(text: str) -> list:
    """Every token of GitHub-flavoured Markdown, inline children included."""
    parsed = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        parsed += [token, *(token.children or [])]
    return parsed


def test_summary_markdown_gives_the_verdict_failed_checks_and_open_groups():
    summary = judged("retry-states")
    text = summary_markdown(summary)
    parsed = tokens(text)
    headings = [parsed[i + 1].content for i, t in enumerate(parsed) if t.type == "heading_open"]
    assert headings[0].startswith("✖ reportgen: Blocked: hold release closure")
    assert "Failed checks: 4 of 7" in headings and "Open items: 11 items in 11 groups" in headings
    rows = sum(t.type == "tr_open" for t in parsed)
    assert rows == (1 + 4) + (1 + len(group_items(summary.closure.open_items)))
    assert "(UTC)" in text and not [t for t in parsed if t.type in ("html_block", "html_inline", "link_open")]


def test_summary_markdown_of_a_closed_pack_says_ready_and_no_open_items():
    text = summary_markdown(judged("clean"))
    assert text.startswith("## ✔ reportgen: Ready: approve release closure")
    assert "No open items." in text and "Failed checks" not in text


def test_summary_markdown_cuts_many_groups_under_the_limit_and_says_how_many_are_left_out():
    items = [item(n, provider=f"provider-{n:05d}") for n in range(5000)]
    text = summary_markdown(with_items(judged("example"), items))
    assert len(text.encode()) <= SUMMARY_LIMIT
    shown = text.count("| provider-")
    note = re.search(r"Cut to stay under 64 KiB: ([\d,]+) more groups of open items \(([\d,]+) items\)", text)
    assert note and int(note[1].replace(",", "")) == int(note[2].replace(",", "")) == 5000 - shown > 0
    assert "`reportgen check --json`" in note.string


def test_summary_markdown_stays_under_the_limit_with_huge_evidence_text():
    items = [item(n, provider="x" * 1_000_000, operator_action="y" * 1_000_000) for n in range(3)]
    items += [item(9, code="z" * 1_000_000)]
    assert len(summary_markdown(with_items(judged("example"), items)).encode()) <= SUMMARY_LIMIT


def test_summary_markdown_stays_under_the_limit_with_long_pack_links_or_a_tiny_limit():
    summary = with_items(judged("example"), [item(n, provider=f"p{n}") for n in range(500)])
    links = [(f"file-{n}.html", "deep/" * 800 + f"file-{n}.html") for n in range(12)]
    assert len(summary_markdown(summary, links).encode()) <= SUMMARY_LIMIT
    tiny = summary_markdown(summary, links, limit=2048)
    assert len(tiny.encode()) <= 2048
    assert tiny.rstrip().endswith("`reportgen check --json` gives everything.*")


def test_summary_markdown_links_every_pack_file_build_wrote(tmp_path):
    out, md = tmp_path / "out" / "pack", tmp_path / "ci" / "summary.md"
    result = run("build", str(EXAMPLE_STORE), "--format", "md,json", "--out", str(out), "--summary-md", str(md))
    assert result.returncode == 1, result.stderr
    hrefs = [t.attrGet("href") for t in tokens(md.read_text()) if t.type == "link_open"]
    assert sorted(Path(h).name for h in hrefs) == sorted(p.name for p in out.iterdir())
    assert all((md.parent / h).resolve().is_file() for h in hrefs)


# --- annotations ------------------------------------------------------------------------------


def test_escapes_follow_the_workflow_command_rules():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"
    assert escape_data("%0A") == "%250A"


def test_annotations_are_one_error_per_failed_check_and_open_group_then_warnings():
    summary = judged("example")
    lines = annotations(summary)
    kinds = [COMMANDS.match(line)[1] for line in lines]
    failed = sum(c.status == "fail" for c in summary.readiness.checks)
    groups = len(group_items(summary.closure.open_items))
    warnings = sum(c.status == "warning" for c in summary.readiness.checks) + len(summary.closure.warnings)
    assert kinds == ["error"] * (failed + groups) + ["warning"] * warnings


def test_annotations_stop_at_50_lines_and_the_last_says_how_many_were_left_out():
    items = [item(n, provider=f"p{n}") for n in range(120)]
    summary = with_items(judged("example"), items)
    lines = annotations(summary)
    assert len(lines) == 50
    total = 3 + 120 + 1 + 4  # failed checks, groups, the warning check, the closure warnings
    assert lines[-1].startswith("::warning title=reportgen%3A annotations left out::")
    assert f"{total - 49} more annotations left out" in lines[-1]


def test_annotations_are_printed_on_stderr_under_github_actions_and_not_otherwise():
    on = run("check", "--json", str(EXAMPLE_STORE), env={"GITHUB_ACTIONS": "true"})
    assert on.returncode == 1 and json.loads(on.stdout)["closure"]["state"] == "open"
    assert on.stderr.splitlines() == annotations(judged("example"))
    none = run("check", "--annotations", "none", str(EXAMPLE_STORE), env={"GITHUB_ACTIONS": "true"})
    plain = run("check", str(EXAMPLE_STORE), env={"GITHUB_ACTIONS": "false"})
    forced = run("check", "--annotations", "github", str(EXAMPLE_STORE))
    assert "::" not in none.stderr and "::" not in plain.stderr
    assert forced.stderr.splitlines() == on.stderr.splitlines()


# --- the command line -------------------------------------------------------------------------


def test_check_writes_the_junit_and_summary_files_readable_and_leaves_no_temporary_file(tmp_path):
    junit, md = tmp_path / "reports" / "junit.xml", tmp_path / "summary.md"
    md.write_text("an older summary\n")
    result = run("check", str(EXAMPLE_STORE), "--junit-xml", str(junit), "--summary-md", str(md))
    assert result.returncode == 1, result.stderr
    assert junit.read_bytes() == junit_xml(judged("example"))
    assert md.read_text() == summary_markdown(judged("example"))
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["junit.xml", "reports", "summary.md"]
    assert junit.stat().st_mode & 0o044 == 0o044


def test_a_file_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("check", str(EXAMPLE_STORE), "--junit-xml", str(blocker / "junit.xml"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot write --junit-xml" in result.stderr
    assert "Traceback" not in result.stderr


def test_build_refused_under_strict_writes_no_ci_file_either(tmp_path):
    junit = tmp_path / "junit.xml"
    broken = FIXTURES / "broken"
    result = run("build", str(broken), "--strict", "--out", str(tmp_path / "p"), "--junit-xml", str(junit))
    assert result.returncode == 2 and not junit.exists() and not (tmp_path / "p").exists()


# --- 100 000 records --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 000 generated records as NDJSON, made once per run (tests/evidence.py)."""
    return generated(tmp_path_factory, 100000, profile="reference")


def test_at_100000_records_every_output_holds_its_bounds_and_counts(large, tmp_path, schema):
    junit, md = tmp_path / "junit.xml", tmp_path / "summary.md"
    result = run(
        "check",
        "--json",
        str(large),
        "--junit-xml",
        str(junit),
        "--summary-md",
        str(md),
        env={"GITHUB_ACTIONS": "true"},
    )
    assert result.returncode == 1, result.stderr[-2000:]
    summary = json.loads(result.stdout)
    assert len(md.read_bytes()) <= SUMMARY_LIMIT
    assert tokens(md.read_text())[0].type == "heading_open"
    commands = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert 1 < len(commands) <= 50
    assert schema.validate(etree.parse(str(junit))), schema.error_log
    suites = {s.name: s for s in JUnitXml.fromfile(str(junit))}
    counted = sum(int(case.result[0].message.split()[0]) for case in suites["reportgen.open_items"] if case.result)
    assert counted == len(summary["closure"]["open_items"]) > 1000
    assert suites["reportgen.readiness"].failures == sum(c["status"] == "fail" for c in summary["readiness"]["checks"])
