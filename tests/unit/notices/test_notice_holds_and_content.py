"""The hold rule the payment roll consults, the content's JSON and the CSV renderer."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from famplan_core.model.money import Money
from famplan_core.notices import (
    NOTICE_CSV_COLUMNS,
    CsvNoticeRenderer,
    NoticeHolds,
    NoticeRow,
    PublishedNotice,
    WithheldRow,
)
from famplan_core.notices.holds import _Line

NOV, DEC, JAN = dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)
KEY = ("rural_reward", "P1")


def line(month: dt.date, status: str, notice: int = 1, **kw: object) -> _Line:
    return _Line(
        month=month,
        notice_id=notice,
        objection_id=int(kw.get("objection", 0)),  # type: ignore[call-overload]
        status=status,
        corrected_fen=kw.get("fen"),  # type: ignore[arg-type]
    )


def holds(*lines: _Line) -> NoticeHolds:
    return NoticeHolds(lines={KEY: lines})


def test_no_line_pays_as_run() -> None:
    assert NoticeHolds.empty().entitlement(*KEY, NOV, 8000) == 8000
    assert not NoticeHolds.empty()


def test_held_lines_hold_their_month_and_later_ones() -> None:
    h = holds(line(NOV, "held"))
    assert h.entitlement(*KEY, NOV, 8000) is None
    assert h.entitlement(*KEY, DEC, 8000) is None
    assert h.entitlement(*KEY, dt.date(2026, 10, 1), 8000) == 8000
    assert h.held_notices(*KEY, DEC) == (1,)


def test_withdrawal_lasts_until_a_later_notice_releases() -> None:
    assert holds(line(NOV, "withdrawn")).entitlement(*KEY, DEC, 8000) == 0
    later = holds(line(NOV, "withdrawn"), line(JAN, "released", notice=2))
    assert later.entitlement(*KEY, DEC, 8000) == 0
    assert later.entitlement(*KEY, JAN, 8000) == 8000
    # the same month at two levels: a withdrawal on either wins over a release
    both = holds(line(NOV, "withdrawn", notice=1), line(NOV, "released", notice=2))
    assert both.entitlement(*KEY, NOV, 8000) == 0


def test_correction_applies_to_its_own_month() -> None:
    h = holds(line(NOV, "corrected", fen=4000, objection=3))
    assert h.entitlement(*KEY, NOV, 8000) == 4000
    assert h.entitlement(*KEY, DEC, 8000) == 8000


def test_grants_follow_their_line() -> None:
    h = NoticeHolds(
        grants={
            1: line(NOV, "held"),
            2: line(NOV, "withdrawn"),
            3: line(NOV, "corrected", fen=100),
            4: line(NOV, "released"),
        }
    )
    assert [h.grant(i, 500) for i in (1, 2, 3, 4, 5)] == [None, 0, 100, 500, 500]


def notice(**changes: object) -> PublishedNotice:
    values: dict[str, object] = {
        "notice_id": 7,
        "title": "顾官屯镇2026年11月新增待遇对象公示",
        "township": "顾官屯镇",
        "level": "village",
        "scope_name": "王庄村",
        "place": "第三村民小组",
        "subject": "new_beneficiaries",
        "month": NOV,
        "state": "posted",
        "window_start": dt.date(2026, 11, 2),
        "window_end": dt.date(2026, 11, 8),
        "complaint_phone": "0635-1234567",
        "complaint_box": "镇政府一楼大厅意见箱",
        "intro": "根据有关规定……",
        "masking_note": "为保护个人信息……",
        "rows": (
            NoticeRow(
                number=1,
                name="=HYPERLINK(1)*",
                citizen_id="110105********002X",
                village="王庄村",
                program="rural_reward",
                program_name="农村部分计划生育家庭奖励扶助",
                amount=Money(8000),
            ),
        ),
        "withheld": (
            WithheldRow(
                program="childcare_subsidy", program_name="育儿补贴", count=2, amount=Money(60000)
            ),
        ),
    }
    values.update(changes)
    return PublishedNotice(**values)  # type: ignore[arg-type]


def test_content_round_trips_and_has_a_stable_digest() -> None:
    content = notice()
    again = PublishedNotice.from_json(content.to_json())
    assert again == content
    assert again.sha256 == content.sha256
    assert content.total == Money(68000)
    assert content.count == 3
    assert content.window_text == "2026年11月2日至2026年11月8日"
    assert notice(window_start=None, window_end=None).window_text == "待定（草稿）"


def test_csv_is_excel_friendly_and_formula_safe(tmp_path: Path) -> None:
    (path,) = CsvNoticeRenderer().render(notice(), tmp_path)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == NOTICE_CSV_COLUMNS
    assert rows[1] == [
        "1",
        "'=HYPERLINK(1)*",
        "110105********002X",
        "王庄村",
        "农村部分计划生育家庭奖励扶助",
        "80.00",
        "1",
    ]
    assert rows[2][1].startswith("（14周岁以下儿童")
    assert rows[2][3] == ""
    assert rows[2][5:] == ["600.00", "2"]
