"""Sensitivity classes on every field, and the privacy rules they must encode."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import re
from typing import Any

import attrs
import pytest

import famplan_core.model
from famplan_core.errors import ValidationError
from famplan_core.model.facts import DisabilityCertificate, ParentChild
from famplan_core.model.people import Person
from famplan_core.model.sensitivity import (
    CHILD_AGE_LIMIT,
    SENSITIVITY_KEY,
    Sensitivity,
    effective_sensitivity,
    field,
    fields_at_most,
    sensitivity_metadata,
    sensitivity_of,
)

ON = dt.date(2026, 3, 1)


def record_classes() -> list[type]:
    """Every record class of the model: attrs classes with a register ``KIND``."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(famplan_core.model.__path__):
        module = importlib.import_module(f"famplan_core.model.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and attrs.has(value)
                and value.__module__ == module.__name__
                and isinstance(getattr(value, "KIND", None), str)
            ):
                found[value.__qualname__] = value
    return sorted(found.values(), key=lambda c: c.__name__)


RECORDS = record_classes()
ALL_FIELDS = [(cls, a.name) for cls in RECORDS for a in attrs.fields(cls)]


def field_id(case: tuple[type, str]) -> str:
    return f"{case[0].__name__}.{case[1]}"


def test_the_record_classes_are_found() -> None:
    names = {cls.__name__ for cls in RECORDS}
    assert {
        "Person",
        "Household",
        "ParentChild",
        "Union",
        "HukouChange",
        "DisabilityCertificate",
        "Certificate",
        "Enrolment",
    } <= names


# --- the enum and the helpers ----------------------------------------------------------


def test_sensitivity_is_ordered() -> None:
    order = [Sensitivity.PUBLIC, Sensitivity.INTERNAL, Sensitivity.PERSONAL, Sensitivity.SENSITIVE]
    shuffled = [order[2], order[0], order[3], order[1]]
    assert sorted(shuffled) == order
    assert Sensitivity.PUBLIC < Sensitivity.SENSITIVE
    assert Sensitivity.PERSONAL <= Sensitivity.PERSONAL
    assert Sensitivity.SENSITIVE > Sensitivity.INTERNAL >= Sensitivity.INTERNAL
    assert max(order) is Sensitivity.SENSITIVE
    assert [s.value for s in order] == ["public", "internal", "personal", "sensitive"]
    with pytest.raises(TypeError):
        _ = Sensitivity.PUBLIC < 1


@attrs.frozen(kw_only=True)
class Pet:
    name: str = attrs.field(metadata=sensitivity_metadata(Sensitivity.PERSONAL))
    vet_notes: str = field(sensitivity=Sensitivity.SENSITIVE, default="", metadata={"x": 1})
    tag: str = field(sensitivity=Sensitivity.PUBLIC, default="")
    colour: str = ""


def test_field_helper_stores_the_class_under_the_documented_key() -> None:
    notes = attrs.fields(Pet).vet_notes
    assert notes.metadata[SENSITIVITY_KEY] is Sensitivity.SENSITIVE
    assert notes.metadata["x"] == 1
    assert notes.default == ""
    assert sensitivity_of(Pet, "name") is Sensitivity.PERSONAL
    assert sensitivity_of(Pet, "tag") is Sensitivity.PUBLIC


def test_a_field_without_a_class_is_an_error() -> None:
    with pytest.raises(ValidationError) as excinfo:
        sensitivity_of(Pet, "colour")
    assert excinfo.value.problems[0].path == "Pet.colour"
    with pytest.raises(ValidationError):
        fields_at_most(Pet, Sensitivity.SENSITIVE)


def test_unknown_field_or_class_is_an_error() -> None:
    with pytest.raises(ValidationError, match="the fields are"):
        sensitivity_of(Person, "nickname")
    with pytest.raises(ValidationError, match="not an attrs"):
        sensitivity_of(int, "real")


def test_sensitivity_must_be_a_sensitivity() -> None:
    with pytest.raises(TypeError):
        sensitivity_metadata("personal")  # type: ignore[arg-type]


def test_fields_at_most() -> None:
    assert fields_at_most(Person, Sensitivity.PUBLIC) == ()
    assert fields_at_most(Person, Sensitivity.INTERNAL) == ("person_id", "household_id")
    assert "death_date" not in fields_at_most(Person, Sensitivity.PERSONAL)
    assert "name" in fields_at_most(Person, Sensitivity.PERSONAL)
    assert fields_at_most(Person, Sensitivity.SENSITIVE) == Person.COLUMNS
    assert fields_at_most(DisabilityCertificate, Sensitivity.PERSONAL) == ()


