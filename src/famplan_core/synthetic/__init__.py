"""A deterministic synthetic population register, for the demo, benchmarks and tests.

`generate` builds a township (or a county of townships) as NumPy columns, one `Table` per
register file of the register format spec: persons in clans of up to five generations
(founder couples, their children and grandchildren, in-married spouses), unions with
divorce, widowhood and remarriage, birth, adoptive and step links, deaths, hukou moves,
households with relations to the head, disability and honour certificates, and the
enrolments a township would hold, with a few deliberate omissions and errors.
`write_register` writes it as CSV or JSON Lines. The same `SyntheticSpec` always gives
byte-identical files.

Example:
    >>> from famplan_core.synthetic import SyntheticSpec, generate
    >>> register = generate(SyntheticSpec(persons=500, seed=7))
    >>> register.counts["persons"]
    500

Run ``python -m famplan_core.synthetic --help`` for the command-line form.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.model.register_kinds import REGISTER_COLUMNS
from famplan_core.synthetic._assemble import (
    LINK_ADOPTIVE,
    Population,
    build_population,
    check_character,
    ethnicity_codes,
)
from famplan_core.synthetic._bad import append_bad_rows
from famplan_core.synthetic._engine import NEVER, day_of, take, zero_pad
from famplan_core.synthetic._records import (
    Eligibility,
    Enrolments,
    certificates,
    disabilities,
    eligibility,
    enrolments,
)
from famplan_core.synthetic._write import write_register

__all__ = [
    "FILE_COLUMNS",
    "PROGRAMS",
    "Expected",
    "SyntheticRegister",
    "SyntheticSpec",
    "Table",
    "gb11643_check",
    "generate",
    "write_register",
]

FILE_COLUMNS: Mapping[str, tuple[str, ...]] = REGISTER_COLUMNS
"""Every register file with its columns, in the order of the register format spec."""

PROGRAMS = ("rural_reward", "special_assistance", "only_child_reward", "childcare_subsidy")
"""The programs the generated enrolments cover."""


def _division(instance: Any, attribute: Any, value: str) -> None:
    if len(value) not in (6, 9) or not value.isascii() or not value.isdigit():
        raise ValueError(f"division must be a 6-digit county or 9-digit township code: {value!r}")


def _positive(instance: Any, attribute: Any, value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1: {value}")


def _villages(instance: Any, attribute: Any, value: int) -> None:
    if not 1 <= value <= 199:
        raise ValueError(f"villages must be 1-199 (codes 201-399): {value}")


def _share(instance: Any, attribute: Any, value: float) -> None:
    if not 0.0 <= value <= 0.5:
        raise ValueError(f"outside_share must be between 0 and 0.5: {value}")


def _non_negative(instance: Any, attribute: Any, value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative: {value}")


@attrs.frozen(kw_only=True)
class SyntheticSpec:
    """What to generate. Everything follows from these values; nothing reads the clock.

    Attributes:
        seed: the random seed.
        persons: the number of (good) persons; the register has exactly this many, plus
            any bad rows.
        division: a 9-digit township code, or a 6-digit county code, which is then split
            into townships of about 50,000 persons coded ``county + 101, 102, ...``.
        villages: villagers' committees per township, coded township + ``201``...; each
            township also has ``max(2, villages // 5)`` residents' committees (``001``...).
        as_of: the register's date: nobody is born, dies or moves after it. Enrolments
            are those for the month containing it (evaluated on its first day).
        outside_share: about this share of persons have their hukou outside the division
            (in-married spouses who kept theirs, divorced spouses who left, movers).
        bad_rows: the number of deliberately bad cases appended (see
            `SyntheticRegister.bad_row_notes`); a duplicate-id case writes two rows.
    """

    seed: int = 20260101
    persons: int = attrs.field(default=40_000, validator=_positive)
    division: str = attrs.field(default="371502110", validator=_division)
    villages: int = attrs.field(default=37, validator=_villages)
    as_of: dt.date = dt.date(2026, 11, 1)
    outside_share: float = attrs.field(default=0.02, validator=_share)
    bad_rows: int = attrs.field(default=0, validator=_non_negative)


@attrs.frozen(eq=False)
class Table:
    """One register file as NumPy columns.

    Text columns are ``str`` arrays with ``""`` for an empty cell; date columns are
    ``datetime64[D]`` arrays with ``NaT`` for an empty cell.

    Attributes:
        name: the file's name without extension (``persons``...).
        columns: the columns, in the spec's order.
        bad_from: the row index from which on the rows are deliberately bad.
    """

    name: str
    columns: Mapping[str, npt.NDArray[Any]]
    bad_from: int

    def __len__(self) -> int:
        """The number of rows."""
        return len(next(iter(self.columns.values())))

    def __getitem__(self, column: str) -> npt.NDArray[Any]:
        """One column."""
        return self.columns[column]

    def __iter__(self) -> Iterator[str]:
        """The column names."""
        return iter(self.columns)

    @property
    def good(self) -> int:
        """The number of good rows (they come first)."""
        return self.bad_from


@attrs.frozen(kw_only=True, eq=False)
class Expected:
    """What the generator knows the programs give on the enrolments' evaluation date.

    Attributes:
        date: the evaluation date (the first day of the month of ``as_of``).
        eligible: per program, the person ids entitled on ``date`` (the generator's own
            evaluation of rules R1-R4).
        omitted: per program, eligible person ids left out of the enrolments on purpose.
        wrongly_enrolled: per program, enrolled person ids who are not eligible.
    """

    date: dt.date
    eligible: Mapping[str, npt.NDArray[np.str_]]
    omitted: Mapping[str, npt.NDArray[np.str_]]
    wrongly_enrolled: Mapping[str, npt.NDArray[np.str_]]


@attrs.frozen(kw_only=True, eq=False)
class SyntheticRegister:
    """A generated register: one `Table` per file, and what was put in it on purpose.

    Attributes:
        spec: the spec it was generated from.
        persons: the persons file.
        households: the households file.
        parent_child: the parent-child links file.
        unions: the unions file.
        hukou_changes: the hukou history file.
        disabilities: the disability certificates file.
        certificates: the honour certificates file.
        enrolments: the enrolments file.
        village_names: 12-digit code → name (王庄村, 城关社区) of every village and
            residents' committee inside the division.
        bad_row_notes: one line per deliberately bad row: file, row, what is wrong.
        expected: the generator's own evaluation of the programs.
    """

    spec: SyntheticSpec
    persons: Table
    households: Table
    parent_child: Table
    unions: Table
    hukou_changes: Table
    disabilities: Table
    certificates: Table
    enrolments: Table
    village_names: Mapping[str, str]
    bad_row_notes: tuple[str, ...]
    expected: Expected

    @property
    def tables(self) -> dict[str, Table]:
        """Every file's table, in the spec's order."""
        return {name: getattr(self, name) for name in FILE_COLUMNS}

    @property
    def counts(self) -> dict[str, int]:
        """Rows per file (bad rows included)."""
        return {name: len(table) for name, table in self.tables.items()}


def gb11643_check(body17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a citizen ID.

    Args:
        body17: 17 ASCII digits.

    Returns:
        One of ``0123456789X``.
    """
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError(f"17 digits expected: {body17!r}")
    digits = np.frombuffer(body17.encode("ascii"), dtype=np.uint8) - ord("0")
    return chr(int(check_character(digits[None, :].astype(np.uint8))[0]))


def _dates(days: npt.NDArray[np.int64]) -> npt.NDArray[np.datetime64]:
    out = days.astype("datetime64[D]")
    out[days >= NEVER] = np.datetime64("NaT")
    return out


def _ids(prefix: str, index: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.str_]:
    text = zero_pad(index, width)
    out = np.strings.add(prefix, text)
    return np.where(index >= 0, out, "")


def _tables(
    pop: Population,
    spec: SyntheticSpec,
    dis: Any,
    certs: Any,
    enr: Enrolments,
) -> dict[str, dict[str, npt.NDArray[Any]]]:
    n = pop.n
    width = max(8, len(str(n)))
    pid = _ids("P", np.arange(n, dtype=np.int64), width)
    nh = len(pop.hh_head)
    hid_all = _ids("H", np.arange(nh, dtype=np.int64), max(8, len(str(nh))))
    codes = pop.divs.codes
    rural_text = np.array(["urban", "rural"])
    household = take(hid_all, pop.household, "")
    residence = np.where(pop.residence_div >= 0, codes[np.maximum(pop.residence_div, 0)], "")
    persons = {
        "person_id": pid,
        "citizen_id": pop.citizen_id,
        "name": pop.name,
        "sex": np.where(pop.sex == 1, "1", "2"),
        "birth_date": _dates(pop.birth),
        "death_date": _dates(pop.death),
        "ethnicity": ethnicity_codes(pop),
        "marital_status": pop.marital,
        "hukou_division": codes[pop.hukou_div],
        "hukou_type": rural_text[pop.hukou_rural.astype(np.int64)],
        "residence_division": residence,
        "household_id": household,
        "relation_to_head": pop.relation,
    }
    address = np.strings.add(
        np.strings.add(pop.divs.names[pop.hh_div], pop.hh_number.astype("U5")), "号"
    )
    households = {
        "household_id": hid_all,
        "division": codes[pop.hh_div],
        "address": address,
        "head_person_id": pid[pop.hh_head],
    }
    kinds = np.array(["birth", "adoptive", "step"])
    parent_child = {
        "parent_id": pid[pop.l_parent],
        "child_id": pid[pop.l_child],
        "kind": kinds[pop.l_kind],
        "since": _dates(np.where(pop.l_kind == LINK_ADOPTIVE, pop.l_since, NEVER)),
    }
    reasons = np.array(["", "divorce", "death"])
    unions = {
        "person_a": pid[pop.u_h],
        "person_b": pid[pop.u_w],
        "start": _dates(pop.u_start),
        "end": _dates(pop.u_end),
        "end_reason": reasons[pop.u_reason],
    }
    hukou = {
        "person_id": pid[pop.h_person],
        "date": _dates(pop.h_date),
        "hukou_division": codes[pop.h_div],
        "hukou_type": rural_text[pop.h_rural.astype(np.int64)],
    }
    disab = {
        "person_id": pid[dis.person],
        "grade": dis.grade.astype("U1"),
        "category": dis.category,
        "valid_from": _dates(dis.valid_from),
        "valid_to": _dates(dis.valid_to),
    }
    cert = {
        "certificate_id": certs.certificate_id,
        "kind": np.full(len(certs.holder), "honour"),
        "holder_id": pid[certs.holder],
        "child_id": pid[certs.child],
        "issued_on": _dates(certs.issued_on),
        "revoked_on": _dates(certs.revoked_on),
    }
    enrol = {
        "person_id": pid[enr.person],
        "program": enr.program,
        "since": _dates(enr.since),
        "category": enr.category,
    }
    return {
        "persons": persons,
        "households": households,
        "parent_child": parent_child,
        "unions": unions,
        "hukou_changes": hukou,
        "disabilities": disab,
        "certificates": cert,
        "enrolments": enrol,
    }


def generate(spec: SyntheticSpec) -> SyntheticRegister:
    """Generate a synthetic register.

    Args:
        spec: what to generate.

    Returns:
        The register, as columns. Its persons number exactly ``spec.persons`` (plus the
        bad rows asked for).
    """
    pop = build_population(
        seed=spec.seed,
        persons=spec.persons,
        division=spec.division,
        villages=spec.villages,
        as_of=spec.as_of,
        outside_share=spec.outside_share,
    )
    dis = disabilities(pop, spec.seed)
    certs = certificates(pop, spec.seed)
    date = day_of(spec.as_of.replace(day=1))
    elig: Eligibility = eligibility(pop, dis, certs, date)
    enr = enrolments(pop, elig, certs, spec.seed)
    cols = _tables(pop, spec, dis, certs, enr)
    pid = cols["persons"]["person_id"]
    good = {name: len(next(iter(c.values()))) for name, c in cols.items()}
    notes = append_bad_rows(cols, spec)
    tables = {
        name: Table(name, {k: c[k] for k in FILE_COLUMNS[name]}, good[name])
        for name, c in cols.items()
    }
    inside = pop.divs.inside
    expected = Expected(
        date=spec.as_of.replace(day=1),
        eligible={p: pid[elig.person[p]] for p in PROGRAMS},
        omitted={p: pid[enr.omitted[p]] for p in PROGRAMS},
        wrongly_enrolled={p: pid[enr.wrongly_enrolled[p]] for p in PROGRAMS},
    )
    return SyntheticRegister(
        spec=spec,
        village_names={
            str(c): str(nm)
            for c, nm in zip(pop.divs.codes[inside], pop.divs.names[inside], strict=True)
        },
        bad_row_notes=tuple(notes),
        expected=expected,
        **tables,
    )
