"""Evaluating a program over a whole facts frame at once (按月测算), column by column.

`evaluate_program` ANDs the program's clauses over every row of the frame (R0.1, R0.11),
gives each entitled row its category and amount, and returns a columnar `ProgramResult`.
A program with subject ``"certificate"`` is evaluated over ``frame.certificates`` and then
reduced to at most one entitlement per holder: the first certificate, in order of issue
date then certificate id, that gives one (R4.6).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.errors import PluginContractError
from famplan_core.model.frame import FactsFrame
from famplan_core.model.money import Money
from famplan_core.rules.clause import BoolArray, Facts, IntArray
from famplan_core.rules.parameter import ParameterSet, ParameterUse, ParameterView
from famplan_core.rules.program import Program

__all__ = ["ProgramResult", "clause_mask", "evaluate_program", "first_certificate_per_holder"]

_EMPTY_INT = np.zeros(0, dtype=np.int64)
_EMPTY_CODE = np.zeros(0, dtype=np.int8)


@attrs.frozen(kw_only=True, eq=False)
class ProgramResult:
    """The entitlements of one program for one evaluation date, as columns (测算结果).

    Attributes:
        program: the program code.
        version: the program version the result was computed with.
        date: the evaluation date D.
        in_force: False when D is before a parameter's first value (R0.8): nothing is due.
        evaluated: how many person rows the frame had.
        rows: the entitled beneficiaries' frame rows, ascending.
        category_codes: per entitled row, the position in `category_names`, or -1.
        category_names: the program's categories.
        amounts_fen: per entitled row, the monthly amount in fen (``int64``).
        certificate_rows: per entitled row, the row in ``frame.certificates`` that gave the
            entitlement (R4.6), or None for programs not paid per certificate.
        parameters: the parameter values used, with their provenance.
    """

    program: str
    version: str
    date: dt.date
    in_force: bool
    evaluated: int
    rows: IntArray
    category_codes: npt.NDArray[np.int8]
    category_names: tuple[str, ...]
    amounts_fen: IntArray
    certificate_rows: IntArray | None
    parameters: tuple[ParameterUse, ...]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def categories(self) -> npt.NDArray[np.object_]:
        """Per entitled row, the category name, or None when the program has none."""
        names = np.array([*self.category_names, None], dtype=object)
        return names[self.category_codes.astype(np.int64)]

    def entitled_mask(self) -> BoolArray:
        """One bool per frame row: entitled or not."""
        mask = np.zeros(self.evaluated, dtype=np.bool_)
        mask[self.rows] = True
        return mask

    def _position(self, row: int) -> int | None:
        position = int(np.searchsorted(self.rows, row))
        if position < len(self.rows) and int(self.rows[position]) == row:
            return position
        return None

    def amount_of(self, row: int) -> Money | None:
        """The amount due to the person at `row`, or None when not entitled.

        Args:
            row: the frame row.
        """
        position = self._position(row)
        return None if position is None else Money(int(self.amounts_fen[position]))

    def category_of(self, row: int) -> str | None:
        """The category of the person at `row`, or None (not entitled, or no categories).

        Args:
            row: the frame row.
        """
        position = self._position(row)
        if position is None:
            return None
        code = int(self.category_codes[position])
        return self.category_names[code] if code >= 0 else None

    @property
    def total(self) -> Money:
        """The sum of the amounts."""
        return Money(int(self.amounts_fen.sum()))


def _empty(program: Program, frame: FactsFrame, in_force: bool) -> ProgramResult:
    return ProgramResult(
        program=program.code,
        version=program.version,
        date=frame.date,
        in_force=in_force,
        evaluated=len(frame),
        rows=_EMPTY_INT,
        category_codes=_EMPTY_CODE,
        category_names=program.categories,
        amounts_fen=_EMPTY_INT,
        certificate_rows=_EMPTY_INT if program.subject == "certificate" else None,
        parameters=(),
    )


def first_certificate_per_holder(
    holders: IntArray, issued_on: npt.NDArray[np.datetime64], certificate_ids: npt.NDArray[Any]
) -> IntArray:
    """Positions of the first certificate of each holder, by issue date then id (R4.6).

    Args:
        holders: the holder row of each certificate.
        issued_on: the issue date of each certificate.
        certificate_ids: the identifier of each certificate.

    Returns:
        One position per distinct holder, in ascending holder order.
    """
    count = len(holders)
    if count == 0:
        return _EMPTY_INT
    issued = issued_on.astype("datetime64[D]").view(np.int64)
    order = np.lexsort((issued, holders))
    sorted_holders = holders[order]
    sorted_issued = issued[order]
    first = np.ones(count, dtype=np.bool_)
    first[1:] = sorted_holders[1:] != sorted_holders[:-1]
    tie = np.zeros(count, dtype=np.bool_)
    tie[1:] = ~first[1:] & (sorted_issued[1:] == sorted_issued[:-1])
    starts = np.flatnonzero(first)
    chosen = order[starts]
    # only groups whose first two certificates share the issue date need the id to decide
    for start in np.flatnonzero(first[:-1] & tie[1:]).tolist():
        end = start + 1
        while end < count and tie[end]:
            end += 1
        group = int(np.searchsorted(starts, start))
        chosen[group] = min(order[start:end], key=lambda p: str(certificate_ids[p]))
    return chosen.astype(np.int64)


def _categories(program: Program, facts: Facts, view: ParameterView) -> npt.NDArray[np.int8]:
    rule = program.category
    if rule is None:
        return np.full(len(facts), -1, dtype=np.int8)
    codes = np.asarray(
        rule.assign(
            facts.restricted(rule.facts, rule.ref), view.restricted(rule.parameters, rule.ref)
        )
    )
    if codes.shape != (len(facts),) or not np.issubdtype(codes.dtype, np.integer):
        raise PluginContractError(
            f"program {program.code}: category rule {rule.ref} returned {codes.dtype} of shape "
            f"{codes.shape}; expected integers of shape ({len(facts)},)"
        )
    if len(codes) and (codes.min() < 0 or codes.max() >= len(program.categories)):
        raise PluginContractError(
            f"program {program.code}: category rule {rule.ref} gave no category (or an unknown "
            f"one) to a row that meets every clause on {facts.date}; expected a position in "
            f"{program.categories}"
        )
    return codes.astype(np.int8, copy=False)


def _amounts(
    program: Program, facts: Facts, view: ParameterView, codes: npt.NDArray[np.int8]
) -> IntArray:
    rule = program.amount
    assert rule is not None
    fen = np.asarray(
        rule.compute(
            facts.restricted(rule.facts, rule.ref),
            view.restricted(rule.parameters, rule.ref),
            codes,
        )
    )
    if fen.shape != (len(facts),) or not np.issubdtype(fen.dtype, np.integer):
        raise PluginContractError(
            f"program {program.code}: amount rule {rule.ref} returned {fen.dtype} of shape "
            f"{fen.shape}; expected integer fen of shape ({len(facts)},)"
        )
    return fen.astype(np.int64, copy=False)


def clause_mask(program: Program, facts: Facts, view: ParameterView) -> BoolArray:
    """All of `program`'s clauses AND-ed over the rows of `facts`.

    Args:
        program: the program.
        facts: the subject rows to evaluate.
        view: the program's parameters on the evaluation date.
    """
    mask = np.ones(len(facts), dtype=np.bool_)
    for clause in program.clauses:
        mask &= clause.evaluate_facts(facts, view)
    return mask


def evaluate_program(
    program: Program, frame: FactsFrame, parameters: ParameterSet
) -> ProgramResult:
    """Evaluate `program` for every row of `frame` on its date (R0.1, R0.8, R0.11).

    Args:
        program: the program.
        frame: the facts frame of the evaluation date D (the first day of the month).
        parameters: the deployment's parameters (national, overlaid by any province's).

    Returns:
        The entitled rows with category and amount. A program not in force on D, or not
        computed monthly (a one-off grant, R5.1), gives no entitlements and no error.

    Raises:
        ParameterNotFoundError: a parameter is missing, or has no value (a gap or a missing
            table key) on D after its first date.
        PluginContractError: a clause or rule breaks its declaration.
    """
    view = parameters.view(program.code, frame.date, program.parameter_names)
    if not view.in_force:
        return _empty(program, frame, in_force=False)
    uses = view.uses()
    if not program.monthly:
        return attrs.evolve(_empty(program, frame, in_force=True), parameters=uses)
    facts = Facts(frame, program.subject)
    subjects = np.flatnonzero(clause_mask(program, facts, view)).astype(np.int64)
    certificate_rows: IntArray | None = None
    if program.subject == "certificate":
        certificates = frame.certificates
        picked = first_certificate_per_holder(
            certificates.holder[subjects],
            certificates.issued_on[subjects],
            certificates.certificate_id[subjects],
        )
        subjects = subjects[picked]
        certificate_rows = subjects
        rows = certificates.holder[subjects].astype(np.int64)  # ascending by construction
    else:
        rows = subjects
    chosen = facts.take(subjects)
    codes = _categories(program, chosen, view)
    fen = _amounts(program, chosen, view, codes)
    return ProgramResult(
        program=program.code,
        version=program.version,
        date=frame.date,
        in_force=True,
        evaluated=len(frame),
        rows=rows,
        category_codes=codes,
        category_names=program.categories,
        amounts_fen=fen,
        certificate_rows=certificate_rows,
        parameters=uses,
    )
