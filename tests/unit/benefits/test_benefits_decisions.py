"""Decisions as data (R0.9): facts records, their hashes, the basis and the digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import attrs
import numpy as np

from famplan_core.benefits import evaluate_month, fact_names, facts_records, parameters_digest
from famplan_core.benefits.decisions import basis_of
from famplan_core.model.money import Money
from famplan_core.programs import (
    HARDSHIP_RELIEF,
    ONLY_CHILD_REWARD,
    RURAL_REWARD,
    SPECIAL_ASSISTANCE,
    national_parameter_set,
    national_programs,
)
from famplan_core.rules import Parameter, ParameterStep, evaluate_program
from famplan_core.rules.testing_frames import FEMALE, MALE, FrameBuilder

D = dt.date(2026, 11, 1)


def family() -> FrameBuilder:
    """A rural couple with one daughter (died), one couple outside the township, and an
    honour certificate holder with a young only child."""
    b = FrameBuilder()
    b.person("F", birth=dt.date(1950, 3, 1), sex=MALE)
    b.person("M", birth=dt.date(1952, 6, 9), sex=FEMALE)
    b.person("D", birth=dt.date(1980, 1, 1), sex=FEMALE, death=dt.date(2020, 5, 5))
    b.link("F", "D")
    b.link("M", "D")
    b.person("O", birth=dt.date(1950, 3, 1), division="370102001001")
    b.person("K", birth=dt.date(1960, 3, 1))
    b.link("O", "K")
    b.person("H", birth=dt.date(1985, 1, 1))
    b.person("C", birth=dt.date(2015, 4, 2))
    b.link("H", "C")
    b.certificate("GRZ-1", holder="H", child="C", issued_on=dt.date(2016, 1, 1))
    return b


def test_facts_records_are_compact_sorted_json_with_their_sha256() -> None:
    """R0.9: an entitlement keeps the facts its program's clauses declare, for its own row."""
    frame = family().build(D)
    result = evaluate_program(RURAL_REWARD, frame, national_parameter_set())
    texts, hashes = facts_records(RURAL_REWARD, frame, result.rows)

    assert sorted(frame.person_id[result.rows].tolist()) == ["F", "M"]
    record = json.loads(texts[0])
    assert list(record) == sorted(fact_names(RURAL_REWARD))
    assert record["ever_children"] == 1
    assert record["alive"] is True
    assert record["birth_date"] == "1950-03-01"
    assert texts[0] == json.dumps(record, sort_keys=True, separators=(",", ":"))
    assert hashes[0] == hashlib.sha256(texts[0].encode("utf-8")).hexdigest()


def test_row_links_are_person_ids_and_missing_dates_are_null() -> None:
    frame = family().build(D)
    special = evaluate_program(SPECIAL_ASSISTANCE, frame, national_parameter_set())
    texts, _ = facts_records(SPECIAL_ASSISTANCE, frame, special.rows)
    assert {json.loads(t)["only_child"] for t in texts} == {"D"}
    certificate = evaluate_program(ONLY_CHILD_REWARD, frame, national_parameter_set())
    assert certificate.certificate_rows is not None
    texts, _ = facts_records(ONLY_CHILD_REWARD, frame, certificate.certificate_rows)
    record = json.loads(texts[0])
    assert record["certificate.child"] == "C"
    assert record["certificate.certificate_id"] == "GRZ-1"
    assert record["certificate.lapse_from"] is None


def test_a_month_evaluation_keeps_what_the_programs_give_and_filters_nothing_more() -> None:
    """R0.6 is each program's own clause: the month keeps exactly the rows the program gives
    (the person outside the township is not entitled, nobody else is dropped); R5.1: the
    one-off grants are not computed monthly."""
    frame = family().build(D)
    parameters = national_parameter_set()
    evaluation = evaluate_month(frame, national_programs(), parameters)
    assert HARDSHIP_RELIEF.code not in evaluation.outcomes
    for code, outcome in evaluation.outcomes.items():
        program = outcome.program
        expected = evaluate_program(program, frame, parameters)
        assert outcome.person_ids == frame.person_id[expected.rows].tolist(), code
        assert outcome.amounts_fen == expected.amounts_fen.tolist()
        assert len(outcome.facts) == len(outcome.facts_hashes) == len(outcome.person_ids)
    rural = evaluation.outcomes["rural_reward"]
    assert "O" not in rural.person_ids
    assert rural.amounts_fen == [8000, 8000]
    special = evaluation.outcomes["special_assistance"]
    assert special.categories == ["death", "death"]
    assert evaluation.outcomes["only_child_reward"].certificate_ids == ["GRZ-1"]
    lean = evaluate_month(frame, national_programs(), parameters, keep_facts=False)
    assert lean.outcomes["rural_reward"].facts == []


def _raise() -> Parameter:
    return Parameter(
        program="rural_reward",
        name="annual_amount",
        description="raise",
        reference="doc",
        unit="CNY/year",
        values=(
            ParameterStep(start=dt.date(2027, 1, 1), value=Money.parse("1200.00"), source="P"),
        ),
        source="P",
    )


def test_the_digest_changes_with_parameters_versions_and_division() -> None:
    programs = national_programs()
    parameters = national_parameter_set()
    digest = parameters_digest(programs, parameters, "371502110")
    assert digest == parameters_digest(programs, national_parameter_set(), "371502110")
    assert digest != parameters_digest(programs, parameters, "371502111")
    assert digest != parameters_digest(programs, parameters.overlaid_by([_raise()]), "371502110")
    bumped = [attrs.evolve(p, version="2") if p.code == "rural_reward" else p for p in programs]
    assert digest != parameters_digest(bumped, parameters, "371502110")


def test_the_basis_is_the_values_on_d_with_their_provenance() -> None:
    """A later step that does not apply on D leaves the basis of D's decisions unchanged."""
    frame = family().build(D)
    before = evaluate_program(RURAL_REWARD, frame, national_parameter_set())
    after = evaluate_program(RURAL_REWARD, frame, national_parameter_set().overlaid_by([_raise()]))
    assert basis_of(RURAL_REWARD, before) == basis_of(RURAL_REWARD, after)
    next_year = evaluate_program(
        RURAL_REWARD,
        family().build(dt.date(2027, 1, 1)),
        national_parameter_set().overlaid_by([_raise()]),
    )
    parameters_json, basis = basis_of(RURAL_REWARD, next_year)
    assert basis != basis_of(RURAL_REWARD, before)[1]
    uses = {u["name"]: u for u in json.loads(parameters_json)}
    assert uses["annual_amount"] == {
        "name": "annual_amount",
        "value": "1200.00",
        "unit": "CNY/year",
        "from": "2027-01-01",
        "source": "P",
        "reference": "doc",
    }
    assert np.array_equal(next_year.amounts_fen, [10000, 10000])
