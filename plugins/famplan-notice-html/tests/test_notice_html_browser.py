"""The printed board in headless Chromium: the screenshot, and the text a passer-by reads.

Skipped when Debian's ``chromium`` is missing, unless ``CI`` is set (then it fails).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import struct
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from famplan_core.model.money import Money
from famplan_core.notices import NoticeRow, PublishedNotice
from famplan_core.privacy import find_citizen_ids
from famplan_notice_html import HtmlBoardRenderer

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
A4_PIXELS = (794, 1123)  # 210 mm x 297 mm at 96 dpi


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed, and CI needs the browser tests")
        pytest.skip("chromium is not installed")
    return found


def run_chromium(*args: str) -> subprocess.CompletedProcess[bytes]:
    with tempfile.TemporaryDirectory(prefix="famplan-chromium-") as profile:
        return subprocess.run(
            [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            timeout=120,
            check=True,
        )


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("style", "script", "head", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.parts.append(data.strip())


def visible_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return "\n".join(parser.parts)


def board() -> PublishedNotice:
    rows = tuple(
        NoticeRow(
            number=i + 1,
            name=name,
            citizen_id=f"371502********{6240 + i}",
            village="王庄村",
            program="rural_reward",
            program_name="农村部分计划生育家庭奖励扶助",
            amount=Money(8000),
        )
        for i, name in enumerate(["张*明", "欧阳*华", "李*", "王*芳"])
    )
    return PublishedNotice(
        notice_id=1,
        title="顾官屯镇2026年11月新增待遇对象公示",
        township="顾官屯镇",
        level="village",
        scope_name="王庄村",
        subject="new_beneficiaries",
        month=dt.date(2026, 11, 1),
        state="posted",
        window_start=dt.date(2026, 11, 2),
        window_end=dt.date(2026, 11, 8),
        complaint_phone="0635-8123456",
        complaint_box="镇政府一楼大厅意见箱",
        intro="根据有关规定，现将本村新增待遇对象予以公示，接受群众监督。",
        masking_note="为保护个人信息，姓名隐去部分字，公民身份号码仅显示前6位和后4位。",
        rows=rows,
    )


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_a4_board_screenshot_and_what_a_passer_by_reads(tmp_path: Path) -> None:
    (page,) = HtmlBoardRenderer().render(board(), tmp_path, paper="A4")
    shot = tmp_path / "board-a4.png"
    run_chromium(
        f"--screenshot={shot}", f"--window-size={A4_PIXELS[0]},{A4_PIXELS[1]}", page.as_uri()
    )
    assert png_size(shot) == A4_PIXELS
    assert shot.stat().st_size > 20_000, "the screenshot is (nearly) blank"
    dom = run_chromium("--dump-dom", page.as_uri()).stdout.decode("utf-8")
    text = visible_text(dom)
    for read in (
        "顾官屯镇2026年11月新增待遇对象公示",
        "2026年11月2日至2026年11月8日",
        "0635-8123456",
        "镇政府一楼大厅意见箱",
        "张*明",
        "欧阳*华",
        "371502********6240",
        "农村部分计划生育家庭奖励扶助",
    ):
        assert read in text, read
    assert find_citizen_ids(text) == []


def test_a4_board_prints_to_one_a4_page(tmp_path: Path) -> None:
    (page,) = HtmlBoardRenderer().render(board(), tmp_path, paper="A4")
    pdf = tmp_path / "printed.pdf"
    run_chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(str(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
        210,
        297,
    )
    assert "0635-8123456" in reader.pages[0].extract_text()
