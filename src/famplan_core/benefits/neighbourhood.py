"""The neighbourhood frame (关联人员事实表): the facts frame of a few persons, built fast.

A decision about a person P reads P's own row and the rows P is linked to: P's children
(R0.4), their other parents (the mother of R3.4) and the children of P's honour certificates
(R4). `neighbourhood_frame` loads the current records of just those persons from the SQL
storage by their indexes, structures them into the model's records with the one converter,
and folds them with `famplan_core.register.fold_frame`, the reference meaning of the as-of
view. The rows of the persons asked for are then the same as in a frame of the whole
register (a test checks it), at a cost that does not grow with the register: an explanation
at a million persons takes milliseconds, not the seconds of a whole frame.

Linked persons are loaded with their own rows, hukou history and disability certificates.
When a program reads facts that depend on a *linked* person's own children (e.g.
``only_child.ever_children``), ask for ``depth=2`` and their links are loaded too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from famplan_core.benefits.decisions import RELATIONAL_COLUMNS, fact_names
from famplan_core.convert import structure
from famplan_core.model.facts import Certificate, DisabilityCertificate, HukouChange, ParentChild
from famplan_core.model.frame import FactsFrame
from famplan_core.model.people import Person
from famplan_core.register import RegisterRecords, fold_frame
from famplan_core.rules import Program
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES

__all__ = ["depth_for", "load_neighbourhood", "neighbourhood_frame"]

T = TypeVar("T")
_CHUNK = 500


def depth_for(programs: Iterable[Program]) -> int:
    """How many levels of links the decisions of `programs` read: 2 when a program reads a
    linked person's facts that depend on that person's own children, else 1.

    Args:
        programs: the programs to explain.
    """
    for program in programs:
        for name in fact_names(program):
            head, _, tail = name.partition(".")
            if head in ("only_child", "child") and tail in RELATIONAL_COLUMNS:
                return 2
    return 1


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class _Loader:
    def __init__(self, connection: sa.Connection) -> None:
        self.conn = connection

    def rows(self, kind: str, column: str, keys: Iterable[str]) -> list[dict[str, str]]:
        table = REGISTER_TABLES[kind]
        columns = RECORD_KINDS[kind].columns
        wanted = sorted(set(keys))
        found: list[dict[str, str]] = []
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            query = (
                sa.select(*(table.c[c] for c in columns))
                .where(table.c[column].in_(chunk), table.c.superseded_at.is_(None))
                .order_by(table.c.version_id)
            )
            found.extend(
                dict(zip(columns, map(_text, row), strict=True)) for row in self.conn.execute(query)
            )
        return found


def _records(rows: Sequence[dict[str, Any]], cls: type[T], kind: str) -> list[T]:
    return [structure(row, cls, source=kind) for row in rows]


def load_neighbourhood(
    connection: sa.Connection, person_ids: Iterable[str], *, depth: int = 1
) -> RegisterRecords:
    """The current records of some persons and of everyone their decisions read.

    Args:
        connection: a connection of the SQL storage, inside a snapshot.
        person_ids: the persons asked about.
        depth: 1, or 2 to load the links of the linked persons too (see `depth_for`).

    Raises:
        ValidationError: a stored record cannot be read as its model (a corrupt register).
    """
    loader = _Loader(connection)
    full = set(person_ids)
    everyone = set(full)
    links: dict[tuple[str, str, str], dict[str, str]] = {}
    certificates: dict[tuple[str, str], dict[str, str]] = {}
    as_parent: set[str] = set()
    as_child: set[str] = set()
    for level in range(max(depth, 1)):
        parents = full - as_parent
        as_parent |= parents
        own = loader.rows("parent_child", "parent_id", parents)
        children = {row["child_id"] for row in own}
        unseen = children - as_child
        as_child |= unseen
        other = loader.rows("parent_child", "child_id", unseen)
        held = loader.rows("certificates", "holder_id", parents)
        for row in (*own, *other):
            links[(row["parent_id"], row["child_id"], row["kind"])] = row
        for row in held:
            certificates[(row["certificate_id"], row["holder_id"])] = row
        certificate_children = {row["child_id"] for row in held if row["child_id"]}
        everyone |= children | certificate_children | {row["parent_id"] for row in other}
        if level + 1 < depth:
            full = children | certificate_children
    persons = loader.rows("persons", "person_id", everyone)
    known = {row["person_id"] for row in persons}
    return RegisterRecords(
        persons=_records(persons, Person, "persons"),
        parent_child=_records(
            [row for row in links.values() if row["parent_id"] in known],
            ParentChild,
            "parent_child",
        ),
        hukou_changes=_records(
            loader.rows("hukou_changes", "person_id", known), HukouChange, "hukou_changes"
        ),
        disabilities=_records(
            loader.rows("disabilities", "person_id", known), DisabilityCertificate, "disabilities"
        ),
        certificates=_records(list(certificates.values()), Certificate, "certificates"),
    )


def neighbourhood_frame(
    connection: sa.Connection,
    person_ids: Iterable[str],
    d: dt.date,
    division: str,
    *,
    depth: int = 1,
) -> FactsFrame:
    """The facts frame for `d` of some persons and everyone their decisions read.

    The rows of the persons asked for hold the same facts as in a frame of the whole
    register (R0.1-R0.6, R0.10, R3.4, R4.4); the other rows are there to be read through links.

    Args:
        connection: a connection of the SQL storage, inside a snapshot.
        person_ids: the persons asked about.
        d: the evaluation date D.
        division: the deployment's division code (R0.6).
        depth: see `load_neighbourhood`.
    """
    return fold_frame(load_neighbourhood(connection, person_ids, depth=depth), d, division)
