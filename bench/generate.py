"""Deterministic, realistic CAVRA rollback-drill evidence for benchmarks and large-input tests.

The generator tells whole stories the way the CAVRA API would have recorded them (the input
contract, /work/shared/reference/cavra-evidence.md). An alert drill is health -> alert plan ->
delivery -> delivery retry plans -> worker runs -> redeliveries and execution records ->
acknowledgements, linked by id, with every retry decision computed by upstream's rules (§6.1)
from the failures simulated so far. An archive story (kind H, cavra-evidence-archive-loop.md) is
a release's immutable archive references and repeated deliver calls: each a fresh health (mostly
persisted), an alert plan, one multi-provider delivery, now and then a re-send for the same health,
and acknowledgements; its ids are the documented hashes. Notification drills, readiness summaries
and runbook exports, and deliveries of other sources are mixed in. Stories overlap in time and
leave through a small heap in created_at order, so memory stays bounded however many records are
asked for (the archive loop's ground truth keeps one small entry per plan and per chain key).

Everything comes from `random.Random(seed)`, id counters and hashes of what they drew: no wall clock,
so the same arguments give byte-identical output. As each story is accepted, the generator notes
the ground truth that reportgen's chain rules should reach (open delivery chains and their retry
states, outstanding acknowledgements) and upstream's counts (failed delivery and execution records,
every plan's outstanding acknowledgements). The archive loop is judged by its latest plan over all
the evidence, so its truth is settled once the last story is told.

Two profiles. `reference` (the default) keeps a drill's scheduled retry worker running for a few
more runs once the drill's outcome is reached, as real drills do: upstream ignores later successes
(§6.1), so a redelivered provider is retried again on every run and some of those redeliveries
fail anew; chains are longer and a drill with retries has about five worker runs. `compact` stops
the worker at the outcome (about two runs): shorter chains and fewer records per drill.
Both carry the reference's full records: nested bodies repeating the envelope's fields, sha256
digests, endpoint and evidence URLs, notes, 1-5 KB a record.

Simplifications, on purpose: a drill's retry plans hold only that drill's (health_id, provider)
keys, as if each drill had its own 500-record window (a real window puts every recent failure in
every plan, and records would grow far past 8 KB); health records carry plausible rather than
recomputed counts; readiness summaries count what the drills since the previous final report left;
an archive health checks only its own story's exports, and those auditor exports are not written.

    python -m bench.generate --records 100000 --seed 7 --format gzip --out evidence.ndjson.gz
    python -m bench.generate --records 100000 --seed 7 --profile compact --out evidence.ndjson
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import heapq
import json
import os
import random
import re
import struct
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import orjson

Record = dict[str, Any]
# An entry is a record (possibly a deliberately broken one) or the raw text of a broken line.
Entry = Record | bytes

# --- the contract: kinds, sources, texts (reference §2-§9) ------------------------------------

PREFIX = "go-backend-rollback-drill-acknowledgement-audit-delivery"
STORE_SCHEMA = "cavra.evidence.metadata.v1"
DELIVERY_KIND = "release-connector-delivery"
NOTIFICATION_PLAN_KIND = "go-backend-rollback-drill-notification-plan"
NOTIFICATION_ACK_KIND = "go-backend-rollback-drill-notification-ack"
READINESS_KIND = f"{PREFIX}-final-reporting-release-readiness-summary"
RUNBOOK_KIND = f"{PREFIX}-final-reporting-operator-runbook-export"
NOTIFICATION_SOURCE = "go_backend_rollback_drill_notification"
EXEC_REPORT_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_recovery_executive_report"
ESCALATION_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_recovery_escalation"
CONNECTOR_SCHEMA = "cavra.connector.delivery.v1"
PARTS = {
    "health": "",
    "plan": "-alert-plan",
    "ack": "-alert-ack",
    "retry": "-alert-delivery-retry-plan",
    "worker": "-alert-delivery-retry-worker-run",
    "exec": "-alert-delivery-retry-execution-record",
}
CLEARING = ("acknowledged", "resolved")


def schema_of(kind: str) -> str:
    """The nested schema_version of a kind; final-reporting ones lack the audit-delivery segment (H.11 item 8)."""
    name = kind.removeprefix("go-backend-").replace("acknowledgement-audit-delivery-final-reporting", "final-reporting")
    return f"cavra.go-backend-pilot.{name}.v1"


@dataclass(frozen=True)
class LoopSpec:
    """Everything that differs between the executive and the recovery retry health alert loop."""

    name: str
    kind: str
    nested: str
    prefixes: dict[str, str]
    source: str
    event_type: str
    retry_reason: str
    execution_state: str
    skip_reason: str
    refs: tuple[str, str]
    health_defaults: tuple[int, int]  # expected_interval_minutes, stale_metadata_minutes
    alerts: tuple[tuple[str, str, str, str], ...]
    summary_fields: tuple[str, ...]
    actions: tuple[str, ...]
    controls: dict[str, tuple[str, ...]]

    def kind_of(self, part: str) -> str:
        """The metadata_kind of one part of this loop."""
        return self.kind + PARTS[part]

    def nested_of(self, part: str) -> str:
        """The key the full record of one part is nested under."""
        return "acknowledgement" if part == "ack" else self.nested + PARTS[part].replace("-", "_")


EXECUTIVE = LoopSpec(
    name="executive",
    kind=f"{PREFIX}-recovery-executive-report-delivery-retry-health",
    nested="recovery_executive_report_delivery_retry_health",
    prefixes={
        "health": "gordackexecdeliveryhealth-",
        "plan": "gordackexechealthalert-",
        "ack": "gordackexechealthack-",
        "retry": "gordackexechealthalertretry-",
        "worker": "gordackexechealthalertworker-",
        "exec": "gordackexechealthalertexec-",
        "upstream_worker": "gordackexecdeliveryworker-",
        "upstream_retry": "gordackexecdeliveryretry-",
    },
    source=f"{EXEC_REPORT_SOURCE}_delivery_retry_health_alert",
    event_type="cavra.go_backend.rollback_drill.recovery_executive_report_delivery_retry_health_alert",
    retry_reason="failed executive retry health alert delivery is eligible for retry",
    execution_state="selected_for_executive_retry_health_alert_redelivery",
    skip_reason="recovery_executive_report_delivery_retry_health_not_found",
    refs=("go-rollback-drill-executive-health-alert-retry-worker://", "go-rollback-drill-executive-retry-health://"),
    health_defaults=(60, 180),
    alerts=(
        (
            "missed_executive_delivery_retry_worker",
            "critical",
            "missed_worker_count",
            "Executive report delivery retry worker has not run within the expected interval.",
        ),
        (
            "stale_executive_delivery_retry_plan",
            "warning",
            "stale_retry_plan_count",
            "Executive report delivery retry plan is older than the stale metadata threshold.",
        ),
        (
            "failed_executive_report_delivery",
            "critical",
            "failed_executive_report_delivery_count",
            "One or more executive report deliveries failed and need retry tracking.",
        ),
        (
            "failed_executive_delivery_retry_execution",
            "critical",
            "failed_execution_count",
            "Executive report delivery retry execution has failed or skipped records.",
        ),
        (
            "disabled_executive_delivery_retry_schedule",
            "warning",
            "disabled_schedule_count",
            "Executive report delivery retry schedule is disabled.",
        ),
    ),
    summary_fields=(
        "retryable_count",
        "selected_retry_count",
        "missed_worker_count",
        "failed_execution_count",
        "failed_executive_report_delivery_count",
        "alert_count",
    ),
    actions=(
        "run executive report delivery retry worker in dry-run mode",
        "review failed executive report delivery records before live retry execution",
        "confirm retry plans are current before sending executive updates",
        "route persistent executive report delivery failures to release governance",
    ),
    controls={
        "health": (
            "executive-report-delivery-retry-health-derived-from-public-safe-metadata",
            "health-report-contains-no-connector-secret-or-private-endpoint",
            "retry-health-can-be-shared-with-executives-without-private-connector-payloads",
        ),
        "plan": (
            "executive-retry-health-alert-routing-derived-from-public-health-metadata",
            "duplicate-suppression-uses-redacted-delivery-metadata",
            "acknowledgements-record-executive-retry-health-review",
            "no-connector-credentials-stored-in-executive-retry-health-alert-plan",
        ),
        "ack": (
            "executive-retry-health-alert-acknowledgement-records-review-only",
            "no-provider-token-or-secret-stored",
        ),
        "retry": (
            "executive-retry-health-alert-retry-plan-derived-from-redacted-delivery-metadata",
            "retry-plan-contains-no-provider-credentials",
            "public-plan-does-not-perform-executive-alert-redelivery-side-effects",
        ),
        "worker": (
            "executive-retry-health-alert-delivery-retry-worker-derived-from-redacted-delivery-metadata",
            "dry-run-default-prevents-accidental-executive-retry-health-alert-redelivery",
            "live-executive-retry-health-alert-delivery-retry-requires-explicit-execute-request",
            "worker-run-contains-no-connector-secret-or-private-endpoint",
        ),
        "exec": (
            "executive-retry-health-alert-delivery-retry-execution-bound-to-worker-run",
            "execution-record-derived-from-public-safe-health-and-delivery-metadata",
            "execution-hash-covers-worker-health-delivery-and-status",
            "record-contains-no-connector-secret-or-private-endpoint",
        ),
    },
)

RECOVERY = LoopSpec(
    name="recovery",
    kind=f"{PREFIX}-recovery-escalation-retry-health",
    nested="recovery_escalation_retry_health",
    prefixes={
        "health": "gordackrecoveryeschealth-",
        "plan": "gordackrecoveryhealthalert-",
        "ack": "gordackrecoveryhealthack-",
        "retry": "gordackrecoveryhealthalertretry-",
        "worker": "gordackrecoveryhealthalertworker-",
        "exec": "gordackrecoveryhealthalertexec-",
        "upstream_worker": "gordackrecoveryescworker-",
        "upstream_retry": "gordackrecoveryescretry-",
    },
    source=f"{ESCALATION_SOURCE}_retry_health_alert",
    event_type="cavra.go_backend.rollback_drill.acknowledgement_audit_recovery_escalation_retry_health_alert",
    retry_reason="failed recovery retry health alert delivery is eligible for retry",
    execution_state="selected_for_health_alert_redelivery",
    skip_reason="recovery_escalation_retry_health_not_found",
    refs=("go-rollback-drill-recovery-health-alert-retry-worker://", "go-rollback-drill-recovery-retry-health://"),
    health_defaults=(30, 120),
    alerts=(
        (
            "missed_recovery_escalation_retry_worker",
            "critical",
            "missed_worker_count",
            "Recovery escalation retry worker has not run within the expected interval.",
        ),
        (
            "stale_recovery_escalation_retry_plan",
            "warning",
            "stale_retry_plan_count",
            "Recovery escalation retry plan is older than the stale metadata threshold.",
        ),
        (
            "recovery_escalation_acknowledgement_gap",
            "warning",
            "acknowledgement_pending_count",
            "Recovery escalation retries are waiting on an accepted acknowledgement.",
        ),
        (
            "failed_recovery_escalation_retry_execution",
            "critical",
            "failed_execution_count",
            "Recovery escalation retry execution has failed or skipped records.",
        ),
        (
            "disabled_recovery_escalation_retry_schedule",
            "warning",
            "disabled_schedule_count",
            "Recovery escalation retry schedule is disabled.",
        ),
    ),
    summary_fields=(
        "retryable_count",
        "selected_retry_count",
        "missed_worker_count",
        "failed_execution_count",
        "alert_count",
    ),
    actions=(
        "run recovery escalation retry worker in dry-run mode",
        "record accepted recovery escalation acknowledgement before live retry execution",
        "review failed retry execution records before increasing retry attempts",
        "confirm scheduled executive report delivery retry plans are current",
    ),
    controls={
        "health": (
            "recovery-escalation-retry-health-derived-from-public-safe-metadata",
            "health-report-contains-no-connector-secret-or-private-endpoint",
            "acknowledgement-gaps-are-reported-without-private-incident-payloads",
        ),
        "plan": (
            "recovery-retry-health-alert-routing-derived-from-public-health-metadata",
            "duplicate-suppression-uses-redacted-delivery-metadata",
            "acknowledgements-record-human-or-automation-review",
            "no-connector-credentials-stored-in-recovery-retry-health-alert-plan",
        ),
        "ack": (
            "recovery-retry-health-alert-acknowledgement-records-review-only",
            "no-provider-token-or-secret-stored",
            "retry-worker-recovery-remains-operator-or-private-connector-responsibility",
        ),
        "retry": (
            "recovery-retry-health-alert-retry-plan-derived-from-redacted-delivery-metadata",
            "retry-plan-contains-no-provider-credentials",
            "operator-or-private-connector-executes-alert-redelivery-side-effects",
        ),
        "worker": (
            "recovery-health-alert-delivery-retry-worker-derived-from-redacted-delivery-metadata",
            "dry-run-default-prevents-accidental-health-alert-redelivery",
            "live-health-alert-delivery-retry-requires-explicit-execute-request",
            "worker-run-contains-no-connector-secret-or-private-endpoint",
        ),
        "exec": (
            "recovery-health-alert-delivery-retry-execution-bound-to-worker-run",
            "execution-record-derived-from-public-safe-health-and-delivery-metadata",
            "execution-hash-covers-worker-health-delivery-and-status",
            "record-contains-no-connector-secret-or-private-endpoint",
        ),
    },
)
LOOPS = {"executive": EXECUTIVE, "recovery": RECOVERY}
# Every alert loop, in reportgen's order; the archive loop has no retry machinery and no LoopSpec here.
LOOP_NAMES = ("executive", "recovery", "archive")

# --- the world: providers, people, schedules, proportions --------------------------------------

PROVIDERS = ("email", "opsgenie", "pagerduty", "slack", "teams", "webhook")
PROVIDER_WEIGHTS = (4, 3, 7, 11, 5, 13)
ENDPOINTS: dict[str, tuple[str, dict[str, str]]] = {
    "email": (
        "https://mail-relay.example.com/v1/send",
        {"content-type": "application/json", "authorization": "REDACTED"},
    ),
    "opsgenie": (
        "https://api.opsgenie.com/v2/alerts",
        {"content-type": "application/json", "authorization": "REDACTED"},
    ),
    "pagerduty": (
        "https://events.pagerduty.com/v2/enqueue",
        {"content-type": "application/json", "x-api-key": "REDACTED"},
    ),
    "slack": ("https://hooks.slack.com/services/REDACTED", {"content-type": "application/json"}),
    "teams": (
        "https://contoso.webhook.office.com/webhookb2/cavra-release?REDACTED",
        {"content-type": "application/json"},
    ),
    "webhook": (
        "https://release-hooks.example.com/cavra/go-rollback-drill",
        {"content-type": "application/json", "authorization": "REDACTED"},
    ),
}
SUCCESS_CODES = {
    "email": (202,),
    "opsgenie": (202,),
    "pagerduty": (202,),
    "slack": (200,),
    "teams": (200,),
    "webhook": (200, 202),
}
FAILURE_CODES: tuple[int | None, ...] = (500, 502, 503, 504, 429, 0, None)
FAILURE_WEIGHTS = (5, 6, 6, 3, 2, 2, 1)
OPERATORS = ("mchen", "apatel", "jnovak", "lkim", "sgarcia", "oadeyemi", "rsilva", "tnguyen", "ebrandt", "hsato")

# How an alert drill goes; "clean" means every provider took the first delivery.
SCENARIOS = (
    ("clean", 70.0),
    ("redelivered", 11.0),
    ("exhausted", 3.5),
    ("live_failed", 2.0),
    ("waiting", 3.0),
    ("dry_run", 3.0),
    ("skipped", 2.5),
    ("pending", 1.5),
    ("unretried", 1.5),
    ("healthy", 2.0),
)
# Retry policies: (max_retry_attempts, retry_delay_minutes, backoff_multiplier).
POLICIES = (((3, 15, 2.0), 90.0), ((4, 10, 2.0), 5.0), ((2, 30, 1.5), 5.0))
ACK_PATTERNS = (
    (("acknowledged",), 76.0),
    (("resolved",), 6.0),
    ((), 8.0),
    (("dismissed",), 4.0),
    (("escalated",), 2.0),
    (("dismissed", "acknowledged"), 2.5),
    (("escalated", "resolved"), 1.5),
)
STORIES = (
    ("executive", 42.0),
    ("recovery", 36.0),
    ("notification", 12.0),
    ("other_delivery", 9.0),
    ("final_report", 1.0),
    ("archive", 6.0),
)
MAX_TICKS = 6


@dataclass(frozen=True)
class Profile:
    """How long a drill's retry worker keeps running once its story is told, and what that costs."""

    name: str
    later_runs: int  # at most this many scheduled worker runs after the story's outcome
    refail: float  # the chance that a chain's next live redelivery in those runs fails again
    mean_records_per_story: float  # measured; it spreads the stories over the requested days


