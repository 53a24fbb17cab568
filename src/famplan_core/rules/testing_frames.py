"""Facts frames built by hand, for tests (测试用事实表): a tiny register folded in plain Python.

`FrameBuilder` takes persons, parent-child links, hukou changes, disability certificates and
honour certificates, and builds the `FactsFrame` of any date by the common definitions of the
spec (R0.2-R0.6, R0.10, R4.4), one person at a time. It is slow and simple on purpose: tests
of the rules (and of storages, which must build the same frame) compare against it. Nothing
at run time needs it.

Example:
    >>> b = FrameBuilder()
    >>> mother = b.person("M", birth=dt.date(1960, 5, 2), sex=FEMALE)
    >>> child = b.person("K", birth=dt.date(1985, 1, 1))
    >>> _ = b.link(mother, child)
    >>> frame = b.build(dt.date(2026, 11, 1))
    >>> int(frame.age[0]), int(frame.ever_children[0]), int(frame.only_child[0])
    (66, 1, 1)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

import attrs
import numpy as np

from famplan_core.errors import ValidationError
from famplan_core.model.frame import NO_ROW, CertificateColumns, FactsFrame
from famplan_core.rules.clause import PERSON_COLUMNS
from famplan_core.rules.dates import ages_on, completed_years

__all__ = [
    "DEFAULT_DIVISION",
    "DEFAULT_JURISDICTION",
    "FEMALE",
    "MALE",
    "DisabilityRecord",
    "FrameBuilder",
    "HonourCertificate",
    "HukouChange",
    "LinkKind",
    "ParentLink",
    "PersonRecord",
    "month_starts",
    "random_frame",
]

MALE = 1
"""GB/T 2261.1 code for male."""
FEMALE = 2
"""GB/T 2261.1 code for female."""
DEFAULT_JURISDICTION = "371502110"
"""The township the builder's frames are for, unless told otherwise."""
DEFAULT_DIVISION = "371502110001"
"""A village inside `DEFAULT_JURISDICTION`: every person's hukou unless told otherwise."""

LinkKind = Literal["birth", "adoptive", "step"]
_LINK_CODE = {"birth": 1, "adoptive": 2}


@attrs.frozen(kw_only=True)
class HukouChange:
    """A hukou change (户籍变动) dated `on`: the division and type from that date.

    Attributes:
        on: the date of the change.
        division: the 12-digit division code.
        rural: whether the hukou type becomes ``rural``.
    """

    on: dt.date
    division: str
    rural: bool


def month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    """The first day of every month from `first`'s month to `last`'s, inclusive (R0.1).

    Args:
        first: a day of the first month.
        last: a day of the last month.

    Example:
        >>> month_starts(dt.date(2025, 11, 20), dt.date(2026, 1, 1))
        [datetime.date(2025, 11, 1), datetime.date(2025, 12, 1), datetime.date(2026, 1, 1)]
    """
    days = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        days.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def _by_date(changes: Iterable[HukouChange]) -> tuple[HukouChange, ...]:
    return tuple(sorted(changes, key=lambda change: change.on))


@attrs.frozen(kw_only=True)
class PersonRecord:
    """A person as the builder knows them.

    Attributes:
        person_id: the register identifier.
        birth_date: the birth date.
        sex: GB/T 2261.1 code.
        death_date: the death date, or None.
        hukou_division: the person row's division (used when there is no hukou change).
        hukou_rural: the person row's hukou type.
        hukou_changes: dated changes; with any, the hukou before the first is unknown (R0.5).
    """

    person_id: str
    birth_date: dt.date
    sex: int = MALE
    death_date: dt.date | None = None
    hukou_division: str = DEFAULT_DIVISION
    hukou_rural: bool = True
    hukou_changes: tuple[HukouChange, ...] = attrs.field(default=(), converter=_by_date)


@attrs.frozen(kw_only=True)
class ParentLink:
    """A parent-child link (亲子关系).

    Attributes:
        parent: the parent's person id.
        child: the child's person id.
        kind: ``birth``, ``adoptive`` or ``step`` (step links never count, R0.4).
        since: when the link began; None means the child's birth date.
    """

    parent: str
    child: str
    kind: LinkKind = "birth"
    since: dt.date | None = None


@attrs.frozen(kw_only=True)
class DisabilityRecord:
    """A disability certificate (残疾证) valid from `valid_from` to `valid_to` inclusive (R0.10).

    Attributes:
        person: the holder's person id.
        grade: 1 (most severe) to 4.
        valid_from: the first valid day.
        valid_to: the last valid day, or None for open-ended.
    """

    person: str
    grade: int
    valid_from: dt.date
    valid_to: dt.date | None = None


