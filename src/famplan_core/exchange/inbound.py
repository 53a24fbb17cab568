"""Applying a received batch (接收): each message becomes register facts, or is quarantined.

`apply_batch` runs inside one unit of work. It reads, once, the register rows the batch's
messages name (persons by ID number or by the sender's id, their hukou history and unions),
applies each message in turn to those rows in memory, and stores what changed with the
storage's bulk upsert, which writes the journal facts (``person_registered``,
``death_recorded``, ``hukou_changed``, ``union_started``, ``union_ended``, ``child_linked``).
A message that cannot be matched, breaks a rule or conflicts with the register changes
nothing and goes to quarantine with every reason; the others are applied together.

A message is matched to a person by the resident ID number, or (for a person who has none
yet, a newborn) by the id the sender gave it: a person new to the receiver gets the id
``SENDER-REF``. A move applies the later of two moves last whatever their order of arrival,
and the first hukou change of a person who had none is preceded by one dated at the birth,
holding the earlier hukou (R0.5).

The matching rule, the same for every message type: a message about a person the register
already holds matches only when every identity field it carries (ID number, name, sex, birth
date) agrees with the register, and what it says of that person agrees with the register's
history (a move leaves the division the register holds the person in just before the move; a
child is born after its parents). A message that names a person by an ID number the register
does not hold is applied only when it registers a new person (a birth, a move in, a verified
child). Any other message changes nothing: it is held in the exchange quarantine with the
detailed reasons, for the office to apply or discard (`apply_held`), and the partner's receipt
carries one of `PARTNER_REASONS` only, which never holds a value from the register and reads
the same for an unknown person and for a mismatch. A problem found in the message alone (a
bad field, a wrong route) goes back as found: it holds only what the sender sent.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

import attrs
import sqlalchemy as sa

from famplan_core.errors import ExchangeError, Problem
from famplan_core.exchange.batch import (
    DecodedBatch,
    Message,
    MessageOutcome,
    RawMessage,
    Receipt,
    is_township,
    payload_hash,
)
from famplan_core.exchange.ledger import (
    ExchangeLedger,
    LedgerMessage,
    StoredMessage,
    iter_chunks,
)
from famplan_core.exchange.messages import (
    MESSAGE_TYPES,
    PROGRAM_CHILD_FIELDS,
    MessageType,
    Route,
    check_payload,
    minimise,
)
from famplan_core.exchange.reader import _Checker, _Shared
from famplan_core.exchange.register_format import KIND_BY_NAME, MAX_TEXT_LENGTH
from famplan_core.ports import QuarantinedRow, QuarantineEntry
from famplan_core.storage.exchange_tables import exchange_messages
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES

__all__ = [
    "IMPORT_ORDER",
    "MESSAGE_PERSON_COLUMNS",
    "NOT_ANSWERED",
    "NOT_CONCERNED",
    "NOT_MATCHED",
    "NOT_REQUESTED",
    "PARTNER_REASONS",
    "RESERVED_RAW",
    "ApplyResult",
    "HeldApplied",
    "MessageHeld",
    "apply_batch",
    "apply_held",
    "person_rows",
    "verification_answer",
]

MESSAGE_PERSON_COLUMNS: tuple[str, ...] = (
    "citizen_id",
    "name",
    "sex",
    "birth_date",
    "death_date",
    "hukou_division",
    "hukou_type",
)
"""The columns of a person that a message may carry: those the office compares in review."""

IMPORT_ORDER: tuple[str, ...] = ("persons", "parent_child", "unions", "hukou_changes")
"""The register kinds a batch writes, in the order they are stored."""

_P = {name: i for i, name in enumerate(RECORD_KINDS["persons"].columns)}
_U = {name: i for i, name in enumerate(RECORD_KINDS["unions"].columns)}
_PERSON_WIDTH = len(_P)


@attrs.frozen(kw_only=True)
class ApplyResult:
    """What applying one batch did.

    Attributes:
        receipt: the receipt to send back.
        applied: messages applied now.
        quarantined: messages quarantined now (bad, unmatched or in conflict).
        duplicates: messages received before (nothing done again).
        stored: per register kind, (inserted, updated, unchanged) rows.
        replies: messages queued to send back (verification answers), by partner.
    """

    receipt: Receipt
    applied: int
    quarantined: int
    duplicates: int
    stored: Mapping[str, tuple[int, int, int]]
    replies: Mapping[str, int]


NOT_MATCHED: Final = (
    "not applied: the message could not be matched to the register; the receiving office reviews it"
)
"""The receipt's reason for a message about a person that is unknown, disagrees with the
register or would contradict it: the same words whichever it is."""
NOT_ANSWERED: Final = (
    "not answered: the request does not match a person who moved from this township to the "
    "requester; the receiving office reviews it"
)
"""The receipt's reason for a verification request that is not answered, whatever the cause."""
NOT_CONCERNED: Final = "not applied: the message does not concern this township"
"""The receipt's reason for a message whose own divisions lie outside the township."""
NOT_REQUESTED: Final = (
    "not applied: the message answers no verification request this township sent to the sender"
)
"""The receipt's reason for an answer to no request of ours (or about another person)."""

PARTNER_REASONS: Final = (NOT_MATCHED, NOT_ANSWERED, NOT_CONCERNED, NOT_REQUESTED)
"""Every reason a receipt may give for a message refused after the register was consulted. The
detailed problems stay in the local quarantine, for the office."""


class MessageHeld(Exception):
    """A message cannot be applied: the detailed problems (kept locally), and the reason the
    partner's receipt gives (one of `PARTNER_REASONS`).

    Args:
        problems: every problem found, for the office.
        reason: what the partner is told.
    """

    def __init__(self, problems: Sequence[Problem], reason: str = NOT_MATCHED) -> None:
        super().__init__("; ".join(str(p) for p in problems) or reason)
        self.problems = tuple(problems)
        self.reason = reason