# compact stops a drill's worker as soon as the scenario's outcome is reached: short chains, few
# records per drill. reference keeps the scheduled worker running as real drills do (reference §11:
# three runs within the hour; §6.1: later successes are ignored, so a redelivered provider is
# retried again on every run, and some of those redeliveries fail), so chains and drills are longer.
PROFILES = {
    "reference": Profile("reference", later_runs=8, refail=0.2, mean_records_per_story=7.35),
    "compact": Profile("compact", later_runs=0, refail=0.0, mean_records_per_story=5.6),
}
DEFAULT_PROFILE = "reference"
ACK_NOTES = (
    "{provider} alert reviewed by release governance; no further action needed.",
    "{provider} redelivery confirmed by the on-call release manager during the drill review.",
    "Reviewed in the weekly rollback drill sync; {provider} route owner confirmed receipt.",
    "{provider} alert received after redelivery; follow-up tracked in the change record.",
    "Acknowledged from the {provider} channel; drill evidence attached to the release record.",
)
NOTIFICATION_NOTES = (
    "Drill booked for the next maintenance window; {provider} route owner confirmed.",
    "Rollback drill scheduled with release governance; {provider} notification received.",
    "{provider} route acknowledged by the schedule owner; drill calendar updated.",
)


@dataclass(frozen=True)
class Schedule:
    """A rollback-drill notification schedule with its routes."""

    schedule_id: str
    cadence_days: int
    routes: tuple[tuple[str, str, str], ...]  # (provider, owner, route_key)


SCHEDULE_SHAPES = (
    ("go-rollback-drill-prod-weekly", 7, (("webhook", "release-governance"),)),
    ("go-rollback-drill-prod-eu-weekly", 7, (("pagerduty", "sre-eu"), ("slack", "release-governance"))),
    ("go-rollback-drill-staging-daily", 1, (("slack", "platform-oncall"),)),
    (
        "go-rollback-drill-payments-biweekly",
        14,
        (("email", "payments-sre"), ("opsgenie", "payments-sre"), ("webhook", "release-governance")),
    ),
    ("go-rollback-drill-apac-monthly", 30, (("teams", "sre-apac"), ("webhook", "release-governance"))),
    ("go-rollback-drill-data-weekly", 7, (("slack", "data-platform"), ("webhook", "data-platform"))),
)

# --- ids and time ------------------------------------------------------------------------------

EPOCH = datetime(2025, 1, 6, tzinfo=UTC)
SECOND = 1_000_000
MINUTE = 60 * SECOND
DAY = 24 * 60 * MINUTE
BROKEN_ID_BASE = 1 << 44  # broken lines draw ids from their own counter range, so valid ids never move


def _mix(value: int, bits: int) -> int:
    """A bijection on `bits`-bit integers (xor-shifts and odd multipliers), so distinct inputs stay distinct."""
    mask = (1 << bits) - 1
    half = bits // 2
    value = ((value ^ (value >> half)) * 0xBF58476D1CE4E5B9) & mask
    value = ((value ^ (value >> (half - 3))) * 0x94D049BB133111EB) & mask
    return value ^ (value >> half)


class IdSource:
    """Pseudo-hex id suffixes: a counter through a seeded bijection, so no two ids ever collide."""

    def __init__(self, seed: int, start: int = 0) -> None:
        """Derive the offsets from the seed; start counting at `start`."""
        offsets = random.Random(f"cavra-ids:{seed}")
        self._offset64 = offsets.getrandbits(64)
        self._offset48 = offsets.getrandbits(48)
        self._counter = start

    def hex16(self) -> str:
        """16 hex characters, as in most CAVRA ids."""
        self._counter += 1
        return f"{_mix((self._counter + self._offset64) & (2**64 - 1), 64):016x}"

    def hex12(self) -> str:
        """12 hex characters, as in connector delivery ids."""
        self._counter += 1
        return f"{_mix((self._counter + self._offset48) & (2**48 - 1), 48):012x}"


