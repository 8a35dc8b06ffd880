"""The lean decoder agrees with the published schema on which records are valid.

The loader folds records decoded by the lean msgspec structs; the pydantic models are the schema
users read (`reportgen schema evidence`). Every field either reads is set, one at a time, to
values of every JSON type (and removed), in every record of the reference example and the
fixtures, and both must accept or both reject.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import msgspec
import orjson
import pytest
from evidence import FIXTURES, example
from pydantic import ValidationError

from reportgen.evidence.kinds import KNOWN_KINDS, NESTED_KEY
from reportgen.evidence.lean import KINDS
from reportgen.evidence.reader import decode
from reportgen.evidence.schema import RECORD_ADAPTER

VALUES: list[Any] = [
    None,
    True,
    0,
    7,
    -1,
    1.5,
    "",
    "x",
    "2025-06-02T10:00:00Z",
    "2025-06-02 10:00",
    [],
    ["a"],
    [1],
    [None],
    {},
    {"a": 1},
]
SAMPLE_FIXTURES = ("exhausted/store.json", "retry-states/records.json", "clean/store.json", "archive/store.json")


def records() -> list[dict[str, Any]]:
    """One record of every kind in the reference example and the fixtures."""
    found = example()
    for name in SAMPLE_FIXTURES:
        data = json.loads((FIXTURES / name).read_text())
        found += data["items"] if isinstance(data, dict) else data
    by_kind: dict[str, dict[str, Any]] = {}
    for record in found:
        by_kind.setdefault(record["metadata_kind"], record)
    return list(by_kind.values())


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key path in a record, nested objects and the first item of lists included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list) and value:
        yield from paths(value[0], (*prefix, 0))


def mutated(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of the record with the value at `path` replaced (or removed, for the DELETE marker)."""
    copy_ = copy.deepcopy(record)
    node = copy_
    for step in path[:-1]:
        node = node[step]
    if value is DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy_


DELETE = object()


def lean_accepts(value: dict[str, Any]) -> bool:
    """Whether the loader's fast path takes the record."""
    try:
        decode(orjson.dumps(value), [])
    except (msgspec.MsgspecError, ValueError):
        return False
    return True


def schema_accepts(value: dict[str, Any]) -> bool:
    """Whether the published pydantic schema takes the record."""
    try:
        RECORD_ADAPTER.validate_python(value, context={"naive": []})
    except ValidationError:
        return False
    return True


def test_every_kind_has_a_lean_struct_and_every_sample_kind_is_tested():
    assert {kind.__struct_config__.tag for kind in KINDS} == set(KNOWN_KINDS)
    assert len(records()) >= 14


@pytest.mark.parametrize("record", records(), ids=lambda r: r["metadata_kind"][-40:])
def test_the_lean_decoder_and_the_schema_accept_and_reject_the_same_records(record):
    assert lean_accepts(record) and schema_accepts(record)
    disagreements = []
    for path in sorted(set(paths(record)), key=str):
        if path[0] == "metadata_kind":
            continue
        for value in [*VALUES, DELETE]:
            candidate = mutated(record, path, value)
            if lean_accepts(candidate) != schema_accepts(candidate):
                disagreements.append((path, value))
    assert not disagreements, disagreements[:10]


def test_a_nested_record_under_the_other_loops_key_is_read_as_the_schema_reads_it():
    plan = next(r for r in records() if r["metadata_kind"].endswith("-alert-delivery-retry-plan"))
    own_key = NESTED_KEY[plan["metadata_kind"]]
    other_key = next(
        k for kind, k in NESTED_KEY.items() if kind.endswith("-alert-delivery-retry-plan") and k != own_key
    )
    moved = copy.deepcopy(plan)
    moved[other_key] = moved.pop(own_key)
    lean, _ = decode(orjson.dumps(moved), [])
    full = RECORD_ADAPTER.validate_python(moved, context={"naive": []})
    assert lean.body is not None and full.body is not None
    assert [d.provider for d in lean.body.retry_decisions] == [d.provider for d in full.body.retry_decisions]


def test_a_whole_number_past_64_bits_in_a_field_the_rules_read_is_rejected_as_the_schema_does():
    delivery = next(r for r in records() if r["metadata_kind"] == "release-connector-delivery")
    raw = orjson.dumps(delivery | {"status_codes": [200]}).replace(b"[200]", b"[18446744073709551616]")
    with pytest.raises(ValueError, match="too large"):
        decode(raw, [])
    assert not schema_accepts(orjson.loads(raw))
    largest = raw.replace(b"18446744073709551616", b"18446744073709551615")
    assert decode(largest, [])[0].status_codes == [2**64 - 1] and schema_accepts(orjson.loads(largest))


@pytest.mark.parametrize(
    "suffix", ["-alert-plan", "-delivery-retry-plan", "-delivery-retry-worker-run", "-delivery-retry-execution-record"]
)
def test_only_the_first_nested_key_present_is_read_as_the_schema_reads_it(suffix):
    found = next(r for r in records() if r["metadata_kind"].endswith(suffix) and "executive" in r["metadata_kind"])
    exec_key = NESTED_KEY[found["metadata_kind"]]
    rec_key = next(k for kind, k in NESTED_KEY.items() if kind.endswith(suffix) and k != exec_key)
    with_junk_second = found | {rec_key: "n/a"}
    assert lean_accepts(with_junk_second) and schema_accepts(with_junk_second)
    only_junk_second = {k: v for k, v in found.items() if k != exec_key} | {rec_key: "n/a"}
    assert not lean_accepts(only_junk_second) and not schema_accepts(only_junk_second)
    moved = {k: v for k, v in found.items() if k != exec_key} | {rec_key: found[exec_key]}
    assert lean_accepts(moved) and schema_accepts(moved)
