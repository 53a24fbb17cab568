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
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from famplan_core.errors import Problem
from famplan_core.exchange.batch import (
    DecodedBatch,
    Message,
    MessageOutcome,
    RawMessage,
    Receipt,
    is_township,
)
from famplan_core.exchange.ledger import (
    ExchangeLedger,
    LedgerMessage,
    StoredMessage,
    iter_chunks,
)
from famplan_core.exchange.messages import (
    MESSAGE_TYPES,
    PROGRAMS_NEEDING_DEATHS,
    MessageType,
    Route,
    check_payload,
    minimise,
)
from famplan_core.exchange.reader import _Checker, _Shared
from famplan_core.exchange.register_format import KIND_BY_NAME, MAX_TEXT_LENGTH
from famplan_core.ports import QuarantinedRow
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES

__all__ = ["IMPORT_ORDER", "ApplyResult", "apply_batch", "person_rows", "verification_answer"]

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


class _Bad(Exception):
    """A message cannot be applied: its problems."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("bad message")
        self.problems = tuple(problems)


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
        self, connection: sa.Connection, division: str, sender: str, today: dt.date
    ) -> None:
        self.connection = connection
        self.division = division
        self.sender = sender
        self.persons: dict[str, list[str]] = {}
        self.by_citizen: dict[str, str] = {}
        self.latest_hukou: dict[str, str] = {}
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
            for pid, latest in self.connection.execute(
                sa.select(hukou.c.person_id, sa.func.max(hukou.c.date))
                .where(hukou.c.superseded_at.is_(None), hukou.c.person_id.in_(chunk))
                .group_by(hukou.c.person_id)
            ):
                self.latest_hukou[str(pid)] = _text(latest)
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


def _name_check(reg: _Register, pid: str, name: str, field: str, where: str) -> None:
    stored = reg.persons[pid][_P["name"]]
    if stored and name and stored != name:
        raise _Bad(
            [
                Problem(
                    path=f"{where}:{field}",
                    value=name,
                    message=f"the register holds this ID number under another name ({stored}): "
                    "the message cannot be matched safely",
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


def _apply_birth(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    if not reg.inside(p["hukou_division"]):
        raise _Bad(
            [
                Problem(
                    path=f"{where}:hukou_division",
                    value=p["hukou_division"],
                    message=f"the child's hukou is not in this township ({reg.division})",
                )
            ]
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
    pid = reg.by_citizen.get(p.get("citizen_id", "")) or reg.new_id(p["person_ref"], where)
    row = list(reg.persons.get(pid) or _new_person(pid))
    for name in ("citizen_id", "name", "sex", "birth_date", "hukou_division", "hukou_type"):
        if name in p:
            row[_P[name]] = p[name]
    changes.put("persons", row)
    for parent in parents:
        changes.put("parent_child", (parent, pid, "birth", ""))
    changes.subject = pid


def _apply_death(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    pid = reg.find(p["citizen_id"], "citizen_id", where)
    _name_check(reg, pid, p["name"], "name", where)
    row = list(reg.persons[pid])
    stored = row[_P["death_date"]]
    if stored and stored != p["death_date"]:
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
        pid = reg.by_citizen.get(p["citizen_id"]) or reg.new_id(p["person_ref"], where)
        row = list(reg.persons.get(pid) or _new_person(pid))
        if pid not in reg.persons:
            for name in ("citizen_id", "name", "sex", "birth_date", "ethnicity", "marital_status"):
                row[_P[name]] = p.get(name, "")
            row[_P["hukou_division"]] = p["to_division"]
            row[_P["hukou_type"]] = p["hukou_type"]
            changes.put("hukou_changes", (pid, p["date"], p["to_division"], p["hukou_type"]))
        else:
            _hukou_change(reg, changes, pid, row, p["date"], p["to_division"], p["hukou_type"])
    elif from_in:
        pid = reg.find(p["citizen_id"], "citizen_id", where)
        _name_check(reg, pid, p["name"], "name", where)
        row = list(reg.persons[pid])
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
            ]
        )
    changes.put("persons", row)
    changes.subject = pid


def _spouses(reg: _Register, p: Mapping[str, str], where: str) -> tuple[str, str]:
    problems: list[Problem] = []
    found: list[str] = []
    for side in ("a", "b"):
        try:
            pid = reg.find(p[f"{side}_citizen_id"], f"{side}_citizen_id", where)
            _name_check(reg, pid, p[f"{side}_name"], f"{side}_name", where)
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
    a, b = _spouses(reg, p, where)
    for row in _unions_between(reg, a, b):
        if row[_U["start"]] == p["start"]:
            changes.subject = a
            return
    changes.put("unions", (a, b, p["start"], "", ""))
    changes.subject = a


def _union_start(row: list[str]) -> str:
    return row[_U["start"]]


def _apply_divorce(reg: _Register, p: Mapping[str, str], where: str, changes: _Changes) -> None:
    a, b = _spouses(reg, p, where)
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
    if row[_U["end"]] and (row[_U["end"]] != p["end"] or row[_U["end_reason"]] != "divorce"):
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


def verification_answer(
    connection: sa.Connection,
    *,
    sender: str,
    request_id: str,
    request: Mapping[str, str],
) -> list[tuple[str, dict[str, str]]]:
    """The messages answering a verification request: a reply and one per child.

    The person is found by the ID number and must have the name and birth date asked about;
    each child by a ``birth`` or ``adoptive`` link (R0.4; never ``step``) is described with
    what the requesting program needs: the death date only for a program that counts deaths.

    Args:
        connection: an open connection.
        sender: this deployment (the answer's sender).
        request_id: the request's message id.
        request: the request's checked payload.

    Returns:
        (message type, payload) pairs, the reply first.
    """
    rows = person_rows(connection, citizen_ids=[request["citizen_id"]])
    person = rows[0] if rows else None
    if person is None or person[_P["birth_date"]] != request["birth_date"]:
        reply = {
            "request_id": request_id,
            "citizen_id": request["citizen_id"],
            "found": "no",
            "children": "0",
        }
        return [("verification_reply", minimise("verification_reply", reply))]
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
    with_deaths = request["program"] in PROGRAMS_NEEDING_DEATHS
    answers: list[tuple[str, dict[str, str]]] = []
    for child_id, link, since in found:
        child = children.get(child_id)
        if child is None:
            continue
        values = {
            "request_id": request_id,
            "parent_citizen_id": request["citizen_id"],
            "person_ref": child_id,
            "citizen_id": child[_P["citizen_id"]],
            "name": child[_P["name"]],
            "sex": child[_P["sex"]],
            "birth_date": child[_P["birth_date"]],
            "hukou_division": child[_P["hukou_division"]],
            "hukou_type": child[_P["hukou_type"]],
            "link": link,
            "since": since,
            "death_date": child[_P["death_date"]] if with_deaths else "",
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
            ]
        )
    return sent[1].payload


def _apply_child(
    ledger: ExchangeLedger, reg: _Register, p: Mapping[str, str], where: str, changes: _Changes
) -> None:
    _request_of(ledger, reg, p, where)
    parent = reg.find(p["parent_citizen_id"], "parent_citizen_id", where)
    pid = reg.by_citizen.get(p.get("citizen_id", "")) or reg.new_id(p["person_ref"], where)
    if pid in reg.persons:
        row = list(reg.persons[pid])
        if "death_date" in p and not row[_P["death_date"]]:
            row[_P["death_date"]] = p["death_date"]
    else:
        row = _new_person(pid)
        for name in (
            "citizen_id",
            "name",
            "sex",
            "birth_date",
            "death_date",
            "hukou_division",
            "hukou_type",
        ):
            row[_P[name]] = p.get(name, "")
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
    for kind, payload in verification_answer(
        reg.connection, sender=reg.division, request_id=message_id, request=p
    ):
        changes.replies.append((reg.sender, kind, payload))
    changes.subject = reg.by_citizen.get(p["citizen_id"], "")


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
    raw: dict[str, str | None] = {
        "message_id": message.id,
        "message_type": message.type,
        "sender": sender,
    }
    for key, value in message.payload.items():
        text = (
            value
            if isinstance(value, str) or value is None
            else json.dumps(value, ensure_ascii=False, default=str)
        )
        raw[str(key)[:100]] = None if text is None else text[:1000]
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
    handlers: dict[str, Callable[..., None]] = {
        "birth": _apply_birth,
        "death": _apply_death,
        "hukou_move": _apply_move,
        "marriage": _apply_marriage,
        "divorce": _apply_divorce,
    }
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
        if not problems and t is not None:
            try:
                if t.name in handlers:
                    handlers[t.name](reg, clean, where, changes)
                elif t.name == "verified_child":
                    _apply_child(ledger, reg, clean, where, changes)
                elif t.name == "verification_reply":
                    _apply_reply(ledger, reg, clean, where, changes)
                elif t.name == "verification_request":
                    _apply_request(ledger, reg, clean, where, changes, m.id)
                problems = _check_rows(reg, changes, where)
            except _Bad as bad:
                problems = list(bad.problems)
        if problems:
            reasons = tuple(str(p) for p in problems)
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