@attrs.frozen(kw_only=True)
class HonourCertificate:
    """An honour certificate (独生子女父母光荣证) held by one parent (R4.1).

    Attributes:
        certificate_id: its identifier.
        holder: the holding parent's person id.
        child: the child's person id (it may be unknown to the register).
        issued_on: the issue date.
        revoked_on: the revocation date, or None.
    """

    certificate_id: str
    holder: str
    child: str
    issued_on: dt.date
    revoked_on: dt.date | None = None


def _nat_or(day: dt.date | None) -> np.datetime64:
    return np.datetime64("NaT", "D") if day is None else np.datetime64(day, "D")


@attrs.define
class FrameBuilder:
    """Collects a small register and builds its `FactsFrame` for any date.

    Attributes:
        jurisdiction: the deployment's division code (prefix-matched, R0.6).
        persons: the persons, in row order.
        links: parent-child links.
        disabilities: disability certificates.
        certificates: honour certificates.
    """

    jurisdiction: str = DEFAULT_JURISDICTION
    persons: list[PersonRecord] = attrs.Factory(list)
    links: list[ParentLink] = attrs.Factory(list)
    disabilities: list[DisabilityRecord] = attrs.Factory(list)
    certificates: list[HonourCertificate] = attrs.Factory(list)

    def person(
        self,
        person_id: str,
        *,
        birth: dt.date,
        sex: int = MALE,
        death: dt.date | None = None,
        division: str = DEFAULT_DIVISION,
        rural: bool = True,
        hukou_changes: Iterable[HukouChange] = (),
    ) -> str:
        """Add a person; returns the person id.

        Args:
            person_id: the register identifier (unique).
            birth: the birth date.
            sex: GB/T 2261.1 code (`MALE`, `FEMALE`).
            death: the death date, or None.
            division: the hukou division when there are no hukou changes.
            rural: the hukou type when there are no hukou changes.
            hukou_changes: dated hukou changes.

        Raises:
            ValidationError: the person id is taken.
        """
        if any(p.person_id == person_id for p in self.persons):
            raise ValidationError.single("person_id", person_id, "expected a new person id")
        self.persons.append(
            PersonRecord(
                person_id=person_id,
                birth_date=birth,
                sex=sex,
                death_date=death,
                hukou_division=division,
                hukou_rural=rural,
                hukou_changes=_by_date(hukou_changes),
            )
        )
        return person_id

    def link(
        self, parent: str, child: str, kind: LinkKind = "birth", since: dt.date | None = None
    ) -> FrameBuilder:
        """Link `parent` to `child`.

        Args:
            parent: the parent's person id.
            child: the child's person id.
            kind: ``birth``, ``adoptive`` or ``step``.
            since: when the link began (an adoption's date); None means the child's birth.
        """
        self.links.append(ParentLink(parent=parent, child=child, kind=kind, since=since))
        return self

    def disability(
        self, person: str, grade: int, valid_from: dt.date, valid_to: dt.date | None = None
    ) -> FrameBuilder:
        """Record a disability certificate.

        Args:
            person: the holder's person id.
            grade: 1 (most severe) to 4.
            valid_from: the first valid day.
            valid_to: the last valid day, or None.
        """
        self.disabilities.append(
            DisabilityRecord(person=person, grade=grade, valid_from=valid_from, valid_to=valid_to)
        )
        return self

    def certificate(
        self,
        certificate_id: str,
        holder: str,
        child: str,
        issued_on: dt.date,
        revoked_on: dt.date | None = None,
    ) -> FrameBuilder:
        """Record an honour certificate.

        Args:
            certificate_id: its identifier.
            holder: the holding parent's person id.
            child: the child's person id.
            issued_on: the issue date.
            revoked_on: the revocation date, or None.
        """
        self.certificates.append(
            HonourCertificate(
                certificate_id=certificate_id,
                holder=holder,
                child=child,
                issued_on=issued_on,
                revoked_on=revoked_on,
            )
        )
        return self

    def _children(
        self, on: dt.date, rows: dict[str, int]
    ) -> dict[str, list[tuple[str, str, dt.date]]]:
        """Per parent: (child id, link kind, date the child became theirs), as of `on` (R0.4)."""
        by_id = {p.person_id: p for p in self.persons}
        children: dict[str, list[tuple[str, str, dt.date]]] = {}
        for link in self.links:
            if link.kind not in _LINK_CODE or link.child not in rows or link.parent not in rows:
                continue
            child = by_id[link.child]
            became = link.since or child.birth_date
            if link.kind == "birth":
                became = child.birth_date
            if became > on or child.birth_date > on:
                continue
            known = children.setdefault(link.parent, [])
            if all(existing[0] != link.child for existing in known):
                known.append((link.child, link.kind, became))
        return children

    def build(self, on: dt.date) -> FactsFrame:
        """The facts frame as of `on` (R0.1): facts dated after `on` are ignored.

        Args:
            on: the evaluation date D.
        """
        rows = {p.person_id: i for i, p in enumerate(self.persons)}
        by_id = {p.person_id: p for p in self.persons}
        children = self._children(on, rows)

        def alive(p: PersonRecord) -> bool:
            return p.birth_date <= on and (p.death_date is None or p.death_date > on)

        n = len(self.persons)
        columns: dict[str, list[object]] = {name: [] for name in PERSON_COLUMNS}
        for person in self.persons:
            changes = [c for c in person.hukou_changes if c.on <= on]
            if changes:
                known, division, rural = True, changes[-1].division, changes[-1].rural
            elif person.hukou_changes:
                known, division, rural = False, "", False
            else:
                known, division, rural = True, person.hukou_division, person.hukou_rural
            mine = children.get(person.person_id, [])
            only = rows[mine[0][0]] if len(mine) == 1 else NO_ROW
            link = _LINK_CODE[mine[0][1]] if len(mine) == 1 else 0
            mother: dt.date | None = None
            if len(mine) == 1:
                if person.sex == FEMALE:
                    mother = person.birth_date
                else:
                    mother = self._other_mother(person.person_id, mine[0], children, by_id)
            grades = [
                d.grade
                for d in self.disabilities
                if d.person == person.person_id
                and d.valid_from <= on
                and (d.valid_to is None or on <= d.valid_to)
            ]
            values: dict[str, object] = {
                "person_id": person.person_id,
                "sex": person.sex,
                "birth_date": _nat_or(person.birth_date),
                "alive": alive(person),
                "age": completed_years(person.birth_date, on),
                "hukou_known": known,
                "hukou_rural": known and rural,
                "hukou_division": division,
                "in_jurisdiction": known and division.startswith(self.jurisdiction),
                "ever_children": len(mine),
                "ever_daughters": sum(1 for c in mine if by_id[c[0]].sex == FEMALE),
                "living_children": sum(1 for c in mine if alive(by_id[c[0]])),
                "only_child": only,
                "only_child_link": link,
                "only_child_mother_birth_date": _nat_or(mother),
                "disability_grade": min(grades) if grades else 0,
            }
            for name, value in values.items():
                columns[name].append(value)
        return FactsFrame(
            date=on,
            person_id=np.array(columns["person_id"], dtype=object).reshape(n),
            sex=np.array(columns["sex"], dtype=np.int8).reshape(n),
            birth_date=np.array(columns["birth_date"], dtype="datetime64[D]").reshape(n),
            alive=np.array(columns["alive"], dtype=np.bool_).reshape(n),
            age=np.array(columns["age"], dtype=np.int16).reshape(n),
            hukou_known=np.array(columns["hukou_known"], dtype=np.bool_).reshape(n),
            hukou_rural=np.array(columns["hukou_rural"], dtype=np.bool_).reshape(n),
            hukou_division=np.array(columns["hukou_division"], dtype=object).reshape(n),
            in_jurisdiction=np.array(columns["in_jurisdiction"], dtype=np.bool_).reshape(n),
            ever_children=np.array(columns["ever_children"], dtype=np.int16).reshape(n),
            ever_daughters=np.array(columns["ever_daughters"], dtype=np.int16).reshape(n),
            living_children=np.array(columns["living_children"], dtype=np.int16).reshape(n),
            only_child=np.array(columns["only_child"], dtype=np.int64).reshape(n),
            only_child_link=np.array(columns["only_child_link"], dtype=np.int8).reshape(n),
            only_child_mother_birth_date=np.array(
                columns["only_child_mother_birth_date"], dtype="datetime64[D]"
            ).reshape(n),
            disability_grade=np.array(columns["disability_grade"], dtype=np.int8).reshape(n),
            certificates=self._certificates(on, rows, children),
        )

    def _other_mother(
        self,
        parent: str,
        child: tuple[str, str, dt.date],
        children: dict[str, list[tuple[str, str, dt.date]]],
        by_id: dict[str, PersonRecord],
    ) -> dt.date | None:
        """The female parent of `child` by the same kind of link as `parent`'s (R3.4)."""
        child_id, kind, _ = child
        for other, theirs in children.items():
            if other == parent or by_id[other].sex != FEMALE:
                continue
            if any(c[0] == child_id and c[1] == kind for c in theirs):
                return by_id[other].birth_date
        return None

    def _certificates(
        self,
        on: dt.date,
        rows: dict[str, int],
        children: dict[str, list[tuple[str, str, dt.date]]],
    ) -> CertificateColumns:
        valid = [
            c
            for c in self.certificates
            if c.holder in rows
            and c.issued_on <= on
            and (c.revoked_on is None or c.revoked_on > on)
        ]
        lapse: list[np.datetime64] = []
        for certificate in valid:
            later = [
                became
                for child_id, _, became in children.get(certificate.holder, [])
                if child_id != certificate.child and became > certificate.issued_on
            ]
            lapse.append(_nat_or(dt.date(min(later).year + 1, 1, 1) if later else None))
        count = len(valid)
        return CertificateColumns(
            holder=np.array([rows[c.holder] for c in valid], dtype=np.int64).reshape(count),
            child=np.array([rows.get(c.child, NO_ROW) for c in valid], dtype=np.int64).reshape(
                count
            ),
            issued_on=np.array(
                [_nat_or(c.issued_on) for c in valid], dtype="datetime64[D]"
            ).reshape(count),
            certificate_id=np.array([c.certificate_id for c in valid], dtype=object).reshape(count),
            lapse_from=np.array(lapse, dtype="datetime64[D]").reshape(count),
        )


