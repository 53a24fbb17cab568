"""R4 only_child_reward (独生子女父母奖励费), evaluated per honour certificate."""

from __future__ import annotations

import datetime as dt

import attrs

from famplan_core.model.money import Money
from famplan_core.programs import ONLY_CHILD_REWARD, national_parameter_set
from famplan_core.rules import ProgramResult, evaluate_program, explain
from famplan_core.rules.testing_frames import FEMALE, MALE, FrameBuilder, month_starts

PARAMS = national_parameter_set()
D = dt.date(2026, 11, 1)
ISSUED = dt.date(2012, 3, 5)


def make_family(*, child_birth: dt.date = dt.date(2011, 8, 1)) -> FrameBuilder:
    """Father F (row 0) and mother M (row 1), each holding a certificate for K (row 2)."""
    b = FrameBuilder()
    b.person("F", birth=dt.date(1985, 1, 1), sex=MALE)
    b.person("M", birth=dt.date(1986, 1, 1), sex=FEMALE)
    b.person("K", birth=child_birth)
    b.link("F", "K").link("M", "K")
    b.certificate("CERT-F", "F", "K", ISSUED)
    b.certificate("CERT-M", "M", "K", ISSUED)
    return b


def run(b: FrameBuilder, on: dt.date = D) -> ProgramResult:
    return evaluate_program(ONLY_CHILD_REWARD, b.build(on), PARAMS)


def paid_months(b: FrameBuilder, first: dt.date, last: dt.date, row: int = 0) -> list[dt.date]:
    return [day for day in month_starts(first, last) if row in run(b, day).rows]


def test_r4_1_each_holder_of_a_certificate() -> None:
    result = run(make_family())
    assert result.rows.tolist() == [0, 1]
    assert result.certificate_rows is not None
    frame = make_family().build(D)
    ids = [str(frame.certificates.certificate_id[c]) for c in result.certificate_rows]
    assert ids == ["CERT-F", "CERT-M"]
    b = FrameBuilder()
    b.person("F", birth=dt.date(1985, 1, 1))
    b.person("K", birth=dt.date(2011, 8, 1))
    assert len(run(b)) == 0
    failing = explain(ONLY_CHILD_REWARD, b.build(D), 0, PARAMS).first_failing
    assert failing is not None
    assert failing.ref == "R4.1"


def test_r4_2_issued_on_or_before_d_and_not_revoked() -> None:
    b = make_family()
    assert paid_months(b, dt.date(2012, 2, 1), dt.date(2012, 4, 1)) == [dt.date(2012, 4, 1)]
    b2 = make_family()
    b2.certificates[0] = attrs.evolve(b2.certificates[0], revoked_on=dt.date(2020, 6, 1))
    assert paid_months(b2, dt.date(2020, 5, 1), dt.date(2020, 7, 1)) == [dt.date(2020, 5, 1)]
    issued_on_d = FrameBuilder()
    issued_on_d.person("F", birth=dt.date(1985, 1, 1))
    issued_on_d.person("K", birth=dt.date(2011, 8, 1))
    issued_on_d.certificate("C", "F", "K", dt.date(2013, 1, 1))
    assert run(issued_on_d, dt.date(2013, 1, 1)).rows.tolist() == [0]


def test_r4_3_holder_alive_child_alive_and_under_18() -> None:
    b = make_family(child_birth=dt.date(2008, 11, 1))
    assert run(b, dt.date(2026, 10, 1)).rows.tolist() == [0, 1]
    assert len(run(b, dt.date(2026, 11, 1))) == 0  # 18th birthday on D
    failing = explain(ONLY_CHILD_REWARD, b.build(D), 0, PARAMS).first_failing
    assert failing is not None
    assert failing.ref == "R4.3"
    assert failing.fact("child.age") == 18

    dead_holder = make_family()
    dead_holder.persons[0] = attrs.evolve(dead_holder.persons[0], death_date=dt.date(2020, 1, 1))
    assert run(dead_holder).rows.tolist() == [1]

    dead_child = make_family()
    dead_child.persons[2] = attrs.evolve(dead_child.persons[2], death_date=dt.date(2020, 1, 1))
    assert len(run(dead_child)) == 0


