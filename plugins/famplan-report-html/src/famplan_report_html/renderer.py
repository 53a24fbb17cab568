"""The HTML report renderer (HTML 报表): one self-contained page with SVG charts.

The page is a Jinja2 template with autoescaping on for every template and every string
(`select_autoescape(default=True, default_for_string=True)`): whatever a table holds is
shown as text. Text cells also go through `spreadsheet_safe`, because Excel opens HTML
tables and runs a cell that starts with ``=`` as a formula.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

import jinja2

from famplan_core.model.money import Money
from famplan_core.reporting import Cell, ReportTable, Suppressed, spreadsheet_safe
from famplan_report_html.charts import chart_svg

if TYPE_CHECKING:
    from famplan_core.reporting import Report

__all__ = ["HtmlRenderer", "environment"]


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the plugin's templates, autoescaping everything."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("famplan_report_html", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _cell(value: Cell) -> dict[str, str]:
    if value is None:
        return {"text": "", "css": ""}
    if isinstance(value, Suppressed):
        return {"text": value.MARK, "css": "withheld"}
    if isinstance(value, Money):
        return {"text": format(value.to_decimal(), ",f"), "css": "num"}
    if isinstance(value, Decimal):
        return {"text": format(value, ",f"), "css": "num"}
    if isinstance(value, int):
        return {"text": f"{value:,}", "css": "num"}
    return {"text": spreadsheet_safe(value), "css": ""}


def _table(table: ReportTable, lang: str) -> dict[str, Any]:
    totals = set(table.total_rows)
    return {
        "code": table.code,
        "title": table.title(lang),
        "headers": list(table.headers(lang)),
        "rows": [
            {"total": index in totals, "cells": [_cell(c) for c in row]}
            for index, row in enumerate(table.rows)
        ],
        "notes": list(table.notes),
        "svg": chart_svg(table, lang),
    }


class HtmlRenderer:
    """Write report tables as one HTML page: title, how it was made, charts, tables, notes."""

    PLUGIN_NAME: ClassVar[str] = "html"
    suffix: ClassVar[str] = ".html"
    media_type: ClassVar[str] = "text/html"

    def _write(
        self,
        out: BinaryIO,
        *,
        title: str,
        about: list[tuple[str, str]],
        tables: list[ReportTable],
        lang: str,
    ) -> None:
        page = (
            environment()
            .get_template("report.html.j2")
            .render(
                html_lang="zh-CN" if lang == "zh" else "en",
                title=title,
                about=about,
                tables=[_table(t, lang) for t in tables],
            )
        )
        out.write(page.encode("utf-8"))

    def render(self, table: ReportTable, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write one table as a page.

        Args:
            table: the table.
            out: a binary stream.
            lang: ``zh`` or ``en`` title and headers.
        """
        self._write(out, title=table.title(lang), about=[], tables=[table], lang=lang)

    def render_report(self, report: Report, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write a whole report as a page: its title, period, scope, register state, digest.

        Args:
            report: the report.
            out: a binary stream.
            lang: ``zh`` or ``en``.
        """
        state = report.metadata()["register_state"]
        zh = lang == "zh"
        about = [
            ("统计期" if zh else "Period", report.period.label(lang)),
            ("范围" if zh else "Scope", f"{report.scope} {report.scope_name}".strip()),
            (
                "登记状态" if zh else "Register state",
                f"{'审计第' if zh else 'audit entry '}{state['audit_id']}"
                f"{'条' if zh else ''} ({state['recorded_at']})",
            ),
            ("数据摘要" if zh else "Digest (SHA-256)", report.digest),
        ]
        if report.public:
            about.append(
                (
                    "公开" if zh else "Public",
                    "村级小于5的数不予公布" if zh else "village counts under 5 withheld",
                )
            )
        if report.left_out:
            about.append(
                ("未列入（内部）" if zh else "Left out (internal)", ", ".join(report.left_out))
            )
        self._write(
            out, title=report.title(lang), about=about, tables=list(report.tables), lang=lang
        )
