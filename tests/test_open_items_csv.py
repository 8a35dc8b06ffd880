"""open-items.csv: the open items of summary.json as RFC 4180 CSV, in the pack, its manifest and its index, verified."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pytest
from evidence import EXAMPLE_STORE, FIXTURES

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise
from reportgen.output.itemscsv import COLUMNS, open_items_csv
from reportgen.output.pack import PackOptions, build_pack, pack_options, render_pack
from reportgen.output.verify import verify_pack

# Every format but the PDFs, which these tests do not need and which are slow to print.
FAST = ("html", "md", "json", "csv")


def rows(data: bytes) -> list[list[str]]:
    """The CSV's rows, header first, read as a spreadsheet's importer would."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.fixture(scope="module")
def summary():
    """The example's summary."""
    return summarise(load([str(EXAMPLE_STORE)]))


@pytest.fixture(scope="module")
def pack(tmp_path_factory, summary) -> Path:
    """The example pack, built without PDFs."""
    out = tmp_path_factory.mktemp("csv") / "pack"
    build_pack(summary, pack_options("p", None, [",".join(FAST)]), out)
    return out


def test_the_csv_lists_exactly_the_open_items_of_summary_json_in_its_order(pack):
    items = json.loads((pack / "summary.json").read_bytes())["closure"]["open_items"]
    header, *body = rows((pack / "open-items.csv").read_bytes())
    assert tuple(header) == COLUMNS
    assert len(items) >= 2 and len(body) == len(items)
    for item, row in zip(items, body, strict=True):
        cells = dict(zip(header, row, strict=True))
        for column in ("id", "code", "severity", "loop", "health_id", "provider", "operator_action"):
            assert cells[column] == (item[column] or ""), column
        assert cells["retry_state"] == (item["retry_state"] or "")
        assert cells["acknowledgement_state"] == (item["acknowledgement_state"] or "")
        assert cells["opened_at_utc"] == (item["opened_at"] or "")
        assert not cells["opened_at_utc"] or cells["opened_at_utc"].endswith("Z")
        cited = list(dict.fromkeys(e["session_id"] for e in item["evidence"] if e["session_id"]))
        assert cells["evidence_session_ids"].split("; ") == cited
        assert cells["evidence_total"] == str(item["evidence_total"])


def test_the_csv_is_utf8_with_a_bom_and_crlf_line_ends(pack):
    data = (pack / "open-items.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,code,severity,")
    assert data.endswith(b"\r\n") and data.count(b"\r\n") == data.count(b"\n")


def test_a_pack_without_open_items_has_the_header_row_alone():
    closed = summarise(load([str(FIXTURES / "clean")]))
    assert closed.closure.state == "closed"
    assert rows(open_items_csv(closed)) == [list(COLUMNS)]


def test_the_default_formats_write_the_csv():
    assert "csv" in PackOptions().formats
    assert "csv" in pack_options("p", None, ["html,md,pdf,json,csv"]).formats


def test_the_manifest_and_the_index_cover_the_csv_and_the_pack_verifies(pack):
    data = (pack / "open-items.csv").read_bytes()
    statement = json.loads((pack / "manifest.json").read_bytes())
    subjects = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects["open-items.csv"] == hashlib.sha256(data).hexdigest()
    assert statement["predicate"]["parameters"]["formats"] == list(FAST)
    index = (pack / "index.html").read_text()
    assert '<a href="open-items.csv">' in index and "Open items (CSV)" in index
    report = verify_pack(pack, None)
    assert not report.problems and "open-items.csv" in report.checked


def copy_pack(pack: Path, target: Path) -> Path:
    """A copy of the pack's files, to tamper with."""
    target.mkdir()
    for path in pack.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_a_tampered_csv_fails_verify(pack, tmp_path):
    copy = copy_pack(pack, tmp_path / "tampered")
    data = (copy / "open-items.csv").read_bytes()
    (copy / "open-items.csv").write_bytes(data.replace(b",critical,", b",warning,", 1))
    problems = verify_pack(copy, None).problems
    assert [p.file for p in problems] == ["open-items.csv"]
    assert "sha256" in problems[0].text


def test_a_tampered_csv_fails_verify_even_with_the_manifest_made_again(pack, tmp_path):
    copy = copy_pack(pack, tmp_path / "remade")
    changed = (copy / "open-items.csv").read_bytes().replace(b",critical,", b",warning,", 1)
    (copy / "open-items.csv").write_bytes(changed)
    manifest = (copy / "manifest.json").read_text()
    old = hashlib.sha256((pack / "open-items.csv").read_bytes()).hexdigest()
    (copy / "manifest.json").write_text(manifest.replace(old, hashlib.sha256(changed).hexdigest()))
    problems = verify_pack(copy, None).problems
    assert [(p.file, p.text) for p in problems] == [
        ("open-items.csv", "differs from the open items of the pack's summary.json")
    ]


def test_a_csv_beside_the_pack_that_the_manifest_does_not_list_fails_verify(pack, tmp_path):
    copy = copy_pack(pack, tmp_path / "stray")
    (copy / "open-items.old.csv").write_bytes(b"id\r\n")
    problems = verify_pack(copy, None).problems
    assert [p.file for p in problems] == ["open-items.old.csv"]


def test_two_renderings_give_the_same_csv_bytes(summary):
    options = PackOptions(name="p", formats=("csv",))
    first, second = (
        {f.name: f.data for f in render_pack(summary, options)}["open-items.csv"] for _ in range(2)
    )
    assert first == second == open_items_csv(summary)
