"""How a built dashboard behaves in Chromium: its size, when it is interactive, and what its lists cost.

    python -m bench.page PACK_FOLDER            # PACK_FOLDER/closure-dashboard.html

Opened from file:// in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright, the
`browser` extra), with no network. Measured, for the pack's dashboard: its bytes; navigation start
to DOMContentLoaded, to the load event, and to the script having taken over the page (the filters
shown); the first "Show more" of the longest list (which unpacks it); a provider filter over every
list (which unpacks them all); and a fresh page opened at the permalink of the last open item.
Each is one run: a number to compare, not a bound. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip
TAKEN_OVER = "document.querySelector('form[data-filters]') && !document.querySelector('form[data-filters]').hidden"


def until(page: Any, expression: str, timeout: float = 120.0) -> float:
    """Seconds until a page expression is truthy (polled: the page's CSP forbids evaluating strings)."""
    started = time.monotonic()
    while not page.evaluate(f"() => ({expression})"):
        if time.monotonic() - started > timeout:
            raise SystemExit(f"still false after {timeout} s: {expression}")
        time.sleep(0.01)
    return time.monotonic() - started


def timed(action: Callable[[], None], page: Any, expression: str) -> float:
    """Seconds from an action until the page shows its effect."""
    started = time.monotonic()
    action()
    until(page, expression)
    return time.monotonic() - started


def open_items(pack: Path) -> list[dict[str, str]]:
    """The pack's open items, from its open-items.csv."""
    with open(pack / "open-items.csv", newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def measure(browser: Any, pack: Path) -> list[tuple[str, str]]:
    """The rows of the table for one pack."""
    url = (pack / "closure-dashboard.html").as_uri()
    items = open_items(pack)
    provider = Counter(item["provider"] for item in items if item["provider"]).most_common(1)[0][0]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url, wait_until="load")
    nav = page.evaluate("() => performance.getEntriesByType('navigation')[0].toJSON()")
    until(page, TAKEN_OVER)
    taken = page.evaluate("() => performance.now()")
    shown = "document.querySelectorAll('.cards > article').length"
    before = page.evaluate(f"() => {shown}")
    more = timed(lambda: page.click(".list-status button.more"), page, f"{shown} > {before}")
    summary = "document.querySelector('[data-filter-summary]').textContent.startsWith('Showing')"
    filtered = timed(lambda: page.select_option("#filter-provider", provider), page, summary)
    page.close()
    last = items[-1]["id"]
    fresh = browser.new_page(viewport={"width": 1280, "height": 900})
    started = time.monotonic()
    fresh.goto(f"{url}#{last}", wait_until="load")
    until(fresh, f"document.getElementById('{last}') && document.getElementById('{last}').classList.contains('is-target')")
    permalink = time.monotonic() - started
    fresh.close()
    size = (pack / "closure-dashboard.html").stat().st_size
    return [
        ("closure-dashboard.html", f"{size:,} bytes ({size / 10**6:.1f} MB)"),
        ("open items", f"{len(items):,}"),
        ("DOMContentLoaded", f"{nav['domContentLoadedEventEnd'] / 1000:.2f} s"),
        ("load event", f"{nav['loadEventEnd'] / 1000:.2f} s"),
        ("interactive (the script has taken over)", f"{taken / 1000:.2f} s"),
        ("first 'Show more' (unpacks the list)", f"{more:.2f} s"),
        (f"filter by provider {provider} (unpacks every list)", f"{filtered:.2f} s"),
        ("fresh page at the last item's permalink", f"{permalink:.2f} s"),
    ]


def main() -> None:
    """Measure one pack's dashboard and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.page", description=__doc__.split("\n\n")[0])
    parser.add_argument("pack", type=Path, help="a pack folder with closure-dashboard.html and open-items.csv")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        rows = measure(browser, args.pack)
        browser.close()
    print("| measure | value |\n|---|--:|")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
