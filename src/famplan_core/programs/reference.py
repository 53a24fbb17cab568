"""A plain restatement of R1-R4 for one person at a time (参照实现), to check the clauses against.

`evaluate_row_plain` reads one row's facts as Python scalars and applies the spec's words
with ``if`` and ``and``, sharing no code with the column-wise clauses of
`famplan_core.programs.national` (only the facts frame and the parameters). Tests run both on
random frames and expect the same decisions. It is slow, and nothing at run time uses it.
"""

from __future__ import annotations

import datetime as dt

import attrs
import numpy as np

from famplan_core.errors import ValidationError
from famplan_core.model.frame import FactsFrame
from famplan_core.rules import ParameterSet, completed_years

__all__ = ["PersonFacts", "PlainDecision", "evaluate_row_plain"]

_FLOOR = dt.date(1933, 1, 1)


def _date(value: np.datetime64) -> dt.date | None:
    if np.isnat(value):
        return None
    day: dt.date = value.astype("datetime64[D]").astype(dt.date)
    return day


@attrs.frozen(kw_only=True)
class PersonFacts:
    """One row of a facts frame as Python scalars.

    Attributes:
        row: the frame row.
        person_id: the register identifier.
        sex: GB/T 2261.1 code.
        birth_date: the birth date, or None.
        alive: alive on D.
        age: completed years on D (-1 before birth).
        hukou_known: hukou known on D.
        hukou_rural: rural hukou on D.
        in_jurisdiction: hukou inside the jurisdiction on D.
        ever_children: children ever, by birth or adoption.
        ever_daughters: daughters among them.
        only_child: the only child's row, or None.
        mother_birth_date: the only child's mother's birth date for this person, or None.
        disability_grade: most severe valid disability grade, 0 for none.
    """

    row: int
    person_id: str
    sex: int
    birth_date: dt.date | None
    alive: bool
    age: int
    hukou_known: bool
    hukou_rural: bool
    in_jurisdiction: bool
    ever_children: int
    ever_daughters: int
    only_child: int | None
    mother_birth_date: dt.date | None
    disability_grade: int

    @classmethod
    def from_frame(cls, frame: FactsFrame, row: int) -> PersonFacts:
        """Read row `row` of `frame`.

        Args:
            frame: the facts frame.
            row: the row.
        """
        only = int(frame.only_child[row])
        return cls(
            row=row,
            person_id=str(frame.person_id[row]),
            sex=int(frame.sex[row]),
            birth_date=_date(frame.birth_date[row]),
            alive=bool(frame.alive[row]),
            age=int(frame.age[row]),
            hukou_known=bool(frame.hukou_known[row]),
            hukou_rural=bool(frame.hukou_rural[row]),
            in_jurisdiction=bool(frame.in_jurisdiction[row]),
            ever_children=int(frame.ever_children[row]),
            ever_daughters=int(frame.ever_daughters[row]),
            only_child=only if only >= 0 else None,
            mother_birth_date=_date(frame.only_child_mother_birth_date[row]),
            disability_grade=int(frame.disability_grade[row]),
        )


@attrs.frozen(kw_only=True)
class PlainDecision:
    """The decision for one person, program and date.

    Attributes:
        entitled: whether the person is entitled.
        category: the category when entitled and the program has categories.
        amount_fen: the monthly amount in fen (0 when not entitled).
        certificate_id: for R4, the certificate that gives the entitlement.
    """

    entitled: bool
    category: str | None = None
    amount_fen: int = 0
    certificate_id: str | None = None


_NO = PlainDecision(entitled=False)