_Bad = MessageHeld


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def person_rows(
    connection: sa.Connection, *, citizen_ids: Iterable[str] = (), person_ids: Iterable[str] = ()
) -> list[tuple[str, ...]]:
    """The current ``persons`` rows (spec columns, as text) with these ID numbers or ids.

    Args:
        connection: an open connection.
        citizen_ids: resident ID numbers.
        person_ids: person ids.
    """
    table = REGISTER_TABLES["persons"]
    columns = [table.c[name] for name in RECORD_KINDS["persons"].columns]
    found: dict[str, tuple[str, ...]] = {}
    for field, values in ((table.c.citizen_id, citizen_ids), (table.c.person_id, person_ids)):
        for chunk in iter_chunks(sorted(set(values))):
            for row in connection.execute(
                sa.select(*columns).where(table.c.superseded_at.is_(None), field.in_(chunk))
            ):
                texts = tuple(_text(v) for v in row)
                found[texts[0]] = texts
    return list(found.values())


class _Register:
    """The register rows one batch touches: read once, changed in memory, stored at the end."""

    def __init__(
        self,
        connection: sa.Connection,
        division: str,
        sender: str,
        today: dt.date,
        *,
        review: bool = False,
    ) -> None:
        self.connection = connection
        self.division = division
        self.sender = sender
        self.review = review
        """An officer applies a held message: the message's version wins over the register's."""
        self.persons: dict[str, list[str]] = {}
        self.by_citizen: dict[str, str] = {}
        self.latest_hukou: dict[str, str] = {}
        self.hukou_history: dict[str, list[tuple[str, str]]] = {}
        self.unions: dict[tuple[str, str, str], list[str]] = {}
        self.changed: dict[str, dict[tuple[str, ...], tuple[str, ...]]] = {
            k: {} for k in IMPORT_ORDER
        }
        self._shared = _Shared(today)
        self._checkers = {k: _Checker(KIND_BY_NAME[k], self._shared) for k in IMPORT_ORDER}

    def load(self, citizen_ids: set[str], person_ids: set[str]) -> None:
        for row in person_rows(self.connection, citizen_ids=citizen_ids, person_ids=person_ids):
            self._remember(list(row))
        pids = sorted(self.persons)
        hukou = REGISTER_TABLES["hukou_changes"]
        unions = REGISTER_TABLES["unions"]
        for chunk in iter_chunks(pids):
            for pid, date, where in self.connection.execute(
                sa.select(hukou.c.person_id, hukou.c.date, hukou.c.hukou_division).where(
                    hukou.c.superseded_at.is_(None), hukou.c.person_id.in_(chunk)
                )
            ):
                self.hukou_history.setdefault(str(pid), []).append((_text(date), str(where)))
                if _text(date) > self.latest_hukou.get(str(pid), ""):
                    self.latest_hukou[str(pid)] = _text(date)
            cols = [unions.c[n] for n in RECORD_KINDS["unions"].columns]
            for row in self.connection.execute(
                sa.select(*cols).where(
                    unions.c.superseded_at.is_(None),
                    sa.or_(unions.c.person_a.in_(chunk), unions.c.person_b.in_(chunk)),
                )
            ):
                texts = [_text(v) for v in row]
                self.unions[(texts[0], texts[1], texts[2])] = texts

    def _remember(self, row: list[str]) -> None:
        pid = row[_P["person_id"]]
        old = self.persons.get(pid)
        if (
            old is not None
            and old[_P["citizen_id"]]
            and old[_P["citizen_id"]] != row[_P["citizen_id"]]
        ):
            self.by_citizen.pop(old[_P["citizen_id"]], None)
        self.persons[pid] = row
        if row[_P["citizen_id"]]:
            self.by_citizen[row[_P["citizen_id"]]] = pid

    def inside(self, division: str) -> bool:
        return division.startswith(self.division)

    def find(self, citizen_id: str, field: str, where: str) -> str:
        pid = self.by_citizen.get(citizen_id)
        if pid is None:
            raise _Bad(
                [
                    Problem(
                        path=f"{where}:{field}",
                        value=citizen_id,
                        message="no person with this ID number is in the register: the "
                        "message cannot be matched",
                    )
                ]
            )
        return pid

    def hukou_before(self, pid: str, date: str) -> str | None:
        """The hukou division the register holds for a person just before a date (R0.5), or
        None when it does not know it."""
        history = self.hukou_history.get(pid, [])
        earlier = [h for h in history if h[0] < date]
        if earlier:
            return max(earlier)[1]
        if history:
            return None
        return self.persons[pid][_P["hukou_division"]] or None

    def new_id(self, ref: str, where: str) -> str:
        pid = f"{self.sender}-{ref}"
        if len(pid) > MAX_TEXT_LENGTH:
            raise _Bad([Problem(path=f"{where}:person_ref", value=ref[:60], message="too long")])
        return pid


@attrs.define
class _Changes:
    """The rows one message changes, checked before they join the batch's rows."""

    rows: list[tuple[str, tuple[str, ...]]] = attrs.Factory(list)
    subject: str = ""
    replies: list[tuple[str, str, dict[str, str]]] = attrs.Factory(list)

    def put(self, kind: str, row: Sequence[str]) -> None:
        self.rows.append((kind, tuple(row)))


_IDENTITY: tuple[str, ...] = ("citizen_id", "name", "sex", "birth_date")
"""A person's identity fields: an inbound message never changes them on its own."""


