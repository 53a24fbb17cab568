"""What the benefit run service returns: runs, rolls, grants, explanations, checks, what-ifs.

Every result is a frozen attrs class with ``as_dict()`` (JSON-ready: dates and months as
ISO text, amounts as yuan text such as ``"80.00"``), which the ``famplan benefits`` commands
print with ``--json``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from famplan_core.benefits.months import month_text
from famplan_core.model.money import Money
from famplan_core.rules import Explanation

__all__ = [
    "ArrearsFound",
    "CompletenessFinding",
    "CompletenessReport",
    "DecisionExplanation",
    "HardshipGrant",
    "PaymentRoll",
    "ProgramChanges",
    "ProgramCompleteness",
    "ProgramTotal",
    "RollLine",
    "RunSummary",
    "StoredDecision",
    "WhatIfChange",
    "WhatIfProgram",
    "WhatIfReport",
    "WhatIfVillage",
]


def _money(fen: int) -> str:
    return str(Money(fen))


def _explained(explanation: Explanation) -> dict[str, Any]:
    """An explanation as data, without its frame row (a position in some frame, not a fact)."""
    document = explanation.as_dict()
    document.pop("row", None)
    return document


@attrs.frozen(kw_only=True)
class ProgramChanges:
    """What a run found for one program in its month, against the stored decisions.

    Attributes:
        program: the program code.
        in_force: whether the program was in force on D (R0.8); None when not evaluated.
        entitled: how many are entitled now.
        total_fen: what they are due, in fen.
        new: entitlements that were not stored.
        ended: stored entitlements no longer due (R0.11).
        changed: stored entitlements whose amount, category, facts or basis changed.
        unchanged: stored entitlements found again as they were.
    """

    program: str
    in_force: bool | None
    entitled: int
    total_fen: int
    new: int = 0
    ended: int = 0
    changed: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data."""
        return {
            "program": self.program,
            "in_force": self.in_force,
            "entitled": self.entitled,
            "total": _money(self.total_fen),
            "new": self.new,
            "ended": self.ended,
            "changed": self.changed,
            "unchanged": self.unchanged,
        }


@attrs.frozen(kw_only=True)
class ArrearsFound:
    """The arrears (补发) and overpayments (追回) a run found for one rolled month and program.

    Attributes:
        month: the month the lines are for.
        program: the program code.
        lines: how many lines.
        arrears_fen: the sum of the positive lines (to pay).
        overpaid_fen: the sum of the negative lines (to recover), as a negative number.
    """

    month: dt.date
    program: str
    lines: int
    arrears_fen: int
    overpaid_fen: int

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "month": month_text(self.month),
            "program": self.program,
            "lines": self.lines,
            "arrears": _money(self.arrears_fen),
            "overpaid": _money(self.overpaid_fen),
        }


@attrs.frozen(kw_only=True)
class RunSummary:
    """What a monthly run did (月度测算).

    Attributes:
        month: the month's evaluation date D.
        run_id: the stored run, or None when nothing was stored.
        stored: whether a run was stored (something changed, or a checkpoint moved on).
        changed: whether any decision changed or any arrears line was found.
        programs: per program, the changes in the run's month.
        arrears: per rolled month and program, the arrears lines found.
        months_checked: the rolled months recomputed for arrears.
        months_current: the rolled months skipped: nothing relevant changed since their check.
        message: one line for people, e.g. "nothing changed".
        warnings: things worth a look (e.g. entitlements of a program no longer registered).
    """

    month: dt.date
    run_id: int | None
    stored: bool
    changed: bool
    programs: tuple[ProgramChanges, ...]
    arrears: tuple[ArrearsFound, ...] = ()
    months_checked: tuple[dt.date, ...] = ()
    months_current: tuple[dt.date, ...] = ()
    message: str = ""
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "month": month_text(self.month),
            "run_id": self.run_id,
            "stored": self.stored,
            "changed": self.changed,
            "message": self.message,
            "programs": [p.as_dict() for p in self.programs],
            "arrears": [a.as_dict() for a in self.arrears],
            "months_checked": [month_text(m) for m in self.months_checked],
            "months_current": [month_text(m) for m in self.months_current],
            "warnings": list(self.warnings),
        }


