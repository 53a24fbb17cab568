"""The SQL tables of the exchange ledger (交换台账): batches, messages and the outbox.

They live on the same `MetaData` as the register's tables (`famplan_core.storage.tables`), so
one Alembic history (revision ``0003``) and one schema check cover them. What they hold:

* **exchange_batches**: every batch received (``direction = 'in'``) and sent (``'out'``), by
  (direction, partner, batch id), with the SHA-256 of its manifest. A received batch keeps the
  receipt that went back (a replay of the batch gets the same receipt); a sent batch keeps
  the receipt that came back and its status (``created``, ``acknowledged``, ``rejected``).
  Received batches are ``applied`` (some of their messages may have been quarantined); a
  batch refused whole is not stored at all: every table stays as it was.
* **exchange_messages**: every message received or sent, by (direction, partner, message id),
  with the SHA-256 of its payload, so that a message seen again is recognised (the same
  payload: nothing to do; another payload: a conflict). Its ``outcome`` is ``applied`` or
  ``quarantined`` for a received message, and ``queued`` (waiting for the next export),
  ``sent``, ``accepted`` or ``rejected`` for a sent one. Messages to send keep their payload
  (JSON) until they leave, and after, for the record.
* **exchange_outbox**: each batch or receipt waiting to be sent, or sent, with its files
  (``exchange_outbox_files``), the number of attempts and the last error: a send that fails
  is tried again, so nothing is lost.
"""

from __future__ import annotations

import sqlalchemy as sa

from famplan_core.storage.tables import TEXT_ID, Id, metadata

__all__ = [
    "EXCHANGE_TABLES",
    "exchange_batches",
    "exchange_messages",
    "exchange_outbox",
    "exchange_outbox_files",
]

_Partner = sa.String(12)
_BatchId = sa.String(64)
_Digest = sa.String(64)

exchange_batches = sa.Table(
    "exchange_batches",
    metadata,
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("partner", _Partner, nullable=False),
    sa.Column("batch_id", _BatchId, nullable=False),
    sa.Column("manifest_digest", _Digest, nullable=False),
    sa.Column("format", sa.String(60), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("message_count", sa.Integer(), nullable=False),
    sa.Column("receipt", sa.Text(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("direction", "partner", "batch_id"),
    sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
    sa.CheckConstraint(
        "status IN ('applied', 'created', 'acknowledged', 'rejected')", name="status"
    ),
)
"""One row per batch received or sent; ``receipt`` is JSON."""

exchange_messages = sa.Table(
    "exchange_messages",
    metadata,
    sa.Column("direction", sa.String(3), nullable=False),
    sa.Column("partner", _Partner, nullable=False),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("batch_id", _BatchId, nullable=True),
    sa.Column("message_type", sa.String(40), nullable=False),
    sa.Column("payload_hash", _Digest, nullable=False),
    sa.Column("outcome", sa.String(12), nullable=False),
    sa.Column("reasons", sa.Text(), nullable=True),
    sa.Column("subject_id", sa.String(TEXT_ID), nullable=True),
    sa.Column("payload", sa.Text(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.PrimaryKeyConstraint("direction", "partner", "message_id"),
    sa.CheckConstraint("direction IN ('in', 'out')", name="direction"),
    sa.CheckConstraint(
        "outcome IN ('applied', 'quarantined', 'queued', 'sent', 'accepted', 'rejected')",
        name="outcome",
    ),
    sa.Index("ix_exchange_messages_batch", "direction", "partner", "batch_id"),
    sa.Index("ix_exchange_messages_outcome", "direction", "outcome"),
)
"""One row per message received or sent; ``reasons`` is JSON (a list of problems)."""

exchange_outbox = sa.Table(
    "exchange_outbox",
    metadata,
    sa.Column("outbox_id", Id, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("parcel", sa.String(TEXT_ID), nullable=False),
    sa.Column("batch_id", _BatchId, nullable=False),
    sa.Column("receiver", _Partner, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("sent_at", sa.DateTime(), nullable=True),
    sa.Column("uow_id", Id, nullable=False),
    sa.CheckConstraint("kind IN ('batch', 'receipt')", name="kind"),
    sa.CheckConstraint("status IN ('pending', 'sent')", name="status"),
    sa.Index("ix_exchange_outbox_status", "status"),
)
"""One row per parcel (a batch or a receipt) to send: ``pending`` until a send succeeds."""

exchange_outbox_files = sa.Table(
    "exchange_outbox_files",
    metadata,
    sa.Column("outbox_id", Id, sa.ForeignKey("exchange_outbox.outbox_id"), nullable=False),
    sa.Column("name", sa.String(TEXT_ID), nullable=False),
    sa.Column("content", sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint("outbox_id", "name"),
)
"""The files of each parcel in the outbox, byte for byte as first encoded (a retry sends the
same bytes, with the same checksums)."""

EXCHANGE_TABLES: tuple[sa.Table, ...] = (
    exchange_batches,
    exchange_messages,
    exchange_outbox,
    exchange_outbox_files,
)
"""The exchange tables, in the order they can be created (referenced tables first)."""