def _match(
    reg: _Register, pid: str, said: Mapping[str, str], where: str, prefix: str = ""
) -> list[str]:
    """The person's row after checking the matching rule on the identity fields a message
    carries (``prefix`` + column name: ``a_name`` for a spouse); held when one disagrees.

    When an officer applies a held message (`_Register.review`), the message's values win.
    """
    row = list(reg.persons[pid])
    problems: list[Problem] = []
    for column in _IDENTITY:
        field = prefix + column
        value = said.get(field, "")
        held = row[_P[column]]
        if value and held and value != held:
            problems.append(
                Problem(
                    path=f"{where}:{field}",
                    value=value,
                    message=f"the register holds {column} {held!r} for person {pid}: the "
                    "message disagrees and is held for review",
                )
            )
    if problems and not reg.review:
        raise _Bad(problems)
    for column in _IDENTITY:
        value = said.get(prefix + column, "")
        if value and (reg.review or not row[_P[column]]):
            row[_P[column]] = value
    return row


def _checked(
    reg: _Register, pid: str, p: Mapping[str, str], where: str, *checks: Callable[[], None]
) -> list[str]:
    """The person's row after `_match` and the further checks, holding the message with
    every problem any of them found."""
    problems: list[Problem] = []
    try:
        row = _match(reg, pid, p, where)
    except MessageHeld as held:
        problems.extend(held.problems)
        row = list(reg.persons[pid])
    for check in checks:
        try:
            check()
        except MessageHeld as held:
            problems.extend(held.problems)
    if problems:
        raise _Bad(problems)
    return row


def _relation_check(
    reg: _Register, parents: Sequence[str], child_birth: str, field: str, where: str
) -> None:
    """A child is born after each of its parents, or the link contradicts the register."""
    if reg.review or not child_birth:
        return
    problems = [
        Problem(
            path=f"{where}:{field}",
            value=child_birth,
            message=f"the register holds the parent {parent} as born on {born}: a child born "
            "on or before that date contradicts it and is held for review",
        )
        for parent in parents
        if (born := reg.persons[parent][_P["birth_date"]]) and child_birth <= born
    ]
    if problems:
        raise _Bad(problems)


def _not_parent(reg: _Register, pid: str, parents: Sequence[str], where: str) -> None:
    """A person is not their own parent."""
    if pid in parents and not reg.review:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:citizen_id",
                    value=reg.persons[pid][_P["citizen_id"]],
                    message=f"the message makes person {pid} their own parent",
                )
            ]
        )


def _move_check(reg: _Register, pid: str, p: Mapping[str, str], where: str) -> None:
    """A move leaves the division the register holds the person in just before it."""
    held = reg.hukou_before(pid, p["date"])
    if reg.review or held is None or held == p["from_division"]:
        return
    raise _Bad(
        [
            Problem(
                path=f"{where}:from_division",
                value=p["from_division"],
                message=f"the register holds person {pid}'s hukou in {held} before "
                f"{p['date']}: the move is held for review",
            )
        ]
    )


def _hukou_change(
    reg: _Register, changes: _Changes, pid: str, row: list[str], date: str, division: str, kind: str
) -> None:
    """Record a dated hukou change, keeping R0.5 whatever the order of arrival."""
    known = reg.latest_hukou.get(pid)
    birth = row[_P["birth_date"]]
    if known is None and row[_P["hukou_division"]] and birth and birth < date:
        # the first change of a person who had none: the earlier hukou held from birth (R0.5)
        changes.put("hukou_changes", (pid, birth, row[_P["hukou_division"]], row[_P["hukou_type"]]))
    changes.put("hukou_changes", (pid, date, division, kind))
    if known is None or date >= known:
        row[_P["hukou_division"]] = division
        row[_P["hukou_type"]] = kind


def _new_person(pid: str) -> list[str]:
    row = [""] * _PERSON_WIDTH
    row[_P["person_id"]] = pid
    return row


def _known(reg: _Register, p: Mapping[str, str], where: str) -> str | None:
    """The id of the person a message registering someone names, when the register holds
    them already: by the ID number, or by the sender's own id of the person."""
    pid = reg.by_citizen.get(p.get("citizen_id", ""))
    if pid is None:
        ref_pid = reg.new_id(p["person_ref"], where)
        if ref_pid in reg.persons:
            pid = ref_pid
    return pid


def _apply_birth(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    if not reg.inside(p["hukou_division"]):
        raise _Bad(
            [
                Problem(
                    path=f"{where}:hukou_division",
                    value=p["hukou_division"],
                    message=f"the child's hukou is not in this township ({reg.division})",
                )
            ],
            NOT_CONCERNED,
        )
    parents: list[str] = []
    problems: list[Problem] = []
    for field in ("mother_citizen_id", "father_citizen_id"):
        if field in p:
            try:
                parents.append(reg.find(p[field], field, where))
            except _Bad as bad:
                problems.extend(bad.problems)
    if not parents and not problems:
        problems.append(
            Problem(
                path=f"{where}:mother_citizen_id",
                value="",
                message="a birth needs a parent's ID number",
            )
        )
    if problems:
        raise _Bad(problems)
    pid = _known(reg, p, where)
    if pid is None:
        pid = reg.new_id(p["person_ref"], where)
        row = _new_person(pid)
        for name in ("citizen_id", "name", "sex", "birth_date", "hukou_division", "hukou_type"):
            if name in p:
                row[_P[name]] = p[name]
    else:
        # a birth about a person the register holds: the same person, or held for review
        known = pid
        row = _checked(
            reg,
            pid,
            p,
            where,
            lambda: _relation_check(reg, parents, p["birth_date"], "birth_date", where),
            lambda: _not_parent(reg, known, parents, where),
        )
        for name in ("hukou_division", "hukou_type"):
            if reg.review or not row[_P[name]]:
                row[_P[name]] = p[name]
    _relation_check(reg, parents, row[_P["birth_date"]], "birth_date", where)
    changes.put("persons", row)
    for parent in parents:
        changes.put("parent_child", (parent, pid, "birth", ""))
    changes.subject = pid


def _apply_death(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    pid = reg.find(p["citizen_id"], "citizen_id", where)
    row = _match(reg, pid, p, where)
    stored = row[_P["death_date"]]
    if stored and stored != p["death_date"] and not reg.review:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:death_date",
                    value=p["death_date"],
                    message=f"the register records another death date ({stored})",
                )
            ]
        )
    row[_P["death_date"]] = p["death_date"]
    changes.put("persons", row)
    changes.subject = pid


