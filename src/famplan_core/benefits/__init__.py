"""Benefit runs (待遇发放): monthly runs, entitlements, payment rolls, arrears, grants.

The service of a deployment's monthly cycle (spec "Runs, rolls and completeness"):

* `BenefitService.run` evaluates every monthly program for a month and stores each decision
  with its category, amount, program version, parameter values and facts (R0.9), versioned:
  a later run records what is new, ended and changed, and never overwrites;
* `BenefitService.roll` freezes a month's payment roll; `write_roll_csv` writes it;
* arrears: each run recomputes the months already rolled whose register or parameters
  changed, and stores the differences as arrears (positive) or overpayments (negative);
* `BenefitService.grant` records a hardship relief grant (R5.1);
* `BenefitService.explain`, `BenefitService.check` (completeness, 不错不漏) and
  `BenefitService.whatif` (proposed parameter values, nothing stored).

Example:
    >>> from famplan_core.benefits import parse_month, month_text
    >>> month_text(parse_month("2026-11"))
    '2026-11'
"""

from famplan_core.benefits.decisions import (
    MonthEvaluation,
    ProgramOutcome,
    evaluate_month,
    fact_names,
    facts_records,
    parameters_digest,
)
from famplan_core.benefits.months import month_of, month_text, parse_month
from famplan_core.benefits.neighbourhood import depth_for, load_neighbourhood, neighbourhood_frame
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
    WhatIfChange,
    WhatIfProgram,
    WhatIfReport,
    WhatIfVillage,
)
from famplan_core.benefits.rolls import ROLL_COLUMNS, write_roll_csv
from famplan_core.benefits.service import HARDSHIP_RELIEF, BenefitService
from famplan_core.benefits.whatif import proposed_parameters

__all__ = [
    "HARDSHIP_RELIEF",
    "ROLL_COLUMNS",
    "ArrearsFound",
    "BenefitService",
    "CompletenessFinding",
    "CompletenessReport",
    "DecisionExplanation",
    "HardshipGrant",
    "MonthEvaluation",
    "PaymentRoll",
    "ProgramChanges",
    "ProgramCompleteness",
    "ProgramOutcome",
    "ProgramTotal",
    "RollLine",
    "RunSummary",
    "StoredDecision",
    "WhatIfChange",
    "WhatIfProgram",
    "WhatIfReport",
    "WhatIfVillage",
    "depth_for",
    "evaluate_month",
    "fact_names",
    "facts_records",
    "load_neighbourhood",
    "month_of",
    "month_text",
    "neighbourhood_frame",
    "parameters_digest",
    "parse_month",
    "proposed_parameters",
    "write_roll_csv",
]
