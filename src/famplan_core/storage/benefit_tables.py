"""The SQL tables of the benefit runs (待遇测算): runs, entitlements, arrears, grants, rolls.

They live on the same `MetaData` as the register's tables (`famplan_core.storage.tables`),
so one Alembic history and one schema check cover both. Like the register, nothing here is
overwritten:

* an **entitlement** (待遇资格) is versioned like a register record: a later run that finds a
  different decision for the same (month, program, person) sets the old version's
  ``superseded_at`` and ``superseded_by_run`` and inserts a new one; the current decisions of
  a month are ``superseded_at IS NULL`` (one per key: ``uq_entitlements_current``);
* a **run** (测算) records the months it evaluated (``benefit_run_months``: the register
  watermark, the highest ``facts.fact_id`` it saw, and a digest of the parameters: a
  checkpoint that lets later runs skip a month nothing has changed) and, per month and
  program, the program version and the parameter values used with their provenance
  (``benefit_run_programs``), which entitlements and arrears reference;
* an **arrears** line (补发/追回) is what a run found due for a month already rolled beyond
  what was rolled (positive: to pay; negative: an overpayment to recover). It is pending
  until a payment roll line takes it (``payment_roll_lines.arrears_id``, unique);
* a **hardship grant** (特困救助金) is decided case by case (R5.1) and taken by the roll of its
  approval month (``payment_roll_lines.grant_id``, unique);
* a **payment roll** (发放花名册) freezes what is paid for a month, one per month, with its lines.

Amounts are integer fen (``amount_fen``), never floats.
"""

from __future__ import annotations

import sqlalchemy as sa

from famplan_core.storage.tables import TEXT_ID, Id, metadata

__all__ = [
    "BENEFIT_TABLES",
    "arrears",
    "benefit_run_months",
    "benefit_run_programs",
    "benefit_runs",
    "entitlements",
    "hardship_grants",
    "payment_roll_lines",
    "payment_rolls",
]

_Fen = sa.BigInteger()
_Program = sa.String(60)
_Category = sa.String(40)
_Digest = sa.String(64)

