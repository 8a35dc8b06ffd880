"""Damaged and foreign SQLite databases: one line naming the file and what is wrong, the rest of
the run still read, never a traceback; a database being written to is refused, never touched."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from evidence import FIXTURES
from sqlitedb import SCHEMA, run, state, write_db

CLEAN = FIXTURES / "clean" / "store.json"
ITEMS = json.loads((FIXTURES / "example" / "store.json").read_text())["items"]
CLEAN_RECORDS = len(json.loads(CLEAN.read_text())["items"])


def no_table(path: Path) -> None:
    """A SQLite database of something else."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE sessions (id TEXT)")
    conn.close()


def other_columns(path: Path) -> None:
    """The table with a column renamed and one added."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(SCHEMA.replace("signer TEXT", "signed_by TEXT, extra TEXT"))
    conn.close()


def truncated(path: Path) -> None:
    """A store cut to half its size, as an interrupted copy leaves it."""
    write_db(path, ITEMS * 1)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def garbage_after_header(path: Path) -> None:
    """The SQLite header, then random bytes."""
    path.write_bytes(b"SQLite format 3\x00" + random.Random(7).randbytes(16384))


def encrypted(path: Path) -> None:
    """Random bytes throughout, as an encrypted database looks."""
    path.write_bytes(random.Random(8).randbytes(16384))


FOREIGN: dict[str, tuple[Callable[[Path], None], str]] = {
    "no evidence table": (no_table, "not a CAVRA evidence store: it has no table evidence_metadata"),
    "other columns": (other_columns, "columns (missing signer; unexpected signed_by, extra)"),
    "truncated": (truncated, "truncated: the header says"),
    "random bytes after the header": (garbage_after_header, "damaged SQLite database: file is not a database"),
    "encrypted": (encrypted, "not a SQLite database: no SQLite header (encrypted, or not a database at all)"),
}


def one_line_about(db: Path, reason: str, *extra: str) -> list[str]:
    """Check the database with the clean store; the lines that name the database."""
    result = run("check", str(db), str(CLEAN), *extra)
    output = result.stdout + result.stderr
    assert "Traceback" not in output and result.returncode == 1, output
    assert f"{CLEAN_RECORDS} records from" in output or f"{CLEAN_RECORDS} records" in output
    # Inputs are named from the folder they share, as the user named them: the database by its
    # folder and name.
    shown = f"{db.parent.name}/{db.name}"
    lines = [line for line in output.splitlines() if shown in line]
    assert len(lines) == 1 and reason in lines[0], output
    return lines


@pytest.mark.parametrize("case", sorted(FOREIGN))
def test_a_damaged_or_foreign_database_is_one_line_and_the_rest_is_read(tmp_path, case):
    make, reason = FOREIGN[case]
    db = tmp_path / "store.db"
    make(db)
    before = state(tmp_path)
    one_line_about(db, reason)
    assert state(tmp_path) == before


def test_a_payload_that_is_not_json_is_rejected_at_its_rowid_and_the_other_rows_are_read(tmp_path):
    db = write_db(tmp_path / "store.db", ITEMS)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE evidence_metadata SET payload = '{\"session_id\": ' WHERE rowid = 7")
    conn.close()
    result = run("check", str(db), "--json")
    summary = json.loads(result.stdout)
    assert [(r["line"], r["reason"][:8]) for r in summary["inputs"]["rejected"]] == [(7, "not JSON")]
    assert summary["inputs"]["records"] == len(ITEMS) - 1 and "Traceback" not in result.stderr


def test_a_column_disagreeing_with_its_payload_is_one_line_naming_the_column(tmp_path):
    db = write_db(tmp_path / "store.db", ITEMS)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE evidence_metadata SET blocked_count = 42 WHERE rowid = 3")
    conn.close()
    result = run("check", str(db))
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "#rowid=3" in line]
    assert len(lines) == 1 and "column blocked_count is 42 but the payload says" in lines[0]


def test_a_database_locked_by_a_writer_is_refused_and_the_writer_can_still_commit(tmp_path):
    db = write_db(tmp_path / "store.db", ITEMS)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM evidence_metadata WHERE rowid <= 3")
    before = state(tmp_path)
    assert "store.db-journal" in before
    one_line_about(db, "a write is in progress or was interrupted (store.db-journal)")
    assert state(tmp_path) == before
    writer.execute("COMMIT")  # reportgen took no lock that would keep it from committing
    writer.close()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM evidence_metadata").fetchone()[0] == len(ITEMS) - 3


def test_a_wal_database_with_uncheckpointed_changes_is_refused_without_touching_its_wal(tmp_path):
    db = write_db(tmp_path / "store.db", ITEMS)
    writer = sqlite3.connect(db, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("DELETE FROM evidence_metadata WHERE rowid <= 3")
    before = state(tmp_path)
    assert before["store.db-wal"][0]
    one_line_about(db, "in WAL mode with")
    result = run("build", str(db), "--out", str(tmp_path.parent / "wal-pack"), "--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert state(tmp_path) == before
    writer.close()


def test_the_snapshot_the_readme_recommends_is_read_while_the_writer_holds_its_wal(tmp_path):
    live = write_db(tmp_path / "live.db", ITEMS)
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("DELETE FROM evidence_metadata WHERE rowid <= 3")
    snapshot = tmp_path.parent / "snapshot.db"
    with sqlite3.connect(snapshot) as copy:
        sqlite3.connect(f"file:{live}?mode=ro", uri=True).backup(copy)
    writer.close()
    result = run("check", str(snapshot), "--json")
    summary = json.loads(result.stdout)
    assert summary["inputs"]["records"] == len(ITEMS) - 3 and not summary["inputs"]["rejected"]


def test_a_table_without_rowid_is_one_line_not_a_damaged_database(tmp_path):
    db = tmp_path / "store.db"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(SCHEMA + " WITHOUT ROWID")
    conn.close()
    one_line_about(db, "evidence_metadata has no rowid to read its rows in order by")
