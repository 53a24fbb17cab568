"""The national benefit programs of spec/programs.md (国家待遇项目), R1-R5.

`national_programs` and `national_parameters` are what the core's own plugin registers;
a province's plugin overlays its parameter values on the national ones.
"""

from famplan_core.programs.national import (
    CHILDCARE_SUBSIDY,
    HARDSHIP_RELIEF,
    ONLY_CHILD_REWARD,
    RURAL_REWARD,
    SPECIAL_ASSISTANCE,
    national_parameter_set,
    national_parameters,
    national_programs,
    validate_grant,
)

__all__ = [
    "CHILDCARE_SUBSIDY",
    "HARDSHIP_RELIEF",
    "ONLY_CHILD_REWARD",
    "RURAL_REWARD",
    "SPECIAL_ASSISTANCE",
    "national_parameter_set",
    "national_parameters",
    "national_programs",
    "validate_grant",
]
