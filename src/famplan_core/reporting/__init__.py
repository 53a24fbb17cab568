"""Reporting (统计报表): indicators, report runs, small-cell suppression and renderers.

* `Indicator`: a statistical indicator as a definition (names, definition, numerator and
  denominator, unit, dimensions, disclosure level) with the function computing its table;
  the core's are `CORE_INDICATORS`, registered through ``famplan_register_indicators``.
* `run_report`: indicators for a `Period` and a division scope, set-based in SQL, as known
  at one register state (`RegisterState`), so that a re-run gives identical figures.
* `suppress`: small-cell suppression with secondary suppression, for public outputs.
* `ReportTable`, `Column`, `Chart`: what renderers receive; `CsvRenderer` and
  `JsonRenderer` are the core's renderers, `render_report` writes a whole report.
"""

from famplan_core.reporting.catalog import CORE_INDICATORS
from famplan_core.reporting.indicators import DIMENSIONS, Bilingual, Indicator
from famplan_core.reporting.periods import Period
from famplan_core.reporting.renderers import CsvRenderer, JsonRenderer, render_report
from famplan_core.reporting.runs import (
    RegisterState,
    Report,
    mask_citizen_ids,
    publish_table,
    register_state,
    run_report,
    table_digest,
)
from famplan_core.reporting.statistics import SexRatio, sex_ratio_at_birth
from famplan_core.reporting.suppression import THRESHOLD, Relation, suppress
from famplan_core.reporting.table import (
    SUPPRESSED,
    Cell,
    Chart,
    Column,
    ReportTable,
    Suppressed,
    spreadsheet_safe,
)

__all__ = [
    "CORE_INDICATORS",
    "DIMENSIONS",
    "SUPPRESSED",
    "THRESHOLD",
    "Bilingual",
    "Cell",
    "Chart",
    "Column",
    "CsvRenderer",
    "Indicator",
    "JsonRenderer",
    "Period",
    "RegisterState",
    "Relation",
    "Report",
    "ReportTable",
    "SexRatio",
    "Suppressed",
    "mask_citizen_ids",
    "publish_table",
    "register_state",
    "render_report",
    "run_report",
    "sex_ratio_at_birth",
    "spreadsheet_safe",
    "suppress",
    "table_digest",
]
