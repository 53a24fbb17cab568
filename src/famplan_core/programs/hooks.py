"""The core's policy plugin: registers the national programs R1-R5 and their parameters."""

from __future__ import annotations

from collections.abc import Sequence

from famplan_core.hookspecs import hookimpl
from famplan_core.programs.national import national_parameters, national_programs
from famplan_core.rules import Parameter, Program

__all__ = ["FAMPLAN_API", "famplan_register_parameters", "famplan_register_programs"]

FAMPLAN_API = ">=1.0,<2"


@hookimpl
def famplan_register_programs() -> Sequence[Program]:
    """Register the national programs of the spec (R1-R5)."""
    return national_programs()


@hookimpl(tryfirst=True)
def famplan_register_parameters() -> Sequence[Parameter]:
    """Register the national parameter values: the floors every province starts from."""
    return national_parameters()