def random_frame(
    size: int,
    on: dt.date,
    *,
    seed: int = 20250630,
    jurisdiction: str = DEFAULT_JURISDICTION,
    certificates: int | None = None,
) -> FactsFrame:
    """A large random facts frame, built column-wise, for benchmarks and scale tests.

    The columns are plausible and mutually consistent where the rules rely on it (age from
    birth date, alive only when born, an only child only when there is exactly one child, a
    mother's birth date only with an only child) but the people are not a real population.

    Args:
        size: the number of person rows.
        on: the evaluation date D.
        seed: the random seed (the same seed gives the same frame).
        jurisdiction: the deployment's division code.
        certificates: the number of honour certificates; ``size // 10`` when None.
    """
    rng = np.random.default_rng(seed)
    day = np.datetime64(on, "D")
    earliest = np.datetime64("1925-01-01", "D")
    span = int((day - earliest).astype(np.int64)) + 400
    birth = earliest + rng.integers(0, span, size).astype("timedelta64[D]")
    age = ages_on(birth, on)
    born = birth <= day
    alive = born & (rng.random(size) > 0.05 + 0.3 * (age > 75))
    sex = rng.choice(np.array([1, 2], dtype=np.int8), size)
    known = rng.random(size) > 0.02
    inside = rng.random(size) < 0.9
    division = np.where(known, np.where(inside, jurisdiction + "001", "371502115001"), "").astype(
        object
    )
    ever = rng.choice(np.arange(5, dtype=np.int16), size, p=[0.3, 0.3, 0.25, 0.1, 0.05])
    daughters = rng.binomial(ever, 0.5).astype(np.int16)
    living = (ever - rng.binomial(ever, 0.05)).astype(np.int16)
    only = np.where(ever == 1, rng.integers(0, size, size), NO_ROW).astype(np.int64)
    link = np.where(ever == 1, rng.choice(np.array([1, 2], dtype=np.int8), size), 0).astype(np.int8)
    mother = np.where(
        sex == FEMALE, birth, birth + rng.integers(-1500, 1500, size).astype("timedelta64[D]")
    )
    mother = np.where((ever == 1) & (rng.random(size) > 0.05), mother, np.datetime64("NaT"))
    grade = np.where(rng.random(size) < 0.05, rng.integers(1, 5, size), 0).astype(np.int8)
    count = size // 10 if certificates is None else certificates
    holder = rng.integers(0, max(size, 1), count).astype(np.int64)
    child = np.where(rng.random(count) < 0.98, rng.integers(0, max(size, 1), count), NO_ROW).astype(
        np.int64
    )
    issued = np.datetime64("1980-01-01", "D") + rng.integers(0, 13000, count).astype(
        "timedelta64[D]"
    )
    lapse_year = rng.integers(1985, on.year + 2, count)
    lapse = np.where(
        rng.random(count) < 0.1,
        (lapse_year - 1970).astype("datetime64[Y]").astype("datetime64[D]"),
        np.datetime64("NaT", "D"),
    )
    return FactsFrame(
        date=on,
        person_id=np.array([f"P{i:08d}" for i in range(size)], dtype=object).reshape(size),
        sex=sex,
        birth_date=birth.astype("datetime64[D]"),
        alive=alive,
        age=age,
        hukou_known=known,
        hukou_rural=known & (rng.random(size) < 0.6),
        hukou_division=division,
        in_jurisdiction=known & inside,
        ever_children=ever,
        ever_daughters=daughters,
        living_children=living,
        only_child=only,
        only_child_link=link,
        only_child_mother_birth_date=mother.astype("datetime64[D]"),
        disability_grade=grade,
        certificates=CertificateColumns(
            holder=holder,
            child=child,
            issued_on=issued,
            certificate_id=np.array([f"C{i:08d}" for i in range(count)], dtype=object).reshape(
                count
            ),
            lapse_from=lapse.astype("datetime64[D]"),
        ),
    )
