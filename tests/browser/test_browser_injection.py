"""Hostile evidence in a real browser: no dialog, no request, no element made from it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from browsing import build, open_page

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
from evidence import write_ndjson  # noqa: E402
from test_injection import PAYLOADS, hostile  # noqa: E402

pytestmark = pytest.mark.browser

ELEMENTS = """() => ({
  scripts: document.querySelectorAll('script:not([type="application/octet-stream"])').length,
  injected: document.querySelectorAll('img, iframe, object, embed, video, audio, form[action], marquee').length,
  handlers: Array.from(document.querySelectorAll('*')).filter(
      el => Array.from(el.attributes).some(a => a.name.startsWith('on'))).length,
  scriptUrls: Array.from(document.querySelectorAll('[href], [src]')).filter(
      el => /^\\s*(javascript|data|https?):/i.test(el.getAttribute('href') || el.getAttribute('src') || '')).length,
})"""


@pytest.fixture(scope="module")
def hostile_pack(tmp_path_factory: pytest.TempPathFactory):
    """A pack built from evidence that carries every payload in every shown field."""
    folder = tmp_path_factory.mktemp("hostile-browser")
    evidence = write_ndjson(folder / "evidence.ndjson", hostile(" ".join(PAYLOADS)))
    return build([str(evidence)], folder / "pack")


@pytest.mark.parametrize("document", ["closure-dashboard.html", "operator-runbook.html", "index.html"])
def test_hostile_evidence_opens_no_dialog_makes_no_request_and_no_element(browser, hostile_pack, document):
    dialogs: list[str] = []
    with open_page(browser, hostile_pack.url(document)) as (page, log):
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        for button in page.locator("button.show-records").all()[:20]:
            button.click()
        search = page.locator("form[data-filters] input[type=search]")
        if search.count():
            search.fill(PAYLOADS[0])
        found = page.evaluate(ELEMENTS)
        shown = page.content()
    if document != "index.html":
        assert "gnp.exe" in shown  # the evidence is there, as text
    assert dialogs == []
    assert log.requests == [hostile_pack.url(document)]
    assert found["scripts"] <= 1  # the page's own, and nothing from the evidence
    assert (found["injected"], found["handlers"], found["scriptUrls"]) == (0, 0, 0)
