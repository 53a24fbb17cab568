"""Decisions as data (待遇决定): a month evaluated, with the facts each entitlement used.

`evaluate_month` runs every monthly program over one facts frame and keeps, per entitled
beneficiary, the category, the amount and a *facts record*: the values of the facts the
program's clauses and rules declare, read on that beneficiary's row (for a program paid per
certificate, on the certificate that gave the entitlement), as compact JSON with sorted keys,
and its SHA-256 (``facts_hash``). Two decisions with the same facts, amount, category,
program version and parameter values are the same decision.

`parameters_digest` identifies everything a run's results depend on besides the register:
the deployment's division, the programs' versions and every parameter step with its
provenance. A checkpoint with the same digest and no relevant new fact needs no recomputing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.model.frame import FactsFrame
from famplan_core.rules import (
    Facts,
    ParameterSet,
    Program,
    ProgramResult,
    evaluate_program,
)
from famplan_core.rules.clause import is_row_link
from famplan_core.rules.parameter import value_text

__all__ = [
    "RELATIONAL_COLUMNS",
    "MonthEvaluation",
    "ProgramOutcome",
    "basis_of",
    "evaluate_month",
    "fact_names",
    "facts_records",
    "parameters_digest",
    "sha256_text",
]

RELATIONAL_COLUMNS = frozenset(
    {
        "ever_children",
        "ever_daughters",
        "living_children",
        "only_child",
        "only_child_link",
        "only_child_mother_birth_date",
    }
)
"""Frame columns that depend on a person's own links (their children), not their own row."""