def _apply_move(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    to_in, from_in = reg.inside(p["to_division"]), reg.inside(p["from_division"])
    if to_in:
        pid = _known(reg, p, where)
        if pid is None:
            pid = reg.new_id(p["person_ref"], where)
            row = _new_person(pid)
            for name in ("citizen_id", "name", "sex", "birth_date", "ethnicity", "marital_status"):
                row[_P[name]] = p.get(name, "")
            row[_P["hukou_division"]] = p["to_division"]
            row[_P["hukou_type"]] = p["hukou_type"]
            changes.put("hukou_changes", (pid, p["date"], p["to_division"], p["hukou_type"]))
        else:
            known = pid
            row = _checked(reg, pid, p, where, lambda: _move_check(reg, known, p, where))
            _hukou_change(reg, changes, pid, row, p["date"], p["to_division"], p["hukou_type"])
    elif from_in:
        pid = reg.find(p["citizen_id"], "citizen_id", where)
        known = pid
        row = _checked(reg, pid, p, where, lambda: _move_check(reg, known, p, where))
        _hukou_change(reg, changes, pid, row, p["date"], p["to_division"], p["hukou_type"])
    else:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:to_division",
                    value=p["to_division"],
                    message=f"the move from {p['from_division']} to {p['to_division']} concerns "
                    f"neither side of this township ({reg.division})",
                )
            ],
            NOT_CONCERNED,
        )
    changes.put("persons", row)
    changes.subject = pid


def _spouses(
    reg: _Register, p: Mapping[str, str], where: str, changes: _Changes
) -> tuple[str, str]:
    problems: list[Problem] = []
    found: list[str] = []
    for side in ("a", "b"):
        try:
            pid = reg.find(p[f"{side}_citizen_id"], f"{side}_citizen_id", where)
            row = _match(reg, pid, p, where, prefix=f"{side}_")
            if row != reg.persons[pid]:
                changes.put("persons", row)
            found.append(pid)
        except _Bad as bad:
            problems.extend(bad.problems)
    if problems:
        raise _Bad(problems)
    if found[0] == found[1]:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:b_citizen_id", value="", message="a person cannot marry themself"
                )
            ]
        )
    return found[0], found[1]


def _unions_between(reg: _Register, a: str, b: str) -> list[list[str]]:
    return [row for key, row in reg.unions.items() if (key[0], key[1]) in ((a, b), (b, a))]


def _apply_marriage(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    a, b = _spouses(reg, p, where, changes)
    for row in _unions_between(reg, a, b):
        if row[_U["start"]] == p["start"]:
            changes.subject = a
            return
    changes.put("unions", (a, b, p["start"], "", ""))
    changes.subject = a


def _union_start(row: list[str]) -> str:
    return row[_U["start"]]


def _apply_divorce(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    a, b = _spouses(reg, p, where, changes)
    candidates: list[list[str]] = _unions_between(reg, a, b)
    if "start" in p:
        candidates = [r for r in candidates if r[_U["start"]] == p["start"]]
    else:
        candidates = [r for r in candidates if not r[_U["end"]] or r[_U["end"]] == p["end"]]
    if not candidates:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:end",
                    value=p["end"],
                    message="the register holds no marriage between these two persons to end",
                )
            ]
        )
    row = list(sorted(candidates, key=_union_start)[-1])
    if (
        row[_U["end"]]
        and (row[_U["end"]] != p["end"] or row[_U["end_reason"]] != "divorce")
        and not reg.review
    ):
        raise _Bad(
            [
                Problem(
                    path=f"{where}:end",
                    value=p["end"],
                    message=f"the register records another end of this marriage ({row[_U['end']]})",
                )
            ]
        )
    row[_U["end"]] = p["end"]
    row[_U["end_reason"]] = "divorce"
    changes.put("unions", row)
    changes.subject = a


def _moved_to(connection: sa.Connection, pid: str, division: str, requester: str) -> bool:
    """Whether the register records the person's hukou moving from `division` to `requester`:
    a current hukou change into the requester's division whose previous one is here."""
    hukou = REGISTER_TABLES["hukou_changes"]
    history = sorted(
        (_text(r[0]), str(r[1]))
        for r in connection.execute(
            sa.select(hukou.c.date, hukou.c.hukou_division).where(
                hukou.c.superseded_at.is_(None), hukou.c.person_id == pid
            )
        )
    )
    return any(
        history[i][1].startswith(requester) and history[i - 1][1].startswith(division)
        for i in range(1, len(history))
    )


