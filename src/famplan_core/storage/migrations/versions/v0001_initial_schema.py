"""Initial schema: the versioned register tables, the fact journal, audit, imports, quarantine.

The audit is append-only: a trigger refuses UPDATE and DELETE on it (on PostgreSQL also
TRUNCATE), on both databases.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 10:00:30.668097
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit is append-only: UPDATE refused'); END",
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit is append-only: DELETE refused'); END",
)
_PG_TRIGGERS = (
    "CREATE FUNCTION famplan_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit is append-only: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION famplan_audit_append_only()",
)


def _create_audit_triggers() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_TRIGGERS if sqlite else _PG_TRIGGERS:
        op.execute(statement)


def _drop_audit_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_append_only ON audit")
        op.execute("DROP FUNCTION IF EXISTS famplan_audit_append_only()")


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_table(
        "facts",
        sa.Column(
            "fact_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("uow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=True),
        sa.Column("valid_date", sa.Date(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("fact_id", name=op.f("pk_facts")),
    )
    op.create_table(
        "imports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("uow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_imports_source_digest"), ["source_digest"], unique=False
        )

    op.create_table(
        "certificates",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("certificate_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("holder_id", sa.String(length=200), nullable=False),
        sa.Column("child_id", sa.String(length=200), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_certificates_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_certificates")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index("ix_certificates_holder_id", ["holder_id"], unique=False)
        batch_op.create_index("ix_certificates_key", ["certificate_id", "holder_id"], unique=False)
        batch_op.create_index(
            "uq_certificates_current",
            ["certificate_id", "holder_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "disabilities",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("grade", sa.SmallInteger(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_disabilities_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_disabilities")),
    )
    with op.batch_alter_table("disabilities", schema=None) as batch_op:
        batch_op.create_index("ix_disabilities_key", ["person_id", "valid_from"], unique=False)
        batch_op.create_index(
            "uq_disabilities_current",
            ["person_id", "valid_from"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "enrolments",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("program", sa.String(length=60), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_enrolments_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_enrolments")),
    )
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.create_index("ix_enrolments_key", ["person_id", "program"], unique=False)
        batch_op.create_index(
            "uq_enrolments_current",
            ["person_id", "program"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "households",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("household_id", sa.String(length=200), nullable=False),
        sa.Column("division", sa.String(length=12), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=True),
        sa.Column("head_person_id", sa.String(length=200), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_households_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_households")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index("ix_households_key", ["household_id"], unique=False)
        batch_op.create_index(
            "uq_households_current",
            ["household_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "hukou_changes",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("hukou_division", sa.String(length=12), nullable=False),
        sa.Column("hukou_type", sa.String(length=8), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_hukou_changes_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_hukou_changes")),
    )
    with op.batch_alter_table("hukou_changes", schema=None) as batch_op:
        batch_op.create_index("ix_hukou_changes_key", ["person_id", "date"], unique=False)
        batch_op.create_index(
            "uq_hukou_changes_current",
            ["person_id", "date"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "parent_child",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("parent_id", sa.String(length=200), nullable=False),
        sa.Column("child_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_parent_child_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_parent_child")),
    )
    with op.batch_alter_table("parent_child", schema=None) as batch_op:
        batch_op.create_index("ix_parent_child_child_id", ["child_id"], unique=False)
        batch_op.create_index(
            "ix_parent_child_key", ["parent_id", "child_id", "kind"], unique=False
        )
        batch_op.create_index(
            "uq_parent_child_current",
            ["parent_id", "child_id", "kind"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "persons",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("death_date", sa.Date(), nullable=True),
        sa.Column("ethnicity", sa.String(length=2), nullable=True),
        sa.Column("marital_status", sa.String(length=2), nullable=True),
        sa.Column("hukou_division", sa.String(length=12), nullable=False),
        sa.Column("hukou_type", sa.String(length=8), nullable=False),
        sa.Column("residence_division", sa.String(length=12), nullable=True),
        sa.Column("household_id", sa.String(length=200), nullable=True),
        sa.Column("relation_to_head", sa.String(length=2), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_persons_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_persons")),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index("ix_persons_key", ["person_id"], unique=False)
        batch_op.create_index(
            "uq_persons_current",
            ["person_id"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )

    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("import_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("uow_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("problems", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'discarded', 'resolved')", name=op.f("ck_quarantine_status")
        ),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_quarantine_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_quarantine_status", ["status"], unique=False)

    op.create_table(
        "unions",
        sa.Column(
            "version_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("person_a", sa.String(length=200), nullable=False),
        sa.Column("person_b", sa.String(length=200), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=20), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("fact_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_id"], ["facts.fact_id"], name=op.f("fk_unions_fact_id_facts")
        ),
        sa.PrimaryKeyConstraint("version_id", name=op.f("pk_unions")),
    )
    with op.batch_alter_table("unions", schema=None) as batch_op:
        batch_op.create_index("ix_unions_key", ["person_a", "person_b", "start"], unique=False)
        batch_op.create_index("ix_unions_person_b", ["person_b"], unique=False)
        batch_op.create_index(
            "uq_unions_current",
            ["person_a", "person_b", "start"],
            unique=True,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
    _create_audit_triggers()


def downgrade() -> None:
    """Revert this revision."""
    _drop_audit_triggers()
    with op.batch_alter_table("unions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_unions_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_unions_person_b")
        batch_op.drop_index("ix_unions_key")

    op.drop_table("unions")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_quarantine_status")

    op.drop_table("quarantine")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_persons_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_persons_key")

    op.drop_table("persons")
    with op.batch_alter_table("parent_child", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_parent_child_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_parent_child_key")
        batch_op.drop_index("ix_parent_child_child_id")

    op.drop_table("parent_child")
    with op.batch_alter_table("hukou_changes", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_hukou_changes_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_hukou_changes_key")

    op.drop_table("hukou_changes")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_households_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_households_key")

    op.drop_table("households")
    with op.batch_alter_table("enrolments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_enrolments_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_enrolments_key")

    op.drop_table("enrolments")
    with op.batch_alter_table("disabilities", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_disabilities_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_disabilities_key")

    op.drop_table("disabilities")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certificates_current",
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.drop_index("ix_certificates_key")
        batch_op.drop_index("ix_certificates_holder_id")

    op.drop_table("certificates")
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_imports_source_digest"))

    op.drop_table("imports")
    op.drop_table("facts")
    op.drop_table("audit")
