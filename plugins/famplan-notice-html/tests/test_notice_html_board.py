"""The board, site and PDF renderers of famplan-notice-html."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import attrs
import pytest

from famplan_core.model.money import Money
from famplan_core.notices import NoticeRow, PublishedNotice, WithheldRow
from famplan_core.plugin_manager import PluginManager
from famplan_core.privacy import find_citizen_ids
from famplan_notice_html import (
    HtmlBoardRenderer,
    PdfRenderer,
    SiteRenderer,
    board_html,
    site_page_html,
)


def sample(**changes: object) -> PublishedNotice:
    rows = tuple(
        NoticeRow(
            number=i + 1,
            name=name,
            citizen_id=f"371502********{1000 + i}",
            village=village,
            program="rural_reward",
            program_name="农村部分计划生育家庭奖励扶助",
            amount=Money(8000),
        )
        for i, (name, village) in enumerate(
            [("张*明", "王庄村"), ("欧阳*华", "李屯村"), ("<script>alert(1)</script>*", "王庄村")]
        )
    )
    values: dict[str, object] = {
        "notice_id": 3,
        "title": "顾官屯镇2026年11月新增待遇对象公示",
        "township": "顾官屯镇",
        "level": "village",
        "scope_name": "王庄村",
        "subject": "new_beneficiaries",
        "month": dt.date(2026, 11, 1),
        "state": "posted",
        "window_start": dt.date(2026, 11, 2),
        "window_end": dt.date(2026, 11, 8),
        "complaint_phone": "0635-8123456",
        "complaint_box": "镇政府一楼大厅意见箱",
        "intro": "根据有关规定，现将本村新增待遇对象予以公示，接受群众监督。",
        "masking_note": "为保护个人信息，姓名隐去部分字。",
        "rows": rows,
        "withheld": (
            WithheldRow(
                program="childcare_subsidy", program_name="育儿补贴", count=2, amount=Money(60000)
            ),
        ),
    }
    values.update(changes)
    return PublishedNotice(**values)  # type: ignore[arg-type]


def test_found_through_entry_point() -> None:
    manager = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": "notice-html"})
    info = {p.name: p for p in manager.plugins()}["notice-html"]
    assert info.distribution == "famplan-notice-html"
    assert info.hooks == ("famplan_register_notice_renderers",)
    assert {"html", "site", "pdf"} <= set(manager.notice_renderers())


def test_board_shows_header_window_list_and_complaint_channels() -> None:
    page = board_html(sample())
    for shown in (
        "顾官屯镇2026年11月新增待遇对象公示",
        "公示期：<strong>2026年11月2日至2026年11月8日</strong>",
        "0635-8123456",
        "镇政府一楼大厅意见箱",
        "张*明",
        "371502********1000",
        "另有14周岁以下儿童 2 名享受育儿补贴",
        "合计 5 人",
        "@page { size: A4 portrait",
    ):
        assert shown in page, shown
    assert find_citizen_ids(page) == []


def test_board_escapes_what_it_prints() -> None:
    page = board_html(sample())
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;*" in page
    assert 'font-family: "Notice CJK"' in page  # the style sheet is not escaped


def test_a3_and_draft_and_taken_down() -> None:
    assert "@page { size: A3 portrait" in board_html(sample(), paper="A3")
    draft = board_html(sample(state="draft", window_start=None, window_end=None))
    assert "草稿 · 尚未公示" in draft
    assert "待定（草稿）" in draft
    down = board_html(sample(state="closed", rows=(), withheld=(), listed=False))
    assert "公示期已结束，名单已撤下。" in down
    assert "张*明" not in down
    with pytest.raises(ValueError, match="A4 or A3"):
        board_html(sample(), paper="A5")


def test_board_file_names(tmp_path: Path) -> None:
    (a4,) = HtmlBoardRenderer().render(sample(), tmp_path)
    (a3,) = HtmlBoardRenderer().render(sample(), tmp_path, paper="A3")
    assert (a4.name, a3.name) == ("notice-3-a4.html", "notice-3-a3.html")


def test_site_keeps_an_index_and_takes_lists_down(tmp_path: Path) -> None:
    renderer = SiteRenderer()
    renderer.render(sample(), tmp_path)
    renderer.render(attrs.evolve(sample(), notice_id=4, scope_name="李屯村"), tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert index.count("<li>") == 2
    assert 'href="notice-4.html"' in index
    assert "李屯村" in index
    renderer.render(sample(state="closed", rows=(), withheld=(), listed=False), tmp_path)
    page = (tmp_path / "notice-3.html").read_text(encoding="utf-8")
    assert "名单已撤下" in page
    assert "张*明" not in page
    manifest = json.loads((tmp_path / "notices.json").read_text(encoding="utf-8"))
    assert [e["notice_id"] for e in manifest["notices"]] == [4, 3]
    assert "（已结束）" in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert 'href="style.css"' in site_page_html(sample())


def test_pdf_has_the_chinese_text_and_a_cjk_font(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("weasyprint")
    (path,) = PdfRenderer().render(sample(), tmp_path)
    reader = pypdf.PdfReader(str(path))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "顾官屯镇2026年11月新增待遇对象公示" in text
    assert "371502********1000" in text
    assert "0635-8123456" in text
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
    }
    assert any("CJK" in f or "WenQuanYi" in f or "Hei" in f for f in fonts), fonts
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == (
        210,
        297,
    )
