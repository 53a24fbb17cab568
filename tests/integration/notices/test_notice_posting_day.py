"""A notice is posted on the day it is posted: no window in the past (issue 13, point 9).

`notice post --on 0001-01-01` followed by `notice close` used to release the held payments
with no real public window. The window now runs in full from the day the notice is recorded
as posted (the record day in China); an earlier day is only a statement, with an audited
reason; closing on a day that has not come is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.benefits import BenefitService
from famplan_core.errors import DomainError
from famplan_core.exchange.importer import import_register
from famplan_core.model.dates import record_day
from famplan_core.notices import NoticeService
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import Clock, run_famplan, write_synthetic

DIVISION = "371502110"
NOV = "2026-11"
RECORDED = dt.datetime(2026, 11, 2, 1, tzinfo=dt.UTC)  # 09:00 on 2 November in China


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticRegister, Path]:
    folder = tmp_path_factory.mktemp("register")
    return write_synthetic(folder, persons=1500, seed=29), folder


@pytest.fixture
def clock() -> Clock:
    return Clock(RECORDED)


@pytest.fixture
def notices(
    storage_url: str, synthetic: tuple[SyntheticRegister, Path], clock: Clock
) -> Iterator[NoticeService]:
    store = SqlStorage(storage_url, migrate=True)
    import_register(
        store, synthetic[1], today=dt.date(2026, 11, 20), actor="t", recorded_at=clock()
    )
    programs = {p.code: p for p in national_programs()}
    BenefitService(
        store, programs=programs, parameters=national_parameter_set(), division=DIVISION
    ).run(NOV, actor="t", recorded_at=clock())
    yield NoticeService(
        store,
        division=DIVISION,
        township="顾官屯镇",
        programs=programs,
        villages=synthetic[0].village_names,
    )
    store.close()


def _draft(notices: NoticeService, clock: Clock) -> int:
    (made,) = notices.draft(NOV, level="township", actor="clerk", recorded_at=clock())
    return made.notice_id


def test_a_day_in_the_past_without_a_reason_is_refused(
    notices: NoticeService, clock: Clock
) -> None:
    notice_id = _draft(notices, clock)
    with pytest.raises(DomainError) as refused:
        notices.post(notice_id, on=dt.date(1, 1, 1), actor="clerk", recorded_at=clock())
    message = str(refused.value)
    assert f"notice {notice_id} is posted on 2026-11-02, not 0001-01-01" in message
    assert "--backdate-reason" in message
    assert notices.get(notice_id).state == "draft"


def test_a_backdated_posting_keeps_the_full_window_and_audits_the_reason(
    notices: NoticeService, clock: Clock
) -> None:
    notice_id = _draft(notices, clock)
    posted = notices.post(
        notice_id,
        on=dt.date(1, 1, 1),
        backdate_reason="贴于村务公开栏，次日录入",
        actor="clerk",
        recorded_at=clock(),
    )
    assert (posted.window_start, posted.window_end) == (
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 8),
    )
    with notices.storage.reader() as reader:
        entry = reader.list_audit()[-1]
    assert entry.operation == "notice-post"
    assert entry.summary["backdated_to"] == "0001-01-01"
    assert entry.summary["backdate_reason"] == "贴于村务公开栏，次日录入"
    assert entry.summary["window"] == ["2026-11-02", "2026-11-08"]
    # the attack: closing straight away releases nothing, the window has not ended
    clock.advance_to(dt.datetime(2026, 11, 3, 1, tzinfo=dt.UTC))
    with pytest.raises(DomainError, match="posted until 2026-11-08"):
        notices.close(notice_id, on=dt.date(2026, 11, 3), actor="clerk", recorded_at=clock())
    assert {x.status for x in notices.get(notice_id).lines} == {"held"}


def test_closing_on_a_day_that_has_not_come_is_refused(
    notices: NoticeService, clock: Clock
) -> None:
    notice_id = _draft(notices, clock)
    notices.post(notice_id, on=dt.date(2026, 11, 2), actor="clerk", recorded_at=clock())
    with pytest.raises(DomainError, match="cannot be closed on 2099-01-01: that day has not come"):
        notices.close(notice_id, on=dt.date(2099, 1, 1), actor="clerk", recorded_at=clock())
    assert notices.get(notice_id).state == "posted"
    clock.advance_to(dt.datetime(2026, 11, 9, 1, tzinfo=dt.UTC))
    closed = notices.close(notice_id, on=dt.date(2026, 11, 9), actor="clerk", recorded_at=clock())
    assert closed.state == "closed"


def test_posting_on_a_day_that_has_not_come_is_refused(
    notices: NoticeService, clock: Clock
) -> None:
    notice_id = _draft(notices, clock)
    with pytest.raises(DomainError, match="cannot be posted on 2026-11-03: that day has not"):
        notices.post(notice_id, on=dt.date(2026, 11, 3), actor="clerk", recorded_at=clock())
    assert notices.get(notice_id).state == "draft"


@given(st.datetimes(timezones=st.just(dt.UTC)))
def test_the_record_day_is_the_day_in_china(moment: dt.datetime) -> None:
    shifted = moment + dt.timedelta(hours=8)
    assert record_day(moment) == shifted.date()
    assert record_day(moment.replace(tzinfo=None)) == shifted.date()


def test_the_command_refuses_a_window_in_the_past(tmp_path: Path) -> None:
    clock = {"FAMPLAN_NOW": "2026-11-02T09:00:00+08:00"}

    def famplan(*args: str) -> tuple[int, str]:
        done = run_famplan(*args, cwd=town, env=clock)
        return done.returncode, done.stdout + done.stderr

    assert (
        run_famplan(
            "init", "town", "--division", DIVISION, "--name", "顾官屯镇", cwd=tmp_path
        ).returncode
        == 0
    )
    town = tmp_path / "town"
    write_synthetic(town / "register", persons=1500, seed=29)
    assert famplan("import", "register", "--today", "2026-11-20")[0] == 0
    assert famplan("benefits", "run", "--month", NOV)[0] == 0
    status, out = famplan("notice", "draft", "--month", NOV, "--level", "township", "--json")
    assert status == 0, out
    notice_id = str(json.loads(out)["notices"][0]["notice_id"])

    status, out = famplan("notice", "post", notice_id, "--on", "0001-01-01")
    assert status == 2  # not a date the command takes at all
    assert "0001-01-01" in out
    status, out = famplan("notice", "post", notice_id, "--on", "2026-10-01")
    assert status == 1
    assert out.startswith(f"famplan: error: notice {notice_id} is posted on 2026-11-02")
    status, out = famplan(
        "notice", "post", notice_id, "--on", "2026-10-01", "--backdate-reason", "补录", "--json"
    )
    assert status == 0, out
    posted = json.loads(out)
    assert (posted["window_start"], posted["window_end"]) == ("2026-11-02", "2026-11-08")
    status, out = famplan("notice", "close", notice_id)
    assert status == 1
    assert "posted until 2026-11-08" in out
    status, out = famplan("notice", "close", notice_id, "--on", "2099-01-01")
    assert status == 1
    assert "that day has not come" in out
    clock["FAMPLAN_NOW"] = "2026-11-09T09:00:00+08:00"
    status, out = famplan("notice", "close", notice_id, "--json")
    assert status == 0, out
    assert json.loads(out)["state"] == "closed"


def test_a_clock_that_is_not_a_date_time_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        run_famplan(
            "init", "town", "--division", DIVISION, "--name", "顾官屯镇", cwd=tmp_path
        ).returncode
        == 0
    )
    done = run_famplan(
        "benefits",
        "run",
        "--month",
        NOV,
        cwd=tmp_path / "town",
        env={"FAMPLAN_NOW": "next tuesday"},
    )
    assert done.returncode == 2, done.stderr
    assert "FAMPLAN_NOW='next tuesday' is not a date-time" in done.stderr
