"""`verdict.built` makes the verdict's models exactly as pydantic's model_construct does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import Field

from reportgen.judge.verdict import EvidenceRef, Finding, Model, OpenItem, ResolvedChain, built

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
        name: str = Field(alias="Name")

    with pytest.raises(TypeError, match="alias"):
        built(Aliased, name="x")


def test_assigning_to_or_copying_a_built_model_leaves_every_other_model_as_it_was() -> None:
    first, second = built(EvidenceRef, **REF), built(EvidenceRef, **REF)
    first.kind = "cavra_alert_acknowledgement"
    copied = second.model_copy(update={"line": 9})
    partial = built(EvidenceRef, session_id=None, source="s", line=None)
    partial.kind = "k"
    assert second.model_fields_set == set(REF) and second.kind == REF["kind"]
    assert copied.line == 9 and second.line == 7
    assert built(EvidenceRef, session_id=None, source="s", line=None).model_fields_set == {
        "session_id",
        "source",
        "line",
    }
