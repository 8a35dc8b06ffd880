"""The dashboard and the runbook in headless Chromium: offline, filterable, sortable, linkable, accessible.

Each fixture set's pack is opened from file://; expectations come from the summary the pack was
built from, never from the page itself.
"""

from __future__ import annotations

import json

import pytest
from browsing import DOCUMENTS, SCREENSHOTS, BuiltPack, open_page, wait_until

from reportgen.judge.groups import group_items

pytestmark = pytest.mark.browser

SETS = ("example", "retry-states")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VISIBLE_ITEMS = """sel => Array.from(document.querySelectorAll(sel))
    .filter(el => el.offsetParent !== null).map(el => el.getAttribute('data-item') || el.id)"""


def visible(page, selector: str) -> list[str]:
    """The item ids (or element ids) of the rendered, visible elements matching a selector."""
    return page.evaluate(VISIBLE_ITEMS, selector)


def item_ids(pack: BuiltPack, **match: str) -> set[str]:
    """The ids of the summary's open items whose fields have the given values."""
    items = pack.summary.closure.open_items
    return {i.id for i in items if all(getattr(i, key) == value for key, value in match.items())}


def step_ids(pack: BuiltPack, **match: str) -> set[str]:
    """The ids of the runbook's steps (one per group of what fixes the items) whose groups have the given values."""
    groups = enumerate(group_items(pack.summary.closure.open_items), start=1)
    return {f"step-{n}" for n, g in groups if all(getattr(g, key) == value for key, value in match.items())}


@pytest.mark.parametrize("document", (*DOCUMENTS, "index.html"))
@pytest.mark.parametrize("name", SETS)
def test_page_loads_from_file_with_no_request_and_no_error(browser, packs, name, document):
    url = packs[name].url(document)
    with open_page(browser, url) as (page, log):
        page.wait_for_load_state("load")
        assert page.evaluate("document.documentElement.classList.contains('js')"), "the script did not run"
    assert log.requests == [url]
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_filtering_by_provider_shows_exactly_its_items_and_chains(browser, packs, name):
    pack = packs[name]
    provider = sorted({i.provider for i in pack.summary.closure.open_items if i.provider})[0]
    with open_page(browser, pack.url("closure-dashboard.html")) as (page, log):
        page.select_option("#filter-provider", provider)
        assert set(visible(page, ".cards > article")) == item_ids(pack, provider=provider)
        chains = [c for c in pack.summary.closure.resolved_chains if c.provider == provider]
        assert len(visible(page, "#chain-rows tr")) == len(chains)
        assert visible(page, "#warning-list > article") == []
        assert page.text_content("[data-filter-summary]").startswith("Showing ")
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_filtering_by_severity_shows_exactly_its_items_and_warnings(browser, packs, name):
    pack = packs[name]
    with open_page(browser, pack.url("closure-dashboard.html")) as (page, log):
        page.select_option("#filter-severity", "critical")
        assert set(visible(page, "div[id^='cards-'] > article")) == item_ids(pack, severity="critical")
        assert visible(page, "#warning-list > article") == []
        page.select_option("#filter-severity", "warning")
        assert set(visible(page, "div[id^='cards-'] > article")) == item_ids(pack, severity="warning")
        assert len(visible(page, "#warning-list > article")) == len(pack.summary.closure.warnings)
        page.click("button[type=reset]")
        wait_until(page, "document.querySelectorAll(\"div[id^='cards-'] > article\").length > 0")
        assert set(visible(page, "div[id^='cards-'] > article")) == item_ids(pack)
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_free_text_and_loop_filters_combine(browser, packs, name):
    pack = packs[name]
    item = pack.summary.closure.open_items[-1]
    with open_page(browser, pack.url("closure-dashboard.html")) as (page, _):
        page.select_option("#filter-loop", item.loop or "other")
        page.fill("#filter-text", item.id)
        wait_until(page, "document.querySelectorAll(\"div[id^='cards-'] > article\").length === 1")
        assert visible(page, "div[id^='cards-'] > article") == [item.id]


@pytest.mark.parametrize("name", SETS)
def test_the_runbook_steps_filter_by_provider_and_severity(browser, packs, name):
    pack = packs[name]
    provider = sorted({i.provider for i in pack.summary.closure.open_items if i.provider})[-1]
    with open_page(browser, pack.url("operator-runbook.html")) as (page, log):
        page.select_option("#filter-provider", provider)
        assert set(visible(page, "#step-list > li")) == step_ids(pack, provider=provider)
        page.select_option("#filter-provider", "")
        page.select_option("#filter-severity", "warning")
        assert set(visible(page, "#step-list > li")) == step_ids(pack, severity="warning")
    assert log.errors == []


