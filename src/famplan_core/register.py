"""As-of views of the register (登记簿), folded in plain Python from its records.

This is the reference meaning of "the register as it stood for date D" (spec R0.1-R0.6,
R0.10, R3.4, R4.4): the SQL storage computes the same `FactsFrame` set-based for a whole
jurisdiction, and a property test checks the two agree on random registers and dates. Use
it directly for small registers held in memory (unit tests, a single household).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import attrs
import numpy as np

from famplan_core.model.codes import CertificateKind, HukouType, LinkKind, Sex
from famplan_core.model.dates import completed_years
from famplan_core.model.facts import (
    Certificate,
    DisabilityCertificate,
    HukouChange,
    ParentChild,
    Union,
)
from famplan_core.model.frame import NO_ROW, CertificateColumns, FactsFrame
from famplan_core.model.identity import DivisionCode
from famplan_core.model.people import Person

__all__ = ["ChildOnDate", "PersonOnDate", "RegisterRecords", "fold_frame", "person_as_of"]

_LINK_CODE = {LinkKind.BIRTH: 1, LinkKind.ADOPTIVE: 2}


@attrs.frozen(kw_only=True)
class RegisterRecords:
    """A register held in memory: the records of every kind.

    Attributes:
        persons: every person (人员).
        parent_child: parent-child links (亲子关系).
        unions: marriages (婚姻).
        hukou_changes: dated hukou history (户口迁移).
        disabilities: disability certificates (残疾人证).
        certificates: honour and other certificates (光荣证).
    """

    persons: Sequence[Person]
    parent_child: Sequence[ParentChild] = ()
    unions: Sequence[Union] = ()
    hukou_changes: Sequence[HukouChange] = ()
    disabilities: Sequence[DisabilityCertificate] = ()
    certificates: Sequence[Certificate] = ()


@attrs.frozen(kw_only=True)
class ChildOnDate:
    """One of a person's children on a date (R0.4).

    Attributes:
        person_id: the child.
        sex: the child's sex.
        kind: ``birth`` or ``adoptive``.
        joined: when the child became the person's child: the birth date for a birth
            link, the link's ``since`` for an adoption.
        alive: whether the child is alive on the date (R0.3).
    """

    person_id: str
    sex: Sex
    kind: LinkKind
    joined: dt.date
    alive: bool


@attrs.frozen(kw_only=True)
class PersonOnDate:
    """One person as the register stood for a date.

    Attributes:
        person_id: the person.
        date: the date D.
        alive: born on or before D, and no death on or before D (R0.3).
        age: completed years on D (R0.2), or None when born after D.
        hukou_division: the hukou division on D (R0.5), or None when unknown.
        hukou_type: the hukou type on D, or None when unknown.
        unions: marriages in force on D (started on or before D, not ended on or before D).
        children: ever-children on D (R0.4), in order of joining.
        disabilities: disability certificates valid on D (R0.10).
        certificates: certificates held and valid on D (R0.10).
    """

    person_id: str
    date: dt.date
    alive: bool
    age: int | None
    hukou_division: DivisionCode | None
    hukou_type: HukouType | None
    unions: tuple[Union, ...]
    children: tuple[ChildOnDate, ...]
    disabilities: tuple[DisabilityCertificate, ...]
    certificates: tuple[Certificate, ...]

    @property
    def living_children(self) -> tuple[ChildOnDate, ...]:
        """The ever-children alive on D."""
        return tuple(child for child in self.children if child.alive)


def _alive(person: Person, d: dt.date) -> bool:
    return person.birth_date <= d and (person.death_date is None or person.death_date > d)


class _Index:
    """The records grouped by person, built once per fold."""

    def __init__(self, records: RegisterRecords) -> None:
        self.persons: dict[str, Person] = {p.person_id: p for p in records.persons}
        self.links_of_parent: dict[str, list[ParentChild]] = defaultdict(list)
        self.links_of_child: dict[str, list[ParentChild]] = defaultdict(list)
        for link in records.parent_child:
            self.links_of_parent[link.parent_id].append(link)
            self.links_of_child[link.child_id].append(link)
        self.hukou: dict[str, list[HukouChange]] = defaultdict(list)
        for change in records.hukou_changes:
            self.hukou[change.person_id].append(change)
        for changes in self.hukou.values():
            changes.sort(key=lambda c: c.date)
        self.unions: dict[str, list[Union]] = defaultdict(list)
        for union in records.unions:
            self.unions[union.person_a].append(union)
            self.unions[union.person_b].append(union)
        self.disabilities: dict[str, list[DisabilityCertificate]] = defaultdict(list)
        for certificate in records.disabilities:
            self.disabilities[certificate.person_id].append(certificate)
        self.certificates: dict[str, list[Certificate]] = defaultdict(list)
        for held in records.certificates:
            self.certificates[held.holder_id].append(held)

    def hukou_on(self, person: Person, d: dt.date) -> tuple[DivisionCode, HukouType] | None:
        changes = self.hukou.get(person.person_id)
        if not changes:
            return person.hukou_division, person.hukou_type
        latest = None
        for change in changes:
            if change.date <= d:
                latest = change
        if latest is None:
            return None
        return latest.hukou_division, latest.hukou_type

    def children_on(self, parent_id: str, d: dt.date) -> list[ChildOnDate]:
        chosen: dict[str, ChildOnDate] = {}
        for link in self.links_of_parent.get(parent_id, ()):
            child = self.persons.get(link.child_id)
            if child is None or link.kind is LinkKind.STEP:
                continue
            joined = child.birth_date if link.kind is LinkKind.BIRTH else link.since
            if joined is None or joined > d or child.birth_date > d:
                continue
            view = ChildOnDate(
                person_id=child.person_id,
                sex=child.sex,
                kind=link.kind,
                joined=joined,
                alive=_alive(child, d),
            )
            earlier = chosen.get(child.person_id)
            # A child linked twice (birth and adoptive) counts once, by its birth link.
            if earlier is None or (view.kind is LinkKind.BIRTH and earlier.kind is not view.kind):
                chosen[child.person_id] = view
        return sorted(chosen.values(), key=lambda c: (c.joined, c.person_id))

    def mother_birth_date(self, parent: Person, child: ChildOnDate, d: dt.date) -> dt.date | None:
        """R3.4: P herself when female, else the female parent linked to K by P's kind of link."""
        if parent.sex is Sex.FEMALE:
            return parent.birth_date
        births: list[dt.date] = []
        for link in self.links_of_child.get(child.person_id, ()):
            other = self.persons.get(link.parent_id)
            if other is None or other.person_id == parent.person_id or link.kind is not child.kind:
                continue
            if link.kind is LinkKind.ADOPTIVE and (link.since is None or link.since > d):
                continue
            if other.sex is Sex.FEMALE:
                births.append(other.birth_date)
        return min(births) if births else None