def sha256_text(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, as 64 hex digits.

    Args:
        text: the text.
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _compact(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def fact_names(program: Program) -> tuple[str, ...]:
    """Every fact a program's clauses, category rule and amount rule declare, sorted.

    Args:
        program: the program.
    """
    names: set[str] = set()
    for clause in program.clauses:
        names.update(clause.facts)
    for rule in (program.category, program.amount):
        if rule is not None:
            names.update(rule.facts)
    return tuple(sorted(names))


def _json_cells(path: str, column: npt.NDArray[Any], frame: FactsFrame) -> list[str]:
    """One column's values as JSON texts (row links become person ids)."""
    if is_row_link(path):
        ids = frame.person_id
        return [
            json.dumps(str(ids[row]), ensure_ascii=False) if row >= 0 else "null"
            for row in column.tolist()
        ]
    if column.dtype == np.bool_:
        texts: list[str] = np.where(column, "true", "false").tolist()
        return texts
    if np.issubdtype(column.dtype, np.integer):
        return [str(value) for value in column.tolist()]
    if np.issubdtype(column.dtype, np.datetime64):
        days = column.astype("datetime64[D]")
        text = np.datetime_as_string(days, unit="D")
        quoted: list[str] = np.where(
            np.isnat(days), "null", np.char.add(np.char.add('"', text), '"')
        ).tolist()
        return quoted
    return [
        "null" if value is None else json.dumps(str(value), ensure_ascii=False)
        for value in column.tolist()
    ]


def facts_records(
    program: Program, frame: FactsFrame, subject_rows: npt.NDArray[np.int64]
) -> tuple[list[str], list[str]]:
    """The facts record of each subject row: compact JSON of the declared facts, and its hash.

    Args:
        program: the program.
        frame: the facts frame of the evaluation date.
        subject_rows: the rows evaluated: person rows, or certificate rows for a program
            paid per certificate.

    Returns:
        The JSON texts (keys sorted, no spaces) and their SHA-256 sums, one per row.
    """
    names = fact_names(program)
    count = len(subject_rows)
    if not names:
        return ["{}"] * count, [sha256_text("{}")] * count
    facts = Facts(frame, program.subject, subject_rows)
    columns = [_json_cells(name, np.asarray(facts[name]), frame) for name in names]
    template = "{" + ",".join(f"{json.dumps(name)}:%s" for name in names) + "}"
    texts = [template % cells for cells in zip(*columns, strict=True)]
    return texts, [sha256_text(text) for text in texts]


def basis_of(program: Program, result: ProgramResult) -> tuple[str, str]:
    """The parameter values a result used (JSON, with provenance) and the decision basis hash.

    The basis hash covers the program code and version, whether it was in force, and the
    parameter values with their provenance: a decision whose basis changed is a new decision.

    Args:
        program: the program.
        result: its result for one date.
    """
    uses = [use.as_dict() for use in result.parameters]
    parameters = _compact(uses)
    basis = _compact(
        {
            "program": program.code,
            "version": program.version,
            "in_force": result.in_force,
            "parameters": uses,
        }
    )
    return parameters, sha256_text(basis)


def parameters_digest(programs: Iterable[Program], parameters: ParameterSet, division: str) -> str:
    """A digest of everything besides the register that a month's results depend on.

    Args:
        programs: the programs evaluated.
        parameters: the deployment's parameters.
        division: the deployment's division code.
    """
    document = {
        "division": division,
        "programs": sorted(
            [p.code, p.version, p.monthly, p.subject, list(p.categories)] for p in programs
        ),
        "parameters": sorted(
            [
                p.program,
                p.name,
                p.unit,
                [
                    [step.start.isoformat(), value_text(step.value), step.source, step.reference]
                    for step in p.values
                ],
            ]
            for p in parameters
        ),
    }
    return sha256_text(_compact(document))


@attrs.frozen(kw_only=True, eq=False)
class ProgramOutcome:
    """One program evaluated for one month: who is entitled, to what, on which facts.

    Attributes:
        program: the program.
        result: the columnar result of `evaluate_program`.
        person_ids: per entitled beneficiary, the person id.
        certificate_ids: per entitled beneficiary, the certificate that gave the entitlement
            (programs paid per certificate), else None.
        categories: per entitled beneficiary, the category or None.
        amounts_fen: per entitled beneficiary, the monthly amount in fen.
        facts: per entitled beneficiary, the facts record (JSON), or empty when not kept.
        facts_hashes: the SHA-256 of each facts record, or empty when not kept.
        parameters_json: the parameter values used, with provenance (JSON).
        basis_hash: see `basis_of`.
    """

    program: Program
    result: ProgramResult
    person_ids: list[str]
    certificate_ids: list[str] | None
    categories: list[str | None]
    amounts_fen: list[int]
    facts: list[str]
    facts_hashes: list[str]
    parameters_json: str
    basis_hash: str

    def keyed(self) -> dict[str, int]:
        """Person id → position of their entitlement."""
        return {person: i for i, person in enumerate(self.person_ids)}


@attrs.frozen(kw_only=True, eq=False)
class MonthEvaluation:
    """Every monthly program evaluated over one frame (one month).

    Attributes:
        month: the evaluation date D.
        frame: the facts frame it was evaluated on.
        outcomes: per program code, its outcome, in the order of the programs given.
    """

    month: dt.date
    frame: FactsFrame
    outcomes: Mapping[str, ProgramOutcome]


def evaluate_month(
    frame: FactsFrame,
    programs: Sequence[Program],
    parameters: ParameterSet,
    *,
    keep_facts: bool = True,
) -> MonthEvaluation:
    """Evaluate every monthly program over `frame` (R0.1, R0.8, R0.11).

    Programs include their own jurisdiction clause (R0.6), so nothing is filtered here.

    Args:
        frame: the facts frame of the month's first day.
        programs: the programs; those not computed monthly (R5.1) are skipped.
        parameters: the deployment's parameters.
        keep_facts: build each entitlement's facts record (not needed to compare amounts).

    Raises:
        ParameterNotFoundError: a parameter has no value on D after its first date.
        PluginContractError: a clause or rule breaks its declaration.
    """
    outcomes: dict[str, ProgramOutcome] = {}
    for program in programs:
        if not program.monthly:
            continue
        result = evaluate_program(program, frame, parameters)
        subject_rows = (
            result.certificate_rows if result.certificate_rows is not None else result.rows
        )
        facts, hashes = facts_records(program, frame, subject_rows) if keep_facts else ([], [])
        certificate_ids = (
            [str(c) for c in frame.certificates.certificate_id[result.certificate_rows].tolist()]
            if result.certificate_rows is not None
            else None
        )
        names = result.category_names
        categories = [names[code] if code >= 0 else None for code in result.category_codes.tolist()]
        parameters_json, basis_hash = basis_of(program, result)
        outcomes[program.code] = ProgramOutcome(
            program=program,
            result=result,
            person_ids=[str(p) for p in frame.person_id[result.rows].tolist()],
            certificate_ids=certificate_ids,
            categories=categories,
            amounts_fen=[int(a) for a in result.amounts_fen.tolist()],
            facts=facts,
            facts_hashes=hashes,
            parameters_json=parameters_json,
            basis_hash=basis_hash,
        )
    return MonthEvaluation(month=frame.date, frame=frame, outcomes=outcomes)
