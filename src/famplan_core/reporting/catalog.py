"""The core's indicators (核心指标), in the order a full report shows them."""

from __future__ import annotations

from famplan_core.reporting.indicators import Indicator
from famplan_core.reporting.population import POPULATION_INDICATORS
from famplan_core.reporting.programs import PROGRAM_INDICATORS

__all__ = ["CORE_INDICATORS"]

CORE_INDICATORS: tuple[Indicator, ...] = (*POPULATION_INDICATORS, *PROGRAM_INDICATORS)
"""Every indicator the core registers through ``famplan_register_indicators``."""
