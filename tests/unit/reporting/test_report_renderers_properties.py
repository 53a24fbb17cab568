"""Every registered report renderer: no formula injection, no citizen ID in a public output.

The renderers are listed from the hooks (`PluginManager.report_renderers`), so a plugin's
renderer is tested as soon as it is installed. Each format has a *reader* below that gives
back what a person opening the file sees, cell by cell; a registered renderer without a
reader fails the test instead of being skipped (spec R5 and R6).

* Formula injection (R5): text cells carrying ``=``, ``+``, ``-``, ``@``, tab, CR and NUL
  payloads, in every text column; in every spreadsheet-like output no cell may start with
  one of those characters unless it is a number, and no cell may be a formula. JSON is a
  data format nobody opens as a spreadsheet: there the text must come back exactly.
* Masking (R6): text cells carrying valid citizen ID numbers, published with
  `publish_table`; no ID-shaped run may be left anywhere in any output.
"""

from __future__ import annotations

import csv
import datetime as dt
import html.parser
import io
import json
import re
import zipfile
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famplan_core.model.identity import CitizenId
from famplan_core.model.money import Money
from famplan_core.plugin_manager import PluginManager
from famplan_core.privacy import find_citizen_ids
from famplan_core.reporting import (
    SUPPRESSED,
    Cell,
    Column,
    Period,
    RegisterState,
    Report,
    ReportTable,
    publish_table,
    render_report,
    table_digest,
)
from famplan_core.reporting.table import FORMULA_TRIGGERS

NUMBER = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?$")

RENDERERS = PluginManager.assemble(environ={}).report_renderers()


# -- readers: what a person opening the output sees, cell by cell ------------------------------


def read_csv(data: bytes) -> list[str]:
    text = data.decode("utf-8-sig")
    return [c for row in csv.reader(io.StringIO(text, newline="")) for c in row]


def read_markdown(data: bytes) -> list[str]:
    cells: list[str] = []
    for line in data.decode("utf-8").splitlines():
        if line.startswith("|"):
            parts = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            cells += [p.strip() for p in parts if not set(p.strip()) <= set("-:")]
        elif line.startswith(("## ", "- ")):
            cells.append(line[2:].lstrip(" #"))
    return cells


class _Cells(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.cells: list[str] = []
        self.depth = 0
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("td", "th"):
            self.depth += 1
            self.cells.append("")
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth > 0:
            self.cells[-1] += data


def read_html(data: bytes) -> list[str]:
    parser = _Cells()
    parser.feed(data.decode("utf-8"))
    assert parser.scripts == 0, "an HTML report has no script, and no text became one"
    return [c.strip("\n") for c in parser.cells]


def read_xlsx(data: bytes) -> list[str]:
    openpyxl = pytest.importorskip("openpyxl")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml, f"a formula in {name}"
                assert "<f " not in xml, f"a formula in {name}"
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    cells: list[str] = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{sheet.title}!{c.coordinate} is a formula"
                if c.data_type in ("s", "inlineStr") and c.value is not None:
                    cells.append(str(c.value))
                elif c.value is not None:
                    assert isinstance(c.value, int | float | Decimal), c.value
    return cells


def read_json(data: bytes) -> list[str]:
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(data.decode("utf-8")))
    return strings


SPREADSHEET_LIKE: dict[str, Callable[[bytes], list[str]]] = {
    "csv": read_csv,
    "markdown": read_markdown,
    "html": read_html,
    "xlsx": read_xlsx,
}
"""Outputs a person may open in a spreadsheet (Excel opens HTML tables too)."""

DATA_FORMATS: dict[str, Callable[[bytes], list[str]]] = {"json": read_json}
"""Outputs read by programs: their text must come back exactly."""


def test_every_registered_renderer_has_a_reader() -> None:
    """A renderer this test cannot read back would be skipped silently: fail instead."""
    assert {"csv", "json"} <= set(RENDERERS)
    unread = set(RENDERERS) - set(SPREADSHEET_LIKE) - set(DATA_FORMATS)
    assert not unread, f"renderers without a reader in this test: {sorted(unread)}"


# -- tables --------------------------------------------------------------------------------

PAYLOADS = [
    "=1+1",
    '=HYPERLINK("http://x","点击")',
    "+1",
    "-1+2",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\0=1",
    "<script>alert(1)</script>",
]