def column(page, table: str, index: int) -> list[str]:
    """The text of one column of a table's body rows."""
    return page.eval_on_selector_all(f"{table} tbody tr", f"rows => rows.map(r => r.cells[{index}].textContent.trim())")


@pytest.mark.parametrize("name", SETS)
def test_any_table_sorts_by_any_column(browser, packs, name):
    # The open items are cards; the resolved chains are a table: sort it by failures, then by provider.
    table = "table:has(#chain-rows)"
    with open_page(browser, packs[name].url("closure-dashboard.html")) as (page, log):
        header = page.locator(f"{table} >> nth=0").locator("thead th").nth(3)
        header.locator("button").click()
        numbers = [int(n) for n in column(page, f"{table} >> nth=0", 3)]
        assert numbers == sorted(numbers) and header.get_attribute("aria-sort") == "ascending"
        header.locator("button").click()
        assert [int(n) for n in column(page, f"{table} >> nth=0", 3)] == sorted(numbers, reverse=True)
        assert header.get_attribute("aria-sort") == "descending"
        provider = page.locator(f"{table} >> nth=0").locator("thead th").nth(1)
        provider.locator("button").click()
        providers = column(page, f"{table} >> nth=0", 1)
        assert providers == sorted(providers, key=str.lower) and provider.get_attribute("aria-sort") == "ascending"
        assert header.get_attribute("aria-sort") is None
        checks = page.locator("#readiness-checks thead th").nth(1)
        checks.locator("button").click()
        titles = column(page, "#readiness-checks", 1)
        assert titles == sorted(titles, key=str.lower)
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_the_permalink_of_an_item_scrolls_to_it(browser, packs, name):
    pack = packs[name]
    target = pack.summary.closure.open_items[-1].id
    with open_page(browser, pack.url("closure-dashboard.html", target)) as (page, log):
        wait_until(page, f"document.activeElement && document.activeElement.id === {json.dumps(target)}")
        top = page.evaluate(f"document.getElementById({json.dumps(target)}).getBoundingClientRect().top")
        assert 0 <= top < 40
        assert page.evaluate("window.scrollY") > 0
        assert page.get_attribute(f"#{target}", "class").endswith("is-target")
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_the_permalink_of_a_runbook_step_scrolls_to_it(browser, packs, name):
    pack = packs[name]
    step = f"step-{len(pack.summary.closure.open_items)}"
    with open_page(browser, pack.url("operator-runbook.html", step)) as (page, log):
        wait_until(page, f"document.activeElement && document.activeElement.id === {json.dumps(step)}")
        assert 0 <= page.evaluate(f"document.getElementById({json.dumps(step)}).getBoundingClientRect().top") < 40
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_an_item_expands_to_its_evidence_records_as_json(browser, packs, name):
    with open_page(browser, packs[name].url("closure-dashboard.html")) as (page, log):
        first = page.locator(".cards > article").first
        wanted = first.locator("li[data-record]").first.get_attribute("data-record")
        button = first.locator("button.show-records")
        button.click()
        assert button.get_attribute("aria-expanded") == "true"
        record = json.loads(first.locator(".records pre").first.text_content())
        assert record["session_id"] == wanted
        button.click()
        assert first.locator(".records").is_hidden()
    assert log.errors == []


@pytest.mark.parametrize("name", SETS)
def test_without_javascript_every_item_is_readable_and_the_controls_are_hidden(browser, packs, name):
    pack = packs[name]
    with open_page(browser, pack.url("closure-dashboard.html"), javascript=False) as (page, _):
        assert set(visible(page, ".cards > article")) == item_ids(pack)
        assert page.is_hidden("form[data-filters]")
        assert page.locator("figure.chart svg").count() >= 2


@pytest.mark.parametrize("scheme", ("light", "dark"))
@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("name", SETS)
def test_axe_finds_no_wcag_2_1_a_or_aa_violation(browser, packs, name, document, scheme):
    from axe_playwright_python.sync_playwright import Axe

    with open_page(browser, packs[name].url(document), scheme=scheme) as (page, _):
        results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    violations = [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in results.response["violations"]
    ]
    assert violations == []


@pytest.mark.parametrize("document", DOCUMENTS)
@pytest.mark.parametrize("name", SETS)
def test_screenshots_light_and_dark_at_phone_and_desktop_width(browser, packs, name, document):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for scheme in ("light", "dark"):
        for width in (375, 1280):
            with open_page(browser, packs[name].url(document), width=width, scheme=scheme) as (page, log):
                path = SCREENSHOTS / f"{name}-{document.removesuffix('.html')}-{scheme}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"
            assert path.stat().st_size > 10_000 and log.errors == []
