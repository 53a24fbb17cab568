"""The office's review of held messages (待审报文): list, show side by side, apply or discard.

A received message that the matching rule holds (`famplan_core.exchange.inbound`) stays in
the exchange quarantine. Only the office sees it: `ExchangeReview.show` sets what the message
says beside what the register holds for each person it names, and an officer's decision,
with its reason, either applies it (`famplan_core.exchange.inbound.apply_held`: the message's
version wins) or discards it. Each decision is one unit of work whose audit entry records the
entry, the message, the decision and the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from famplan_core.errors import ExchangeError, Problem, RecordNotFoundError
from famplan_core.exchange.inbound import (
    MESSAGE_PERSON_COLUMNS,
    RESERVED_RAW,
    HeldApplied,
    apply_held,
    person_rows,
)
from famplan_core.exchange.messages import MESSAGE_TYPES, FieldRule
from famplan_core.ports import QuarantineEntry
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS

__all__ = ["ExchangeReview", "HeldEntry", "Side"]

_PERSON_COLUMNS: tuple[str, ...] = RECORD_KINDS["persons"].columns
_SHOWN = MESSAGE_PERSON_COLUMNS


@attrs.frozen(kw_only=True)
class Side:
    """One person a held message names: the register's values beside the message's.

    Attributes:
        role: which person of the message, e.g. ``subject``, ``mother``, ``a``.
        person_id: the register's person with that ID number, or ``""`` when none.
        fields: (field, register value, message value) for each field either side holds.
    """

    role: str
    person_id: str
    fields: tuple[tuple[str, str, str], ...]

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "role": self.role,
            "person_id": self.person_id,
            "fields": [
                {"field": f, "register": r, "message": m, "agree": not r or not m or r == m}
                for f, r, m in self.fields
            ],
        }


@attrs.frozen(kw_only=True)
class HeldEntry:
    """A received message in the exchange quarantine.

    Attributes:
        id: the quarantine entry's id.
        partner: the sender.
        batch_id: the batch it came in.
        message_id: its id.
        message_type: its type.
        status: ``open``, ``resolved`` (applied) or ``discarded``.
        recorded_at: when it was held.
        problems: every problem found (for the office only).
        message: its payload as received.
        sides: for `ExchangeReview.show`, each person it names side by side; else empty.
    """

    id: int
    partner: str
    batch_id: str
    message_id: str
    message_type: str
    status: str
    recorded_at: dt.datetime
    problems: tuple[Problem, ...]
    message: Mapping[str, str]
    sides: tuple[Side, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "id": self.id,
            "partner": self.partner,
            "batch_id": self.batch_id,
            "message_id": self.message_id,
            "message_type": self.message_type,
            "status": self.status,
            "recorded_at": self.recorded_at.isoformat(),
            "problems": [str(p) for p in self.problems],
            "message": dict(self.message),
            "sides": [s.as_dict() for s in self.sides],
        }


def _held(entry: QuarantineEntry) -> HeldEntry:
    raw = entry.row.raw
    return HeldEntry(
        id=entry.id,
        partner=raw.get("sender") or "",
        batch_id=entry.row.file.removeprefix("exchange:"),
        message_id=raw.get("message_id") or "",
        message_type=raw.get("message_type") or "",
        status=entry.status,
        recorded_at=entry.recorded_at,
        problems=entry.row.problems,
        message={k: v for k, v in raw.items() if k not in RESERVED_RAW and v is not None},
    )


def _roles(message_type: str, payload: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(role, ID field, prefix of the role's fields) for each person a message names."""
    t = MESSAGE_TYPES.get(message_type)
    names = (
        [f.name for f in t.fields if f.rule is FieldRule.CITIZEN_ID]
        if t is not None
        else [k for k in payload if k.endswith("citizen_id")]
    )
    roles: list[tuple[str, str, str]] = []
    for field in names:
        prefix = field.removesuffix("citizen_id")
        role = prefix.rstrip("_") or "subject"
        roles.append((role, field, prefix))
    if "citizen_id" not in names and "person_ref" in payload:
        roles.insert(0, ("subject", "citizen_id", ""))
    return roles


