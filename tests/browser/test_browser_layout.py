"""Issue 15 in Chromium: words and codes wrap only where they may, a sha256 never leaves one character
alone on a line, and a table wider than a phone shows that it scrolls sideways."""

from __future__ import annotations

import re

import pytest
from browsing import DOCUMENTS, open_page

pytestmark = pytest.mark.browser

# The lines an element's text is laid out in: a line starts where a character sits lower than the
# last. Each line but the first starts with "\u2028" and the source character just before it (a
# collapsed space, say), so that a break between two letters of one word can be told from another.
LINES = """el => {
  const lines = [];
  let line = "", top = null, before = "";
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.ELEMENT_NODE) {
      if (node.tagName === "BR" || !getComputedStyle(node).display.startsWith("inline")) before = "\\n";
      continue;
    }
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect && rect.width > 0) {
        if (top !== null && rect.top > top + 2) { lines.push(line); line = "\u2028" + before; }
        top = rect.top;
        line += node.data[i];
      }
      before = node.data[i];
    }
  }
  lines.push(line);
  return lines;
}"""
SEPARATOR = re.compile(r"[\s_/.\-:]$")


# The lines of prose alone: the text of codes and ids inside it (.mono) counts as one character.
PROSE_LINES = LINES.replace(
    "if (rect && rect.width > 0) {",
    "if (rect && rect.width > 0 && node.parentElement.closest('.mono, code')) { before = '_'; continue; }\n      if (rect && rect.width > 0) {",
)


def lines_of(page, selector: str, before: bool = False) -> list[list[str]]:
    """The laid-out lines of every visible element matching the selector (`before`: the lines of its
    prose, each line but the first led by the source character just before it)."""
    found = page.evaluate(
        f"sel => Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent !== null)"
        f".map({PROSE_LINES if before else LINES})",
        selector,
    )
    return found if before else [[line[2:] if line.startswith("\u2028") else line for line in lines] for lines in found]


def mid_word_breaks(element_lines: list[list[str]]) -> list[str]:
    """Lines of a code or id that end mid-word: not after a separator, a sha256 group or 32 characters run on."""
    found = []
    for lines in element_lines:
        for line, following in zip(lines, lines[1:], strict=False):
            run = re.split(r"[\s_/.\-:]", line)[-1]
            # A line may also end where the code does, before the text after it (" · group 2").
            if not SEPARATOR.search(line) and len(run) % 16 != 0 and following[:1].isalnum():
                found.append(f"{line!r} / {following!r}")
    return found


@pytest.mark.parametrize("width", (375, 1280))
@pytest.mark.parametrize("document", DOCUMENTS)
def test_codes_and_ids_wrap_at_their_separators_never_mid_word(browser, packs, document, width):
    with open_page(browser, packs["example"].url(document), width=width) as (page, _):
        codes = lines_of(page, "main .mono, main code")
        assert any(len(lines) > 1 for lines in codes) or width == 1280, "no code wraps at 375 px: nothing was tested"
        assert mid_word_breaks(codes) == []


@pytest.mark.parametrize("document", DOCUMENTS)
def test_words_of_prose_are_not_broken_or_hyphenated(browser, packs, document):
    with open_page(browser, packs["example"].url(document), width=375) as (page, _):
        style = page.evaluate(
            "() => { const s = getComputedStyle(document.querySelector('main p')); "
            "return [s.overflowWrap, s.wordBreak, s.hyphens]; }"
        )
        assert style == ["break-word", "normal", "manual"] or style == ["break-word", "normal", "none"]
        cut = []
        for lines in lines_of(page, "main p:not(.mono), main dd, main td:not(.mono)", before=True):
            for line, following in zip(lines, lines[1:], strict=False):
                # A break between two letters of one word: no space, hyphen or slash before the new line.
                # A token longer than 32 characters (a URL path, an id) has break points of its own.
                token = re.split(r"\s", line)[-1] + re.split(r"\s", following[1:])[0]
                if re.match(r"\u2028[A-Za-z0-9][A-Za-z0-9]", following) and len(token) <= 32:
                    cut.append(f"{line!r} / {following[1:]!r}")
        assert cut == []


@pytest.mark.parametrize("width", (375, 480, 640, 800, 1024, 1280))
def test_a_sha256_never_leaves_one_character_alone_on_a_line(browser, packs, width):
    with open_page(browser, packs["example"].url("index.html"), width=width) as (page, _):
        digests = [lines for lines in lines_of(page, "main td.mono") if len("".join(lines)) == 64]
        assert digests, "no sha256 in the index"
        for lines in digests:
            assert all(len(line) % 16 == 0 for line in lines), lines


def test_a_table_wider_than_the_screen_fades_at_the_edge_it_scrolls_to(browser, packs):
    cue = """() => Array.from(document.querySelectorAll('.table-wrap')).map(w => ({
        scrolls: w.scrollWidth > w.clientWidth + 1,
        mask: getComputedStyle(w).maskImage || getComputedStyle(w).webkitMaskImage,
        end: getComputedStyle(w).getPropertyValue('--cue-end'),
        start: getComputedStyle(w).getPropertyValue('--cue-start')}))"""
    with open_page(browser, packs["example"].url("closure-dashboard.html"), width=375) as (page, _):
        wraps = page.evaluate(cue)
        wide = [w for w in wraps if w["scrolls"]]
        assert wide, "no table scrolls sideways at 375 px"
        assert all("linear-gradient" in w["mask"] for w in wide)
        # Scrolled to its start, a wide table fades out on the right, not on the left.
        assert all(w["end"] not in ("0px", "") and w["start"] == "0px" for w in wide), wide
        # Scrolled to its end, it fades on the left only.
        page.evaluate("() => document.querySelectorAll('.table-wrap').forEach(w => { w.scrollLeft = w.scrollWidth; })")
        page.wait_for_timeout(100)
        scrolled = [w for w in page.evaluate(cue) if w["scrolls"]]
        assert all(w["end"] == "0px" and w["start"] not in ("0px", "") for w in scrolled), scrolled
    with open_page(browser, packs["example"].url("closure-dashboard.html"), width=1280) as (page, _):
        # A table that fits has no fade at all.
        narrow = [w for w in page.evaluate(cue) if not w["scrolls"]]
        assert narrow and all(w["end"] == "0px" and w["start"] == "0px" for w in narrow), narrow
