"""`reportgen diff OLD NEW`: what changed between two packs; exit 1 when something new opened."""

from __future__ import annotations

import json

import pytest
from packs import WAIVERS, build, run, shared_weeks


@pytest.fixture(scope="module")
def weeks(tmp_path_factory):
    """Three weekly packs."""
    return shared_weeks(tmp_path_factory)


def test_diff_exits_0_when_items_only_closed(weeks):
    result = run("diff", str(weeks[0]), str(weeks[1]))
    assert result.returncode == 0, result.stderr
    assert "Opened (0)" in result.stdout and "Closed (9)" in result.stdout
    assert "retry_state=dry_run_only -> " in result.stdout and "retry_state=exhausted" in result.stdout


def test_diff_exits_1_when_something_new_opened(weeks):
    result = run("diff", str(weeks[1]), str(weeks[0]))
    assert result.returncode == 1, result.stderr
    assert "Opened (9)" in result.stdout and "Closed (0)" in result.stdout


def test_diff_of_unchanged_packs_exits_0_and_reports_no_readiness_change(weeks):
    result = run("diff", str(weeks[1] / "summary.json"), str(weeks[2] / "summary.json"))
    assert result.returncode == 0, result.stderr
    assert "readiness changed" not in result.stdout
    assert "Opened (0)" in result.stdout and "Closed (0)" in result.stdout


def test_diff_reports_readiness_changes_and_closed_chains(tmp_path):
    old = build(tmp_path / "old", "example", "2025-06-03T00:00:00Z")
    new = build(tmp_path / "new", "redelivered", "2025-06-10T00:00:00Z")
    result = run("diff", str(old), str(new), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["old"]["readiness"] == "blocked" and data["new"]["readiness"] == "ready"
    assert len(data["closed"]) == 2 and {i["status"] for i in data["closed"]} == {"closed"}
    assert "readiness changed: blocked -> ready" in run("diff", str(old), str(new)).stdout


def test_diff_with_waivers_counts_an_expired_waiver_as_reopened(tmp_path):
    old = build(tmp_path / "old", "example", "2025-06-05T00:00:00Z")
    new = build(tmp_path / "new", "example", "2025-06-12T00:00:00Z")
    result = run("diff", str(old), str(new), "--waivers", str(WAIVERS), "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    (reopened,) = data["opened"]
    assert reopened["waiver_expired"] == "WVR-2025-015"
    assert data["old"]["readiness"] == "ready" and data["new"]["readiness"] == "blocked"


def test_diff_of_a_folder_that_is_not_a_pack_is_a_usage_error(tmp_path, weeks):
    result = run("diff", str(tmp_path), str(weeks[0]))
    assert result.returncode == 2
    assert "summary.json" in result.stderr and "Traceback" not in result.stderr
