"""What a township sends (发送): messages derived from its register and its payment rolls.

* To another township: ``hukou_move`` for each person whose hukou moved from this township
  into the partner's division (the move as this register recorded it).
* To the province: for each payment roll, ``beneficiary_added`` and ``beneficiary_exited``
  (with the reason) per program, against the previous roll, and ``roll_totals``.

Every message carries only its type's fields (`famplan_core.exchange.messages.minimise`),
and its id comes from its content, so a message already sent is recognised and not sent again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from famplan_core.exchange.batch import Message, is_township
from famplan_core.exchange.inbound import person_rows
from famplan_core.exchange.messages import minimise
from famplan_core.model.money import Money
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.tables import RECORD_KINDS, REGISTER_TABLES

__all__ = ["derived_messages", "move_messages", "roll_messages"]

_P = {name: i for i, name in enumerate(RECORD_KINDS["persons"].columns)}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    if t is not None and t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def move_messages(
    connection: sa.Connection,
    *,
    division: str,
    partner: str,
    since: dt.datetime | None = None,
) -> tuple[list[Message], list[str]]:
    """``hukou_move`` messages for the persons who moved from `division` into `partner`.

    A move is a current hukou change into the partner's division whose previous hukou (the
    change before it) was in this township. A person without an ID number cannot be matched
    by the receiver and is left out with a warning.

    Args:
        connection: an open connection.
        division: this township.
        partner: the township moved to.
        since: only moves recorded at or after this time; None for all.

    Returns:
        The messages, and warnings.
    """
    hukou = REGISTER_TABLES["hukou_changes"]
    query = sa.select(
        hukou.c.person_id, hukou.c.date, hukou.c.hukou_division, hukou.c.hukou_type
    ).where(
        hukou.c.superseded_at.is_(None), hukou.c.hukou_division.startswith(partner, autoescape=True)
    )
    if since is not None:
        query = query.where(hukou.c.recorded_at >= _utc(since))
    moves = [(str(r[0]), _text(r[1]), str(r[2]), str(r[3])) for r in connection.execute(query)]
    if not moves:
        return [], []
    history: dict[str, list[tuple[str, str]]] = {}
    pids = sorted({m[0] for m in moves})
    for start in range(0, len(pids), 2000):
        chunk = pids[start : start + 2000]
        for pid, date, div in connection.execute(
            sa.select(hukou.c.person_id, hukou.c.date, hukou.c.hukou_division).where(
                hukou.c.superseded_at.is_(None), hukou.c.person_id.in_(chunk)
            )
        ):
            history.setdefault(str(pid), []).append((_text(date), str(div)))
    persons = {row[0]: row for row in person_rows(connection, person_ids=pids)}
    messages: list[Message] = []
    warnings: list[str] = []
    for pid, date, to_division, kind in sorted(moves, key=lambda m: (m[1], m[0])):
        earlier = [h for h in history.get(pid, []) if h[0] < date]
        if not earlier:
            continue
        from_division = max(earlier)[1]
        if not from_division.startswith(division):
            continue
        person = persons.get(pid)
        if person is None:
            continue
        if not person[_P["citizen_id"]]:
            warnings.append(
                f"person {pid} moved to {to_division} on {date} but has no ID number: not sent"
            )
            continue
        values = {
            "person_ref": pid,
            "citizen_id": person[_P["citizen_id"]],
            "name": person[_P["name"]],
            "sex": person[_P["sex"]],
            "birth_date": person[_P["birth_date"]],
            "ethnicity": person[_P["ethnicity"]],
            "marital_status": person[_P["marital_status"]],
            "date": date,
            "from_division": from_division,
            "to_division": to_division,
            "hukou_type": kind,
        }
        messages.append(
            Message.new(
                sender=division, message_type="hukou_move", payload=minimise("hukou_move", values)
            )
        )
    return messages, warnings


def _reason(
    person: Sequence[str] | None, d: dt.date, division: str, hukou: tuple[str, str] | None
) -> str:
    if person is None:
        return "conditions"
    death = person[_P["death_date"]]
    if death and death <= d.isoformat():
        return "death"
    where, kind = (
        hukou if hukou is not None else (person[_P["hukou_division"]], person[_P["hukou_type"]])
    )
    if not where.startswith(division):
        return "moved_out"
    if kind == "urban":
        return "hukou_urban"
    return "conditions"


def _month(d: dt.date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def roll_messages(
    connection: sa.Connection,
    *,
    division: str,
    since: dt.datetime | None = None,
) -> list[Message]:
    """The roll changes and totals of every payment roll made at or after `since`.

    For each roll (month M) and program: ``beneficiary_added`` for each person on M's regular
    lines who was not on the previous roll's, ``beneficiary_exited`` for each person on the
    previous roll's who is not on M's, with the reason as the register stands for M's first
    day (death, moved out, urban hukou, or the program's conditions), and ``roll_totals``.

    Args:
        connection: an open connection.
        division: this township.
        since: only rolls recorded at or after this time; None for all.
    """
    rolls_t, lines_t = bt.payment_rolls.c, bt.payment_roll_lines.c
    rolls = [
        (
            int(r[0]),
            r[1] if isinstance(r[1], dt.date) else dt.date.fromisoformat(str(r[1])),
            r[2],
            r[3],
        )
        for r in connection.execute(
            sa.select(rolls_t.roll_id, rolls_t.month, rolls_t.totals, rolls_t.recorded_at).order_by(
                rolls_t.month
            )
        )
    ]
    cutoff = _utc(since)
    messages: list[Message] = []

    def regular(roll_id: int) -> dict[tuple[str, str], dict[str, Any]]:
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for r in connection.execute(
            sa.select(
                lines_t.program,
                lines_t.person_id,
                lines_t.citizen_id,
                lines_t.name,
                lines_t.category,
                lines_t.amount_fen,
            ).where(
                lines_t.roll_id == roll_id,
                lines_t.kind == "regular",
                lines_t.entitlement_id.is_not(None),
            )
        ):
            found[(str(r[0]), str(r[1]))] = {
                "citizen_id": r[2] or "",
                "name": r[3] or "",
                "category": r[4] or "",
                "amount_fen": int(r[5]),
            }
        return found

    previous: dict[tuple[str, str], dict[str, Any]] = {}
    for roll_id, month, totals, recorded_at in rolls:
        current = regular(roll_id)
        if cutoff is None or recorded_at >= cutoff:
            m = _month(month)
            for program, pid in sorted(set(current) - set(previous)):
                line = current[(program, pid)]
                values = {
                    "program": program,
                    "month": m,
                    "citizen_id": line["citizen_id"],
                    "name": line["name"],
                    "category": line["category"],
                    "amount": str(Money(line["amount_fen"])),
                }
                messages.append(
                    Message.new(
                        sender=division,
                        message_type="beneficiary_added",
                        payload=minimise("beneficiary_added", values),
                    )
                )
            gone = sorted(set(previous) - set(current))
            people = {
                r[0]: r for r in person_rows(connection, person_ids={pid for _p, pid in gone})
            }
            hukou = _hukou_on(connection, [pid for _p, pid in gone], month)
            for program, pid in gone:
                line = previous[(program, pid)]
                values = {
                    "program": program,
                    "month": m,
                    "citizen_id": line["citizen_id"],
                    "name": line["name"],
                    "reason": _reason(people.get(pid), month, division, hukou.get(pid)),
                }
                messages.append(
                    Message.new(
                        sender=division,
                        message_type="beneficiary_exited",
                        payload=minimise("beneficiary_exited", values),
                    )
                )
            for total in json.loads(totals):
                values = {
                    "program": total["program"],
                    "month": m,
                    "lines": str(total["lines"]),
                    "amount": str(total["amount"]),
                }
                messages.append(
                    Message.new(
                        sender=division,
                        message_type="roll_totals",
                        payload=minimise("roll_totals", values),
                    )
                )
        previous = current
    return messages


def _hukou_on(
    connection: sa.Connection, pids: Sequence[str], d: dt.date
) -> dict[str, tuple[str, str]]:
    """Each person's hukou on `d` from their latest change dated on or before it (R0.5)."""
    hukou = REGISTER_TABLES["hukou_changes"]
    found: dict[str, tuple[str, str, str]] = {}
    for start in range(0, len(pids), 2000):
        chunk = list(pids[start : start + 2000])
        for pid, date, div, kind in connection.execute(
            sa.select(
                hukou.c.person_id, hukou.c.date, hukou.c.hukou_division, hukou.c.hukou_type
            ).where(
                hukou.c.superseded_at.is_(None), hukou.c.person_id.in_(chunk), hukou.c.date <= d
            )
        ):
            key = str(pid)
            text = _text(date)
            if key not in found or text > found[key][0]:
                found[key] = (text, str(div), str(kind))
    return {pid: (v[1], v[2]) for pid, v in found.items()}


def derived_messages(
    connection: sa.Connection, *, division: str, partner: str, since: dt.datetime | None = None
) -> tuple[list[Message], list[str]]:
    """Every message the register and the rolls give for a partner.

    Args:
        connection: an open connection.
        division: this township.
        partner: a township (moves into it) or the province (roll changes and totals).
        since: only what was recorded at or after this time; None for all.

    Returns:
        The messages and warnings.
    """
    if is_township(partner):
        return move_messages(connection, division=division, partner=partner, since=since)
    return roll_messages(connection, division=division, since=since), []
