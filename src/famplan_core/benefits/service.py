"""The benefit run service (待遇发放服务): runs, rolls, arrears, grants, explanations, checks.

`BenefitService` is a deployment's monthly cycle over its SQL storage:

* `BenefitService.run` evaluates every monthly program for a month (R0.1, R0.11, R0.12) and
  stores each entitled decision with its category, amount, program version, parameter values
  and facts record (R0.9). Decisions are versioned like the register: a run records what is
  new, ended and changed against the stored decisions of the month, and supersedes rather
  than overwrites. The same run recomputes every month already rolled whose register or
  parameters changed since it was last checked, and stores the differences from what was
  rolled as arrears lines (spec "Arrears"). A run over an unchanged register and unchanged
  parameters stores nothing and says "nothing changed".
* `BenefitService.roll` freezes the payment roll of a month: its current entitlements, the
  hardship grants approved in it and every pending arrears line for an earlier month.
  Rolling a month again returns the stored roll unchanged.
* `BenefitService.grant` records a hardship relief grant (R5.1), checked against its maximum.
* `BenefitService.explain` says why a person is or is not entitled (R0.9), from a small
  frame of that person's neighbourhood (`famplan_core.benefits.neighbourhood`): milliseconds,
  whatever the size of the register.
* `BenefitService.check` compares the stored enrolments with the entitlements (应奖尽奖，不错
  不漏), and `BenefitService.whatif` evaluates a month with proposed parameter values.

Every write is one unit of work of the storage (operation ``benefits-run``,
``benefits-roll``, ``benefits-grant``) with its audit entry. A run computes outside the
write lock (a county's frames take seconds) and writes only if no other unit of work
committed meanwhile; otherwise it computes again. The core never reads the clock: months,
dates and record times come from the caller.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa

from famplan_core.benefits.decisions import (
    MonthEvaluation,
    ProgramOutcome,
    evaluate_month,
    parameters_digest,
)
from famplan_core.benefits.months import month_of, month_text, parse_month
from famplan_core.benefits.neighbourhood import depth_for, neighbourhood_frame
from famplan_core.benefits.results import (
    ArrearsFound,
    CompletenessFinding,
    CompletenessReport,
    DecisionExplanation,
    HardshipGrant,
    PaymentRoll,
    ProgramChanges,
    ProgramCompleteness,
    ProgramTotal,
    RollLine,
    RunSummary,
    StoredDecision,
    WhatIfReport,
)
from famplan_core.benefits.store import BenefitStore, Checkpoint, CurrentEntitlement, PaidLine
from famplan_core.benefits.whatif import compare, proposed_parameters
from famplan_core.errors import (
    ConcurrencyError,
    DomainError,
    PluginNotFoundError,
    RecordNotFoundError,
    StorageError,
    ValidationError,
)
from famplan_core.model.frame import FactsFrame
from famplan_core.model.money import Money
from famplan_core.programs import validate_grant
from famplan_core.rules import Explanation, ParameterSet, Program, explain
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import REGISTER_TABLES

if TYPE_CHECKING:
    from famplan_core.township import Township

__all__ = ["HARDSHIP_RELIEF", "BenefitService"]

HARDSHIP_RELIEF = "hardship_relief"
"""The program code of one-off hardship relief grants (R5.1)."""

_ATTEMPTS = 3


class _Retry(Exception):
    """Another unit of work committed while a run computed: compute again."""


@attrs.frozen(kw_only=True)
class _Plan:
    """What a run must evaluate, read in one snapshot."""

    token: int
    watermark: int
    evaluate_run: bool
    stale: frozenset[dt.date]
    arrears_months: tuple[dt.date, ...]
    current_months: tuple[dt.date, ...]
    current: dict[tuple[str, str], CurrentEntitlement]
    totals: dict[str, tuple[int, int]]
    paid: dict[dt.date, dict[tuple[str, str], PaidLine]]
    run_checkpoint: Checkpoint | None
    holds: Any = None  # famplan_core.notices.holds.NoticeHolds: payments notices hold back


@attrs.frozen(kw_only=True)
class _Arrears:
    month: dt.date
    program: str
    person_id: str
    category: str | None
    due_fen: int
    paid_fen: int

    @property
    def amount_fen(self) -> int:
        return self.due_fen - self.paid_fen


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class BenefitService:
    """A deployment's benefit runs over its SQL storage (待遇发放服务).

    Args:
        storage: the SQL storage holding the register.
        programs: the deployment's programs by code (national, and any plugin's).
        parameters: the deployment's parameters (national, overlaid by any province's).
        division: the deployment's division code (R0.6).
        on_run: called with the summary after a run was stored (the ``famplan_run_completed``
            hook); None for nothing.
    """

    def __init__(
        self,
        storage: SqlStorage,
        *,
        programs: Mapping[str, Program],
        parameters: ParameterSet,
        division: str,
        on_run: Callable[[RunSummary], None] | None = None,
    ) -> None:
        self.storage = storage
        self.programs: dict[str, Program] = dict(programs)
        self.parameters = parameters
        self.division = division
        self._on_run = on_run

    @classmethod
    def for_township(cls, township: Township) -> BenefitService:
        """The service of an assembled deployment: its storage, programs and parameters.

        Args:
            township: the deployment.

        Raises:
            StorageError: the deployment's storage is not the SQL storage.
        """
        storage = township.storage
        if not isinstance(storage, SqlStorage):
            raise StorageError(
                f"benefit runs need the SQL storage (SQLite or PostgreSQL); the deployment "
                f"uses {type(storage).__name__}"
            )
        plugins = township.plugins
        return cls(
            storage,
            programs=plugins.programs(),
            parameters=plugins.parameter_set(),
            division=township.division,
            on_run=plugins.run_completed,
        )

    # -- programs ------------------------------------------------------------------------

    @property
    def monthly_programs(self) -> tuple[Program, ...]:
        """The programs computed per month, in registration order."""
        return tuple(p for p in self.programs.values() if p.monthly)

    def program(self, code: str) -> Program:
        """The program `code`.

        Args:
            code: the program code, e.g. ``rural_reward``.

        Raises:
            PluginNotFoundError: no program has that code; the message lists those known.
        """
        try:
            return self.programs[code]
        except KeyError:
            raise PluginNotFoundError(
                f"no program is named {code!r}; known programs: {', '.join(self.programs)}"
            ) from None

    def _digest(self) -> str:
        return parameters_digest(self.programs.values(), self.parameters, self.division)

    def _frame(self, d: dt.date) -> FactsFrame:
        return self.storage.facts_frame(d, self.division)

    def _evaluate(self, d: dt.date, *, keep_facts: bool) -> MonthEvaluation:
        return evaluate_month(
            self._frame(d), self.monthly_programs, self.parameters, keep_facts=keep_facts
        )

    # -- runs ----------------------------------------------------------------------------

    def run(
        self,
        month: str | dt.date,
        *,
        actor: str,
        recorded_at: dt.datetime,
        recheck: bool = False,
    ) -> RunSummary:
        """Run a month: evaluate, store what changed, and find arrears for rolled months.

        Args:
            month: the month, ``YYYY-MM`` (any month: a future one is a forecast, R0.12).
            actor: who runs it.
            recorded_at: the record time (the core never reads the clock).
            recheck: evaluate the month even when nothing changed since its last run.

        Returns:
            What changed. When the register and the parameters are as the month's last run
            saw them (and no rolled month needs checking), nothing is evaluated and nothing
            is stored. When they changed but no decision and no arrears did, the run is
            stored with no changes: it records the register state its months were checked
            against (a checkpoint), so that later runs skip them.

        Raises:
            ValidationError: the month is not ``YYYY-MM``.
            ParameterNotFoundError: a parameter has no value on D after its first date.
            ConcurrencyError: other units of work kept committing while the run computed.
        """
        d = parse_month(month)
        digest = self._digest()
        for _attempt in range(_ATTEMPTS):
            plan = self._plan(d, digest, recheck=recheck)
            if not plan.evaluate_run and not plan.arrears_months:
                return self._unchanged(d, plan)
            try:
                return self._run(d, digest, plan, actor=actor, recorded_at=recorded_at)
            except _Retry:
                continue
        raise ConcurrencyError(
            f"run of {month_text(d)}: the register kept changing while the run computed "
            f"({_ATTEMPTS} attempts); run it again when the imports are done"
        )

    def _plan(self, d: dt.date, digest: str, *, recheck: bool) -> _Plan:
        with self.storage.reader() as reader:
            store = BenefitStore(reader.connection)

            def stale(checkpoint: Checkpoint | None, month: dt.date) -> bool:
                return (
                    checkpoint is None
                    or checkpoint.parameters_digest != digest
                    or store.register_changed(checkpoint.fact_watermark, month)
                )

            run_checkpoint = store.checkpoint(d, "run")
            run_stale = stale(run_checkpoint, d)
            evaluate_run = recheck or run_stale
            stale_months = {d} if run_stale else set()
            arrears_months: list[dt.date] = []
            current_months: list[dt.date] = []
            for rolled in store.rolled_months():
                if rolled == d:
                    (arrears_months if evaluate_run else current_months).append(rolled)
                elif stale(store.checkpoint(rolled), rolled):
                    arrears_months.append(rolled)
                    stale_months.add(rolled)
                else:
                    current_months.append(rolled)
            return _Plan(
                token=store.last_audit_id(),
                watermark=store.fact_watermark(),
                evaluate_run=evaluate_run,
                stale=frozenset(stale_months),
                arrears_months=tuple(arrears_months),
                current_months=tuple(current_months),
                current=store.current_entitlements(d) if evaluate_run else {},
                totals={} if evaluate_run else store.entitlement_totals(d),
                paid={m: store.paid(m) for m in arrears_months},
                run_checkpoint=run_checkpoint,
                holds=_notice_holds(reader.connection) if arrears_months else None,
            )

    def _unchanged(self, d: dt.date, plan: _Plan) -> RunSummary:
        checkpoint = plan.run_checkpoint
        programs = []
        for program in self.monthly_programs:
            count, fen = plan.totals.get(program.code, (0, 0))
            programs.append(
                ProgramChanges(
                    program=program.code,
                    in_force=None,
                    entitled=count,
                    total_fen=fen,
                    unchanged=count,
                )
            )
        run = f" (run {checkpoint.run_id})" if checkpoint is not None else ""
        return RunSummary(
            month=d,
            run_id=None,
            stored=False,
            changed=False,
            programs=tuple(programs),
            months_current=plan.current_months,
            message=f"nothing changed: the register and the parameters are as the last run of "
            f"{month_text(d)}{run} saw them; nothing was stored",
        )

    def _run(
        self,
        d: dt.date,
        digest: str,
        plan: _Plan,
        *,
        actor: str,
        recorded_at: dt.datetime,
    ) -> RunSummary:
        outcomes: dict[dt.date, Mapping[str, ProgramOutcome]] = {}
        arrears: list[_Arrears] = []
        evaluation = self._evaluate(d, keep_facts=True) if plan.evaluate_run else None
        if evaluation is not None:
            outcomes[d] = evaluation.outcomes
        changes, inserts, superseded, warnings = self._compare(d, evaluation, plan)
        for rolled in plan.arrears_months:
            checked_month = evaluation if rolled == d else self._evaluate(rolled, keep_facts=False)
            assert checked_month is not None
            arrears.extend(self._arrears(checked_month, plan.paid[rolled], plan.holds))
            outcomes[rolled] = checked_month.outcomes  # the outcomes, not the frame, are kept
        del evaluation
        changed = bool(inserts or superseded or arrears)
        found = _arrears_found(arrears)
        if not changed and not plan.stale:
            return RunSummary(
                month=d,
                run_id=None,
                stored=False,
                changed=False,
                programs=changes,
                months_current=plan.current_months,
                message=f"nothing changed: the decisions of {month_text(d)} are as stored",
                warnings=warnings,
            )
        checked = tuple(m for m in plan.arrears_months if m != d)
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="benefits-run"
        ) as uow:
            if uow.id - 1 != plan.token:
                raise _Retry
            store = BenefitStore(uow.connection)
            run_id = store.next_id(bt.benefit_runs, "run_id")
            message = (
                f"run {run_id} of {month_text(d)}: "
                + ", ".join(
                    f"{sum(getattr(c, k) for c in changes)} {k}"
                    for k in ("new", "ended", "changed", "unchanged")
                )
                + f"; {len(arrears)} arrears line(s)"
            )
            summary = RunSummary(
                month=d,
                run_id=run_id,
                stored=True,
                changed=changed,
                programs=changes,
                arrears=found,
                months_checked=checked,
                months_current=plan.current_months,
                message=message,
                warnings=warnings,
            )
            self._write_run(
                store,
                uow.recorded_at,
                summary,
                plan,
                digest,
                outcomes,
                inserts,
                superseded,
                arrears,
                actor=actor,
                uow_id=uow.id,
            )
            uow.audit(
                month=month_text(d),
                run_id=run_id,
                programs={c.program: [c.new, c.ended, c.changed, c.unchanged] for c in changes},
                arrears_lines=len(arrears),
                months_checked=[month_text(m) for m in checked],
            )
        if self._on_run is not None:
            self._on_run(summary)
        return summary

    def _compare(
        self, d: dt.date, evaluation: MonthEvaluation | None, plan: _Plan
    ) -> tuple[
        tuple[ProgramChanges, ...],
        list[tuple[ProgramOutcome, int]],
        list[int],
        tuple[str, ...],
    ]:
        if evaluation is None:
            return self._unchanged(d, plan).programs, [], [], ()
        current = dict(plan.current)
        changes: list[ProgramChanges] = []
        inserts: list[tuple[ProgramOutcome, int]] = []
        superseded: list[int] = []
        for code, outcome in evaluation.outcomes.items():
            new = changed = unchanged = 0
            for i, person in enumerate(outcome.person_ids):
                stored = current.pop((code, person), None)
                if stored is None:
                    new += 1
                    inserts.append((outcome, i))
                elif (
                    stored.amount_fen != outcome.amounts_fen[i]
                    or stored.category != outcome.categories[i]
                    or stored.facts_hash != outcome.facts_hashes[i]
                    or stored.basis_hash != outcome.basis_hash
                ):
                    changed += 1
                    superseded.append(stored.entitlement_id)
                    inserts.append((outcome, i))
                else:
                    unchanged += 1
            ended = [e for (c, _p), e in current.items() if c == code]
            superseded.extend(e.entitlement_id for e in ended)
            for key in [k for k in current if k[0] == code]:
                del current[key]
            changes.append(
                ProgramChanges(
                    program=code,
                    in_force=outcome.result.in_force,
                    entitled=len(outcome.person_ids),
                    total_fen=sum(outcome.amounts_fen),
                    new=new,
                    ended=len(ended),
                    changed=changed,
                    unchanged=unchanged,
                )
            )
        left: dict[str, int] = {}
        for code, _person in current:
            left[code] = left.get(code, 0) + 1
        warnings = tuple(
            f"program {code} is not a monthly program of this deployment any more: its {count} "
            f"stored entitlement(s) of {month_text(evaluation.month)} are left as they are"
            for code, count in sorted(left.items())
        )
        return tuple(changes), inserts, superseded, warnings

    def _arrears(
        self,
        evaluation: MonthEvaluation,
        paid: Mapping[tuple[str, str], PaidLine],
        holds: Any = None,
    ) -> list[_Arrears]:
        due: dict[tuple[str, str], tuple[int, str | None]] = {}
        for code, outcome in evaluation.outcomes.items():
            for person, fen, category in zip(
                outcome.person_ids, outcome.amounts_fen, outcome.categories, strict=True
            ):
                due[(code, person)] = (fen, category)
        lines = []
        for key in sorted(set(due) | {k for k in paid if k[0] in evaluation.outcomes}):
            due_fen, category = due.get(key, (0, None))
            if holds:
                # A payment a public notice holds back is settled when the notice decides
                # (famplan_core.notices); a withdrawn or corrected one is due as decided.
                decided = holds.entitlement(key[0], key[1], evaluation.month, due_fen)
                if decided is None:
                    continue
                due_fen = decided
            before = paid.get(key)
            paid_fen = before.amount_fen if before is not None else 0
            if due_fen != paid_fen:
                lines.append(
                    _Arrears(
                        month=evaluation.month,
                        program=key[0],
                        person_id=key[1],
                        category=category or (before.category if before else None),
                        due_fen=due_fen,
                        paid_fen=paid_fen,
                    )
                )
        return lines

    def _write_run(
        self,
        store: BenefitStore,
        at: dt.datetime,
        summary: RunSummary,
        plan: _Plan,
        digest: str,
        outcomes: Mapping[dt.date, Mapping[str, ProgramOutcome]],
        inserts: Sequence[tuple[ProgramOutcome, int]],
        superseded: Sequence[int],
        arrears: Sequence[_Arrears],
        *,
        actor: str,
        uow_id: int,
    ) -> None:
        run_id = summary.run_id
        assert run_id is not None
        d = summary.month
        store.insert(
            bt.benefit_runs,
            [
                {
                    "run_id": run_id,
                    "uow_id": uow_id,
                    "month": d,
                    "division": self.division,
                    "recorded_at": at,
                    "actor": actor,
                    "fact_watermark": plan.watermark,
                    "parameters_digest": digest,
                    "summary": _json(summary.as_dict()),
                }
            ],
        )
        store.insert(
            bt.benefit_run_months,
            [
                {
                    "run_id": run_id,
                    "month": month,
                    "purpose": "run" if month == d else "arrears",
                    "fact_watermark": plan.watermark,
                    "parameters_digest": digest,
                }
                for month in sorted(outcomes)
            ],
        )
        store.insert(
            bt.benefit_run_programs,
            [
                {
                    "run_id": run_id,
                    "month": month,
                    "program": code,
                    "version": outcome.program.version,
                    "in_force": outcome.result.in_force,
                    "parameters": outcome.parameters_json,
                    "basis_hash": outcome.basis_hash,
                }
                for month, by_code in sorted(outcomes.items())
                for code, outcome in by_code.items()
            ],
        )
        store.supersede(superseded, at, run_id)
        first = store.next_id(bt.entitlements, "entitlement_id")
        store.insert(
            bt.entitlements,
            [
                {
                    "entitlement_id": first + n,
                    "run_id": run_id,
                    "month": d,
                    "program": outcome.program.code,
                    "person_id": outcome.person_ids[i],
                    "certificate_id": (
                        outcome.certificate_ids[i] if outcome.certificate_ids is not None else None
                    ),
                    "category": outcome.categories[i],
                    "amount_fen": outcome.amounts_fen[i],
                    "facts": outcome.facts[i],
                    "facts_hash": outcome.facts_hashes[i],
                    "recorded_at": at,
                    "superseded_at": None,
                    "superseded_by_run": None,
                }
                for n, (outcome, i) in enumerate(inserts)
            ],
        )
        first = store.next_id(bt.arrears, "arrears_id")
        store.insert(
            bt.arrears,
            [
                {
                    "arrears_id": first + n,
                    "run_id": run_id,
                    "month": line.month,
                    "program": line.program,
                    "person_id": line.person_id,
                    "category": line.category,
                    "due_fen": line.due_fen,
                    "paid_fen": line.paid_fen,
                    "amount_fen": line.amount_fen,
                    "recorded_at": at,
                }
                for n, line in enumerate(arrears)
            ],
        )

    # -- rolls ---------------------------------------------------------------------------

    def roll(self, month: str | dt.date, *, actor: str, recorded_at: dt.datetime) -> PaymentRoll:
        """Make the payment roll of a month, or return it unchanged when it was made before.

        Regular lines are the month's current entitlements (a run of the month is needed
        first) and the hardship grants approved in it; arrears lines are every pending
        arrears line for an earlier month, and any grant of an earlier month not yet rolled.
        Entitlements and grants a public notice holds back (famplan_core.notices: its window
        is open, or an upheld objection withdrew or corrected them) are left out or paid as
        decided; the roll's warnings say how many are held.

        Args:
            month: the month, ``YYYY-MM``.
            actor: who makes it.
            recorded_at: the record time.

        Raises:
            ValidationError: the month is not ``YYYY-MM``.
            DomainError: the month was never run.
        """
        d = parse_month(month)
        with self.storage.reader() as reader:
            store = BenefitStore(reader.connection)
            stored = store.roll_row(d)
            if stored is not None:
                return self._stored_roll(store, stored, created=False)
        made: int | None = None
        try:
            with self.storage.unit_of_work(
                actor=actor, recorded_at=recorded_at, operation="benefits-roll"
            ) as uow:
                store = BenefitStore(uow.connection)
                if store.roll_row(d) is not None:
                    raise _Retry  # made meanwhile: nothing to write
                checkpoint = store.checkpoint(d, "run")
                if checkpoint is None:
                    raise DomainError(
                        f"no run of {month_text(d)} is stored: run `famplan benefits run "
                        f"--month {month_text(d)}` first (a roll pays a run's entitlements)"
                    )
                lines = self._roll_lines(store, d)
                totals = _totals(lines, self.programs)
                roll_id = store.next_id(bt.payment_rolls, "roll_id")
                store.insert(
                    bt.payment_rolls,
                    [
                        {
                            "roll_id": roll_id,
                            "uow_id": uow.id,
                            "month": d,
                            "run_id": checkpoint.run_id,
                            "recorded_at": uow.recorded_at,
                            "actor": actor,
                            "totals": _json([t.as_dict() for t in totals]),
                        }
                    ],
                )
                first = store.next_id(bt.payment_roll_lines, "line_id")
                store.insert(
                    bt.payment_roll_lines,
                    [
                        {"line_id": first + n, "roll_id": roll_id, **row}
                        for n, row in enumerate(lines)
                    ],
                )
                uow.audit(
                    month=month_text(d),
                    roll_id=roll_id,
                    run_id=checkpoint.run_id,
                    lines=len(lines),
                    totals={t.program: [t.lines, str(t.amount)] for t in totals},
                )
                made = roll_id
        except _Retry:
            pass
        with self.storage.reader() as reader:
            store = BenefitStore(reader.connection)
            stored = store.roll_row(d)
            assert stored is not None
            return self._stored_roll(store, stored, created=made == stored["roll_id"])

    def _roll_lines(self, store: BenefitStore, d: dt.date) -> list[dict[str, Any]]:
        persons = REGISTER_TABLES["persons"]
        e, g, a = bt.entitlements.c, bt.hardship_grants.c, bt.arrears.c
        taken = bt.payment_roll_lines.c

        def with_person(query: sa.Select[Any], person: sa.ColumnElement[Any]) -> sa.Select[Any]:
            return query.outerjoin(
                persons,
                sa.and_(persons.c.person_id == person, persons.c.superseded_at.is_(None)),
            )

        lines: list[dict[str, Any]] = []
        holds = _notice_holds(store.conn)
        regular = with_person(
            sa.select(
                e.entitlement_id,
                e.program,
                e.person_id,
                persons.c.citizen_id,
                persons.c.name,
                e.category,
                e.amount_fen,
            ).select_from(bt.entitlements),
            e.person_id,
        ).where(e.month == d, e.superseded_at.is_(None))
        for row in store.conn.execute(regular).mappings():
            pay = holds.entitlement(row["program"], row["person_id"], d, int(row["amount_fen"]))
            if not pay:  # held while a public notice is open (None), or withdrawn (0)
                continue
            lines.append(
                _line(
                    {**row, "amount_fen": pay},
                    d,
                    "regular",
                    entitlement_id=row["entitlement_id"],
                    program=row["program"],
                )
            )
        grants = with_person(
            sa.select(
                g.grant_id, g.month, g.person_id, persons.c.citizen_id, persons.c.name, g.amount_fen
            ).select_from(bt.hardship_grants),
            g.person_id,
        ).where(g.month <= d, ~sa.exists().where(taken.grant_id == g.grant_id))
        for row in store.conn.execute(grants).mappings():
            pay = holds.grant(int(row["grant_id"]), int(row["amount_fen"]))
            if not pay:  # held (a later roll takes it once released), or withdrawn
                continue
            kind = "regular" if row["month"] == d else "arrears"
            lines.append(
                _line(
                    {**row, "category": "grant", "amount_fen": pay},
                    row["month"],
                    kind,
                    grant_id=row["grant_id"],
                    program=HARDSHIP_RELIEF,
                )
            )
        pending = with_person(
            sa.select(
                a.arrears_id,
                a.program,
                a.month,
                a.person_id,
                persons.c.citizen_id,
                persons.c.name,
                a.category,
                a.amount_fen,
            ).select_from(bt.arrears),
            a.person_id,
        ).where(a.month < d, ~sa.exists().where(taken.arrears_id == a.arrears_id))
        for row in store.conn.execute(pending).mappings():
            lines.append(
                _line(
                    dict(row),
                    row["month"],
                    "arrears",
                    arrears_id=row["arrears_id"],
                    program=row["program"],
                )
            )
        order = {code: i for i, code in enumerate(self.programs)}
        lines.sort(
            key=lambda line: (
                order.get(line["program"], len(order)),
                line["program"],
                line["kind"] != "regular",
                line["month"],
                line["person_id"],
            )
        )
        return lines

    def _stored_roll(
        self, store: BenefitStore, row: Mapping[str, Any], *, created: bool
    ) -> PaymentRoll:
        lines = tuple(
            RollLine(
                program=line["program"],
                month=line["month"],
                person_id=line["person_id"],
                citizen_id=line["citizen_id"] or "",
                name=line["name"] or "",
                category=line["category"],
                amount=Money(int(line["amount_fen"])),
                kind=line["kind"],
                source=(
                    "grant"
                    if line["grant_id"] is not None
                    else "arrears"
                    if line["arrears_id"] is not None
                    else "entitlement"
                ),
            )
            for line in store.roll_lines(int(row["roll_id"]))
        )
        totals = tuple(
            ProgramTotal(
                program=t["program"], lines=int(t["lines"]), amount=Money.parse(t["amount"])
            )
            for t in json.loads(row["totals"])
        )
        warnings: list[str] = []
        checkpoint = store.checkpoint(row["month"], "run")
        if checkpoint is not None and (
            checkpoint.parameters_digest != self._digest()
            or store.register_changed(checkpoint.fact_watermark, row["month"])
        ):
            warnings.append(
                f"the register or the parameters changed after the last run of "
                f"{month_text(row['month'])}: the next run finds the differences as arrears"
            )
        warnings.extend(_held_warnings(store, row["month"]))
        return PaymentRoll(
            month=row["month"],
            roll_id=int(row["roll_id"]),
            run_id=int(row["run_id"]),
            created=created,
            recorded_at=row["recorded_at"],
            actor=str(row["actor"]),
            lines=lines,
            totals=totals,
            warnings=tuple(warnings),
            audit_entry=int(row["uow_id"]),
            audit_hash=row.get("audit_hash"),
        )

    # -- grants --------------------------------------------------------------------------

    def grant(
        self,
        household_id: str,
        *,
        amount: Money | str,
        approved_on: dt.date,
        reason: str,
        actor: str,
        recorded_at: dt.datetime,
    ) -> HardshipGrant:
        """Record a hardship relief grant to a household (R5.1), paid to its head.

        It enters the payment roll of its approval month (or, when that roll was already
        made, the next roll, as a line for its month).

        Args:
            household_id: the household.
            amount: the amount the deciding officer set (``Money`` or text, e.g. ``"800.00"``).
            approved_on: the approval date.
            reason: why (required).
            actor: who records it.
            recorded_at: the record time.

        Raises:
            ValidationError: the amount is not positive or above ``max_amount`` on the
                approval date, the program is not in force then, or the reason is empty.
            PluginNotFoundError: the deployment has no ``hardship_relief`` program.
            RecordNotFoundError: no such household is stored.
            DomainError: the household has no head stored, or the same grant is recorded.
        """
        self.program(HARDSHIP_RELIEF)
        money = amount if isinstance(amount, Money) else Money.parse(amount, path="--amount")
        problems: list[ValidationError] = []
        try:
            validate_grant(money, approved_on, self.parameters)
        except ValidationError as exc:
            problems.append(exc)
        if not reason.strip():
            problems.append(
                ValidationError.single(
                    "hardship_relief.reason",
                    reason,
                    "expected why the grant is made, e.g. 因病致困",
                )
            )
        if problems:
            raise ValidationError([p for exc in problems for p in exc.problems])
        households, persons = REGISTER_TABLES["households"], REGISTER_TABLES["persons"]
        d = month_of(approved_on)
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="benefits-grant"
        ) as uow:
            store = BenefitStore(uow.connection)
            household = store.conn.execute(
                sa.select(households.c.head_person_id).where(
                    households.c.household_id == household_id,
                    households.c.superseded_at.is_(None),
                )
            ).first()
            if household is None:
                raise RecordNotFoundError(
                    f"household {household_id!r}: no such household is stored"
                )
            head = household[0]
            known = (
                head
                and store.conn.execute(
                    sa.select(persons.c.person_id).where(
                        persons.c.person_id == head, persons.c.superseded_at.is_(None)
                    )
                ).first()
            )
            if not known:
                raise DomainError(
                    f"household {household_id!r}: its head ({head or 'none recorded'}) is not a "
                    "stored person; expected households.head_person_id to name the person paid"
                )
            g = bt.hardship_grants.c
            same = store.conn.execute(
                sa.select(g.grant_id).where(
                    g.household_id == household_id,
                    g.approved_on == approved_on,
                    g.amount_fen == money.fen,
                    g.reason == reason.strip(),
                )
            ).first()
            if same is not None:
                raise DomainError(
                    f"household {household_id!r}: grant {same[0]} already records {money} "
                    f"approved on {approved_on} for the same reason; not recorded twice"
                )
            grant_id = store.next_id(bt.hardship_grants, "grant_id")
            store.insert(
                bt.hardship_grants,
                [
                    {
                        "grant_id": grant_id,
                        "uow_id": uow.id,
                        "household_id": household_id,
                        "person_id": head,
                        "amount_fen": money.fen,
                        "approved_on": approved_on,
                        "month": d,
                        "reason": reason.strip(),
                        "recorded_at": uow.recorded_at,
                        "actor": actor,
                    }
                ],
            )
            rolled = store.roll_row(d) is not None
            uow.audit(
                grant_id=grant_id,
                household_id=household_id,
                amount=str(money),
                approved_on=approved_on.isoformat(),
            )
        return HardshipGrant(
            grant_id=grant_id,
            household_id=household_id,
            person_id=str(head),
            amount=money,
            approved_on=approved_on,
            month=d,
            reason=reason.strip(),
            rolled=rolled,
        )

    # -- explanations --------------------------------------------------------------------

    def explain(self, person_id: str, program: str, month: str | dt.date) -> DecisionExplanation:
        """Why a person is or is not entitled under a program for a month (R0.9).

        Evaluates the program's own clauses on a frame of the person's neighbourhood (their
        children, the children's other parents, their certificates' children), which holds
        the same facts for the person as a frame of the whole register.

        Args:
            person_id: the person.
            program: the program code.
            month: the month, ``YYYY-MM``.

        Raises:
            ValidationError: the month is not ``YYYY-MM``.
            PluginNotFoundError: no such program (the known ones are listed).
            RecordNotFoundError: no such person is stored.
        """
        chosen = self.program(program)
        d = parse_month(month)
        with self.storage.reader() as reader:
            frame = neighbourhood_frame(
                reader.connection, [person_id], d, self.division, depth=depth_for([chosen])
            )
            store = BenefitStore(reader.connection)
            checkpoint = store.checkpoint(d, "run")
            stored_row = store.entitlement_of(d, chosen.code, person_id) if checkpoint else None
        row = frame.row_of(person_id)
        if row < 0:
            raise RecordNotFoundError(f"person {person_id!r}: no such person is stored")
        explanation = explain(chosen, frame, row, self.parameters)
        stored = (
            None
            if stored_row is None
            else StoredDecision(
                entitlement_id=int(stored_row["entitlement_id"]),
                run_id=int(stored_row["run_id"]),
                category=stored_row["category"],
                amount=Money(int(stored_row["amount_fen"])),
                facts_hash=str(stored_row["facts_hash"]),
                facts=str(stored_row["facts"]),
            )
        )
        agrees = None
        if checkpoint is not None and chosen.monthly:
            agrees = (stored is None and not explanation.entitled) or (
                stored is not None
                and explanation.entitled
                and stored.amount == explanation.amount
                and stored.category == explanation.category
            )
        return DecisionExplanation(
            explanation=explanation,
            stored=stored,
            run_id=None if checkpoint is None else checkpoint.run_id,
            agrees=agrees,
        )

    # -- completeness --------------------------------------------------------------------

    def check(self, month: str | dt.date) -> CompletenessReport:
        """Compare the stored enrolments with who is entitled for a month (不错不漏).

        Who is entitled comes from the month's stored run when there is one, else from an
        evaluation that is not stored. An enrolment counts for the month when its ``since``
        is on or before D.

        Args:
            month: the month, ``YYYY-MM``.

        Raises:
            ValidationError: the month is not ``YYYY-MM``.
        """
        d = parse_month(month)
        programs = self.monthly_programs
        codes = {p.code for p in programs}
        enrolments = REGISTER_TABLES["enrolments"]
        with self.storage.reader() as reader:
            store = BenefitStore(reader.connection)
            checkpoint = store.checkpoint(d, "run")
            stale = checkpoint is not None and (
                checkpoint.parameters_digest != self._digest()
                or store.register_changed(checkpoint.fact_watermark, d)
            )
            stored = store.current_entitlements(d) if checkpoint is not None else {}
            enrolled_rows = [
                (str(r[0]), str(r[1]), r[2], r[3])
                for r in reader.connection.execute(
                    sa.select(
                        enrolments.c.person_id,
                        enrolments.c.program,
                        enrolments.c.since,
                        enrolments.c.category,
                    ).where(enrolments.c.superseded_at.is_(None))
                )
            ]
        entitled: dict[tuple[str, str], tuple[int, str | None]]
        frame: FactsFrame | None = None
        if checkpoint is not None:
            source = f"run {checkpoint.run_id}"
            entitled = {
                key: (value.amount_fen, value.category)
                for key, value in stored.items()
                if key[0] in codes
            }
        else:
            source = "evaluated"
            evaluation = self._evaluate(d, keep_facts=False)
            frame = evaluation.frame
            entitled = {
                (code, person): (fen, category)
                for code, outcome in evaluation.outcomes.items()
                for person, fen, category in zip(
                    outcome.person_ids, outcome.amounts_fen, outcome.categories, strict=True
                )
            }
        enrolled: dict[tuple[str, str], tuple[dt.date, str | None]] = {}
        unknown: list[tuple[str, str]] = []
        for person, code, since, category in enrolled_rows:
            if code not in codes:
                unknown.append((person, code))
            elif since <= d:
                enrolled[(code, person)] = (since, category or None)
        omissions = sorted(set(entitled) - set(enrolled))
        errors = sorted(set(enrolled) - set(entitled))
        mismatched = sorted(
            key
            for key in set(entitled) & set(enrolled)
            if enrolled[key][1] is not None and enrolled[key][1] != entitled[key][1]
        )
        wanted = sorted({person for _code, person in (*omissions, *errors, *mismatched)})
        explanations = self._explanations(frame, d, wanted, [*omissions, *errors, *mismatched])

        def finding(key: tuple[str, str], kind: str) -> CompletenessFinding:
            due = entitled.get(key)
            enrolment = enrolled.get(key)
            return CompletenessFinding(
                program=key[0],
                person_id=key[1],
                kind=kind,
                amount=None if due is None else Money(due[0]),
                category=None if due is None else due[1],
                enrolled_since=None if enrolment is None else enrolment[0],
                enrolled_category=None if enrolment is None else enrolment[1],
                explanation=explanations.get(key),
            )

        report = []
        for program in programs:
            code = program.code
            report.append(
                ProgramCompleteness(
                    program=code,
                    entitled=sum(1 for key in entitled if key[0] == code),
                    enrolled=sum(1 for key in enrolled if key[0] == code),
                    omissions=tuple(finding(k, "omission") for k in omissions if k[0] == code),
                    errors=tuple(finding(k, "error") for k in errors if k[0] == code),
                    category_mismatches=tuple(
                        finding(k, "category") for k in mismatched if k[0] == code
                    ),
                )
            )
        return CompletenessReport(
            month=d,
            source=source,
            stale=stale,
            programs=tuple(report),
            unknown=tuple(sorted(unknown)),
        )

    def _explanations(
        self,
        frame: FactsFrame | None,
        d: dt.date,
        persons: Sequence[str],
        keys: Iterable[tuple[str, str]],
    ) -> dict[tuple[str, str], Explanation]:
        if frame is None:
            with self.storage.reader() as reader:
                frame = neighbourhood_frame(
                    reader.connection,
                    persons,
                    d,
                    self.division,
                    depth=depth_for(self.monthly_programs),
                )
        wanted = set(persons)
        rows = {
            str(person): row
            for row, person in enumerate(frame.person_id.tolist())
            if person in wanted
        }
        return {
            (code, person): explain(self.programs[code], frame, rows[person], self.parameters)
            for code, person in keys
            if person in rows
        }

    # -- what-if -------------------------------------------------------------------------

    def whatif(
        self,
        month: str | dt.date,
        *,
        settings: Sequence[str] = (),
        files: Sequence[Path] = (),
        start: dt.date | None = None,
    ) -> WhatIfReport:
        """Evaluate a month with proposed parameter values; nothing is stored (政策测算).

        Args:
            month: the month, ``YYYY-MM``.
            settings: ``PROGRAM.PARAM=VALUE`` (or ``PROGRAM.PARAM.KEY=VALUE`` for a table).
            files: parameter files (YAML) with proposed values and their own dates.
            start: the date the settings apply from; the month's first day when None.

        Raises:
            ValidationError: the month or a setting is malformed, or nothing is proposed.
            PluginNotFoundError: a setting names an unknown program.
            ParameterError: a setting or file does not fit its parameter.
        """
        d = parse_month(month)
        if not settings and not files:
            raise ValidationError.single(
                "--set",
                "",
                "nothing proposed; expected --set PROGRAM.PARAM=VALUE or --parameters FILE",
            )
        after, proposal = proposed_parameters(
            self.parameters, self.programs, settings=settings, files=files, start=start or d
        )
        warnings: list[str] = []
        if start is not None and start > d:
            warnings.append(
                f"the proposed values apply from {start.isoformat()}, after {d.isoformat()}: "
                "they change nothing for this month"
            )
        frame = self._frame(d)
        programs, villages, people = compare(frame, self.monthly_programs, self.parameters, after)
        return WhatIfReport(
            month=d,
            proposal=proposal,
            programs=programs,
            villages=villages,
            people=people,
            warnings=tuple(warnings),
        )


def _notice_holds(connection: sa.Connection) -> Any:
    """The payments public notices hold back (famplan_core.notices), read on `connection`."""
    from famplan_core.notices.holds import NoticeHolds  # notices build on this module

    return NoticeHolds.load(connection)


def _held_warnings(store: BenefitStore, month: dt.date) -> list[str]:
    """Say which entitlements of `month` public notices hold back from its roll."""
    holds = _notice_holds(store.conn)
    if not holds:
        return []
    held: set[int] = set()
    count = 0
    for (program, person), current in store.current_entitlements(month).items():
        if holds.entitlement(program, person, month, current.amount_fen) is None:
            count += 1
            held.update(holds.held_notices(program, person, month))
    if not count:
        return []
    notices = ", ".join(str(n) for n in sorted(held))
    return [
        f"{count} entitlement(s) of {month_text(month)} are held as pending by public "
        f"notice(s) {notices}: they are paid once the notice closes without an upheld "
        "objection (as arrears when this roll is already made)"
    ]


def _line(
    row: Mapping[str, Any],
    month: dt.date,
    kind: str,
    *,
    program: str,
    entitlement_id: int | None = None,
    arrears_id: int | None = None,
    grant_id: int | None = None,
) -> dict[str, Any]:
    return {
        "program": program,
        "month": month,
        "person_id": row["person_id"],
        "citizen_id": row["citizen_id"],
        "name": row["name"],
        "category": row["category"],
        "amount_fen": int(row["amount_fen"]),
        "kind": kind,
        "entitlement_id": entitlement_id,
        "arrears_id": arrears_id,
        "grant_id": grant_id,
    }


def _totals(
    lines: Sequence[Mapping[str, Any]], programs: Mapping[str, Program]
) -> tuple[ProgramTotal, ...]:
    sums: dict[str, list[int]] = {}
    for line in lines:
        entry = sums.setdefault(line["program"], [0, 0])
        entry[0] += 1
        entry[1] += int(line["amount_fen"])
    order = {code: i for i, code in enumerate(programs)}
    return tuple(
        ProgramTotal(program=code, lines=count, amount=Money(fen))
        for code, (count, fen) in sorted(
            sums.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])
        )
    )


def _arrears_found(lines: Sequence[_Arrears]) -> tuple[ArrearsFound, ...]:
    groups: dict[tuple[dt.date, str], list[int]] = {}
    for line in lines:
        entry = groups.setdefault((line.month, line.program), [0, 0, 0])
        entry[0] += 1
        if line.amount_fen > 0:
            entry[1] += line.amount_fen
        else:
            entry[2] += line.amount_fen
    return tuple(
        ArrearsFound(month=month, program=program, lines=n, arrears_fen=plus, overpaid_fen=minus)
        for (month, program), (n, plus, minus) in sorted(groups.items())
    )