@attrs.frozen(kw_only=True)
class RollLine:
    """One line of a payment roll (发放明细).

    Attributes:
        program: the program code.
        month: the month the line is for (the roll's own month, or an earlier one).
        person_id: the beneficiary (for a hardship grant, the household head).
        citizen_id: the beneficiary's citizen ID at roll time, or ``""``.
        name: the beneficiary's name at roll time, or ``""``.
        category: the category, or None.
        amount: the amount (negative for an overpayment to recover).
        kind: ``regular`` or ``arrears``.
        source: ``entitlement``, ``grant`` or ``arrears``.
    """

    program: str
    month: dt.date
    person_id: str
    citizen_id: str
    name: str
    category: str | None
    amount: Money
    kind: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "program": self.program,
            "month": month_text(self.month),
            "person_id": self.person_id,
            "citizen_id": self.citizen_id,
            "name": self.name,
            "category": self.category,
            "amount": str(self.amount),
            "kind": self.kind,
            "source": self.source,
        }


@attrs.frozen(kw_only=True)
class ProgramTotal:
    """The lines of one program in a roll, and their sum (合计).

    Attributes:
        program: the program code.
        lines: how many lines.
        amount: their sum, exact to the fen.
    """

    program: str
    lines: int
    amount: Money

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {"program": self.program, "lines": self.lines, "amount": str(self.amount)}


@attrs.frozen(kw_only=True)
class PaymentRoll:
    """The payment roll of a month (发放花名册): frozen once made.

    Attributes:
        month: the month's first day.
        roll_id: the stored roll.
        run_id: the run whose entitlements it pays.
        created: True when this call made it; False when it was made before (unchanged).
        recorded_at: when it was made (UTC).
        actor: who made it.
        lines: the lines, by program, kind, month and person.
        totals: per program, the count and the sum of its lines.
        warnings: e.g. that the register changed after the run it pays.
        audit_entry: the audit entry of the unit of work that made it.
        audit_hash: that entry's hash as the roll recorded it (None for a roll made before
            rolls recorded it): ``famplan audit verify --anchor ENTRY:HASH`` checks that the
            audit still holds it.
    """

    month: dt.date
    roll_id: int
    run_id: int
    created: bool
    recorded_at: dt.datetime
    actor: str
    lines: tuple[RollLine, ...]
    totals: tuple[ProgramTotal, ...]
    warnings: tuple[str, ...] = ()
    audit_entry: int | None = None
    audit_hash: str | None = None

    @property
    def total(self) -> Money:
        """The sum of every line."""
        return Money(sum(line.amount.fen for line in self.lines))

    def as_dict(self, *, lines: bool = True) -> dict[str, Any]:
        """As JSON-ready data.

        Args:
            lines: include the lines (else only the totals).
        """
        document: dict[str, Any] = {
            "month": month_text(self.month),
            "roll_id": self.roll_id,
            "run_id": self.run_id,
            "created": self.created,
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor,
            "totals": [t.as_dict() for t in self.totals],
            "total": str(self.total),
            "line_count": len(self.lines),
            "warnings": list(self.warnings),
            "audit": {"entry": self.audit_entry, "hash": self.audit_hash},
        }
        if lines:
            document["lines"] = [line.as_dict() for line in self.lines]
        return document


@attrs.frozen(kw_only=True)
class HardshipGrant:
    """A hardship relief grant (计划生育特困家庭救助金) as stored (R5.1).

    Attributes:
        grant_id: the stored grant.
        household_id: the household helped.
        person_id: its head, who is paid.
        amount: the amount granted.
        approved_on: the approval date.
        month: the month whose roll takes it (its approval month).
        reason: why it was granted.
        rolled: False; True when the roll of its month was already made, so that the next
            roll takes it as a line for its month.
    """

    grant_id: int
    household_id: str
    person_id: str
    amount: Money
    approved_on: dt.date
    month: dt.date
    reason: str
    rolled: bool = False

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "grant_id": self.grant_id,
            "household_id": self.household_id,
            "person_id": self.person_id,
            "amount": str(self.amount),
            "approved_on": self.approved_on.isoformat(),
            "month": month_text(self.month),
            "reason": self.reason,
            "month_already_rolled": self.rolled,
        }


@attrs.frozen(kw_only=True)
class StoredDecision:
    """The decision a stored run recorded for a person, program and month.

    Attributes:
        entitlement_id: the stored version.
        run_id: the run that stored it.
        category: its category, or None.
        amount: its amount.
        facts_hash: the SHA-256 of its facts record.
        facts: the facts record (JSON text).
    """

    entitlement_id: int
    run_id: int
    category: str | None
    amount: Money
    facts_hash: str
    facts: str

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "entitlement_id": self.entitlement_id,
            "run_id": self.run_id,
            "category": self.category,
            "amount": str(self.amount),
            "facts_hash": self.facts_hash,
        }