def test_r4_3_child_unknown_to_the_register_cannot_be_checked() -> None:
    b = FrameBuilder()
    b.person("F", birth=dt.date(1985, 1, 1))
    b.certificate("C", "F", "NOT-IN-REGISTER", ISSUED)
    assert len(run(b)) == 0


def test_r4_4_a_later_child_lapses_the_certificate_from_next_1_january() -> None:
    b = make_family()
    b.person("LATER", birth=dt.date(2016, 5, 20))
    b.link("F", "LATER")
    assert paid_months(b, dt.date(2016, 11, 1), dt.date(2017, 2, 1), row=0) == [
        dt.date(2016, 11, 1),
        dt.date(2016, 12, 1),
    ]
    # the mother has no other child: her certificate does not lapse
    assert paid_months(b, dt.date(2016, 11, 1), dt.date(2017, 2, 1), row=1) == month_starts(
        dt.date(2016, 11, 1), dt.date(2017, 2, 1)
    )
    failing = explain(ONLY_CHILD_REWARD, b.build(dt.date(2017, 1, 1)), 0, PARAMS).first_failing
    assert failing is not None
    assert failing.ref == "R4.4"
    assert failing.fact("certificate.lapse_from") == dt.date(2017, 1, 1)


def test_r4_4_adoption_counts_from_the_link_since_date() -> None:
    b = make_family()
    b.person("ADOPTED", birth=dt.date(2005, 1, 1))
    b.link("M", "ADOPTED", kind="adoptive", since=dt.date(2019, 12, 31))
    assert paid_months(b, dt.date(2019, 12, 1), dt.date(2020, 2, 1), row=1) == [
        dt.date(2019, 12, 1)
    ]


def test_r4_4_a_child_before_the_issue_date_does_not_lapse_it() -> None:
    b = make_family()
    b.person("OLDER", birth=dt.date(2010, 1, 1))
    b.link("F", "OLDER")
    assert run(b).rows.tolist() == [0, 1]


def test_r4_5_ten_yuan_a_month_from_2002_09_01() -> None:
    b = make_family(child_birth=dt.date(2000, 1, 1))
    b.certificates[:] = [attrs.evolve(c, issued_on=dt.date(2001, 1, 1)) for c in b.certificates]
    before = run(b, dt.date(2002, 8, 1))
    assert not before.in_force
    assert len(before) == 0
    assert run(b, dt.date(2002, 9, 1)).amounts_fen.tolist() == [1000, 1000]
    assert run(b, dt.date(2002, 9, 1)).amount_of(0) == Money.parse("10.00")


def test_r4_6_k_is_the_certificate_child_without_a_parent_link() -> None:
    b = FrameBuilder()
    b.person("GRANDMA", birth=dt.date(1960, 1, 1), sex=FEMALE)
    b.person("K", birth=dt.date(2015, 1, 1))
    b.certificate("C", "GRANDMA", "K", dt.date(2015, 6, 1))
    assert run(b).rows.tolist() == [0]


def test_r4_6_several_certificates_give_one_entitlement_from_the_first_that_gives_one() -> None:
    b = FrameBuilder()
    b.person("P", birth=dt.date(1980, 1, 1))
    b.person("K1", birth=dt.date(2000, 1, 1))  # 18 by D: gives nothing
    b.person("K2", birth=dt.date(2012, 1, 1))
    b.person("K3", birth=dt.date(2013, 1, 1))
    b.certificate("B-2", "P", "K2", dt.date(2014, 1, 1))
    b.certificate("A-3", "P", "K3", dt.date(2014, 1, 1))
    b.certificate("Z-1", "P", "K1", dt.date(2001, 1, 1))
    frame = b.build(D)
    result = evaluate_program(ONLY_CHILD_REWARD, frame, PARAMS)
    assert result.rows.tolist() == [0]
    assert result.amounts_fen.tolist() == [1000]
    assert result.certificate_rows is not None
    assert str(frame.certificates.certificate_id[result.certificate_rows[0]]) == "A-3"
    explanation = explain(ONLY_CHILD_REWARD, frame, 0, PARAMS)
    assert [s.certificate_id for s in explanation.subjects] == ["Z-1", "A-3", "B-2"]
    assert explanation.chosen == 1
    assert not explanation.subjects[0].passed
    assert "Entitled through certificate A-3" in explanation.as_text()