COLUMNS = (
    Column(key="village", label_zh="村", label_en="Village"),
    Column(key="note", label_zh="说明", label_en="Note"),
    Column(key="people", label_zh="人数", label_en="People", kind="number"),
    Column(key="amount", label_zh="金额", label_en="Amount", kind="amount"),
    Column(key="rate", label_zh="率", label_en="Rate", kind="decimal", places=2),
)

texts = st.one_of(
    st.sampled_from(PAYLOADS),
    st.builds(
        lambda c, rest: c + rest,
        st.sampled_from(FORMULA_TRIGGERS),
        st.text(max_size=12),
    ),
    st.text(max_size=12),
)
rows = st.tuples(
    texts,
    texts,
    st.integers(-10_000, 10_000),
    st.integers(-(10**9), 10**9).map(Money),
    st.decimals(-1000, 1000, places=2, allow_nan=False, allow_infinity=False),
)


def make_table(data: list[tuple[Cell, ...]], note: str = "注") -> ReportTable:
    return ReportTable(
        code="test",
        title_zh="测试表",
        title_en="Test table",
        columns=COLUMNS,
        rows=(*data, ("合计", None, SUPPRESSED, None, None)),
        notes=(note,),
        total_rows=(len(data),),
    )


def make_report(tables: list[ReportTable]) -> Report:
    return Report(
        name="all",
        period=Period.parse("2026"),
        scope="371502110",
        scope_name="测试镇",
        public=True,
        lang="zh",
        state=RegisterState(audit_id=3, recorded_at=dt.datetime(2026, 1, 2, 3, 4, 5)),
        tables=tuple(tables),
        digest=table_digest(tables),
    )


def outputs(table: ReportTable) -> dict[str, list[bytes]]:
    """Every registered renderer's output: one table alone, and a whole report."""
    found: dict[str, list[bytes]] = {}
    for name, renderer_class in sorted(RENDERERS.items()):
        one, whole = io.BytesIO(), io.BytesIO()
        renderer_class().render(table, one, lang="zh")
        render_report(renderer_class(), make_report([table]), whole, lang="zh")
        found[name] = [one.getvalue(), whole.getvalue()]
    return found


def _is_safe(cell: str) -> bool:
    return not cell.startswith(FORMULA_TRIGGERS) or bool(NUMBER.match(cell))


@settings(max_examples=40)
@given(data=st.lists(rows, min_size=1, max_size=4), note=texts)
def test_no_text_cell_becomes_a_formula(data: list[tuple[Cell, ...]], note: str) -> None:
    table = make_table(data, note)
    for name, blobs in outputs(table).items():
        for blob in blobs:
            if name in DATA_FORMATS:
                strings = DATA_FORMATS[name](blob)
                for row in data:
                    for text in row[:2]:
                        assert text in strings, (name, text)
                continue
            cells = SPREADSHEET_LIKE[name](blob)
            unsafe = [c for c in cells if not _is_safe(c)]
            assert not unsafe, f"{name}: cells that a spreadsheet runs as formulas: {unsafe!r}"


def _citizen_ids() -> st.SearchStrategy[str]:
    def build(prefix: str, born: dt.date, sequence: int) -> str:
        first17 = f"{prefix}{born:%Y%m%d}{sequence:03d}"
        return first17 + CitizenId.check_character(first17)

    return st.builds(
        build,
        st.sampled_from(["371502", "110105", "440524", "330113"]),
        st.dates(dt.date(1930, 1, 1), dt.date(2025, 12, 31)),
        st.integers(0, 999),
    )


@settings(max_examples=40)
@given(
    ids=st.lists(_citizen_ids(), min_size=1, max_size=3),
    before=st.sampled_from(["", "身份证", "=", " ", "ID:"]),
    after=st.sampled_from(["", "号", "\t", "x"]),
)
def test_a_public_output_holds_no_citizen_id(ids: list[str], before: str, after: str) -> None:
    data: list[tuple[Cell, ...]] = [
        (f"{before}{cid}{after}", f"王庄村{cid}", 1, Money(100), Decimal("1.00")) for cid in ids
    ]
    table = publish_table(make_table(data, note=f"备注 {ids[0]}"))
    for name, blobs in outputs(table).items():
        for blob in blobs:
            if name == "xlsx":
                with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                    text = "".join(
                        archive.read(n).decode("utf-8", "replace") for n in archive.namelist()
                    )
            else:
                text = blob.decode("utf-8-sig")
            leaks = find_citizen_ids(text)
            assert not leaks, f"{name}: {leaks}"
