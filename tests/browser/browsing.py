"""Helpers of the browser tests: building packs, opening pages, and what the tests measured."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportgen.evidence.load import load
from reportgen.judge.summary import Summary, summarise
from reportgen.output.pack import PackOptions, build_pack

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "out" / "screenshots"
CHROMIUM = Path(os.environ.get("REPORTGEN_CHROMIUM", "/usr/bin/chromium"))
# No network, no background services: the page alone is what the browser may load.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FIXTURE_SETS = {"example": "fixtures/example", "retry-states": "fixtures/retry-states"}
DOCUMENTS = ("closure-dashboard.html", "operator-runbook.html")
# Measurements worth reading in the run's summary (the large pack's size and timings).
REPORTED: list[str] = []


@dataclass
class PageLog:
    """Every request a page made and every error it reported."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuiltPack:
    """A pack written for the browser tests, and the summary it was built from."""

    folder: Path
    summary: Summary

    def url(self, document: str, fragment: str = "") -> str:
        """The file:// URL of one document, with an optional fragment."""
        return (self.folder / document).as_uri() + (f"#{fragment}" if fragment else "")


def build(paths: list[str], folder: Path, records_from: Path = ROOT) -> BuiltPack:
    """Build a pack (HTML, Markdown, JSON) from evidence paths relative to `records_from`."""
    cwd = os.getcwd()
    os.chdir(records_from)
    try:
        loaded = load(paths)
        summary = summarise(loaded)
        options = PackOptions(name="browser", title="Browser test pack", formats=("html", "md", "json"))
        build_pack(summary, options, folder, records=loaded.records)
    finally:
        os.chdir(cwd)
    return BuiltPack(folder, summary)


@contextmanager
def open_page(
    browser: Any, url: str, width: int = 1280, scheme: str = "light", javascript: bool = True
) -> Iterator[tuple[Any, PageLog]]:
    """A page in a fresh context, logging its requests and errors, loaded from `url`."""
    context = browser.new_context(
        viewport={"width": width, "height": 900}, color_scheme=scheme, java_script_enabled=javascript
    )
    page = context.new_page()
    log = PageLog()
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("console", lambda message: log.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: log.errors.append(str(error)))
    try:
        page.goto(url)
        yield page, log
    finally:
        context.close()


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> Any:
    """Poll a JavaScript expression until it is truthy; returns its value.

    Playwright's wait_for_function evaluates a string inside the page, which the pack's
    Content-Security-Policy (rightly) refuses; page.evaluate is not subject to it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(f"() => ({expression})")
        if value or time.monotonic() > deadline:
            assert value, f"still false after {timeout} s: {expression}"
            return value
        time.sleep(0.02)
