"""The converter: round trips, strict reading of text, one ValidationError for all problems."""

from __future__ import annotations

import datetime as dt
import json
import string
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famplan_core.convert import make_converter, structure, unstructure
from famplan_core.errors import ValidationError
from famplan_core.model.codes import (
    CertificateKind,
    DisabilityCategory,
    Ethnicity,
    HukouType,
    LinkKind,
    MaritalStatus,
    RelationToHead,
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
from famplan_core.model.money import Money
from famplan_core.model.people import Household, Person

# --- strategies ---------------------------------------------------------------------------

ids = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20)
texts = st.text(
    alphabet=st.characters(categories=("L", "N", "P", "Zs"), codec="utf-8"),
    min_size=1,
    max_size=200,
).filter(str.strip)
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2030, 12, 31))
divisions = st.builds(
    DivisionCode, st.from_regex(r"[1-8][0-9]{5}(?:[0-9]{3}(?:[0-9]{3})?)?", fullmatch=True)
)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def two_ids() -> st.SearchStrategy[list[str]]:
    return st.lists(ids, min_size=2, max_size=2, unique=True)


@st.composite
def citizen_ids(draw: st.DrawFn, born: dt.date, sex: Sex) -> CitizenId:
    prefix = draw(st.sampled_from(["371502", "110105", "440524", "650102"]))
    sequence = draw(st.integers(0, 99))
    digit = draw(st.integers(0, 4)) * 2 + (1 if sex is Sex.MALE else 0)
    if sex not in (Sex.MALE, Sex.FEMALE):
        digit = draw(st.integers(0, 9))
    first17 = f"{prefix}{born:%Y%m%d}{sequence:02d}{digit}"
    return CitizenId(first17 + CitizenId.check_character(first17))


@st.composite
def persons(draw: st.DrawFn) -> Person:
    born = draw(dates)
    sex = draw(st.sampled_from(Sex))
    return Person(
        person_id=draw(ids),
        citizen_id=draw(optional(citizen_ids(born, sex))),
        name=draw(texts),
        sex=sex,
        birth_date=born,
        death_date=draw(optional(st.integers(0, 40000).map(lambda d: born + dt.timedelta(d)))),
        ethnicity=draw(optional(st.sampled_from(Ethnicity))),
        marital_status=draw(optional(st.sampled_from(MaritalStatus))),
        hukou_division=draw(divisions),
        hukou_type=draw(st.sampled_from(HukouType)),
        residence_division=draw(optional(divisions)),
        household_id=draw(optional(ids)),
        relation_to_head=draw(optional(st.sampled_from(RelationToHead))),
    )


households = st.builds(
    Household,
    household_id=ids,
    division=divisions,
    address=optional(texts),
    head_person_id=optional(ids),
)


@st.composite
def parent_children(draw: st.DrawFn) -> ParentChild:
    parent, child = draw(two_ids())
    kind = draw(st.sampled_from(LinkKind))
    since = draw(dates if kind is LinkKind.ADOPTIVE else optional(dates))
    return ParentChild(parent_id=parent, child_id=child, kind=kind, since=since)


@st.composite
def unions(draw: st.DrawFn) -> Union:
    a, b = draw(two_ids())
    start = draw(dates)
    end = draw(optional(st.integers(0, 20000).map(lambda d: start + dt.timedelta(d))))
    return Union(
        person_a=a,
        person_b=b,
        start=start,
        end=end,
        end_reason=draw(optional(st.sampled_from(UnionEndReason))),
    )


hukou_changes = st.builds(
    HukouChange,
    person_id=ids,
    date=dates,
    hukou_division=divisions,
    hukou_type=st.sampled_from(HukouType),
)


@st.composite
def disabilities(draw: st.DrawFn) -> DisabilityCertificate:
    start = draw(dates)
    return DisabilityCertificate(
        person_id=draw(ids),
        grade=draw(st.integers(1, 4)),
        category=draw(optional(st.sampled_from(DisabilityCategory))),
        valid_from=start,
        valid_to=draw(optional(st.integers(0, 5000).map(lambda d: start + dt.timedelta(d)))),
    )