def verification_answer(
    connection: sa.Connection,
    *,
    sender: str,
    request_id: str,
    request: Mapping[str, str],
    requester: str,
    confirmed: bool = False,
) -> list[tuple[str, dict[str, str]]]:
    """The messages answering a verification request: a reply and one per child.

    A request is answered only when the person is found by the ID number with the name and
    the birth date asked about, and the register records their hukou moving from this
    township (`sender`) to the requester. Each child by a ``birth`` or ``adoptive`` link
    (R0.4; never ``step``) is described with the fields the requesting program needs
    (`PROGRAM_CHILD_FIELDS`): a death date only for a program that counts deaths.

    Args:
        connection: an open connection.
        sender: this deployment (the answer's sender).
        request_id: the request's message id.
        request: the request's checked payload.
        requester: the township that asked.
        confirmed: an officer confirmed the request (`apply_held`): the name and the move on
            record are not required; the ID number and the birth date still are.

    Returns:
        (message type, payload) pairs, the reply first.

    Raises:
        MessageHeld: the request is not answered; its reason for the partner is
            `NOT_ANSWERED` whatever the cause, and its problems are for the office only.
    """
    where = "verification_request"
    rows = person_rows(connection, citizen_ids=[request["citizen_id"]])
    person = rows[0] if rows else None
    problems: list[Problem] = []
    if person is None:
        problems.append(
            Problem(
                path=f"{where}:citizen_id",
                value=request["citizen_id"],
                message="no person with this ID number is in the register",
            )
        )
    else:
        pid = person[_P["person_id"]]
        checked = ("birth_date",) if confirmed else ("name", "birth_date")
        for field in checked:
            if person[_P[field]] != request[field]:
                problems.append(
                    Problem(
                        path=f"{where}:{field}",
                        value=request[field],
                        message=f"the register holds {field} {person[_P[field]]!r} for person "
                        f"{pid}",
                    )
                )
        if not confirmed and not _moved_to(connection, pid, sender, requester):
            problems.append(
                Problem(
                    path=f"{where}:citizen_id",
                    value=request["citizen_id"],
                    message=f"the register records no move of person {pid} from {sender} to "
                    f"{requester}",
                )
            )
    if problems or person is None:
        raise MessageHeld(problems, NOT_ANSWERED)
    pid = person[_P["person_id"]]
    links = REGISTER_TABLES["parent_child"]
    found = [
        (str(r[0]), str(r[1]), _text(r[2]))
        for r in connection.execute(
            sa.select(links.c.child_id, links.c.kind, links.c.since)
            .where(
                links.c.superseded_at.is_(None),
                links.c.parent_id == pid,
                links.c.kind.in_(["birth", "adoptive"]),
            )
            .order_by(links.c.child_id, links.c.kind)
        )
    ]
    children = {r[0]: r for r in person_rows(connection, person_ids=[c[0] for c in found])}
    optional = PROGRAM_CHILD_FIELDS.get(request["program"], frozenset())
    answers: list[tuple[str, dict[str, str]]] = []
    for child_id, link, since in found:
        child = children.get(child_id)
        if child is None:
            continue
        values = {
            "request_id": request_id,
            "parent_citizen_id": request["citizen_id"],
            "person_ref": child_id,
            "name": child[_P["name"]],
            "sex": child[_P["sex"]],
            "birth_date": child[_P["birth_date"]],
            "hukou_division": child[_P["hukou_division"]],
            "hukou_type": child[_P["hukou_type"]],
            "link": link,
            "since": since if "since" in optional else "",
            "death_date": child[_P["death_date"]] if "death_date" in optional else "",
            "citizen_id": child[_P["citizen_id"]] if "citizen_id" in optional else "",
        }
        answers.append(("verified_child", minimise("verified_child", values)))
    reply = {
        "request_id": request_id,
        "citizen_id": request["citizen_id"],
        "found": "yes",
        "children": str(len(answers)),
    }
    return [("verification_reply", minimise("verification_reply", reply)), *answers]


def _request_of(
    ledger: ExchangeLedger, reg: _Register, p: Mapping[str, str], where: str
) -> Mapping[str, str]:
    sent = ledger.find_sent("verification_request", p["request_id"])
    if sent is None or sent[0] != reg.sender:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:request_id",
                    value=p["request_id"],
                    message=f"answers no verification request this township sent to {reg.sender}",
                )
            ],
            NOT_REQUESTED,
        )
    request = sent[1].payload
    asked = request.get("citizen_id", "")
    about = p.get("parent_citizen_id", p.get("citizen_id", ""))
    if about != asked:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:parent_citizen_id" if "parent_citizen_id" in p else where,
                    value=about,
                    message=f"the request {p['request_id']} asked about {asked}, not this person",
                )
            ],
            NOT_REQUESTED,
        )
    return request


def _apply_child(
    ledger: ExchangeLedger, reg: _Register, p: Mapping[str, str], where: str, changes: _Changes
) -> None:
    _request_of(ledger, reg, p, where)
    parent = reg.find(p["parent_citizen_id"], "parent_citizen_id", where)
    pid = _known(reg, p, where)
    if pid is not None:
        known = pid
        row = _checked(
            reg,
            pid,
            p,
            where,
            lambda: _relation_check(reg, [parent], p["birth_date"], "birth_date", where),
            lambda: _not_parent(reg, known, [parent], where),
        )
        if "death_date" in p and (reg.review or not row[_P["death_date"]]):
            row[_P["death_date"]] = p["death_date"]
    else:
        pid = reg.new_id(p["person_ref"], where)
        row = _new_person(pid)
        for name in MESSAGE_PERSON_COLUMNS:
            row[_P[name]] = p.get(name, "")
    _relation_check(reg, [parent], row[_P["birth_date"]], "birth_date", where)
    changes.put("persons", row)
    changes.put("parent_child", (parent, pid, p["link"], p.get("since", "")))
    changes.subject = parent


def _apply_reply(
    ledger: ExchangeLedger, reg: _Register, p: Mapping[str, str], where: str, changes: _Changes
) -> None:
    _request_of(ledger, reg, p, where)
    changes.subject = reg.by_citizen.get(p["citizen_id"], "")


