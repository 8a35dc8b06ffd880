"""The kinds table: every record kind described once, and each shared behaviour written once."""

from __future__ import annotations

import pytest

from reportgen.evidence import behaviour, kinds, lean, schema
from reportgen.evidence.loops import LOOPS


def test_every_kind_the_schema_and_the_lean_structs_read_is_a_row_of_the_table():
    modelled = {
        kind
        for model in schema.EvidenceRecord.__origin__.__args__
        for kind in model.model_fields["metadata_kind"].annotation.__args__
    }
    assert modelled == kinds.KNOWN_KINDS
    assert {struct.__struct_config__.tag for struct in lean.KINDS} == kinds.KNOWN_KINDS


def test_an_alert_loops_kinds_are_its_rows_with_its_nested_keys():
    for spec in LOOPS:
        for kind, key in spec.kinds.items():
            assert kinds.BY_KIND[kind].nested_key == key and kinds.loop_of_kind(kind) == spec.name


def test_a_kinds_label_goes_by_the_end_of_its_name_and_no_end_is_the_end_of_another():
    ends = [suffix for suffix, _ in kinds.KIND_LABELS]
    assert not [(a, b) for a in ends for b in ends if a != b and a.endswith(b)]
    for kind in kinds.KINDS:
        assert kind.metadata_kind.endswith(kind.suffix)
        assert set(kind.lanes) <= set(kinds.LANES)


@pytest.mark.parametrize(
    ("name", "mixin"),
    [
        ("Delivery", behaviour.DeliveryBehaviour),
        ("AlertPlan", behaviour.AlertPlanBehaviour),
        ("ArchiveAlertPlan", behaviour.AlertPlanBehaviour),
        ("RetryPlan", behaviour.RetryPlanBehaviour),
        ("WorkerRun", behaviour.WorkerRunBehaviour),
        ("Execution", behaviour.ExecutionBehaviour),
        ("NotificationPlan", behaviour.NotificationPlanBehaviour),
    ],
)
def test_a_behaviour_is_written_once_for_the_model_and_the_struct_of_a_kind(name, mixin):
    model, struct = getattr(schema, name), getattr(lean, name)
    assert issubclass(model, mixin) and issubclass(struct, mixin)
    for attribute in vars(mixin):
        if not attribute.startswith("__"):
            assert getattr(model, attribute) is getattr(struct, attribute) is vars(mixin)[attribute], attribute
    assert mixin.__slots__ == ()