# --- the privacy test -------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_FIELDS, ids=field_id)
def test_every_field_of_every_record_class_has_a_sensitivity(case: tuple[type, str]) -> None:
    cls, name = case
    assert isinstance(sensitivity_of(cls, name), Sensitivity)


@pytest.mark.parametrize("name", [a.name for a in attrs.fields(DisabilityCertificate)])
def test_every_disability_field_is_sensitive(name: str) -> None:
    assert sensitivity_of(DisabilityCertificate, name) is Sensitivity.SENSITIVE


@pytest.mark.parametrize(
    "case",
    [c for c in ALL_FIELDS if "disab" in c[1] or "grade" in c[1] or "death" in c[1]],
    ids=field_id,
)
def test_disability_and_death_fields_anywhere_are_sensitive(case: tuple[type, str]) -> None:
    assert sensitivity_of(*case) is Sensitivity.SENSITIVE


def test_death_dates_are_sensitive() -> None:
    assert sensitivity_of(Person, "death_date") is Sensitivity.SENSITIVE


def test_adoption_is_sensitive() -> None:
    assert sensitivity_of(ParentChild, "kind") is Sensitivity.SENSITIVE
    assert sensitivity_of(ParentChild, "since") is Sensitivity.SENSITIVE


HEALTH = re.compile(
    r"health|medic|contracep|pregnan|abort|steril|infertil|ligat|iud|diagnos|illness|cause",
    re.IGNORECASE,
)


@pytest.mark.parametrize("case", ALL_FIELDS, ids=field_id)
def test_health_data_is_sensitive_wherever_it_appears(case: tuple[type, str]) -> None:
    cls, name = case
    if HEALTH.search(name):
        assert sensitivity_of(cls, name) is Sensitivity.SENSITIVE


def test_there_is_no_health_field_yet() -> None:
    """When one is added, the test above makes sure it is sensitive; update this one then."""
    assert [field_id(c) for c in ALL_FIELDS if HEALTH.search(c[1])] == []


def years_before(on: dt.date, years: int) -> dt.date:
    return on.replace(year=on.year - years)


@pytest.mark.parametrize("case", ALL_FIELDS, ids=field_id)
def test_everything_about_a_child_under_14_is_sensitive(case: tuple[type, str]) -> None:
    cls, name = case
    born = years_before(ON, 13)
    assert effective_sensitivity(cls, name, subject_birth_date=born, on=ON) is Sensitivity.SENSITIVE
    day_before_14 = years_before(ON, 14) + dt.timedelta(days=1)
    assert (
        effective_sensitivity(cls, name, subject_birth_date=day_before_14, on=ON)
        is Sensitivity.SENSITIVE
    )


@pytest.mark.parametrize("name", Person.COLUMNS)
def test_a_person_of_14_gets_each_fields_own_class(name: str) -> None:
    own = sensitivity_of(Person, name)
    born = years_before(ON, CHILD_AGE_LIMIT)
    assert effective_sensitivity(Person, name, subject_birth_date=born, on=ON) is own
    assert effective_sensitivity(Person, name, subject_birth_date=None, on=ON) is own


def test_a_leap_day_child_turns_14_on_1_march() -> None:
    born = dt.date(2012, 2, 29)
    on_28 = effective_sensitivity(Person, "name", subject_birth_date=born, on=dt.date(2026, 2, 28))
    on_1 = effective_sensitivity(Person, "name", subject_birth_date=born, on=dt.date(2026, 3, 1))
    assert on_28 is Sensitivity.SENSITIVE
    assert on_1 is Sensitivity.PERSONAL


def test_a_subject_not_yet_born_counts_as_a_child() -> None:
    later = dt.date(2027, 1, 1)
    assert (
        effective_sensitivity(Person, "person_id", subject_birth_date=later, on=ON)
        is Sensitivity.SENSITIVE
    )


def test_the_row_rule_still_requires_a_declared_class() -> None:
    kwargs: dict[str, Any] = {"subject_birth_date": years_before(ON, 5), "on": ON}
    with pytest.raises(ValidationError):
        effective_sensitivity(Pet, "colour", **kwargs)