benefit_runs = sa.Table(
    "benefit_runs",
    metadata,
    sa.Column("run_id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("division", sa.String(12), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.Column("fact_watermark", Id, nullable=False),
    sa.Column("parameters_digest", _Digest, nullable=False),
    sa.Column("summary", sa.Text(), nullable=False),
    sa.Index("ix_benefit_runs_month", "month"),
)
"""One row per stored monthly run: its month, who ran it and when, and its summary (JSON)."""

benefit_run_months = sa.Table(
    "benefit_run_months",
    metadata,
    sa.Column("run_id", Id, sa.ForeignKey("benefit_runs.run_id"), nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("purpose", sa.String(10), nullable=False),
    sa.Column("fact_watermark", Id, nullable=False),
    sa.Column("parameters_digest", _Digest, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "month"),
    sa.CheckConstraint("purpose IN ('run', 'arrears')", name="purpose"),
    sa.Index("ix_benefit_run_months_month", "month", "run_id"),
)
"""Each month a run evaluated: its own month (``run``) or a rolled one (``arrears``)."""

benefit_run_programs = sa.Table(
    "benefit_run_programs",
    metadata,
    sa.Column("run_id", Id, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("program", _Program, nullable=False),
    sa.Column("version", sa.String(40), nullable=False),
    sa.Column("in_force", sa.Boolean(), nullable=False),
    sa.Column("parameters", sa.Text(), nullable=False),
    sa.Column("basis_hash", _Digest, nullable=False),
    sa.PrimaryKeyConstraint("run_id", "month", "program"),
    sa.ForeignKeyConstraint(
        ["run_id", "month"], ["benefit_run_months.run_id", "benefit_run_months.month"]
    ),
)
"""Per run, month and program: the version and the parameter values used (JSON, with
provenance), stored once and referenced by the entitlements and arrears lines."""

entitlements = sa.Table(
    "entitlements",
    metadata,
    sa.Column("entitlement_id", Id, primary_key=True, autoincrement=False),
    sa.Column("run_id", Id, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("program", _Program, nullable=False),
    sa.Column("person_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("certificate_id", sa.String(TEXT_ID), nullable=True),
    sa.Column("category", _Category, nullable=True),
    sa.Column("amount_fen", _Fen, nullable=False),
    sa.Column("facts", sa.Text(), nullable=False),
    sa.Column("facts_hash", _Digest, nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("superseded_at", sa.DateTime(), nullable=True),
    sa.Column("superseded_by_run", Id, sa.ForeignKey("benefit_runs.run_id"), nullable=True),
    sa.ForeignKeyConstraint(
        ["run_id", "month", "program"],
        [
            "benefit_run_programs.run_id",
            "benefit_run_programs.month",
            "benefit_run_programs.program",
        ],
    ),
)
"""One version of one decision: a person entitled under a program for a month (R0.9)."""

sa.Index(
    "uq_entitlements_current",
    entitlements.c.month,
    entitlements.c.program,
    entitlements.c.person_id,
    unique=True,
    sqlite_where=entitlements.c.superseded_at.is_(None),
    postgresql_where=entitlements.c.superseded_at.is_(None),
)
sa.Index(
    "ix_entitlements_key", entitlements.c.month, entitlements.c.program, entitlements.c.person_id
)

arrears = sa.Table(
    "arrears",
    metadata,
    sa.Column("arrears_id", Id, primary_key=True, autoincrement=False),
    sa.Column("run_id", Id, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("program", _Program, nullable=False),
    sa.Column("person_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("category", _Category, nullable=True),
    sa.Column("due_fen", _Fen, nullable=False),
    sa.Column("paid_fen", _Fen, nullable=False),
    sa.Column("amount_fen", _Fen, nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.CheckConstraint("amount_fen <> 0", name="nonzero"),
    sa.ForeignKeyConstraint(
        ["run_id", "month", "program"],
        [
            "benefit_run_programs.run_id",
            "benefit_run_programs.month",
            "benefit_run_programs.program",
        ],
    ),
    sa.Index("ix_arrears_key", "month", "program", "person_id"),
)
"""A difference found for a rolled month: ``due_fen - paid_fen`` (paid: rolled or pending)."""

hardship_grants = sa.Table(
    "hardship_grants",
    metadata,
    sa.Column("grant_id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("household_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("person_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("amount_fen", _Fen, nullable=False),
    sa.Column("approved_on", sa.Date(), nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.CheckConstraint("amount_fen > 0", name="positive"),
    sa.Index("ix_hardship_grants_month", "month"),
)
"""A one-off hardship relief grant to a household (R5.1), paid to its head."""

payment_rolls = sa.Table(
    "payment_rolls",
    metadata,
    sa.Column("roll_id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("run_id", Id, sa.ForeignKey("benefit_runs.run_id"), nullable=False),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.Column("totals", sa.Text(), nullable=False),
    sa.Column("audit_hash", _Digest, nullable=True),
    sa.UniqueConstraint("month"),
    sa.Index("ix_payment_rolls_uow_id", "uow_id"),
)
"""One frozen payment roll per month; ``run_id`` is the run whose entitlements it took.
``audit_hash`` is the hash of the audit entry of the unit of work that made it (``uow_id``),
written when that unit of work commits: an anchor that finds deleted audit entries."""

payment_roll_lines = sa.Table(
    "payment_roll_lines",
    metadata,
    sa.Column("line_id", Id, primary_key=True, autoincrement=False),
    sa.Column("roll_id", Id, sa.ForeignKey("payment_rolls.roll_id"), nullable=False),
    sa.Column("program", _Program, nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("person_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("citizen_id", sa.String(18), nullable=True),
    sa.Column("name", sa.String(TEXT_ID), nullable=True),
    sa.Column("category", _Category, nullable=True),
    sa.Column("amount_fen", _Fen, nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),
    sa.Column("entitlement_id", Id, sa.ForeignKey("entitlements.entitlement_id"), nullable=True),
    sa.Column("arrears_id", Id, sa.ForeignKey("arrears.arrears_id"), nullable=True),
    sa.Column("grant_id", Id, sa.ForeignKey("hardship_grants.grant_id"), nullable=True),
    sa.CheckConstraint("kind IN ('regular', 'arrears')", name="kind"),
    sa.UniqueConstraint("arrears_id"),
    sa.UniqueConstraint("grant_id"),
    sa.Index("ix_payment_roll_lines_roll_id", "roll_id"),
    sa.Index("ix_payment_roll_lines_key", "month", "program", "person_id"),
)
"""One line of a payment roll: ``month`` is the month the line is for; ``kind`` is
``regular`` for the roll's own month (entitlements and grants) or ``arrears``."""

BENEFIT_TABLES: tuple[sa.Table, ...] = (
    benefit_runs,
    benefit_run_months,
    benefit_run_programs,
    entitlements,
    arrears,
    hardship_grants,
    payment_rolls,
    payment_roll_lines,
)
"""The benefit tables, in the order they can be created (referenced tables first)."""
