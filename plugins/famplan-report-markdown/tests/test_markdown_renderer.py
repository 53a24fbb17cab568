"""The Markdown renderer, found through its entry point like any installed plugin."""

from __future__ import annotations

import io

from famplan_core.model.money import Money
from famplan_core.plugin_manager import PluginManager
from famplan_core.reporting import Column, ReportTable


def _table() -> ReportTable:
    return ReportTable(
        code="demo",
        title_zh="奖励扶助",
        title_en="Reward support",
        columns=(
            Column(key="village", label_zh="村", label_en="Village"),
            Column(key="amount", label_zh="金额", label_en="Amount", kind="amount"),
        ),
        rows=(("王庄|村", Money.parse("80.00")), ("=cmd()", Money.parse("-5"))),
    )


def test_found_through_entry_point() -> None:
    manager = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": "report-markdown"})
    info = {p.name: p for p in manager.plugins()}["report-markdown"]
    assert info.distribution == "famplan-report-markdown"
    assert info.hooks == ("famplan_register_report_renderers",)
    assert "markdown" in manager.report_renderers()


def test_renders_escaped_table_with_neutralised_formulas() -> None:
    renderer = PluginManager.assemble(
        environ={"FAMPLAN_LOAD_PLUGINS": "report-markdown"}
    ).report_renderers()["markdown"]()
    out = io.BytesIO()
    renderer.render(_table(), out, lang="en")
    text = out.getvalue().decode("utf-8")
    assert "## Reward support" in text
    assert "| 王庄\\|村 | 80.00 |" in text
    assert "| '=cmd() | -5.00 |" in text
