"""A sensitive field leaves only when its message type's purpose needs it (issue 5, item 2).

The sensitivity of each field is the one declared on the register's model field
(`famplan_core.model.sensitivity`), and for a type whose subject may be a child under 14,
every field from the register is sensitive (PIPL Art. 28).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from famplan_core.exchange.inbound import verification_answer
from famplan_core.exchange.messages import (
    MESSAGE_TYPES,
    PROGRAM_CHILD_FIELDS,
    PROGRAMS_NEEDING_DEATHS,
    FieldRule,
    MessageField,
    MessageType,
    Route,
    field_sensitivity,
    minimise,
)
from famplan_core.model.facts import Certificate, DisabilityCertificate, ParentChild
from famplan_core.model.people import Household, Person
from famplan_core.model.sensitivity import Sensitivity, sensitivity_of
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

_CHILD_BODY = "371502" + "19900101" + "024"
CHILD = _CHILD_BODY + gb11643_check(_CHILD_BODY)


def test_every_field_takes_the_sensitivity_of_its_model_field() -> None:
    for t in MESSAGE_TYPES.values():
        for f in t.fields:
            if f.source is None:
                continue
            cls, name = f.source
            own = sensitivity_of(cls, name)
            expected = Sensitivity.SENSITIVE if t.may_concern_child else own
            assert field_sensitivity(t, f) is expected, (t.name, f.name)


def test_every_sensitive_field_that_leaves_has_a_reason_of_its_type() -> None:
    for t in MESSAGE_TYPES.values():
        for f in t.fields:
            if field_sensitivity(t, f) is Sensitivity.SENSITIVE:
                assert t.needs.get(f.name), f"{t.name}.{f.name} leaves without a reason"


def test_a_type_carrying_a_sensitive_field_without_a_reason_is_refused() -> None:
    death = MessageField(name="death_date", rule=FieldRule.DATE, source=(Person, "death_date"))
    with pytest.raises(ValueError, match="only when the type's purpose needs it"):
        MessageType(
            name="gossip",
            routes=frozenset({Route.TOWNSHIP_TO_TOWNSHIP}),
            purpose="none",
            fields=(death,),
        )
    # the same field is accepted once its purpose is declared
    MessageType(
        name="gossip",
        routes=frozenset({Route.TOWNSHIP_TO_TOWNSHIP}),
        purpose="a lawful one",
        fields=(death,),
        needs={"death_date": "the program needs it"},
    )


def test_no_type_carries_disabilities_certificates_or_households() -> None:
    never = {DisabilityCertificate, Certificate, Household}
    for t in MESSAGE_TYPES.values():
        for f in t.fields:
            assert f.source is None or f.source[0] not in never, (t.name, f.name)


def test_death_dates_leave_only_in_the_types_whose_purpose_is_a_death() -> None:
    carrying = {
        t.name
        for t in MESSAGE_TYPES.values()
        for f in t.fields
        if f.source == (Person, "death_date")
    }
    assert carrying == {"death", "verified_child"}
    # adoption links (sensitive) only where R0.4 needs them
    linking = {
        t.name
        for t in MESSAGE_TYPES.values()
        for f in t.fields
        if f.source and f.source[0] is ParentChild
    }
    assert linking == {"verified_child"}


def test_minimise_keeps_only_the_declared_fields() -> None:
    row = dict(
        zip(
            PERSON_COLUMNS,
            person_row("P1", death_date="2026-01-01", household_id="HH1"),
            strict=True,
        )
    )
    payload = minimise(
        "verification_request", {**row, "program": "rural_reward", "asked_on": "2026-04-10"}
    )
    assert set(payload) <= set(MESSAGE_TYPES["verification_request"].field_names)
    assert "death_date" not in payload
    assert "household_id" not in payload
    assert minimise("hukou_move", {**row, "grade": "1"}).keys() <= set(
        MESSAGE_TYPES["hukou_move"].field_names
    )


@pytest.mark.parametrize("program", sorted(PROGRAM_CHILD_FIELDS))
def test_a_verified_child_carries_only_what_the_program_needs(tmp_path: Path, program: str) -> None:
    body = "371502" + "19600315" + "011"
    parent = body + gb11643_check(body)
    storage = SqlStorage(f"sqlite:///{tmp_path / 'x.db'}", migrate=True)
    try:
        with storage.unit_of_work(actor="t", recorded_at=dt.datetime(2026, 4, 1)) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [
                    person_row("P1", citizen_id=parent, name="王建国", birth_date="1960-03-15"),
                    person_row(
                        "C1",
                        citizen_id=CHILD,
                        sex="2",
                        birth_date="1990-01-01",
                        death_date="2020-01-01",
                    ),
                    person_row("S1", sex="1", birth_date="1992-01-01"),
                ],
            )
            uow.upsert_rows(
                "parent_child",
                ("parent_id", "child_id", "kind", "since"),
                [("P1", "C1", "birth", ""), ("P1", "S1", "step", "2000-01-01")],
            )
            uow.upsert_rows(
                "hukou_changes",
                ("person_id", "date", "hukou_division", "hukou_type"),
                [
                    ("P1", "1960-03-15", "371502110001", "rural"),
                    ("P1", "2026-03-15", "371502115201", "rural"),
                ],
            )
        with storage.reader() as reader:
            answer = verification_answer(
                reader.connection,
                sender="371502110",
                request_id="371502115.abc",
                request={
                    "citizen_id": parent,
                    "name": "王建国",
                    "birth_date": "1960-03-15",
                    "program": program,
                    "asked_on": "2026-04-10",
                },
                requester="371502115",
            )
    finally:
        storage.close()
    kinds = [kind for kind, _ in answer]
    assert kinds == ["verification_reply", "verified_child"]  # the step child never counts (R0.4)
    child = answer[1][1]
    assert ("death_date" in child) is (program in PROGRAMS_NEEDING_DEATHS)
    assert ("citizen_id" in child) is (program == "childcare_subsidy")
    assert set(child) <= set(MESSAGE_TYPES["verified_child"].field_names)