@st.composite
def certificates(draw: st.DrawFn) -> Certificate:
    holder, child = draw(two_ids())
    issued = draw(dates)
    kind = draw(st.sampled_from(CertificateKind))
    return Certificate(
        certificate_id=draw(ids),
        kind=kind,
        holder_id=holder,
        child_id=child if kind is CertificateKind.HONOUR else draw(optional(st.just(child))),
        issued_on=issued,
        revoked_on=draw(optional(st.integers(0, 9000).map(lambda d: issued + dt.timedelta(d)))),
    )


enrolments = st.builds(Enrolment, person_id=ids, program=ids, since=dates, category=optional(texts))

RECORDS: dict[type, st.SearchStrategy[Any]] = {
    Person: persons(),
    Household: households,
    ParentChild: parent_children(),
    Union: unions(),
    HukouChange: hukou_changes,
    DisabilityCertificate: disabilities(),
    Certificate: certificates(),
    Enrolment: enrolments,
}
any_record = st.one_of(*RECORDS.values())

junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(exc: ValidationError) -> set[str]:
    return {p.path for p in exc.problems}


# --- round trips --------------------------------------------------------------------------


def test_every_record_class_has_a_strategy() -> None:
    assert {cls.__name__ for cls in RECORDS} == {
        "Person",
        "Household",
        "ParentChild",
        "Union",
        "HukouChange",
        "DisabilityCertificate",
        "Certificate",
        "Enrolment",
    }


@given(any_record)
def test_round_trip(record: Any) -> None:
    data = unstructure(record)
    assert list(data) == list(type(record).COLUMNS)
    assert structure(data, type(record)) == record


@given(any_record)
def test_unstructured_data_is_json_of_text_and_null(record: Any) -> None:
    data = unstructure(record)
    assert json.loads(json.dumps(data)) == data
    for name, value in data.items():
        if name == "grade":
            assert isinstance(value, int)
        else:
            assert value is None or isinstance(value, str), name


@given(any_record)
def test_a_register_row_of_text_reads_back(record: Any) -> None:
    """A CSV row: every value text, empty cells for empty fields."""
    row = {k: "" if v is None else str(v) for k, v in unstructure(record).items()}
    assert structure(row, type(record), source=f"{type(record).KIND}.csv", line=2) == record


def test_unstructure_writes_codes_dates_and_ids_as_text() -> None:
    p = Person(
        person_id="p1",
        citizen_id=CitizenId("11010519491231002X"),
        name="王芳",
        sex=Sex.FEMALE,
        birth_date=dt.date(1949, 12, 31),
        ethnicity=Ethnicity.HAN,
        hukou_division=DivisionCode("371502110201"),
        hukou_type=HukouType.RURAL,
    )
    data = unstructure(p)
    assert data["sex"] == "2"
    assert type(data["sex"]) is str
    assert data["ethnicity"] == "01"
    assert data["birth_date"] == "1949-12-31"
    assert data["citizen_id"] == "11010519491231002X"
    assert data["hukou_division"] == "371502110201"
    assert data["death_date"] is None


def test_unstructure_needs_a_record() -> None:
    with pytest.raises(TypeError):
        unstructure(3)


# --- bad input ----------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    st.sampled_from(list(RECORDS)),
    st.dictionaries(
        st.sampled_from([*Person.COLUMNS, *Certificate.COLUMNS, "grade", "since"])
        | st.text(max_size=8),
        junk,
        max_size=8,
    ),
)
def test_bad_input_raises_only_validation_error(cls: type, data: dict[str, Any]) -> None:
    problems: list[str] = []
    try:
        structure(data, cls, source="x.csv", line=3)
    except ValidationError as exc:
        problems = [p.path for p in exc.problems] or ["none"]
    assert all(path.startswith("x.csv:3") for path in problems)


