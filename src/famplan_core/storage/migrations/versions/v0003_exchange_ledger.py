"""Exchange ledger: batches and messages in both directions, and the outbox.

The tables of `famplan_core.storage.exchange_tables`: every batch and every message
exchanged with a partner (the province or another township), found by (direction,
partner, id) with the SHA-256 of its payload, and the outbox of batches waiting to be
sent or acknowledged. Downgrade drops them all.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _id(name: str, *, key: bool = False) -> sa.Column[int]:
    return sa.Column(
        name,
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        nullable=False,
        autoincrement=False if key else "auto",
    )


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "exchange_batches",
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("partner", sa.String(length=12), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("manifest_digest", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        _id("uow_id"),
        sa.CheckConstraint(
            "direction IN ('in', 'out')", name=op.f("ck_exchange_batches_direction")
        ),
        sa.CheckConstraint(
            "status IN ('applied', 'created', 'acknowledged', 'rejected')",
            name=op.f("ck_exchange_batches_status"),
        ),
        sa.PrimaryKeyConstraint(
            "direction", "partner", "batch_id", name=op.f("pk_exchange_batches")
        ),
    )
    op.create_table(
        "exchange_messages",
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("partner", sa.String(length=12), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("message_type", sa.String(length=40), nullable=False),
        sa.Column("payload_hash", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        _id("uow_id"),
        sa.CheckConstraint(
            "direction IN ('in', 'out')", name=op.f("ck_exchange_messages_direction")
        ),
        sa.CheckConstraint(
            "outcome IN ('applied', 'quarantined', 'queued', 'sent', 'accepted', 'rejected')",
            name=op.f("ck_exchange_messages_outcome"),
        ),
        sa.PrimaryKeyConstraint(
            "direction", "partner", "message_id", name=op.f("pk_exchange_messages")
        ),
    )
    op.create_index(
        "ix_exchange_messages_batch", "exchange_messages", ["direction", "partner", "batch_id"]
    )
    op.create_index("ix_exchange_messages_outcome", "exchange_messages", ["direction", "outcome"])
    op.create_table(
        "exchange_outbox",
        _id("outbox_id", key=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("parcel", sa.String(length=200), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("receiver", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        _id("uow_id"),
        sa.CheckConstraint("kind IN ('batch', 'receipt')", name=op.f("ck_exchange_outbox_kind")),
        sa.CheckConstraint("status IN ('pending', 'sent')", name=op.f("ck_exchange_outbox_status")),
        sa.PrimaryKeyConstraint("outbox_id", name=op.f("pk_exchange_outbox")),
    )
    op.create_index("ix_exchange_outbox_status", "exchange_outbox", ["status"])
    op.create_table(
        "exchange_outbox_files",
        _id("outbox_id"),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["exchange_outbox.outbox_id"],
            name=op.f("fk_exchange_outbox_files_outbox_id_exchange_outbox"),
        ),
        sa.PrimaryKeyConstraint("outbox_id", "name", name=op.f("pk_exchange_outbox_files")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("exchange_outbox_files")
    op.drop_index("ix_exchange_outbox_status", table_name="exchange_outbox")
    op.drop_table("exchange_outbox")
    op.drop_index("ix_exchange_messages_outcome", table_name="exchange_messages")
    op.drop_index("ix_exchange_messages_batch", table_name="exchange_messages")
    op.drop_table("exchange_messages")
    op.drop_table("exchange_batches")
