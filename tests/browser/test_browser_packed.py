"""The rest of a long list, packed and drawn by the script, is the markup the template would have made.

The same evidence is rendered twice: every row as markup (no paging), and two rows a list with
the rest packed (`reportgen/output/islands.py`). After the script has shown every packed row, each
card and row must be the same element, attributes, text and <wbr> alike, as the template's.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
from browsing import ROOT, open_page, wait_until

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, pack_info
from reportgen.output.render import TemplateRenderer
from reportgen.view.build import build_view

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from evidence import write_ndjson  # noqa: E402
from test_injection import PAYLOADS, hostile  # noqa: E402

pytestmark = pytest.mark.browser

# Every packed kind, and a list packed as markup (the input inventory's).
LISTS = {
    "item": "article.item[data-loop]",
    "warning": "#warning-list > article",
    "chain": "#chain-rows > tr",
    "markup": "#rejected-rows > tr, #input-file-rows > tr, #step-list > li",
}
SHOW_ALL = """async () => {
  for (let i = 0; i < 2000; i++) {
    const more = document.querySelector("button.more:not([disabled])");
    if (!more && !document.querySelector("button.more")) return i;
    if (more) more.click();
    await new Promise((done) => setTimeout(done, 5));
  }
  return -1;
}"""
# Each element as markup, whitespace between elements left out (the template's newlines).
ELEMENTS = """(selector) => Array.from(document.querySelectorAll(selector)).map((el) => {
  const copy = el.cloneNode(true);
  const walk = (node) => Array.from(node.childNodes).forEach((child) => {
    if (child.nodeType === 3 && !child.data.trim()) child.remove();
    else if (child.nodeType === 1) walk(child);
  });
  walk(copy);
  return copy.outerHTML;
})"""


def evidence_sets(folder: Path) -> dict[str, list[str]]:
    """The fixture sets with long lists of every kind, and evidence carrying every hostile payload."""
    sets = {name: [str(ROOT / "fixtures" / name)] for name in ("example", "retry-states", "broken", "redelivered")}
    sets["hostile"] = [str(write_ndjson(folder / "hostile.ndjson", hostile(" ".join(PAYLOADS))))]
    return sets


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """For each evidence set, its dashboard with every row as markup and with two rows a list."""
    folder = tmp_path_factory.mktemp("packed")
    renderer = TemplateRenderer("html", "html")
    made = {}
    for name, paths in evidence_sets(folder).items():
        loaded = load(paths)
        summary = summarise(loaded)
        view = build_view(summary, pack_info(summary, PackOptions(formats=("html",))), None, loaded.records)
        for document in ("closure-dashboard", "operator-runbook"):
            whole, paged = folder / f"{name}-{document}-whole.html", folder / f"{name}-{document}-paged.html"
            whole.write_bytes(renderer.render(document, replace(view, page_size=None)))
            paged.write_bytes(renderer.render(document, replace(view, page_size=2)))
            made[f"{name}/{document}"] = (whole, paged)
    return made


def shown(browser, path: Path, show_all: bool) -> dict[str, list[str]]:
    """Every list's elements on the page, after the script has shown every packed row."""
    with open_page(browser, path.as_uri()) as (page, log):
        if show_all:
            assert page.evaluate(SHOW_ALL) >= 0, "a 'Show more' button never went away"
        found = {kind: page.evaluate(ELEMENTS, selector) for kind, selector in LISTS.items()}
    assert log.errors == []
    return found


def test_every_packed_row_is_drawn_as_the_template_draws_it(browser, pages):
    compared = dict.fromkeys(LISTS, 0)
    for name, (whole, paged) in pages.items():
        expected, drawn = shown(browser, whole, False), shown(browser, paged, True)
        for kind in LISTS:
            assert drawn[kind] == expected[kind], f"{name}: {kind} rows differ"
            compared[kind] += max(len(expected[kind]) - 2, 0)
    assert all(compared.values()), f"some kind of list was never long enough to be packed: {compared}"


def test_the_permalink_of_a_packed_item_shows_its_page_of_rows(browser, pages):
    whole, paged = pages["retry-states/closure-dashboard"]
    with open_page(browser, whole.as_uri()) as (page, _):
        longest = max(page.eval_on_selector_all(".cards", "lists => lists.map(l => [l.children.length, l.id])"))
        last = page.evaluate(f"() => document.getElementById({longest[1]!r}).lastElementChild.id")
    assert longest[0] > 4, "the fixture needs a list longer than two pages"
    with open_page(browser, paged.as_uri() + f"#{last}") as (page, log):
        wait_until(page, f"document.getElementById({last!r}) !== null")
        target = page.locator(f"#{last}")
        assert "is-target" in (target.get_attribute("class") or "")
        assert target.is_visible()
        # Its page of rows is drawn, not every row before it; the line under the list says which.
        assert page.locator(f"#{longest[1]} > article").count() <= 2
        status = page.locator(f"[data-status-for={longest[1]!r}]")
        assert " to " in status.text_content()
        status.get_by_role("button", name="Show from the first").click()
        wait_until(page, f"document.getElementById({last!r}) === null")
    assert log.errors == []


def test_a_filter_finds_packed_rows_as_it_finds_rows_in_the_page(browser, pages):
    counts = []
    for path in pages["retry-states/closure-dashboard"]:
        with open_page(browser, path.as_uri()) as (page, log):
            page.fill("form[data-filters] input[type=search]", "slack")
            summary = page.locator("[data-filter-summary]")
            wait_until(page, "document.querySelector('[data-filter-summary]').textContent.startsWith('Showing')")
            counts.append(summary.text_content())
        assert log.errors == []
    assert counts[0] == counts[1] and "of" in counts[0]


def test_a_browser_that_cannot_unpack_keeps_the_first_rows_and_says_where_the_rest_are(browser, pages):
    _, paged = pages["retry-states/closure-dashboard"]
    context = browser.new_context()
    context.add_init_script("delete window.DecompressionStream")
    page = context.new_page()
    try:
        page.goto(paged.as_uri())
        first = page.locator(".list-status:has(button.more)").first.get_attribute("data-status-for")
        status = page.locator(f"[data-status-for={first!r}]")
        status.locator("button.more").click()
        wait_until(page, f"document.querySelector('[data-status-for=\"{first}\"]').textContent.includes('could not')")
        assert "summary.json and open-items.csv hold every one" in status.text_content()
        assert status.locator("button.more").count() == 0
        assert page.locator(f"#{first} > *").count() == 2  # its first rows are still there
    finally:
        context.close()