@given(st.sampled_from(list(RECORDS)), junk)
def test_anything_that_is_not_a_table_is_one_problem(cls: type, data: Any) -> None:
    if isinstance(data, dict):
        return
    with pytest.raises(ValidationError) as excinfo:
        structure(data, cls)
    assert paths(excinfo.value) == {"$"}
    assert "expected a table of fields" in excinfo.value.problems[0].message


@settings(max_examples=200)
@given(st.data())
def test_every_bad_field_is_reported_with_its_path(data: st.DataObject) -> None:
    record = data.draw(any_record)
    cls = type(record)
    row = unstructure(record)
    spoilt = data.draw(st.lists(st.sampled_from(cls.COLUMNS), min_size=1, unique=True))
    for name in spoilt:
        row[name] = data.draw(st.lists(junk, min_size=1, max_size=2) | st.just(1.5))
    with pytest.raises(ValidationError) as excinfo:
        structure(row, cls, source=f"{cls.KIND}.csv", line=17)
    assert paths(excinfo.value) == {f"{cls.KIND}.csv:17:{name}" for name in spoilt}
    for problem in excinfo.value.problems:
        assert problem.message
        assert problem.value != ""


def test_one_error_lists_every_problem_with_path_value_and_message() -> None:
    row = {
        "person_id": "p1",
        "citizen_id": "110105194912310021",
        "name": 5,
        "sex": "１",
        "birth_date": "1949-13-01",
        "hukou_division": "37150",
        "hukou_type": "rural",
        "nickname": "小芳",
    }
    with pytest.raises(ValidationError) as excinfo:
        structure(row, Person, source="persons.csv", line=17)
    found = {p.path: p for p in excinfo.value.problems}
    assert set(found) == {
        "persons.csv:17:citizen_id",
        "persons.csv:17:name",
        "persons.csv:17:sex",
        "persons.csv:17:birth_date",
        "persons.csv:17:hukou_division",
        "persons.csv:17:nickname",
    }
    assert found["persons.csv:17:citizen_id"].value == "110105194912310021"
    assert "check character" in found["persons.csv:17:citizen_id"].message
    assert found["persons.csv:17:name"].value == "5"
    assert "expected text" in found["persons.csv:17:name"].message
    assert "GB/T 2261.1 sex" in found["persons.csv:17:sex"].message
    assert "full-width" in found["persons.csv:17:sex"].message
    assert "calendar" in found["persons.csv:17:birth_date"].message
    assert "unknown field" in found["persons.csv:17:nickname"].message
    assert found["persons.csv:17:nickname"].value == "小芳"


def test_missing_required_fields_are_each_reported() -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({}, Union)
    assert paths(excinfo.value) == {"person_a", "person_b", "start"}
    assert all("missing" in p.message and p.value == "" for p in excinfo.value.problems)


def test_model_invariants_come_back_with_the_row_prefix() -> None:
    row = {"parent_id": "p1", "child_id": "p1", "kind": "adoptive"}
    with pytest.raises(ValidationError) as excinfo:
        structure(row, ParentChild, source="parent_child.csv", line=4)
    assert paths(excinfo.value) == {"parent_child.csv:4:child_id", "parent_child.csv:4:since"}


def test_path_without_source_or_line() -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure(
            {"person_id": "p1", "grade": "5", "valid_from": "2020-01-01"}, DisabilityCertificate
        )
    assert paths(excinfo.value) == {"grade"}
    assert excinfo.value.problems[0].value == "5"


# --- nested classes, as in famplan.toml ---------------------------------------------------


@attrs.frozen(kw_only=True)
class Township:
    division: DivisionCode
    name: str


@attrs.frozen(kw_only=True)
class Settings:
    township: Township
    window_days: int = 7
    villages: list[Township] = attrs.Factory(list)
    plugins: dict[str, dict[str, Any]] = attrs.Factory(dict)
    output: Path | None = None


