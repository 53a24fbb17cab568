"""The national programs R1-R5 of spec/programs.md (国家待遇项目), exactly as written there.

Each program is a `Program` of `Clause` objects written column-wise over the `FactsFrame`;
their amounts and age limits are effective-dated parameters read from the YAML files in
``famplan_core/programs/parameters/`` (national floors; a province overlays its own). The
birth-date floor of 1933-01-01 (R2.2, R3.2) is part of the clause text, not a parameter.

* R1 `CHILDCARE_SUBSIDY` (育儿补贴): the child, alive and under 3.
* R2 `RURAL_REWARD` (农村部分计划生育家庭奖励扶助): each parent, rural, 60+, one child or two
  daughters.
* R3 `SPECIAL_ASSISTANCE` (计划生育家庭特别扶助): each parent of an only child who died or is
  disabled (grade 1-3), the child's mother 49+.
* R4 `ONLY_CHILD_REWARD` (独生子女父母奖励费): each honour-certificate holder while the child is
  under 18, evaluated per certificate.
* R5 `HARDSHIP_RELIEF` (计划生育特困家庭救助): one-off grants, nothing monthly; see
  `validate_grant`.
"""

from __future__ import annotations

import datetime as dt
import functools
from importlib.resources import files

import numpy as np
import numpy.typing as npt

from famplan_core.errors import Problem, ValidationError
from famplan_core.model.money import Money
from famplan_core.rules import (
    AmountRule,
    CategoryRule,
    Clause,
    Facts,
    Parameter,
    ParameterSet,
    ParameterView,
    Program,
    latest_birth_for_age,
    load_parameter_directory,
)
from famplan_core.rules.clause import BoolArray, IntArray

__all__ = [
    "BORN_ON_OR_AFTER",
    "CHILDCARE_SUBSIDY",
    "HARDSHIP_RELIEF",
    "ONLY_CHILD_REWARD",
    "RURAL_REWARD",
    "SPECIAL_ASSISTANCE",
    "national_parameter_set",
    "national_parameters",
    "national_programs",
    "validate_grant",
]

BORN_ON_OR_AFTER = dt.date(1933, 1, 1)
"""R2.2, R3.2: a parent born before this date does not qualify."""

_BORN_FLOOR = np.datetime64(BORN_ON_OR_AFTER, "D")


def _day(facts: Facts) -> np.datetime64:
    return np.datetime64(facts.date, "D")


def _flat_amount(facts: Facts, params: ParameterView, _codes: npt.NDArray[np.int8]) -> IntArray:
    return np.full(len(facts), params.amount("monthly_amount").fen, dtype=np.int64)


# R0.6: the jurisdiction clause of every program paid to a person row.
_IN_JURISDICTION = Clause(
    ref="R0.6",
    name="in_jurisdiction",
    text_en="Hukou inside the jurisdiction on {date}",
    text_zh="{date}户籍在本辖区",
    facts=("in_jurisdiction",),
    test=lambda f, p: f["in_jurisdiction"],
)

_ALIVE = Clause(
    ref="R1.2",
    name="alive",
    text_en="Alive on {date}",
    text_zh="{date}在世",
    facts=("alive",),
    test=lambda f, p: f["alive"],
)


def _under_age_limit(f: Facts, p: ParameterView) -> BoolArray:
    age = f["age"]
    result: BoolArray = (age >= 0) & (age < p.integer("age_limit"))
    return result


_CHILD_UNDER_LIMIT = Clause(
    ref="R1.3",
    name="under_age_limit",
    text_en="Aged under {age_limit} on {date}",
    text_zh="{date}未满{age_limit}周岁",
    facts=("age",),
    parameters=("age_limit",),
    test=_under_age_limit,
)

CHILDCARE_SUBSIDY = Program(
    code="childcare_subsidy",
    name_zh="育儿补贴",
    name_en="National childcare subsidy",
    beneficiary="child",
    clauses=(_IN_JURISDICTION, _ALIVE, _CHILD_UNDER_LIMIT),
    amount=AmountRule(
        ref="R1.4",
        facts=(),
        parameters=("monthly_amount",),
        compute=_flat_amount,
    ),
    reference="中共中央办公厅 国务院办公厅《育儿补贴制度实施方案》(2025)",
    version="1",
)
"""R1: one entitlement per child under 3, from 2025-01-01; nothing else is asked (R1.5)."""