@attrs.frozen(kw_only=True)
class DecisionExplanation:
    """Why a person is or is not entitled for a month (R0.9), with the stored decision.

    Attributes:
        explanation: the rules' explanation on the register as it stands now.
        stored: the current stored decision of that month, or None (none stored, or the
            latest run found the person not entitled).
        run_id: the latest run of the month, or None when the month was never run.
        agrees: whether the explanation agrees with the stored decision (same entitlement,
            amount and category); None when the month was never run.
    """

    explanation: Explanation
    stored: StoredDecision | None
    run_id: int | None
    agrees: bool | None

    def as_text(self, lang: str = "zh") -> str:
        """In plain words, with a line about the stored decision.

        Args:
            lang: ``"zh"`` or ``"en"``.
        """
        text = self.explanation.as_text(lang)
        if self.run_id is None:
            return text
        zh = lang == "zh"
        if self.agrees:
            note = (
                f"与第{self.run_id}次测算的存档决定一致。"
                if zh
                else f"Agrees with the decision stored by run {self.run_id}."
            )
        else:
            note = (
                f"与第{self.run_id}次测算的存档决定不一致：登记信息此后有变，请重新测算。"
                if zh
                else f"Differs from the decision stored by run {self.run_id}: the register "
                "changed since; run the month again."
            )
        return f"{text}\n{note}"

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            **_explained(self.explanation),
            "text_zh": self.explanation.as_text("zh"),
            "text_en": self.explanation.as_text("en"),
            "run_id": self.run_id,
            "stored": None if self.stored is None else self.stored.as_dict(),
            "agrees_with_stored": self.agrees,
        }


@attrs.frozen(kw_only=True)
class CompletenessFinding:
    """One person found by the completeness check (应奖尽奖，不错不漏).

    Attributes:
        program: the program code.
        person_id: the person.
        kind: ``omission`` (entitled, not enrolled), ``error`` (enrolled, not entitled) or
            ``category`` (both, but enrolled in another category).
        amount: what the person is due, when entitled.
        category: the category due, when entitled.
        enrolled_since: the enrolment's start, when enrolled.
        enrolled_category: the enrolment's category, when enrolled.
        explanation: why (for an error, its first failing clause says what fails); None
            when the person is not in the register.
    """

    program: str
    person_id: str
    kind: str
    amount: Money | None
    category: str | None
    enrolled_since: dt.date | None
    enrolled_category: str | None
    explanation: Explanation | None

    @property
    def reason(self) -> str:
        """One line: the first failing clause for an error, the amount due otherwise."""
        if self.explanation is None:
            return "not in the register: no such person is stored"
        failing = self.explanation.first_failing
        if failing is not None:
            return failing.as_text("en")
        if self.amount is not None:
            shown = f"{self.amount} a month" + (f" ({self.category})" if self.category else "")
            return f"entitled: {shown}"
        return self.explanation.as_text("en").splitlines()[-1]

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        failing = None if self.explanation is None else self.explanation.first_failing
        return {
            "program": self.program,
            "person_id": self.person_id,
            "kind": self.kind,
            "amount": None if self.amount is None else str(self.amount),
            "category": self.category,
            "enrolled_since": None
            if self.enrolled_since is None
            else self.enrolled_since.isoformat(),
            "enrolled_category": self.enrolled_category,
            "first_failing": None if failing is None else failing.ref,
            "reason": self.reason,
            "explanation": None if self.explanation is None else _explained(self.explanation),
        }


@attrs.frozen(kw_only=True)
class ProgramCompleteness:
    """The completeness of one program's enrolments for a month.

    Attributes:
        program: the program code.
        entitled: how many are entitled.
        enrolled: how many are enrolled for the month (since on or before D).
        omissions: entitled but not enrolled (漏).
        errors: enrolled but not entitled (错).
        category_mismatches: entitled and enrolled, but in another category.
    """

    program: str
    entitled: int
    enrolled: int
    omissions: tuple[CompletenessFinding, ...]
    errors: tuple[CompletenessFinding, ...]
    category_mismatches: tuple[CompletenessFinding, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "program": self.program,
            "entitled": self.entitled,
            "enrolled": self.enrolled,
            "omissions": [f.as_dict() for f in self.omissions],
            "errors": [f.as_dict() for f in self.errors],
            "category_mismatches": [f.as_dict() for f in self.category_mismatches],
        }


