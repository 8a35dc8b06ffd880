"""Builders for test evidence: the reference example chain, copied and changed per test."""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from once import once

from reportgen.evidence.load import load
from reportgen.judge.summary import Summary, summarise
from reportgen.judge.verdict import OpenItem

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
EXAMPLE_STORE = FIXTURES / "example" / "store.json"

EXEC_HEALTH = "gordackexecdeliveryhealth-3a9c5e17b2d04f68"
REC_HEALTH = "gordackrecoveryeschealth-9f2d6b0a4c81e375"
EXEC_RETRY_PLAN = "gordackexechealthalertretry-e5d7a3c190b46f28"
EXEC_WORKER = "gordackexechealthalertworker-4c92b7e0f1d5a863"
EXEC_FAILED_EXECUTION = "gordackexechealthalertexec-5c3e8b1f7a09d264"
EXEC_DELIVERED_EXECUTION = "gordackexechealthalertexec-b8f4172c6e0d93a5"
EXEC_ACK = "gordackexechealthack-71e0c9d4a5b23f86"
EXEC_PLAN = "gordackexechealthalert-c41f7a0e93b26d5a"
REC_ACK = "gordackrecoveryhealthack-4f8b2a6e1d03c975"
NOTIFICATION_ACK = "gordack-5e0b7c3a9d2f1486"
A1 = "rcd-cavra-go-backend-rollback-drill-recovery-executive-report-delivery-retry-health-alert-7f2c91d04ab3"
A2 = "rcd-cavra-go-backend-rollback-drill-recovery-executive-report-delivery-retry-health-alert-93d5a1e8f06c"
A3 = "rcd-gordackrecoveryeschealth-9f2d6b0a4c81e375-5a1c7e9d3f02"

RETRY_PLAN_KEY = "recovery_executive_report_delivery_retry_health_alert_delivery_retry_plan"
WORKER_KEY = "recovery_executive_report_delivery_retry_health_alert_delivery_retry_worker_run"
EXECUTION_KEY = "recovery_executive_report_delivery_retry_health_alert_delivery_retry_execution_record"


def example() -> list[dict[str, Any]]:
    """The 21 records of the reference example chain, fresh copies each call."""
    return copy.deepcopy(json.loads(EXAMPLE_STORE.read_text())["items"])


def generated(tmp_path_factory: pytest.TempPathFactory, records: int, seed: int = 7, *, profile: str) -> Path:
    """`python -m bench.generate --records N --seed S --profile P`, NDJSON written once per run and shared.

    The profile has no default: a test whose numbers were measured on one profile names it.
    """

    def make(folder: Path) -> None:
        args = ["--records", str(records), "--seed", str(seed), "--profile", profile, "--format", "ndjson"]
        args += ["--out", str(folder / "evidence.ndjson")]
        command = [sys.executable, "-m", "bench.generate", *args]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)

    return once(tmp_path_factory, f"generated-{profile}-{records}-{seed}", make) / "evidence.ndjson"


def record(records: list[dict[str, Any]], session_id: str) -> dict[str, Any]:
    """The record with this session id."""
    return next(r for r in records if r["session_id"] == session_id)


def without(records: list[dict[str, Any]], *session_ids: str) -> list[dict[str, Any]]:
    """The records less those with these session ids."""
    return [r for r in records if r["session_id"] not in session_ids]


def write_store(path: Path, records: list[dict[str, Any]]) -> Path:
    """Write records as a CAVRA store file."""
    path.write_text(json.dumps({"items": records}, indent=2, sort_keys=True) + "\n")
    return path


def write_ndjson(path: Path, records: list[Any], compress: bool = False) -> Path:
    """Write records one per line, gzip-compressed if asked."""
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def judge(tmp_path: Path, records: list[dict[str, Any]], mode: str = "chain", as_of: datetime | None = None) -> Summary:
    """Write records as a store file and judge them."""
    return summarise(load([str(write_store(tmp_path / "store.json", records))]), mode, as_of)  # type: ignore[arg-type]


def codes(summary: Summary) -> list[str]:
    """The open item codes, in summary order."""
    return [i.code for i in summary.closure.open_items]


def item(summary: Summary, code: str, provider: str | None = None) -> Any:
    """The one open item with this code (and provider)."""
    found = [i for i in summary.closure.open_items if i.code == code and (provider is None or i.provider == provider)]
    assert len(found) == 1, f"expected one {code} item for {provider}, got {found}"
    return found[0]


def check(summary: Summary, check_id: str) -> Any:
    """The readiness check with this id."""
    return next(c for c in summary.readiness.checks if c.id == check_id)


def comparable(summary: Summary) -> dict[str, Any]:
    """The summary without inputs and provenance, for comparing formats of the same evidence."""
    data = summary.model_dump(mode="json")
    data.pop("inputs")
    _strip_locations(data)
    return data


def _strip_locations(node: Any) -> None:
    """Drop source and line from every evidence reference, in place."""
    if isinstance(node, dict):
        node.pop("source", None)
        node.pop("line", None)
        for value in node.values():
            _strip_locations(value)
    elif isinstance(node, list):
        for value in node:
            _strip_locations(value)


def synthetic_item(number: int, **changes: object) -> OpenItem:
    """A synthetic open delivery item, opened `number` minutes after a fixed time."""
    fields: dict[str, Any] = {
        "id": f"it-{number:012d}",
        "code": "executive_retry_health_alert_delivery_failed",
        "severity": "critical",
        "loop": "executive",
        "health_id": f"health-{number}",
        "provider": "slack",
        "retry_state": "exhausted",
        "title": "Executive retry health alert delivery failed",
        "detail": "1 failed attempt",
        "operator_action": "Repair the connector and redeliver.",
        "opened_at": datetime(2025, 6, 2, tzinfo=UTC) + timedelta(minutes=number),
    }
    return OpenItem(**{**fields, **changes})


def with_items(summary: Summary, items: list[OpenItem]) -> Summary:
    """The summary with these open items instead of its own."""
    return summary.model_copy(update={"closure": summary.closure.model_copy(update={"open_items": items})})