def person_as_of(records: RegisterRecords, person_id: str, d: dt.date) -> PersonOnDate:
    """One person as the register stood for `d`.

    Args:
        records: the register.
        person_id: the person.
        d: the date.

    Raises:
        KeyError: no such person.
    """
    return _person_as_of(_Index(records), person_id, d)


def _person_as_of(index: _Index, person_id: str, d: dt.date) -> PersonOnDate:
    person = index.persons[person_id]
    hukou = index.hukou_on(person, d)
    return PersonOnDate(
        person_id=person_id,
        date=d,
        alive=_alive(person, d),
        age=completed_years(person.birth_date, d) if person.birth_date <= d else None,
        hukou_division=hukou[0] if hukou else None,
        hukou_type=hukou[1] if hukou else None,
        unions=tuple(
            u
            for u in index.unions.get(person_id, ())
            if u.start <= d and (u.end is None or u.end > d)
        ),
        children=tuple(index.children_on(person_id, d)),
        disabilities=tuple(c for c in index.disabilities.get(person_id, ()) if c.is_valid_on(d)),
        certificates=tuple(c for c in index.certificates.get(person_id, ()) if c.is_valid_on(d)),
    )


def _lapse_from(children: Iterable[ChildOnDate], certificate: Certificate) -> dt.date | None:
    """R4.4: 1 January after the first child other than K who joined after the issue date."""
    later = [
        c.joined
        for c in children
        if c.person_id != certificate.child_id and c.joined > certificate.issued_on
    ]
    return dt.date(min(later).year + 1, 1, 1) if later else None


