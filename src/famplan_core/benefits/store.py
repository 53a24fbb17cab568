"""The benefit tables read and written on one connection of the SQL storage (SQLAlchemy Core).

Reads run inside a reader's snapshot or a unit of work; writes only inside a unit of work,
which holds the storage's write lock, so ids are handed out here (``MAX + 1``) as the
register's are.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.tables import audit, facts

__all__ = ["BenefitStore", "Checkpoint", "CurrentEntitlement", "PaidLine"]

_CHUNK = 500
_IRRELEVANT_KINDS = ("enrolments", "households")


@attrs.frozen(kw_only=True)
class Checkpoint:
    """What a run last saw of a month: the register watermark and the parameters digest.

    Attributes:
        run_id: the run.
        month: the month evaluated.
        purpose: ``run`` (the run's own month) or ``arrears`` (a rolled month checked).
        fact_watermark: the highest ``facts.fact_id`` the run saw.
        parameters_digest: see `famplan_core.benefits.decisions.parameters_digest`.
    """

    run_id: int
    month: dt.date
    purpose: str
    fact_watermark: int
    parameters_digest: str


@attrs.frozen(kw_only=True)
class CurrentEntitlement:
    """The current version of a stored decision.

    Attributes:
        entitlement_id: its row.
        run_id: the run that stored it.
        category: the category, or None.
        amount_fen: the monthly amount in fen.
        facts_hash: the SHA-256 of its facts record.
        basis_hash: the basis hash of the program version and parameters it used.
    """

    entitlement_id: int
    run_id: int
    category: str | None
    amount_fen: int
    facts_hash: str
    basis_hash: str


@attrs.frozen(kw_only=True)
class PaidLine:
    """What has been paid (rolled, or pending as arrears) for one person, program and month.

    Attributes:
        amount_fen: the sum in fen.
        category: a category of the lines, or None.
    """

    amount_fen: int
    category: str | None


def _chunks(items: Iterable[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class BenefitStore:
    """The benefit tables on one open connection.

    Args:
        connection: a connection inside a transaction (a reader's or a unit of work's).
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.conn = connection

    # -- the register's state -------------------------------------------------------------

    def last_audit_id(self) -> int:
        """The id of the latest committed unit of work (0 for none)."""
        return int(self.conn.execute(sa.select(sa.func.max(audit.c.id))).scalar() or 0)

    def fact_watermark(self) -> int:
        """The highest fact id of the register's journal (0 for an empty register)."""
        return int(self.conn.execute(sa.select(sa.func.max(facts.c.fact_id))).scalar() or 0)

    def register_changed(self, since: int, month: dt.date) -> bool:
        """Whether a fact recorded after watermark `since` can change the frame of `month`.

        Facts dated after D are ignored on D (R0.1), so a new record whose valid date is
        after D does not count; hukou changes always count (a first change after D makes the
        hukou on D unknown, R0.5), and so does every correction. Enrolments and households
        never enter a frame.

        Args:
            since: the watermark of the checkpoint.
            month: the evaluation date D.
        """
        f = facts.c
        relevant = sa.or_(
            f.payload.is_not(None),
            f.valid_date.is_(None),
            f.valid_date <= month,
            f.record_kind == "hukou_changes",
        )
        query = (
            sa.select(f.fact_id)
            .where(f.fact_id > since, f.record_kind.not_in(_IRRELEVANT_KINDS), relevant)
            .limit(1)
        )
        return self.conn.execute(query).first() is not None

    # -- runs ---------------------------------------------------------------------------

    def checkpoint(self, month: dt.date, purpose: str | None = None) -> Checkpoint | None:
        """The latest checkpoint of `month` (of any purpose, or of the one given).

        Args:
            month: the month.
            purpose: ``run``, ``arrears``, or None for either.
        """
        m = bt.benefit_run_months.c
        query = sa.select(m.run_id, m.purpose, m.fact_watermark, m.parameters_digest).where(
            m.month == month
        )
        if purpose is not None:
            query = query.where(m.purpose == purpose)
        row = self.conn.execute(query.order_by(m.run_id.desc()).limit(1)).first()
        if row is None:
            return None
        return Checkpoint(
            run_id=int(row.run_id),
            month=month,
            purpose=str(row.purpose),
            fact_watermark=int(row.fact_watermark),
            parameters_digest=str(row.parameters_digest),
        )

    def current_entitlements(self, month: dt.date) -> dict[tuple[str, str], CurrentEntitlement]:
        """The current decisions of a month, by (program, person id).

        Args:
            month: the month.
        """
        e, p = bt.entitlements.c, bt.benefit_run_programs.c
        query = (
            sa.select(
                e.entitlement_id,
                e.run_id,
                e.program,
                e.person_id,
                e.category,
                e.amount_fen,
                e.facts_hash,
                p.basis_hash,
            )
            .join_from(
                bt.entitlements,
                bt.benefit_run_programs,
                sa.and_(p.run_id == e.run_id, p.month == e.month, p.program == e.program),
            )
            .where(e.month == month, e.superseded_at.is_(None))
        )
        return {
            (str(r.program), str(r.person_id)): CurrentEntitlement(
                entitlement_id=int(r.entitlement_id),
                run_id=int(r.run_id),
                category=r.category,
                amount_fen=int(r.amount_fen),
                facts_hash=str(r.facts_hash),
                basis_hash=str(r.basis_hash),
            )
            for r in self.conn.execute(query)
        }

    def entitlement_totals(self, month: dt.date) -> dict[str, tuple[int, int]]:
        """Per program: how many current entitlements the month has, and their sum in fen.

        Args:
            month: the month.
        """
        e = bt.entitlements.c
        query = (
            sa.select(e.program, sa.func.count(), sa.func.coalesce(sa.func.sum(e.amount_fen), 0))
            .where(e.month == month, e.superseded_at.is_(None))
            .group_by(e.program)
        )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in self.conn.execute(query)}

    def entitlement_of(self, month: dt.date, program: str, person_id: str) -> dict[str, Any] | None:
        """The current stored decision for one person, program and month, or None.

        Args:
            month: the month.
            program: the program code.
            person_id: the person.
        """
        e = bt.entitlements.c
        row = (
            self.conn.execute(
                sa.select(bt.entitlements).where(
                    e.month == month,
                    e.program == program,
                    e.person_id == person_id,
                    e.superseded_at.is_(None),
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else dict(row)

    # -- rolls and what was paid ------------------------------------------------------------

    def rolled_months(self) -> list[dt.date]:
        """Every month that has a payment roll, oldest first."""
        r = bt.payment_rolls.c
        return [row[0] for row in self.conn.execute(sa.select(r.month).order_by(r.month))]

    def roll_row(self, month: dt.date) -> dict[str, Any] | None:
        """The stored roll of a month, or None.

        Args:
            month: the month.
        """
        r = bt.payment_rolls.c
        row = self.conn.execute(sa.select(bt.payment_rolls).where(r.month == month)).mappings()
        found = row.first()
        return None if found is None else dict(found)

    def roll_lines(self, roll_id: int) -> list[dict[str, Any]]:
        """The lines of a stored roll, in their order.

        Args:
            roll_id: the roll.
        """
        line = bt.payment_roll_lines.c
        query = sa.select(bt.payment_roll_lines).where(line.roll_id == roll_id)
        return [dict(r) for r in self.conn.execute(query.order_by(line.line_id)).mappings()]

    def paid(self, month: dt.date) -> dict[tuple[str, str], PaidLine]:
        """What has been paid for `month`, by (program, person id): the regular lines of its
        roll (not grants) plus every arrears line found for it, rolled or still pending.

        Args:
            month: a rolled month.
        """
        line, a = bt.payment_roll_lines.c, bt.arrears.c
        regular = (
            sa.select(
                line.program,
                line.person_id,
                sa.func.sum(line.amount_fen),
                sa.func.max(line.category),
            )
            .where(line.month == month, line.kind == "regular", line.grant_id.is_(None))
            .group_by(line.program, line.person_id)
        )
        found = (
            sa.select(a.program, a.person_id, sa.func.sum(a.amount_fen), sa.func.max(a.category))
            .where(a.month == month)
            .group_by(a.program, a.person_id)
        )
        paid: dict[tuple[str, str], PaidLine] = {}
        for query in (regular, found):
            for program, person, fen, category in self.conn.execute(query):
                key = (str(program), str(person))
                before = paid.get(key)
                paid[key] = PaidLine(
                    amount_fen=int(fen) + (before.amount_fen if before else 0),
                    category=(before.category if before and before.category else category),
                )
        return paid

    # -- writes -------------------------------------------------------------------------

    def next_id(self, table: sa.Table, column: str) -> int:
        """The next free id of a table's key (inside a unit of work, which holds the lock).

        Args:
            table: the table.
            column: its id column.
        """
        return int(self.conn.execute(sa.select(sa.func.max(table.c[column]))).scalar() or 0) + 1

    def insert(self, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows (executemany, in chunks).

        Args:
            table: the table.
            rows: one mapping per row, every one with the same keys.
        """
        for chunk in _chunks(rows, 10_000):
            self.conn.execute(table.insert(), chunk)

    def supersede(self, entitlement_ids: Sequence[int], at: dt.datetime, run_id: int) -> None:
        """Mark current entitlement versions superseded by a run (never deleted).

        Args:
            entitlement_ids: the versions.
            at: the record time.
            run_id: the run that superseded them.
        """
        e = bt.entitlements.c
        for chunk in _chunks(sorted(entitlement_ids)):
            self.conn.execute(
                sa.update(bt.entitlements)
                .where(e.entitlement_id.in_(chunk), e.superseded_at.is_(None))
                .values(superseded_at=at, superseded_by_run=run_id)
            )
