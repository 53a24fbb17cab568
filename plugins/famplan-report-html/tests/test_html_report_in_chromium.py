"""The HTML report as a reader sees it: rendered in headless Chromium, screenshot and text.

Needs Debian's ``chromium`` and ``fonts-wqy-microhei`` (``scripts/system-deps.sh``); the
tests skip without them, and fail instead when the ``CI`` variable is set.
"""

from __future__ import annotations

import datetime as dt
import html.parser
import io
import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

import pytest

from famplan_core.exchange.importer import import_register
from famplan_core.reporting import (
    CORE_INDICATORS,
    Column,
    Period,
    Report,
    ReportTable,
    render_report,
    run_report,
)
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticSpec, generate, write_register
from famplan_report_html import HtmlRenderer

FONT_FAMILY = "WenQuanYi Micro Hei"
INJECTION = "<script>document.title='pwned'</script><b>粗</b>"


def _has_font(family: str) -> bool:
    """Whether fontconfig knows a font family (Chromium finds its fonts through it)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    listed = subprocess.run(
        [fc_list, ":", "family"], capture_output=True, text=True, timeout=60, check=False
    )
    return family in listed.stdout


def _needed(what: str, present: bool) -> None:
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing, and CI needs it (scripts/system-deps.sh installs it)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    _needed("chromium", found is not None)
    _needed("fonts-wqy-microhei", _has_font(FONT_FAMILY))
    assert found is not None
    return found


def _chromium(binary: str, page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                *args,
                page.as_uri(),
            ],
            capture_output=True,
            timeout=180,
            check=False,
        )


class _Visible(html.parser.HTMLParser):
    """The text of the rendered DOM, without the page's style sheet and head."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.title = ""
        self.in_title = False
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "head"):
            self.hidden += 1
        if tag == "title" and self.hidden:
            self.in_title = True
        if tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "head"):
            self.hidden -= 1
        if tag == "title":
            self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.hidden:
            self.parts.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    folder = tmp_path_factory.mktemp("html")
    write_register(generate(SyntheticSpec(persons=1500, seed=5)), folder / "register")
    storage = SqlStorage(f"sqlite:///{folder / 'famplan.db'}", migrate=True)
    try:
        import_register(
            storage,
            folder / "register",
            today=dt.date(2026, 11, 20),
            actor="clerk",
            recorded_at=dt.datetime(2026, 11, 20, 8),
        )
        result = run_report(
            storage, CORE_INDICATORS, period=Period.parse("2025"), scope="371502110"
        )
    finally:
        storage.close()
    hostile = ReportTable(
        code="names",
        title_zh="名单",
        title_en="Names",
        columns=(Column(key="name", label_zh="姓名", label_en="Name"),),
        rows=((INJECTION,), ("=HYPERLINK(1)",)),
    )
    return Report(
        name=result.name,
        period=result.period,
        scope=result.scope,
        scope_name=result.scope_name,
        public=result.public,
        lang=result.lang,
        state=result.state,
        tables=(*result.tables, hostile),
        digest=result.digest,
    )


@pytest.fixture(scope="module")
def page(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = io.BytesIO()
    render_report(HtmlRenderer(), report, out)
    path = tmp_path_factory.mktemp("page") / "report.html"
    path.write_bytes(out.getvalue())
    return path


def test_the_page_renders_and_shows_the_report(chromium: str, page: Path, report: Report) -> None:
    shot = page.with_suffix(".png")
    done = _chromium(chromium, page, f"--screenshot={shot}", "--window-size=1240,1754")
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1240, 1754)
    assert len(data) > 30_000, "a page of tables and charts, not a blank screenshot"

    dom = _chromium(chromium, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr.decode("utf-8", "replace")[-2000:]
    seen = _Visible()
    seen.feed(dom.stdout.decode("utf-8"))
    text = " ".join(" ".join(seen.parts).split())
    assert seen.title == report.title("zh")
    assert "人口与计划生育统计报表" in text
    assert f"审计第{report.state.audit_id}条" in text
    for table in report.tables:
        assert table.title_zh in text, table.code
    population = report.tables[0]
    total = population.rows[0][-1]
    assert isinstance(total, int)
    assert f"{total:,}" in text  # the township's population, as printed
    assert "出生人口性别比" in text
    assert "95%下限" in text
    # the hostile names are shown as text: no script ran, no element was made
    assert seen.scripts == 0
    assert "<script>document.title='pwned'</script><b>粗</b>" in text
    assert "'=HYPERLINK(1)" in text
    assert "pwned" not in seen.title


def test_charts_are_svg_with_chinese_labels(page: Path) -> None:
    markup = page.read_text("utf-8")
    assert markup.count("<svg") >= 4
    assert FONT_FAMILY in markup
    assert ">0-4岁<" in markup  # the pyramid's age bands
    assert "&lt;script&gt;" in markup