def fold_frame(records: RegisterRecords, d: dt.date, division: DivisionCode | str) -> FactsFrame:
    """The facts frame for `d`, one row per person in `records.persons` order.

    Args:
        records: the register.
        d: the evaluation date D.
        division: the deployment's division; persons whose hukou on D lies inside it are
            in the jurisdiction (R0.6).
    """
    scope = division if isinstance(division, DivisionCode) else DivisionCode(division)
    index = _Index(records)
    order = [p.person_id for p in records.persons]
    row_of: Mapping[str, int] = {pid: row for row, pid in enumerate(order)}
    n = len(order)
    columns: dict[str, list[object]] = defaultdict(list)
    certificates: dict[str, list[object]] = defaultdict(list)
    nat = np.datetime64("NaT", "D")
    for pid in order:
        person = index.persons[pid]
        view = _person_as_of(index, pid, d)
        children = view.children
        only = children[0] if len(children) == 1 else None
        mother = index.mother_birth_date(person, only, d) if only is not None else None
        grades = [c.grade for c in view.disabilities]
        columns["person_id"].append(pid)
        columns["sex"].append(int(person.sex.value))
        columns["birth_date"].append(np.datetime64(person.birth_date, "D"))
        columns["alive"].append(view.alive)
        columns["age"].append(view.age if view.age is not None else -1)
        columns["hukou_known"].append(view.hukou_type is not None)
        columns["hukou_rural"].append(view.hukou_type is HukouType.RURAL)
        columns["hukou_division"].append(view.hukou_division.value if view.hukou_division else "")
        columns["in_jurisdiction"].append(
            view.hukou_division is not None and scope.contains(view.hukou_division)
        )
        columns["ever_children"].append(len(children))
        columns["ever_daughters"].append(sum(1 for c in children if c.sex is Sex.FEMALE))
        columns["living_children"].append(len(view.living_children))
        columns["only_child"].append(row_of.get(only.person_id, NO_ROW) if only else NO_ROW)
        columns["only_child_link"].append(_LINK_CODE[only.kind] if only else 0)
        columns["only_child_mother_birth_date"].append(
            np.datetime64(mother, "D") if mother else nat
        )
        columns["disability_grade"].append(min(grades) if grades else 0)
        held = sorted(
            (c for c in view.certificates if c.kind is CertificateKind.HONOUR),
            key=lambda c: (c.issued_on, c.certificate_id),
        )
        for certificate in held:
            lapse = _lapse_from(children, certificate)
            certificates["holder"].append(row_of[pid])
            certificates["child"].append(row_of.get(certificate.child_id or "", NO_ROW))
            certificates["issued_on"].append(np.datetime64(certificate.issued_on, "D"))
            certificates["certificate_id"].append(certificate.certificate_id)
            certificates["lapse_from"].append(np.datetime64(lapse, "D") if lapse else nat)

    def array(name: str, dtype: str) -> np.ndarray:
        return np.array(columns[name], dtype=dtype) if n else np.empty(0, dtype=dtype)

    def cert_array(name: str, dtype: str) -> np.ndarray:
        values = certificates[name]
        return np.array(values, dtype=dtype) if values else np.empty(0, dtype=dtype)

    return FactsFrame(
        date=d,
        person_id=array("person_id", "object"),
        sex=array("sex", "int8"),
        birth_date=array("birth_date", "datetime64[D]"),
        alive=array("alive", "bool"),
        age=array("age", "int16"),
        hukou_known=array("hukou_known", "bool"),
        hukou_rural=array("hukou_rural", "bool"),
        hukou_division=array("hukou_division", "object"),
        in_jurisdiction=array("in_jurisdiction", "bool"),
        ever_children=array("ever_children", "int16"),
        ever_daughters=array("ever_daughters", "int16"),
        living_children=array("living_children", "int16"),
        only_child=array("only_child", "int64"),
        only_child_link=array("only_child_link", "int8"),
        only_child_mother_birth_date=array("only_child_mother_birth_date", "datetime64[D]"),
        disability_grade=array("disability_grade", "int8"),
        certificates=CertificateColumns(
            holder=cert_array("holder", "int64"),
            child=cert_array("child", "int64"),
            issued_on=cert_array("issued_on", "datetime64[D]"),
            certificate_id=cert_array("certificate_id", "object"),
            lapse_from=cert_array("lapse_from", "datetime64[D]"),
        ),
    )
