"""The Shandong overlay applies only where the plugin is enabled, and says where it came from."""

from __future__ import annotations

import datetime as dt

from famplan_core.model import DivisionCode, HukouType, LinkKind, ParentChild, Person, Sex
from famplan_core.plugin_manager import PluginManager
from famplan_core.register import RegisterRecords, fold_frame
from famplan_core.rules import evaluate_program, explain

VILLAGE = DivisionCode("371502110201")
PARENT = Person(
    person_id="p",
    name="王大山",
    sex=Sex.MALE,
    birth_date=dt.date(1955, 1, 1),
    hukou_division=VILLAGE,
    hukou_type=HukouType.RURAL,
)
CHILD = Person(
    person_id="c",
    name="王小芳",
    sex=Sex.FEMALE,
    birth_date=dt.date(1985, 6, 1),
    hukou_division=VILLAGE,
    hukou_type=HukouType.RURAL,
)
RECORDS = RegisterRecords(
    persons=[PARENT, CHILD],
    parent_child=[ParentChild(parent_id="p", child_id="c", kind=LinkKind.BIRTH)],
)


def _monthly_amount(environ: dict[str, str], month: dt.date) -> str:
    manager = PluginManager.assemble(environ=environ)
    program = manager.programs()["rural_reward"]
    result = evaluate_program(
        program, fold_frame(RECORDS, month, "371502110"), manager.parameter_set()
    )
    amounts = dict(zip(result.rows.tolist(), result.amounts_fen.tolist(), strict=True))
    return f"{amounts[0] / 100:.2f}"


def test_r2_6_override_applies_from_its_first_date_only_when_enabled() -> None:
    enabled = {"FAMPLAN_LOAD_PLUGINS": "policy-shandong"}
    disabled = {"FAMPLAN_LOAD_PLUGINS": ""}
    assert _monthly_amount(enabled, dt.date(2024, 12, 1)) == "80.00"  # national history kept
    assert _monthly_amount(enabled, dt.date(2025, 1, 1)) == "100.00"
    assert _monthly_amount(disabled, dt.date(2025, 1, 1)) == "80.00"


def test_the_explanation_names_the_provenance_of_the_value() -> None:
    manager = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": "policy-shandong"})
    frame = fold_frame(RECORDS, dt.date(2025, 3, 1), "371502110")
    text = explain(manager.programs()["rural_reward"], frame, 0, manager.parameter_set()).as_text()
    assert "Shandong" in text
    assert "to be confirmed" in text