def iso(us: int) -> str:
    """An ISO-8601 UTC timestamp with microseconds, `us` microseconds after the start date."""
    return (EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds")


def iso_plain(us: int) -> str:
    """A timestamp as Python's default isoformat() writes it (no microseconds when they are zero)."""
    return (EPOCH + timedelta(microseconds=us)).isoformat()


def slug(text: str) -> str:
    """Upstream's id slug: lowercase, every non-alphanumeric character turned into '-'."""
    return re.sub(r"[^a-z0-9]", "-", text.lower())


def pick(mapping: Record, keys: Iterable[str]) -> Record:
    """The given keys of a mapping, in the given order: how envelopes copy their nested record's fields."""
    return {key: mapping[key] for key in keys}


def weighted(rng: random.Random, table: tuple[tuple[Any, float], ...]) -> Any:
    """Pick one value of a (value, weight) table."""
    return rng.choices([value for value, _ in table], [weight for _, weight in table])[0]


# --- record builders -------------------------------------------------------------------------


def envelope(session_id: str, at: int, signer: str, counts: tuple[int, int, int], kind: str) -> Record:
    """The stored envelope's common keys, in upstream order (reference §1.2, §2)."""
    return {
        "schema_version": STORE_SCHEMA,
        "product": "CAVRA",
        "session_id": session_id,
        "created_at": iso(at),
        "signer": signer,
        "decision_count": counts[0],
        "blocked_count": counts[1],
        "approval_required_count": counts[2],
        "metadata_kind": kind,
    }


def header(kind: str) -> Record:
    """The first two keys of every nested go-backend record."""
    return {"schema_version": schema_of(kind), "product": "CAVRA"}


@dataclass(frozen=True)
class Attempt:
    """One provider's part of a connector delivery."""

    provider: str
    status_code: int | None
    attempts: int
    started: int
    completed: int

    @property
    def success(self) -> bool:
        """HTTP 2xx."""
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def error(self) -> str | None:
        """Upstream's error text for this status."""
        if self.success:
            return None
        if self.status_code is None:
            return "connector delivery failed"
        if self.status_code == 0:
            return "connector endpoint unreachable"
        return "HTTP 429" if self.status_code == 429 else "HTTP request failed"

    def as_json(self) -> Record:
        """The element of the nested `deliveries` list (reference §3.2)."""
        url, headers = ENDPOINTS[self.provider]
        return {
            "provider": self.provider,
            "success": self.success,
            "status_code": self.status_code,
            "attempt_count": self.attempts,
            "started_at": iso(self.started),
            "completed_at": iso(self.completed),
            "error": self.error,
            "request": {"method": "POST", "url": url, "headers": headers},
        }


@dataclass(frozen=True)
class Event:
    """What a connector delivery is about: its source, type, id and rcd slug."""

    source: str
    event_type: str
    event_id: str
    session_id: str | None

    @property
    def slug(self) -> str:
        """The slug part of the rcd id."""
        return slug(self.event_id)


def delivery_record(session_id: str, at: int, event: Event, attempts: list[Attempt], links: Record) -> Record:
    """Kind A: a release-connector-delivery, with the API's merged link fields (reference §3)."""
    failed = [a.provider for a in attempts if not a.success]
    record = envelope(session_id, at, event.source, (0, len(failed), 0), DELIVERY_KIND)
    record |= {
        "connector_delivery_source": event.source,
        "event_id": event.event_id,
        "event_type": event.event_type,
        "delivery_success": not failed,
        "providers": [a.provider for a in attempts],
        "failed_providers": failed,
        "attempt_count": sum(a.attempts for a in attempts),
        "max_attempt_count": max(a.attempts for a in attempts),
        "status_codes": [a.status_code for a in attempts],
    }
    record["delivery"] = {
        "schema_version": CONNECTOR_SCHEMA,
        "product": "CAVRA",
        "event_type": event.event_type,
        "event_id": event.event_id,
        "session_id": event.session_id,
        "generated_at": iso(at),
        "success": not failed,
        "deliveries": [a.as_json() for a in attempts],
    }
    return record | links


def simulate_attempts(rng: random.Random, outcomes: dict[str, bool], start: int) -> tuple[list[Attempt], int]:
    """Deliver to each provider in alphabetical order; return the attempts and when they finished."""
    attempts, now = [], start
    for provider in sorted(outcomes):
        if outcomes[provider]:
            tries, code = (1 if rng.random() < 0.9 else 2), rng.choice(SUCCESS_CODES[provider])
        else:
            tries, code = 3, rng.choices(FAILURE_CODES, FAILURE_WEIGHTS)[0]
        begun = now + rng.randint(200, 5_000)
        now = begun + tries * rng.randint(40_000, 600_000)
        attempts.append(Attempt(provider, code, tries, begun, now))
    return attempts, now + rng.randint(50, 400)


def health_record(spec: LoopSpec, health_id: str, at: int, actor: str, body: Record) -> Record:
    """Kinds B and E: a retry health envelope around its nested record (reference §4, §7)."""
    blocked = body["failed_execution_count"] + body["missed_worker_count"]
    if spec is EXECUTIVE:
        blocked += body["failed_executive_report_delivery_count"]
        approval, copies = body["retryable_count"], ("failed_execution_count", "failed_executive_report_delivery_count")
    else:
        approval = body["acknowledgement_pending_count"]
        copies = ("failed_execution_count", "acknowledgement_pending_count")
    record = envelope(health_id, at, actor, (body["worker_run_count"], blocked, approval), spec.kind_of("health"))
    record |= {"health_id": health_id, "alert_level": body["alert_level"], "alert_count": body["alert_count"]}
    record |= {key: body[key] for key in copies}
    record[spec.nested_of("health")] = body
    return record


def health_counts(rng: random.Random, spec: LoopSpec, chosen: list[tuple[str, str, str, str]]) -> Record:
    """Plausible health counts in which exactly the chosen alerts' triggers are set."""
    workers = rng.randint(1, 9)
    failed, delivered = rng.randint(0, 2), rng.randint(0, 4)
    counts = {
        "retry_plan_count": rng.randint(1, 9),
        "worker_run_count": workers,
        "execution_record_count": failed + delivered + rng.randint(0, 2),
        "retryable_count": rng.randint(0, 3),
        "selected_retry_count": rng.randint(0, 3),
        "acknowledgement_pending_count": 0,
        "missed_worker_count": 0,
        "stale_retry_plan_count": 0,
        "failed_executive_report_delivery_count": 0,
        # Counted by the recovery health but not an alert trigger (reference §7).
        "failed_recovery_escalation_delivery_count": rng.randint(0, 3),
        "failed_execution_count": 0,
        "delivered_execution_count": delivered,
        "dry_run_count": rng.randint(0, workers),
        "disabled_schedule_count": 0,
    }
    for _, _, trigger, _ in chosen:
        counts[trigger] = 1 if trigger in ("missed_worker_count", "stale_retry_plan_count") else rng.randint(1, 3)
    counts["execution_record_count"] += counts["failed_execution_count"]
    return counts


def health_body(
    rng: random.Random, spec: LoopSpec, ids: IdSource, health_id: str, at: int, actor: str, healthy: bool
) -> Record:
    """The nested retry health record: alerts first, then counts and links that agree with them."""
    chosen = [] if healthy else sorted(rng.sample(spec.alerts, rng.choice((1, 1, 1, 2))), key=spec.alerts.index)
    interval, stale = spec.health_defaults
    counts = health_counts(rng, spec, chosen)
    no_worker = bool(counts["missed_worker_count"]) and rng.random() < 0.3
    level = "critical" if any(a[1] == "critical" for a in chosen) else ("warning" if chosen else "healthy")
    body = header(spec.kind_of("health")) | {
        "health_id": health_id,
        "generated_at": iso(at),
        "generated_by": actor,
        "alert_level": level,
        "expected_interval_minutes": interval,
        "stale_metadata_minutes": stale,
        "latest_worker_run_id": None if no_worker else spec.prefixes["upstream_worker"] + ids.hex16(),
        "latest_worker_age_minutes": None if no_worker else worker_age(rng, interval, counts["missed_worker_count"]),
        "latest_retry_plan_id": spec.prefixes["upstream_retry"] + ids.hex16(),
        "latest_retry_plan_age_minutes": plan_age(rng, stale, counts["stale_retry_plan_count"]),
    }
    body |= pick(counts | {"worker_run_count": 0} if no_worker else counts, HEALTH_FIELDS[spec.name])
    body["alert_count"] = len(chosen)
    body["alerts"] = [{"severity": s, "category": c, "message": m} for c, s, _, m in chosen]
    return body | {"recommended_actions": list(spec.actions), "controls": list(spec.controls["health"])}


def worker_age(rng: random.Random, interval: int, missed: int) -> int:
    """Minutes since the latest upstream worker run: over twice the interval when a run was missed."""
    return rng.randint(2 * interval + 1, 600) if missed else rng.randint(1, 2 * interval)


def plan_age(rng: random.Random, stale_minutes: int, stale: int) -> int:
    """Minutes since the latest upstream retry plan: past the stale threshold when the plan is stale."""
    return rng.randint(stale_minutes + 1, 900) if stale else rng.randint(1, stale_minutes)


HEALTH_FIELDS = {
    "executive": (
        "retry_plan_count",
        "worker_run_count",
        "execution_record_count",
        "retryable_count",
        "selected_retry_count",
        "missed_worker_count",
        "stale_retry_plan_count",
        "failed_executive_report_delivery_count",
        "failed_execution_count",
        "delivered_execution_count",
        "dry_run_count",
        "disabled_schedule_count",
    ),
    "recovery": (
        "retry_plan_count",
        "worker_run_count",
        "execution_record_count",
        "retryable_count",
        "selected_retry_count",
        "acknowledgement_pending_count",
        "missed_worker_count",
        "stale_retry_plan_count",
        "failed_recovery_escalation_delivery_count",
        "failed_execution_count",
        "delivered_execution_count",
        "disabled_schedule_count",
    ),
}


def alert_plan_body(
    spec: LoopSpec, plan_id: str, at: int, actor: str, health: Record, eligible: list[str], requested: str
) -> Record:
    """The nested alert plan; nothing is selected when the health is healthy (reference §5.1)."""
    selected = [] if health["alert_level"] == "healthy" else list(eligible)
    return header(spec.kind_of("plan")) | {
        "plan_id": plan_id,
        "health_id": health["health_id"],
        "generated_at": iso(at),
        "generated_by": actor,
        "source_health_generated_at": health["generated_at"],
        "alert_level": health["alert_level"],
        "summary": pick(health, spec.summary_fields),
        "requested_provider": requested,
        "eligible_providers": eligible,
        "selected_providers": selected,
        "suppressed_providers": [],
        "suppression_window_minutes": 60,
        "force": False,
        "acknowledgement_required_providers": selected,
        "controls": list(spec.controls["plan"]),
    }


def alert_plan_record(spec: LoopSpec, at: int, body: Record) -> Record:
    """Kinds C1 and E2: the alert plan envelope; suppressed providers flattened to names (reference §5.1)."""
    counts = (len(body["eligible_providers"]), 0, len(body["acknowledgement_required_providers"]))
    record = envelope(body["plan_id"], at, body["generated_by"], counts, spec.kind_of("plan"))
    record |= pick(body, ("plan_id", "health_id", "alert_level", "selected_providers"))
    record |= {"suppressed_providers": [], "suppressed_provider_count": 0}
    record |= pick(body, ("acknowledgement_required_providers", "suppression_window_minutes"))
    record[spec.nested_of("plan")] = body
    return record


def alert_ack_record(
    spec: LoopSpec, ack_id: str, at: int, actor: str, links: tuple[str, str, str], state: str, ref: str, notes: str
) -> Record:
    """Kinds C2 and E3: one provider's acknowledgement of a retry health alert (reference §5.2)."""
    health_id, plan_id, provider = links
    body = header(spec.kind_of("ack")) | {
        "acknowledgement_id": ack_id,
        "health_id": health_id,
        "plan_id": plan_id,
        "provider": provider,
        "acknowledgement_state": state,
        "acknowledged_by": actor,
        "acknowledged_at": iso(at),
        "external_ref": ref,
        "notes": notes,
        "controls": list(spec.controls["ack"]),
    }
    record = envelope(ack_id, at, actor, (1, 0, 0), spec.kind_of("ack"))
    copies = ("acknowledgement_id", "health_id", "plan_id", "provider", "acknowledgement_state", "external_ref")
    return record | pick(body, copies) | {"acknowledgement": body}


def retry_plan_body(
    spec: LoopSpec, plan_id: str, at: int, actor: str, policy: tuple[int, int, float], decisions: list[Record]
) -> Record:
    """The nested delivery retry plan (reference §6.1)."""
    actions = Counter(d["action"] for d in decisions)
    level = "critical" if actions["retry"] else ("warning" if actions["wait"] else "healthy")
    return header(spec.kind_of("retry")) | {
        "retry_plan_id": plan_id,
        "generated_at": iso(at),
        "generated_by": actor,
        "alert_level": level,
        "decision_count": len(decisions),
        "retryable_count": actions["retry"],
        "waiting_count": actions["wait"],
        "suppressed_count": actions["suppress"],
        "max_retry_attempts": policy[0],
        "base_retry_delay_minutes": policy[1],
        "allow_immediate_retry": False,
        "backoff_multiplier": policy[2],
        "retry_decisions": decisions,
        "controls": list(spec.controls["retry"]),
    }


def retry_plan_record(spec: LoopSpec, at: int, body: Record) -> Record:
    """Kinds D1 and E4: a delivery retry plan envelope (reference §6.1)."""
    counts = (body["decision_count"], body["suppressed_count"], body["retryable_count"])
    record = envelope(body["retry_plan_id"], at, body["generated_by"], counts, spec.kind_of("retry"))
    record |= {
        key: body[key]
        for key in ("retry_plan_id", "alert_level", "retryable_count", "waiting_count", "suppressed_count")
    }
    record[spec.nested_of("retry")] = body
    return record


def schedule_json(at: int, interval: int, enabled: bool) -> Record:
    """A worker run's schedule: the window the run falls in (reference §6.2)."""
    moment = EPOCH + timedelta(microseconds=at)
    step = 60 if interval >= 60 else interval
    start = moment.replace(minute=moment.minute - moment.minute % step, second=0, microsecond=0)
    return {
        "interval_minutes": interval,
        "window_start": start.isoformat(),
        "window_end": (start + timedelta(minutes=interval)).isoformat(),
        "enabled": enabled,
        "cadence": f"every_{interval}_minutes",
    }


def worker_body(
    spec: LoopSpec, run_id: str, at: int, dry_run: bool, schedule: Record, plan: Record, selected: list[Record]
) -> Record:
    """The nested worker run, embedding the retry plan it used (reference §6.2)."""
    state = "dry_run" if dry_run else spec.execution_state
    follow_ups = [pick(d, ("action", "provider", "health_id", "plan_id", "reason")) for d in plan["retry_decisions"]]
    summary = {
        "retry_plan_count": 1,
        "retryable_count": plan["retryable_count"],
        "waiting_retry_count": plan["waiting_count"],
        "suppressed_retry_count": plan["suppressed_count"],
        "selected_retry_count": len(selected),
        "follow_up_action_count": len(follow_ups),
    }
    return header(spec.kind_of("worker")) | {
        "run_id": run_id,
        "generated_at": iso(at),
        "generated_by": plan["generated_by"],
        "dry_run": dry_run,
        "schedule": schedule,
        "summary": summary,
        "retry_plan": plan,
        "selected_retries": selected,
        "follow_up_actions": [action | {"execution_state": state} for action in follow_ups],
        "controls": list(spec.controls["worker"]),
    }


def worker_record(spec: LoopSpec, at: int, body: Record) -> Record:
    """Kinds D2 and E5: a delivery retry worker run envelope (reference §6.2)."""
    summary = body["summary"]
    counts = (summary["follow_up_action_count"], summary["suppressed_retry_count"], summary["selected_retry_count"])
    record = envelope(body["run_id"], at, body["generated_by"], counts, spec.kind_of("worker"))
    record |= pick(body, ("run_id", "dry_run")) | pick(summary, ("retryable_count", "selected_retry_count"))
    record[spec.nested_of("worker")] = body
    return record


@dataclass(frozen=True)
class Execution:
    """What one live retry of a selected decision did."""

    status: str
    run_id: str
    retry_plan_id: str
    delivery_id: str
    skipped: str


def execution_body(spec: LoopSpec, digest: str, at: int, actor: str, decision: Record, run: Execution) -> Record:
    """The nested execution record of one live retry (reference §6.3)."""
    refs = [spec.refs[0] + run.run_id, spec.refs[1] + decision["health_id"]]
    refs += [f"connector-delivery://{run.delivery_id}"] if run.delivery_id else []
    return header(spec.kind_of("exec")) | {
        "execution_id": spec.prefixes["exec"] + digest[:16],
        "execution_hash": digest,
        "execution_status": run.status,
        "executed_at": iso(at),
        "executed_by": actor,
        "worker_run_id": run.run_id,
        "health_id": decision["health_id"],
        "plan_id": decision["plan_id"],
        "retry_plan_id": run.retry_plan_id,
        "latest_delivery_id": decision["latest_delivery_id"],
        "provider": decision["provider"],
        "skipped": run.skipped,
        "delivery_metadata_id": run.delivery_id,
        "delivery_success": run.status == "delivered",
        "selected_providers": [],  # upstream reads a key connector results do not have (§12 item 8)
        "public_evidence_refs": refs,
        "controls": list(spec.controls["exec"]),
    }


def execution_record(spec: LoopSpec, at: int, body: Record) -> Record:
    """Kinds D3/D4 and E6: an execution record envelope; it copies neither delivery id (reference §6.3)."""
    blocked = int(body["execution_status"] != "delivered")
    record = envelope(body["execution_id"], at, body["executed_by"], (1, blocked, 0), spec.kind_of("exec"))
    copies = ("execution_id", "execution_hash", "execution_status", "worker_run_id", "health_id", "retry_plan_id")
    record |= pick(body, (*copies, "plan_id", "provider", "delivery_success"))
    record[spec.nested_of("exec")] = body
    return record


def external_ref(rng: random.Random) -> str:
    """A change, incident or release ticket, or nothing."""
    if rng.random() < 0.2:
        return ""
    return f"{rng.choice(('CHG', 'INC', 'REL'))}-{rng.randint(10000, 99999)}"


# --- alert drills ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Failure:
    """One failed delivery record of a chain, as the retry plans group them."""

    delivery_id: str
    at: int
    status_codes: list[int | None]
    plan_id: str


@dataclass
class Chain:
    """One (health_id, provider) delivery chain of a drill, and what its retries did."""

    provider: str
    script: list[bool] = field(default_factory=list)  # outcomes of the next redeliveries; success once used up
    outcomes: list[tuple[int, bool]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    action: str | None = None  # the chain's decision in the latest retry plan
    selected_live: bool = False
    selected_dry: bool = False
    executions: list[bool] = field(default_factory=list)  # delivered or not, oldest first

    def next_outcome(self) -> bool:
        """The outcome of the next redelivery."""
        return self.script.pop(0) if self.script else True

    @property
    def open(self) -> bool:
        """Whether the latest outcome is a failure."""
        return bool(self.outcomes) and not self.outcomes[-1][1]

    def state(self) -> str:
        """An open chain's retry state as reportgen defines it: the latest decision, then the key's workers."""
        if self.action is None:
            return "execution_failed" if False in self.executions else "no_retry_plan"
        if self.action != "retry":
            return "exhausted" if self.action == "suppress" else "waiting"
        if self.executions and not self.executions[-1]:
            return "execution_failed"
        return "dry_run_only" if self.selected_dry and not self.selected_live else "retry_pending"


@dataclass
class Tick:
    """What one worker run decided and did."""

    actions: Counter[str]
    selected: int
    failed_executions: int


class Drill:
    """One alert drill of one loop, simulated with upstream's retry rules, and its ground truth."""

    def __init__(self, gen: EvidenceGenerator, spec: LoopSpec, start: int) -> None:
        """Choose how the drill goes: its providers, scenario, policy and people."""
        self.rng, self.ids, self.spec, self.now = gen.rng, gen.ids, spec, start
        self.profile = gen.profile
        self.records: list[tuple[int, Record]] = []
        self.scenario: str = weighted(self.rng, SCENARIOS)
        self.persisted = self.scenario != "skipped"
        self.policy: tuple[int, int, float] = weighted(self.rng, POLICIES)
        self.actor = self.rng.choice(OPERATORS)
        self.runner = self.rng.choice((self.actor, self.actor, "scheduler"))
        self.max_selected = self.rng.choice((5, 5, 5, 5, 5, 2, 1))
        count = self.rng.choice((1, 1, 1, 2, 2, 3))
        self.providers = sorted(set(self.rng.choices(PROVIDERS, PROVIDER_WEIGHTS, k=count)))
        self.health_id = spec.prefixes["health"] + self.ids.hex16()
        self.plan_id = spec.prefixes["plan"] + self.ids.hex16()
        self.chains = {p: Chain(p) for p in self.providers}
        self.required: list[str] = []
        self.outstanding = 0
        self.failed_deliveries = self.failed_executions = 0

    def run(self) -> Drill:
        """Tell the whole story."""
        self.alert()
        if any(c.failures for c in self.chains.values()):
            self.retry()
        self.acknowledge()
        return self

    def emit(self, at: int, record: Record) -> None:
        """Add a record to the drill."""
        self.records.append((at, record))

    def event(self) -> Event:
        """The alert event: executive events have no session_id, recovery events carry the health id."""
        if self.spec is EXECUTIVE:
            return Event(self.spec.source, self.spec.event_type, self.spec.event_type, None)
        return Event(self.spec.source, self.spec.event_type, self.health_id, self.health_id)

    def alert(self) -> None:
        """The health, the alert plan and the first delivery to every selected provider."""
        body = health_body(
            self.rng, self.spec, self.ids, self.health_id, self.now, self.actor, self.scenario == "healthy"
        )
        if self.persisted:
            self.emit(self.now, health_record(self.spec, self.health_id, self.now, self.actor, body))
        requested = "all" if self.rng.random() < 0.7 else ",".join(self.providers)
        self.now += self.rng.randint(5_000, 25_000)
        plan = alert_plan_body(self.spec, self.plan_id, self.now, self.actor, body, self.providers, requested)
        self.emit(self.now, alert_plan_record(self.spec, self.now, plan))
        self.required = plan["acknowledgement_required_providers"]
        if not self.required:
            return
        failing = self.choose_failing()
        self.deliver(
            {p: p not in failing for p in self.required}, {"health_id": self.health_id, "plan_id": self.plan_id}
        )

    def choose_failing(self) -> list[str]:
        """Which providers fail the first delivery, and the scripts of their redeliveries."""
        if self.scenario in ("clean", "healthy"):
            return []
        failing = self.rng.sample(self.providers, self.rng.choice((1, 1, 1, 2)) if len(self.providers) > 1 else 1)
        for provider in failing:
            chain, to_exhaust = self.chains[provider], self.policy[0] - 1
            if self.scenario == "redelivered":
                chain.script = [False] if self.rng.random() < 0.3 else []
            elif self.scenario in ("exhausted", "live_failed"):
                chain.script = [False] * to_exhaust
        if self.scenario == "exhausted" and len(failing) > 1 and self.rng.random() < 0.5:
            self.chains[failing[-1]].script = []
        return failing

    def deliver(self, outcomes: dict[str, bool], links: Record) -> tuple[str, bool]:
        """One connector delivery record, every provider's outcome joining its chain; its id and success."""
        attempts, at = simulate_attempts(self.rng, outcomes, self.now + self.rng.randint(50_000, 900_000))
        event = self.event()
        delivery_id = f"rcd-{event.slug}-{self.ids.hex12()}"
        record = delivery_record(delivery_id, at, event, attempts, links)
        self.emit(at, record)
        self.now = at
        self.failed_deliveries += not record["delivery_success"]
        for attempt in attempts:
            chain = self.chains[attempt.provider]
            chain.outcomes.append((at, attempt.success))
            if not attempt.success:
                chain.failures.append(Failure(delivery_id, at, record["status_codes"], links["plan_id"]))
        return delivery_id, record["delivery_success"]

    def decide(self, at: int) -> list[Record]:
        """Upstream's retry decisions at `at`, one per chain with a failed delivery, by provider (reference §6.1)."""
        return [self.decision(chain, at) for _, chain in sorted(self.chains.items()) if chain.failures]

    def decision(self, chain: Chain, at: int) -> Record:
        """Retry, wait or suppress one chain: by its failure count, backoff and latest failed delivery."""
        limit, base, multiplier = self.policy
        count, latest = len(chain.failures), chain.failures[-1]
        delay = base * multiplier ** (count - 1)
        due = latest.at + round(delay * MINUTE)
        if count >= limit:
            action, reason = "suppress", f"maximum retry attempts {limit} reached"
        elif at < due:
            action, reason = "wait", f"retry delay {int(delay)} minutes has not elapsed"
        else:
            action, reason = "retry", self.spec.retry_reason
        return {
            "health_id": self.health_id,
            "plan_id": latest.plan_id,
            "provider": chain.provider,
            "action": action,
            "reason": reason,
            "retry_count": count,
            "max_retry_attempts": limit,
            "retry_delay_minutes": int(delay),
            "latest_delivery_id": latest.delivery_id,
            "latest_delivery_at": iso(latest.at),
            "next_retry_at": iso(due),
            "failed_status_codes": latest.status_codes,
        }

    def retry(self) -> None:
        """What happened after the first delivery failed, by scenario."""
        base, last_failure = self.policy[1], max(c.failures[-1].at for c in self.chains.values() if c.failures)
        if self.scenario == "waiting":
            self.worker(last_failure + self.rng.randint(MINUTE, (base - 1) * MINUTE), dry_run=self.rng.random() < 0.5)
        elif self.scenario == "pending":
            at = last_failure + self.rng.randint((base + 1) * MINUTE, (base + 45) * MINUTE)
            body = retry_plan_body(
                self.spec, self.spec.prefixes["retry"] + self.ids.hex16(), at, self.actor, self.policy, self.decide(at)
            )
            self.emit(at, retry_plan_record(self.spec, at, body))
            for decision in body["retry_decisions"]:
                self.chains[decision["provider"]].action = decision["action"]
            self.now = at
        elif self.scenario != "unretried":
            self.ticks()

    def ticks(self) -> None:
        """Scheduled worker runs until the scenario's story is told, then the profile's later runs."""
        interval, dry_run = self.rng.choice((30, 30, 30, 60)), self.scenario == "dry_run"
        self.tell(interval, dry_run)
        self.keep_running(interval, dry_run)

    def next_run(self, interval: int) -> int:
        """When the scheduled worker next runs: shortly after the next interval boundary."""
        boundary = (self.now // (interval * MINUTE) + 1) * interval * MINUTE
        return boundary + self.rng.randint(20_000, 900_000)

    def tell(self, interval: int, dry_run: bool) -> None:
        """Worker runs until the scenario's outcome is reached (at most MAX_TICKS)."""
        wanted, done = self.rng.randint(1, 3), 0
        for _ in range(MAX_TICKS):
            tick = self.worker(self.next_run(interval), dry_run, interval)
            done += tick.selected > 0
            if self.scenario == "redelivered" and not any(c.open for c in self.chains.values()):
                return
            if (self.scenario == "exhausted" and tick.actions["suppress"]) or (
                self.scenario == "live_failed" and tick.failed_executions
            ):
                return
            if self.scenario in ("dry_run", "skipped") and done >= wanted:
                return
            if not (tick.actions["retry"] or tick.actions["wait"]):
                return  # every chain is suppressed: later runs would change nothing

    def keep_running(self, interval: int, dry_run: bool) -> None:
        """The profile's later scheduled runs: delivered chains retried again, some failing anew."""
        if not self.profile.later_runs:
            return  # compact: no draws at all, so its records stay exactly as they were
        for _ in range(self.rng.randint(0, self.profile.later_runs)):
            for chain in self.chains.values():
                if not chain.script and self.rng.random() < self.profile.refail:
                    chain.script = [False]
            tick = self.worker(self.next_run(interval), dry_run, interval)
            if not (tick.actions["retry"] or tick.actions["wait"]):
                return  # every chain is suppressed: the operator stops the worker

    def worker(self, at: int, dry_run: bool, interval: int = 30) -> Tick:
        """One worker run: its retry plan, then a redelivery and an execution record per selected retry."""
        decisions = self.decide(at)
        selected = [d for d in decisions if d["action"] == "retry"][: self.max_selected]
        plan = retry_plan_body(
            self.spec, self.spec.prefixes["retry"] + self.ids.hex16(), at, self.runner, self.policy, decisions
        )
        run_id = self.spec.prefixes["worker"] + self.ids.hex16()
        schedule = schedule_json(at, interval, self.rng.random() > 0.02)
        self.emit(at, retry_plan_record(self.spec, at, plan))
        self.emit(
            at, worker_record(self.spec, at, worker_body(self.spec, run_id, at, dry_run, schedule, plan, selected))
        )
        for decision in decisions:
            self.chains[decision["provider"]].action = decision["action"]
        for decision in selected:
            chain = self.chains[decision["provider"]]
            chain.selected_live, chain.selected_dry = chain.selected_live or not dry_run, chain.selected_dry or dry_run
        self.now, failed = at + self.rng.randint(3_000, 15_000), 0
        for decision in [] if dry_run else selected:
            failed += not self.redeliver(decision, run_id, plan["retry_plan_id"])
        return Tick(Counter(d["action"] for d in decisions), len(selected), failed)

    def redeliver(self, decision: Record, run_id: str, retry_plan_id: str) -> bool:
        """A live retry: a new delivery and its execution record, or a skip when the health is not stored."""
        chain = self.chains[decision["provider"]]
        if not self.persisted:
            self.now += self.rng.randint(1_000, 6_000)
            run = Execution("skipped", run_id, retry_plan_id, "", self.spec.skip_reason)
        else:
            links = {
                "health_id": self.health_id,
                "plan_id": decision["plan_id"],
                "retry_plan_id": retry_plan_id,
                "worker_run_id": run_id,
            }
            delivery_id, success = self.deliver({chain.provider: chain.next_outcome()}, links)
            self.now += self.rng.randint(800, 3_000)
            run = Execution("delivered" if success else "failed", run_id, retry_plan_id, delivery_id, "")
        digest = self.ids.hex16() + f"{self.rng.getrandbits(192):048x}"
        body = execution_body(self.spec, digest, self.now, self.runner, decision, run)
        self.emit(self.now, execution_record(self.spec, self.now, body))
        delivered = run.status == "delivered"
        chain.outcomes.append((self.now, delivered))
        chain.executions.append(delivered)
        self.failed_executions += not delivered
        return delivered

    def acknowledge(self) -> None:
        """Each required provider's acknowledgements, some missing, dismissed or escalated."""
        start = self.now
        for provider in self.required:
            states: tuple[str, ...] = weighted(self.rng, ACK_PATTERNS)
            at = start + self.rng.randint(3 * MINUTE, 240 * MINUTE)
            for state in states:
                actor = self.rng.choice(OPERATORS)
                ref = external_ref(self.rng)
                notes = self.rng.choice(ACK_NOTES).format(provider=provider.capitalize())
                ack_id = self.spec.prefixes["ack"] + self.ids.hex16()
                self.emit(
                    at,
                    alert_ack_record(
                        self.spec, ack_id, at, actor, (self.health_id, self.plan_id, provider), state, ref, notes
                    ),
                )
                at += self.rng.randint(10 * MINUTE, 300 * MINUTE)
            self.outstanding += not any(state in CLEARING for state in states)

    def commit(self, gen: EvidenceGenerator) -> None:
        """Add this drill's ground truth to the generator's."""
        truth, loop = gen.truth, self.spec.name
        for chain in self.chains.values():
            if not chain.outcomes:
                continue
            truth.chains[loop] += 1
            truth.failed_chains[loop] += any(not ok for _, ok in chain.outcomes)
            if chain.open:
                truth.open_chains[loop] += 1
                truth.open_states[f"{loop}:{chain.state()}"] += 1
        truth.required_acks[loop] += len(self.required)
        truth.outstanding_acks[loop] += self.outstanding
        # One plan per health, so upstream's count (every plan, or the latest per health) is the same.
        truth.upstream_outstanding_acks[loop] += self.outstanding
        truth.failed_delivery_records[loop] += self.failed_deliveries
        truth.failed_execution_records[loop] += self.failed_executions
        truth.unpersisted_health[loop] += not self.persisted
        gen.tally.add(self)


# --- other stories -----------------------------------------------------------------------------


class Story:
    """A story without alert-loop truth: its records, and what it changes when accepted."""

    def __init__(self, records: list[tuple[int, Record]], on_commit: Callable[[], None] | None = None) -> None:
        """Hold the records and the commit action."""
        self.records = records
        self._on_commit = on_commit

    def commit(self, gen: EvidenceGenerator) -> None:
        """Apply the story's effect on the truth and the tally."""
        if self._on_commit is not None:
            self._on_commit()


def other_delivery(gen: EvidenceGenerator, start: int) -> Story:
    """One delivery of another source: an executive report or a recovery escalation redelivery."""
    rng, ids = gen.rng, gen.ids
    if rng.random() < 0.6:
        event_id = "gordackexecsched-" + ids.hex16()
        event = Event(
            EXEC_REPORT_SOURCE, "cavra.go_backend.rollback_drill.recovery_executive_report", event_id, event_id
        )
    else:
        event_id = "gordackrecoveryesc-" + ids.hex16()
        event_type = "cavra.go_backend.rollback_drill.acknowledgement_audit_recovery_escalation"
        event = Event(ESCALATION_SOURCE, event_type, event_id, event_id)
    providers = sorted(set(rng.choices(PROVIDERS, PROVIDER_WEIGHTS, k=rng.choice((1, 1, 2)))))
    attempts, at = simulate_attempts(rng, {p: rng.random() < 0.85 for p in providers}, start)
    return Story([(at, delivery_record(f"rcd-{event.slug}-{ids.hex12()}", at, event, attempts, {}))])


def notification_routes(schedule: Schedule, status: str, rng: random.Random) -> list[Record]:
    """The schedule's owner routes with the plan's decision for each (reference §8.1)."""
    decisions = []
    for provider, owner, route_key in schedule.routes:
        maintenance = status != "ready" and rng.random() < 0.05
        window = (
            {"start": "02:00", "end": "04:00", "timezone": "UTC", "reason": "quarterly database maintenance"}
            if maintenance
            else None
        )
        route = {
            "route_key": route_key,
            "schedule_id": schedule.schedule_id,
            "provider": provider,
            "owner": owner,
            "acknowledgement_minutes": 60 if status == "due_soon" else 30,
            "escalation_owner": "release-governance",
            "maintenance_window": window,
            "owner_availability": {"available": True, "reason": "no owner calendar configured"},
        }
        if status == "ready" or maintenance:
            reason = "maintenance window active" if maintenance else "rollback drill is current"
            decisions.append(route | {"action": "suppress", "reason": reason})
        else:
            reason = (
                "rollback drill is overdue" if status == "needs_attention" else "rollback drill is stale or due soon"
            )
            decisions.append(route | {"action": "deliver", "reason": reason})
    return decisions


def route_counts(decisions: list[Record]) -> Record:
    """The four route counts of a notification plan."""
    delivered = sum(d["action"] == "deliver" for d in decisions)
    return {
        "deliverable_route_count": delivered,
        "suppressed_route_count": len(decisions) - delivered,
        "maintenance_suppressed_count": sum(d["maintenance_window"] is not None for d in decisions),
        "calendar_suppressed_count": 0,
    }


def notification_plan_body(schedule: Schedule, plan_id: str, at: int, status: str, rng: random.Random) -> Record:
    """The nested notification plan: one decision per owner route (reference §8.1)."""
    decisions = notification_routes(schedule, status, rng)
    eligible = [provider for provider, _, _ in schedule.routes]
    selected = [d["provider"] for d in decisions if d["action"] == "deliver"]
    next_due = (at // DAY + schedule.cadence_days) * DAY + 8 * 60 * MINUTE
    return header(NOTIFICATION_PLAN_KIND) | {
        "plan_id": plan_id,
        "schedule_id": schedule.schedule_id,
        "generated_at": iso(at),
        "generated_by": "console",
        "status": status,
        "alert_level": {"needs_attention": "critical", "due_soon": "warning"}.get(status, "healthy"),
        "eligible_providers": eligible,
        "selected_providers": selected,
        "acknowledgement_required_providers": selected,
        "suppressed_providers": [provider for provider in eligible if provider not in selected],
        "owners": sorted({owner for _, owner, _ in schedule.routes}),
        "owner_routes": [{k: v for k, v in d.items() if k not in ("action", "reason")} for d in decisions],
        "route_decisions": decisions,
        **route_counts(decisions),
        "next_due_at": iso_plain(next_due),
        "reason": decisions[0]["reason"],
        "controls": list(NOTIFICATION_CONTROLS),
    }


def notification_plan_record(at: int, body: Record) -> Record:
    """Kind F1: a notification plan envelope (reference §8.1)."""
    level = body["alert_level"]
    counts = (len(body["eligible_providers"]), int(level == "critical"), int(level == "warning"))
    record = envelope(body["plan_id"], at, body["generated_by"], counts, NOTIFICATION_PLAN_KIND)
    copies = ("plan_id", "schedule_id", "alert_level", "selected_providers", "acknowledgement_required_providers")
    record |= pick(body, (*copies, *route_counts(body["route_decisions"])))
    return record | {"plan": body}


NOTIFICATION_CONTROLS = (
    "routing-policy-derived-from-public-safe-owner-metadata",
    "maintenance-windows-contain-no-provider-credentials",
    "owner-calendars-are-public-safe-availability-metadata",
    "notification-plan-does-not-mutate-runtime-mode",
)


def notification_ack(
    ack_id: str, at: int, actor: str, links: tuple[str, str, str], state: str, ref: str, notes: str
) -> Record:
    """Kind F2: a notification acknowledgement (reference §8.2); it has no controls."""
    schedule_id, plan_id, provider = links
    body = header(NOTIFICATION_ACK_KIND) | {
        "acknowledgement_id": ack_id,
        "schedule_id": schedule_id,
        "plan_id": plan_id,
        "provider": provider,
        "acknowledged_by": actor,
        "acknowledgement_state": state,
        "acknowledged_at": iso(at),
        "external_ref": ref,
        "notes": notes,
    }
    record = envelope(ack_id, at, actor, (1, 0, 0), NOTIFICATION_ACK_KIND)
    copies = ("acknowledgement_id", "schedule_id", "plan_id", "provider", "acknowledgement_state")
    return record | pick(body, copies) | {"acknowledgement": body}


def notification_acks(gen: EvidenceGenerator, plan: Record, at: int) -> tuple[list[tuple[int, Record]], list[str]]:
    """The selected routes' acknowledgements, mostly acknowledged; also the providers they cleared."""
    rng, records, cleared = gen.rng, [], []
    for provider in plan["selected_providers"]:
        state = weighted(rng, (("acknowledged", 85.0), (None, 10.0), ("dismissed", 5.0)))
        if state is None:
            continue
        at += rng.randint(5 * MINUTE, 300 * MINUTE)
        notes = rng.choice(NOTIFICATION_NOTES).format(provider=provider.capitalize())
        links = (plan["schedule_id"], plan["plan_id"], provider)
        ack_id, actor, ref = "gordack-" + gen.ids.hex16(), rng.choice(OPERATORS), f"CHG-{rng.randint(10000, 99999)}"
        records.append((at, notification_ack(ack_id, at, actor, links, state, ref, notes)))
        cleared += [provider] if state in CLEARING else []
    return records, cleared


def notification_drill(gen: EvidenceGenerator, start: int) -> Story:
    """A notification plan, its delivery to the selected routes and the routes' acknowledgements."""
    rng, ids = gen.rng, gen.ids
    schedule = rng.choice(gen.schedules)
    status = weighted(rng, (("due_soon", 50.0), ("needs_attention", 25.0), ("ready", 25.0)))
    plan = notification_plan_body(schedule, "gordn-" + ids.hex16(), start, status, rng)
    records, selected = [(start, notification_plan_record(start, plan))], plan["selected_providers"]
    if not selected:
        return Story(records, lambda: gen.truth.notification_plan(schedule.schedule_id, [], []))
    sid = schedule.schedule_id
    event = Event(NOTIFICATION_SOURCE, "cavra.go_backend.rollback_drill.notification", sid, sid)
    outcomes = {provider: rng.random() < 0.93 for provider in selected}
    attempts, at = simulate_attempts(rng, outcomes, start + rng.randint(SECOND // 10, SECOND))
    records.append((at, delivery_record(f"rcd-{event.slug}-{ids.hex12()}", at, event, attempts, {})))
    acks, cleared = notification_acks(gen, plan, at)
    return Story(records + acks, lambda: gen.truth.notification_plan(sid, selected, cleared))


# --- final reporting ---------------------------------------------------------------------------

CLOSURE_ACTIONS = (
    "retry failed executive retry health alert deliveries",
    "acknowledge executive retry health alerts after release governance review",
    "review failed final reporting retry executions before closing rollback drill reporting",
    "acknowledge archive reference health alerts before final closeout",
)
CHECK_TEXT = {
    "final_reporting_closure_state": (
        "Final reporting closure state",
        "Resolve final closure open items before release closure.",
    ),
    "executive_retry_health_alert_delivery": (
        "Executive retry health alert delivery",
        "Retry failed executive retry health alert deliveries.",
    ),
    "executive_retry_health_alert_retry_execution": (
        "Executive retry health alert retry execution",
        "Review failed executive retry health alert retry executions.",
    ),
    "recovery_retry_health_alert_retry_execution": (
        "Recovery retry health alert retry execution",
        "Review failed recovery retry health alert retry executions.",
    ),
    "notification_acknowledgements": (
        "Notification acknowledgements",
        "Acknowledge or resolve outstanding rollback drill routes.",
    ),
    "release_readiness_artifacts": (
        "Release readiness artifacts",
        "Attach this summary and the operator runbook export to the release record.",
    ),
}
RELEASE_DECISIONS = {
    False: {"recommended_state": "approve_release_closure", "reason": "final rollback drill reporting loop is closed"},
    True: {
        "recommended_state": "hold_release_closure",
        "reason": "final rollback drill reporting loop has unresolved blockers",
    },
}
READINESS_CONTROLS = (
    "release-readiness-summary-derived-from-public-safe-metadata",
    "release-readiness-summary-contains-no-connector-secret-or-private-endpoint",
    "release-readiness-summary-does-not-execute-rollback-or-connector-side-effects",
)
RUNBOOK_CONTROLS = (
    "operator-runbook-export-derived-from-public-safe-metadata",
    "operator-runbook-export-contains-no-connector-secret-or-private-endpoint",
    "operator-runbook-export-does-not-execute-rollback-or-connector-side-effects",
)
RUNBOOK_SECTIONS = (
    (
        "Purpose",
        (
            "Use this public-safe runbook export to review the completed rollback drill reporting loop.",
            "Do not place connector credentials, customer data, private endpoints, or enterprise implementation details in this document.",
        ),
    ),
    (
        "Operator Steps",
        (
            "Review failed checks and open items.",
            "Retry failed executive or recovery health alert deliveries through configured connectors.",
            "Acknowledge executive and recovery retry health alerts after release governance review.",
            "Attach readiness summary and runbook export evidence to the release record.",
        ),
    ),
    (
        "Evidence To Attach",
        (
            "Final reporting closure dashboard JSON.",
            "Release readiness summary JSON.",
            "Operator runbook export JSON or Markdown.",
            "Relevant connector delivery and retry execution evidence references.",
        ),
    ),
    (
        "Private Boundary",
        (
            "Keep connector secrets, private URLs, customer payloads, and enterprise automation outside the Community repository.",
            "Perform credential rotation, ticket mutation, and chat updates through private connectors or operator-owned systems.",
        ),
    ),
)


@dataclass
class Tally:
    """What the drills since the last final report left, as the readiness summaries report it."""

    exec_failed_deliveries: int = 0
    exec_failed_executions: int = 0
    rec_failed_executions: int = 0
    exec_outstanding: int = 0
    rec_outstanding: int = 0
    exec_retry_plans: int = 0
    exec_worker_runs: int = 0
    rec_worker_runs: int = 0
    archive_failed_deliveries: int = 0
    archive_outstanding: int = 0
    runbook_exports: int = 0

    def add(self, drill: Drill) -> None:
        """Count one accepted drill."""
        kinds = Counter(record["metadata_kind"] for _, record in drill.records)
        if drill.spec is EXECUTIVE:
            self.exec_failed_deliveries += drill.failed_deliveries
            self.exec_failed_executions += drill.failed_executions
            self.exec_outstanding += drill.outstanding
            self.exec_retry_plans += kinds[drill.spec.kind_of("retry")]
            self.exec_worker_runs += kinds[drill.spec.kind_of("worker")]
        else:
            self.rec_failed_executions += drill.failed_executions
            self.rec_outstanding += drill.outstanding
            self.rec_worker_runs += kinds[drill.spec.kind_of("worker")]

    def add_archive(self, story: ArchiveStory) -> None:
        """Count one accepted archive story, by upstream's every-record and every-plan rules."""
        self.archive_failed_deliveries += story.failed_deliveries
        self.archive_outstanding += story.upstream_outstanding()

    def evidence_counts(self) -> Record:
        """The summary's evidence counts; the history total is always 6 upstream (§12 item 10)."""
        return {
            "notification_history_total": 6,
            "executive_retry_health_alert_retry_plan_count": self.exec_retry_plans,
            "executive_retry_health_alert_retry_worker_run_count": self.exec_worker_runs,
            "recovery_retry_health_alert_retry_worker_run_count": self.rec_worker_runs,
            "operator_runbook_export_count": self.runbook_exports,
        }

    def open_items(self) -> list[str]:
        """The closure dashboard's open items, in upstream order (reference §10.4)."""
        items = [
            ("executive_retry_health_alert_delivery_failed", self.exec_failed_deliveries),
            ("executive_retry_health_alert_acknowledgement_outstanding", self.exec_outstanding),
            ("executive_retry_health_alert_retry_execution_failed", self.exec_failed_executions),
            ("recovery_retry_health_alert_acknowledgement_outstanding", self.rec_outstanding),
            ("final_archive_health_alert_delivery_failed", self.archive_failed_deliveries),
            ("final_archive_health_alert_acknowledgement_outstanding", self.archive_outstanding),
        ]
        return [code for code, count in items if count]


def check(check_id: str, failed: bool, evidence: str) -> Record:
    """One readiness check in upstream's words."""
    title, action = CHECK_TEXT[check_id]
    return {
        "id": check_id,
        "title": title,
        "status": "fail" if failed else "pass",
        "evidence": evidence,
        "operator_action": action,
    }


def readiness_checks(tally: Tally, closure: str, notification_outstanding: int) -> list[Record]:
    """The six readiness checks, in upstream order (reference §10.4)."""
    counted = (
        ("executive_retry_health_alert_delivery", "failed_delivery_count", tally.exec_failed_deliveries),
        ("executive_retry_health_alert_retry_execution", "failed_execution_count", tally.exec_failed_executions),
        ("recovery_retry_health_alert_retry_execution", "failed_execution_count", tally.rec_failed_executions),
        ("notification_acknowledgements", "outstanding_acknowledgement_count", notification_outstanding),
    )
    checks = [check("final_reporting_closure_state", closure != "closed", f"closure_state={closure}")]
    checks += [check(check_id, count > 0, f"{name}={count}") for check_id, name, count in counted]
    checks.append(
        check("release_readiness_artifacts", False, "summary generated from public-safe rollback drill metadata")
    )
    return checks


def readiness_body(tally: Tally, summary_id: str, at: int, actor: str, notification_outstanding: int) -> Record:
    """The nested release-readiness summary (reference §9.1, example G1)."""
    open_items = tally.open_items()
    closure = "open" if open_items else "closed"
    checks = readiness_checks(tally, closure, notification_outstanding)
    failed = sum(c["status"] == "fail" for c in checks)
    return header(READINESS_KIND) | {
        "summary_id": summary_id,
        "generated_at": iso(at),
        "generated_by": actor,
        "readiness_state": "blocked" if failed else "ready",
        "alert_level": "critical" if failed else "healthy",
        "check_count": len(checks),
        "passed_check_count": len(checks) - failed,
        "failed_check_count": failed,
        "warning_check_count": 0,
        "closure_state": closure,
        "open_item_count": len(open_items),
        "open_items": open_items,
        "checks": checks,
        "release_decision": RELEASE_DECISIONS[bool(failed)],
        "evidence_counts": tally.evidence_counts(),
        "recommended_actions": list(CLOSURE_ACTIONS),
        "controls": list(READINESS_CONTROLS),
    }


def readiness_record(body: Record, at: int) -> Record:
    """Kind G1: the readiness summary envelope (reference §9.1)."""
    counts = (body["check_count"], body["failed_check_count"], int(body["readiness_state"] != "ready"))
    record = envelope(body["summary_id"], at, body["generated_by"], counts, READINESS_KIND)
    copies = ("summary_id", "readiness_state", "alert_level", "failed_check_count", "warning_check_count")
    record |= pick(body, (*copies, "closure_state", "open_item_count"))
    return record | {"final_reporting_release_readiness_summary": body}


def runbook_markdown(body: Record, sections: list[Record]) -> str:
    """The export's Markdown, laid out exactly as upstream writes it (example G2)."""
    lines = [
        "# CAVRA Rollback Drill Final Reporting Runbook Export",
        "",
        f"- Generated at: {body['generated_at']}",
        f"- Generated by: {body['generated_by']}",
        f"- Readiness state: {body['readiness_state']}",
        f"- Closure state: {body['closure_state']}",
        "",
    ]
    for section in sections:
        lines += [f"## {section['title']}", "", *(f"- {item}" for item in section["items"]), ""]
    lines += ["## Checks", ""]
    lines += [
        f"- {c['id']}: {c['status']} - {c['evidence']} - {c['operator_action']}"
        for c in body["readiness_summary"]["checks"]
    ]
    return "\n".join(lines) + "\n"


def runbook_body(summary: Record, export_id: str, at: int) -> Record:
    """The nested operator runbook export; it embeds the summary and shares its time (reference §9.2)."""
    gate = [
        f"Readiness state: {summary['readiness_state']}",
        f"Closure state: {summary['closure_state']}",
        f"Failed checks: {summary['failed_check_count']}",
    ]
    sections = [{"title": title, "items": list(items)} for title, items in RUNBOOK_SECTIONS]
    sections.insert(1, {"title": "Readiness Gate", "items": gate})
    body = header(RUNBOOK_KIND) | {
        "export_id": export_id,
        "generated_at": iso(at),
        "generated_by": summary["generated_by"],
        "readiness_summary": summary,
        "readiness_summary_id": summary["summary_id"],
        "readiness_state": summary["readiness_state"],
        "closure_state": summary["closure_state"],
        "sections": sections,
    }
    body["markdown"] = runbook_markdown(body, sections)
    body["public_evidence_refs"] = [
        f"go-rollback-drill-final-readiness://{summary['summary_id']}",
        "go-rollback-drill-final-closure-dashboard://latest",
    ]
    return body | {"controls": list(RUNBOOK_CONTROLS)}


def runbook_record(body: Record, at: int) -> Record:
    """Kind G2: the operator runbook export envelope (reference §9.2)."""
    not_ready = int(body["readiness_state"] != "ready")
    counts = (len(body["sections"]), not_ready, not_ready)
    record = envelope(body["export_id"], at, body["generated_by"], counts, RUNBOOK_KIND)
    record |= pick(body, ("export_id", "readiness_summary_id", "readiness_state", "closure_state"))
    return record | {"section_count": len(body["sections"]), "final_reporting_operator_runbook_export": body}


def final_report(gen: EvidenceGenerator, start: int) -> Story:
    """A readiness summary, usually persisted by a runbook export that embeds it."""
    rng, ids = gen.rng, gen.ids
    actor = rng.choice(OPERATORS)
    summary = readiness_body(
        gen.tally, "gordackfinalready-" + ids.hex16(), start, actor, gen.truth.notification_outstanding()
    )
    records = [(start, readiness_record(summary, start))]
    exported = rng.random() < 0.7
    if exported:
        records.append(
            (start, runbook_record(runbook_body(summary, "gordackfinalrunbook-" + ids.hex16(), start), start))
        )

    def reset() -> None:
        """Start counting afresh after a final report."""
        gen.tally = Tally(runbook_exports=gen.tally.runbook_exports + exported)

    return Story(records, reset)


# --- the archive reference health alert loop (kind H) ----------------------------------------

ARCHIVE_HEALTH_KIND = f"{PREFIX}-final-reporting-archive-reference-health"
ARCHIVE_KINDS = {
    "reference": f"{PREFIX}-final-reporting-immutable-archive-reference",
    "health": ARCHIVE_HEALTH_KIND,
    "plan": f"{ARCHIVE_HEALTH_KIND}-alert-plan",
    "ack": f"{ARCHIVE_HEALTH_KIND}-alert-ack",
}
ARCHIVE_SOURCE = "go_backend_rollback_drill_acknowledgement_audit_final_reporting_archive_reference_health_alert"
ARCHIVE_EVENT_TYPE = "cavra.go_backend.rollback_drill.final_reporting.archive_reference_health_alert"
ARCHIVE_CONTROLS = {
    "reference": (
        "immutable-archive-reference-records-external-pointer-only",
        "archive-reference-does-not-store-customer-payloads-or-connector-secrets",
        "archive-reference-bound-to-verified-auditor-export",
        "storage-operation-remains-private-or-operator-owned",
    ),
    "health": (
        "archive-health-derived-from-public-safe-auditor-export-and-archive-reference-metadata",
        "archive-health-does-not-perform-storage-writes",
        "archive-health-contains-no-archive-credentials-or-private-endpoints",
    ),
    "plan": (
        "archive-health-alert-routing-derived-from-public-health-metadata",
        "duplicate-suppression-uses-redacted-delivery-metadata",
        "acknowledgements-record-archive-health-review",
        "no-connector-credentials-stored-in-archive-health-alert-plan",
    ),
    "ack": ("archive-health-alert-acknowledgement-records-review-only", "no-provider-token-or-secret-stored"),
}
ARCHIVE_ACTIONS = (
    "capture immutable archive references for verified auditor exports",
    "include retention_until and archive_hash when archive provider supports them",
    "route archive writes through private enterprise connectors or operator-owned archive tooling",
)
# alert_id -> severity, the alert's second field, message (H.3). `archive_hash_missing` is left out:
# the reference falls back to the export's hash, so the API never produces it (H.11 item 3).
ARCHIVE_ALERTS = {
    "archive_reference_missing": (
        "critical",
        "release_record_ref",
        "verified auditor export has no immutable archive reference",
    ),
    "retention_until_missing": (
        "warning",
        "reference_id",
        "archive reference does not include a retention_until timestamp",
    ),
}
ARCHIVE_SUMMARY_FIELDS = (
    "checked_export_count",
    "archived_export_count",
    "missing_archive_reference_count",
    "critical_alert_count",
    "warning_alert_count",
    "alert_count",
)
# The connector names a deployment has configured (sorted, as the plan lists them).
ARCHIVE_CONNECTORS = (
    (("slack", "webhook"), 6.0),
    (("pagerduty", "slack", "webhook"), 3.0),
    (("email", "slack"), 1.5),
    (("opsgenie", "teams", "webhook"), 1.0),
)
# Configured names the connector module cannot deliver to: the plan requires them, the call fails
# with HTTP 400 before any delivery record exists (H.11 item 7).
UNDELIVERABLE = ("jira", "servicenow")
ARCHIVE_STORES = (
    ("s3_object_lock", "s3://cavra-release-archive/rollback-drill/{day}/{export_id}.json"),
    ("azure_immutable_blob", "https://cavrareleasearchive.blob.core.windows.net/rollback-drill/{day}/{export_id}.json"),
    ("gcs_bucket_lock", "gs://cavra-release-archive/rollback-drill/{day}/{export_id}.json"),
    ("external_immutable_store", "archive://release-evidence/rollback-drill/{export_id}"),
)
ARCHIVE_NOTES = (
    "",
    "Bucket uses Object Lock in compliance mode; the retention date follows legal review.",
    "Archived by the release manager after the final closure review.",
    "Retention set to the release governance policy for production rollback evidence.",
)
ARCHIVE_ACK_NOTES = (
    "{provider} archive health alert reviewed; the missing archive reference is tracked in the change record.",
    "{provider} alert received; retention date for the archive reference requested from legal review.",
    "Reviewed in the final closeout sync; {provider} route owner confirmed the archive health alert.",
    "{provider} redelivery confirmed; the archive retention follow-up is tracked in the release record.",
)


def sha_json(material: Record) -> str:
    """SHA-256 over a JSON material with sorted keys and Python's default separators (reference §1)."""
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def sha_text(*parts: str) -> str:
    """SHA-256 over '|'-joined text, as the delivery and acknowledgement ids are made (H.5, H.6)."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


@dataclass
class Export:
    """A verified auditor export the health checks, with its newest immutable archive reference."""

    export_id: str
    export_hash: str
    verification_id: str
    release_record_ref: str
    refs: tuple[str, ...]
    reference: Record | None = None


def new_export(rng: random.Random, ids: IdSource, at: int) -> Export:
    """A verified final-reporting auditor export (a kind outside this contract, never written)."""
    day = (EPOCH + timedelta(microseconds=at)).strftime("%Y%m%d")
    record_ref = f"RELREC-{day}-{rng.randint(100, 999)}" if rng.random() < 0.85 else ""
    refs = (
        f"go-rollback-drill-final-release-record://gordackfinalrecord-{ids.hex16()}",
        f"go-rollback-drill-final-readiness://gordackfinalready-{ids.hex16()}",
        f"go-rollback-drill-final-runbook://gordackfinalrunbook-{ids.hex16()}",
        "go-rollback-drill-final-closure-dashboard://latest",
    )
    return Export(
        "gordackfinalauditor-" + ids.hex16(), f"{rng.getrandbits(256):064x}", "gordackfinalpacket-" + ids.hex16(),
        record_ref, refs,
    )


def retention_date(at: int) -> str:
    """Seven years after the archive day, at midnight UTC."""
    day = EPOCH + timedelta(microseconds=at)
    return f"{day.year + 7:04d}-{day.month:02d}-{min(day.day, 28):02d}T00:00:00+00:00"


def reference_material(rng: random.Random, export: Export, at: int, retention: bool) -> Record:
    """What the reference id hashes: no timestamp, so identical inputs give the same id (H.2)."""
    provider, pattern = rng.choice(ARCHIVE_STORES)
    return {
        "archive_ref": pattern.format(day=iso(at)[:10], export_id=export.export_id),
        "archive_provider": provider,
        "export_id": export.export_id,
        "export_hash": export.export_hash,
        "verification_id": export.verification_id,
        "retention_until": retention_date(at) if retention else "",
        "legal_hold": rng.random() < 0.1,
    }


def reference_body(rng: random.Random, export: Export, at: int, actor: str, retention: bool) -> Record:
    """The nested H1 reference, its id the hash of its material (H.2)."""
    material = reference_material(rng, export, at, retention)
    digest = sha_json(material)
    reference_id = "gordackfinalarchive-" + digest[:16]
    return header(ARCHIVE_KINDS["reference"]) | {
        "reference_id": reference_id,
        "reference_hash": digest,
        **pick(material, ("archive_ref", "archive_provider")),
        # Without an archive_hash in the request the export's own hash is kept (H.2).
        "archive_hash": f"{rng.getrandbits(256):064x}" if rng.random() < 0.4 else export.export_hash,
        "archived_at": iso(at),
        "archived_by": actor,
        **pick(material, ("retention_until", "legal_hold")),
        "release_record_ref": export.release_record_ref,
        **pick(material, ("export_id", "export_hash", "verification_id")),
        "verification_state": "verified",
        "notes": rng.choice(ARCHIVE_NOTES),
        "public_evidence_refs": [
            f"go-rollback-drill-final-auditor-export://{export.export_id}",
            f"go-rollback-drill-final-archive://{reference_id}",
            *export.refs,
        ],
        "controls": list(ARCHIVE_CONTROLS["reference"]),
    }


def reference_record(body: Record, at: int) -> Record:
    """Kind H1: the immutable archive reference envelope (H.2)."""
    record = envelope(body["reference_id"], at, body["archived_by"], (1, 0, 0), ARCHIVE_KINDS["reference"])
    copies = ("reference_id", "reference_hash", "archive_ref", "archive_provider", "archive_hash")
    record |= pick(body, (*copies, "release_record_ref", "export_id", "verification_id"))
    record |= pick(body, ("retention_until", "legal_hold"))
    return record | {"final_reporting_immutable_archive_reference": body}


def archive_alerts(exports: list[Export]) -> list[Record]:
    """The health's alerts: exports newest first, as the history window reads them (H.3)."""
    alerts = []
    for export in reversed(exports):
        reference = export.reference
        if reference is None:
            alert_id, other = "archive_reference_missing", export.release_record_ref
        elif not reference["retention_until"]:
            alert_id, other = "retention_until_missing", reference["reference_id"]
        else:
            continue
        severity, name, message = ARCHIVE_ALERTS[alert_id]
        alerts.append(
            {"alert_id": alert_id, "severity": severity, "export_id": export.export_id, name: other, "message": message}
        )
    return alerts


def archive_health_body(exports: list[Export], at: int, actor: str) -> Record:
    """The nested H2 health; its id hashes the build time, so every build is a new health (H.3)."""
    alerts = archive_alerts(exports)
    critical = sum(a["severity"] == "critical" for a in alerts)
    digest = sha_json({"generated_at": iso(at), "checked_exports": len(exports), "alerts": alerts})
    return header(ARCHIVE_KINDS["health"]) | {
        "health_id": "gordackfinalarchivehealth-" + digest[:16],
        "generated_at": iso(at),
        "generated_by": actor,
        "alert_level": "critical" if critical else ("warning" if alerts else "healthy"),
        "checked_export_count": len(exports),
        "archived_export_count": sum(export.reference is not None for export in exports),
        "missing_archive_reference_count": critical,  # the only critical alert is a missing reference
        "alert_count": len(alerts),
        "critical_alert_count": critical,
        "warning_alert_count": len(alerts) - critical,
        "alerts": alerts,
        "recommended_actions": list(ARCHIVE_ACTIONS),
        "controls": list(ARCHIVE_CONTROLS["health"]),
    }


def archive_health_record(body: Record, at: int) -> Record:
    """Kind H2: the health envelope, as the §11 prerequisite persists `response.health` (H.3)."""
    counts = (body["checked_export_count"], body["critical_alert_count"], body["alert_count"])
    record = envelope(body["health_id"], at, body["generated_by"], counts, ARCHIVE_KINDS["health"])
    copies = ("health_id", "alert_level", "alert_count", "critical_alert_count", "warning_alert_count")
    record |= pick(body, (*copies, "missing_archive_reference_count"))
    return record | {"final_reporting_archive_reference_health": body}


def archive_plan_body(health: Record, at: int, requested: str, eligible: list[str]) -> Record:
    """The nested H3 plan: every eligible provider, none when the health is healthy (H.4)."""
    selected = [] if health["alert_level"] == "healthy" else list(eligible)
    material = {"health_id": health["health_id"], "generated_at": iso(at), "eligible": eligible, "selected": selected}
    return header(ARCHIVE_KINDS["plan"]) | {
        "plan_id": "gordackfinalarchalert-" + sha_json(material)[:16],
        "health_id": health["health_id"],
        "generated_at": iso(at),
        "generated_by": health["generated_by"],
        "source_health_generated_at": health["generated_at"],
        "alert_level": health["alert_level"],
        "summary": pick(health, ARCHIVE_SUMMARY_FIELDS),
        "requested_provider": requested,
        "eligible_providers": eligible,
        "selected_providers": selected,
        # A fresh health_id per call means suppression never matches (H.4).
        "suppressed_providers": [],
        "suppression_window_minutes": 60,
        "force": False,
        "acknowledgement_required_providers": selected,
        "controls": list(ARCHIVE_CONTROLS["plan"]),
    }


def archive_plan_record(body: Record, at: int) -> Record:
    """Kind H3: the alert plan envelope (H.4)."""
    counts = (len(body["eligible_providers"]), 0, len(body["acknowledgement_required_providers"]))
    record = envelope(body["plan_id"], at, body["generated_by"], counts, ARCHIVE_KINDS["plan"])
    record |= pick(body, ("plan_id", "health_id", "alert_level", "selected_providers"))
    record |= {"suppressed_providers": [], "suppressed_provider_count": 0}
    record |= pick(body, ("acknowledgement_required_providers", "suppression_window_minutes"))
    return record | {"final_reporting_archive_reference_health_alert_plan": body}


def archive_ack_record(links: tuple[str, str, str], at: int, actor: str, state: str, ref: str, notes: str) -> Record:
    """Kind H6: one provider's acknowledgement, keyed (health_id, provider); plan_id may be "" (H.6)."""
    health_id, plan_id, provider = links
    ack_id = "gordackfinalarchack-" + sha_text(health_id, provider, state, actor, iso(at))[:16]
    body = header(ARCHIVE_KINDS["ack"]) | {
        "acknowledgement_id": ack_id,
        "health_id": health_id,
        "plan_id": plan_id,
        "provider": provider,
        "acknowledgement_state": state,
        "acknowledged_by": actor,
        "acknowledged_at": iso(at),
        "external_ref": ref,
        "notes": notes,
        "controls": list(ARCHIVE_CONTROLS["ack"]),
    }
    record = envelope(ack_id, at, actor, (1, 0, 0), ARCHIVE_KINDS["ack"])
    copies = ("acknowledgement_id", "health_id", "plan_id", "provider", "acknowledgement_state", "external_ref")
    return record | pick(body, copies) | {"acknowledgement": body}


# (created_at, plan_id, health_id, required providers) of one archive alert plan.
ArchivePlan = tuple[int, str, str, tuple[str, ...]]
# (health_id, provider, created_at, success, delivery id) of one provider's delivery outcome.
ArchiveOutcome = tuple[str, str, int, bool, str]


class ArchiveStory:
    """One release's archive health alerts: references, repeated deliver calls, redeliveries, acks."""

    def __init__(self, gen: EvidenceGenerator, start: int) -> None:
        """Choose the deployment's connectors, whether healths are persisted, and the exports."""
        self.rng, self.ids, self.now = gen.rng, gen.ids, start
        self.records: list[tuple[int, Record]] = []
        self.actor = self.rng.choice(OPERATORS)
        configured = list(weighted(self.rng, ARCHIVE_CONNECTORS))
        configured += [self.rng.choice(UNDELIVERABLE)] if self.rng.random() < 0.12 else []
        self.configured = sorted(configured)
        # Most stories persist the health as H.10's prerequisite says; the rest are the pure API flow.
        self.persisted = self.rng.random() < 0.8
        self.exports = [new_export(self.rng, self.ids, start) for _ in range(self.rng.choice((1, 1, 1, 2, 2, 3)))]
        self.plans: list[ArchivePlan] = []
        self.outcomes: list[ArchiveOutcome] = []
        self.acks: list[tuple[str, str, str]] = []
        self.failed_deliveries = 0
        self.cases: Counter[str] = Counter()

    def run(self) -> ArchiveStory:
        """Archive some exports, then deliver calls over hours or days while the archive is completed."""
        for export in self.exports:
            if self.rng.random() < 0.5:
                self.archive(export, self.rng.random() < 0.5)
        for call in range(self.rng.choice((1, 2, 2, 3, 3, 4))):
            if call:
                self.now += self.rng.randint(20 * MINUTE, 30 * 60 * MINUTE)
                self.progress()
            self.deliver_calls()
        return self

    def emit(self, at: int, record: Record) -> None:
        """Add a record to the story."""
        self.records.append((at, record))

    def archive(self, export: Export, retention: bool) -> None:
        """POST final-reporting-immutable-archive-reference for an export (H1)."""
        self.now += self.rng.randint(2 * MINUTE, 50 * MINUTE)
        export.reference = reference_body(self.rng, export, self.now, self.rng.choice(OPERATORS), retention)
        self.emit(self.now, reference_record(export.reference, self.now))

    def progress(self) -> None:
        """Between deliver calls the operator sometimes archives an export or adds its retention date."""
        todo = [e for e in self.exports if e.reference is None or not e.reference["retention_until"]]
        if todo and self.rng.random() < 0.6:
            # A new material (now with retention) gives a new reference id; the newest is judged (H.3).
            self.archive(todo[0], todo[0].reference is not None or self.rng.random() < 0.5)

    def eligible(self, requested: str) -> list[str]:
        """The configured providers a request names, in configured order (H.4)."""
        named = self.configured if requested == "all" else requested.split(",")
        return [provider for provider in self.configured if provider in named]

    def requests(self) -> list[str]:
        """The `provider` of one deliver call, or of two a scheduler fans out at the same instant."""
        usable = [p for p in self.configured if p not in UNDELIVERABLE]
        first = "all" if self.rng.random() < 0.75 else ",".join(sorted(self.rng.sample(usable, 1 + len(usable) // 2)))
        if len(self.configured) < 2 or self.rng.random() > 0.12:
            return [first]
        # The second call names one provider, never the first call's list: distinct plans, one instant.
        others = [p for p in self.configured if [p] != self.eligible(first)]
        return [first, self.rng.choice(others)]

    def deliver_calls(self) -> None:
        """POST …-health-alerts/deliver: a fresh health, a plan per call, a delivery when it selects providers."""
        health = archive_health_body(self.exports, self.now, self.actor)
        if self.persisted:
            self.emit(self.now, archive_health_record(health, self.now))
        self.cases["unpersisted_healths"] += not self.persisted
        plan_at = self.now + self.rng.randint(5_000, 25_000)
        finished, requests, required = plan_at, self.requests(), dict[str, str]()
        self.cases["tied_plans"] += len(requests) > 1
        for requested in requests:
            plan = archive_plan_body(health, plan_at, requested, self.eligible(requested))
            self.emit(plan_at, archive_plan_record(plan, plan_at))
            selected = plan["acknowledgement_required_providers"]
            self.plans.append((plan_at, plan["plan_id"], plan["health_id"], tuple(selected)))
            required |= {provider: plan["plan_id"] for provider in selected}
            finished = max(finished, self.deliver(plan, plan_at))
        self.cases["healthy_plans"] += not required
        self.now = finished
        self.acknowledge(health["health_id"], required)

    def deliver(self, plan: Record, at: int) -> int:
        """One delivery to every selected provider, and now and then a re-send of the failed ones (H4, H5)."""
        selected = plan["selected_providers"]
        if not selected:
            return at
        if any(provider in UNDELIVERABLE for provider in selected):
            self.cases["undeliverable_calls"] += 1
            return at  # HTTP 400 after the plan was persisted: no delivery record at all (H.11 item 7)
        outcomes = {provider: self.rng.random() > 0.2 for provider in selected}
        end = self.delivery(plan, outcomes, at + self.rng.randint(200_000, 500_000))
        failed = [provider for provider, ok in outcomes.items() if not ok]
        if failed and self.rng.random() < 0.4:
            # No stock endpoint re-sends for a health; an operator script does, with the same links (H.5).
            self.cases["redeliveries"] += 1
            again = {provider: self.rng.random() < 0.8 for provider in failed}
            end = self.delivery(plan, again, end + self.rng.randint(5 * MINUTE, 90 * MINUTE))
        return end

    def delivery(self, plan: Record, outcomes: dict[str, bool], start: int) -> int:
        """One archive-source delivery record, merged with the plan's links (H.5); when it finished."""
        attempts, at = simulate_attempts(self.rng, outcomes, start)
        health_id, providers = plan["health_id"], ",".join(a.provider for a in attempts)
        event = Event(ARCHIVE_SOURCE, ARCHIVE_EVENT_TYPE, health_id, None)
        delivery_id = f"rcd-{event.slug}-{sha_text(health_id, iso(at), providers)[:12]}"
        links = {"health_id": health_id, "plan_id": plan["plan_id"]}
        record = delivery_record(delivery_id, at, event, attempts, links)
        self.emit(at, record)
        self.failed_deliveries += not record["delivery_success"]
        self.outcomes += [(health_id, a.provider, at, a.success, delivery_id) for a in attempts]
        return at

    def acknowledge(self, health_id: str, required: dict[str, str]) -> None:
        """Each required provider's acks, some outstanding, dismissed or escalated; a few omit the plan id."""
        for provider, plan_id in sorted(required.items()):
            at = self.now + self.rng.randint(3 * MINUTE, 240 * MINUTE)
            for state in weighted(self.rng, ACK_PATTERNS):
                notes = self.rng.choice(ARCHIVE_ACK_NOTES).format(provider=provider.capitalize())
                links = (health_id, plan_id if self.rng.random() < 0.9 else "", provider)
                actor = self.rng.choice(OPERATORS)
                self.emit(at, archive_ack_record(links, at, actor, state, external_ref(self.rng), notes))
                self.acks.append((health_id, provider, state))
                at += self.rng.randint(10 * MINUTE, 300 * MINUTE)

    def upstream_outstanding(self) -> int:
        """Upstream's count: every plan's required providers without a clearing ack for its health (H.8)."""
        cleared = {(health_id, provider) for health_id, provider, state in self.acks if state in CLEARING}
        return sum((health_id, p) not in cleared for _, _, health_id, required in self.plans for p in required)

    def commit(self, gen: EvidenceGenerator) -> None:
        """Add the story to the loop's evidence-wide state, which is settled once all is told."""
        gen.truth.archive.add(self)
        gen.truth.failed_delivery_records["archive"] += self.failed_deliveries
        gen.truth.unpersisted_health["archive"] += self.cases["unpersisted_healths"]
        gen.truth.archive_cases.update(self.cases)
        gen.tally.add_archive(self)


@dataclass
class ArchiveLedger:
    """The archive loop over all the evidence: its state is its latest plan, whichever story made it."""

    plans: list[ArchivePlan] = field(default_factory=list)
    # Per (health_id, provider): the latest outcome as (created_at, failed, delivery id), so that on a
    # tie a failure counts as later; and whether the key ever failed.
    latest: dict[tuple[str, str], tuple[int, bool, str]] = field(default_factory=dict)
    failed: set[tuple[str, str]] = field(default_factory=set)
    cleared: set[tuple[str, str]] = field(default_factory=set)

    def add(self, story: ArchiveStory) -> None:
        """Fold in one story's plans, delivery outcomes and clearing acks."""
        self.plans += story.plans
        for health_id, provider, at, success, delivery_id in story.outcomes:
            key, outcome = (health_id, provider), (at, not success, delivery_id)
            self.latest[key] = max(self.latest.get(key, outcome), outcome)
            if not success:
                self.failed.add(key)
        self.cleared |= {(h, p) for h, p, state in story.acks if state in CLEARING}

    def latest_plan(self) -> ArchivePlan | None:
        """The newest plan; of plans made at one instant, the smaller id (upstream's store order)."""
        return min(self.plans, key=lambda plan: (-plan[0], plan[1]), default=None)

    def settle(self, truth: Truth) -> None:
        """The loop's ground truth in chain mode, and upstream's every-plan acknowledgement count."""
        latest = self.latest_plan()
        required = {(latest[2], provider) for provider in latest[3]} if latest else set()
        self.settle_chains(truth, latest, required)
        undelivered = sum(key not in self.latest for key in required)
        truth.undelivered_chains["archive"] += undelivered
        truth.open_chains["archive"] += undelivered
        if truth.open_chains["archive"]:
            truth.open_states["archive:no_retry_plan"] += truth.open_chains["archive"]
        truth.required_acks["archive"] += len(required)
        truth.outstanding_acks["archive"] += len(required - self.cleared)
        every = sum((health_id, p) not in self.cleared for _, _, health_id, providers in self.plans for p in providers)
        truth.upstream_outstanding_acks["archive"] += every
        if latest is not None:
            # Which of the rarer situations the latest plan is in, so tests can see they occur.
            tied = sum(plan[0] == latest[0] for plan in self.plans) > 1
            cases = (("latest_plan_healthy", not required), ("latest_plan_tied", tied))
            truth.archive_cases.update(case for case, seen in cases if seen)

    def settle_chains(self, truth: Truth, latest: ArchivePlan | None, required: set[tuple[str, str]]) -> None:
        """Every delivered key: superseded by the latest plan, or failed and judged by its latest outcome."""
        planned = {plan[2] for plan in self.plans}
        for key, (at, failing, _) in self.latest.items():
            truth.chains["archive"] += 1
            if key not in self.failed:
                continue
            truth.failed_chains["archive"] += 1
            # Superseded: the latest plan does not require the key, and the key's health has a plan
            # of its own or nothing happened to the key since.
            if latest is not None and key not in required and (key[0] in planned or at <= latest[0]):
                truth.superseded_chains["archive"] += 1
                continue
            if failing:
                truth.open_chains["archive"] += 1
                # Open under the latest plan (every generated health has a plan, so no other key is).
                truth.archive_cases["latest_plan_failed"] += 1


# --- the generator -----------------------------------------------------------------------------


@dataclass
class Truth:
    """The ground truth of the generated evidence, by the reference's rules."""

    chains: Counter[str] = field(default_factory=Counter)
    failed_chains: Counter[str] = field(default_factory=Counter)
    open_chains: Counter[str] = field(default_factory=Counter)  # with never-delivered archive keys
    superseded_chains: Counter[str] = field(default_factory=Counter)
    undelivered_chains: Counter[str] = field(default_factory=Counter)
    open_states: Counter[str] = field(default_factory=Counter)
    required_acks: Counter[str] = field(default_factory=Counter)
    outstanding_acks: Counter[str] = field(default_factory=Counter)
    upstream_outstanding_acks: Counter[str] = field(default_factory=Counter)
    failed_delivery_records: Counter[str] = field(default_factory=Counter)
    failed_execution_records: Counter[str] = field(default_factory=Counter)
    unpersisted_health: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    archive_cases: Counter[str] = field(default_factory=Counter)
    archive: ArchiveLedger = field(default_factory=ArchiveLedger)
    notification_latest: dict[str, list[str]] = field(default_factory=dict)
    notification_cleared: dict[tuple[str, str], bool] = field(default_factory=dict)

    def notification_plan(self, schedule_id: str, required: list[str], cleared: list[str]) -> None:
        """Note a schedule's latest plan and the routes its acks cleared (reference §8.3)."""
        self.notification_latest[schedule_id] = required
        self.notification_cleared.update(((schedule_id, provider), True) for provider in cleared)

    def notification_outstanding(self) -> int:
        """(schedule, provider) pairs of each schedule's latest plan that no ack ever cleared."""
        return sum(
            (schedule, provider) not in self.notification_cleared
            for schedule, required in self.notification_latest.items()
            for provider in required
        )

    def as_dict(self) -> dict[str, Any]:
        """The truth as plain sorted data."""
        counters = (
            "chains",
            "failed_chains",
            "open_chains",
            "superseded_chains",
            "undelivered_chains",
            "open_states",
            "required_acks",
            "outstanding_acks",
            "upstream_outstanding_acks",
            "failed_delivery_records",
            "failed_execution_records",
            "unpersisted_health",
            "kinds",
            "archive_cases",
        )
        data: dict[str, Any] = {name: dict(sorted(getattr(self, name).items())) for name in counters}
        return data | {"notification_outstanding_acks": self.notification_outstanding()}


class EvidenceGenerator:
    """N evidence records for a seed, in created_at order, with their ground truth."""

    def __init__(
        self, records: int, seed: int, broken: int = 0, days: int = 365, profile: str = DEFAULT_PROFILE
    ) -> None:
        """Check the arguments; nothing is generated until iteration."""
        if records < 0 or not 0 <= broken <= records or days < 1:
            raise ValueError("need records >= 0, 0 <= broken <= records and days >= 1")
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose one of {', '.join(PROFILES)}")
        self.records, self.seed, self.broken, self.days = records, seed, broken, days
        self.profile = PROFILES[profile]
        self._reset()

    def _reset(self) -> None:
        """Start from the seed again, so every iteration gives the same records."""
        self.rng = random.Random(self.seed)
        self.ids = IdSource(self.seed)
        self.truth = Truth()
        self.tally = Tally()
        self.broken_kinds: Counter[str] = Counter()
        self.schedules = [
            Schedule(sid, days, tuple((p, owner, "gordroute-" + self.ids.hex16()) for p, owner in routes))
            for sid, days, routes in SCHEDULE_SHAPES
        ]

    def __iter__(self) -> Iterator[Entry]:
        """Every record, each chosen one followed by a broken line."""
        self._reset()
        breaker = Breaker(self.seed, self.records, self.broken)
        for index, record in enumerate(self.timeline()):
            yield record
            if breaker.due(index):
                yield breaker.break_line(record)
        self.broken_kinds = breaker.kinds

    def timeline(self) -> Iterator[Record]:
        """Exactly N records from overlapping stories, released in created_at order through a heap."""
        heap: list[tuple[int, int, Record]] = []
        produced = sequence = clock = 0
        mean_gap = self.days * DAY * self.profile.mean_records_per_story / max(self.records, 1)
        while produced < self.records:
            clock += max(SECOND, int(self.rng.expovariate(1 / mean_gap)))
            story = self.story(clock, self.records - produced)
            for at, record in story.records:
                heapq.heappush(heap, (at, sequence, record))
                sequence += 1
            produced += len(story.records)
            # Every later story starts after `clock`, so what is due by then can go out.
            while heap and heap[0][0] <= clock:
                yield heapq.heappop(heap)[2]
        while heap:
            yield heapq.heappop(heap)[2]
        # The archive loop is judged by its latest plan over all the evidence: known only now.
        self.truth.archive.settle(self.truth)

    def story(self, start: int, room: int) -> Drill | ArchiveStory | Story:
        """The next whole story; a one-record delivery when the story would not fit in the room left."""
        kind = weighted(self.rng, STORIES)
        built: Drill | ArchiveStory | Story
        if kind in LOOPS:
            built = Drill(self, LOOPS[kind], start).run()
        elif kind == "notification":
            built = notification_drill(self, start)
        elif kind == "final_report":
            built = final_report(self, start)
        elif kind == "archive":
            built = ArchiveStory(self, start).run()
        else:
            built = other_delivery(self, start)
        if len(built.records) > room:
            built = other_delivery(self, start)
        built.commit(self)
        self.truth.kinds.update(record["metadata_kind"] for _, record in built.records)
        return built


BROKEN_VARIANTS = ("not_json", "missing_session_id", "wrong_type")


class Breaker:
    """Chooses which records get a broken line after them, and breaks a copy in one of three ways."""

    def __init__(self, seed: int, records: int, broken: int) -> None:
        """Pick the positions with a generator of its own, so valid records never change."""
        self.rng = random.Random(f"cavra-broken:{seed}")
        self.ids = IdSource(seed, start=BROKEN_ID_BASE)
        self.positions = sorted(self.rng.sample(range(records), broken))
        self.next = 0
        self.kinds: Counter[str] = Counter()

    def due(self, index: int) -> bool:
        """Whether a broken line follows record `index`."""
        return self.next < len(self.positions) and self.positions[self.next] == index

    def break_line(self, record: Record) -> Entry:
        """A broken copy: cut-off JSON text, no session_id, or a field of the wrong type (and a fresh id)."""
        variant = BROKEN_VARIANTS[self.next % len(BROKEN_VARIANTS)]
        self.next += 1
        self.kinds[variant] += 1
        if variant == "not_json":
            text = orjson.dumps(record)
            return text[: self.rng.randint(40, len(text) - 40)]
        copy = dict(record)
        if variant == "missing_session_id":
            del copy["session_id"]
            return copy
        head, _, tail = copy["session_id"].rpartition("-")
        copy["session_id"] = f"{head}-{(self.ids.hex12() if len(tail) == 12 else self.ids.hex16())[: len(tail)]}"
        for name, wrong in (("delivery_success", "false"), ("dry_run", "false"), ("acknowledgement_state", 1)):
            if name in copy:
                copy[name] = wrong
                return copy
        copy["created_at"] = int((datetime.fromisoformat(copy["created_at"]) - EPOCH).total_seconds())
        return copy


def generate(
    records: int, seed: int, broken: int = 0, days: int = 365, profile: str = DEFAULT_PROFILE
) -> Iterator[Entry]:
    """Yield N records (dicts) and `broken` broken entries (cut-off text as bytes, or bad dicts)."""
    return iter(EvidenceGenerator(records, seed, broken, days, profile))


# --- writers -----------------------------------------------------------------------------------

FORMATS = ("ndjson", "gzip", "store")
CHUNK = 1 << 20
RUN_BYTES = 64 << 20
DEFAULT_BROKEN_PER_100K = 5


@dataclass
class Stats:
    """What one write produced, and the ground truth reportgen should reach on it."""

    path: str
    format: str
    seed: int
    records: int
    lines: int
    bytes: int
    broken: dict[str, int]
    truth: Truth
    profile: str = DEFAULT_PROFILE

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        t = self.truth
        chains, acks = (" ".join(f"{n}={c[n]}" for n in LOOP_NAMES) for c in (t.open_chains, t.outstanding_acks))
        return (
            f"records={self.records} lines={self.lines} bytes={self.bytes} broken={sum(self.broken.values())} "
            f"open_delivery_chains={sum(t.open_chains.values())} ({chains}) "
            f"outstanding_acks={sum(t.outstanding_acks.values())} ({acks}) "
            f"notification_outstanding_acks={t.notification_outstanding()} profile={self.profile} format={self.format} "
            f"seed={self.seed} out={self.path}"
        )


def ndjson_line(entry: Entry) -> bytes:
    """One NDJSON line: compact JSON in the envelope's key order, or the broken text as it is."""
    return (entry if isinstance(entry, bytes) else orjson.dumps(entry)) + b"\n"


def write_lines(entries: Iterable[Entry], out: BinaryIO) -> int:
    """Write NDJSON in 1 MiB chunks; return the number of lines."""
    chunk: list[bytes] = []
    size = lines = 0
    for entry in entries:
        line = ndjson_line(entry)
        chunk.append(line)
        size, lines = size + len(line), lines + 1
        if size >= CHUNK:
            out.write(b"".join(chunk))
            chunk, size = [], 0
    out.write(b"".join(chunk))
    return lines


def write_gzip(entries: Iterable[Entry], out: BinaryIO) -> int:
    """Gzip NDJSON with mtime 0 and no file name in the header, so the bytes depend on the records only."""
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=6) as packed:
        return write_lines(entries, packed)  # type: ignore[arg-type]


def store_item(entry: Entry) -> tuple[str, bytes]:
    """A store item's sort key and text: sorted keys, two-space indent, nested two levels deep."""
    if isinstance(entry, bytes):
        # A store holds JSON, so cut-off text becomes a string item: still not a record.
        return "", b"    " + orjson.dumps(entry.decode())
    text = orjson.dumps(entry, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
    session_id = entry.get("session_id")
    return session_id if isinstance(session_id, str) else "", b"    " + text.replace(b"\n", b"\n    ")


def spill(items: list[tuple[str, bytes]], folder: str, number: int) -> str:
    """Write one sorted run of store items to a file: key length, item length, key, item."""
    path = os.path.join(folder, f"run-{number:05d}")
    with open(path, "wb") as out:
        for key, text in items:
            raw = key.encode()
            out.write(struct.pack("<II", len(raw), len(text)) + raw + text)
    return path


def read_run(path: str) -> Iterator[tuple[str, bytes]]:
    """Read back one sorted run."""
    with open(path, "rb") as run:
        while head := run.read(8):
            key_size, text_size = struct.unpack("<II", head)
            yield run.read(key_size).decode(), run.read(text_size)


def write_store(entries: Iterable[Entry], out: BinaryIO, run_bytes: int = RUN_BYTES) -> int:
    """A CAVRA store file sorted by session_id; beyond `run_bytes` items go to sorted runs that are merged."""
    buffer: list[tuple[str, bytes]] = []
    size = count = 0
    folder = os.path.dirname(getattr(out, "name", "")) or "."
    with tempfile.TemporaryDirectory(prefix=".cavra-store-runs-", dir=folder) as runs_dir:
        runs: list[str] = []
        for entry in entries:
            item = store_item(entry)
            buffer.append(item)
            size, count = size + len(item[1]), count + 1
            if size >= run_bytes:
                runs.append(spill(sorted(buffer), runs_dir, len(runs)))
                buffer, size = [], 0
        buffer.sort()
        merged = heapq.merge(*(read_run(path) for path in runs), iter(buffer))
        out.write(b'{\n  "items": [')
        for index, (_, text) in enumerate(merged):
            out.write((b"\n" if index == 0 else b",\n") + text)
        out.write(b"\n  ]\n}\n" if count else b"]\n}\n")
    return count


def write(
    path: str,
    fmt: str,
    records: int,
    seed: int,
    broken: int = 0,
    days: int = 365,
    run_bytes: int = RUN_BYTES,
    profile: str = DEFAULT_PROFILE,
) -> Stats:
    """Generate evidence into `path` (ndjson, gzip or store), replacing the file only when done."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    gen = EvidenceGenerator(records, seed, broken, days, profile)
    partial = f"{path}.partial"
    try:
        with open(partial, "wb") as out:
            if fmt == "store":
                lines = write_store(gen, out, run_bytes)
            else:
                lines = (write_gzip if fmt == "gzip" else write_lines)(gen, out)
        os.replace(partial, path)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    kinds = {variant: gen.broken_kinds[variant] for variant in BROKEN_VARIANTS}
    return Stats(path, fmt, seed, records, lines, os.path.getsize(path), kinds, gen.truth, profile)


def default_broken(records: int) -> int:
    """A handful of broken lines per 100 000 records."""
    return records * DEFAULT_BROKEN_PER_100K // 100_000


def main(argv: list[str] | None = None) -> int:
    """The command line: generate, write, print a one-line summary."""
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, required=True, help="valid records to generate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--format", choices=FORMATS, default="ndjson")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--broken", type=int, default=None, help="extra broken lines (default 5 per 100 000 records)")
    parser.add_argument("--days", type=int, default=365, help="the span of the drills (default a year)")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help="reference: drills as long as real ones (default); compact: each drill stops at its outcome",
    )
    args = parser.parse_args(argv)
    broken = default_broken(args.records) if args.broken is None else args.broken
    try:
        stats = write(args.out, args.format, args.records, args.seed, broken, args.days, profile=args.profile)
    except ValueError as exc:
        parser.error(str(exc))
    print(stats.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
