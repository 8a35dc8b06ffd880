"""The loader: every format, every kind of bad entry, provenance, duplicates and conflicts."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import threading
from datetime import UTC

import pytest
from evidence import A1, EXAMPLE_STORE, comparable, example, record, write_ndjson, write_store

from reportgen.evidence.inputs import InputError
from reportgen.evidence.load import load
from reportgen.judge.summary import summarise


def test_a_store_file_gives_every_record_with_its_index_and_file_digest():
    loaded = load([str(EXAMPLE_STORE)])
    assert len(loaded.records) == 21 and not loaded.rejected
    digest = hashlib.sha256(EXAMPLE_STORE.read_bytes()).hexdigest()
    a1 = next(r for r in loaded.records if r.session_id == A1)
    assert a1.provenance.source == str(EXAMPLE_STORE)
    assert a1.provenance.line == [r["session_id"] for r in example()].index(A1)
    assert a1.provenance.sha256 == digest
    assert loaded.files[0].format == "cavra-store" and loaded.files[0].records == 21


def test_records_are_ordered_by_parsed_time():
    loaded = load([str(EXAMPLE_STORE)])
    times = [r.created_at for r in loaded.records]
    assert times == sorted(times)
    assert all(t.tzinfo is UTC for t in times)


def test_ndjson_lines_are_numbered_from_one_and_blank_lines_ignored(tmp_path):
    path = tmp_path / "e.ndjson"
    records = example()[:3]
    path.write_text(
        "\n".join([json.dumps(records[0]), "", "   ", json.dumps(records[1]), json.dumps(records[2])]) + "\n"
    )
    loaded = load([str(path)])
    assert sorted(r.provenance.line for r in loaded.records) == [1, 4, 5]
    assert not loaded.rejected and loaded.files[0].format == "ndjson"


def test_gzip_is_detected_by_content_whatever_the_name(tmp_path):
    path = write_ndjson(tmp_path / "evidence.json", example(), compress=True)
    loaded = load([str(path)])
    assert len(loaded.records) == 21 and loaded.files[0].format == "gzip+ndjson"
    assert loaded.files[0].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_gzip_store_file_is_read(tmp_path):
    path = tmp_path / "store.json.gz"
    path.write_bytes(gzip.compress(EXAMPLE_STORE.read_bytes(), mtime=0))
    assert len(load([str(path)]).records) == 21


def test_a_list_a_single_record_and_an_api_history_page_are_read(tmp_path):
    (tmp_path / "list.json").write_text(json.dumps(example()[:2]))
    (tmp_path / "one.json").write_text(json.dumps(example()[2]))
    page = {
        "schema_version": "cavra.go-backend-pilot.rollback-drill-notification-history.v1",
        "product": "CAVRA",
        "items": example()[3:6],
        "total": 3,
        "limit": 50,
        "offset": 0,
    }
    (tmp_path / "page.json").write_text(json.dumps(page))
    loaded = load([str(tmp_path)])
    assert [f.format for f in loaded.files] == ["json-list", "json-record", "cavra-api-history"]
    assert len(loaded.records) == 6 and not loaded.notices


def test_an_api_page_that_holds_part_of_the_history_is_noted(tmp_path):
    page = {"items": example()[:2], "total": 40, "limit": 2, "offset": 0}
    (tmp_path / "page.json").write_text(json.dumps(page))
    loaded = load([str(tmp_path / "page.json")])
    assert [n.code for n in loaded.notices] == ["evidence_export_incomplete"]
    assert "2 of 40" in loaded.notices[0].detail


def test_folders_are_walked_recursively_in_sorted_order_and_other_files_listed(tmp_path):
    records = example()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "z").mkdir(parents=True)
    write_ndjson(tmp_path / "b" / "1.ndjson", records[:5])
    write_ndjson(tmp_path / "a" / "z" / "2.jsonl", records[5:10])
    write_store(tmp_path / "a" / "0.json", records[10:])
    (tmp_path / "a" / "notes.txt").write_text("not evidence")
    loaded = load([str(tmp_path)])
    names = [os.path.relpath(f.path, tmp_path) for f in loaded.files]
    assert names == ["a/0.json", "a/z/2.jsonl", "b/1.ndjson"]
    assert [os.path.relpath(s, tmp_path) for s in loaded.skipped] == ["a/notes.txt"]
    assert len(loaded.records) == 21


def test_stdin_is_read_for_a_dash():
    data = "".join(json.dumps(r) + "\n" for r in example()).encode()
    loaded = load(["-"], stdin=io.BytesIO(data))
    assert len(loaded.records) == 21 and loaded.files[0].path == "<stdin>"


def test_a_missing_path_is_an_input_error():
    with pytest.raises(InputError, match="no-such.json: no such file"):
        load(["no-such.json"])


BAD_LINES = [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object but an array"),
    ('"text"', "not a JSON object but a string"),
    (
        '{"metadata_kind": "release-connector-delivery", "created_at": "2025-06-02T10:00:00+00:00"}',
        "missing session_id",
    ),
    ('{"session_id": 5, "metadata_kind": "x"}', "session_id must be a non-empty string"),
    ('{"session_id": "a", "created_at": "2025-06-02T10:00:00+00:00"}', "missing metadata_kind"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_an_entry_that_is_not_a_record_is_rejected_with_its_line_and_reason(tmp_path, line, reason):
    path = tmp_path / "e.ndjson"
    path.write_text(json.dumps(example()[0]) + "\n" + line + "\n")
    loaded = load([str(path)])
    assert len(loaded.records) == 1
    assert [(r.line, r.reason.startswith(reason)) for r in loaded.rejected] == [(2, True)]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("delivery_success", "yes", "invalid delivery_success"),
        ("created_at", "yesterday", "invalid created_at: Value error, not an ISO-8601 timestamp"),
        ("created_at", 1748858400, "invalid created_at: Value error, a timestamp must be an ISO-8601 string"),
        ("providers", "slack", "invalid providers"),
        ("failed_providers", [1], "invalid failed_providers.0"),
    ],
)
def test_a_wrong_type_in_a_field_the_rules_read_rejects_the_record(tmp_path, field, value, reason):
    a1 = record(example(), A1)
    a1[field] = value
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [a1]))])
    assert not loaded.records
    assert loaded.rejected[0].reason.startswith(reason), loaded.rejected[0].reason
    assert "\n" not in loaded.rejected[0].reason


def test_an_unknown_kind_is_unrecognised_not_rejected(tmp_path):
    entry = {"session_id": "n-1", "metadata_kind": "billing-invoice", "created_at": "x"}
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [entry, example()[0]]))])
    assert not loaded.rejected and len(loaded.records) == 1
    assert [(u.line, u.metadata_kind) for u in loaded.unrecognised] == [(1, "billing-invoice")]


def test_an_identical_duplicate_counts_once(tmp_path):
    records = example()
    loaded = load(
        [str(write_store(tmp_path / "a.json", records)), str(write_ndjson(tmp_path / "b.ndjson", records[:3]))]
    )
    assert len(loaded.records) == 21 and len(loaded.duplicates) == 3 and not loaded.conflicts


def test_a_conflict_keeps_the_later_created_record_and_reports_both_places(tmp_path):
    original = record(example(), A1)
    changed = dict(original, created_at="2025-06-02T10:00:07+00:00", delivery_success=True, failed_providers=[])
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [changed, original]))])
    assert len(loaded.records) == 1 and loaded.records[0].delivery_success is True
    [conflict] = loaded.conflicts
    assert (conflict.kept.line, conflict.replaced.line) == (1, 2)


def test_a_naive_timestamp_is_read_as_utc_and_noted(tmp_path):
    a1 = record(example(), A1)
    a1["created_at"] = "2025-06-02T10:00:06.372915"
    loaded = load([str(write_ndjson(tmp_path / "e.ndjson", [a1]))])
    assert loaded.records[0].created_at.tzinfo is UTC
    assert loaded.records[0].created_at.hour == 10
    assert [(n.code, n.line) for n in loaded.notices] == [("timestamp_without_offset", 1)]


def test_a_bom_and_crlf_line_endings_are_read(tmp_path):
    path = tmp_path / "e.ndjson"
    path.write_bytes(b"\xef\xbb\xbf" + b"".join(json.dumps(r).encode() + b"\r\n" for r in example()))
    loaded = load([str(path)])
    assert len(loaded.records) == 21 and not loaded.rejected


def test_a_gzip_stream_cut_short_keeps_what_was_read_and_rejects_the_rest(tmp_path):
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in example()).encode(), mtime=0)
    path = tmp_path / "cut.ndjson.gz"
    path.write_bytes(data[: len(data) * 2 // 3])
    loaded = load([str(path)])
    assert any(r.line is None and "cut short" in r.reason for r in loaded.rejected)
    assert 0 < len(loaded.records) < 21


def test_a_broken_json_document_is_rejected_with_its_location(tmp_path):
    path = tmp_path / "store.json"
    path.write_text(EXAMPLE_STORE.read_text()[:5000])
    loaded = load([str(path)])
    assert [r.line for r in loaded.rejected] == [None]
    assert "line" in loaded.rejected[0].reason and not loaded.records


def test_an_empty_file_is_noted(tmp_path):
    (tmp_path / "empty.json").write_text("")
    loaded = load([str(tmp_path / "empty.json")])
    assert [n.code for n in loaded.notices] == ["evidence_file_empty"] and not loaded.rejected


def test_store_ndjson_and_gzip_give_the_same_summary_apart_from_inputs_and_provenance(tmp_path):
    records = example()
    store = summarise(load([str(EXAMPLE_STORE)]))
    ndjson = summarise(load([str(write_ndjson(tmp_path / "e.ndjson", records[::-1]))]))
    gz = summarise(load([str(write_ndjson(tmp_path / "e.ndjson.gz", records, compress=True))]))
    assert comparable(store) == comparable(ndjson) == comparable(gz)
    assert store.inputs != ndjson.inputs


def test_a_bad_first_line_does_not_hide_the_ndjson_lines_after_it(tmp_path):
    path = tmp_path / "e.ndjson"
    first = json.dumps(example()[0]).replace('"decision_count": 1', '"decision_count": NaN')
    path.write_text(first + "\n" + "".join(json.dumps(r) + "\n" for r in example()[1:]))
    loaded = load([str(path)])
    assert [(r.line, r.reason.startswith("not JSON")) for r in loaded.rejected] == [(1, True)]
    assert len(loaded.records) == 20


def test_a_file_changed_after_judging_is_not_read_again_for_the_pack(tmp_path):
    path = write_ndjson(tmp_path / "e.ndjson", example())
    loaded = load([str(path)])
    path.write_bytes(path.read_bytes().replace(b"mchen", b"mchan"))
    with pytest.raises(InputError, match="changed while reportgen was reading it"):
        loaded.records_at({(str(path), 1)})


def test_a_named_pipe_is_read_once_and_its_records_can_still_be_read_again(tmp_path):
    fifo = tmp_path / "evidence.pipe"
    os.mkfifo(fifo)
    data = write_ndjson(tmp_path / "e.ndjson", example()).read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(data,))
    writer.start()
    loaded = load([str(fifo)])
    writer.join()
    assert loaded.files[0].path == str(fifo) and loaded.files[0].records == 21
    assert len(loaded.records) == 21 and loaded.records[0].provenance.source == str(fifo)
