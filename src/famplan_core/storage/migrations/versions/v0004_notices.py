"""Public notices: notices, their lines, objections and publications.

The tables of `famplan_core.storage.notice_tables`: each notice (公示) with its level, scope,
window, state and masked content; the lines that hold entitlements and grants back from the
payment roll while the notice is open; the objections (异议) with their decisions; and the
record of what was published, where and when. Downgrade drops them all.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _id(name: str, *, nullable: bool = False, key: bool = False) -> sa.Column[int]:
    """An id column: BIGINT on PostgreSQL, INTEGER on SQLite; a key gets no autoincrement."""
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if key:
        return sa.Column(name, kind, autoincrement=False, nullable=nullable)
    return sa.Column(name, kind, nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "notices",
        _id("notice_id", key=True),
        _id("uow_id"),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("scope", sa.String(length=12), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column("masking", sa.String(length=60), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("drafted_at", sa.DateTime(), nullable=False),
        sa.Column("drafted_by", sa.String(length=200), nullable=False),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("posted_by", sa.String(length=200), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'posted', 'closed', 'withdrawn')", name=op.f("ck_notices_state")
        ),
        sa.CheckConstraint(
            "level IN ('township', 'village', 'group')", name=op.f("ck_notices_level")
        ),
        sa.CheckConstraint(
            "subject IN ('new_beneficiaries', 'hardship_grants')",
            name=op.f("ck_notices_subject"),
        ),
        sa.CheckConstraint("window_days > 0", name=op.f("ck_notices_window_days")),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_month", "notices", ["month", "subject"])

    op.create_table(
        "notice_lines",
        _id("notice_id"),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        _id("entitlement_id", nullable=True),
        _id("grant_id", nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("corrected_fen", sa.BigInteger(), nullable=True),
        _id("objection_id", nullable=True),
        sa.CheckConstraint(
            "status IN ('held', 'released', 'withdrawn', 'corrected')",
            name=op.f("ck_notice_lines_status"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.notice_id"],
            name=op.f("fk_notice_lines_notice_id_notices"),
        ),
        sa.PrimaryKeyConstraint("notice_id", "line_no", name=op.f("pk_notice_lines")),
    )
    op.create_index("ix_notice_lines_key", "notice_lines", ["program", "person_id"])
    op.create_index("ix_notice_lines_grant_id", "notice_lines", ["grant_id"])

    op.create_table(
        "notice_objections",
        _id("objection_id", key=True),
        _id("notice_id"),
        sa.Column("line_no", sa.Integer(), nullable=True),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("objector", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=True),
        sa.Column("corrected_fen", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "channel IN ('in_person', 'phone', 'box')", name=op.f("ck_notice_objections_channel")
        ),
        sa.CheckConstraint(
            "status IN ('under_review', 'upheld', 'dismissed')",
            name=op.f("ck_notice_objections_status"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.notice_id"],
            name=op.f("fk_notice_objections_notice_id_notices"),
        ),
        sa.PrimaryKeyConstraint("objection_id", name=op.f("pk_notice_objections")),
    )
    op.create_index("ix_notice_objections_notice_id", "notice_objections", ["notice_id"])

    op.create_table(
        "notice_publications",
        _id("publication_id", key=True),
        _id("notice_id"),
        _id("uow_id"),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["notices.notice_id"],
            name=op.f("fk_notice_publications_notice_id_notices"),
        ),
        sa.PrimaryKeyConstraint("publication_id", name=op.f("pk_notice_publications")),
    )
    op.create_index("ix_notice_publications_notice_id", "notice_publications", ["notice_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_notice_publications_notice_id", table_name="notice_publications")
    op.drop_table("notice_publications")
    op.drop_index("ix_notice_objections_notice_id", table_name="notice_objections")
    op.drop_table("notice_objections")
    op.drop_index("ix_notice_lines_grant_id", table_name="notice_lines")
    op.drop_index("ix_notice_lines_key", table_name="notice_lines")
    op.drop_table("notice_lines")
    op.drop_index("ix_notices_month", table_name="notices")
    op.drop_table("notices")
