"""The exchange ledger (交换台账): every message and batch in and out, and the outbox.

`ExchangeLedger` reads and writes the tables of `famplan_core.storage.exchange_tables` on one
connection: inside a unit of work to write (everything a batch does is one transaction with
its audit entry), inside a reader's snapshot to look. Every message is kept by (direction,
partner, message id) with the SHA-256 of its payload:

* a message applied before and seen again with the same payload is a replay: nothing to do
  (its stored outcome goes back in the receipt);
* a message quarantined before and seen again with the same payload is tried again, since
  its cause (e.g. a person missing from the register) may have been fixed: the ledger keeps
  ``quarantined`` apart from ``applied`` for that;
* the same id with another payload is a conflict, refused, whatever the first one's outcome;
* a batch seen again with the same manifest returns the receipt stored for it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from famplan_core.exchange.batch import Parcel, Receipt
from famplan_core.storage import exchange_tables as xt

__all__ = [
    "BatchRecord",
    "ExchangeLedger",
    "LedgerMessage",
    "OutboxEntry",
    "StoredMessage",
    "iter_chunks",
]

_CHUNK = 2000


@attrs.frozen(kw_only=True)
class StoredMessage:
    """A message the ledger already holds.

    Attributes:
        message_id: its id.
        message_type: its type.
        payload_hash: the SHA-256 of its type and payload.
        outcome: ``applied``, ``quarantined``, ``queued``, ``sent``, ``accepted`` or ``rejected``.
        reasons: why it was quarantined or rejected.
        subject_id: the local person it concerns, or ``""``.
        batch_id: the batch it came or went in, or ``""`` while queued.
        payload: the payload, for a message to send.
    """

    message_id: str
    message_type: str
    payload_hash: str
    outcome: str
    reasons: tuple[str, ...]
    subject_id: str
    batch_id: str
    payload: Mapping[str, str]


@attrs.frozen(kw_only=True)
class LedgerMessage:
    """A message to record in the ledger.

    Attributes:
        message_id: its id.
        message_type: its type.
        payload_hash: the SHA-256 of its type and payload.
        outcome: see `StoredMessage`.
        reasons: why it was quarantined or rejected.
        subject_id: the local person it concerns, or ``""``.
        payload: the payload to keep (messages to send), or None.
    """

    message_id: str
    message_type: str
    payload_hash: str
    outcome: str
    reasons: tuple[str, ...] = ()
    subject_id: str = ""
    payload: Mapping[str, str] | None = None


@attrs.frozen(kw_only=True)
class BatchRecord:
    """A batch the ledger holds.

    Attributes:
        direction: ``in`` or ``out``.
        partner: the other side's division code.
        batch_id: the batch's id.
        manifest_digest: the SHA-256 of its manifest.
        format: its format's name.
        status: ``applied`` (in), ``created``, ``acknowledged`` or ``rejected`` (out).
        message_count: how many messages it held.
        receipt: the receipt sent back (in) or received (out), or None.
        recorded_at: when it was recorded.
    """

    direction: str
    partner: str
    batch_id: str
    manifest_digest: str
    format: str
    status: str
    message_count: int
    receipt: Receipt | None
    recorded_at: dt.datetime


@attrs.frozen(kw_only=True)
class OutboxEntry:
    """A parcel in the outbox.

    Attributes:
        outbox_id: its id.
        kind: ``batch`` or ``receipt``.
        parcel: the parcel's name.
        batch_id: the batch it is (or answers).
        receiver: where it goes.
        status: ``pending`` or ``sent``.
        attempts: how many sends were tried.
        last_error: the last send's failure, or ``""``.
        created_at: when it was put in the outbox.
        sent_at: when a send succeeded, or None.
    """

    outbox_id: int
    kind: str
    parcel: str
    batch_id: str
    receiver: str
    status: str
    attempts: int
    last_error: str
    created_at: dt.datetime
    sent_at: dt.datetime | None


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class ExchangeLedger:
    """The exchange tables, read and written on one connection.

    Args:
        connection: an open connection inside its transaction (a unit of work's to write).
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # -- messages ----------------------------------------------------------------------

    def messages(
        self, direction: str, partner: str, ids: Iterable[str]
    ) -> dict[str, StoredMessage]:
        """The stored messages among `ids`, by id.

        Args:
            direction: ``in`` or ``out``.
            partner: the other side.
            ids: message ids to look up.
        """
        m = xt.exchange_messages.c
        found: dict[str, StoredMessage] = {}
        it = iter(dict.fromkeys(ids))
        while chunk := list(itertools.islice(it, _CHUNK)):
            rows = self.connection.execute(
                sa.select(
                    m.message_id,
                    m.message_type,
                    m.payload_hash,
                    m.outcome,
                    m.reasons,
                    m.subject_id,
                    m.batch_id,
                    m.payload,
                ).where(m.direction == direction, m.partner == partner, m.message_id.in_(chunk))
            )
            for row in rows:
                found[row[0]] = _stored(row)
        return found

    def queued(self, partner: str) -> list[StoredMessage]:
        """The messages waiting for the next export to a partner, oldest first.

        Args:
            partner: the receiver.
        """
        m = xt.exchange_messages.c
        rows = self.connection.execute(
            sa.select(
                m.message_id,
                m.message_type,
                m.payload_hash,
                m.outcome,
                m.reasons,
                m.subject_id,
                m.batch_id,
                m.payload,
            )
            .where(m.direction == "out", m.partner == partner, m.outcome == "queued")
            .order_by(m.uow_id, m.message_id)
        )
        return [_stored(row) for row in rows]

    def find_sent(self, message_type: str, message_id: str) -> tuple[str, StoredMessage] | None:
        """A message this deployment sent (to any partner), with its partner.

        Args:
            message_type: its type.
            message_id: its id.
        """
        m = xt.exchange_messages.c
        row = self.connection.execute(
            sa.select(
                m.partner,
                m.message_id,
                m.message_type,
                m.payload_hash,
                m.outcome,
                m.reasons,
                m.subject_id,
                m.batch_id,
                m.payload,
            ).where(
                m.direction == "out", m.message_id == message_id, m.message_type == message_type
            )
        ).first()
        if row is None:
            return None
        return str(row[0]), _stored(row[1:])

    def received_about(self, subject_id: str, message_type: str) -> list[tuple[str, str]]:
        """The (partner, message id) of received messages of a type about a local person.

        Args:
            subject_id: the local person's id.
            message_type: e.g. ``hukou_move``.
        """
        m = xt.exchange_messages.c
        rows = self.connection.execute(
            sa.select(m.partner, m.message_id)
            .where(
                m.direction == "in",
                m.subject_id == subject_id,
                m.message_type == message_type,
                m.outcome == "applied",
            )
            .order_by(m.uow_id)
        )
        return [(str(r[0]), str(r[1])) for r in rows]

    def insert_messages(
        self,
        *,
        direction: str,
        partner: str,
        batch_id: str | None,
        messages: Sequence[LedgerMessage],
        recorded_at: dt.datetime,
        uow_id: int,
    ) -> None:
        """Record messages.

        Args:
            direction: ``in`` or ``out``.
            partner: the other side.
            batch_id: their batch, or None (queued to send).
            messages: the messages, none already stored for (direction, partner).
            recorded_at: the record time.
            uow_id: the unit of work.
        """
        at = _utc(recorded_at)
        for start in range(0, len(messages), 20_000):
            rows = [
                {
                    "direction": direction,
                    "partner": partner,
                    "message_id": msg.message_id,
                    "batch_id": batch_id,
                    "message_type": msg.message_type,
                    "payload_hash": msg.payload_hash,
                    "outcome": msg.outcome,
                    "reasons": _json(list(msg.reasons)) if msg.reasons else None,
                    "subject_id": msg.subject_id or None,
                    "payload": None if msg.payload is None else _json(dict(msg.payload)),
                    "recorded_at": at,
                    "uow_id": uow_id,
                }
                for msg in messages[start : start + 20_000]
            ]
            if rows:
                self.connection.execute(xt.exchange_messages.insert(), rows)

    def retried_messages(
        self,
        *,
        direction: str,
        partner: str,
        batch_id: str,
        messages: Sequence[LedgerMessage],
        recorded_at: dt.datetime,
        uow_id: int,
    ) -> int:
        """Record the new outcome of messages quarantined before and received again.

        Only a message still ``quarantined`` changes (one applied is never touched): it
        takes the new batch, outcome, reasons and subject.

        Args:
            direction: ``in``.
            partner: the sender.
            batch_id: the batch it came again in.
            messages: the messages, each stored before as quarantined.
            recorded_at: the record time.
            uow_id: the unit of work.

        Returns:
            How many messages changed.
        """
        m = xt.exchange_messages
        statement = (
            m.update()
            .where(
                m.c.direction == direction,
                m.c.partner == partner,
                m.c.message_id == sa.bindparam("mid"),
                m.c.outcome == "quarantined",
                m.c.payload_hash == sa.bindparam("hash"),
            )
            .values(
                batch_id=batch_id,
                outcome=sa.bindparam("o"),
                reasons=sa.bindparam("r"),
                subject_id=sa.bindparam("s"),
                recorded_at=_utc(recorded_at),
                uow_id=uow_id,
            )
        )
        params = [
            {
                "mid": msg.message_id,
                "hash": msg.payload_hash,
                "o": msg.outcome,
                "r": _json(list(msg.reasons)) if msg.reasons else None,
                "s": msg.subject_id or None,
            }
            for msg in messages
        ]
        changed = 0
        for start in range(0, len(params), 20_000):
            result = self.connection.execute(statement, params[start : start + 20_000])
            changed += max(result.rowcount, 0)
        return changed

    def set_outcomes(
        self,
        *,
        direction: str,
        partner: str,
        outcomes: Mapping[str, tuple[str, tuple[str, ...]]],
        batch_id: str | None = None,
        in_batch: str | None = None,
    ) -> int:
        """Change the outcome (and reasons) of stored messages.

        Args:
            direction: ``in`` or ``out``.
            partner: the other side.
            outcomes: message id → (outcome, reasons).
            batch_id: also set their batch (queued messages leaving in a batch).
            in_batch: change only messages of this batch (a receipt's); others are left.

        Returns:
            How many messages changed.
        """
        m = xt.exchange_messages
        changed = 0
        values: dict[str, Any] = {"outcome": sa.bindparam("o"), "reasons": sa.bindparam("r")}
        if batch_id is not None:
            values["batch_id"] = batch_id
        statement = m.update().where(
            m.c.direction == direction,
            m.c.partner == partner,
            m.c.message_id == sa.bindparam("mid"),
        )
        if in_batch is not None:
            statement = statement.where(m.c.batch_id == in_batch)
        statement = statement.values(**values)
        params = [
            {"mid": mid, "o": outcome, "r": _json(list(reasons)) if reasons else None}
            for mid, (outcome, reasons) in outcomes.items()
        ]
        for start in range(0, len(params), 20_000):
            result = self.connection.execute(statement, params[start : start + 20_000])
            changed += max(result.rowcount, 0)
        return changed

    # -- batches -----------------------------------------------------------------------

    def batch(self, direction: str, partner: str, batch_id: str) -> BatchRecord | None:
        """A stored batch, or None.

        Args:
            direction: ``in`` or ``out``.
            partner: the other side.
            batch_id: the batch's id.
        """
        b = xt.exchange_batches.c
        row = self.connection.execute(
            sa.select(xt.exchange_batches).where(
                b.direction == direction, b.partner == partner, b.batch_id == batch_id
            )
        ).first()
        return None if row is None else _batch(dict(row._mapping))

    def insert_batch(
        self,
        *,
        direction: str,
        partner: str,
        batch_id: str,
        manifest_digest: str,
        fmt: str,
        status: str,
        message_count: int,
        receipt: Receipt | None,
        recorded_at: dt.datetime,
        uow_id: int,
    ) -> None:
        """Record a batch.

        Args:
            direction: ``in`` or ``out``.
            partner: the other side.
            batch_id: its id.
            manifest_digest: the SHA-256 of its manifest.
            fmt: its format's name.
            status: see `BatchRecord`.
            message_count: how many messages it holds.
            receipt: the receipt sent back, for a received batch.
            recorded_at: the record time.
            uow_id: the unit of work.
        """
        self.connection.execute(
            xt.exchange_batches.insert(),
            [
                {
                    "direction": direction,
                    "partner": partner,
                    "batch_id": batch_id,
                    "manifest_digest": manifest_digest,
                    "format": fmt,
                    "status": status,
                    "message_count": message_count,
                    "receipt": None if receipt is None else receipt.to_json(),
                    "recorded_at": _utc(recorded_at),
                    "uow_id": uow_id,
                }
            ],
        )

    def settle_batch(self, partner: str, batch_id: str, receipt: Receipt) -> None:
        """Record the receipt of a batch this deployment sent.

        Args:
            partner: the batch's receiver.
            batch_id: the batch.
            receipt: its receipt.
        """
        b = xt.exchange_batches
        self.connection.execute(
            b.update()
            .where(b.c.direction == "out", b.c.partner == partner, b.c.batch_id == batch_id)
            .values(
                status="acknowledged" if receipt.status == "accepted" else "rejected",
                receipt=receipt.to_json(),
            )
        )

    def batches(self, *, limit: int = 20) -> list[BatchRecord]:
        """The latest batches in and out, newest first.

        Args:
            limit: how many.
        """
        b = xt.exchange_batches.c
        rows = self.connection.execute(
            sa.select(xt.exchange_batches).order_by(b.uow_id.desc(), b.batch_id.desc()).limit(limit)
        )
        return [_batch(dict(r._mapping)) for r in rows]

    def counts(self) -> dict[str, dict[str, int]]:
        """Message counts by direction and outcome, and batch counts by direction and status."""
        m, b = xt.exchange_messages.c, xt.exchange_batches.c
        result: dict[str, dict[str, int]] = {}
        for direction, outcome, n in self.connection.execute(
            sa.select(m.direction, m.outcome, sa.func.count()).group_by(m.direction, m.outcome)
        ):
            result.setdefault(f"messages_{direction}", {})[outcome] = int(n)
        for direction, status, n in self.connection.execute(
            sa.select(b.direction, b.status, sa.func.count()).group_by(b.direction, b.status)
        ):
            result.setdefault(f"batches_{direction}", {})[status] = int(n)
        return result

    # -- outbox ------------------------------------------------------------------------

    def _next_outbox_id(self) -> int:
        o = xt.exchange_outbox.c
        top = self.connection.execute(sa.select(sa.func.max(o.outbox_id))).scalar()
        return int(top or 0) + 1

    def add_to_outbox(
        self,
        *,
        kind: str,
        parcel: Parcel,
        batch_id: str,
        receiver: str,
        created_at: dt.datetime,
        uow_id: int,
    ) -> int:
        """Put a parcel in the outbox, its files kept byte for byte.

        Args:
            kind: ``batch`` or ``receipt``.
            parcel: the parcel.
            batch_id: the batch it is or answers.
            receiver: where it goes.
            created_at: the record time.
            uow_id: the unit of work.

        Returns:
            The outbox entry's id.
        """
        outbox_id = self._next_outbox_id()
        self.connection.execute(
            xt.exchange_outbox.insert(),
            [
                {
                    "outbox_id": outbox_id,
                    "kind": kind,
                    "parcel": parcel.name,
                    "batch_id": batch_id,
                    "receiver": receiver,
                    "status": "pending",
                    "attempts": 0,
                    "last_error": None,
                    "created_at": _utc(created_at),
                    "sent_at": None,
                    "uow_id": uow_id,
                }
            ],
        )
        self.connection.execute(
            xt.exchange_outbox_files.insert(),
            [
                {"outbox_id": outbox_id, "name": name, "content": data}
                for name, data in sorted(parcel.files.items())
            ],
        )
        return outbox_id

    def outbox(self, *, status: str | None = None) -> list[OutboxEntry]:
        """Outbox entries, oldest first.

        Args:
            status: only ``pending`` or ``sent`` ones; None for all.
        """
        o = xt.exchange_outbox
        query = sa.select(o).order_by(o.c.outbox_id)
        if status is not None:
            query = query.where(o.c.status == status)
        return [
            OutboxEntry(
                outbox_id=int(r.outbox_id),
                kind=r.kind,
                parcel=r.parcel,
                batch_id=r.batch_id,
                receiver=r.receiver,
                status=r.status,
                attempts=int(r.attempts),
                last_error=r.last_error or "",
                created_at=r.created_at,
                sent_at=r.sent_at,
            )
            for r in self.connection.execute(query)
        ]

    def parcel(self, outbox_id: int) -> Parcel:
        """The parcel of an outbox entry, as first encoded.

        Args:
            outbox_id: the entry.
        """
        o, f = xt.exchange_outbox.c, xt.exchange_outbox_files.c
        name = self.connection.execute(
            sa.select(o.parcel).where(o.outbox_id == outbox_id)
        ).scalar_one()
        files = {
            str(r[0]): bytes(r[1])
            for r in self.connection.execute(
                sa.select(f.name, f.content).where(f.outbox_id == outbox_id)
            )
        }
        return Parcel(name=name, files=files)

    def outbox_sent(self, outbox_id: int, at: dt.datetime) -> None:
        """Mark an outbox entry sent.

        Args:
            outbox_id: the entry.
            at: when.
        """
        o = xt.exchange_outbox
        self.connection.execute(
            o.update()
            .where(o.c.outbox_id == outbox_id)
            .values(status="sent", sent_at=_utc(at), attempts=o.c.attempts + 1, last_error=None)
        )

    def outbox_failed(self, outbox_id: int, error: str) -> None:
        """Count a failed send of an outbox entry (it stays pending).

        Args:
            outbox_id: the entry.
            error: what failed.
        """
        o = xt.exchange_outbox
        self.connection.execute(
            o.update()
            .where(o.c.outbox_id == outbox_id)
            .values(attempts=o.c.attempts + 1, last_error=error[:2000])
        )

    def resend(self, batch_ids: Iterable[str]) -> int:
        """Put sent batches back to pending (their receiver never answered).

        Args:
            batch_ids: the batches.

        Returns:
            How many entries.
        """
        o = xt.exchange_outbox
        ids = list(batch_ids)
        if not ids:
            return 0
        result = self.connection.execute(
            o.update()
            .where(o.c.kind == "batch", o.c.status == "sent", o.c.batch_id.in_(ids))
            .values(status="pending")
        )
        return max(result.rowcount, 0)


def _stored(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        message_id=str(row[0]),
        message_type=str(row[1]),
        payload_hash=str(row[2]),
        outcome=str(row[3]),
        reasons=tuple(json.loads(row[4])) if row[4] else (),
        subject_id=row[5] or "",
        batch_id=row[6] or "",
        payload=json.loads(row[7]) if row[7] else {},
    )


def _batch(row: Mapping[str, Any]) -> BatchRecord:
    return BatchRecord(
        direction=row["direction"],
        partner=row["partner"],
        batch_id=row["batch_id"],
        manifest_digest=row["manifest_digest"],
        format=row["format"],
        status=row["status"],
        message_count=int(row["message_count"]),
        receipt=None if row["receipt"] is None else Receipt.from_json(row["receipt"]),
        recorded_at=row["recorded_at"],
    )


def iter_chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    """Successive lists of at most `size` items.

    Args:
        items: the items.
        size: the chunk size.
    """
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk
