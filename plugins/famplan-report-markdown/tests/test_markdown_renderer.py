"""The Markdown renderer, found through its entry point like any installed plugin."""

from __future__ import annotations

import html.parser
import io
import string

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from famplan_core.model.money import Money
from famplan_core.plugin_manager import PluginManager
from famplan_core.reporting import Column, ReportTable, spreadsheet_safe
from famplan_report_markdown import MarkdownRenderer


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
    assert "| \\'\\=cmd\\(\\) | -5.00 |" in text


class _Page(html.parser.HTMLParser):
    """The tags of a rendered page, and the text of each table cell."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.cells: list[str] = []
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in ("td", "th"):
            self.cells.append("")
            self._in_cell = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th"):
            self._in_cell = False

    def handle_data(self, data: str) -> None:
        if self._in_cell:
            self.cells[-1] += data


# Printable text, heavy in what Markdown and HTML treat as markup.
PIECES = st.one_of(
    st.sampled_from([*string.punctuation, "javascript:", "http://x.cn", "&amp;", "<b>", "王"]),
    st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")),
)
TEXT = st.lists(PIECES, min_size=1, max_size=20).map("".join).filter(lambda t: t.strip() != "")


@given(village=TEXT, note=TEXT)
@settings(max_examples=300)
def test_a_cell_shows_its_text_and_never_becomes_markup(village: str, note: str) -> None:
    table = ReportTable(
        code="t",
        title_zh=village,
        title_en=village,
        columns=(
            Column(key="village", label_zh="村", label_en="Village"),
            Column(key="amount", label_zh="金额", label_en="Amount", kind="amount"),
        ),
        rows=((village, Money.parse("80.00")),),
        notes=(note,),
    )
    out = io.BytesIO()
    MarkdownRenderer().render(table, out, lang="en")
    page = _Page()
    page.feed(MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(
        out.getvalue().decode("utf-8")
    ))  # fmt: skip
    assert page.tags <= {"h2", "table", "thead", "tbody", "tr", "th", "td", "ul", "li"}
    shown = " ".join(spreadsheet_safe(village).split())
    assert [" ".join(c.split()) for c in page.cells] == ["Village", "Amount", shown, "80.00"]
