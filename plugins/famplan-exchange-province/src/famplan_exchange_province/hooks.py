"""The plugin's hooks: registers the provincial CSV format (``province-csv``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core import hookimpl
from famplan_exchange_province.profile import ProvinceCsvFormat

__all__ = ["FAMPLAN_API", "famplan_register_exchange_formats"]

FAMPLAN_API = ">=1.0,<2"
"""The famplan-core API range this plugin needs."""


@hookimpl
def famplan_register_exchange_formats() -> Sequence[type[Any]]:
    """Register the provincial CSV format."""
    return [ProvinceCsvFormat]
