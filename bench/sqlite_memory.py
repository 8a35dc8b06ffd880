"""Peak memory of reading a SQLite evidence store as a stream, at several row counts.

    python -m bench.sqlite_memory                          # 20 000 and 100 000 records
    python -m bench.sqlite_memory --records 20000 200000

For each size it generates evidence (bench.generate), upserts it into a store with the reference's
schema (§1.3), then reads every row the way the loader does (`sqlite_store.entries`: read-only,
immutable, BATCH rows at a time in rowid order) in a fresh process, and reports that process's peak
RSS (`ru_maxrss`). Only the read is measured, not the ledger the records are folded into: the read
must not grow with the row count, while what the rules keep of each record does. Linux only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = (
    "CREATE TABLE evidence_metadata (session_id TEXT PRIMARY KEY, created_at TEXT, signer TEXT, "
    "decision_count INTEGER NOT NULL, blocked_count INTEGER NOT NULL, "
    "approval_required_count INTEGER NOT NULL, payload TEXT NOT NULL)"
)
COUNTS = ("decision_count", "blocked_count", "approval_required_count")


def rows(ndjson: Path) -> Iterator[tuple[object, ...]]:
    """Every record line of a generated file as a store row (broken lines are not rows)."""
    with ndjson.open("rb") as handle:
        for line in handle:
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict) and isinstance(item.get("session_id"), str):
                counts = [c if type(c) is int and abs(c) < 1 << 62 else 0 for c in map(item.get, COUNTS)]
                texts = [_text(item.get(name)) for name in ("created_at", "signer")]
                yield (item["session_id"], *texts, *counts, json.dumps(item, sort_keys=True))


def _text(value: object) -> str | None:
    """A TEXT column's value as the store writes it."""
    return value if value is None or isinstance(value, str) else str(value)


def make_store(folder: Path, records: int) -> Path:
    """Generate `records` records and upsert them into a new store."""
    ndjson, db = folder / f"evidence-{records}.ndjson", folder / f"store-{records}.db"
    args = ["--records", str(records), "--seed", "7", "--format", "ndjson", "--out", str(ndjson)]
    subprocess.run([sys.executable, "-m", "bench.generate", *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(SCHEMA)
        conn.executemany("INSERT OR REPLACE INTO evidence_metadata VALUES (?, ?, ?, ?, ?, ?, ?)", rows(ndjson))
    conn.close()
    ndjson.unlink()
    return db


def read_all(db: str) -> None:
    """In a fresh process: read every row as the loader does; print the rows, payload bytes and peak RSS."""
    from reportgen.evidence import sqlite_store

    count = size = 0
    for entry in sqlite_store.entries(db, sqlite_store.ALL_ROWS, 16 << 20):
        count += 1
        size += len(entry.raw or b"")
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"rows": count, "payload_bytes": size, "peak_rss_kib": peak_kib}))


def measure(db: Path) -> dict[str, int]:
    """Peak RSS of one streamed read of the store, in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.sqlite_memory", "--read", str(db)], cwd=ROOT, check=True, capture_output=True
    )
    return json.loads(out.stdout) | {"db_bytes": os.path.getsize(db)}


def main() -> None:
    """Measure each size and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[20000, 100000])
    parser.add_argument("--read", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        read_all(args.read)
        return
    print("| records generated | rows | database MiB | payload MiB | peak RSS MiB |")
    print("|--:|--:|--:|--:|--:|")
    with tempfile.TemporaryDirectory(prefix="reportgen-sqlite-bench-") as folder:
        for records in args.records:
            db = make_store(Path(folder), records)
            found = measure(db)
            mib = 1 << 20
            print(
                f"| {records:,} | {found['rows']:,} | {found['db_bytes'] / mib:.0f} | "
                f"{found['payload_bytes'] / mib:.0f} | {found['peak_rss_kib'] / 1024:.0f} |"
            )
            db.unlink()


if __name__ == "__main__":
    main()
