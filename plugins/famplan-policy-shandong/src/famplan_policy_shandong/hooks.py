"""The plugin's hooks: registers the Shandong parameter overlays."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files

from famplan_core import hookimpl
from famplan_core.rules import Parameter, load_parameter_directory

__all__ = [
    "FAMPLAN_API",
    "FAMPLAN_ENABLED_BY_DEFAULT",
    "famplan_register_parameters",
    "shandong_parameters",
]

FAMPLAN_API = ">=1.0,<2"
"""The famplan-core API range this plugin needs."""

FAMPLAN_ENABLED_BY_DEFAULT = False
"""Its values are placeholders until confirmed: a deployment must switch it on explicitly."""


def shandong_parameters() -> tuple[Parameter, ...]:
    """The Shandong parameters shipped with this plugin, each with its provenance."""
    return tuple(load_parameter_directory(files("famplan_policy_shandong") / "parameters"))


@hookimpl
def famplan_register_parameters() -> Sequence[Parameter]:
    """Register the Shandong overlays of national parameters."""
    return shandong_parameters()