def test_nested_path_with_source_names_the_toml_key() -> None:
    data = {"township": {"division": "37150", "name": "顾官屯镇"}}
    with pytest.raises(ValidationError) as excinfo:
        structure(data, Settings, source="famplan.toml")
    (problem,) = excinfo.value.problems
    assert problem.path == "famplan.toml:township.division"
    assert problem.value == "37150"
    assert "9-digit township code such as 371502110" in problem.message


def test_nested_paths_for_lists_and_unknown_keys() -> None:
    data = {
        "township": {"division": "371502110", "name": "顾官屯镇", "mayor": "x"},
        "villages": [{"division": "371502110201", "name": "a"}, {"division": "x", "name": 1}],
        "window_days": 7.5,
    }
    with pytest.raises(ValidationError) as excinfo:
        structure(data, Settings)
    assert paths(excinfo.value) == {
        "township.mayor",
        "villages[1].division",
        "villages[1].name",
        "window_days",
    }
    with pytest.raises(ValidationError) as excinfo:
        structure({**data, "villages": []}, Settings, source="famplan.toml", line=4)
    assert "famplan.toml:4:township.mayor" in paths(excinfo.value)


def test_nested_settings_read_and_round_trip() -> None:
    data = {
        "township": {"division": "371502110", "name": "顾官屯镇"},
        "plugins": {"report-markdown": {"enabled": True}},
        "output": "exports/2026",
        "window_days": "10",
    }
    settings_ = structure(data, Settings)
    assert settings_.township.division == DivisionCode("371502110")
    assert settings_.output == Path("exports/2026")
    assert settings_.window_days == 10
    assert structure(unstructure(settings_), Settings) == settings_


# --- the scalar rules ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Payment:
    amount: Money
    rate: Decimal = Decimal("1")
    paid_at: dt.datetime | None = None
    on: dt.date | None = None
    flag: bool = False


def test_money_is_text_both_ways() -> None:
    payment = structure({"amount": "960.00", "rate": "0.5"}, Payment)
    assert payment.amount == Money(96000)
    assert payment.rate == Decimal("0.5")
    data = unstructure(payment)
    assert data["amount"] == "960.00"
    assert data["rate"] == "0.5"
    assert structure(data, Payment) == payment


@pytest.mark.parametrize("value", [960.0, 0.1, float("nan")])
def test_money_rejects_a_float(value: float) -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"amount": value}, Payment)
    (problem,) = excinfo.value.problems
    assert problem.path == "amount"
    assert "float" in problem.message


@pytest.mark.parametrize("value", [960, "96O", "1.234", None, True])
def test_money_rejects_anything_but_an_amount_as_text(value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"amount": value}, Payment)
    assert paths(excinfo.value) == {"amount"}


@pytest.mark.parametrize("value", [0.5, "NaN", "Infinity", "1e3", "", 5])
def test_decimal_is_finite_text(value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"amount": "1", "rate": value}, Payment)
    assert paths(excinfo.value) == {"rate"}


@pytest.mark.parametrize(
    "value",
    ["2024-3-1", "20240301", "2023-02-29", "２０２４-０３-０１", "2024-03-01T00:00", 20240301],
)
def test_dates_are_real_iso_dates_only(value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"amount": "1", "on": value}, Payment)
    assert paths(excinfo.value) == {"on"}


def test_dates_and_datetimes_that_are_accepted() -> None:
    payment = structure(
        {"amount": "1", "on": " 2024-02-29 ", "paid_at": "2024-03-01T08:30:00+08:00"}, Payment
    )
    assert payment.on == dt.date(2024, 2, 29)
    assert payment.paid_at is not None
    assert payment.paid_at.utcoffset() == dt.timedelta(hours=8)
    assert unstructure(payment)["paid_at"] == "2024-03-01T08:30:00+08:00"
    toml_native = structure({"amount": "1", "on": dt.date(2024, 1, 1)}, Payment)
    assert toml_native.on == dt.date(2024, 1, 1)


