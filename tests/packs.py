"""Helpers for the history, diff and publishing tests: run the CLI, build packs that evolve over weeks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from evidence import FIXTURES
from once import once

WAIVERS = FIXTURES / "waivers" / "example.yaml"
# Three weekly packs from evolving evidence: eleven open items, then the two of the example chain,
# then the same two with retries exhausted; as-of times are a week apart.
WEEKS = (
    ("w1", "retry-states", "2025-06-03T00:00:00Z"),
    ("w2", "example", "2025-06-10T00:00:00Z"),
    ("w3", "exhausted", "2025-06-17T00:00:00Z"),
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `reportgen ARGS` in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, timeout=180, cwd=cwd
    )


def build(out: Path, fixture: str, as_of: str, *extra: str, formats: str = "html,md,json") -> Path:
    """Build one pack of a fixture set as of a time; returns its folder."""
    result = run("build", str(FIXTURES / fixture), "--out", str(out), "--as-of", as_of, "--format", formats, *extra)
    assert result.returncode in (0, 1), result.stderr
    return out


def build_weeks(root: Path, formats: str = "html,md,json") -> list[Path]:
    """The three weekly packs under root, each built with the earlier ones as its history."""
    return [
        build(root / name, fixture, as_of, "--history", str(root), formats=formats) for name, fixture, as_of in WEEKS
    ]


def shared_weeks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The three weekly packs (HTML, Markdown, JSON), built once per run for every test that reads them.

    Read-only: the folder holding them is the history of the third, so nothing else may be put there.
    """
    root = once(tmp_path_factory, "weeks", build_weeks)
    return [root / name for name, _, _ in WEEKS]
