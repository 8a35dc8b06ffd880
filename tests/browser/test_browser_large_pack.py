"""A pack built from 100 000 generated records: it opens, takes its first rows as markup, and filters
every packed row.

The evidence comes from `python -m bench.generate` (deterministic for a seed), written once per
run and shared (tests/evidence.py). Times are measured and reported (in the run's summary and as
test properties, with the size of each HTML file), never asserted: `python -m bench.page` measures
them at a million records.
"""

from __future__ import annotations

import time
from collections import Counter

import pytest
from browsing import REPORTED, ROOT, BuiltPack, build, open_page, wait_until
from evidence import generated

from reportgen.judge.groups import group_items
from reportgen.view.paging import PAGE_SIZE

pytestmark = pytest.mark.browser

RECORDS, SEED = 100_000, 7


@pytest.fixture(scope="module")
def large_pack(tmp_path_factory: pytest.TempPathFactory) -> BuiltPack:
    """The pack of 100 000 generated records (HTML, Markdown, JSON), built once."""
    if not (ROOT / "bench" / "generate.py").exists():
        pytest.skip("bench/generate.py is not in this checkout")
    started = time.monotonic()
    # Made once per run, shared with tests/test_ci.py.
    evidence = generated(tmp_path_factory, RECORDS, SEED, profile="reference")
    pack = build([str(evidence)], tmp_path_factory.mktemp("large") / "pack")
    REPORTED.append(f"{RECORDS:,} records: generated and built in {time.monotonic() - started:.1f} s")
    for name in ("closure-dashboard.html", "operator-runbook.html"):
        size = (pack.folder / name).stat().st_size
        REPORTED.append(f"{RECORDS:,} records: {name} is {size:,} bytes ({size / 2**20:.1f} MiB)")
    return pack


def busiest_provider(pack: BuiltPack) -> tuple[str, int]:
    """The provider with the most open items, and how many it has."""
    counts = Counter(i.provider for i in pack.summary.closure.open_items if i.provider)
    return counts.most_common(1)[0]


def test_the_dashboard_of_100000_records_shows_a_page_at_once_and_filters_every_packed_item(browser, large_pack, record_property):
    url = large_pack.url("closure-dashboard.html")
    items = large_pack.summary.closure.open_items
    provider, expected = busiest_provider(large_pack)
    started = time.monotonic()
    with open_page(browser, url) as (page, log):
        wait_until(
            page,
            "document.querySelector('form[data-filters]') && !document.querySelector('form[data-filters]').hidden",
            60,
        )
        interactive = time.monotonic() - started
        first = page.locator("div[id^='cards-']").first.locator("article").count()
        started = time.monotonic()
        page.select_option("#filter-provider", provider)
        wait_until(
            page,
            f"document.querySelector('[data-filter-summary]').textContent.startsWith('Showing {expected:,} of {len(items):,} open items')",
        )
        shown = page.eval_on_selector_all(
            "div[id^='cards-'] > article", "cards => cards.filter(c => c.offsetParent).map(c => c.dataset.provider)"
        )
        filtered = time.monotonic() - started
    size = (large_pack.folder / "closure-dashboard.html").stat().st_size
    for key, value in (
        ("html_bytes", size),
        ("interactive_s", round(interactive, 2)),
        ("filtered_s", round(filtered, 3)),
    ):
        record_property(key, value)
    REPORTED.append(
        f"{RECORDS:,} records: dashboard interactive in {interactive:.2f} s, "
        f"filter by {provider} shown in {filtered:.3f} s"
    )
    assert log.requests == [url] and log.errors == []
    assert first == PAGE_SIZE, "the first rows are in the page at once, the rest on demand"
    assert shown and set(shown) == {provider} and len(shown) <= expected


def test_the_runbook_of_100000_records_filters_its_steps_and_shows_more_of_them(browser, large_pack):
    # One step per group of what fixes the items: the busiest provider's steps are its groups.
    provider, _ = busiest_provider(large_pack)
    expected = sum(g.provider == provider for g in group_items(large_pack.summary.closure.open_items))
    with open_page(browser, large_pack.url("operator-runbook.html")) as (page, log):
        wait_until(
            page,
            "document.querySelector('form[data-filters]') && !document.querySelector('form[data-filters]').hidden",
            60,
        )
        started = time.monotonic()
        page.select_option("#filter-provider", provider)
        wait_until(
            page, f"document.querySelector('[data-filter-summary]').textContent.startsWith('Showing {expected:,} of')"
        )
        filtered = time.monotonic() - started
        if expected > PAGE_SIZE:
            page.click("#step-list ~ .list-status button.more")
        wanted = min(2 * PAGE_SIZE, expected)
        wait_until(page, f"document.querySelectorAll('#step-list > li').length === {wanted}")
    REPORTED.append(f"{RECORDS:,} records: runbook filter by {provider} shown in {filtered:.3f} s")
    assert log.errors == []
