"""The Excel renderer: formatted sheets, and no text cell ever becomes a formula."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st

from famplan_core.model.money import Money
from famplan_core.plugin_manager import PluginManager
from famplan_core.reporting import (
    SUPPRESSED,
    Cell,
    Column,
    Period,
    RegisterState,
    Report,
    ReportTable,
    render_report,
    table_digest,
)
from famplan_core.reporting.table import FORMULA_TRIGGERS
from famplan_report_xlsx import XlsxRenderer
from famplan_report_xlsx.renderer import safe_text

COLUMNS = (
    Column(key="village", label_zh="村", label_en="Village"),
    Column(key="name", label_zh="姓名", label_en="Name"),
    Column(key="people", label_zh="人数", label_en="People", kind="number"),
    Column(key="amount", label_zh="金额", label_en="Amount", kind="amount"),
    Column(key="rate", label_zh="出生率(‰)", label_en="Birth rate (‰)", kind="decimal", places=2),
)


def table(rows: list[tuple[Cell, ...]]) -> ReportTable:
    return ReportTable(
        code="payments",
        title_zh="分村发放汇总",
        title_en="Payments by village",
        columns=COLUMNS,
        rows=(("合计", "", 15, Money(123456), Decimal("12.50")), *rows),
        notes=("注：金额单位为元。",),
        total_rows=(0,),
    )


def workbook(t: ReportTable) -> openpyxl.Workbook:
    out = io.BytesIO()
    XlsxRenderer().render(t, out)
    return openpyxl.load_workbook(io.BytesIO(out.getvalue()))


def test_the_plugin_registers_the_renderer() -> None:
    renderers = PluginManager.assemble(environ={}).report_renderers()
    assert renderers["xlsx"] is XlsxRenderer


def test_a_sheet_has_chinese_headers_number_formats_and_bold_totals() -> None:
    t = table([("王庄村", "张*明", 3, Money(96000), Decimal("7.25")), ("李村", "", 2, None, None)])
    t = ReportTable(
        code=t.code,
        title_zh=t.title_zh,
        title_en=t.title_en,
        columns=t.columns,
        rows=(*t.rows, ("赵村", "", SUPPRESSED, SUPPRESSED, SUPPRESSED)),
        notes=t.notes,
        total_rows=t.total_rows,
    )
    sheet = workbook(t).active
    assert sheet.title == "分村发放汇总"
    assert sheet["A1"].value == "分村发放汇总"
    assert [c.value for c in sheet[2]] == ["村", "姓名", "人数", "金额", "出生率(‰)"]
    assert sheet["A2"].font.bold
    total = sheet[3]
    assert [c.value for c in total][:3] == ["合计", None, 15]
    assert [Decimal(str(c.value)) for c in total[3:]] == [Decimal("1234.56"), Decimal("12.5")]
    assert total[0].font.bold
    assert (total[2].number_format, total[3].number_format) == ("#,##0", "#,##0.00")
    assert total[4].number_format == "0.00"
    assert Decimal(str(sheet["D4"].value)) == Decimal("960.00")
    assert sheet["D4"].data_type == "n"
    assert [c.value for c in sheet[6]][2:] == ["*", "*", "*"]
    assert sheet.freeze_panes == "A3"
    assert sheet["A8"].value == "注：金额单位为元。"


def test_a_report_has_an_about_sheet_with_its_state() -> None:
    t = table([])
    report = Report(
        name="all",
        period=Period.parse("2026-Q1"),
        scope="371502110",
        scope_name="顾官屯镇",
        public=True,
        lang="zh",
        state=RegisterState(audit_id=7, recorded_at=dt.datetime(2026, 4, 1, 8)),
        tables=(t, t),
        digest=table_digest([t, t]),
    )
    out = io.BytesIO()
    render_report(XlsxRenderer(), report, out)
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["说明", "分村发放汇总", "分村发放汇总_2"]
    about = book["说明"]
    values = {
        about.cell(row=r, column=1).value: about.cell(row=r, column=2).value for r in range(3, 9)
    }
    assert values["统计期"] == "2026年第1季度"
    assert values["登记状态"] == "7 (2026-04-01T08:00:00Z)"
    assert values["数据摘要"] == report.digest


TRIGGERED = st.builds(
    lambda c, rest: c + rest, st.sampled_from(FORMULA_TRIGGERS), st.text(max_size=20)
)


@settings(max_examples=25)
@given(
    cells=st.lists(
        st.tuples(st.one_of(TRIGGERED, st.text(max_size=20)), TRIGGERED), min_size=1, max_size=5
    ),
    people=st.integers(-1000, 1000),
)
def test_no_text_cell_becomes_a_formula(cells: list[tuple[str, str]], people: int) -> None:
    rows: list[tuple[Cell, ...]] = [(a, b, people, Money(-people), None) for a, b in cells]
    out = io.BytesIO()
    XlsxRenderer().render(table(rows), out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert "<f>" not in xml
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    for offset, (a, b) in enumerate(cells):
        row = sheet[4 + offset]
        for cell, text in ((row[0], a), (row[1], b)):
            if text:
                assert cell.data_type in ("s", "inlineStr")
                # XML reads a bare CR back as LF; the text is otherwise what was written
                assert cell.value == safe_text(text).replace("\r\n", "\n").replace("\r", "\n")
                assert not str(cell.value).startswith(FORMULA_TRIGGERS)
            else:
                assert cell.value is None
        assert row[2].data_type == "n"
        assert row[2].value == people
        assert Decimal(str(row[3].value)) == Money(-people).to_decimal()


def test_control_characters_do_not_break_the_file() -> None:
    assert safe_text("\x00=1") == "'␀=1"
    assert safe_text("a\x07b") == "a␇b"
    assert safe_text("\t\r") == "'\t\r"
