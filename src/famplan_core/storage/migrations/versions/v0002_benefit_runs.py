"""Benefit runs: runs and their months and programs, entitlements, arrears, grants, rolls.

The tables of `famplan_core.storage.benefit_tables`: entitlements versioned like the
register (a partial unique index over the current versions), arrears lines, hardship
grants and payment rolls with their lines. Downgrade drops them all, referencing tables
first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CURRENT = sa.text("superseded_at IS NULL")


def _id(name: str, *, nullable: bool = False, key: bool = False) -> sa.Column[int]:
    """An id column: BIGINT on PostgreSQL, INTEGER on SQLite; a key gets no autoincrement."""
    kind = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if key:
        return sa.Column(name, kind, autoincrement=False, nullable=nullable)
    return sa.Column(name, kind, nullable=nullable)


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "benefit_runs",
        _id("run_id", key=True),
        _id("uow_id"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("division", sa.String(length=12), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        _id("fact_watermark"),
        sa.Column("parameters_digest", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_benefit_runs")),
    )
    op.create_index("ix_benefit_runs_month", "benefit_runs", ["month"])

    op.create_table(
        "hardship_grants",
        _id("grant_id", key=True),
        _id("uow_id"),
        sa.Column("household_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.CheckConstraint("amount_fen > 0", name=op.f("ck_hardship_grants_positive")),
        sa.PrimaryKeyConstraint("grant_id", name=op.f("pk_hardship_grants")),
    )
    op.create_index("ix_hardship_grants_month", "hardship_grants", ["month"])

    op.create_table(
        "benefit_run_months",
        _id("run_id"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        _id("fact_watermark"),
        sa.Column("parameters_digest", sa.String(length=64), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('run', 'arrears')", name=op.f("ck_benefit_run_months_purpose")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["benefit_runs.run_id"],
            name=op.f("fk_benefit_run_months_run_id_benefit_runs"),
        ),
        sa.PrimaryKeyConstraint("run_id", "month", name=op.f("pk_benefit_run_months")),
    )
    op.create_index("ix_benefit_run_months_month", "benefit_run_months", ["month", "run_id"])

    op.create_table(
        "payment_rolls",
        _id("roll_id", key=True),
        _id("uow_id"),
        sa.Column("month", sa.Date(), nullable=False),
        _id("run_id"),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("totals", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["benefit_runs.run_id"], name=op.f("fk_payment_rolls_run_id_benefit_runs")
        ),
        sa.PrimaryKeyConstraint("roll_id", name=op.f("pk_payment_rolls")),
        sa.UniqueConstraint("month", name=op.f("uq_payment_rolls_month")),
    )

    op.create_table(
        "benefit_run_programs",
        _id("run_id"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("in_force", sa.Boolean(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("basis_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "month"],
            ["benefit_run_months.run_id", "benefit_run_months.month"],
            name=op.f("fk_benefit_run_programs_run_id_benefit_run_months"),
        ),
        sa.PrimaryKeyConstraint("run_id", "month", "program", name=op.f("pk_benefit_run_programs")),
    )

    op.create_table(
        "arrears",
        _id("arrears_id", key=True),
        _id("run_id"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("amount_fen <> 0", name=op.f("ck_arrears_nonzero")),
        sa.ForeignKeyConstraint(
            ["run_id", "month", "program"],
            [
                "benefit_run_programs.run_id",
                "benefit_run_programs.month",
                "benefit_run_programs.program",
            ],
            name=op.f("fk_arrears_run_id_benefit_run_programs"),
        ),
        sa.PrimaryKeyConstraint("arrears_id", name=op.f("pk_arrears")),
    )
    op.create_index("ix_arrears_key", "arrears", ["month", "program", "person_id"])

    op.create_table(
        "entitlements",
        _id("entitlement_id", key=True),
        _id("run_id"),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("certificate_id", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("facts_hash", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        _id("superseded_by_run", nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id", "month", "program"],
            [
                "benefit_run_programs.run_id",
                "benefit_run_programs.month",
                "benefit_run_programs.program",
            ],
            name=op.f("fk_entitlements_run_id_benefit_run_programs"),
        ),
        sa.ForeignKeyConstraint(
            ["superseded_by_run"],
            ["benefit_runs.run_id"],
            name=op.f("fk_entitlements_superseded_by_run_benefit_runs"),
        ),
        sa.PrimaryKeyConstraint("entitlement_id", name=op.f("pk_entitlements")),
    )
    op.create_index("ix_entitlements_key", "entitlements", ["month", "program", "person_id"])
    op.create_index(
        "uq_entitlements_current",
        "entitlements",
        ["month", "program", "person_id"],
        unique=True,
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )

    op.create_table(
        "payment_roll_lines",
        _id("line_id", key=True),
        _id("roll_id"),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        _id("entitlement_id", nullable=True),
        _id("arrears_id", nullable=True),
        _id("grant_id", nullable=True),
        sa.CheckConstraint(
            "kind IN ('regular', 'arrears')", name=op.f("ck_payment_roll_lines_kind")
        ),
        sa.ForeignKeyConstraint(
            ["arrears_id"],
            ["arrears.arrears_id"],
            name=op.f("fk_payment_roll_lines_arrears_id_arrears"),
        ),
        sa.ForeignKeyConstraint(
            ["entitlement_id"],
            ["entitlements.entitlement_id"],
            name=op.f("fk_payment_roll_lines_entitlement_id_entitlements"),
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["hardship_grants.grant_id"],
            name=op.f("fk_payment_roll_lines_grant_id_hardship_grants"),
        ),
        sa.ForeignKeyConstraint(
            ["roll_id"],
            ["payment_rolls.roll_id"],
            name=op.f("fk_payment_roll_lines_roll_id_payment_rolls"),
        ),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_payment_roll_lines")),
        sa.UniqueConstraint("arrears_id", name=op.f("uq_payment_roll_lines_arrears_id")),
        sa.UniqueConstraint("grant_id", name=op.f("uq_payment_roll_lines_grant_id")),
    )
    op.create_index(
        "ix_payment_roll_lines_key", "payment_roll_lines", ["month", "program", "person_id"]
    )
    op.create_index("ix_payment_roll_lines_roll_id", "payment_roll_lines", ["roll_id"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_payment_roll_lines_roll_id", table_name="payment_roll_lines")
    op.drop_index("ix_payment_roll_lines_key", table_name="payment_roll_lines")
    op.drop_table("payment_roll_lines")
    op.drop_index(
        "uq_entitlements_current",
        table_name="entitlements",
        sqlite_where=_CURRENT,
        postgresql_where=_CURRENT,
    )
    op.drop_index("ix_entitlements_key", table_name="entitlements")
    op.drop_table("entitlements")
    op.drop_index("ix_arrears_key", table_name="arrears")
    op.drop_table("arrears")
    op.drop_table("benefit_run_programs")
    op.drop_table("payment_rolls")
    op.drop_index("ix_benefit_run_months_month", table_name="benefit_run_months")
    op.drop_table("benefit_run_months")
    op.drop_index("ix_hardship_grants_month", table_name="hardship_grants")
    op.drop_table("hardship_grants")
    op.drop_index("ix_benefit_runs_month", table_name="benefit_runs")
    op.drop_table("benefit_runs")
