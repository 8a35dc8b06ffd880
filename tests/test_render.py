"""Rendering: Markdown escaping, the Jinja environment, the writer, the view's formatting, hostile evidence."""

from __future__ import annotations

import html
import re
import tomllib
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import jinja2
import pytest
from evidence import A1, ROOT, example, record, write_ndjson, write_store
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors.index import slugify
from pagescripts import without_pack_scripts

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.pack import PackOptions, render_pack
from reportgen.output.render import encode_text, environment, md_escape
from reportgen.view.items import group_items
from reportgen.view.model import Fact
from reportgen.view.words import anchor, duration, sections, stamp

HOSTILE = "| ` [x](javascript:y) <script>alert(1)</script> *b* _i_ #h &amp; ~s~ $m$"
# Printable text with every Markdown-significant character weighted in.
TEXT = (
    st.text(alphabet=st.sampled_from(list("abc xyz019.-+=_*`[]()<>#|!~&$\\:/;'\"{}é✖")), min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool)
)


def parser() -> MarkdownIt:
    """The GFM-like parser the pack's Markdown must render correctly through."""
    return MarkdownIt("commonmark").enable("table")


# --- Markdown escaping -----------------------------------------------------------------------


@given(TEXT)
def test_escaped_text_renders_back_to_exactly_the_original_text(text):
    rendered = parser().renderInline(md_escape(text))
    assert "<" not in rendered.replace("&lt;", "")  # no element, no link, no emphasis
    assert html.unescape(rendered) == text


@given(TEXT)
def test_escaped_text_stays_in_its_table_cell(text):
    source = f"| a | b |\n|---|---|\n| {md_escape(text)} | end |\n"
    rendered = parser().render(source)
    cells = re.findall(r"<td>(.*?)</td>", rendered, re.S)
    assert len(cells) == 2 and cells[1] == "end"
    assert html.unescape(cells[0]) == text


@given(TEXT)
def test_escaped_text_at_the_start_of_a_line_is_still_a_paragraph(text):
    rendered = parser().render(md_escape(text) + "\n")
    assert rendered.startswith("<p>") and html.unescape(rendered[3:-5]) == text


def test_newlines_in_a_value_become_line_breaks_and_never_start_a_block():
    assert md_escape("one\r\ntwo\n# three") == "one<br>two<br>\\# three"


def test_an_underscore_inside_a_word_is_left_readable():
    assert md_escape("executive_retry_health") == "executive_retry_health"
    assert md_escape("_lead and trail_") == "\\_lead and trail\\_"


# --- the environment and the writer ----------------------------------------------------------


def test_there_is_one_environment_with_strict_undefined_and_html_autoescape():
    env = environment()
    assert environment() is env
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("index.html.j2").render()
    assert env.from_string("{{ x }}").render(x="<b>") == "&lt;b&gt;"


def test_markdown_templates_escape_every_expression_without_a_filter():
    template = environment().get_template("_macros.md.j2")
    facts = template.module.facts([Fact("Provider", HOSTILE)])
    assert "<script>" not in facts and "\\<script\\>" in facts


def test_the_writer_normalises_newlines_and_ends_with_one_newline():
    assert encode_text("a  \r\nb\r\r\n\n\n\nc\n\n\n") == b"a\nb\n\nc\n"
    assert encode_text("é") == "é\n".encode()


def test_every_template_file_is_package_data_so_a_wheel_carries_it():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["reportgen.templates"]
    names = [p.name for p in resources.files("reportgen.templates").iterdir() if p.is_file()]
    assert "closure-dashboard.html.j2" in names and "pack.css" in names
    for name in names:
        if name != "__init__.py" and not name.startswith("."):
            assert any(fnmatch(name, pattern) for pattern in patterns), name


# --- the view's formatting -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(minutes=12, seconds=5), "12m"),
        (timedelta(hours=1, minutes=25, seconds=59), "1h 25m"),
        (timedelta(days=2, hours=3, minutes=4), "2d 3h"),
        (timedelta(seconds=-1), "after as-of"),
    ],
)
def test_durations_read_like_people_write_them(delta, text):
    assert duration(delta) == text


def test_times_are_shown_in_utc_with_the_zone_stated():
    shown = stamp(datetime(2025, 6, 2, 11, 30, 0, 402816, tzinfo=UTC))
    assert shown.text == "2025-06-02 11:30:00 UTC" and shown.iso == "2025-06-02T11:30:00.402816Z"


def test_anchors_match_the_slugs_github_and_markdown_it_give_headings():
    for section in sections("Readiness Gate", "Evidence To Attach", "Counts per loop"):
        assert section.anchor == slugify(section.title) == anchor(section.title)


def test_open_items_are_grouped_by_loop_in_a_fixed_order_and_numbered_as_shown(tmp_path):
    records = example()
    summary = summarise(load([str(write_store(tmp_path / "s.json", records)), str(_bad(tmp_path))]))
    items = list(reversed(summary.closure.open_items))  # evidence first, executive last
    groups = group_items(items, summary.as_of, frozenset())
    assert [g.loop for g in groups] == ["executive", "evidence"]
    assert [i.number for g in groups for i in g.items] == list(range(1, len(items) + 1))


def _bad(tmp_path: Path) -> Path:
    """An NDJSON file with one unreadable line."""
    return write_ndjson(tmp_path / "bad.ndjson", [{"session_id": "x"}])


# --- hostile evidence ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """A pack (HTML and Markdown) of evidence whose every free-text field tries to break out."""
    folder = tmp_path_factory.mktemp("hostile")
    records = example()
    bad = dict(record(records, A1), session_id=f"rcd-{HOSTILE}", health_id=f"health {HOSTILE}")
    bad["providers"] = bad["failed_providers"] = [f"prov {HOSTILE}"]
    bad["delivery"] = dict(
        bad["delivery"], deliveries=[dict(bad["delivery"]["deliveries"][0], provider=f"prov {HOSTILE}")]
    )
    records.append(bad)
    records.append(dict(record(records, A1), session_id=f"unk {HOSTILE}", metadata_kind=f"kind {HOSTILE}"))
    store = write_store(folder / f"ev {HOSTILE.replace('/', '')}.json", records)
    rejected = write_ndjson(folder / "bad.ndjson", [{"x": HOSTILE}])
    summary = summarise(load([str(store), str(rejected)]))
    files = render_pack(summary, PackOptions(title=f"T {HOSTILE}", formats=("html", "md")))
    return summary, {f.name: f.data.decode() for f in files}


@pytest.mark.parametrize("name", ["closure-dashboard.md", "operator-runbook.md"])
def test_hostile_evidence_is_escaped_in_markdown(hostile, name):
    summary, files = hostile
    assert sum(HOSTILE in i.title for i in summary.closure.open_items) == 1
    rendered = parser().render(files[name])
    assert "<script" not in rendered and 'href="javascript' not in rendered
    assert "<em>" not in rendered and "<code>" not in rendered
    assert html.escape("prov " + HOSTILE, quote=False) in rendered.replace("&quot;", '"')
    for table in re.findall(r"<table>.*?</table>", rendered, re.S):
        head = len(re.findall(r"<th[ >]", table.split("</thead>")[0]))
        for row in re.findall(r"<tr>(.*?)</tr>", table.split("</thead>")[1], re.S):
            assert len(re.findall(r"<td[ >]", row)) == head


@pytest.mark.parametrize("name", ["closure-dashboard.html", "operator-runbook.html", "index.html"])
def test_hostile_evidence_is_escaped_in_html(hostile, name):
    _, files = hostile
    text = without_pack_scripts(files[name])
    assert "<script" not in text and 'href="javascript' not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