@pytest.mark.parametrize(
    "value", ["2024-03-01T08:30:00", "2024-03-01", dt.datetime(2024, 3, 1), 1709251800]
)
def test_datetimes_need_a_time_zone(value: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"amount": "1", "paid_at": value}, Payment)
    assert paths(excinfo.value) == {"paid_at"}


def test_a_datetime_is_not_a_date() -> None:
    with pytest.raises(ValidationError):
        structure({"amount": "1", "on": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}, Payment)


@pytest.mark.parametrize(("value", "expected"), [(True, True), ("false", False), ("true", True)])
def test_booleans(value: Any, expected: bool) -> None:
    assert structure({"amount": "1", "flag": value}, Payment).flag is expected


@pytest.mark.parametrize("value", [1, "yes", "False", None])
def test_booleans_are_strict(value: Any) -> None:
    with pytest.raises(ValidationError):
        structure({"amount": "1", "flag": value}, Payment)


def test_an_empty_cell_is_none_for_an_optional_field() -> None:
    payment = structure({"amount": "1", "on": "", "paid_at": "  "}, Payment)
    assert payment.on is None
    assert payment.paid_at is None


@pytest.mark.parametrize("value", [1, 1.0, True, ["1"]])
def test_codes_are_text(value: Any) -> None:
    row = {"parent_id": "a", "child_id": "b", "kind": "birth"}
    structure(row, ParentChild)
    with pytest.raises(ValidationError) as excinfo:
        structure({**row, "kind": value}, ParentChild)
    assert paths(excinfo.value) == {"kind"}
    assert "parent-child link kind" in excinfo.value.problems[0].message


def test_a_number_is_not_text() -> None:
    with pytest.raises(ValidationError) as excinfo:
        structure({"person_id": 7, "program": "x", "since": "2020-01-01"}, Enrolment)
    assert paths(excinfo.value) == {"person_id"}


@pytest.mark.parametrize(("value", "expected"), [("3", 3), (" 4 ", 4), (2, 2)])
def test_whole_numbers_read_from_text(value: Any, expected: int) -> None:
    row = {"person_id": "p", "grade": value, "valid_from": "2020-01-01"}
    assert structure(row, DisabilityCertificate).grade == expected


@pytest.mark.parametrize("value", [2.0, True, "2.0", "２", "two"])
def test_whole_numbers_are_strict(value: Any) -> None:
    row = {"person_id": "p", "grade": value, "valid_from": "2020-01-01"}
    with pytest.raises(ValidationError) as excinfo:
        structure(row, DisabilityCertificate)
    assert paths(excinfo.value) == {"grade"}


def test_citizen_id_is_normalised_and_checked_against_today() -> None:
    row = {
        "person_id": "p1",
        "citizen_id": " 11010519491231002x ",
        "name": "王芳",
        "sex": "2",
        "birth_date": "1949-12-31",
        "hukou_division": "371502110201",
        "hukou_type": "rural",
    }
    assert structure(row, Person).citizen_id == CitizenId("11010519491231002X")
    first17 = "11010520300101002"
    future = {**row, "citizen_id": first17 + CitizenId.check_character(first17)}
    future["birth_date"] = "2030-01-01"
    assert structure(future, Person).birth_date == dt.date(2030, 1, 1)
    converter = make_converter(today=dt.date(2026, 1, 1))
    with pytest.raises(ValidationError) as excinfo:
        structure(future, Person, converter=converter)
    assert paths(excinfo.value) == {"citizen_id"}
    assert "future" in excinfo.value.problems[0].message


def test_make_converter_builds_independent_converters() -> None:
    one, two = make_converter(), make_converter()
    assert one is not two
    assert one.forbid_extra_keys
    assert one.detailed_validation
