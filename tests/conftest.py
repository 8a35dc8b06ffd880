"""Shared test set-up: make the test helpers importable, print what the browser tests measured."""

import os
import sys
from pathlib import Path
from typing import Any

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))
# Annotations turn on by themselves under GitHub Actions; tests that want them ask for them, so a
# suite run there sees the same stderr as anywhere else.
os.environ.pop("GITHUB_ACTIONS", None)
# Properties, not speed: with the tests spread over every core, one example can take longer than
# hypothesis's default 200 ms deadline on a busy machine, which would fail a correct property.
settings.register_profile("reportgen", deadline=None)
settings.load_profile("reportgen")


def pytest_terminal_summary(terminalreporter: Any, config: Any) -> None:
    """Print what the browser tests measured (tests/browser/conftest.py), so a CI log shows the large
    pack's size and timings; with pytest-xdist they were measured in the workers."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    from once import saved_measurements

    lines = saved_measurements(config)
    if lines:
        terminalreporter.section("browser measurements")
        for line in lines:
            terminalreporter.write_line(line)


# The slowest modules (PDFs, 100 000-record packs, Chromium), started first: with pytest-xdist's
# `--dist loadscope` each module runs whole on one worker, so a slow module left for last would keep
# one worker busy while the other has nothing to do. A module missing here just keeps its place.
SLOWEST_FIRST = (
    "tests/browser/test_browser_large_pack.py",
    "tests/hostile/test_pack_attacks.py",
    "tests/test_pdf.py",
    "tests/test_pdf_scale.py",
    "tests/browser/test_browser_pack.py",
    "tests/test_verify.py",
    "tests/test_sqlite.py",
    "tests/test_ci.py",
    "tests/hostile/test_render_attacks.py",
    "tests/test_publish.py",
    "tests/hostile/test_secrets_shapes.py",
)


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Put the slowest modules first, each module's tests in their own order (a stable sort)."""
    rank = {module: number for number, module in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