def _alive_born_aged(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = (
        f["alive"] & (f["birth_date"] >= _BORN_FLOOR) & (f["age"] >= p.integer("min_age"))
    )
    return result


def _rural(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = f["hukou_known"] & f["hukou_rural"]
    return result


def _has_child(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = f["ever_children"] >= 1
    return result


def _one_child_or_two_daughters(f: Facts, p: ParameterView) -> BoolArray:
    children = f["ever_children"]
    result: BoolArray = (children == 1) | ((children == 2) & (f["ever_daughters"] == 2))
    return result


def _annual_to_monthly(
    facts: Facts, params: ParameterView, _codes: npt.NDArray[np.int8]
) -> IntArray:
    monthly = params.amount("annual_amount").monthly_from_annual()
    return np.full(len(facts), monthly.fen, dtype=np.int64)


RURAL_REWARD = Program(
    code="rural_reward",
    name_zh="农村部分计划生育家庭奖励扶助",
    name_en="Rural family reward support",
    beneficiary="person",
    clauses=(
        _IN_JURISDICTION,
        Clause(
            ref="R2.2",
            name="alive_born_1933_aged",
            text_en="Alive, born on or after 1933-01-01, and aged {min_age} or more on {date}",
            text_zh="{date}在世、1933年1月1日以后出生且年满{min_age}周岁",
            facts=("alive", "birth_date", "age"),
            parameters=("min_age",),
            test=_alive_born_aged,
        ),
        Clause(
            ref="R2.3",
            name="rural_hukou",
            text_en="Rural hukou on {date}",
            text_zh="{date}为农村户籍",
            facts=("hukou_known", "hukou_rural"),
            test=_rural,
        ),
        Clause(
            ref="R2.5",
            name="has_a_child",
            text_en="Has had at least one child by {date}",
            text_zh="截至{date}至少有过一个子女",
            facts=("ever_children",),
            test=_has_child,
        ),
        Clause(
            ref="R2.4",
            name="one_child_or_two_daughters",
            text_en="Children ever, by {date}: one, or two who are both daughters",
            text_zh="截至{date}共有过一个子女，或两个且均为女儿",
            facts=("ever_children", "ever_daughters"),
            test=_one_child_or_two_daughters,
        ),
    ),
    amount=AmountRule(
        ref="R2.6", facts=(), parameters=("annual_amount",), compute=_annual_to_monthly
    ),
    reference="国办发〔2004〕21号; 财教〔2011〕623号",
    version="1",
)
"""R2: each rural parent aged 60+ with one child or two daughters; annual amount / 12 (R0.7)."""

_SPECIAL_CATEGORIES = ("death", "disability")


def _alive_born(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = f["alive"] & (f["birth_date"] >= _BORN_FLOOR)
    return result


def _exactly_one_child(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = (f["ever_children"] == 1) & (f["only_child"] >= 0)
    return result


def _mother_aged(f: Facts, p: ParameterView) -> BoolArray:
    latest = np.datetime64(latest_birth_for_age(f.date, p.integer("mother_min_age")), "D")
    result: BoolArray = f["only_child_mother_birth_date"] <= latest  # NaT: False
    return result


def _died_or_disabled(f: Facts, p: ParameterView) -> BoolArray:
    grade = f["only_child.disability_grade"]
    result: BoolArray = (f["only_child"] >= 0) & (
        ~f["only_child.alive"] | ((grade >= 1) & (grade <= 3))
    )
    return result


def _special_category(f: Facts, p: ParameterView) -> npt.NDArray[np.int8]:
    # R3.5 / R3.7: death (0) as soon as K is not alive on D, even if K was disabled before.
    result: npt.NDArray[np.int8] = np.where(f["only_child.alive"], 1, 0).astype(np.int8)
    return result


def _special_amount(f: Facts, p: ParameterView, codes: npt.NDArray[np.int8]) -> IntArray:
    rural = f["hukou_rural"]
    fen = np.zeros(len(f), dtype=np.int64)
    for code, category in enumerate(_SPECIAL_CATEGORIES):
        for is_rural, kind in ((False, "urban"), (True, "rural")):
            chosen = (codes == code) & (rural == is_rural)
            if chosen.any():
                fen[chosen] = p.table_amount("monthly_amount", f"{category}.{kind}").fen
    return fen


SPECIAL_ASSISTANCE = Program(
    code="special_assistance",
    name_zh="计划生育家庭特别扶助",
    name_en="Special assistance for families whose only child has died or is disabled",
    beneficiary="person",
    clauses=(
        _IN_JURISDICTION,
        Clause(
            ref="R3.2",
            name="alive_born_1933",
            text_en="Alive and born on or after 1933-01-01, on {date}",
            text_zh="{date}在世且1933年1月1日以后出生",
            facts=("alive", "birth_date"),
            test=_alive_born,
        ),
        Clause(
            ref="R3.3",
            name="exactly_one_child",
            text_en="Has had exactly one child by {date}",
            text_zh="截至{date}只有过一个子女",
            facts=("ever_children", "only_child"),
            test=_exactly_one_child,
        ),
        Clause(
            ref="R3.4",
            name="mother_aged",
            text_en="The child's mother is aged {mother_min_age} or more on {date}",
            text_zh="{date}子女的母亲年满{mother_min_age}周岁",
            facts=("only_child_mother_birth_date",),
            parameters=("mother_min_age",),
            test=_mother_aged,
        ),
        Clause(
            ref="R3.5",
            name="child_died_or_disabled",
            text_en=(
                "The child has died, or holds a disability certificate of grade 1, 2 or 3 "
                "valid on {date}"
            ),
            text_zh="{date}子女已死亡，或持有有效的一至三级残疾证",
            facts=("only_child", "only_child.alive", "only_child.disability_grade"),
            test=_died_or_disabled,
        ),
    ),
    categories=_SPECIAL_CATEGORIES,
    categories_zh=("死亡", "伤残"),
    category=CategoryRule(ref="R3.5", facts=("only_child.alive",), assign=_special_category),
    amount=AmountRule(
        ref="R3.6",
        facts=("hukou_rural",),
        parameters=("monthly_amount",),
        compute=_special_amount,
    ),
    reference="国人口发〔2007〕78号; 国卫家庭发〔2013〕41号",
    version="1",
)
"""R3: each parent of an only child who died (death) or is disabled grade 1-3 (disability)."""


def _holds_certificate(f: Facts, p: ParameterView) -> BoolArray:
    return np.ones(len(f), dtype=np.bool_)  # every row is a certificate valid on D


def _holder_in_jurisdiction(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = f["holder.in_jurisdiction"]
    return result


def _issued(f: Facts, p: ParameterView) -> BoolArray:
    result: BoolArray = f["certificate.issued_on"] <= _day(f)
    return result


def _holder_and_child(f: Facts, p: ParameterView) -> BoolArray:
    age = f["child.age"]
    result: BoolArray = (
        f["holder.alive"]
        & (f["certificate.child"] >= 0)
        & f["child.alive"]
        & (age >= 0)
        & (age < p.integer("age_limit"))
    )
    return result


def _not_lapsed(f: Facts, p: ParameterView) -> BoolArray:
    lapse = f["certificate.lapse_from"]
    result: BoolArray = np.isnat(lapse) | (_day(f) < lapse)
    return result


ONLY_CHILD_REWARD = Program(
    code="only_child_reward",
    name_zh="独生子女父母奖励费",
    name_en="Only-child parents' reward",
    beneficiary="person",
    subject="certificate",
    clauses=(
        Clause(
            ref="R4.1",
            name="holds_certificate",
            text_en="Holds an honour certificate (独生子女父母光荣证) valid on {date}",
            text_zh="{date}持有有效的独生子女父母光荣证",
            facts=("certificate.certificate_id", "certificate.child"),
            test=_holds_certificate,
            subject="certificate",
        ),
        Clause(
            ref="R0.6",
            name="holder_in_jurisdiction",
            text_en="The holder's hukou is inside the jurisdiction on {date}",
            text_zh="{date}持证人户籍在本辖区",
            facts=("holder.in_jurisdiction",),
            test=_holder_in_jurisdiction,
            subject="certificate",
        ),
        Clause(
            ref="R4.2",
            name="issued_not_revoked",
            text_en="Issued on or before {date} and not revoked",
            text_zh="{date}前已发证且未被撤销",
            facts=("certificate.issued_on",),
            test=_issued,
            subject="certificate",
        ),
        Clause(
            ref="R4.3",
            name="holder_and_child_alive_child_under_limit",
            text_en="On {date} the holder is alive, and the child is alive and aged under "
            "{age_limit}",
            text_zh="{date}持证人在世，子女在世且未满{age_limit}周岁",
            facts=("holder.alive", "certificate.child", "child.alive", "child.age"),
            parameters=("age_limit",),
            test=_holder_and_child,
            subject="certificate",
        ),
        Clause(
            ref="R4.4",
            name="not_lapsed",
            text_en="Not lapsed by {date} (no other child after the issue date, or not yet "
            "1 January of the following year)",
            text_zh="截至{date}未失效（发证后未再生育或收养，或尚未到次年1月1日）",
            facts=("certificate.lapse_from",),
            test=_not_lapsed,
            subject="certificate",
        ),
    ),
    amount=AmountRule(
        ref="R4.5",
        facts=(),
        parameters=("monthly_amount",),
        compute=_flat_amount,
    ),
    reference="《中华人民共和国人口与计划生育法》第二十七条",
    version="1",
)
"""R4: per honour certificate; at most one entitlement per holder a month (R4.6)."""

HARDSHIP_RELIEF = Program(
    code="hardship_relief",
    name_zh="计划生育特困家庭救助",
    name_en="Hardship relief for family-planning households",
    beneficiary="household",
    clauses=(),
    amount=None,
    monthly=False,
    extra_parameters=("max_amount",),
    reference="spec programs.md R5.1",
    version="1",
)
"""R5: one-off grants decided case by case on application, at most `max_amount` (R5.1)."""


def national_programs() -> tuple[Program, ...]:
    """The national programs R1-R5, in spec order."""
    return (CHILDCARE_SUBSIDY, RURAL_REWARD, SPECIAL_ASSISTANCE, ONLY_CHILD_REWARD, HARDSHIP_RELIEF)


@functools.cache
def national_parameters() -> tuple[Parameter, ...]:
    """The national parameter values shipped in ``programs/parameters/*.yaml``.

    Raises:
        ParameterParsingError: a shipped file is broken (a packaging error).
    """
    return load_parameter_directory(files("famplan_core.programs") / "parameters")


def national_parameter_set() -> ParameterSet:
    """`national_parameters` as a `ParameterSet`, ready for a province to overlay."""
    return ParameterSet.of(national_parameters())


def validate_grant(amount: Money, on: dt.date, parameters: ParameterSet | None = None) -> Money:
    """Check a hardship relief grant decided on `on` against `max_amount` (R5.1).

    Args:
        amount: the amount the deciding officer set.
        on: the date the grant is approved (it enters that month's payment roll).
        parameters: the deployment's parameters; the national ones when None.

    Returns:
        The amount, unchanged, when it is allowed.

    Raises:
        ValidationError: the amount is not positive, is above the maximum on `on`, or the
            program is not in force on `on`.
        ParameterNotFoundError: the maximum has a gap on `on`.
    """
    chosen = parameters if parameters is not None else national_parameter_set()
    maximum_parameter = chosen.get(HARDSHIP_RELIEF.code, "max_amount")
    maximum = maximum_parameter.amount_at(on)
    path = f"{HARDSHIP_RELIEF.code}.amount"
    problems = []
    if maximum is None:
        problems.append(
            Problem(
                path=path,
                value=str(amount),
                message=f"program hardship_relief is not in force on {on}; its max_amount "
                f"applies from {maximum_parameter.first_date}",
            )
        )
    elif amount > maximum:
        problems.append(
            Problem(
                path=path,
                value=str(amount),
                message=f"program hardship_relief: a grant on {on} may be at most {maximum} "
                f"(parameter max_amount); expected an amount up to {maximum}",
            )
        )
    if amount.fen <= 0:
        problems.append(
            Problem(
                path=path,
                value=str(amount),
                message=f"program hardship_relief: a grant on {on} must be more than 0.00; "
                "expected e.g. 500.00",
            )
        )
    if problems:
        raise ValidationError(problems)
    return amount
