"""Column-wise evaluation equals a plain per-person evaluation on random registers (R1-R5).

A Hypothesis strategy makes small consistent registers (persons, parent-child links of every
kind, hukou changes, disability and honour certificates), `FrameBuilder` folds them into the
facts frame of a random month, and every program is decided both ways for every row: by
`evaluate_program` (vectorised clauses) and by `evaluate_row_plain` (plain Python). The
explanation of each row must agree as well.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.programs.reference import evaluate_row_plain
from famplan_core.rules import evaluate_program, explain
from famplan_core.rules.testing_frames import FrameBuilder, HukouChange

PARAMS = national_parameter_set()
DIVISIONS = ("371502110001", "371502110777", "371502115001")

months = st.builds(
    dt.date, st.integers(min_value=1998, max_value=2045), st.integers(1, 12), st.just(1)
)
LOW, HIGH = dt.date(1900, 1, 1), dt.date(2100, 12, 31)
PARENT_AGES = (30, 48, 49, 50, 59, 60, 61, 75, 90, 99)
CHILD_AGES = (0, 1, 2, 3, 17, 18, 25, 35)
YEAR = 365


def shift(day: dt.date, days: int) -> dt.date:
    """`day` moved by `days`, kept inside the years the strategy uses."""
    return min(max(day + dt.timedelta(days=days), LOW), HIGH)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[FrameBuilder, dt.date]:
    """A small consistent register of families around a random month D, and D.

    Families are one or two parents with up to three children, ages drawn around D so that
    every program's boundaries are reached: deaths on D, birthdays near D, certificates
    issued before and after later children, hukou moves, disabilities that start and end.
    """
    month = draw(months)
    b = FrameBuilder()
    ids: list[str] = []

    def maybe_date(base: dt.date, lo: int, hi: int, none_weight: int = 2) -> dt.date | None:
        choice = draw(st.integers(min_value=0, max_value=none_weight + 1))
        if choice < none_weight:
            return None
        if choice == none_weight:
            return max(month, base)  # exactly D (or the base date when D is before it)
        return shift(base, draw(st.integers(min_value=lo, max_value=hi)))

    def born_aged(years: int) -> dt.date:
        return shift(month, -years * YEAR - draw(st.integers(min_value=-40, max_value=400)))

    def person(pid: str, birth: dt.date, sex: int) -> None:
        changes = []
        if draw(st.integers(min_value=0, max_value=4)) == 0:
            for _ in range(draw(st.integers(min_value=1, max_value=2))):
                changes.append(
                    HukouChange(
                        on=shift(month, draw(st.integers(min_value=-400, max_value=100))),
                        division=draw(st.sampled_from(DIVISIONS)),
                        rural=draw(st.booleans()),
                    )
                )
        unique = {change.on: change for change in changes}
        b.person(
            pid,
            birth=birth,
            sex=sex,
            death=maybe_date(birth, 0, 100 * YEAR, none_weight=5),
            division=draw(st.sampled_from(DIVISIONS[:2] * 3 + DIVISIONS[2:])),
            rural=draw(st.sampled_from([True, True, True, False])),
            hukou_changes=unique.values(),
        )
        ids.append(pid)

    for family in range(draw(st.integers(min_value=1, max_value=3))):
        parents = []
        for p in range(draw(st.integers(min_value=1, max_value=2))):
            pid = f"F{family}P{p}"
            sex = 2 if p == 1 else draw(st.sampled_from([1, 2, 0]))
            person(pid, born_aged(draw(st.sampled_from(PARENT_AGES))), sex)
            parents.append(pid)
        for c in range(draw(st.integers(min_value=0, max_value=3))):
            cid = f"F{family}C{c}"
            child_birth = born_aged(draw(st.sampled_from(CHILD_AGES)))
            person(cid, child_birth, draw(st.sampled_from([1, 2])))
            for pid in parents:
                kind = draw(st.sampled_from(["birth", "birth", "birth", "adoptive", "step"]))
                since = shift(child_birth, draw(st.integers(min_value=0, max_value=5000)))
                b.link(pid, cid, kind=kind, since=since if kind != "birth" else None)
                if draw(st.integers(min_value=0, max_value=2)) == 0:
                    issued = shift(child_birth, draw(st.integers(min_value=0, max_value=3000)))
                    b.certificate(
                        draw(st.sampled_from(["A", "B", "C"])) + f"{family}{c}{pid}",
                        pid,
                        draw(st.sampled_from([cid, cid, cid, "UNKNOWN"])),
                        draw(st.sampled_from([issued, dt.date(2012, 1, 1)])),
                        maybe_date(issued, 0, 10000, none_weight=4),
                    )
            if draw(st.integers(min_value=0, max_value=2)) == 0:
                valid_from = shift(child_birth, draw(st.integers(min_value=0, max_value=40 * YEAR)))
                b.disability(
                    cid,
                    draw(st.integers(min_value=1, max_value=4)),
                    valid_from,
                    maybe_date(valid_from, 0, 20 * YEAR),
                )
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        parent, child = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
        if parent != child:
            kind = draw(st.sampled_from(["birth", "adoptive", "step"]))
            b.link(parent, child, kind=kind, since=draw(st.one_of(st.none(), st.just(month))))
    return b, month


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_r0_columnwise_equals_plain_per_person_for_every_program(
    world: tuple[FrameBuilder, dt.date],
) -> None:
    register, month = world
    frame = register.build(month)
    for program in national_programs():
        result = evaluate_program(program, frame, PARAMS)
        if len(result):
            event(f"{program.code} has an entitlement")
        for row in range(len(frame)):
            plain = evaluate_row_plain(program.code, frame, row, PARAMS)
            assert (row in result.rows) == plain.entitled, (program.code, row)
            if plain.entitled:
                amount = result.amount_of(row)
                assert amount is not None
                assert amount.fen == plain.amount_fen
                assert result.category_of(row) == plain.category
            if plain.certificate_id is not None:
                assert result.certificate_rows is not None
                position = int(list(result.rows).index(row))
                chosen = int(result.certificate_rows[position])
                assert str(frame.certificates.certificate_id[chosen]) == plain.certificate_id
            explanation = explain(program, frame, row, PARAMS)
            assert explanation.entitled == plain.entitled
            assert explanation.amount == result.amount_of(row)
            assert explanation.category == result.category_of(row)
            if plain.certificate_id is not None:
                assert explanation.chosen is not None
                chosen_subject = explanation.subjects[explanation.chosen]
                assert chosen_subject.certificate_id == plain.certificate_id


@settings(max_examples=100, deadline=None)
@given(world=worlds())
def test_r0_9_every_failing_explanation_names_a_failing_clause(
    world: tuple[FrameBuilder, dt.date],
) -> None:
    register, month = world
    frame = register.build(month)
    for program in national_programs():
        if not program.monthly:
            continue
        for row in range(len(frame)):
            explanation = explain(program, frame, row, PARAMS)
            if explanation.in_force and not explanation.entitled:
                failing = explanation.first_failing
                assert failing is not None
                assert not failing.passed
                assert failing.ref.startswith("R")
                assert failing.as_text().startswith(failing.ref)
