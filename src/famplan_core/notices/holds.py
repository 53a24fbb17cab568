"""What notices hold back from payment (公示期暂缓发放), as the payment roll consults it.

A beneficiary put on a notice is held from payment until the notice closes; an upheld
objection withdraws or corrects the payment. The benefit service asks `NoticeHolds` about
each line it would pay (`famplan_core.benefits.BenefitService.roll`) and about each
difference it would store as arrears, so that held or withdrawn payments are neither paid
nor paid later through arrears.

The rule for an entitlement of (program, person) for month M: only the lines of notices
not withdrawn, for the same program and person, of month M or earlier, count.

* If any is still ``held`` (its notice is a draft or posted), the payment is **held**.
* Otherwise the lines of the latest month govern: one ``withdrawn`` among them pays
  nothing, for its month and every later one until a notice of a later month releases the
  person; else one ``corrected`` pays the corrected amount for its own month (later months
  follow the register: correct the register as well); else (``released``) the amount.
* Without such a line the amount is paid as the run found it.

A hardship grant follows its own line only: held, released, withdrawn or corrected.

Example:
    >>> holds = NoticeHolds.empty()
    >>> holds.entitlement("rural_reward", "P1", __import__("datetime").date(2026, 11, 1), 8000)
    8000
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import attrs
import sqlalchemy as sa

from famplan_core.storage import notice_tables as nt

__all__ = ["HELD", "NoticeHolds"]

HELD = None
"""What `NoticeHolds.entitlement` and `NoticeHolds.grant` return for a held payment."""


@attrs.frozen(kw_only=True)
class _Line:
    month: dt.date
    notice_id: int
    objection_id: int
    status: str
    corrected_fen: int | None


@attrs.frozen(kw_only=True)
class NoticeHolds:
    """The notice lines that bear on payment, read in one snapshot.

    Attributes:
        lines: per (program, person id), the lines of notices not withdrawn.
        grants: per grant id, its latest line.
    """

    lines: Mapping[tuple[str, str], tuple[_Line, ...]] = attrs.Factory(dict)
    grants: Mapping[int, _Line] = attrs.Factory(dict)

    @classmethod
    def empty(cls) -> NoticeHolds:
        """No notice holds anything."""
        return cls()

    @classmethod
    def load(cls, connection: sa.Connection) -> NoticeHolds:
        """Read the holds on an open connection (a reader's or a unit of work's).

        Args:
            connection: the connection.
        """
        n, line = nt.notices.c, nt.notice_lines.c
        query = (
            sa.select(
                line.program,
                line.person_id,
                line.month,
                line.notice_id,
                line.grant_id,
                line.status,
                line.corrected_fen,
                line.objection_id,
            )
            .join_from(nt.notice_lines, nt.notices, n.notice_id == line.notice_id)
            .where(n.state != "withdrawn")
            .order_by(line.notice_id, line.line_no)
        )
        by_key: dict[tuple[str, str], list[_Line]] = {}
        grants: dict[int, _Line] = {}
        for r in connection.execute(query):
            item = _Line(
                month=r[2],
                notice_id=int(r[3]),
                objection_id=int(r[7] or 0),
                status=str(r[5]),
                corrected_fen=None if r[6] is None else int(r[6]),
            )
            if r[4] is not None:
                grants[int(r[4])] = item
            else:
                by_key.setdefault((str(r[0]), str(r[1])), []).append(item)
        return cls(lines={k: tuple(v) for k, v in by_key.items()}, grants=grants)

    def __bool__(self) -> bool:
        return bool(self.lines) or bool(self.grants)

    def entitlement(
        self, program: str, person_id: str, month: dt.date, amount_fen: int
    ) -> int | None:
        """What to pay for an entitlement: the amount, a corrected one, 0, or None if held.

        Args:
            program: the program code.
            person_id: the beneficiary.
            month: the month of the entitlement.
            amount_fen: the amount the run found.
        """
        found = [x for x in self.lines.get((program, person_id), ()) if x.month <= month]
        if not found:
            return amount_fen
        if any(x.status == "held" for x in found):
            return HELD
        last = max(x.month for x in found)
        governing = [x for x in found if x.month == last]
        if any(x.status == "withdrawn" for x in governing):
            return 0
        corrected = [x for x in governing if x.status == "corrected"]
        if corrected and last == month:
            chosen = max(corrected, key=lambda x: x.objection_id)
            return chosen.corrected_fen if chosen.corrected_fen is not None else amount_fen
        return amount_fen

    def grant(self, grant_id: int, amount_fen: int) -> int | None:
        """What to pay for a hardship grant: the amount, a corrected one, 0, or None if held.

        Args:
            grant_id: the grant.
            amount_fen: the amount granted.
        """
        found = self.grants.get(grant_id)
        if found is None or found.status == "released":
            return amount_fen
        if found.status == "held":
            return HELD
        if found.status == "withdrawn":
            return 0
        return found.corrected_fen if found.corrected_fen is not None else amount_fen

    def held_notices(self, program: str, person_id: str, month: dt.date) -> tuple[int, ...]:
        """The notices holding an entitlement back, for messages.

        Args:
            program: the program code.
            person_id: the beneficiary.
            month: the month.
        """
        return tuple(
            sorted(
                {
                    x.notice_id
                    for x in self.lines.get((program, person_id), ())
                    if x.month <= month and x.status == "held"
                }
            )
        )
