"""famplan-report-xlsx: report tables as formatted Excel workbooks."""

from famplan_report_xlsx.renderer import XlsxRenderer

__all__ = ["XlsxRenderer"]
