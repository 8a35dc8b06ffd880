"""CAVRA's SQLite store read directly: the same verdict as the JSON store of the same records, read
without touching the database, its rows cited by rowid, split over jobs by rowid range."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from evidence import FIXTURES, comparable, write_store
from evidence import generated as generated_evidence
from sqlitedb import items_of, run, state, write_db

from reportgen.evidence import sqlite_store
from reportgen.evidence.inputs import Limits
from reportgen.evidence.load import load
from reportgen.evidence.reread import read_entries
from reportgen.evidence.workers import plan_units
from reportgen.judge.summary import summarise

AS_OF = "2026-01-01T00:00:00Z"
ALL = sqlite_store.ALL_ROWS
ITEMS = json.loads((FIXTURES / "example" / "store.json").read_text())["items"]


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """20 000 generated records as a JSON store and as a SQLite store holding the same items."""
    folder = tmp_path_factory.mktemp("sqlite-generated")
    items = items_of(generated_evidence(tmp_path_factory, 20000, profile="reference"))
    (folder / "db").mkdir()
    return {"json": write_store(folder / "store.json", items), "db": write_db(folder / "db" / "store.db", items)}


def example_pair(tmp_path: Path, store: str) -> tuple[Path, Path]:
    """A fixture store and a SQLite store made from its items."""
    json_path = FIXTURES / store / "store.json"
    items = json.loads(json_path.read_text())["items"]
    return json_path, write_db(tmp_path / "store.db", items)


@pytest.mark.parametrize("rules", ["chain", "cavra"])
@pytest.mark.parametrize("store", ["example", "archive"])
def test_a_database_of_an_example_store_gives_the_json_stores_verdict_and_summary(tmp_path, store, rules):
    json_path, db = example_pair(tmp_path, store)
    as_json, as_db = summarise(load([str(json_path)]), rules), summarise(load([str(db)]), rules)
    assert comparable(as_db) == comparable(as_json)
    assert as_db.inputs.records == as_json.inputs.records > 0
    assert [f.format for f in as_db.inputs.files] == ["sqlite"]


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("rules", ["chain", "cavra"])
def test_a_database_of_20000_generated_records_gives_the_json_stores_summary(generated, rules, jobs):
    as_json = summarise(load([str(generated["json"])]), rules)
    loaded = load([str(generated["db"])], jobs=jobs)
    as_db = summarise(loaded, rules)
    assert comparable(as_db) == comparable(as_json)
    assert (as_db.inputs.records, len(as_db.inputs.rejected)) == (as_json.inputs.records, len(as_json.inputs.rejected))
    rows = sqlite3.connect(generated["db"]).execute("SELECT count(*) FROM evidence_metadata").fetchone()[0]
    assert as_db.inputs.entries == rows


def test_jobs_split_a_large_database_by_rowid_range_and_merge_to_the_one_process_summary(generated):
    path = str(generated["db"])
    units = plan_units([(path, path)], Limits(), jobs=2)
    assert [u.span is not None for u in units] == [True, True]
    assert (units[0].span[0], units[0].span[1], units[1].span[1]) == (ALL[0], units[1].span[0], ALL[1])
    one, two = load([path], jobs=1), load([path], jobs=2)
    assert summarise(two).to_json() == summarise(one).to_json()
    assert two.files == one.files and len(two.files) == 1


def test_the_reader_fetches_rows_in_bounded_batches_in_rowid_order(generated, monkeypatch):
    monkeypatch.setattr(sqlite_store, "BATCH", 700)
    conn = sqlite_store.connect(str(generated["db"]))
    sizes, rowids = [], []
    for rows in sqlite_store.batches(conn, sqlite_store.ALL_ROWS, 1 << 20):
        sizes.append(len(rows))
        rowids += [r[0] for r in rows]
    conn.close()
    assert max(sizes) == 700 and len(sizes) == -(-len(rowids) // 700)
    assert rowids == sorted(rowids) and len(rowids) > 15000


def test_check_and_build_leave_the_database_and_its_folder_untouched(tmp_path):
    _, db = example_pair(tmp_path, "example")
    before = state(tmp_path)
    checked = run("check", str(db), "--as-of", AS_OF)
    built = run("build", str(db), "--out", str(tmp_path / "out"), "--format", "html,md,json", "--as-of", AS_OF)
    assert checked.returncode == 1 and built.returncode == 1, built.stderr
    assert state(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "store.db"]


def test_a_checkpointed_wal_mode_database_is_read_and_no_wal_or_shm_file_appears(tmp_path):
    _, db = example_pair(tmp_path, "example")
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    conn.close()  # the last connection checkpoints and removes the -wal
    before = state(tmp_path)
    loaded = load([str(db)])
    assert loaded.entries == 21 and not loaded.rejected
    assert state(tmp_path) == before and [p.name for p in tmp_path.iterdir()] == ["store.db"]


def test_a_row_is_cited_by_rowid_wherever_a_location_is_shown(tmp_path):
    items = json.loads((FIXTURES / "example" / "store.json").read_text())["items"]
    items[3]["created_at"] = "not a time"
    db = write_db(tmp_path / "store.db", items)
    loaded = load([str(db)])
    assert [(r.line, r.reason.split(":")[0]) for r in loaded.rejected] == [(4, "invalid created_at")]
    result = run("check", str(db), "--as-of", AS_OF)
    output = result.stdout + result.stderr
    # Named by its absolute path, the database is named from its folder on in what reportgen prints.
    assert "store.db#rowid=4: invalid created_at" in output and "store.db:4" not in output
    summary = summarise(loaded)
    assert summary.inputs.rejected[0].line == 4 and summary.inputs.rejected[0].source == str(db)
    out = tmp_path.parent / f"{tmp_path.name}-pack"
    assert run("build", str(db), "--out", str(out), "--format", "md,html", "--as-of", AS_OF).returncode == 1
    # (Markdown escapes, and the HTML's <wbr> break opportunities, are no text.)
    pages = [
        p.read_text().replace("\\", "").replace("<wbr>", "") for p in sorted([*out.glob("*.md"), *out.glob("*.html")])
    ]
    assert (
        sum("store.db#rowid=4<" in page for page in pages) >= 1
        and sum("store.db#rowid=4\n" in page for page in pages) >= 1
    )
    assert not any("store.db:4" in page for page in pages)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("session_id", "someone-else"),
        ("created_at", "2020-01-01T00:00:00+00:00"),
        ("decision_count", 99),
        ("blocked_count", 99),
        ("approval_required_count", 99),
    ],
)
def test_a_row_whose_column_disagrees_with_its_payload_is_rejected_naming_the_column(tmp_path, column, value):
    _, db = example_pair(tmp_path, "example")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(f"UPDATE evidence_metadata SET {column} = ? WHERE rowid = 5", (value,))
    conn.close()
    loaded = load([str(db)])
    said = json.dumps(ITEMS[4][column])  # rows are numbered from 1 in the order they were written
    assert [(r.line, r.reason) for r in loaded.rejected] == [
        (5, f"column {column} is {json.dumps(value)} but the payload says {said}")
    ]
    assert loaded.entries == 21 and summarise(loaded).inputs.records == 20


def test_a_folder_walk_reads_databases_by_name_and_by_header_and_skips_their_companions(tmp_path):
    items = json.loads((FIXTURES / "example" / "store.json").read_text())["items"]
    write_db(tmp_path / "a.sqlite3", items[:10])
    write_db(tmp_path / "b.bin", items[10:])
    (tmp_path / "a.sqlite3-journal").write_bytes(b"")
    loaded = load([str(tmp_path)])
    read = [(Path(f.path).name, f.format, f.records) for f in loaded.files]
    assert read == [("a.sqlite3", "sqlite", 10), ("b.bin", "sqlite", 11)]
    assert any(s.endswith("a.sqlite3-journal") for s in loaded.skipped) and not loaded.rejected


def test_the_inventory_records_a_database_with_its_digest_size_and_rows(tmp_path):
    _, db = example_pair(tmp_path, "example")
    result = run("build", str(db), "--out", str(tmp_path / "out"), "--format", "json", "--as-of", AS_OF)
    assert result.returncode == 1, result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    sha256, size = sqlite_store.digest(str(db))
    expected = {"path": db.name, "sha256": sha256, "bytes": size, "format": "sqlite", "records": 21}
    assert summary["inputs"]["files"] == [expected]
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert sha256 in manifest


def test_which_inputs_are_cited_by_rowid_is_data_of_the_load_not_of_the_process(tmp_path):
    json_path, db = example_pair(tmp_path, "example")
    loaded = load([str(db), str(json_path)])
    assert loaded.stores == {str(db)} and sqlite_store.stores_of(loaded.files) == {str(db)}
    assert sqlite_store.location(str(db), 4, loaded.stores) == f"{db}#rowid=4"
    assert sqlite_store.location(str(json_path), 4, loaded.stores) == f"{json_path}:4"
    # Another load in the same process knows nothing of the first one's databases.
    assert load([str(json_path)]).stores == frozenset()
    assert sqlite_store.location(str(db), 4, frozenset()) == f"{db}:4"


def test_the_entries_read_again_from_a_database_are_its_rows_payloads(tmp_path):
    json_path, db = example_pair(tmp_path, "example")
    loaded = load([str(db)])
    values = read_entries(loaded)
    assert sorted(v["session_id"] for v in values) == sorted(i["session_id"] for i in ITEMS)
    assert [r.session_id for r in loaded.records] == [r.session_id for r in load([str(json_path)]).records]
    assert {r.provenance.source for r in loaded.records} == {str(db)}


def test_a_database_changed_after_it_was_judged_is_not_read_again_for_the_pack(tmp_path):
    _, db = example_pair(tmp_path, "example")
    loaded = load([str(db)])
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM evidence_metadata WHERE rowid = 1")
    conn.close()
    with pytest.raises(Exception, match="changed while reportgen was reading it"):
        read_entries(loaded)
    os.remove(db)


def test_a_secret_in_a_payload_is_masked_and_reported_at_its_rowid(tmp_path):
    items = [dict(item) for item in ITEMS]
    items[2]["external_ref"] = "ghp_s3cr3tGithubTokenValue0123456789"
    db = write_db(tmp_path / "store.db", items)
    loaded = load([str(db)])
    assert [(s.source, s.line) for s in loaded.secrets] == [(str(db), 3)]
    assert "ghp_s3cr3t" not in json.dumps(read_entries(loaded))
    result = run("check", str(db), "--as-of", AS_OF)
    assert "ghp_s3cr3t" not in result.stdout + result.stderr


def test_the_same_records_in_a_database_and_a_json_store_count_once_and_conflicts_cite_the_rowid(tmp_path):
    changed = [dict(item) for item in ITEMS]
    changed[5]["signer"] = "someone-else"
    json_path = write_store(tmp_path / "store.json", ITEMS)
    db = write_db(tmp_path / "store.db", changed)
    loaded = load([str(json_path), str(db)])
    assert len(loaded.duplicates) == len(ITEMS) - 1 and len(loaded.conflicts) == 1
    assert {loaded.conflicts[0].kept.line, loaded.conflicts[0].replaced.line} >= {6}
    result = run("check", str(json_path), str(db), "--as-of", AS_OF)
    assert f"{db.name}#rowid=6" in result.stdout + result.stderr


def test_a_payload_over_the_record_size_limit_is_rejected_without_being_fetched(tmp_path, monkeypatch):
    items = [dict(item) for item in ITEMS]
    items[0]["padding"] = "x" * 100_000
    db = write_db(tmp_path / "store.db", items)
    fetched: list[int] = []
    real = sqlite_store.entry
    spy = lambda row, limit: fetched.append(len(row[-1] or b"")) or real(row, limit)  # noqa: E731
    monkeypatch.setattr(sqlite_store, "entry", spy)
    loaded = load([str(db)], limits=Limits(max_record_bytes=64 * 1024))
    size = len(json.dumps(items[0], sort_keys=True))
    assert [(r.line, r.reason.split(" is over")[0]) for r in loaded.rejected] == [(1, f"entry of {size} bytes")]
    assert max(fetched) < 64 * 1024


def test_a_database_piped_to_stdin_is_read_as_a_database(tmp_path):
    _, db = example_pair(tmp_path, "example")
    result = subprocess.run(
        [sys.executable, "-m", "reportgen", "check", "-", "--json"], input=db.read_bytes(), capture_output=True
    )
    summary = json.loads(result.stdout)
    assert summary["inputs"]["files"][0]["format"] == "sqlite" and summary["inputs"]["records"] == len(ITEMS)


def test_a_pdf_built_from_a_database_attaches_its_rows_so_a_recheck_gives_the_same_verdict(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    _, db = example_pair(tmp_path, "example")
    out = tmp_path.parent / f"{tmp_path.name}-pack"
    built = run("build", str(db), "--out", str(out), "--format", "pdf,json", "--attach-evidence", "--as-of", AS_OF)
    assert built.returncode == 1, built.stderr
    pdf = next(out.glob("*.pdf"))
    attached = pypdf.PdfReader(pdf).attachments["evidence.ndjson"][0]
    (tmp_path.parent / "attached.ndjson").write_bytes(attached)
    again = run("check", str(tmp_path.parent / "attached.ndjson"), "--json", "--as-of", AS_OF)
    first, second = json.loads((out / "summary.json").read_text()), json.loads(again.stdout)
    assert verdict(second) == verdict(first) and verdict(first)[0] == "open"
    assert second["inputs"]["records"] == len(ITEMS)


def verdict(summary: dict) -> tuple[object, ...]:
    """What a re-check must reproduce: the states and the open items."""
    items = [(i["code"], i["health_id"], i["provider"]) for i in summary["closure"]["open_items"]]
    return summary["closure"]["state"], summary["readiness"]["state"], items
