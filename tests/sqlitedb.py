"""SQLite evidence stores made as CAVRA makes them (reference §1.3), for the SQLite tests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

SCHEMA = (
    "CREATE TABLE evidence_metadata (session_id TEXT PRIMARY KEY, created_at TEXT, signer TEXT, "
    "decision_count INTEGER NOT NULL, blocked_count INTEGER NOT NULL, "
    "approval_required_count INTEGER NOT NULL, payload TEXT NOT NULL)"
)
UPSERT = "INSERT OR REPLACE INTO evidence_metadata VALUES (?, ?, ?, ?, ?, ?, ?)"


def row(item: dict[str, Any]) -> tuple[Any, ...]:
    """An item as the store's row: its indexed columns and the item as JSON with sorted keys."""
    counts = [item.get(name) for name in ("decision_count", "blocked_count", "approval_required_count")]
    columns = [c if type(c) is int and -(1 << 63) <= c < 1 << 63 else 0 for c in counts]
    texts = [_text(item.get(name)) for name in ("created_at", "signer")]
    return (item["session_id"], *texts, *columns, json.dumps(item, sort_keys=True))


def _text(value: Any) -> str | None:
    """A TEXT column's value as the store writes it."""
    return value if value is None or isinstance(value, str) else str(value)


def write_db(path: Path, items: Iterable[dict[str, Any]], schema: str = SCHEMA) -> Path:
    """A SQLite store holding the items, upserted in order (the last of one session id wins)."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(schema)
        conn.executemany(UPSERT, (row(item) for item in items))
    conn.close()
    return path


def items_of(path: Path) -> list[dict[str, Any]]:
    """The items a store would hold after upserting every record line of an NDJSON file in order."""
    kept: dict[str, dict[str, Any]] = {}
    for line in path.read_bytes().splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("session_id"), str) and value["session_id"].strip():
            kept[value["session_id"]] = value
    return [kept[sid] for sid in sorted(kept)]


def state(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file in a folder with its bytes and modification time, to show nothing was touched."""
    return {p.name: (p.read_bytes(), os.stat(p).st_mtime_ns) for p in sorted(folder.iterdir()) if p.is_file()}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the reportgen CLI as a user would."""
    return subprocess.run([sys.executable, "-m", "reportgen", *args], capture_output=True, text=True, check=False)
