"""Benefit rules (待遇规则): effective-dated parameters, programs, clauses, evaluation, explanation.

A program is data plus clauses (DESIGN "Rules"). Parameters are step functions of time read
from YAML (`Parameter`, `ParameterSet`); a `Clause` is a named, column-wise predicate with its
spec reference; `evaluate_program` runs a `Program` over a whole `FactsFrame`; `explain` runs
the same clauses for one person and says why, in English or Chinese.

`famplan_core.rules.testing_frames` builds small frames by hand for tests; it is not imported
here.
"""

from famplan_core.rules.clause import Clause, ClauseTest, Facts, SubjectKind, fact_paths
from famplan_core.rules.dates import ages_on, completed_years, latest_birth_for_age
from famplan_core.rules.evaluate import (
    ProgramResult,
    clause_mask,
    evaluate_program,
    first_certificate_per_holder,
)
from famplan_core.rules.explain import (
    ClauseOutcome,
    Explanation,
    FactValue,
    SubjectOutcome,
    explain,
)
from famplan_core.rules.parameter import (
    NATIONAL,
    Parameter,
    ParameterSet,
    ParameterStep,
    ParameterTable,
    ParameterUse,
    ParameterValue,
    ParameterView,
    load_parameter_directory,
    load_parameter_file,
    parse_parameter_yaml,
)
from famplan_core.rules.program import AmountRule, Beneficiary, CategoryRule, Program

__all__ = [
    "NATIONAL",
    "AmountRule",
    "Beneficiary",
    "CategoryRule",
    "Clause",
    "ClauseOutcome",
    "ClauseTest",
    "Explanation",
    "FactValue",
    "Facts",
    "Parameter",
    "ParameterSet",
    "ParameterStep",
    "ParameterTable",
    "ParameterUse",
    "ParameterValue",
    "ParameterView",
    "Program",
    "ProgramResult",
    "SubjectKind",
    "SubjectOutcome",
    "ages_on",
    "clause_mask",
    "completed_years",
    "evaluate_program",
    "explain",
    "fact_paths",
    "first_certificate_per_holder",
    "latest_birth_for_age",
    "load_parameter_directory",
    "load_parameter_file",
    "parse_parameter_yaml",
]
