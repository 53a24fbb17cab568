"""Clauses, programs, column-wise evaluation and explanation, on a toy program (R0.1, R0.9)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest

from famplan_core.errors import ParameterNotFoundError, PluginContractError, ValidationError
from famplan_core.model.frame import FactsFrame
from famplan_core.model.money import Money
from famplan_core.rules import (
    AmountRule,
    CategoryRule,
    Clause,
    Facts,
    Parameter,
    ParameterSet,
    ParameterStep,
    ParameterView,
    Program,
    evaluate_program,
    explain,
    fact_paths,
    first_certificate_per_holder,
)
from famplan_core.rules.clause import PERSON_COLUMNS
from famplan_core.rules.testing_frames import FEMALE, FrameBuilder

D = dt.date(2026, 11, 1)


def _params(start: dt.date = dt.date(2020, 1, 1)) -> ParameterSet:
    return ParameterSet.of(
        [
            Parameter(
                program="toy",
                name="monthly_amount",
                description="d",
                reference="toy reference",
                unit="CNY/month",
                values=(ParameterStep(start=start, value=Money.parse("12.34")),),
            ),
            Parameter(
                program="toy",
                name="min_age",
                description="d",
                reference="toy reference",
                unit="years",
                values=(ParameterStep(start=start, value=18),),
            ),
        ]
    )


def _adult(f: Facts, p: ParameterView) -> np.ndarray:
    return np.asarray(f["age"] >= p.integer("min_age"))


ADULT = Clause(
    ref="T.1",
    name="adult",
    text_en="Aged {min_age} or more on {date}",
    text_zh="{date}年满{min_age}周岁",
    facts=("age",),
    parameters=("min_age",),
    test=_adult,
)
HAS_ONLY_CHILD = Clause(
    ref="T.2",
    name="only_child_alive",
    text_en="Has an only child alive on {date}",
    text_zh="{date}独生子女在世",
    facts=("only_child", "only_child.alive"),
    test=lambda f, p: (f["only_child"] >= 0) & f["only_child.alive"],
)


def _flat(f: Facts, p: ParameterView, codes: np.ndarray) -> np.ndarray:
    return np.full(len(f), p.amount("monthly_amount").fen, dtype=np.int64)


TOY = Program(
    code="toy",
    name_zh="玩具",
    name_en="Toy program",
    beneficiary="person",
    clauses=(ADULT, HAS_ONLY_CHILD),
    categories=("female", "other"),
    categories_zh=("女", "其他"),
    category=CategoryRule(
        ref="T.3",
        facts=("sex",),
        assign=lambda f, p: np.where(f["sex"] == FEMALE, 0, 1).astype(np.int8),
    ),
    amount=AmountRule(ref="T.4", facts=(), parameters=("monthly_amount",), compute=_flat),
)


def _frame(on: dt.date = D) -> FactsFrame:
    b = FrameBuilder()
    b.person("A", birth=dt.date(1970, 1, 1), sex=FEMALE)
    b.person("B", birth=dt.date(1971, 1, 1))
    b.person("KA", birth=dt.date(2000, 1, 1))
    b.person("KB", birth=dt.date(2001, 1, 1), death=dt.date(2020, 1, 1))
    b.person("Y", birth=dt.date(2015, 1, 1))
    b.link("A", "KA").link("B", "KB")
    return b.build(on)


def test_person_columns_match_the_facts_frame() -> None:
    assert _frame().PERSON_COLUMNS == PERSON_COLUMNS


def test_r0_1_clauses_and_together_over_all_rows() -> None:
    result = evaluate_program(TOY, _frame(), _params())
    assert result.rows.tolist() == [0]
    assert result.amounts_fen.tolist() == [1234]
    assert result.categories.tolist() == ["female"]
    assert result.category_of(0) == "female"
    assert result.amount_of(0) == Money(1234)
    assert result.amount_of(1) is None
    assert result.entitled_mask().tolist() == [True, False, False, False, False]
    assert result.total == Money(1234)
    assert result.version == "1"
    assert {use.name for use in result.parameters} == {"monthly_amount", "min_age"}


def test_r0_8_program_before_first_value_is_not_in_force() -> None:
    result = evaluate_program(TOY, _frame(), _params(start=dt.date(2027, 1, 1)))
    assert not result.in_force
    assert len(result) == 0
    explanation = explain(TOY, _frame(), 0, _params(start=dt.date(2027, 1, 1)))
    assert not explanation.in_force
    assert not explanation.entitled
    assert "2027-01-01" in explanation.as_text()


def test_clause_evaluate_on_whole_frame_and_on_rows_agree() -> None:
    frame = _frame()
    view = _params().view("toy", D)
    whole = HAS_ONLY_CHILD.evaluate(frame, view)
    assert whole.tolist() == [True, False, False, False, False]
    assert HAS_ONLY_CHILD.evaluate(frame, view, rows=np.array([1, 0])).tolist() == [False, True]


def test_facts_through_missing_link_are_filled() -> None:
    facts = Facts(_frame())
    assert facts["only_child.alive"].tolist() == [True, False, False, False, False]
    assert facts["only_child.age"].tolist()[2:] == [-1, -1, -1]
    assert np.isnat(facts["only_child.birth_date"][4])
    assert facts["only_child.person_id"].tolist() == ["KA", "KB", "", "", ""]


def test_clause_reading_an_undeclared_fact_breaks_its_contract() -> None:
    sneaky = Clause(
        ref="X",
        name="sneaky",
        text_en="x",
        text_zh="x",
        facts=("age",),
        test=lambda f, p: f["alive"],
    )
    with pytest.raises(PluginContractError, match="alive"):
        sneaky.evaluate(_frame(), _params().view("toy", D))


def test_clause_reading_an_undeclared_parameter_breaks_its_contract() -> None:
    sneaky = Clause(
        ref="X",
        name="sneaky",
        text_en="x",
        text_zh="x",
        facts=("age",),
        test=lambda f, p: f["age"] >= p.integer("min_age"),
    )
    with pytest.raises(ParameterNotFoundError, match="min_age"):
        sneaky.evaluate(_frame(), _params().view("toy", D))


def test_clause_declarations_are_checked() -> None:
    with pytest.raises(PluginContractError, match="unknown facts"):
        Clause(ref="X", name="x", text_en="x", text_zh="x", facts=("shoe_size",), test=ADULT.test)
    with pytest.raises(PluginContractError, match="names"):
        Clause(ref="X", name="x", text_en="{limit}", text_zh="x", facts=(), test=ADULT.test)
    assert "holder.alive" in fact_paths("certificate")
    assert "only_child.alive" in fact_paths("person")


def test_clause_must_return_one_bool_per_row() -> None:
    wrong = Clause(
        ref="X", name="x", text_en="x", text_zh="x", facts=("age",), test=lambda f, p: f["age"]
    )
    with pytest.raises(PluginContractError, match="bool"):
        wrong.evaluate(_frame(), _params().view("toy", D))


def test_program_declarations_are_checked() -> None:
    with pytest.raises(PluginContractError, match="categories"):
        Program(
            code="x",
            name_zh="x",
            name_en="x",
            beneficiary="person",
            clauses=(),
            amount=TOY.amount,
            categories=("a",),
        )
    with pytest.raises(PluginContractError, match="amount"):
        Program(code="x", name_zh="x", name_en="x", beneficiary="person", clauses=(), amount=None)
    assert TOY.parameter_names == ("min_age", "monthly_amount")
    assert TOY.find_clause("T.2") is HAS_ONLY_CHILD
    assert TOY.find_clause("T.9") is None


def test_r0_9_explanation_uses_the_same_clauses_and_shows_facts_and_parameters() -> None:
    frame = _frame()
    entitled = explain(TOY, frame, 0, _params())
    assert entitled.entitled
    assert entitled.amount == Money(1234)
    assert (entitled.category, entitled.category_zh) == ("female", "女")
    assert [o.clause for o in entitled.clauses] == list(TOY.clauses)
    assert entitled.clauses[0].fact("age") == 56
    assert entitled.clauses[1].facts == (("only_child", "KA"), ("only_child.alive", True))
    text = entitled.as_text()
    assert "T.1 Aged 18 or more on 2026-11-01: yes (age: 56)" in text
    assert "monthly_amount = 12.34 CNY/month, from 2020-01-01 (national; toy reference)" in text
    zh = entitled.as_text("zh")
    assert "T.1 2026-11-01年满18周岁：是（年龄：56）" in zh
    assert "类别：女" in zh

    refused = explain(TOY, frame, 1, _params())
    assert not refused.entitled
    failing = refused.first_failing
    assert failing is not None
    assert failing.ref == "T.2"
    assert "First condition not met: T.2" in refused.as_text()
    data = refused.as_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["first_failing"] == "T.2"
    assert data["entitled"] is False


def test_explanation_agrees_with_evaluation_for_every_row() -> None:
    frame = _frame()
    result = evaluate_program(TOY, frame, _params())
    for row in range(len(frame)):
        explanation = explain(TOY, frame, row, _params())
        assert explanation.entitled == (row in result.rows)
        assert explanation.amount == result.amount_of(row)
        assert explanation.category == result.category_of(row)


def test_explain_refuses_a_row_outside_the_frame_and_an_unknown_language() -> None:
    with pytest.raises(ValidationError, match="row"):
        explain(TOY, _frame(), 99, _params())
    with pytest.raises(ValidationError, match="lang"):
        explain(TOY, _frame(), 0, _params()).as_text("fr")


def test_category_rule_giving_no_category_to_an_entitled_row_breaks_contract() -> None:
    broken = Program(
        code="toy",
        name_zh="x",
        name_en="x",
        beneficiary="person",
        clauses=(ADULT,),
        categories=("only",),
        category=CategoryRule(
            ref="X", facts=(), assign=lambda f, p: np.full(len(f), -1, dtype=np.int8)
        ),
        amount=TOY.amount,
    )
    with pytest.raises(PluginContractError, match="no category"):
        evaluate_program(broken, _frame(), _params())


def test_r4_6_first_certificate_per_holder_by_issue_date_then_id() -> None:
    holders = np.array([5, 3, 5, 5, 3], dtype=np.int64)
    issued = np.array(
        ["2001-01-01", "1999-01-01", "2000-01-01", "2000-01-01", "1999-01-01"],
        dtype="datetime64[D]",
    )
    ids = np.array(["c", "z", "b", "a", "y"], dtype=object)
    chosen = first_certificate_per_holder(holders, issued, ids)
    assert chosen.tolist() == [4, 3]
    assert first_certificate_per_holder(holders[:0], issued[:0], ids[:0]).tolist() == []
