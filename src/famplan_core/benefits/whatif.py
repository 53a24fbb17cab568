"""What-if (政策测算): a month evaluated with proposed parameter values, nothing stored.

A proposal is a list of ``PROGRAM.PARAM=VALUE`` settings (``PROGRAM.PARAM.KEY=VALUE`` for
one entry of a table, e.g. ``special_assistance.monthly_amount.death.rural=200.00``) and/or
parameter files in the usual YAML shape. Each is laid over the deployment's parameters like
a province's overlay (`famplan_core.rules.Parameter.overlaid_by`), from the month's first
day or from a date given, with provenance ``what-if``. `compare` then evaluates every
monthly program on one frame with both parameter sets and reports per program and per
village (the 12-digit hukou division on D): beneficiaries and amounts before and after,
the cost difference, and who gains or loses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from famplan_core.benefits.results import WhatIfChange, WhatIfProgram, WhatIfVillage
from famplan_core.errors import PluginNotFoundError, Problem, ValidationError
from famplan_core.model.frame import FactsFrame
from famplan_core.model.money import Money
from famplan_core.rules import (
    Parameter,
    ParameterSet,
    ParameterStep,
    ParameterTable,
    ParameterValue,
    Program,
    evaluate_program,
    load_parameter_file,
)
from famplan_core.rules.parameter import value_text

__all__ = ["WHAT_IF", "compare", "proposed_parameters"]

WHAT_IF = "what-if (proposed)"
"""The provenance of proposed values."""


def _fail(path: str, value: str, message: str) -> ValidationError:
    return ValidationError([Problem(path=path, value=value, message=message)])


def _value(
    parameter: Parameter, key: str | None, text: str, on: dt.date, path: str
) -> ParameterValue:
    kind = parameter.kind
    if kind == "table":
        step = parameter.step_at(on) or parameter.values[-1]
        current = step.value if isinstance(step.value, ParameterTable) else None
        keys = current.keys() if current is not None else ()
        if key is None:
            raise _fail(
                path,
                text,
                f"{parameter.key} is a table; set one entry as {parameter.key}.KEY=VALUE, "
                f"with KEY one of {', '.join(keys)}",
            )
        if key not in keys or current is None:
            raise _fail(
                path,
                key,
                f"{parameter.key} has no entry {key!r}; expected one of {', '.join(keys)}",
            )
        entries = dict(current.entries)
        entries[key] = Money.parse(text, path=path)
        return ParameterTable.of(entries)
    if key is not None:
        raise _fail(path, key, f"{parameter.key} is not a table; expected {parameter.key}=VALUE")
    if kind == "amount":
        return Money.parse(text, path=path)
    if not text.strip().isdigit():
        raise _fail(
            path, text, f"{parameter.key} is a whole number ({parameter.unit}); expected e.g. 60"
        )
    return int(text.strip())


def proposed_parameters(
    parameters: ParameterSet,
    programs: Mapping[str, Program],
    *,
    settings: Sequence[str] = (),
    files: Sequence[Path] = (),
    start: dt.date,
) -> tuple[ParameterSet, tuple[str, ...]]:
    """The deployment's parameters with a proposal laid over them.

    Args:
        parameters: the deployment's parameters.
        programs: the deployment's programs by code (to name them in errors).
        settings: ``PROGRAM.PARAM=VALUE`` or ``PROGRAM.PARAM.KEY=VALUE`` texts.
        files: parameter files (YAML), each laid over in turn.
        start: the date the settings apply from.

    Returns:
        The proposed parameter set, and one line per proposed value.

    Raises:
        ValidationError: a setting is not ``PROGRAM.PARAM=VALUE``, or its value does not fit.
        PluginNotFoundError: a setting names an unknown program (the known ones are listed).
        ParameterNotFoundError: a setting names an unknown parameter.
        ParameterError: a file cannot be read or does not fit the parameter it overlays.
    """
    overrides: dict[str, Parameter] = {}
    lines: list[str] = []
    for setting in settings:
        path = "--set"
        name, equals, text = setting.partition("=")
        parts = name.strip().split(".", 2)
        if not equals or len(parts) < 2 or not all(parts) or not text.strip():
            raise _fail(
                path,
                setting,
                "expected PROGRAM.PARAM=VALUE, e.g. rural_reward.annual_amount=1200.00",
            )
        code, parameter_name = parts[0], parts[1]
        key = parts[2] if len(parts) == 3 else None
        if code not in programs:
            raise PluginNotFoundError(
                f"--set {setting}: no program is named {code!r}; known programs: "
                f"{', '.join(programs)}"
            )
        base = overrides.get(f"{code}.{parameter_name}") or parameters.get(code, parameter_name)
        value = _value(base, key, text.strip(), start, f"{path} {name.strip()}")
        override = Parameter(
            program=code,
            name=parameter_name,
            description=base.description,
            reference=WHAT_IF,
            unit=base.unit,
            values=(ParameterStep(start=start, value=value, source=WHAT_IF, reference=WHAT_IF),),
            source=WHAT_IF,
        )
        overrides[override.key] = override  # a later setting of the same value wins
        lines.append(
            f"{code}.{parameter_name} = {value_text(value)} from {start.isoformat()} ({WHAT_IF})"
        )
    proposed = parameters.overlaid_by(overrides.values())
    for file in files:
        parameter = load_parameter_file(file, source=f"what-if: {file.name}")
        if parameter.program not in programs:
            raise PluginNotFoundError(
                f"{file.name}: no program is named {parameter.program!r}; known programs: "
                f"{', '.join(programs)}"
            )
        proposed = proposed.overlaid_by([parameter])
        steps = ", ".join(f"{s.start.isoformat()}: {value_text(s.value)}" for s in parameter.values)
        lines.append(f"{parameter.key} = {steps} ({parameter.source})")
    return proposed, tuple(lines)


def _dense(
    frame: FactsFrame, rows: npt.NDArray[np.int64], fen: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    out = np.zeros(len(frame), dtype=np.int64)
    out[rows] = fen
    return out


def compare(
    frame: FactsFrame,
    programs: Sequence[Program],
    before: ParameterSet,
    after: ParameterSet,
) -> tuple[tuple[WhatIfProgram, ...], tuple[WhatIfVillage, ...], tuple[WhatIfChange, ...]]:
    """Every monthly program on `frame` with both parameter sets.

    Args:
        frame: the month's facts frame.
        programs: the programs (those not monthly are skipped).
        before: the current parameters.
        after: the proposed parameters.

    Returns:
        Per program, per program and village, and per person whose amount changes.

    Raises:
        ParameterNotFoundError: a parameter has no value on D in either set.
    """
    totals: list[WhatIfProgram] = []
    villages: list[WhatIfVillage] = []
    people: list[WhatIfChange] = []
    division = frame.hukou_division
    for program in programs:
        if not program.monthly:
            continue
        old = evaluate_program(program, frame, before)
        new = evaluate_program(program, frame, after)
        was = _dense(frame, old.rows, old.amounts_fen)
        now = _dense(frame, new.rows, new.amounts_fen)
        had = np.zeros(len(frame), dtype=np.bool_)
        had[old.rows] = True
        has = np.zeros(len(frame), dtype=np.bool_)
        has[new.rows] = True
        moved = np.flatnonzero(was != now)
        totals.append(
            WhatIfProgram(
                program=program.code,
                before_count=len(old.rows),
                before_fen=int(old.amounts_fen.sum()),
                after_count=len(new.rows),
                after_fen=int(new.amounts_fen.sum()),
                gainers=int((now[moved] > was[moved]).sum()),
                losers=int((now[moved] < was[moved]).sum()),
            )
        )
        involved = np.flatnonzero(had | has)
        codes, where = np.unique(division[involved].astype(str), return_inverse=True)
        where = where.reshape(-1)
        count_before = np.bincount(where, weights=had[involved], minlength=len(codes))
        count_after = np.bincount(where, weights=has[involved], minlength=len(codes))
        fen_before = np.zeros(len(codes), dtype=np.int64)
        np.add.at(fen_before, where, was[involved])
        fen_after = np.zeros(len(codes), dtype=np.int64)
        np.add.at(fen_after, where, now[involved])
        villages.extend(
            WhatIfVillage(
                program=program.code,
                village=str(code),
                before_count=int(count_before[i]),
                before_fen=int(fen_before[i]),
                after_count=int(count_after[i]),
                after_fen=int(fen_after[i]),
            )
            for i, code in enumerate(codes.tolist())
        )
        people.extend(
            WhatIfChange(
                program=program.code,
                person_id=str(frame.person_id[row]),
                village=str(division[row]),
                before_fen=int(was[row]),
                after_fen=int(now[row]),
            )
            for row in moved.tolist()
        )
    return tuple(totals), tuple(villages), tuple(people)
