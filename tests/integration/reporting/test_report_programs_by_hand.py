"""The program indicators on stored entitlements and rolls small enough to count by hand.

Months 2026-09, -10 and -11 were run; the report is for 2026-Q4 (December was not run).
Entitlements (rural_reward 80 yuan, special_assistance, childcare_subsidy 300 yuan):

| person | hukou                                   | Sep | Oct | Nov | notes                   |
|--------|-----------------------------------------|-----|-----|-----|-------------------------|
| R1     | V1                                      | R   | R   | R   |                         |
| R2     | V1                                      | R   | R   | R   | Nov corrected 90 → 80   |
| R3     | V2                                      | R   | R   | R   | arrears +5 on Nov roll  |
| R4     | V1, died 2026-10-20                     | R   | R   |     | ends in Nov: death      |
| R5     | V1, to 371502115201 on 2026-09-20       | R   |     |     | ends in Oct: moved out  |
| R6     | V2, 60 on 2026-10-05                    |     | R   | R   | starts in Oct: eligible |
| R7     | 371502115201, to V1 on 2026-10-10       |     |     | R   | starts in Nov: moved in |
| S1     | V2                                      | S   | S   | S   | category changes        |
| K1     | V1, born 2026-09-15                     |     | C   | C   | starts in Oct: birth    |

S1's special assistance is 270 yuan (disability) in September and October, 340 (death) in
November. Audit entries: 1 the register, 2-4 the runs of September to November, 5 the
correction of R2's November amount and the November roll.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from famplan_core.model.money import Money
from famplan_core.reporting import SUPPRESSED, Period, ReportTable, run_report
from famplan_core.reporting.catalog import CORE_INDICATORS
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.testing import PERSON_COLUMNS, person_row

TOWNSHIP = "371502110"
V1, V2, ELSEWHERE = "371502110201", "371502110202", "371502115201"
Q4 = Period.parse("2026-Q4")
T0 = dt.datetime(2026, 12, 5, 9)
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)


def _persons() -> list[tuple[str, ...]]:
    return [
        person_row("R1", sex="1", birth_date="1950-01-01", hukou_division=V1),
        person_row("R2", sex="2", birth_date="1955-01-01", hukou_division=V1),
        person_row("R3", sex="1", birth_date="1952-01-01", hukou_division=V2),
        person_row(
            "R4", sex="1", birth_date="1948-01-01", death_date="2026-10-20", hukou_division=V1
        ),
        person_row("R5", sex="1", birth_date="1951-01-01", hukou_division=ELSEWHERE),
        person_row("R6", sex="1", birth_date="1966-10-05", hukou_division=V2),
        person_row("R7", sex="2", birth_date="1960-01-01", hukou_division=V1),
        person_row("S1", sex="2", birth_date="1970-01-01", hukou_division=V2),
        person_row("K1", sex="1", birth_date="2026-09-15", hukou_division=V1),
    ]


HUKOU = [
    ("R5", "2000-01-01", V1, "rural"),
    ("R5", "2026-09-20", ELSEWHERE, "rural"),
    ("R7", "1990-01-01", ELSEWHERE, "rural"),
    ("R7", "2026-10-10", V1, "rural"),
]

ENTITLED: dict[dt.date, list[tuple[str, str, str | None, int]]] = {
    SEP: [
        *(("rural_reward", p, None, 8000) for p in ("R1", "R2", "R3", "R4", "R5")),
        ("special_assistance", "S1", "disability", 27000),
    ],
    OCT: [
        *(("rural_reward", p, None, 8000) for p in ("R1", "R2", "R3", "R4", "R6")),
        ("special_assistance", "S1", "disability", 27000),
        ("childcare_subsidy", "K1", None, 30000),
    ],
    NOV: [
        *(("rural_reward", p, None, 8000) for p in ("R1", "R2", "R3", "R6", "R7")),
        ("special_assistance", "S1", "death", 34000),
        ("childcare_subsidy", "K1", None, 30000),
    ],
}


class _Ids:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n += 1
        return self.n


def _store(storage: SqlStorage) -> None:
    ids = _Ids()
    with storage.unit_of_work(actor="clerk", recorded_at=T0, operation="test") as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, _persons())
        uow.upsert_rows(
            "hukou_changes", ("person_id", "date", "hukou_division", "hukou_type"), HUKOU
        )
    for step, (month, entitled) in enumerate(ENTITLED.items()):
        at = T0 + dt.timedelta(hours=step + 1)
        with storage.unit_of_work(actor="clerk", recorded_at=at, operation="test") as uow:
            c = uow.connection
            run_id = 10 + step
            c.execute(
                sa.insert(bt.benefit_runs),
                [
                    {
                        "run_id": run_id,
                        "uow_id": 0,
                        "month": month,
                        "division": TOWNSHIP,
                        "recorded_at": at,
                        "actor": "clerk",
                        "fact_watermark": 0,
                        "parameters_digest": "0" * 64,
                        "summary": "{}",
                    }
                ],
            )
            c.execute(
                sa.insert(bt.benefit_run_months),
                [
                    {
                        "run_id": run_id,
                        "month": month,
                        "purpose": "run",
                        "fact_watermark": 0,
                        "parameters_digest": "0" * 64,
                    }
                ],
            )
            c.execute(
                sa.insert(bt.benefit_run_programs),
                [
                    {
                        "run_id": run_id,
                        "month": month,
                        "program": program,
                        "version": "1",
                        "in_force": True,
                        "parameters": "{}",
                        "basis_hash": "0" * 64,
                    }
                    for program in ("rural_reward", "special_assistance", "childcare_subsidy")
                ],
            )
            rows: list[dict[str, Any]] = []
            for program, person, category, fen in entitled:
                wrong = month == NOV and person == "R2"
                rows.append(
                    {
                        "entitlement_id": ids(),
                        "run_id": run_id,
                        "month": month,
                        "program": program,
                        "person_id": person,
                        "category": category,
                        "amount_fen": 9000 if wrong else fen,
                        "facts": "{}",
                        "facts_hash": "0" * 64,
                        "recorded_at": at,
                        "superseded_at": None,
                        "superseded_by_run": None,
                    }
                )
            c.execute(sa.insert(bt.entitlements), rows)
            if month == OCT:
                _roll(c, ids, run_id, month, at, rows)
    at = T0 + dt.timedelta(hours=4)
    with storage.unit_of_work(actor="clerk", recorded_at=at, operation="test") as uow:
        c = uow.connection
        e = bt.entitlements.c
        wrong = (
            c.execute(sa.select(bt.entitlements).where(e.month == NOV, e.person_id == "R2"))
            .one()
            ._asdict()
        )
        c.execute(
            sa.update(bt.entitlements)
            .where(e.entitlement_id == wrong["entitlement_id"])
            .values(superseded_at=at, superseded_by_run=12)
        )
        fixed = {**wrong, "entitlement_id": ids(), "amount_fen": 8000, "recorded_at": at}
        c.execute(sa.insert(bt.entitlements), [fixed])
        current = [
            r._asdict()
            for r in c.execute(
                sa.select(bt.entitlements).where(e.month == NOV, e.superseded_at.is_(None))
            )
        ]
        _roll(c, ids, 12, NOV, at, current)


def _roll(
    c: sa.Connection,
    ids: _Ids,
    run_id: int,
    month: dt.date,
    at: dt.datetime,
    entitled: list[dict[str, Any]],
) -> None:
    c.execute(
        sa.insert(bt.payment_rolls),
        [
            {
                "roll_id": run_id,
                "uow_id": 0,
                "month": month,
                "run_id": run_id,
                "recorded_at": at,
                "actor": "clerk",
                "totals": "[]",
            }
        ],
    )
    lines = [
        {
            "line_id": ids(),
            "roll_id": run_id,
            "program": r["program"],
            "month": month,
            "person_id": r["person_id"],
            "citizen_id": None,
            "name": None,
            "category": r["category"],
            "amount_fen": r["amount_fen"],
            "kind": "regular",
            "entitlement_id": r["entitlement_id"],
            "arrears_id": None,
            "grant_id": None,
        }
        for r in entitled
    ]
    if month == NOV:
        lines.append(
            {
                **lines[0],
                "line_id": ids(),
                "program": "rural_reward",
                "month": OCT,
                "person_id": "R3",
                "category": None,
                "amount_fen": 500,
                "kind": "arrears",
                "entitlement_id": None,
            }
        )
    c.execute(sa.insert(bt.payment_roll_lines), lines)


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    """The stored runs on SQLite, and on PostgreSQL when FAMPLAN_TEST_PG_URL names a server."""
    store = SqlStorage(storage_url, migrate=True)
    _store(store)
    yield store
    store.close()


def table(storage: SqlStorage, code: str, **options: Any) -> ReportTable:
    indicator = next(i for i in CORE_INDICATORS if i.code == code)
    (result,) = run_report(storage, [indicator], period=Q4, scope=TOWNSHIP, **options).tables
    return result


def keyed(t: ReportTable, *keys: str) -> dict[tuple[object, ...], dict[str, object]]:
    out: dict[tuple[object, ...], dict[str, object]] = {}
    for row in t.rows:
        named = {c.key: v for c, v in zip(t.columns, row, strict=True)}
        out[tuple(named[k] for k in keys)] = named
    return out


def test_beneficiaries_and_amounts_by_program_category_and_village(storage: SqlStorage) -> None:
    rows = keyed(table(storage, "program_beneficiaries"), "program", "category", "division")

    def figures(program: str, category: str, division: str) -> tuple[object, ...]:
        r = rows[(program, category, division)]
        return r["beneficiaries"], r["person_months"], r["amount_due"], r["amount_rolled"]

    # rural: V1 = R1 R2 R4 R7 (months 2 + 2 + 1 + 1 = 6), V2 = R3 R6 (2 + 2)
    # due 8000 fen a month; rolled: Oct 5 and Nov 5 lines + R3's arrears of 500 fen
    assert figures("rural_reward", "合计", TOWNSHIP) == (6, 10, Money(80000), Money(80500))
    assert figures("rural_reward", "合计", V1) == (4, 6, Money(48000), Money(48000))
    assert figures("rural_reward", "合计", V2) == (2, 4, Money(32000), Money(32500))
    # special: S1 counted once, under November's category (death): 270 + 340 yuan
    assert figures("special_assistance", "合计", TOWNSHIP) == (1, 2, Money(61000), Money(61000))
    assert figures("special_assistance", "special_assistance.death", V2)[0] == 1
    assert ("special_assistance", "special_assistance.disability", TOWNSHIP) not in rows
    assert figures("childcare_subsidy", "合计", V1) == (1, 2, Money(60000), Money(60000))


def test_as_known_before_the_correction_the_first_amount_counts(storage: SqlStorage) -> None:
    # as known at entry 4, before the correction, R2's November entitlement was 90 yuan
    rows = keyed(
        table(storage, "program_beneficiaries", state=4), "program", "category", "division"
    )
    assert rows[("rural_reward", "合计", TOWNSHIP)]["amount_due"] == Money(81000)
    rows = keyed(
        table(storage, "program_beneficiaries", state=3), "program", "category", "division"
    )
    assert rows[("rural_reward", "合计", TOWNSHIP)]["person_months"] == 5  # October only


def test_starts_and_ends_with_reasons(storage: SqlStorage) -> None:
    rows = keyed(table(storage, "program_changes"), "program", "change", "reason")
    counts = {k: r["persons"] for k, r in rows.items()}
    assert counts[("rural_reward", "新增", "合计")] == 2
    assert counts[("rural_reward", "新增", "新符合条件")] == 1  # R6 in October
    assert counts[("rural_reward", "新增", "迁入")] == 1  # R7 in November
    assert counts[("rural_reward", "退出", "合计")] == 2
    assert counts[("rural_reward", "退出", "迁出")] == 1  # R5 in October
    assert counts[("rural_reward", "退出", "死亡")] == 1  # R4 in November
    assert counts[("childcare_subsidy", "新增", "出生")] == 1  # K1
    assert counts[("childcare_subsidy", "退出", "合计")] == 0
    assert not any(k[0] == "special_assistance" for k in counts)  # a category change only


def test_public_report_withholds_villages_and_leaves_out_internal(storage: SqlStorage) -> None:
    indicators = [i for i in CORE_INDICATORS if i.code.startswith("program_")]
    report = run_report(storage, indicators, period=Q4, scope=TOWNSHIP, public=True)
    assert report.left_out == ("program_changes",)
    (t,) = report.tables
    rows = keyed(t, "program", "category", "division")
    for division in (V1, V2):
        r = rows[("rural_reward", "合计", division)]
        assert r["beneficiaries"] is SUPPRESSED
        assert r["amount_due"] is SUPPRESSED
    assert rows[("rural_reward", "合计", TOWNSHIP)]["beneficiaries"] == 6


def test_public_table_tells_no_category_by_row_or_amount(storage: SqlStorage) -> None:
    # S1, the one special assistance beneficiary, is in V2 under "death" in November: the
    # office's table has a death row for V2 and none for disability, which told it
    labels = {
        "special_assistance": ("计划生育家庭特别扶助", "Special assistance"),
        "special_assistance.death": ("死亡", "death"),
        "special_assistance.disability": ("伤残", "disability"),
    }
    inside = keyed(
        table(storage, "program_beneficiaries", labels=labels), "program", "category", "division"
    )
    assert ("计划生育家庭特别扶助", "死亡", V2) in inside
    public = table(storage, "program_beneficiaries", labels=labels, public=True)
    rows = keyed(public, "program", "category", "division")
    assert {category for _program, category, _division in rows} == {"合计"}
    special = {k: r for k, r in rows.items() if k[0] == "计划生育家庭特别扶助"}
    assert set(special) == {
        ("计划生育家庭特别扶助", "合计", TOWNSHIP),
        ("计划生育家庭特别扶助", "合计", V2),
    }
    for r in special.values():
        assert r["amount_due"] is SUPPRESSED  # 340 yuan is the death standard
        assert r["amount_rolled"] is SUPPRESSED
    assert special[("计划生育家庭特别扶助", "合计", TOWNSHIP)]["beneficiaries"] == 1
    assert rows[("rural_reward", "合计", TOWNSHIP)]["amount_due"] == Money(80000)
    assert "各项目享受人数和金额（按村）" in public.title_zh
