"""Deliberately bad rows, appended so that an importer has something to quarantine."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from famplan_core.synthetic._assemble import citizen_ids
from famplan_core.synthetic._engine import day_of

if TYPE_CHECKING:
    from famplan_core.synthetic import SyntheticSpec

__all__ = ["BAD_KINDS", "append_bad_rows"]

BAD_KINDS: tuple[str, ...] = (
    "wrong check character",
    "birth in the future",
    "unknown child",
    "union with self",
    "duplicate person_id",
    "death before birth",
    "adoptive without since",
    "honour without child_id",
    "revoked before issued",
    "valid_to before valid_from",
    "full-width sex code",
    "union ends before it starts",
    "citizen_id birth date disagrees",
    "control character in name",
    "unknown household",
)
"""The kinds of bad case, in the order `append_bad_rows` cycles through them."""


def _valid_id(county: int, born: dt.date) -> str:
    # Order code 999 is never given to a good row, so these IDs are unique.
    days = np.array([day_of(born)], dtype=np.int64)
    return str(citizen_ids(np.array([county]), days, np.array([999]))[0])


def append_bad_rows(cols: dict[str, dict[str, npt.NDArray[Any]]], spec: SyntheticSpec) -> list[str]:
    """Append ``spec.bad_rows`` bad cases to the columns, in place.

    Args:
        cols: file → column → values, with the good rows.
        spec: the spec (its ``bad_rows``, ``division`` and ``as_of``).

    Returns:
        One note per bad row: file, 1-based data row (its CSV line is one more), reason.
    """
    if not spec.bad_rows:
        return []
    added: dict[str, list[dict[str, Any]]] = {name: [] for name in cols}
    notes: list[str] = []
    persons = cols["persons"]
    pid = persons["person_id"]
    county = int(spec.division[:6])
    village = str(persons["hukou_division"][0])
    as_of = spec.as_of
    unions = cols["unions"]
    # An old person and a young one who are not linked, for an adoptive link.
    birth = persons["birth_date"]
    old, young = int(np.argmin(birth)), int(np.argmax(birth))
    first_a = str(unions["person_a"][0]) if len(unions["person_a"]) else str(pid[0])
    first_b = str(unions["person_b"][0]) if len(unions["person_b"]) else str(pid[-1])

    def person(i: int, **over: Any) -> dict[str, Any]:
        born = dt.date(1960, 1, 1) + dt.timedelta(days=i)
        row: dict[str, Any] = {
            "person_id": f"BAD{i:06d}",
            "citizen_id": _valid_id(county, born),
            "name": "错误行",
            "sex": "1",
            "birth_date": np.datetime64(born, "D"),
            "death_date": np.datetime64("NaT"),
            "ethnicity": "01",
            "marital_status": "10",
            "hukou_division": village,
            "hukou_type": "rural",
            "residence_division": "",
            "household_id": "",
            "relation_to_head": "",
        }
        row.update(over)
        return row

    def add(file: str, row: dict[str, Any], key: str, reason: str) -> None:
        added[file].append(row)
        r = len(cols[file][next(iter(cols[file]))]) + len(added[file])
        notes.append(f"{file} row {r} (CSV line {r + 1}) {key}: {reason}")

    for i in range(spec.bad_rows):
        kind = BAD_KINDS[i % len(BAD_KINDS)]
        bid = f"BAD{i:06d}"
        if kind == "wrong check character":
            good = _valid_id(county, dt.date(1960, 1, 1) + dt.timedelta(days=i))
            wrong = "0123456789X"[("0123456789X".index(good[-1]) + 1) % 11]
            add(
                "persons",
                person(i, citizen_id=good[:17] + wrong),
                bid,
                "citizen_id check character is wrong",
            )
        elif kind == "birth in the future":
            future = dt.date(as_of.year + 50, 6, 1)
            add(
                "persons",
                person(i, citizen_id="", birth_date=np.datetime64(future, "D")),
                bid,
                f"birth_date {future} is in the future",
            )
        elif kind == "unknown child":
            row = {
                "parent_id": str(pid[0]),
                "child_id": f"NOSUCH{i:06d}",
                "kind": "birth",
                "since": np.datetime64("NaT"),
            }
            add("parent_child", row, f"{pid[0]}→NOSUCH{i:06d}", "child_id names no person")
        elif kind == "union with self":
            row = {
                "person_a": first_a,
                "person_b": first_a,
                "start": np.datetime64(as_of, "D") - 400,
                "end": np.datetime64("NaT"),
                "end_reason": "",
            }
            add("unions", row, first_a, "a union of a person with themself")
        elif kind == "duplicate person_id":
            add("persons", person(i), bid, "person_id appears twice (first of two)")
            twin = person(
                i,
                citizen_id=_valid_id(county, dt.date(1950, 1, 1) + dt.timedelta(days=i)),
                name="重复行",
            )
            add("persons", twin, bid, "person_id appears twice (second of two)")
        elif kind == "death before birth":
            born = dt.date(1960, 1, 1) + dt.timedelta(days=i)
            add(
                "persons",
                person(i, death_date=np.datetime64(born, "D") - 10),
                bid,
                "death_date before birth_date",
            )
        elif kind == "adoptive without since":
            row = {
                "parent_id": str(pid[old]),
                "child_id": str(pid[young]),
                "kind": "adoptive",
                "since": np.datetime64("NaT"),
            }
            add("parent_child", row, f"{pid[old]}→{pid[young]}", "adoptive link without since")
        elif kind == "honour without child_id":
            issued = np.datetime64(as_of, "D") - 1000
            cert_id = f"HR{spec.division}-9{i:05d}"
            row = {
                "certificate_id": cert_id,
                "kind": "honour",
                "holder_id": first_a,
                "child_id": "",
                "issued_on": issued,
                "revoked_on": np.datetime64("NaT"),
            }
            add("certificates", row, cert_id, "honour certificate without child_id")
        elif kind == "revoked before issued":
            issued = np.datetime64(as_of, "D") - 500
            cert_id = f"HR{spec.division}-9{i:05d}"
            row = {
                "certificate_id": cert_id,
                "kind": "honour",
                "holder_id": first_a,
                "child_id": str(pid[young]),
                "issued_on": issued,
                "revoked_on": issued - 30,
            }
            add("certificates", row, cert_id, "revoked_on before issued_on")
        elif kind == "valid_to before valid_from":
            start = np.datetime64(as_of, "D") - 100
            row = {
                "person_id": str(pid[0]),
                "grade": "2",
                "category": "physical",
                "valid_from": start,
                "valid_to": start - 100,
            }
            add("disabilities", row, str(pid[0]), "valid_to before valid_from")
        elif kind == "full-width sex code":
            add("persons", person(i, citizen_id="", sex="１"), bid, "sex is a full-width １, not 1")
        elif kind == "union ends before it starts":
            start = np.datetime64(as_of, "D") - 300
            row = {
                "person_a": first_a,
                "person_b": first_b,
                "start": start,
                "end": start - 30,
                "end_reason": "divorce",
            }
            add("unions", row, f"{first_a}+{first_b}", "union ends before it starts")
        elif kind == "citizen_id birth date disagrees":
            other = _valid_id(county, dt.date(1940, 1, 1) + dt.timedelta(days=i))
            add(
                "persons",
                person(i, citizen_id=other),
                bid,
                "citizen_id birth date disagrees with birth_date",
            )
        elif kind == "control character in name":
            add("persons", person(i, name="张\x07三"), bid, "name contains a control character")
        else:  # unknown household
            add(
                "persons",
                person(i, household_id="H99999999X"),
                bid,
                "household_id not in households",
            )
    for file, rows in added.items():
        if not rows:
            continue
        table = cols[file]
        for column, values in table.items():
            extra = np.array(
                [row[column] for row in rows],
                dtype=values.dtype if values.dtype.kind == "M" else None,
            )
            if values.dtype.kind == "M":
                table[column] = np.concatenate([values, extra.astype(values.dtype)])
            else:
                table[column] = np.concatenate([values.astype(str), extra.astype(str)])
    return notes