def evaluate_row_plain(
    program: str, frame: FactsFrame, row: int, parameters: ParameterSet
) -> PlainDecision:
    """Decide for the person at `row` under the national program `program`, plainly.

    Args:
        program: ``childcare_subsidy``, ``rural_reward``, ``special_assistance``,
            ``only_child_reward`` or ``hardship_relief``.
        frame: the facts frame of D.
        row: the person's row.
        parameters: the parameters to use.

    Raises:
        ValidationError: `program` is not a national program.
        ParameterNotFoundError: a parameter has a gap on D.
    """
    on = frame.date
    person = PersonFacts.from_frame(frame, row)

    def get(name: str) -> object:
        return parameters.get(program, name).value_at(on)

    if program == "childcare_subsidy":
        limit, amount = get("age_limit"), get("monthly_amount")
        if limit is None or amount is None:
            return _NO
        if person.in_jurisdiction and person.alive and 0 <= person.age < _int(limit):
            return PlainDecision(entitled=True, amount_fen=_fen(amount))
        return _NO
    if program == "rural_reward":
        min_age, annual = get("min_age"), get("annual_amount")
        if min_age is None or annual is None:
            return _NO
        ok = (
            person.in_jurisdiction
            and person.alive
            and person.birth_date is not None
            and person.birth_date >= _FLOOR
            and person.age >= _int(min_age)
            and person.hukou_known
            and person.hukou_rural
            and person.ever_children >= 1
            and (
                person.ever_children == 1
                or (person.ever_children == 2 and person.ever_daughters == 2)
            )
        )
        if not ok:
            return _NO
        fen = _fen(annual)
        monthly = fen // 12 + (1 if (fen % 12) * 2 >= 12 else 0)
        return PlainDecision(entitled=True, amount_fen=monthly)
    if program == "special_assistance":
        return _special(person, frame, parameters)
    if program == "only_child_reward":
        return _only_child(person, frame, parameters)
    if program == "hardship_relief":
        return _NO
    raise ValidationError.single("program", program, "expected a national program code")


def _special(person: PersonFacts, frame: FactsFrame, parameters: ParameterSet) -> PlainDecision:
    on = frame.date
    min_age = parameters.get("special_assistance", "mother_min_age").value_at(on)
    table = parameters.get("special_assistance", "monthly_amount").table_at(on)
    if min_age is None or table is None:
        return _NO
    if not (person.in_jurisdiction and person.alive and person.birth_date is not None):
        return _NO
    if person.birth_date < _FLOOR or person.ever_children != 1 or person.only_child is None:
        return _NO
    mother = person.mother_birth_date
    if mother is None or completed_years(mother, on) < _int(min_age):
        return _NO
    child = PersonFacts.from_frame(frame, person.only_child)
    if not child.alive:
        category = "death"
    elif 1 <= child.disability_grade <= 3:
        category = "disability"
    else:
        return _NO
    key = f"{category}.{'rural' if person.hukou_rural else 'urban'}"
    amount = parameters.get("special_assistance", "monthly_amount").table_amount_at(on, key)
    assert amount is not None
    return PlainDecision(entitled=True, category=category, amount_fen=amount.fen)


def _only_child(person: PersonFacts, frame: FactsFrame, parameters: ParameterSet) -> PlainDecision:
    on = frame.date
    limit = parameters.get("only_child_reward", "age_limit").value_at(on)
    amount = parameters.get("only_child_reward", "monthly_amount").value_at(on)
    if limit is None or amount is None:
        return _NO
    certificates = frame.certificates
    held = []
    for index in range(len(certificates)):
        if int(certificates.holder[index]) == person.row:
            issued = _date(certificates.issued_on[index])
            assert issued is not None
            held.append((issued, str(certificates.certificate_id[index]), index))
    for issued, certificate_id, index in sorted(held):
        if not person.in_jurisdiction or not person.alive or issued > on:
            continue
        child_row = int(certificates.child[index])
        if child_row < 0:
            continue
        child = PersonFacts.from_frame(frame, child_row)
        if not child.alive or not 0 <= child.age < _int(limit):
            continue
        lapse = _date(certificates.lapse_from[index])
        if lapse is not None and on >= lapse:
            continue
        return PlainDecision(entitled=True, amount_fen=_fen(amount), certificate_id=certificate_id)
    return _NO


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


def _fen(value: object) -> int:
    fen = getattr(value, "fen", None)
    assert isinstance(fen, int)
    return fen
