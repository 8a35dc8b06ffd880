"""Browser tests: the pack's HTML in headless Chromium, driven by Playwright, from file:// only.

One browser serves the whole session; each test opens its own context (viewport, colour scheme,
JavaScript on or off). Chromium is the system package (`/usr/bin/chromium`, or $REPORTGEN_CHROMIUM),
never a Playwright download; without it, or without Playwright, every browser test is skipped.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import pytest
from browsing import CHROMIUM, CHROMIUM_ARGS, FIXTURE_SETS, REPORTED, BuiltPack, build
from once import save_measurements


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Hand what the browser tests measured to the run's summary (tests/conftest.py prints it), so a CI
    log shows the large pack's size and timings whichever pytest-xdist worker ran them."""
    if REPORTED:
        save_measurements(session.config, REPORTED)


def unavailable() -> str:
    """Why the browser tests cannot run here, or '' when they can."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM}"
    if importlib.util.find_spec("playwright") is None or importlib.util.find_spec("axe_playwright_python") is None:
        return "Playwright or axe-playwright-python is not installed (pip install -e '.[browser]')"
    return ""


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (skipped without one, unless REPORTGEN_REQUIRE_BROWSER is set)."""
    missing = unavailable()
    if missing and os.environ.get("REPORTGEN_REQUIRE_BROWSER"):
        pytest.fail(f"{missing}, and REPORTGEN_REQUIRE_BROWSER is set")
    if missing:
        pytest.skip(missing)
    from playwright import sync_api

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def packs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BuiltPack]:
    """A pack per fixture set, built once."""
    base = tmp_path_factory.mktemp("packs")
    return {name: build([path], base / name) for name, path in FIXTURE_SETS.items()}
