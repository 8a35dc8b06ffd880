"""`verdict.built` makes the verdict's models exactly as pydantic's model_construct does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ConfigDict, Field, ValidationError

from reportgen.judge.verdict import Check, EvidenceRef, Finding, Model, OpenItem, ResolvedChain, built

REF = {"session_id": "sess-1", "source": "ev.ndjson", "line": 7, "kind": "cavra_alert_delivery"}
CASES: list[tuple[type[Model], dict[str, Any]]] = [
    (EvidenceRef, REF),
    (EvidenceRef, {"session_id": None, "source": "ev.ndjson", "line": None}),
    (EvidenceRef, dict(reversed(REF.items()))),  # every field, not in the model's order
    (
        OpenItem,
        {
            "id": "it-1",
            "code": "delivery_failed",
            "severity": "critical",
            "loop": "alert",
            "title": "t",
            "detail": "d",
            "operator_action": "a",
            "opened_at": datetime(2026, 1, 2, tzinfo=UTC),
            "evidence": [built(EvidenceRef, **REF)],
            "evidence_total": 1,
        },
    ),
    (Finding, {"code": "link_broken", "title": "t", "detail": "d"}),
    (
        ResolvedChain,
        {
            "loop": "alert",
            "health_id": "h",
            "provider": "webhook",
            "failures": 2,
            "first_failed_at": None,
            "resolved_at": datetime(2026, 1, 3, tzinfo=UTC),
            "resolved_by": built(EvidenceRef, **REF),
        },
    ),
]


@pytest.mark.parametrize(("cls", "values"), CASES, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(CASES)])
def test_built_models_equal_model_construct_in_fields_order_defaults_and_json(
    cls: type[Model], values: dict[str, Any]
) -> None:
    mine, theirs = built(cls, **values), cls.model_construct(**values)
    assert list(vars(mine).items()) == list(vars(theirs).items())
    assert mine.model_fields_set == theirs.model_fields_set
    assert mine.model_dump_json() == theirs.model_dump_json()
    assert mine == theirs
    cls.model_validate(mine.model_dump())  # what built makes is a valid model


def test_built_models_get_their_own_copy_of_a_mutable_default() -> None:
    first = built(Finding, code="c", title="t", detail="d")
    second = built(Finding, code="c", title="t", detail="d")
    first.evidence.append(built(EvidenceRef, **REF))
    assert second.evidence == []


def test_built_refuses_a_model_whose_field_has_an_alias() -> None:
    class Aliased(Model):
        model_config = ConfigDict(frozen=True)
        name: str = Field(alias="Name")

    with pytest.raises(TypeError, match="alias"):
        built(Aliased, name="x")


def test_built_refuses_a_model_that_is_not_frozen() -> None:
    with pytest.raises(TypeError, match="frozen"):
        built(Check, id="c", title="t", status="pass", evidence="e", operator_action="a")


def test_built_models_are_frozen_and_a_copy_changes_neither_the_original_nor_its_siblings() -> None:
    first, second = built(OpenItem, **CASES[3][1]), built(OpenItem, **CASES[3][1])
    with pytest.raises(ValidationError, match="frozen"):
        first.kind = "cavra_alert_acknowledgement"
    copied = first.model_copy(update={"status": "closed", "waiver_expired": "w-1"})
    assert copied.status == "closed" and copied.model_fields_set == set(CASES[3][1]) | {"status", "waiver_expired"}
    assert first.model_fields_set == second.model_fields_set == set(CASES[3][1])
    assert first.status == second.status == "open"


def test_built_refuses_a_name_that_is_not_a_field() -> None:
    with pytest.raises(TypeError, match="no field detial"):
        built(Finding, code="c", title="t", detail="d", detial="x")
