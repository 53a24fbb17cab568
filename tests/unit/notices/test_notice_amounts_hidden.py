"""A special assistance amount tells its category (death or disability): notices hide it.

Special assistance pays 170.00 a month for a rural family whose child died and 150.00 for a
disabled child (340.00 and 270.00 in towns), so a published amount, or a total from which
the other lines can be subtracted, would publish the category. The notice service hides the
amounts of every program with categories; the others keep theirs.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.model.money import Money
from famplan_core.notices import (
    NoticeService,
    NoticeSubject,
    PublishedNotice,
    mask_subjects,
    notice_csv,
)
from famplan_core.privacy import MaskingPolicy
from famplan_core.programs.national import national_programs
from famplan_core.storage import SqlStorage

famplan_notice_html = pytest.importorskip("famplan_notice_html")

ON = dt.date(2026, 11, 2)
NOV = dt.date(2026, 11, 1)
VILLAGE = "371502110201"
HIDDEN_TEXT = "按标准发放"


def subject(person: str, program: str, fen: int, **changes: object) -> NoticeSubject:
    values: dict[str, object] = {
        "person_id": person,
        "name": "张三明",
        "citizen_id": "11010519491231002X",
        "birth_date": dt.date(1949, 12, 31),
        "village": VILLAGE,
        "program": program,
        "amount": Money(fen),
    }
    values.update(changes)
    return NoticeSubject(**values)  # type: ignore[arg-type]


SPECIAL = subject("P1", "special_assistance", 17000, category="death")
REWARD = subject("P2", "rural_reward", 8000, name="欧阳春华")
CHILD = subject(
    "P3", "special_assistance", 15000, category="disability", birth_date=dt.date(2015, 5, 1)
)


@pytest.fixture
def service(tmp_path: Path) -> NoticeService:
    return NoticeService(
        SqlStorage(f"sqlite:///{tmp_path / 'famplan.db'}", migrate=True),
        division="371502110000",
        township="顾官屯镇",
        programs={p.code: p for p in national_programs()},
        villages={VILLAGE: "王庄村"},
    )


def content(service: NoticeService, *subjects: NoticeSubject) -> PublishedNotice:
    return service._content(
        notice_id=1,
        subjects=subjects,
        numbers=range(1, len(subjects) + 1),
        subject="new_beneficiaries",
        month=NOV,
        level="village",
        scope=VILLAGE,
        place="",
        state="posted",
        on=ON,
        window=(ON, dt.date(2026, 11, 8)),
    )


def published_texts(notice: PublishedNotice) -> dict[str, str]:
    return {
        "json": notice.to_json(),
        "csv": notice_csv(notice),
        "board": famplan_notice_html.board_html(notice),
        "site": famplan_notice_html.site_page_html(notice),
    }


def test_the_masking_view_gives_no_amount_for_a_hidden_program() -> None:
    rows, withheld = mask_subjects(
        [SPECIAL, REWARD, CHILD],
        policy=MaskingPolicy(),
        on=ON,
        villages={},
        program_names={},
        hidden_amount_programs=frozenset({"special_assistance"}),
    )
    assert [(r.program, r.amount) for r in rows] == [
        ("special_assistance", None),
        ("rural_reward", Money(8000)),
    ]
    assert rows[0].as_dict()["amount"] is None
    assert [(w.program, w.count, w.amount) for w in withheld] == [("special_assistance", 1, None)]
    assert withheld[0].as_dict()["amount"] is None


def test_the_service_hides_the_amounts_of_programs_with_categories(
    service: NoticeService,
) -> None:
    notice = content(service, SPECIAL, REWARD)
    assert [(r.program, r.amount) for r in notice.rows] == [
        ("special_assistance", None),
        ("rural_reward", Money(8000)),
    ]
    assert notice.amounts_hidden
    assert notice.shown_total is None
    assert PublishedNotice.from_json(notice.to_json()) == notice
    for kind, text in published_texts(notice).items():
        for leak in ("170.00", "17000", "250.00", "25000"):
            assert leak not in text, (kind, leak)
        assert "80.00" in text, kind
    csv_lines = notice_csv(notice).splitlines()
    assert csv_lines[1].split(",")[5] == ""
    board = famplan_notice_html.board_html(notice)
    assert HIDDEN_TEXT in board
    assert "合计 2 人" in board


def test_a_withheld_child_of_a_hidden_program_shows_no_amount(service: NoticeService) -> None:
    notice = content(service, REWARD, CHILD)
    assert notice.withheld[0].amount is None
    for kind, text in published_texts(notice).items():
        for leak in ("150.00", "15000", "230.00"):
            assert leak not in text, (kind, leak)
    assert HIDDEN_TEXT in famplan_notice_html.board_html(notice)


def test_programs_without_categories_keep_their_amounts_and_total(
    service: NoticeService,
) -> None:
    notice = content(service, REWARD, subject("P4", "rural_reward", 8000))
    assert [r.amount for r in notice.rows] == [Money(8000), Money(8000)]
    assert not notice.amounts_hidden
    assert notice.shown_total == Money(16000)
    for kind, text in published_texts(notice).items():
        assert "80.00" in text, kind
        # the total is printed on the pages (the JSON and the CSV hold the lines only)
        assert ("160.00" in text) == (kind in ("board", "site")), kind
    assert HIDDEN_TEXT not in famplan_notice_html.board_html(notice)


def test_hardship_grants_keep_their_amounts(service: NoticeService) -> None:
    grant = subject("P5", "hardship_relief", 50000, grant_id=1)
    notice = service._content(
        notice_id=2,
        subjects=[grant],
        numbers=[1],
        subject="hardship_grants",
        month=NOV,
        level="township",
        scope="371502110000",
        place="",
        state="posted",
        on=ON,
        window=(ON, dt.date(2026, 11, 8)),
    )
    assert notice.rows[0].amount == Money(50000)
    assert notice.shown_total == Money(50000)
    assert "500.00" in famplan_notice_html.board_html(notice)


CATEGORIES = ("death", "disability")
_PROGRAMS = ("special_assistance", "rural_reward", "only_child_reward", "childcare_subsidy")


@st.composite
def subjects(draw: st.DrawFn) -> list[NoticeSubject]:
    """A random month's new beneficiaries of two villages, with random categories."""
    found = []
    for n in range(draw(st.integers(min_value=1, max_value=8))):
        program = draw(st.sampled_from(_PROGRAMS))
        born = draw(st.dates(min_value=dt.date(1940, 1, 1), max_value=dt.date(2026, 10, 1)))
        found.append(
            subject(
                f"P{n:03d}",
                program,
                draw(st.integers(min_value=1, max_value=100_000)),
                category=draw(st.sampled_from(CATEGORIES))
                if program == "special_assistance"
                else None,
                birth_date=born,
                village=draw(st.sampled_from([VILLAGE, "371502110202"])),
            )
        )
    return found


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    found=subjects(),
    flips=st.sets(st.integers(min_value=0, max_value=7)),
    fen=st.integers(1, 99_999),
)
def test_a_notice_is_the_same_whatever_the_categories(
    service: NoticeService, found: list[NoticeSubject], flips: set[int], fen: int
) -> None:
    """Another world where some special assistance lines have the other category, and
    another amount, prints the same notice at every level, in every format."""
    other = [
        attrs.evolve(
            s,
            category=CATEGORIES[1 - CATEGORIES.index(str(s.category))],
            amount=Money(fen),
        )
        if s.category is not None and n in flips
        else s
        for n, s in enumerate(found)
    ]
    for level, scope in (("township", "371502110000"), ("village", VILLAGE)):
        real, flipped = (
            service._content(
                notice_id=1,
                subjects=service._ordered(list(items)),
                numbers=range(1, len(items) + 1),
                subject="new_beneficiaries",
                month=NOV,
                level=level,  # type: ignore[arg-type]
                scope=scope,
                place="",
                state="posted",
                on=ON,
                window=(ON, dt.date(2026, 11, 8)),
            )
            for items in (found, other)
        )
        assert published_texts(real) == published_texts(flipped)
