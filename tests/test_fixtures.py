"""Every bundled evidence set gives the verdict worked out by hand in fixtures/README.md."""

from __future__ import annotations

import pytest
from evidence import FIXTURES, codes, comparable

from reportgen.evidence.load import load
from reportgen.judge.summary import summarise

EXEC_FAILED = "executive_retry_health_alert_delivery_failed"
EXEC_ACK = "executive_retry_health_alert_acknowledgement_outstanding"
EXEC_EXECUTION = "executive_retry_health_alert_retry_execution_failed"
REC_FAILED = "recovery_retry_health_alert_delivery_failed"
REC_ACK = "recovery_retry_health_alert_acknowledgement_outstanding"
ARCH_FAILED = "final_archive_health_alert_delivery_failed"
ARCH_ACK = "final_archive_health_alert_acknowledgement_outstanding"
B1 = "gordackexecdeliveryhealth-3a9c5e17b2d04f68"
H2 = "gordackfinalarchivehealth-c57853b157db502b"
E1 = "gordackrecoveryeschealth-9f2d6b0a4c81e375"

# (set, chain open items as (code, health_id, provider, retry_state), cavra open item codes)
EXPECTED = [
    (
        "example",
        [(EXEC_ACK, B1, "slack", None), (EXEC_FAILED, B1, "slack", "exhausted")],
        [EXEC_FAILED, EXEC_ACK, EXEC_EXECUTION, REC_FAILED],
    ),
    ("clean", [], []),
    ("redelivered", [], [EXEC_FAILED, REC_FAILED]),
    (
        "exhausted",
        [(EXEC_ACK, B1, "slack", None), (EXEC_FAILED, B1, "slack", "exhausted")],
        [EXEC_FAILED, EXEC_ACK, EXEC_EXECUTION, REC_FAILED],
    ),
    (
        "retry-states",
        [
            (code, B1, provider, state if code == EXEC_FAILED else None)
            for provider, state in [
                ("email", "waiting"),
                ("pagerduty", "execution_failed"),
                ("slack", "dry_run_only"),
                ("teams", "retry_pending"),
                ("webhook", "no_retry_plan"),
            ]
            for code in (EXEC_ACK, EXEC_FAILED)
        ]
        + [(REC_ACK, E1, "webhook", None)],
        [EXEC_FAILED, EXEC_ACK, EXEC_EXECUTION, REC_FAILED, REC_ACK],
    ),
    (
        "archive",
        [(EXEC_ACK, B1, "slack", None), (EXEC_FAILED, B1, "slack", "exhausted"), (ARCH_ACK, H2, "slack", None)],
        [EXEC_FAILED, EXEC_ACK, EXEC_EXECUTION, REC_FAILED, ARCH_FAILED, ARCH_ACK],
    ),
    (
        "archive-open",
        [(ARCH_ACK, H2, "webhook", None), (ARCH_FAILED, H2, "webhook", "no_retry_plan")],
        [ARCH_FAILED, ARCH_ACK],
    ),
    ("archive-superseded", [], [ARCH_FAILED, ARCH_ACK]),
    ("empty", [("evidence_missing", None, None, None)], ["evidence_missing"]),
    (
        "broken",
        [("evidence_kind_unjudged", None, None, None), ("evidence_unreadable", None, None, None)],
        [REC_FAILED, "evidence_unreadable", "evidence_kind_unjudged"],
    ),
]


@pytest.mark.parametrize(("name", "chain", "cavra"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_fixture_set_gives_its_hand_worked_verdict(name, chain, cavra):
    loaded = load([str(FIXTURES / name)])
    by_chain = summarise(loaded, "chain")
    assert [(i.code, i.health_id, i.provider, i.retry_state) for i in by_chain.closure.open_items] == chain
    assert by_chain.closure.state == ("open" if chain else "closed")
    assert codes(summarise(loaded, "cavra")) == cavra


def test_the_broken_set_accounts_for_every_line():
    inputs = summarise(load([str(FIXTURES / "broken")])).inputs
    assert (inputs.entries, len(inputs.rejected), inputs.unjudged, inputs.unrecognised) == (19, 5, 1, 0)
    assert (inputs.duplicates, len(inputs.conflicts), inputs.records) == (1, 1, 11)


@pytest.mark.parametrize("path", sorted(p.name for p in (FIXTURES / "formats").iterdir()))
def test_every_container_of_the_example_gives_the_example_verdict(path):
    example = summarise(load([str(FIXTURES / "example")]))
    other = summarise(load([str(FIXTURES / "formats" / path)]))
    assert comparable(other) == comparable(example)
