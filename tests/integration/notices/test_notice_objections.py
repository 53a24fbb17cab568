"""Notices hold payments, objections withdraw them, closing releases them (issue 7, part 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core.benefits import BenefitService
from famplan_core.errors import DomainError, ValidationError
from famplan_core.exchange.importer import import_register
from famplan_core.model.money import Money
from famplan_core.notices import NoticeService
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import Clock, write_synthetic

DIVISION = "371502110"
NOV = "2026-11"
POSTED = dt.date(2026, 11, 2)
CLOSING = dt.datetime(2026, 11, 9, 1)  # 09:00 in China, the day after the window


@pytest.fixture
def clock() -> Clock:
    """Record times from 09:00 on 2 November in China, the day the notices go up."""
    return Clock(dt.datetime(2026, 11, 2, 1))


def closing_day(clock: Clock) -> dt.datetime:
    """A record time on 9 November, when the notices may close."""
    clock.advance_to(CLOSING)
    return clock()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    folder = tmp_path_factory.mktemp("register")
    return write_synthetic(folder, persons=2000, seed=23), folder


@pytest.fixture
def storage(
    storage_url: str, synthetic: tuple[SyntheticRegister, Path], clock: Clock
) -> Iterator[SqlStorage]:
    store = SqlStorage(storage_url, migrate=True)
    import_register(
        store, synthetic[1], today=dt.date(2026, 11, 20), actor="t", recorded_at=clock()
    )
    yield store
    store.close()


@pytest.fixture
def benefits(storage: SqlStorage, clock: Clock) -> BenefitService:
    svc = BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=DIVISION,
    )
    svc.run(NOV, actor="t", recorded_at=clock())
    return svc


@pytest.fixture
def notices(
    storage: SqlStorage, benefits: BenefitService, synthetic: tuple[SyntheticRegister, Path]
) -> NoticeService:
    return NoticeService(
        storage,
        division=DIVISION,
        township="顾官屯镇",
        programs=benefits.programs,
        villages=synthetic[0].village_names,
    )


def township_notice(notices: NoticeService, clock: Clock) -> int:
    (made,) = notices.draft(NOV, level="township", actor="clerk", recorded_at=clock())
    notices.post(made.notice_id, on=POSTED, actor="clerk", recorded_at=clock())
    return made.notice_id


def paid_to(roll: object, person_id: str) -> list[tuple[str, str, str]]:
    return [
        (line.kind, line.month.isoformat(), str(line.amount))
        for line in roll.lines  # type: ignore[attr-defined]
        if line.person_id == person_id and line.source != "grant"
    ]


def test_new_beneficiaries_are_entitled_and_not_enrolled(notices: NoticeService) -> None:
    found = notices.new_beneficiaries(NOV)
    assert found, "the synthetic register leaves some eligible people out of the enrolments"
    with notices.storage.reader() as reader:
        columns, rows = reader.export_rows("enrolments")
        enrolments = [dict(zip(columns, r, strict=True)) for r in rows]
    enrolled = {(e["program"], e["person_id"]) for e in enrolments if e["since"] < "2026-11-01"}
    assert not {(s.program, s.person_id) for s in found} & enrolled


def test_upheld_objection_removes_the_person_from_the_month_and_is_audited(
    notices: NoticeService, benefits: BenefitService, clock: Clock
) -> None:
    notice_id = township_notice(notices, clock)
    notice = notices.get(notice_id)
    line = next(x for x in notice.lines if x.published)
    objection = notices.object(
        notice_id,
        line=line.line_no,
        objector="王某",
        content="此人有两个儿子，不符合条件",
        channel="phone",
        received_on=dt.date(2026, 11, 3),
        actor="clerk",
        recorded_at=clock(),
    )
    assert objection.status == "under_review"
    decided = notices.decide(
        objection.objection_id,
        decision="upheld",
        reason="核实：另有一子，户籍未登记",
        decided_on=dt.date(2026, 11, 5),
        actor="director-li",
        recorded_at=clock(),
    )
    assert (decided.status, decided.outcome, decided.decided_by) == (
        "upheld",
        "withdraw",
        "director-li",
    )
    with pytest.raises(DomainError, match="already decided"):
        notices.decide(
            objection.objection_id,
            decision="dismissed",
            reason="x",
            decided_on=dt.date(2026, 11, 6),
            actor="director-li",
            recorded_at=clock(),
        )
    # during the window: the withdrawn person is out, the others are held as pending
    roll = benefits.roll(NOV, actor="t", recorded_at=clock())
    assert paid_to(roll, line.person_id) == []
    assert any("held as pending" in w for w in roll.warnings)
    others = [x for x in notice.lines if x.line_no != line.line_no]
    assert all(paid_to(roll, x.person_id) == [] for x in others)

    closed = notices.close(
        notice_id, on=dt.date(2026, 11, 9), actor="clerk", recorded_at=closing_day(clock)
    )
    assert closed.state == "closed"
    by_line = {x.line_no: x.status for x in closed.lines}
    assert by_line[line.line_no] == "withdrawn"
    assert {by_line[x.line_no] for x in others} <= {"released"}
    # released after the November roll: paid as November arrears in December
    benefits.run("2026-12", actor="t", recorded_at=clock())
    december = benefits.roll("2026-12", actor="t", recorded_at=clock())
    assert paid_to(december, line.person_id) == []
    for other in others:
        got = paid_to(december, other.person_id)
        assert ("arrears", "2026-11-01", str(other.amount)) in got, got

    # the audit shows who decided what and when
    with notices.storage.reader() as reader:
        entries = {e.operation: e for e in reader.list_audit()}
    entry = entries["notice-decide"]
    assert entry.actor == "director-li"
    assert entry.recorded_at is not None
    assert entry.summary["decision"] == "upheld"
    assert entry.summary["outcome"] == "withdraw"
    assert entry.summary["line"] == line.line_no
    assert entry.summary["reason"] == "核实：另有一子，户籍未登记"
    assert entry.summary["decided_on"] == "2026-11-05"
    notices.storage.verify_audit()


def test_dismissed_objection_releases_the_payment_at_closing(
    notices: NoticeService, benefits: BenefitService, clock: Clock
) -> None:
    notice_id = township_notice(notices, clock)
    line = next(x for x in notices.get(notice_id).lines if x.published)
    objection = notices.object(
        notice_id,
        line=line.line_no,
        objector="匿名",
        content="怀疑不符合",
        channel="box",
        received_on=dt.date(2026, 11, 8),
        actor="clerk",
        recorded_at=clock(),
    )
    with pytest.raises(DomainError, match="under review"):
        notices.close(
            notice_id, on=dt.date(2026, 11, 9), actor="clerk", recorded_at=closing_day(clock)
        )
    notices.decide(
        objection.objection_id,
        decision="dismissed",
        reason="经核实符合条件",
        decided_on=dt.date(2026, 11, 8),
        actor="director-li",
        recorded_at=clock(),
    )
    assert notices.get(notice_id).lines[line.line_no - 1].status == "held"
    with pytest.raises(DomainError, match="posted until 2026-11-08"):
        notices.close(
            notice_id, on=dt.date(2026, 11, 8), actor="clerk", recorded_at=closing_day(clock)
        )
    notices.close(notice_id, on=dt.date(2026, 11, 9), actor="clerk", recorded_at=closing_day(clock))
    roll = benefits.roll(NOV, actor="t", recorded_at=clock())
    assert paid_to(roll, line.person_id) == [("regular", "2026-11-01", str(line.amount))]
    assert not any("held" in w for w in roll.warnings)


def test_upheld_objection_after_payment_is_recovered(
    notices: NoticeService, benefits: BenefitService, clock: Clock
) -> None:
    roll = benefits.roll(NOV, actor="t", recorded_at=clock())  # paid before any notice
    notice_id = township_notice(notices, clock)
    line = next(x for x in notices.get(notice_id).lines if x.published)
    assert paid_to(roll, line.person_id) == [("regular", "2026-11-01", str(line.amount))]
    objection = notices.object(
        notice_id,
        line=line.line_no,
        objector="村民张某",
        content="金额有误",
        channel="in_person",
        received_on=POSTED,
        actor="clerk",
        recorded_at=clock(),
    )
    corrected = Money(line.amount.fen // 2)
    decided = notices.decide(
        objection.objection_id,
        decision="upheld",
        reason="类别认定错误",
        amount=corrected,
        decided_on=POSTED,
        actor="director-li",
        recorded_at=clock(),
    )
    assert decided.outcome == "correct"
    assert decided.settlement == ((dt.date(2026, 11, 1), corrected - line.amount),)
    with notices.storage.reader() as reader:
        a = bt.arrears.c
        rows = reader.connection.execute(
            sa.select(a.amount_fen, a.due_fen, a.paid_fen).where(a.person_id == line.person_id)
        ).all()
    assert rows == [((corrected - line.amount).fen, corrected.fen, line.amount.fen)]


def test_objections_outside_the_window_or_without_reason_are_refused(
    notices: NoticeService, clock: Clock
) -> None:
    (made,) = notices.draft(NOV, level="township", actor="clerk", recorded_at=clock())
    with pytest.raises(DomainError, match="draft"):
        notices.object(
            made.notice_id,
            objector="x",
            content="y",
            channel="phone",
            received_on=POSTED,
            actor="clerk",
            recorded_at=clock(),
        )
    notices.post(made.notice_id, on=POSTED, actor="clerk", recorded_at=clock())
    with pytest.raises(DomainError, match="outside its window"):
        notices.object(
            made.notice_id,
            objector="x",
            content="y",
            channel="phone",
            received_on=dt.date(2026, 11, 9),
            actor="clerk",
            recorded_at=clock(),
        )
    with pytest.raises(ValidationError):
        notices.object(
            made.notice_id,
            objector="",
            content="",
            channel="fax",  # type: ignore[arg-type]
            received_on=POSTED,
            actor="clerk",
            recorded_at=clock(),
        )
    general = notices.object(
        made.notice_id,
        objector="x",
        content="名单不全",
        channel="phone",
        received_on=POSTED,
        actor="clerk",
        recorded_at=clock(),
    )
    with pytest.raises(DomainError, match="names no line"):
        notices.decide(
            general.objection_id,
            decision="upheld",
            reason="r",
            decided_on=POSTED,
            actor="d",
            recorded_at=clock(),
        )
    with pytest.raises(ValidationError, match="why"):
        notices.decide(
            general.objection_id,
            decision="dismissed",
            reason=" ",
            decided_on=POSTED,
            actor="d",
            recorded_at=clock(),
        )


def test_three_levels_and_drafts_list_each_line_once_per_level(
    notices: NoticeService, clock: Clock
) -> None:
    villages = notices.draft(NOV, level="village", actor="clerk", recorded_at=clock())
    (township,) = notices.draft(NOV, level="township", actor="clerk", recorded_at=clock())
    assert sum(len(n.lines) for n in villages) == len(township.lines)
    assert notices.draft(NOV, level="township", actor="clerk", recorded_at=clock()) == []
    village = villages[0].scope
    (group,) = notices.draft(
        NOV, level="group", scope=village, place="第三村民小组", actor="clerk", recorded_at=clock()
    )
    assert group.content.place == "第三村民小组"
    assert len(group.lines) == len(villages[0].lines)
    with pytest.raises(ValidationError, match="--place"):
        notices.draft(NOV, level="group", actor="clerk", recorded_at=clock())
    # a withdrawn notice holds nothing, and its lines can be drafted again
    notices.withdraw(township.notice_id, reason="重复", actor="clerk", recorded_at=clock())
    (again,) = notices.draft(NOV, level="township", actor="clerk", recorded_at=clock())
    assert len(again.lines) == len(township.lines)


def test_closed_notice_is_taken_down_but_its_posting_is_kept(
    notices: NoticeService, clock: Clock
) -> None:
    notice_id = township_notice(notices, clock)
    shown = notices.content(notice_id)
    assert shown.rows
    assert shown.window_text == "2026年11月2日至2026年11月8日"
    notices.close(notice_id, on=dt.date(2026, 11, 9), actor="clerk", recorded_at=closing_day(clock))
    after = notices.content(notice_id)
    assert (after.rows, after.withheld, after.listed, after.state) == ((), (), False, "closed")
    (posting,) = notices.publications(notice_id)
    assert posting["format"] == "content"
    assert posting["sha256"] == shown.sha256
    assert posting["published_on"] == POSTED
    assert posting["level"] == "township"
