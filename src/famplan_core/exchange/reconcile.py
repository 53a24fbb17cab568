"""Reconciliation (对账): the township's register against a provincial snapshot.

The province sends a snapshot of the population it holds for the township, as a folder in
the register file format (spec ``register-format.md``). `reconcile` compares it with the
register as stored and reports, per record kind:

* **missing**: rows of the snapshot the register does not hold;
* **extra**: rows the register holds that the snapshot does not (for ``persons``: only
  persons whose hukou is in the township, since a register also holds spouses and movers
  from elsewhere);
* **differing**: rows held on both sides whose fields differ, field by field.

Persons are matched by their resident ID number, and by ``person_id`` only when a side has
no ID number (the province's ids are not the township's). Rows of the other kinds are
compared after the snapshot's person ids are translated to the township's. Nothing is
written: the report is for a person to act on (an import of the corrected rows, a message to
the province).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from famplan_core.exchange.reader import read_register
from famplan_core.ports import RegisterReader, Storage
from famplan_core.storage.tables import RECORD_KINDS

__all__ = [
    "COMPARED_PERSON_FIELDS",
    "FieldDifference",
    "KindReconciliation",
    "ReconcileReport",
    "reconcile",
]

COMPARED_PERSON_FIELDS: tuple[str, ...] = (
    "citizen_id",
    "name",
    "sex",
    "birth_date",
    "death_date",
    "ethnicity",
    "marital_status",
    "hukou_division",
    "hukou_type",
)
"""The fields of a person compared: not the ids, households or residence, which are local."""

_PERSON_REFERENCES: Mapping[str, tuple[str, ...]] = {
    "parent_child": ("parent_id", "child_id"),
    "unions": ("person_a", "person_b"),
    "hukou_changes": ("person_id",),
    "disabilities": ("person_id",),
    "certificates": ("holder_id", "child_id"),
    "enrolments": ("person_id",),
    "households": ("head_person_id",),
}


def _masked(field: str, value: str) -> str:
    if field.endswith("citizen_id") and len(value) == 18:
        return value[:6] + "********" + value[-4:]
    return value


@attrs.frozen(kw_only=True)
class FieldDifference:
    """One field that differs between the register and the snapshot.

    Attributes:
        key: the row's natural key in the register (person ids are the township's).
        field: the field.
        register: the register's value (an ID number masked).
        snapshot: the snapshot's value (an ID number masked).
    """

    key: tuple[str, ...]
    field: str
    register: str
    snapshot: str


@attrs.frozen(kw_only=True)
class KindReconciliation:
    """The comparison of one record kind.

    Attributes:
        kind: the record kind.
        compared: rows found on both sides.
        missing: keys of snapshot rows the register lacks (the snapshot's ids where no
            township id is known).
        extra: keys of register rows the snapshot lacks.
        differing: every field that differs.
        unreadable: snapshot rows that broke a rule of the format (not compared).
    """

    kind: str
    compared: int
    missing: tuple[tuple[str, ...], ...]
    extra: tuple[tuple[str, ...], ...]
    differing: tuple[FieldDifference, ...]
    unreadable: int = 0

    @property
    def agrees(self) -> bool:
        """Whether nothing is missing, extra or differing."""
        return not (self.missing or self.extra or self.differing)

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "kind": self.kind,
            "compared": self.compared,
            "missing": [list(k) for k in self.missing],
            "extra": [list(k) for k in self.extra],
            "differing": [
                {
                    "key": list(d.key),
                    "field": d.field,
                    "register": d.register,
                    "snapshot": d.snapshot,
                }
                for d in self.differing
            ],
            "unreadable": self.unreadable,
        }


@attrs.frozen(kw_only=True)
class ReconcileReport:
    """The reconciliation of the register with a provincial snapshot.

    Attributes:
        snapshot: the snapshot folder.
        division: the township.
        kinds: one comparison per record kind in the snapshot.
    """

    snapshot: str
    division: str
    kinds: tuple[KindReconciliation, ...]

    @property
    def agrees(self) -> bool:
        """Whether every kind agrees."""
        return all(k.agrees for k in self.kinds)

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "snapshot": self.snapshot,
            "division": self.division,
            "agrees": self.agrees,
            "kinds": [k.as_dict() for k in self.kinds],
        }


def _rows(reader: RegisterReader, kind: str) -> list[dict[str, str]]:
    columns, rows = reader.export_rows(kind)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _compare(
    kind: str,
    register: Iterable[dict[str, str]],
    snapshot: Iterable[dict[str, str]],
    fields: Sequence[str],
    key_columns: Sequence[str],
) -> tuple[int, list[tuple[str, ...]], list[tuple[str, ...]], list[FieldDifference]]:
    mine = {tuple(r[c] for c in key_columns): r for r in register}
    theirs = {tuple(r[c] for c in key_columns): r for r in snapshot}
    missing = sorted(set(theirs) - set(mine))
    extra = sorted(set(mine) - set(theirs))
    differing: list[FieldDifference] = []
    both = sorted(set(mine) & set(theirs))
    for key in both:
        a, b = mine[key], theirs[key]
        for field in fields:
            if a.get(field, "") != b.get(field, ""):
                differing.append(
                    FieldDifference(
                        key=key,
                        field=field,
                        register=_masked(field, a.get(field, "")),
                        snapshot=_masked(field, b.get(field, "")),
                    )
                )
    return len(both), missing, extra, differing


def reconcile(
    storage: Storage, snapshot: Path, *, division: str, today: dt.date, encoding: str | None = None
) -> ReconcileReport:
    """Compare the stored register with a provincial snapshot in the register format.

    Args:
        storage: the township's storage.
        snapshot: the snapshot folder (register format; ``persons`` required).
        division: the township's division code (``extra`` persons are those whose hukou
            is inside it).
        today: the date of the comparison (the snapshot's rows are checked as of it).
        encoding: the snapshot's encoding when not detected.

    Raises:
        MalformedFileError: a snapshot file cannot be read as the register format.
        ExchangeError: the folder does not exist.
    """
    reading = read_register(snapshot, today=today, encoding=encoding)
    unreadable: dict[str, int] = {}
    for bad in reading.quarantine:
        unreadable[bad.kind] = unreadable.get(bad.kind, 0) + 1
    snap = {kind: list(reading.tables[kind].dicts()) for kind in reading.tables}
    reports: list[KindReconciliation] = []
    with storage.reader() as reader:
        people = _rows(reader, "persons")
        by_citizen = {p["citizen_id"]: p["person_id"] for p in people if p["citizen_id"]}
        local_ids = {p["person_id"] for p in people}
        translate: dict[str, str] = {}
        for p in snap.get("persons", []):
            local = by_citizen.get(p["citizen_id"]) if p["citizen_id"] else None
            if local is None and not p["citizen_id"] and p["person_id"] in local_ids:
                local = p["person_id"]
            translate[p["person_id"]] = local or f"snapshot:{p['person_id']}"
        matched = {v for v in translate.values() if not v.startswith("snapshot:")}

        mine = [
            {**p, "_key": p["person_id"]}
            for p in people
            if p["hukou_division"].startswith(division) or p["person_id"] in matched
        ]
        theirs = [{**p, "_key": translate[p["person_id"]]} for p in snap.get("persons", [])]
        compared, missing, extra, differing = _compare(
            "persons", mine, theirs, COMPARED_PERSON_FIELDS, ("_key",)
        )
        reports.append(
            KindReconciliation(
                kind="persons",
                compared=compared,
                missing=tuple(missing),
                extra=tuple(extra),
                differing=tuple(differing),
                unreadable=unreadable.get("persons", 0),
            )
        )
        for kind in RECORD_KINDS:
            if kind == "persons" or kind not in snap:
                continue
            references = _PERSON_REFERENCES.get(kind, ())
            record = RECORD_KINDS[kind]
            theirs = [
                {
                    c: (translate.get(v, f"snapshot:{v}") if c in references and v else v)
                    for c, v in r.items()
                }
                for r in snap[kind]
            ]
            mine = [
                r
                for r in _rows(reader, kind)
                if any(r.get(c) in matched for c in references) or not references
            ]
            others = [c for c in record.columns if c not in record.key]
            compared, missing, extra, differing = _compare(kind, mine, theirs, others, record.key)
            reports.append(
                KindReconciliation(
                    kind=kind,
                    compared=compared,
                    missing=tuple(missing),
                    extra=tuple(extra),
                    differing=tuple(differing),
                    unreadable=unreadable.get(kind, 0),
                )
            )
    return ReconcileReport(snapshot=str(snapshot), division=division, kinds=tuple(reports))