def _apply_request(
    ledger: ExchangeLedger,
    reg: _Register,
    p: Mapping[str, str],
    where: str,
    changes: _Changes,
    message_id: str,
) -> None:
    try:
        answer = verification_answer(
            reg.connection,
            sender=reg.division,
            request_id=message_id,
            request=p,
            requester=reg.sender,
            confirmed=reg.review,
        )
    except MessageHeld as held:
        raise MessageHeld(
            [
                Problem(path=f"{where}:{q.path.split(':', 1)[1]}", value=q.value, message=q.message)
                for q in held.problems
            ],
            held.reason,
        ) from None
    for kind, payload in answer:
        changes.replies.append((reg.sender, kind, payload))
    changes.subject = reg.by_citizen.get(p["citizen_id"], "")


_HANDLERS: Mapping[str, Callable[..., None]] = MappingProxyType(
    {
        "birth": _apply_birth,
        "death": _apply_death,
        "hukou_move": _apply_move,
        "marriage": _apply_marriage,
        "divorce": _apply_divorce,
    }
)


def _apply_message(
    ledger: ExchangeLedger,
    reg: _Register,
    t: MessageType,
    clean: Mapping[str, str],
    where: str,
    message_id: str,
) -> _Changes:
    """The checked changes one message makes, or `MessageHeld`."""
    changes = _Changes()
    if t.name in _HANDLERS:
        _HANDLERS[t.name](reg, clean, where, changes)
    elif t.name == "verified_child":
        _apply_child(ledger, reg, clean, where, changes)
    elif t.name == "verification_reply":
        _apply_reply(ledger, reg, clean, where, changes)
    elif t.name == "verification_request":
        _apply_request(ledger, reg, clean, where, changes, message_id)
    problems = _check_rows(reg, changes, where)
    if problems:
        raise MessageHeld(problems)
    return changes


def _route_problem(t: MessageType, sender: str, receiver: str, where: str) -> Problem | None:
    route = {
        (False, True): Route.PROVINCE_TO_TOWNSHIP,
        (True, False): Route.TOWNSHIP_TO_PROVINCE,
        (True, True): Route.TOWNSHIP_TO_TOWNSHIP,
    }.get((is_township(sender), is_township(receiver)))
    if route in t.routes:
        return None
    allowed = ", ".join(sorted(r.value for r in t.routes))
    return Problem(
        path=f"{where}:type",
        value=t.name,
        message=f"a {t.name} message goes {allowed}; this one came from {sender} to {receiver}",
    )


def _raw(message: RawMessage, sender: str) -> dict[str, str | None]:
    raw: dict[str, str | None] = {}
    for key, value in message.payload.items():
        text = (
            value
            if isinstance(value, str) or value is None
            else json.dumps(value, ensure_ascii=False, default=str)
        )
        raw[str(key)[:100]] = None if text is None else text[:1000]
    # after the payload, so that a payload field of the same name cannot pass for them
    raw.update({"message_id": message.id, "message_type": message.type, "sender": sender})
    return raw


