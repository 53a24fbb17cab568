"""The population indicators on a register small enough to work out by hand (year 2025).

Two villages of township 371502110: V1 = …201 and V2 = …202. The right answers below were
counted from the table of persons, person by person; the comments show the arithmetic.

| id | sex | born       | died       | hukou                                   | notes            |
|----|-----|------------|------------|-----------------------------------------|------------------|
| M1 | F   | 1995-06-15 |            | V1                                      | mother of C1, C2 |
| F1 | M   | 1993-01-10 |            | V1                                      | father of C1, C2 |
| C1 | M   | 2020-03-01 |            | V1                                      |                  |
| A1 | F   | 2022-01-01 |            | V1                                      | adopted by M1    |
| C2 | F   | 2025-02-10 |            | V1                                      | M1's 2nd child   |
| M2 | F   | 2003-09-01 |            | V1                                      | mother of twins  |
| C3 | M   | 2025-07-20 |            | V1                                      | twin, order 1    |
| C4 | F   | 2025-07-20 |            | V1                                      | twin, order 2    |
| O1 | M   | 1940-05-05 | 2025-08-01 | V1                                      |                  |
| W3 | F   | 1975-12-31 |            | V1                                      | 49 → 50          |
| P1 | M   | 1980-01-01 |            | V1 from 2000, V2 from 2025-06-01        | moves            |
| Y1 | M   | 1970-07-07 |            | only a change in 2026 (V1)              | hukou unknown    |
| M3 | F   | 1985-04-04 |            | V2                                      | mother of 3      |
| C6 | M   | 2010-01-01 |            | V2                                      |                  |
| C7 | M   | 2015-05-05 |            | V2                                      |                  |
| C5 | F   | 2025-12-31 |            | V2                                      | M3's 3rd child   |
| C8 | M   | 2025-04-04 |            | V2                                      | no parents known |
| M4 | F   | 1990-02-02 |            | V2                                      | mother of C9     |
| C9 | M   | 2025-10-10 |            | V2, registered 2025-11-05               |                  |
| D1 | F   | 1950-01-01 | 2024-12-31 | V2                                      | died before      |
| D2 | M   | 1960-06-06 | 2025-12-31 | V2                                      |                  |
| Z1 | M   | 2026-01-01 |            | V2                                      | born after       |
| X1 | F   | 1990-01-01 |            | 371502115201 (another township)          | outside          |

Start (end of 2024-12-31): V1 = F1 C1 O1 P1 (M) + M1 M2 W3 A1 (F) = 8; V2 = C6 C7 D2 (M)
+ M3 M4 (F) = 5. End (end of 2025-12-31): V1 = F1 C1 C3 (M) + M1 C2 M2 C4 W3 A1 (F) = 9;
V2 = P1 C6 C7 C8 C9 (M) + M3 C5 M4 (F) = 8. Births: V1 C2 C3 C4, V2 C5 C8 C9. Deaths: O1
(V1), D2 (V2). Balance: V1 8 + 3 − 1 − 1 (P1 left) = 9; V2 5 + 3 − 1 + 1 (P1 came) = 8.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from famplan_core.reporting import (
    CORE_INDICATORS,
    SUPPRESSED,
    Period,
    ReportTable,
    run_report,
)
from famplan_core.reporting.suppression import THRESHOLD
from famplan_core.storage import SqlStorage
from famplan_core.testing import PERSON_COLUMNS, person_row

TOWNSHIP = "371502110"
V1, V2 = "371502110201", "371502110202"
Y2025 = Period.parse("2025")
T0 = dt.datetime(2026, 1, 10, 9, 0)

PERSONS = [
    ("M1", "2", "1995-06-15", "", V1),
    ("F1", "1", "1993-01-10", "", V1),
    ("C1", "1", "2020-03-01", "", V1),
    ("A1", "2", "2022-01-01", "", V1),
    ("C2", "2", "2025-02-10", "", V1),
    ("M2", "2", "2003-09-01", "", V1),
    ("C3", "1", "2025-07-20", "", V1),
    ("C4", "2", "2025-07-20", "", V1),
    ("O1", "1", "1940-05-05", "2025-08-01", V1),
    ("W3", "2", "1975-12-31", "", V1),
    ("P1", "1", "1980-01-01", "", V2),
    ("Y1", "1", "1970-07-07", "", V1),
    ("M3", "2", "1985-04-04", "", V2),
    ("C6", "1", "2010-01-01", "", V2),
    ("C7", "1", "2015-05-05", "", V2),
    ("C5", "2", "2025-12-31", "", V2),
    ("C8", "1", "2025-04-04", "", V2),
    ("M4", "2", "1990-02-02", "", V2),
    ("C9", "1", "2025-10-10", "", V2),
    ("D1", "2", "1950-01-01", "2024-12-31", V2),
    ("D2", "1", "1960-06-06", "2025-12-31", V2),
    ("Z1", "1", "2026-01-01", "", V2),
    ("X1", "2", "1990-01-01", "", "371502115201"),
]
LINKS = [
    ("M1", "C1", "birth", ""),
    ("F1", "C1", "birth", ""),
    ("M1", "C2", "birth", ""),
    ("F1", "C2", "birth", ""),
    ("M1", "A1", "adoptive", "2023-01-01"),
    ("M2", "C3", "birth", ""),
    ("M2", "C4", "birth", ""),
    ("M3", "C6", "birth", ""),
    ("M3", "C7", "birth", ""),
    ("M3", "C5", "birth", ""),
    ("M4", "C9", "birth", ""),
]
HUKOU = [
    ("P1", "2000-01-01", V1, "rural"),
    ("P1", "2025-06-01", V2, "rural"),
    ("C9", "2025-11-05", V2, "rural"),
    ("Y1", "2026-03-01", V1, "rural"),
]


def load(storage: SqlStorage, at: dt.datetime = T0) -> None:
    with storage.unit_of_work(actor="clerk", recorded_at=at, operation="test") as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row(pid, sex=sex, birth_date=born, death_date=died, hukou_division=div)
                for pid, sex, born, died, div in PERSONS
            ],
        )
        uow.upsert_rows("parent_child", ("parent_id", "child_id", "kind", "since"), LINKS)
        uow.upsert_rows(
            "hukou_changes", ("person_id", "date", "hukou_division", "hukou_type"), HUKOU
        )


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    """The register on SQLite, and on PostgreSQL when FAMPLAN_TEST_PG_URL names a server."""
    store = SqlStorage(storage_url, migrate=True)
    load(store)
    yield store
    store.close()


def table(storage: SqlStorage, code: str, **options: object) -> ReportTable:
    indicator = next(i for i in CORE_INDICATORS if i.code == code)
    report = run_report(storage, [indicator], period=Y2025, scope=TOWNSHIP, **options)  # type: ignore[arg-type]
    (result,) = report.tables
    return result


def rows_by(t: ReportTable, *keys: str) -> dict[tuple[object, ...], dict[str, object]]:
    out: dict[tuple[object, ...], dict[str, object]] = {}
    for row in t.rows:
        named = {c.key: v for c, v in zip(t.columns, row, strict=True)}
        out[tuple(named[k] for k in keys)] = named
    return out


def test_population_by_village_sex_and_age_band(storage: SqlStorage) -> None:
    rows = rows_by(table(storage, "population"), "division", "age_band")
    # township: 9 + 8 = 17; males F1 C1 C3 P1 C6 C7 C8 C9 = 8, females 9
    assert (rows[(TOWNSHIP, "合计")]["male"], rows[(TOWNSHIP, "合计")]["female"]) == (8, 9)
    assert rows[(TOWNSHIP, "合计")]["total"] == 17
    # 0-4: C3 C8 C9 (M), C2 C4 A1 C5 (F)
    assert (rows[(TOWNSHIP, "0-4岁")]["male"], rows[(TOWNSHIP, "0-4岁")]["female"]) == (3, 4)
    v1 = {k[1]: (r["male"], r["female"], r["total"]) for k, r in rows.items() if k[0] == V1}
    assert v1["合计"] == (3, 6, 9)
    assert v1["0-4岁"] == (1, 3, 4)  # C3; C2 C4 A1
    assert v1["5-9岁"] == (1, 0, 1)  # C1 (5 on 2025-03-01)
    assert v1["20-24岁"] == (0, 1, 1)  # M2 (22)
    assert v1["30-34岁"] == (1, 1, 2)  # F1 (32), M1 (30 since 2025-06-15)
    assert v1["45-49岁"] == (0, 0, 0)  # W3 turned 50 on 2025-12-31
    assert v1["50-54岁"] == (0, 1, 1)  # W3
    assert v1["80-84岁"] == (0, 0, 0)  # O1 died
    v2 = {k[1]: (r["male"], r["female"], r["total"]) for k, r in rows.items() if k[0] == V2}
    assert v2["合计"] == (5, 3, 8)
    assert v2["0-4岁"] == (2, 1, 3)  # C8 C9; C5 born on the last day
    assert v2["45-49岁"] == (1, 0, 1)  # P1 moved in
    assert v2["60-64岁"] == (0, 0, 0)  # D2 died on the last day
    assert "371502115201" not in {k[0] for k in rows}


def test_births_by_month_sex_and_order(storage: SqlStorage) -> None:
    rows = rows_by(table(storage, "births"), "month", "birth_order")
    counts = {k: (r["male"], r["female"], r["total"]) for k, r in rows.items()}
    assert counts[("合计", "合计")] == (3, 3, 6)
    assert counts[("合计", "一孩")] == (2, 0, 2)  # C3 (twin born first by id), C9
    assert counts[("合计", "二孩")] == (0, 2, 2)  # C2 (the adopted A1 does not count), C4
    assert counts[("合计", "三孩及以上")] == (0, 1, 1)  # C5
    assert counts[("合计", "孩次不详")] == (1, 0, 1)  # C8, no mother in the register
    assert counts[("2月", "二孩")] == (0, 1, 1)
    assert counts[("4月", "孩次不详")] == (1, 0, 1)
    assert counts[("7月", "合计")] == (1, 1, 2)
    assert counts[("10月", "一孩")] == (1, 0, 1)  # C9, counted where first registered
    assert counts[("12月", "三孩及以上")] == (0, 1, 1)
    assert counts[("3月", "合计")] == (0, 0, 0)


def test_crude_rates_on_the_average_population(storage: SqlStorage) -> None:
    rows = rows_by(table(storage, "vital_rates"), "division")
    town, v1, v2 = rows[(TOWNSHIP,)], rows[(V1,)], rows[(V2,)]
    assert (v1["start"], v1["end"], v1["births"], v1["deaths"]) == (8, 9, 3, 1)
    assert (v2["start"], v2["end"], v2["births"], v2["deaths"]) == (5, 8, 3, 1)
    assert (town["start"], town["end"], town["births"], town["deaths"]) == (13, 17, 6, 2)
    # average (8 + 9) / 2 = 8.5: 3 / 8.5 x 1000 = 352.94; 1 / 8.5 = 117.65; 2 / 8.5 = 235.29
    assert v1["average"] == Decimal("8.5")
    assert (v1["birth_rate"], v1["death_rate"], v1["natural_growth_rate"]) == (
        Decimal("352.94"),
        Decimal("117.65"),
        Decimal("235.29"),
    )
    # average (5 + 8) / 2 = 6.5: 3 / 6.5 = 461.54; 1 / 6.5 = 153.85; 2 / 6.5 = 307.69
    assert (v2["birth_rate"], v2["death_rate"], v2["natural_growth_rate"]) == (
        Decimal("461.54"),
        Decimal("153.85"),
        Decimal("307.69"),
    )
    # average (13 + 17) / 2 = 15: 6 / 15 = 400.00; 2 / 15 = 133.33; 4 / 15 = 266.67
    assert town["average"] == Decimal("15.0")
    assert (town["birth_rate"], town["death_rate"], town["natural_growth_rate"]) == (
        Decimal("400.00"),
        Decimal("133.33"),
        Decimal("266.67"),
    )
    assert town["natural_increase"] == 4


def test_a_quarter_is_annualised_on_person_years(storage: SqlStorage) -> None:
    indicator = next(i for i in CORE_INDICATORS if i.code == "vital_rates")
    report = run_report(storage, [indicator], period=Period.parse("2025-Q3"), scope=TOWNSHIP)
    rows = rows_by(report.tables[0], "division")
    town = rows[(TOWNSHIP,)]
    # Q3 (92 days): start, end of 06-30:
    # V1: M1 F1 C1 A1 C2 M2 O1 W3 = 8; V2: P1 M3 C6 C7 C8 M4 D2 = 7
    # end (09-30): V1 8 - O1 + C3 + C4 = 9; V2 7 = 7; births C3 C4, death O1
    assert (town["start"], town["end"], town["births"], town["deaths"]) == (15, 16, 2, 1)
    # person-years 15.5 x 92 / 365; 2 x 365 x 1000 / (15.5 x 92) = 730000 / 1426 = 511.92
    assert town["birth_rate"] == Decimal("511.92")
    assert town["death_rate"] == Decimal("255.96")  # 365000 / 1426 = 255.960


def test_sex_ratio_at_birth_with_its_interval_and_warning(storage: SqlStorage) -> None:
    (row,) = table(storage, "sex_ratio_at_birth").rows
    code, _name, males, females, ratio, low, high, error, warning = row
    assert (code, males, females) == (TOWNSHIP, 3, 3)
    # p = 3/6 = 0.5; Wilson with z = 1.96: z²/n = 0.640267, centre 0.5,
    # half = 1.96 / 1.640267 x sqrt(0.25/6 + 3.8416/144) = 0.312388
    # low p 0.187612 -> 100 x 0.187612 / 0.812388 = 23.09; high -> 433.01
    assert (ratio, low, high) == (Decimal("100.00"), Decimal("23.09"), Decimal("433.01"))
    # delta method: 100 x sqrt(0.5 / (6 x 0.5³)) = 100 x sqrt(0.6667) = 81.65
    assert error == Decimal("81.65")
    # planning width: 1.96 x 100 x sqrt(0.512 / (6 x 0.488³)) = 168
    assert isinstance(warning, str)
    assert "6例" in warning
    assert "±168" in warning


def test_general_and_total_fertility_rates(storage: SqlStorage) -> None:
    rows = rows_by(table(storage, "fertility"), "group")
    # women by band, start / end: 20-24 M2/M2; 25-29 M1/-; 30-34 M4/M1; 35-39 M3/M4;
    # 40-44 -/M3; 45-49 W3/-
    expect = {
        "15-19岁": (0, Decimal("0.0"), None),
        "20-24岁": (2, Decimal("1.0"), Decimal("2000.00")),  # C3, C4
        "25-29岁": (1, Decimal("0.5"), Decimal("2000.00")),  # C2
        "30-34岁": (0, Decimal("1.0"), Decimal("0.00")),
        "35-39岁": (1, Decimal("1.0"), Decimal("1000.00")),  # C9
        "40-44岁": (1, Decimal("0.5"), Decimal("2000.00")),  # C5
        "45-49岁": (0, Decimal("0.5"), Decimal("0.00")),
    }
    for band, (births, women, rate) in expect.items():
        assert (rows[(band,)]["births"], rows[(band,)]["women"], rows[(band,)]["rate"]) == (
            births,
            women,
            rate,
        ), band
    general = rows[("一般生育率（15-49岁）",)]
    # 6 births / ((5 + 4) / 2 = 4.5 women) x 1000 = 1333.33
    assert (general["births"], general["women"], general["rate"]) == (
        6,
        Decimal("4.5"),
        Decimal("1333.33"),
    )
    total = rows[("总和生育率",)]
    # 5 x (2 + 2 + 0 + 1 + 2 + 0) = 35 children per woman
    assert (total["births"], total["rate"]) == (5, Decimal("35.000"))
    assert rows[("母亲年龄不详",)]["births"] == 1


def test_public_output_withholds_small_village_cells(storage: SqlStorage) -> None:
    rows = rows_by(table(storage, "vital_rates", public=True), "division")
    town, v1, v2 = rows[(TOWNSHIP,)], rows[(V1,)], rows[(V2,)]
    assert (v1["start"], v1["end"], v2["start"], v2["end"]) == (8, 9, 5, 8)
    for village in (v1, v2):  # 3 births and 1 death each: under 5
        for key in ("births", "deaths", "natural_increase", "birth_rate", "death_rate"):
            assert village[key] is SUPPRESSED, key
    assert (town["births"], town["deaths"], town["birth_rate"]) == (6, 2, Decimal("400.00"))


def test_public_population_leaves_no_relation_with_one_withheld_cell(
    storage: SqlStorage,
) -> None:
    t = table(storage, "population", public=True)
    rows = rows_by(t, "division", "age_band")
    for (division, _band), r in rows.items():
        for sex in ("male", "female", "total"):
            value = r[sex]
            if division in (V1, V2) and isinstance(value, int):
                assert value == 0 or value >= THRESHOLD, (division, _band, sex)
    # along each row (male + female = total) and each column (villages = township)
    for key, r in rows.items():
        hidden = [r[s] is SUPPRESSED for s in ("male", "female")]
        assert sum(hidden) != 1 or r["total"] is SUPPRESSED, key
    for band in {k[1] for k in rows}:
        for sex in ("male", "female", "total"):
            cells = [rows[(d, band)][sex] is SUPPRESSED for d in (TOWNSHIP, V1, V2)]
            assert sum(cells) != 1, (band, sex)
    assert any("不予公布" in note for note in t.notes)


def test_a_village_scope_counts_only_that_village(storage: SqlStorage) -> None:
    indicator = next(i for i in CORE_INDICATORS if i.code == "vital_rates")
    report = run_report(storage, [indicator], period=Y2025, scope=V2)
    (row,) = report.tables[0].rows
    assert row[0] == V2
    assert row[2:4] == (5, 8)


def test_a_rerun_at_the_recorded_state_gives_identical_figures(storage: SqlStorage) -> None:
    first = run_report(storage, CORE_INDICATORS, period=Y2025, scope=TOWNSHIP)
    assert first.state.audit_id == 1
    # later: a birth is registered and a death corrected
    with storage.unit_of_work(
        actor="clerk", recorded_at=T0 + dt.timedelta(days=1), operation="test"
    ) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("N1", sex="2", birth_date="2025-11-11", hukou_division=V1),
                person_row("O1", sex="1", birth_date="1940-05-05", hukou_division=V1),
            ],
        )
    now = run_report(storage, CORE_INDICATORS, period=Y2025, scope=TOWNSHIP)
    again = run_report(storage, CORE_INDICATORS, period=Y2025, scope=TOWNSHIP, state=1)
    assert now.state.audit_id == 2
    assert now.digest != first.digest
    assert again.digest == first.digest
    assert [t.rows for t in again.tables] == [t.rows for t in first.tables]
    assert any("审计第1条" in note for note in again.tables[0].notes)
