"""A keyed, anchored audit: chain versions, and rolls and notices recording their entry.

``audit.chain`` is each entry's chain version: 1 for the entries sealed with an unkeyed
SHA-256 (every entry before this revision), 2 for the entries sealed with HMAC-SHA256 and
the deployment's audit key. ``payment_rolls.audit_hash`` and ``notices.audit_hash`` record
the hash of the audit entry of the unit of work that made the row (its ``uow_id``), so that
deleting the newest audit entries is found; rows made before this revision have none.
Adding columns does not rewrite the audit, so its append-only triggers stay in place.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit is append-only: DELETE refused'); END",
)


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "audit",
        sa.Column("chain", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
    )
    op.create_index("ix_audit_operation", "audit", ["operation"])
    for table in ("payment_rolls", "notices"):
        op.add_column(table, sa.Column("audit_hash", sa.String(length=64), nullable=True))
        op.create_index(f"ix_{table}_uow_id", table, ["uow_id"])


def downgrade() -> None:
    """Revert this revision."""
    for table in ("notices", "payment_rolls"):
        op.drop_index(f"ix_{table}_uow_id", table_name=table)
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("audit_hash")
    op.drop_index("ix_audit_operation", table_name="audit")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite copies the table to drop a column, which would lose its triggers
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    with op.batch_alter_table("audit") as batch_op:
        batch_op.drop_column("chain")
    if sqlite:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