def apply_batch(
    uow: Any,
    batch: DecodedBatch,
    *,
    division: str,
    today: dt.date,
) -> ApplyResult:
    """Apply a checked batch inside a unit of work: facts, quarantine, ledger, receipt.

    Args:
        uow: an open `famplan_core.storage.sql.SqlUnitOfWork`.
        batch: the batch, from `famplan_core.exchange.batch.unpack`.
        division: this deployment's division code.
        today: the date of the processing (dates after it are refused).

    Returns:
        The receipt and the counts; the ledger rows, quarantine entries, register rows and
        answers to send are written in `uow` (the caller records the batch and commits).
    """
    manifest = batch.manifest
    sender = manifest.sender
    ledger = ExchangeLedger(uow.connection)
    stored = ledger.messages("in", sender, (m.id for m in batch.messages))
    retried: set[str] = set()  # quarantined before, sent again unchanged: tried again
    reg = _Register(uow.connection, division, sender, today)

    checked: list[tuple[RawMessage, MessageType | None, dict[str, str], list[Problem]]] = []
    citizen_ids: set[str] = set()
    refs: set[str] = set()
    for m in batch.messages:
        if m.id in stored:
            if _is_retry(stored[m.id], m):
                retried.add(m.id)
            else:
                checked.append((m, None, {}, []))
                continue
        where = f"{m.file}:{m.line}"
        t = MESSAGE_TYPES.get(m.type)
        if t is None:
            problem = Problem(
                path=f"{where}:type",
                value=m.type[:60],
                message="unknown message type; known: " + ", ".join(MESSAGE_TYPES),
            )
            checked.append((m, None, {}, [problem]))
            continue
        clean, problems = check_payload(t, m.payload, today=today, where=where)
        route = _route_problem(t, sender, division, where)
        if route is not None:
            problems.insert(0, route)
        checked.append((m, t, clean, problems))
        if not problems:
            for f in t.fields:
                if f.rule.value == "citizen_id" and f.name in clean:
                    citizen_ids.add(clean[f.name])
            if "person_ref" in clean:
                refs.add(f"{sender}-{clean['person_ref']}")
    reg.load(citizen_ids, refs)

    outcomes: list[MessageOutcome] = []
    new_rows: list[LedgerMessage] = []
    retried_rows: list[LedgerMessage] = []
    quarantine: list[QuarantinedRow] = []
    replies: list[tuple[str, str, dict[str, str]]] = []
    applied = duplicates = 0
    for m, t, clean, problems in checked:
        where = f"{m.file}:{m.line}"
        previous = stored.get(m.id)
        kept = retried_rows if m.id in retried else new_rows
        if previous is not None and m.id not in retried:
            if previous.payload_hash == m.payload_hash:
                duplicates += 1
                outcomes.append(
                    MessageOutcome(
                        id=m.id,
                        outcome="accepted" if previous.outcome == "applied" else "rejected",
                        reasons=previous.reasons,
                    )
                )
                continue
            conflict = Problem(
                path=f"{where}:id",
                value=m.id,
                message="conflict: this message id was received before with another payload; "
                "the first one stands",
            )
            outcomes.append(MessageOutcome(id=m.id, outcome="rejected", reasons=(str(conflict),)))
            kind = MESSAGE_TYPES[m.type].register_kind if m.type in MESSAGE_TYPES else "persons"
            quarantine.append(
                QuarantinedRow(
                    file=f"exchange:{manifest.batch_id}",
                    line=m.line,
                    kind=kind,
                    raw=_raw(m, sender),
                    problems=(conflict,),
                )
            )
            continue
        changes = _Changes()
        # a problem of the message alone goes back as found (it holds only what the sender
        # sent); a problem found against the register goes back as one of PARTNER_REASONS
        reasons = tuple(str(p) for p in problems)
        if not problems and t is not None:
            try:
                changes = _apply_message(ledger, reg, t, clean, where, m.id)
            except MessageHeld as held:
                problems = list(held.problems) or [
                    Problem(path=where, value="", message=held.reason)
                ]
                reasons = (held.reason,)
        if problems:
            outcomes.append(MessageOutcome(id=m.id, outcome="rejected", reasons=reasons))
            kept.append(
                LedgerMessage(
                    message_id=m.id,
                    message_type=m.type[:40],
                    payload_hash=m.payload_hash,
                    outcome="quarantined",
                    reasons=reasons,
                )
            )
            quarantine.append(
                QuarantinedRow(
                    file=f"exchange:{manifest.batch_id}",
                    line=m.line,
                    kind=t.register_kind if t is not None else "persons",
                    raw=_raw(m, sender),
                    problems=tuple(problems),
                )
            )
            continue
        _commit(reg, changes)
        replies.extend(changes.replies)
        applied += 1
        outcomes.append(MessageOutcome(id=m.id, outcome="accepted"))
        kept.append(
            LedgerMessage(
                message_id=m.id,
                message_type=m.type,
                payload_hash=m.payload_hash,
                outcome="applied",
                subject_id=changes.subject,
            )
        )

    stored_counts: dict[str, tuple[int, int, int]] = {}
    for kind in IMPORT_ORDER:
        rows = list(reg.changed[kind].values())
        if rows:
            summary = uow.upsert_rows(kind, RECORD_KINDS[kind].columns, rows)
            stored_counts[kind] = (summary.inserted, summary.updated, summary.unchanged)
    ledger.insert_messages(
        direction="in",
        partner=sender,
        batch_id=manifest.batch_id,
        messages=new_rows,
        recorded_at=uow.recorded_at,
        uow_id=uow.id,
    )
    fresh_entries = _retried_again(uow, ledger, sender, manifest.batch_id, retried_rows, quarantine)
    if fresh_entries:
        uow.record_quarantine(fresh_entries)
    reply_counts = _queue_replies(ledger, uow, division, replies)
    receipt = Receipt(
        batch_id=manifest.batch_id,
        sender=division,
        receiver=sender,
        status="accepted",
        created_at=uow.recorded_at.replace(microsecond=0),
        messages=tuple(outcomes),
    )
    return ApplyResult(
        receipt=receipt,
        applied=applied,
        quarantined=len(quarantine),
        duplicates=duplicates,
        stored=stored_counts,
        replies=reply_counts,
    )


RESERVED_RAW: Final = frozenset({"message_id", "message_type", "sender"})
"""The keys a quarantined message's raw row holds besides its payload."""


@attrs.frozen(kw_only=True)
class HeldApplied:
    """What applying a held message did.

    Attributes:
        message_id: the message.
        partner: its sender.
        subject: the local person it concerns, or ``""``.
        stored: per register kind, (inserted, updated, unchanged) rows.
        replies: messages queued to send back (a verification answer), by partner.
    """

    message_id: str
    partner: str
    subject: str
    stored: Mapping[str, tuple[int, int, int]]
    replies: Mapping[str, int]


def apply_held(uow: Any, entry: QuarantineEntry, *, division: str, today: dt.date) -> HeldApplied:
    """Apply a message held in the exchange quarantine, as an officer decided.

    The message is checked again as received; the matching rule is set aside (the message's
    version of the person wins, and a verification request is answered though no move is on
    record), but the register's own rules still hold. The ledger then records the message as
    applied (a resend is a duplicate) and the quarantine entry is resolved, in `uow`.

    Args:
        uow: an open `famplan_core.storage.sql.SqlUnitOfWork`.
        entry: the open quarantine entry of a received message.
        division: this deployment's division code.
        today: the date of the processing.

    Raises:
        ExchangeError: the entry is not an open held message, or the message cannot be
            applied even so (a bad field, nobody to apply it to, a rule of the register);
            the error names each problem.
    """
    raw = entry.row.raw
    what = f"quarantine entry {entry.id}"
    if entry.status != "open" or not entry.row.file.startswith("exchange:"):
        raise ExchangeError(f"{what}: not an open message of the exchange ({entry.status})")
    mid, kind, sender = (raw.get(k) or "" for k in ("message_id", "message_type", "sender"))
    payload = {k: v for k, v in raw.items() if k not in RESERVED_RAW and v is not None}
    t = MESSAGE_TYPES.get(kind)
    if t is None:
        raise ExchangeError(f"{what}: unknown message type {kind!r}; discard it")
    ledger = ExchangeLedger(uow.connection)
    stored = ledger.messages("in", sender, [mid]).get(mid)
    if (
        stored is None
        or stored.outcome != "quarantined"
        or stored.payload_hash != payload_hash(kind, payload)
    ):
        raise ExchangeError(
            f"{what}: message {mid} from {sender} is not the one the ledger holds as "
            "quarantined (a conflicting resend, or already applied); discard it"
        )
    where = f"review:{entry.id}"
    clean, problems = check_payload(t, payload, today=today, where=where)
    route = _route_problem(t, sender, division, where)
    if route is not None:
        problems.insert(0, route)
    reg = _Register(uow.connection, division, sender, today, review=True)
    if not problems:
        citizen_ids = {
            clean[f.name] for f in t.fields if f.rule.value == "citizen_id" and f.name in clean
        }
        refs = {f"{sender}-{clean['person_ref']}"} if "person_ref" in clean else set()
        reg.load(citizen_ids, refs)
        try:
            changes = _apply_message(ledger, reg, t, clean, where, mid)
        except MessageHeld as held:
            problems = list(held.problems)
    if problems:
        raise ExchangeError(
            f"{what}: the {kind} message {mid} cannot be applied: "
            + "; ".join(str(p) for p in problems)
        )
    _commit(reg, changes)
    stored_counts: dict[str, tuple[int, int, int]] = {}
    for register_kind in IMPORT_ORDER:
        rows = list(reg.changed[register_kind].values())
        if rows:
            summary = uow.upsert_rows(register_kind, RECORD_KINDS[register_kind].columns, rows)
            stored_counts[register_kind] = (summary.inserted, summary.updated, summary.unchanged)
    replies = _queue_replies(ledger, uow, division, changes.replies)
    ledger.set_outcomes(direction="in", partner=sender, outcomes={mid: ("applied", ())})
    if changes.subject:
        m = exchange_messages.c
        uow.connection.execute(
            exchange_messages.update()
            .where(m.direction == "in", m.partner == sender, m.message_id == mid)
            .values(subject_id=changes.subject)
        )
    uow.resolve_quarantine([entry.id])
    return HeldApplied(
        message_id=mid,
        partner=sender,
        subject=changes.subject,
        stored=stored_counts,
        replies=replies,
    )


