"""Shared test set-up: make the test helpers importable, print what the browser tests measured."""

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
# Annotations turn on by themselves under GitHub Actions; tests that want them ask for them, so a
# suite run there sees the same stderr as anywhere else.
os.environ.pop("GITHUB_ACTIONS", None)



def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    """Print what the browser tests measured (tests/browser/conftest.py), so a CI log shows the large
    pack's size and timings; with pytest-xdist they were measured in the workers."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from shared import saved_measurements

    lines = saved_measurements(config)
    if lines:
        terminalreporter.section("browser measurements")
        for line in lines:
            terminalreporter.write_line(line)
