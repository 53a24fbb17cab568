"""Reporting: report tables and their renderers."""

from famplan_core.reporting.renderers import CsvRenderer, JsonRenderer
from famplan_core.reporting.table import Column, ReportTable, spreadsheet_safe

__all__ = ["Column", "CsvRenderer", "JsonRenderer", "ReportTable", "spreadsheet_safe"]