def _check_rows(reg: _Register, changes: _Changes, where: str) -> list[Problem]:
    problems: list[Problem] = []
    checked: list[tuple[str, tuple[str, ...]]] = []
    for kind, row in changes.rows:
        normal, found = reg._checkers[kind].check(list(row), where, 0)
        if found:
            for p in found:
                column = p.path.rsplit(":", 1)[-1]
                problems.append(
                    Problem(path=f"{where}:{kind}.{column}", value=p.value, message=p.message)
                )
        checked.append((kind, normal))
    changes.rows = checked
    return problems


def _commit(reg: _Register, changes: _Changes) -> None:
    for kind, row in changes.rows:
        record = RECORD_KINDS[kind]
        key = tuple(row[record.columns.index(c)] for c in record.key)
        reg.changed[kind][key] = row
        if kind == "persons":
            reg._remember(list(row))
        elif kind == "unions":
            reg.unions[(row[0], row[1], row[2])] = list(row)
        elif kind == "hukou_changes":
            pid, date = row[0], row[1]
            history = reg.hukou_history.setdefault(pid, [])
            history[:] = [h for h in history if h[0] != date] + [(date, row[2])]
            if date > reg.latest_hukou.get(pid, ""):
                reg.latest_hukou[pid] = date


def _queue_replies(
    ledger: ExchangeLedger,
    uow: Any,
    division: str,
    replies: Sequence[tuple[str, str, dict[str, str]]],
) -> dict[str, int]:
    by_partner: dict[str, list[Message]] = {}
    for partner, kind, payload in replies:
        by_partner.setdefault(partner, []).append(
            Message.new(sender=division, message_type=kind, payload=payload)
        )
    counts: dict[str, int] = {}
    for partner, messages in by_partner.items():
        known = ledger.messages("out", partner, (m.id for m in messages))
        fresh = list({m.id: m for m in messages if m.id not in known}.values())
        ledger.insert_messages(
            direction="out",
            partner=partner,
            batch_id=None,
            messages=[
                LedgerMessage(
                    message_id=m.id,
                    message_type=m.type,
                    payload_hash=m.payload_hash,
                    outcome="queued",
                    payload=m.payload,
                )
                for m in fresh
            ],
            recorded_at=uow.recorded_at,
            uow_id=uow.id,
        )
        counts[partner] = len(fresh)
    return counts


def _is_retry(previous: StoredMessage, message: RawMessage) -> bool:
    """A message quarantined before and received again unchanged is tried again (its cause
    may have been fixed since); one applied before is a replay, and another payload under
    the same id is a conflict, whatever happened to the first."""
    return previous.outcome == "quarantined" and previous.payload_hash == message.payload_hash


def _retried_again(
    uow: Any,
    ledger: ExchangeLedger,
    sender: str,
    batch_id: str,
    rows: Sequence[LedgerMessage],
    quarantine: list[QuarantinedRow],
) -> list[QuarantinedRow]:
    """Record the outcome of messages tried again; returns the quarantine rows still to add.

    A message applied now closes its open quarantine entries (resolved); one refused again
    keeps its open entry (with the new reasons in the ledger) rather than adding another.
    """
    if not rows:
        return quarantine
    ledger.retried_messages(
        direction="in",
        partner=sender,
        batch_id=batch_id,
        messages=rows,
        recorded_at=uow.recorded_at,
        uow_id=uow.id,
    )
    outcome = {r.message_id: r.outcome for r in rows}
    open_entries: dict[str, list[int]] = {}
    for entry in uow.list_quarantine(status="open"):
        raw = entry.row.raw
        if entry.row.file.startswith("exchange:") and raw.get("sender") == sender:
            mid = raw.get("message_id")
            if mid in outcome:
                open_entries.setdefault(str(mid), []).append(entry.id)
    fixed = [i for mid, ids in open_entries.items() if outcome[mid] == "applied" for i in ids]
    if fixed:
        uow.resolve_quarantine(fixed)
    return [
        q
        for q in quarantine
        if not (q.raw.get("message_id") in outcome and q.raw.get("message_id") in open_entries)
    ]
