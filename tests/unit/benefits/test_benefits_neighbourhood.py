"""The neighbourhood frame: just the persons a decision reads, the same facts as the whole."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from famplan_core.benefits import depth_for, load_neighbourhood, neighbourhood_frame
from famplan_core.programs import RURAL_REWARD, national_parameter_set, national_programs
from famplan_core.rules import Clause, explain
from famplan_core.storage import SqlStorage
from famplan_core.testing import PERSON_COLUMNS, person_row

D = dt.date(2026, 11, 1)
DIVISION = "371502110"


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[SqlStorage]:
    """P and Q are the parents of K; Q and R of H; K of G. P holds an honour certificate
    for K; K holds a disability certificate; X is a stranger."""
    store = SqlStorage(f"sqlite:///{tmp_path / 'famplan.db'}", migrate=True)
    with store.unit_of_work(actor="t", recorded_at=dt.datetime(2026, 11, 20, 8)) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("P", birth_date="1960-02-01"),
                person_row("Q", sex="2", birth_date="1962-03-01"),
                person_row("R", birth_date="1958-01-01"),
                person_row("K", sex="2", birth_date="1990-05-05"),
                person_row("H", birth_date="1995-05-05"),
                person_row("G", birth_date="2015-05-05"),
                person_row("X", birth_date="1940-01-01"),
            ],
        )
        uow.upsert_rows(
            "parent_child",
            ("parent_id", "child_id", "kind", "since"),
            [
                ("P", "K", "birth", ""),
                ("Q", "K", "birth", ""),
                ("Q", "H", "birth", ""),
                ("R", "H", "birth", ""),
                ("K", "G", "birth", ""),
            ],
        )
        uow.upsert_rows(
            "certificates",
            ("certificate_id", "kind", "holder_id", "child_id", "issued_on", "revoked_on"),
            [("GRZ-1", "honour", "P", "K", "1991-01-01", "")],
        )
        uow.upsert_rows(
            "disabilities",
            ("person_id", "grade", "category", "valid_from", "valid_to"),
            [("K", "2", "", "2010-01-01", "")],
        )
    yield store
    store.close()


def test_it_loads_the_person_their_children_the_other_parents_and_certificate_children(
    storage: SqlStorage,
) -> None:
    with storage.reader() as reader:
        records = load_neighbourhood(reader.connection, ["P"])
        deeper = load_neighbourhood(reader.connection, ["P"], depth=2)
    assert sorted(p.person_id for p in records.persons) == ["K", "P", "Q"]
    assert sorted((c.parent_id, c.child_id) for c in records.parent_child) == [
        ("P", "K"),
        ("Q", "K"),
    ]
    assert [c.certificate_id for c in records.certificates] == ["GRZ-1"]
    assert [d.person_id for d in records.disabilities] == ["K"]
    assert sorted(p.person_id for p in deeper.persons) == ["G", "K", "P", "Q"]


def test_its_rows_hold_the_facts_of_the_whole_register(storage: SqlStorage) -> None:
    """R0.9: every program explains P, Q and K as a frame of the whole register does."""
    whole = storage.facts_frame(D, DIVISION)
    parameters = national_parameter_set()
    for person in ("P", "Q", "K", "X"):
        with storage.reader() as reader:
            small = neighbourhood_frame(reader.connection, [person], D, DIVISION)
        for program in national_programs():
            expected = explain(program, whole, whole.row_of(person), parameters).as_dict()
            found = explain(program, small, small.row_of(person), parameters).as_dict()
            expected.pop("row")
            found.pop("row")
            assert found == expected, (person, program.code)


def test_depth_two_when_a_program_reads_a_linked_person_s_own_children() -> None:
    assert depth_for(national_programs()) == 1
    grandchildren = Clause(
        ref="X1",
        name="only_child_has_children",
        text_en="The only child has children on {date}",
        text_zh="{date}独生子女已有子女",
        facts=("only_child.ever_children",),
        test=lambda f, p: f["only_child.ever_children"] > 0,
    )
    reads_further = attrs.evolve(
        RURAL_REWARD, code="x", clauses=(*RURAL_REWARD.clauses, grandchildren)
    )
    assert depth_for([reads_further]) == 2
