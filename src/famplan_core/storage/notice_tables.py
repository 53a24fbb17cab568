"""The SQL tables of public notices (公示): notices, their lines, objections, publications.

They live on the same `MetaData` as the register's tables (`famplan_core.storage.tables`),
so one Alembic history and one schema check cover them:

* a **notice** (公示) is one list posted at one level (township, village or village group)
  for one window; its ``state`` moves draft → posted → closed, or to withdrawn. ``content``
  holds the masked content (JSON) as it is, or was, shown: the only thing renderers see;
* a **notice line** ties one row of a notice to what it holds back: an entitlement or a
  hardship grant. While the notice is open its ``status`` is ``held`` and the payment roll
  leaves it out; an upheld objection makes it ``withdrawn`` or ``corrected``; closing the
  notice makes every line still held ``released``;
* an **objection** (异议) is recorded during the window with who raised it, what it says and
  how it came in; its review ends ``upheld`` or ``dismissed``, with the reason;
* a **publication** records what was shown, where, to whom and when: the content posted
  (its SHA-256 and the content itself) and the digest of every file rendered from it.

Amounts are integer fen, never floats.
"""

from __future__ import annotations

import sqlalchemy as sa

from famplan_core.storage.tables import TEXT_ID, Id, metadata

__all__ = [
    "NOTICE_TABLES",
    "notice_lines",
    "notice_objections",
    "notice_publications",
    "notices",
]

_Fen = sa.BigInteger()
_Digest = sa.String(64)

notices = sa.Table(
    "notices",
    metadata,
    sa.Column("notice_id", Id, primary_key=True, autoincrement=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("subject", sa.String(30), nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("scope", sa.String(12), nullable=False),
    sa.Column("place", sa.String(TEXT_ID), nullable=False),
    sa.Column("state", sa.String(10), nullable=False),
    sa.Column("window_days", sa.Integer(), nullable=False),
    sa.Column("window_start", sa.Date(), nullable=True),
    sa.Column("window_end", sa.Date(), nullable=True),
    sa.Column("masking", sa.String(60), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("content_sha256", _Digest, nullable=False),
    sa.Column("drafted_at", sa.DateTime(), nullable=False),
    sa.Column("drafted_by", sa.String(TEXT_ID), nullable=False),
    sa.Column("posted_at", sa.DateTime(), nullable=True),
    sa.Column("posted_by", sa.String(TEXT_ID), nullable=True),
    sa.Column("closed_on", sa.Date(), nullable=True),
    sa.Column("closed_at", sa.DateTime(), nullable=True),
    sa.Column("closed_by", sa.String(TEXT_ID), nullable=True),
    sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
    sa.Column("withdrawn_by", sa.String(TEXT_ID), nullable=True),
    sa.Column("withdrawn_reason", sa.Text(), nullable=True),
    sa.Column("audit_hash", _Digest, nullable=True),
    sa.CheckConstraint("state IN ('draft', 'posted', 'closed', 'withdrawn')", name="state"),
    sa.CheckConstraint("level IN ('township', 'village', 'group')", name="level"),
    sa.CheckConstraint("subject IN ('new_beneficiaries', 'hardship_grants')", name="subject"),
    sa.CheckConstraint("window_days > 0", name="window_days"),
    sa.Index("ix_notices_month", "month", "subject"),
    sa.Index("ix_notices_uow_id", "uow_id"),
)
"""One notice: what is published, at which level and scope, for which window, in which state.
``audit_hash`` is the hash of the audit entry of the unit of work that drafted it (``uow_id``),
written when that unit of work commits: an anchor that finds deleted audit entries."""

notice_lines = sa.Table(
    "notice_lines",
    metadata,
    sa.Column("notice_id", Id, sa.ForeignKey("notices.notice_id"), nullable=False),
    sa.Column("line_no", sa.Integer(), nullable=False),
    sa.Column("program", sa.String(60), nullable=False),
    sa.Column("month", sa.Date(), nullable=False),
    sa.Column("person_id", sa.String(TEXT_ID), nullable=False),
    sa.Column("entitlement_id", Id, nullable=True),
    sa.Column("grant_id", Id, nullable=True),
    sa.Column("amount_fen", _Fen, nullable=False),
    sa.Column("published", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("corrected_fen", _Fen, nullable=True),
    sa.Column("objection_id", Id, nullable=True),
    sa.PrimaryKeyConstraint("notice_id", "line_no"),
    sa.CheckConstraint("status IN ('held', 'released', 'withdrawn', 'corrected')", name="status"),
    sa.Index("ix_notice_lines_key", "program", "person_id"),
    sa.Index("ix_notice_lines_grant_id", "grant_id"),
)
"""One line of a notice: the entitlement or grant it holds back, and what became of it."""

notice_objections = sa.Table(
    "notice_objections",
    metadata,
    sa.Column("objection_id", Id, primary_key=True, autoincrement=False),
    sa.Column("notice_id", Id, sa.ForeignKey("notices.notice_id"), nullable=False),
    sa.Column("line_no", sa.Integer(), nullable=True),
    sa.Column("received_on", sa.Date(), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("objector", sa.Text(), nullable=False),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("outcome", sa.String(10), nullable=True),
    sa.Column("corrected_fen", _Fen, nullable=True),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.Column("decided_on", sa.Date(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("recorded_by", sa.String(TEXT_ID), nullable=False),
    sa.Column("decided_at", sa.DateTime(), nullable=True),
    sa.Column("decided_by", sa.String(TEXT_ID), nullable=True),
    sa.CheckConstraint("channel IN ('in_person', 'phone', 'box')", name="channel"),
    sa.CheckConstraint("status IN ('under_review', 'upheld', 'dismissed')", name="status"),
    sa.Index("ix_notice_objections_notice_id", "notice_id"),
)
"""An objection (异议) to a notice: who, what, how received, and the decision of its review."""

notice_publications = sa.Table(
    "notice_publications",
    metadata,
    sa.Column("publication_id", Id, primary_key=True, autoincrement=False),
    sa.Column("notice_id", Id, sa.ForeignKey("notices.notice_id"), nullable=False),
    sa.Column("uow_id", Id, nullable=False),
    sa.Column("published_on", sa.Date(), nullable=False),
    sa.Column("level", sa.String(10), nullable=False),
    sa.Column("audience", sa.Text(), nullable=False),
    sa.Column("format", sa.String(20), nullable=False),
    sa.Column("name", sa.String(TEXT_ID), nullable=False),
    sa.Column("sha256", _Digest, nullable=False),
    sa.Column("size", sa.BigInteger(), nullable=False),
    sa.Column("content", sa.Text(), nullable=True),
    sa.Column("recorded_at", sa.DateTime(), nullable=False),
    sa.Column("actor", sa.String(TEXT_ID), nullable=False),
    sa.Index("ix_notice_publications_notice_id", "notice_id"),
)
"""What was shown of a notice, where, to whom and when: the content posted and each file
rendered from it, by SHA-256."""

NOTICE_TABLES: tuple[sa.Table, ...] = (
    notices,
    notice_lines,
    notice_objections,
    notice_publications,
)
"""The notice tables, in the order they can be created (referenced tables first)."""
