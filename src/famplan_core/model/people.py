"""People and households (人员与户): the rows of the register's ``persons`` and ``households``.

Each record class names its register-format file in `KIND` and its columns, in the order of
the spec, in `COLUMNS`; its fields carry those names. Every field declares a `Sensitivity`.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import attrs

from famplan_core.errors import Problem, ValidationError
from famplan_core.model._checks import check_text
from famplan_core.model.codes import Ethnicity, HukouType, MaritalStatus, RelationToHead, Sex
from famplan_core.model.identity import CitizenId, DivisionCode
from famplan_core.model.sensitivity import Sensitivity, sensitivity_metadata

__all__ = ["Household", "Person"]

_INTERNAL = sensitivity_metadata(Sensitivity.INTERNAL)
_PERSONAL = sensitivity_metadata(Sensitivity.PERSONAL)
_SENSITIVE = sensitivity_metadata(Sensitivity.SENSITIVE)

_KNOWN_SEXES = frozenset({"1", "2"})


@attrs.frozen(kw_only=True)
class Person:
    """A person (人员) in the register, alive or dead: one row of ``persons``.

    The person row holds the current hukou; `HukouChange` records hold its dated history.
    All death dates are `Sensitivity.SENSITIVE`: a child's death is sensitive (domain
    README §6), and a death date does not say whose child died, so every one is classed so.

    Attributes:
        person_id: the sender's stable identifier, unique in the register (internal).
        citizen_id: the resident ID number (公民身份号码), or None for a newborn not yet
            registered; its birth date and sex must agree with `birth_date` and `sex`.
        name: the full name.
        sex: GB/T 2261.1 sex.
        birth_date: the date of birth (the import checks it is not in the future).
        death_date: the date of death, on or after `birth_date`, or None (sensitive).
        ethnicity: GB 3304 ethnicity (民族), or None.
        marital_status: GB/T 2261.2 marital status (婚姻状况), or None.
        hukou_division: the 12-digit division code of the registered residence (户籍地).
        hukou_type: `rural` or `urban`.
        residence_division: where the person actually lives (居住地), when different.
        household_id: the household (户) the person belongs to, or None (internal).
        relation_to_head: GB/T 4761 relation to the household head (与户主关系), or None.

    Raises:
        ValidationError: every broken rule, each with its field as path: empty or overlong
            text, a death before the birth, a citizen ID disagreeing with birth date or sex.
    """

    KIND: ClassVar[str] = "persons"
    COLUMNS: ClassVar[tuple[str, ...]] = (
        "person_id",
        "citizen_id",
        "name",
        "sex",
        "birth_date",
        "death_date",
        "ethnicity",
        "marital_status",
        "hukou_division",
        "hukou_type",
        "residence_division",
        "household_id",
        "relation_to_head",
    )

    person_id: str = attrs.field(metadata=_INTERNAL)
    citizen_id: CitizenId | None = attrs.field(default=None, metadata=_PERSONAL)
    name: str = attrs.field(metadata=_PERSONAL)
    sex: Sex = attrs.field(metadata=_PERSONAL)
    birth_date: dt.date = attrs.field(metadata=_PERSONAL)
    death_date: dt.date | None = attrs.field(default=None, metadata=_SENSITIVE)
    ethnicity: Ethnicity | None = attrs.field(default=None, metadata=_PERSONAL)
    marital_status: MaritalStatus | None = attrs.field(default=None, metadata=_PERSONAL)
    hukou_division: DivisionCode = attrs.field(metadata=_PERSONAL)
    hukou_type: HukouType = attrs.field(metadata=_PERSONAL)
    residence_division: DivisionCode | None = attrs.field(default=None, metadata=_PERSONAL)
    household_id: str | None = attrs.field(default=None, metadata=_INTERNAL)
    relation_to_head: RelationToHead | None = attrs.field(default=None, metadata=_PERSONAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "person_id", self.person_id)
        check_text(problems, "name", self.name)
        check_text(problems, "household_id", self.household_id)
        if self.death_date is not None and self.death_date < self.birth_date:
            problems.append(
                Problem(
                    path="death_date",
                    value=self.death_date.isoformat(),
                    message=f"the death is before the birth ({self.birth_date.isoformat()})",
                )
            )
        if self.citizen_id is not None:
            if self.citizen_id.birth_date != self.birth_date:
                problems.append(
                    Problem(
                        path="citizen_id",
                        value=self.citizen_id.value,
                        message=(
                            f"its birth date {self.citizen_id.birth_date.isoformat()} differs "
                            f"from birth_date {self.birth_date.isoformat()}"
                        ),
                    )
                )
            if self.sex.value in _KNOWN_SEXES and self.citizen_id.sex != self.sex:
                problems.append(
                    Problem(
                        path="citizen_id",
                        value=self.citizen_id.value,
                        message=(
                            f"its sex digit gives sex {self.citizen_id.sex.value}, "
                            f"but sex is {self.sex.value}"
                        ),
                    )
                )
        if problems:
            raise ValidationError(problems)


@attrs.frozen(kw_only=True)
class Household:
    """A registered household (户): one row of ``households``.

    Attributes:
        household_id: the sender's identifier of the household (internal).
        division: the 12-digit village code of the household.
        address: the address, or None.
        head_person_id: the `person_id` of the household head (户主), or None (internal).

    Raises:
        ValidationError: an identifier or the address is empty, overlong or holds a
            control character.
    """

    KIND: ClassVar[str] = "households"
    COLUMNS: ClassVar[tuple[str, ...]] = ("household_id", "division", "address", "head_person_id")

    household_id: str = attrs.field(metadata=_INTERNAL)
    division: DivisionCode = attrs.field(metadata=_PERSONAL)
    address: str | None = attrs.field(default=None, metadata=_PERSONAL)
    head_person_id: str | None = attrs.field(default=None, metadata=_INTERNAL)

    def __attrs_post_init__(self) -> None:
        problems: list[Problem] = []
        check_text(problems, "household_id", self.household_id)
        check_text(problems, "address", self.address)
        check_text(problems, "head_person_id", self.head_person_id)
        if problems:
            raise ValidationError(problems)
