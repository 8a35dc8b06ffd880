"""Evidence for the rendering attacks: control characters and very long values in every field shown."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evidence import A1, A3, EXEC_ACK, EXEC_PLAN, example, record, write_ndjson

# Every C0 control, DEL, every C1 control, and the Unicode line and paragraph separators.
CONTROL_POINTS = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029)
# The ones no output may hold raw: tab, line feed and carriage return are whitespace everywhere.
SHOWN_POINTS = tuple(c for c in CONTROL_POINTS if c not in (0x09, 0x0A, 0x0D))
CONTROLS = "".join(chr(c) for c in CONTROL_POINTS)
# Lengths of the long values, one field each; every one is a single run without a space.
LONG = {"provider": 20_000, "health": 5_000, "session": 2_000, "kind": 10_000, "created": 8_000}


def long_value(field: str) -> str:
    """A run of LONG[field] characters without a space that starts with the field's name."""
    head = f"long{field}"
    return head + "x" * (LONG[field] - len(head) - 3) + "end"


def controlled(field: str) -> str:
    """A value holding every control character, marked by the field's name at both ends."""
    return f"ctl{field}[{CONTROLS}]{field}end"


def hostile_records() -> list[dict[str, Any]]:
    """The example chain with controls and long values in providers, health ids, session ids,
    record kinds, rejection reasons and the details that quote them."""
    records = example()
    failed = record(records, A1)
    failed["providers"] = failed["failed_providers"] = ["slack", controlled("provider"), long_value("provider")]
    failed["health_id"] = long_value("health")
    record(records, A3)["health_id"] = controlled("health")
    record(records, EXEC_PLAN)["acknowledgement_required_providers"].append(controlled("ack"))
    record(records, EXEC_ACK)["provider"] = controlled("ack")
    created = "2025-06-02T10:00:00Z"
    records += [
        {"session_id": controlled("session"), "metadata_kind": controlled("kind"), "created_at": created},
        {"session_id": long_value("session"), "metadata_kind": long_value("kind"), "created_at": created},
        {"session_id": "bad-time-1", "metadata_kind": "release-connector-delivery", "created_at": controlled("time")},
        {
            "session_id": "bad-time-2",
            "metadata_kind": "release-connector-delivery",
            "created_at": long_value("created"),
        },
    ]
    return records


def hostile_folder(root: Path) -> Path:
    """The evidence in a file whose name holds controls, under folders whose path is one long run."""
    folder = root / "evidence"
    for level in range(12):
        folder = folder / f"{level:02d}{'d' * 200}"
    folder.mkdir(parents=True)
    name = "ev-" + "".join(chr(c) for c in SHOWN_POINTS if c not in (0x00, 0x2F)) + ".ndjson"
    write_ndjson(folder / name, hostile_records())
    return root / "evidence"
