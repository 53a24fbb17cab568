"""The register's record classes: their invariants, validity dates and file layout."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest

from famplan_core.errors import ValidationError
from famplan_core.model.codes import (
    CertificateKind,
    DisabilityCategory,
    HukouType,
    LinkKind,
    Sex,
    UnionEndReason,
)
from famplan_core.model.facts import (
    Certificate,
    DisabilityCertificate,
    Enrolment,
    HukouChange,
    ParentChild,
    Union,
)
from famplan_core.model.identity import CitizenId, DivisionCode
from famplan_core.model.people import Household, Person

RECORDS: tuple[type, ...] = (
    Person,
    Household,
    ParentChild,
    Union,
    HukouChange,
    DisabilityCertificate,
    Certificate,
    Enrolment,
)

# The register format's columns, in the order of spec/register-format.md.
SPEC_COLUMNS = {
    "persons": (
        "person_id citizen_id name sex birth_date death_date ethnicity marital_status "
        "hukou_division hukou_type residence_division household_id relation_to_head"
    ),
    "households": "household_id division address head_person_id",
    "parent_child": "parent_id child_id kind since",
    "unions": "person_a person_b start end end_reason",
    "hukou_changes": "person_id date hukou_division hukou_type",
    "disabilities": "person_id grade category valid_from valid_to",
    "certificates": "certificate_id kind holder_id child_id issued_on revoked_on",
    "enrolments": "person_id program since category",
}

VILLAGE = DivisionCode("371502110201")
BORN = dt.date(1949, 12, 31)
WOMAN_ID = CitizenId("11010519491231002X")  # born 1949-12-31, female


def person(**changes: Any) -> Person:
    fields: dict[str, Any] = {
        "person_id": "p1",
        "citizen_id": WOMAN_ID,
        "name": "王芳",
        "sex": Sex.FEMALE,
        "birth_date": BORN,
        "hukou_division": VILLAGE,
        "hukou_type": HukouType.RURAL,
    }
    fields.update(changes)
    return Person(**fields)


def problems_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.path: p.message for p in excinfo.value.problems}


# --- layout ------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_kind_and_columns_follow_the_spec(cls: Any) -> None:
    columns = cls.COLUMNS
    assert columns == tuple(SPEC_COLUMNS[cls.KIND].split())
    assert columns == tuple(a.name for a in attrs.fields(cls))


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_records_are_frozen_slotted_and_keyword_only(cls: Any) -> None:
    assert "__slots__" in cls.__dict__
    assert all(a.kw_only for a in attrs.fields(cls))
    assert cls.__setattr__ is not object.__setattr__


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_every_record_class_is_documented_with_its_chinese_term(cls: Any) -> None:
    assert cls.__doc__ is not None
    assert any("\u4e00" <= ch <= "\u9fff" for ch in cls.__doc__)


def test_a_record_cannot_be_changed() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        person().name = "李四"  # type: ignore[misc]


# --- Person and Household ---------------------------------------------------------------


def test_a_valid_person() -> None:
    p = person(death_date=BORN)
    assert p.death_date == p.birth_date
    assert person(citizen_id=None).citizen_id is None


def test_death_before_birth_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        person(death_date=dt.date(1949, 12, 30))
    assert "before the birth" in problems_of(excinfo)["death_date"]


def test_citizen_id_must_agree_with_birth_date_and_sex() -> None:
    with pytest.raises(ValidationError) as excinfo:
        person(birth_date=dt.date(1950, 1, 1), sex=Sex.MALE)
    messages = [p.message for p in excinfo.value.problems if p.path == "citizen_id"]
    assert len(messages) == 2
    assert any("birth date" in m for m in messages)
    assert any("sex" in m for m in messages)


def test_an_unstated_sex_does_not_contradict_the_id() -> None:
    assert person(sex=Sex.NOT_STATED).sex is Sex.NOT_STATED


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationError) as excinfo:
        person(person_id=" ", name="x" * 201, death_date=dt.date(1900, 1, 1))
    assert set(problems_of(excinfo)) == {"person_id", "name", "death_date"}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("王\x00芳", "control"),
        ("a\nb", "control"),
        ("x" * 201, "200"),
        ("王\u202e芳", "bidirectional control U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("\u2067王芳\u2069", "bidirectional control U+2067"),
        ("王\u200f芳", "bidirectional control U+200F"),
    ],
)
def test_text_fields_are_checked(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        person(name=text)
    assert fragment in problems_of(excinfo)["name"]


def test_text_of_200_characters_is_accepted() -> None:
    assert len(person(name="x" * 200).name) == 200


def test_household() -> None:
    household = Household(household_id="h1", division=VILLAGE, address="1号", head_person_id="p1")
    assert household.division == VILLAGE
    with pytest.raises(ValidationError) as excinfo:
        Household(household_id="h1", division=VILLAGE, address="\t")
    assert set(problems_of(excinfo)) == {"address"}


# --- facts ------------------------------------------------------------------------------


def test_parent_cannot_be_own_child() -> None:
    with pytest.raises(ValidationError) as excinfo:
        ParentChild(parent_id="p1", child_id="p1", kind=LinkKind.BIRTH)
    assert "own child" in problems_of(excinfo)["child_id"]


def test_adoptive_link_needs_since() -> None:
    with pytest.raises(ValidationError) as excinfo:
        ParentChild(parent_id="p1", child_id="p2", kind=LinkKind.ADOPTIVE)
    assert set(problems_of(excinfo)) == {"since"}
    link = ParentChild(
        parent_id="p1", child_id="p2", kind=LinkKind.ADOPTIVE, since=dt.date(2001, 5, 1)
    )
    assert link.since == dt.date(2001, 5, 1)
    assert ParentChild(parent_id="p1", child_id="p2", kind=LinkKind.STEP).since is None


def test_union_with_self_or_ending_before_start_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Union(person_a="p1", person_b="p1", start=dt.date(2000, 1, 2), end=dt.date(2000, 1, 1))
    assert set(problems_of(excinfo)) == {"person_b", "end"}
    same_day = Union(
        person_a="p1",
        person_b="p2",
        start=dt.date(2000, 1, 1),
        end=dt.date(2000, 1, 1),
        end_reason=UnionEndReason.DIVORCE,
    )
    assert same_day.end == same_day.start


def test_hukou_change() -> None:
    change = HukouChange(
        person_id="p1", date=dt.date(2015, 3, 1), hukou_division=VILLAGE, hukou_type=HukouType.URBAN
    )
    assert change.date == dt.date(2015, 3, 1)


@pytest.mark.parametrize("grade", [0, 5, -1, True])
def test_disability_grade_outside_one_to_four_is_refused(grade: int) -> None:
    with pytest.raises(ValidationError) as excinfo:
        DisabilityCertificate(person_id="p1", grade=grade, valid_from=dt.date(2020, 1, 1))
    assert "grade" in problems_of(excinfo)


def test_disability_valid_to_before_valid_from_is_refused() -> None:
    with pytest.raises(ValidationError) as excinfo:
        DisabilityCertificate(
            person_id="p1", grade=2, valid_from=dt.date(2020, 1, 2), valid_to=dt.date(2020, 1, 1)
        )
    assert set(problems_of(excinfo)) == {"valid_to"}


def test_disability_is_valid_on_both_ends_inclusive() -> None:
    card = DisabilityCertificate(
        person_id="p1",
        grade=1,
        category=DisabilityCategory.VISION,
        valid_from=dt.date(2020, 1, 1),
        valid_to=dt.date(2024, 12, 31),
    )
    assert not card.is_valid_on(dt.date(2019, 12, 31))
    assert card.is_valid_on(dt.date(2020, 1, 1))
    assert card.is_valid_on(dt.date(2024, 12, 31))
    assert not card.is_valid_on(dt.date(2025, 1, 1))
    open_ended = attrs.evolve(card, valid_to=None)
    assert open_ended.is_valid_on(dt.date(2099, 1, 1))


def test_honour_certificate_needs_child_and_cannot_be_revoked_before_issue() -> None:
    with pytest.raises(ValidationError) as excinfo:
        Certificate(
            certificate_id="c1",
            kind=CertificateKind.HONOUR,
            holder_id="p1",
            issued_on=dt.date(1990, 5, 1),
            revoked_on=dt.date(1990, 4, 30),
        )
    assert set(problems_of(excinfo)) == {"child_id", "revoked_on"}


def test_certificate_is_valid_from_issue_until_the_day_before_revocation() -> None:
    cert = Certificate(
        certificate_id="c1",
        kind=CertificateKind.HONOUR,
        holder_id="p1",
        child_id="p2",
        issued_on=dt.date(1990, 5, 1),
        revoked_on=dt.date(2010, 1, 1),
    )
    assert not cert.is_valid_on(dt.date(1990, 4, 30))
    assert cert.is_valid_on(dt.date(1990, 5, 1))
    assert cert.is_valid_on(dt.date(2009, 12, 31))
    assert not cert.is_valid_on(dt.date(2010, 1, 1))
    assert attrs.evolve(cert, revoked_on=None).is_valid_on(dt.date(2099, 1, 1))


def test_enrolment() -> None:
    enrolment = Enrolment(person_id="p1", program="rural_reward", since=dt.date(2012, 1, 1))
    assert enrolment.category is None
    with pytest.raises(ValidationError) as excinfo:
        Enrolment(person_id="p1", program="", since=dt.date(2012, 1, 1), category="")
    assert set(problems_of(excinfo)) == {"program", "category"}


def test_every_layer_takes_the_spec_columns_from_the_model() -> None:
    """The reader's format table, the storage tables and the generator agree with the model."""
    from famplan_core.exchange.register_format import KIND_BY_NAME
    from famplan_core.model import REGISTER_COLUMNS
    from famplan_core.storage.tables import RECORD_KINDS
    from famplan_core.synthetic import FILE_COLUMNS

    assert list(REGISTER_COLUMNS) == list(RECORD_KINDS) == list(FILE_COLUMNS)
    for kind, columns in REGISTER_COLUMNS.items():
        assert RECORD_KINDS[kind].columns == columns
        assert FILE_COLUMNS[kind] == columns
        assert tuple(c.name for c in KIND_BY_NAME[kind].columns) == columns
