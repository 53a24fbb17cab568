"""The register as of a date, folded in Python (spec R0.1-R0.6, R0.10, R3.4, R4.4)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from famplan_core.model import (
    Certificate,
    CertificateKind,
    DisabilityCertificate,
    DivisionCode,
    HukouChange,
    HukouType,
    LinkKind,
    ParentChild,
    Person,
    Sex,
)
from famplan_core.register import RegisterRecords, fold_frame, person_as_of

D = dt.date
VILLAGE = DivisionCode("371502110201")
ELSEWHERE = DivisionCode("371521100201")


def person(pid: str, sex: Sex, born: dt.date, died: dt.date | None = None) -> Person:
    return Person(
        person_id=pid,
        name=f"人{pid}",
        sex=sex,
        birth_date=born,
        death_date=died,
        hukou_division=VILLAGE,
        hukou_type=HukouType.RURAL,
    )


FATHER = person("f", Sex.MALE, D(1960, 3, 1))
MOTHER = person("m", Sex.FEMALE, D(1962, 5, 1))
DAUGHTER = person("d", Sex.FEMALE, D(1988, 2, 29))
SON = person("s", Sex.MALE, D(2000, 1, 1), died=D(2026, 5, 1))
STEP = person("t", Sex.MALE, D(1990, 1, 1))

RECORDS = RegisterRecords(
    persons=[FATHER, MOTHER, DAUGHTER, SON, STEP],
    parent_child=[
        ParentChild(parent_id="f", child_id="d", kind=LinkKind.BIRTH),
        ParentChild(parent_id="m", child_id="d", kind=LinkKind.BIRTH),
        ParentChild(parent_id="f", child_id="s", kind=LinkKind.ADOPTIVE, since=D(2010, 6, 1)),
        ParentChild(parent_id="m", child_id="t", kind=LinkKind.STEP),
    ],
    hukou_changes=[
        HukouChange(
            person_id="f", date=D(1960, 3, 1), hukou_division=ELSEWHERE, hukou_type=HukouType.URBAN
        ),
        HukouChange(
            person_id="f", date=D(2020, 3, 15), hukou_division=VILLAGE, hukou_type=HukouType.RURAL
        ),
        HukouChange(
            person_id="t", date=D(2021, 1, 1), hukou_division=VILLAGE, hukou_type=HukouType.RURAL
        ),
    ],
    disabilities=[
        DisabilityCertificate(
            person_id="d", grade=3, valid_from=D(2015, 1, 1), valid_to=D(2020, 12, 31)
        ),
        DisabilityCertificate(person_id="d", grade=2, valid_from=D(2018, 1, 1)),
    ],
    certificates=[
        Certificate(
            certificate_id="HR-1",
            kind=CertificateKind.HONOUR,
            holder_id="f",
            child_id="d",
            issued_on=D(1990, 1, 1),
        ),
        Certificate(
            certificate_id="HR-1",
            kind=CertificateKind.HONOUR,
            holder_id="m",
            child_id="d",
            issued_on=D(1990, 1, 1),
            revoked_on=D(2000, 1, 1),
        ),
    ],
)


def test_r0_4_adoption_counts_from_its_since_date_and_step_links_never() -> None:
    """R0.4: ever-children are birth or adoptive links, adopted on or before D; never step."""
    before = person_as_of(RECORDS, "f", D(2010, 5, 1))
    after = person_as_of(RECORDS, "f", D(2010, 6, 1))
    assert [c.person_id for c in before.children] == ["d"]
    assert [c.person_id for c in after.children] == ["d", "s"]
    assert person_as_of(RECORDS, "m", D(2026, 1, 1)).children[0].person_id == "d"
    assert len(person_as_of(RECORDS, "m", D(2026, 1, 1)).children) == 1


def test_r0_3_a_death_on_d_itself_is_not_alive_on_d() -> None:
    """R0.3: someone who dies on D itself is not alive on D."""
    assert person_as_of(RECORDS, "s", D(2026, 4, 30)).alive
    assert not person_as_of(RECORDS, "s", D(2026, 5, 1)).alive
    assert [c.alive for c in person_as_of(RECORDS, "f", D(2026, 6, 1)).children] == [True, False]


def test_r0_2_a_29_february_birthday_turns_on_1_march() -> None:
    """R0.2: a person born on 29 February reaches a new age on 1 March in non-leap years."""
    assert person_as_of(RECORDS, "d", D(2026, 2, 28)).age == 37
    assert person_as_of(RECORDS, "d", D(2026, 3, 1)).age == 38


def test_r0_5_hukou_is_the_latest_change_on_or_before_d() -> None:
    """R0.5: latest change on or before D; none at all: the row; earliest after D: unknown."""
    assert person_as_of(RECORDS, "f", D(2020, 3, 14)).hukou_type is HukouType.URBAN
    assert person_as_of(RECORDS, "f", D(2020, 3, 15)).hukou_division == VILLAGE
    assert person_as_of(RECORDS, "m", D(1970, 1, 1)).hukou_division == VILLAGE
    assert person_as_of(RECORDS, "t", D(2020, 12, 31)).hukou_division is None


def test_r0_6_jurisdiction_follows_the_hukou_on_d() -> None:
    """R0.6: inside the deployment's division by prefix on the hukou division on D."""
    frame = fold_frame(RECORDS, D(2020, 4, 1), "371502110")
    assert dict(zip(frame.person_id, frame.in_jurisdiction, strict=True)) == {
        "f": True,
        "m": True,
        "d": True,
        "s": True,
        "t": False,
    }
    assert not fold_frame(RECORDS, D(2020, 3, 1), "371502110").in_jurisdiction[0]


def test_r0_10_disability_grade_is_the_most_severe_valid_one() -> None:
    """R0.10: valid when valid_from <= D and valid_to empty or D <= valid_to, both inclusive."""
    grades = {
        d: int(fold_frame(RECORDS, d, "371502110").disability_grade[2])
        for d in (D(2014, 12, 31), D(2015, 1, 1), D(2020, 12, 31), D(2021, 1, 1))
    }
    assert grades == {D(2014, 12, 31): 0, D(2015, 1, 1): 3, D(2020, 12, 31): 2, D(2021, 1, 1): 2}


def test_r3_4_mother_of_the_only_child_for_a_father_is_the_female_birth_parent() -> None:
    """R3.4: for a male P, the female parent linked to K by the same kind of link."""
    frame = fold_frame(RECORDS, D(2005, 1, 1), "371502110")
    assert frame.only_child[0] == 2
    assert frame.only_child_link[0] == 1
    assert frame.only_child_mother_birth_date[0] == np.datetime64("1962-05-01")
    assert frame.only_child_mother_birth_date[1] == np.datetime64("1962-05-01")  # herself


def test_r4_4_a_later_child_lapses_the_certificate_from_the_next_january() -> None:
    """R4.4 and R0.10: the revoked holding drops out; the adoption in 2010 lapses from 2011."""
    frame = fold_frame(RECORDS, D(2011, 1, 1), "371502110")
    assert list(frame.certificates.holder) == [0]
    assert frame.certificates.lapse_from[0] == np.datetime64("2011-01-01")
    before = fold_frame(RECORDS, D(2010, 5, 1), "371502110")
    assert np.isnat(before.certificates.lapse_from[0])
    both = fold_frame(RECORDS, D(1999, 12, 31), "371502110")
    assert list(both.certificates.holder) == [0, 1]
