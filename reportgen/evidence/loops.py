"""The alert loops CAVRA's final reporting closure judges, each described once, as data.

A loop is a health record, an alert plan that names the providers who must acknowledge, deliveries
of the alert (`release-connector-delivery` records with the loop's source) and acknowledgements,
keyed by (health_id, provider); some loops add a retry plan, worker runs and execution records.
The loader, the ledger, the rules, the wording and the views read these descriptions, so a new loop
is mostly one more entry in `LOOPS` (and its record models in `schema` and `lean`); `kinds` makes
its kinds rows of the table of every record kind.

`cavra-history-kinds.json` of the reference lists every record kind and delivery source upstream's
rollback-drill history keeps; `HISTORY_KINDS` and `HISTORY_SOURCES` are that list. A kind in it
that no loop reads is CAVRA evidence outside the closure; a rollback-drill kind or source outside
it belongs to a loop this version does not know, and is never judged as closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Literal

PREFIX = "go-backend-rollback-drill-acknowledgement-audit-delivery"
P0 = "/runtime/go-pilot/rollback-drill-notifications/acknowledgements/audit-delivery"
DELIVERY = "release-connector-delivery"
# What marks a record kind or delivery source as rollback-drill evidence (of any CAVRA version).
DRILL_KIND_PREFIX = "go-backend-rollback-drill-"
DRILL_SOURCE_PREFIX = "go_backend_rollback_drill_"

# Which alert plans count: every plan, the latest plan of each health id, or the loop's latest plan.
PlanScope = Literal["every", "latest_per_health", "latest"]


@dataclass(frozen=True)
class LoopSpec:
    """One alert loop: its record kinds and nested keys, its delivery source, its codes and words."""

    name: str
    title: str
    alert: str
    source: str
    # kind -> the key its nested record sits under; roles name the kinds the rules read.
    kinds: dict[str, str]
    health: str
    plan: str
    ack: str
    retry_plan: str | None
    worker: str | None
    execution: str | None
    alerts_path: str
    # Which plans' required acknowledgements keep the loop open: in chain mode, and upstream's count.
    chain_plans: PlanScope
    cavra_plans: PlanScope
    # Upstream's closure items of this loop, in upstream's order (reference §10.4).
    cavra_codes: tuple[str, ...]

    @property
    def delivery_code(self) -> str:
        """The code of an open delivery chain."""
        return self.cavra_codes[0]

    @property
    def ack_code(self) -> str:
        """The code of an outstanding acknowledgement."""
        return self.cavra_codes[1]

    @property
    def by_latest_plan(self) -> bool:
        """Whether chain mode judges the loop by its latest plan alone (older plans are superseded)."""
        return self.chain_plans == "latest"

    @property
    def retries(self) -> bool:
        """Whether the loop has retry machinery (a retry plan, worker runs, execution records)."""
        return self.retry_plan is not None


def _retry_loop(name: str, stem: str, key: str, source: str, title: str, path: str, **rules: object) -> LoopSpec:
    """A loop with retry machinery: its nine kinds are named after one stem and one nested key."""
    kind, nested = f"{PREFIX}-{stem}", key
    kinds = {
        kind: nested,
        f"{kind}-alert-plan": f"{nested}_alert_plan",
        f"{kind}-alert-ack": "acknowledgement",
        f"{kind}-alert-delivery-retry-plan": f"{nested}_alert_delivery_retry_plan",
        f"{kind}-alert-delivery-retry-worker-run": f"{nested}_alert_delivery_retry_worker_run",
        f"{kind}-alert-delivery-retry-execution-record": f"{nested}_alert_delivery_retry_execution_record",
    }
    roles = list(kinds)
    return LoopSpec(
        name=name,
        title=f"{title} loop",
        alert=title,
        source=source,
        kinds=kinds,
        health=roles[0],
        plan=roles[1],
        ack=roles[2],
        retry_plan=roles[3],
        worker=roles[4],
        execution=roles[5],
        alerts_path=f"{P0}/{path}",
        **rules,  # type: ignore[arg-type]
    )


EXECUTIVE = _retry_loop(
    "executive",
    "recovery-executive-report-delivery-retry-health",
    "recovery_executive_report_delivery_retry_health",
    "go_backend_rollback_drill_acknowledgement_audit_recovery_executive_report_delivery_retry_health_alert",
    "Executive retry health alert",
    "recovery-executive-report/delivery-retry-health-alerts",
    chain_plans="every",
    cavra_plans="every",
    cavra_codes=(
        "executive_retry_health_alert_delivery_failed",
        "executive_retry_health_alert_acknowledgement_outstanding",
        "executive_retry_health_alert_retry_execution_failed",
    ),
)
RECOVERY = _retry_loop(
    "recovery",
    "recovery-escalation-retry-health",
    "recovery_escalation_retry_health",
    "go_backend_rollback_drill_acknowledgement_audit_recovery_escalation_retry_health_alert",
    "Recovery escalation retry health alert",
    "recovery-escalations/retry-health-alerts",
    chain_plans="every",
    cavra_plans="latest_per_health",
    # Item 4 is upstream's, though its dashboard key never matches (reference §12 item 2): a
    # documented deviation, so a failed recovery delivery is never silently dropped.
    cavra_codes=(
        "recovery_retry_health_alert_delivery_failed",
        "recovery_retry_health_alert_acknowledgement_outstanding",
    ),
)
_ARCHIVE = f"{PREFIX}-final-reporting-archive-reference-health"
ARCHIVE_REFERENCE = f"{PREFIX}-final-reporting-immutable-archive-reference"
ARCHIVE = LoopSpec(
    name="archive",
    title="Final reporting archive health alert loop",
    alert="Final reporting archive health alert",
    source="go_backend_rollback_drill_acknowledgement_audit_final_reporting_archive_reference_health_alert",
    kinds={
        ARCHIVE_REFERENCE: "final_reporting_immutable_archive_reference",
        _ARCHIVE: "final_reporting_archive_reference_health",
        f"{_ARCHIVE}-alert-plan": "final_reporting_archive_reference_health_alert_plan",
        f"{_ARCHIVE}-alert-ack": "acknowledgement",
    },
    health=_ARCHIVE,
    plan=f"{_ARCHIVE}-alert-plan",
    ack=f"{_ARCHIVE}-alert-ack",
    retry_plan=None,
    worker=None,
    execution=None,
    alerts_path=f"{P0}/final-reporting-archive-reference-health-alerts",
    # Every deliver call makes a new health and plan (reference H.9): the latest plan is the state.
    chain_plans="latest",
    cavra_plans="every",
    cavra_codes=(
        "final_archive_health_alert_delivery_failed",
        "final_archive_health_alert_acknowledgement_outstanding",
    ),
)

LOOPS: tuple[LoopSpec, ...] = (EXECUTIVE, RECOVERY, ARCHIVE)
LOOP_NAMES: tuple[str, ...] = tuple(spec.name for spec in LOOPS)
BY_NAME: dict[str, LoopSpec] = {spec.name: spec for spec in LOOPS}
LOOP_OF_SOURCE: dict[str, str] = {spec.source: spec.name for spec in LOOPS}
# The kinds of a loop's alert machinery: a record of one of them is alert-loop evidence (an archive
# reference alone says nothing about whether an alert was delivered or acknowledged).
ALERT_KINDS: frozenset[str] = frozenset(
    kind
    for spec in LOOPS
    for kind in (spec.health, spec.plan, spec.ack, spec.retry_plan, spec.worker, spec.execution)
    if kind is not None
)
# Upstream's closure items in upstream's order, and the loop each belongs to.
CAVRA_ORDER: tuple[str, ...] = tuple(code for spec in LOOPS for code in spec.cavra_codes)
LOOP_OF_CODE: dict[str, str] = {code: spec.name for spec in LOOPS for code in spec.cavra_codes}

# Every record kind and delivery source of upstream's rollback-drill history, as the reference
# lists them (go_backend.py filter_go_rollback_drill_notification_history).
_HISTORY = json.loads(resources.files("reportgen").joinpath("data/cavra-history-kinds.json").read_bytes())
HISTORY_KINDS: frozenset[str] = frozenset(_HISTORY["kinds"])
HISTORY_SOURCES: frozenset[str] = frozenset(_HISTORY["delivery_sources"])

# How a record kind or delivery source stands to the closure, when no loop or rule reads it.
Standing = Literal["outside_closure", "unjudged", "unrecognised"]


def standing_of_kind(kind: str) -> Standing:
    """A kind no rule reads: upstream evidence outside the closure, a drill kind unknown here, or foreign.

    A kind that is upstream's in another letter case or with spaces around it is not upstream's
    (no dashboard reads it), but it is rollback-drill evidence all the same: not judged.
    """
    if kind in HISTORY_KINDS:
        return "outside_closure"
    plain = kind.strip().lower()
    return "unjudged" if plain.startswith(DRILL_KIND_PREFIX) or plain in HISTORY_KINDS else "unrecognised"


def source_unjudged(source: str) -> bool:
    """Whether a delivery source belongs to a rollback-drill loop this version does not know (any letter case)."""
    return source.strip().lower().startswith(DRILL_SOURCE_PREFIX) and source not in HISTORY_SOURCES
