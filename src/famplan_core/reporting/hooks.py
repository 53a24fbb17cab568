"""The core's reporting plugin: registers the core indicators and the CSV and JSON renderers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core.hookspecs import hookimpl
from famplan_core.reporting.catalog import CORE_INDICATORS
from famplan_core.reporting.renderers import CsvRenderer, JsonRenderer

__all__ = ["FAMPLAN_API", "famplan_register_indicators", "famplan_register_report_renderers"]

FAMPLAN_API = ">=1.0,<2"


@hookimpl
def famplan_register_indicators() -> Sequence[Any]:
    """Register the core indicators: population, births, rates, fertility, programs."""
    return list(CORE_INDICATORS)


@hookimpl
def famplan_register_report_renderers() -> Sequence[type[Any]]:
    """Register the CSV and JSON renderers."""
    return [CsvRenderer, JsonRenderer]