@attrs.frozen(kw_only=True)
class CompletenessReport:
    """Enrolments against entitlements for a month, per program (不错不漏).

    Attributes:
        month: the month's first day.
        source: where the entitlements came from: ``run N`` (stored) or ``evaluated``.
        stale: True when the stored run is older than the register's last relevant change.
        programs: per program.
        unknown: (person id, program) of enrolments naming no monthly program of the
            deployment.
    """

    month: dt.date
    source: str
    stale: bool
    programs: tuple[ProgramCompleteness, ...]
    unknown: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "month": month_text(self.month),
            "source": self.source,
            "stale": self.stale,
            "programs": [p.as_dict() for p in self.programs],
            "unknown_enrolments": [{"person_id": p, "program": c} for p, c in self.unknown],
        }


@attrs.frozen(kw_only=True)
class WhatIfProgram:
    """One program before and after a proposed change (政策测算).

    Attributes:
        program: the program code.
        before_count: beneficiaries with the current parameters.
        before_fen: what they are due, in fen.
        after_count: beneficiaries with the proposed parameters.
        after_fen: what they would be due.
        gainers: persons who would get more (including new beneficiaries).
        losers: persons who would get less (including those who would lose it).
    """

    program: str
    before_count: int
    before_fen: int
    after_count: int
    after_fen: int
    gainers: int
    losers: int

    @property
    def cost_fen(self) -> int:
        """The change in monthly cost, in fen (after minus before)."""
        return self.after_fen - self.before_fen

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "program": self.program,
            "before": {"beneficiaries": self.before_count, "amount": _money(self.before_fen)},
            "after": {"beneficiaries": self.after_count, "amount": _money(self.after_fen)},
            "cost_difference": _money(self.cost_fen),
            "gainers": self.gainers,
            "losers": self.losers,
        }


@attrs.frozen(kw_only=True)
class WhatIfVillage:
    """One program in one village (12-digit hukou division on D), before and after.

    Attributes:
        program: the program code.
        village: the 12-digit division code, or ``""`` when unknown.
        before_count: beneficiaries before.
        before_fen: their amount before.
        after_count: beneficiaries after.
        after_fen: their amount after.
    """

    program: str
    village: str
    before_count: int
    before_fen: int
    after_count: int
    after_fen: int

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "program": self.program,
            "village": self.village,
            "before": {"beneficiaries": self.before_count, "amount": _money(self.before_fen)},
            "after": {"beneficiaries": self.after_count, "amount": _money(self.after_fen)},
            "cost_difference": _money(self.after_fen - self.before_fen),
        }


@attrs.frozen(kw_only=True)
class WhatIfChange:
    """One person whose amount would change.

    Attributes:
        program: the program code.
        person_id: the person.
        village: their 12-digit hukou division on D.
        before_fen: the amount now (0 when not entitled).
        after_fen: the amount proposed (0 when not entitled).
    """

    program: str
    person_id: str
    village: str
    before_fen: int
    after_fen: int

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "program": self.program,
            "person_id": self.person_id,
            "village": self.village,
            "before": _money(self.before_fen),
            "after": _money(self.after_fen),
        }


@attrs.frozen(kw_only=True)
class WhatIfReport:
    """A month evaluated with proposed parameter values, nothing stored (政策测算).

    Attributes:
        month: the month's first day.
        proposal: the proposed values, one line each, with their provenance.
        programs: per program, before and after.
        villages: per program and village, before and after.
        people: the persons whose amount would change.
        warnings: e.g. a proposal that does not apply on D.
    """

    month: dt.date
    proposal: tuple[str, ...]
    programs: tuple[WhatIfProgram, ...]
    villages: tuple[WhatIfVillage, ...]
    people: tuple[WhatIfChange, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self, *, people: bool = True) -> dict[str, Any]:
        """As JSON-ready data.

        Args:
            people: include the persons who gain or lose.
        """
        document: dict[str, Any] = {
            "month": month_text(self.month),
            "proposal": list(self.proposal),
            "programs": [p.as_dict() for p in self.programs],
            "villages": [v.as_dict() for v in self.villages],
            "cost_difference": _money(sum(p.cost_fen for p in self.programs)),
            "warnings": list(self.warnings),
        }
        if people:
            document["people"] = [p.as_dict() for p in self.people]
        return document