class ExchangeReview:
    """The office's review of the messages the exchange holds.

    Args:
        storage: the SQL storage holding the register, the quarantine and the ledger.
        division: this deployment's division code.
    """

    def __init__(self, storage: SqlStorage, *, division: str) -> None:
        self.storage = storage
        self.division = division

    def entries(self, *, status: str | None = "open") -> list[HeldEntry]:
        """The received messages in quarantine, oldest first.

        Args:
            status: ``open``, ``resolved``, ``discarded``, or None for all.
        """
        with self.storage.reader() as reader:
            entries = reader.list_quarantine(status=status)
        return [_held(e) for e in entries if e.row.file.startswith("exchange:")]

    def _entry(self, reader: Any, entry_id: int) -> QuarantineEntry:
        for entry in reader.list_quarantine(status=None):
            if entry.id == entry_id:
                if not entry.row.file.startswith("exchange:"):
                    raise ExchangeError(
                        f"quarantine entry {entry_id} is a row of a register import, not a "
                        "received message: see `famplan quarantine list`"
                    )
                return entry  # type: ignore[no-any-return]
        raise RecordNotFoundError(f"quarantine entry {entry_id}: no such entry")

    def show(self, entry_id: int) -> HeldEntry:
        """A held message with each person it names: the register's values beside the
        message's.

        Args:
            entry_id: the quarantine entry.

        Raises:
            RecordNotFoundError: no such entry.
            ExchangeError: the entry is not a received message.
        """
        with self.storage.reader() as reader:
            held = _held(self._entry(reader, entry_id))
            roles = _roles(held.message_type, held.message)
            ids = [held.message[f] for _r, f, _p in roles if held.message.get(f)]
            refs = (
                [f"{held.partner}-{held.message['person_ref']}"]
                if "person_ref" in held.message
                else []
            )
            rows = person_rows(reader.connection, citizen_ids=ids, person_ids=refs)
        by_citizen = {r[1]: r for r in rows if r[1]}
        by_id = {r[0]: r for r in rows}
        sides: list[Side] = []
        for role, field, prefix in roles:
            said = held.message.get(field, "")
            row: Sequence[str] | None = by_citizen.get(said) if said else None
            if row is None and role == "subject" and refs:
                row = by_id.get(refs[0])
            stored = dict(zip(_PERSON_COLUMNS, row, strict=True)) if row is not None else {}
            fields: list[tuple[str, str, str]] = []
            for column in _SHOWN:
                message_value = held.message.get(prefix + column, "")
                if role == "subject" and column == "hukou_division" and not message_value:
                    message_value = held.message.get("from_division", "")
                register_value = stored.get(column, "")
                if message_value or (register_value and column in ("name", "birth_date")):
                    fields.append((column, register_value, message_value))
            sides.append(
                Side(role=role, person_id=stored.get("person_id", ""), fields=tuple(fields))
            )
        return attrs.evolve(held, sides=tuple(sides))

    def apply(
        self,
        entry_id: int,
        *,
        reason: str,
        actor: str,
        recorded_at: dt.datetime,
        today: dt.date,
    ) -> HeldApplied:
        """Apply a held message: the officer found the message right.

        Args:
            entry_id: the quarantine entry.
            reason: why, for the audit.
            actor: the officer.
            recorded_at: the record time.
            today: the processing date.

        Raises:
            RecordNotFoundError: no such entry.
            ExchangeError: no reason, the entry is not an open held message, or the message
                cannot be applied even so (each problem named).
        """
        reason = _reason(reason)
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-review"
        ) as uow:
            entry = self._entry(uow, entry_id)
            done = apply_held(uow, entry, division=self.division, today=today)
            uow.audit(
                review={
                    "quarantine_id": entry_id,
                    "message_id": done.message_id,
                    "from": done.partner,
                    "decision": "apply",
                    "reason": reason,
                    "subject": done.subject,
                }
            )
        return done

    def discard(
        self, entry_id: int, *, reason: str, actor: str, recorded_at: dt.datetime
    ) -> HeldEntry:
        """Discard a held message: the officer found the register right.

        Args:
            entry_id: the quarantine entry.
            reason: why, for the audit.
            actor: the officer.
            recorded_at: the record time.

        Raises:
            RecordNotFoundError: no such entry.
            ExchangeError: no reason, or the entry is not an open held message.
        """
        reason = _reason(reason)
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-review"
        ) as uow:
            held = _held(self._entry(uow, entry_id))
            if held.status != "open":
                raise ExchangeError(f"quarantine entry {entry_id} is {held.status}, not open")
            uow.discard_quarantine([entry_id])
            uow.audit(
                review={
                    "quarantine_id": entry_id,
                    "message_id": held.message_id,
                    "from": held.partner,
                    "decision": "discard",
                    "reason": reason,
                }
            )
        return attrs.evolve(held, status="discarded")


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise ExchangeError("--reason: a decision on a held message needs a reason, for the audit")
    return text[:500]
