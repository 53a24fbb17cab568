"""The program indicators (待遇项目指标): beneficiaries, amounts, who started and who ended.

They are taken from what the benefit runs stored, never entered again: the entitlements
(待遇资格, one decision per program, person and month, versioned) and the payment rolls
(发放花名册, frozen per month), read as known at the report's register state.

* `program_beneficiaries`: per program, category and village, the persons entitled in some
  month of the period (a person counts once per program, under the category and the
  village of their last entitled month in the period), their entitled person-months, the
  amount due by the entitlements, and the amount put on the period's rolls (regular and
  arrears lines of the rolls of its months). Its public version has no category
  breakdown (one total row per program and village) and withholds every amount of a program
  with categories: a special assistance category (the child died, or is disabled) must not
  be told by a row that exists or not, nor by an amount paid at the category's standard.
* `program_changes`: per program, the beneficiaries who started (entitled in a month, not
  in the month before) and who ended (the reverse), between consecutive months that were
  both run, with the reason read from the register: a birth, a move into or out of the
  area, a death, or a change in the program's conditions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable
from typing import Any

from famplan_core.model.money import Money
from famplan_core.reporting.context import ReportContext
from famplan_core.reporting.indicators import Bilingual, Indicator
from famplan_core.reporting.shaping import (
    ALL,
    DIVISION_COLUMNS,
    cell,
    division_cells,
    notes_for,
    text,
    withhold,
)
from famplan_core.reporting.table import SUPPRESSED, Cell, Column, ReportTable

__all__ = [
    "PROGRAM_BENEFICIARIES",
    "PROGRAM_CHANGES",
    "PROGRAM_INDICATORS",
    "REASONS",
    "program_beneficiaries_table",
    "program_changes_table",
]

REASONS: dict[str, tuple[str, str]] = {
    "birth": ("出生", "birth"),
    "moved_in": ("迁入", "moved in"),
    "newly_eligible": ("新符合条件", "newly eligible"),
    "death": ("死亡", "death"),
    "moved_out": ("迁出", "moved out"),
    "not_eligible": ("不再符合条件", "no longer eligible"),
}
"""Why a beneficiary started or ended, with the Chinese and English labels."""

_STARTED = ("birth", "moved_in", "newly_eligible")
_ENDED = ("death", "moved_out", "not_eligible")


def _w(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def _hukou_on(ctx: ReportContext, person: str, day: str) -> tuple[str, list[object]]:
    """The R0.5 hukou division of a person column on a date column, as SQL."""
    vis_h, par_h = ctx.visible("hc")
    vis_p, par_p = ctx.visible("pp")
    vis_a, par_a = ctx.visible("ha")
    return (
        "COALESCE((SELECT hc.hukou_division FROM hukou_changes hc WHERE hc.person_id = "
        f"{person} AND {vis_h} AND hc.date <= {day} ORDER BY hc.date DESC LIMIT 1), "
        f"(SELECT pp.hukou_division FROM persons pp WHERE pp.person_id = {person} AND {vis_p} "
        "AND NOT EXISTS (SELECT 1 FROM hukou_changes ha WHERE ha.person_id = pp.person_id "
        f"AND {vis_a})))",
        [*par_h, *par_p, *par_a],
    )


# -- beneficiaries and amounts ------------------------------------------------------------------


def _beneficiary_rows(ctx: ReportContext) -> list[tuple[Any, ...]]:
    first, last = ctx.period.first.isoformat(), ctx.period.last.isoformat()
    d = ctx.date()
    vis_e, par_e = ctx.visible("e")
    seen_r, par_r = ctx.recorded_by("r")
    division, par_d = _hukou_on(ctx, "k.person_id", "k.ref")
    ref = f"COALESCE(ent.month, {d})"
    return ctx.fetch(
        "WITH ent AS (SELECT program, person_id, category, month, months, due FROM ("
        "SELECT e.program, e.person_id, e.category, e.month, "
        "COUNT(*) OVER (PARTITION BY e.program, e.person_id) AS months, "
        "SUM(e.amount_fen) OVER (PARTITION BY e.program, e.person_id) AS due, "
        "ROW_NUMBER() OVER (PARTITION BY e.program, e.person_id ORDER BY e.month DESC) AS rn "
        f"FROM entitlements e WHERE {vis_e} AND e.month >= {d} AND e.month <= {d}) x "
        "WHERE rn = 1), "
        "paid AS (SELECT l.program, l.person_id, MAX(l.category) AS category, "
        "SUM(l.amount_fen) AS paid, MAX(CASE WHEN l.kind = 'regular' THEN 1 ELSE 0 END) "
        "AS regular FROM payment_roll_lines l JOIN payment_rolls r ON r.roll_id = l.roll_id "
        f"WHERE {seen_r} AND r.month >= {d} AND r.month <= {d} "
        "GROUP BY l.program, l.person_id), "
        "keys AS (SELECT k0.program, k0.person_id, "
        f"COALESCE(ent.category, paid.category) AS category, {ref} AS ref, "
        "COALESCE(ent.months, 0) AS months, COALESCE(ent.due, 0) AS due, "
        "COALESCE(paid.paid, 0) AS paid, CASE WHEN ent.person_id IS NOT NULL "
        "OR paid.regular = 1 THEN 1 ELSE 0 END AS beneficiary "
        "FROM (SELECT program, person_id FROM ent UNION SELECT program, person_id FROM paid) k0 "
        "LEFT JOIN ent ON ent.program = k0.program AND ent.person_id = k0.person_id "
        "LEFT JOIN paid ON paid.program = k0.program AND paid.person_id = k0.person_id) "
        f"SELECT program, category, div, SUM(beneficiary), SUM(months), SUM(due), SUM(paid) "
        f"FROM (SELECT k.program, k.category, {division} AS div, k.beneficiary, k.months, "
        "k.due, k.paid FROM keys k) y GROUP BY program, category, div",
        [*par_e, first, last, *par_r, first, last, last, *par_d],
    )


_PUBLIC_NOTE = (
    "公开版不按类别分列，有类别的项目（如计划生育家庭特别扶助）不公布金额（*）：类别（子女死亡或"
    "伤残）属敏感个人信息，某村有某一类别的行，或按类别标准发放的金额，与公示名单对照即可推知。",
    "The public version does not break programs down by category, and shows no amounts (*) "
    "for a program with categories (special assistance): a category (the child died, or is "
    "disabled) is sensitive, and a category's row in a village, or an amount paid at a "
    "category's standard, would tell it beside the public notices.",
)
"""The note of the public version, in Chinese and English."""


def _categorised(
    ctx: ReportContext, finest: dict[tuple[str, str, str], tuple[int, int, int, int]]
) -> frozenset[str]:
    """The programs with categories: registered with some, or holding a categorised row."""
    named = {code.split(".", 1)[0] for code in ctx.labels if "." in code}
    return frozenset(named | {program for program, category, _ in finest if category})


def _without_categories(
    finest: dict[tuple[str, str, str], tuple[int, int, int, int]],
) -> dict[tuple[str, str, str], tuple[int, int, int, int]]:
    """The figures with the category dimension collapsed (the public version)."""
    out: dict[tuple[str, str, str], tuple[int, int, int, int]] = {}
    for (program, _category, leaf), figures in finest.items():
        old = out.get((program, "", leaf), (0, 0, 0, 0))
        out[(program, "", leaf)] = (
            old[0] + figures[0],
            old[1] + figures[1],
            old[2] + figures[2],
            old[3] + figures[3],
        )
    return out


def _amount(
    values: dict[tuple[Hashable, ...], int],
    key: tuple[Hashable, ...],
    withheld: frozenset[Hashable],
    *,
    hidden: bool,
) -> Cell:
    """An amount cell: withheld with its count, or always when its program's are hidden."""
    return SUPPRESSED if hidden else cell(Money(values.get(key, 0)), key, withheld)


def program_beneficiaries_table(ctx: ReportContext) -> ReportTable:
    """享受人数和金额: beneficiaries and amounts by program, category and village."""
    lang = ctx.lang
    rows_in = _beneficiary_rows(ctx)
    finest: dict[tuple[str, str, str], tuple[int, int, int, int]] = {}
    for program, category, division, people, months, due, paid in rows_in:
        if division is None or not str(division).startswith(ctx.scope):
            continue
        leaf = str(division).ljust(12, "0")[:12]
        key = (str(program), "" if category is None else str(category), leaf)
        old = finest.get(key, (0, 0, 0, 0))
        finest[key] = (
            old[0] + int(people),
            old[1] + int(months),
            old[2] + int(due),
            old[3] + int(paid),
        )
    categorised = _categorised(ctx, finest)
    if ctx.public:
        finest = _without_categories(finest)
    tree = ctx.tree(k[2] for k in finest)
    programs = sorted({k[0] for k in finest})
    rows: list[tuple[Cell, ...]] = []
    totals: list[int] = []
    all_withheld: list[Hashable] = []
    for program in programs:
        categories = sorted({k[1] for k in finest if k[0] == program and k[1]})
        values: dict[str, dict[tuple[Hashable, ...], int]] = {
            m: {} for m in ("people", "months", "due", "paid")
        }
        for (p, category, leaf), figures in finest.items():
            if p != program:
                continue
            for code in tree.chain(leaf):
                for cat in {ALL, category} if category else {ALL}:
                    for measure, n in zip(values, figures, strict=True):
                        k = (cat, code)
                        values[measure][k] = values[measure].get(k, 0) + n
        members: list[Hashable] = [ALL, *categories]
        withheld = withhold(
            ctx,
            values["people"],
            [members, tree.order],
            [{ALL: categories} if categories else {}, tree.parts],
            village_axis=1,
            tree=tree,
        )
        all_withheld.extend(withheld)
        hide_amounts = ctx.public and program in categorised
        name = ctx.label(program, lang)
        for category in members:
            label = (
                text("total", lang) if category == ALL else ctx.label(f"{program}.{category}", lang)
            )
            for code in tree.order:
                cube_key: tuple[Hashable, ...] = (category, code)
                if cube_key not in values["people"] and code != tree.root:
                    continue
                if category == ALL and code == tree.root:
                    totals.append(len(rows))
                rows.append(
                    (
                        name,
                        label,
                        *division_cells(tree, code, lang),
                        cell(values["people"].get(cube_key, 0), cube_key, withheld),
                        cell(values["months"].get(cube_key, 0), cube_key, withheld),
                        _amount(values["due"], cube_key, withheld, hidden=hide_amounts),
                        _amount(values["paid"], cube_key, withheld, hidden=hide_amounts),
                    )
                )
    notes: tuple[str, ...] = (
        PROGRAM_BENEFICIARIES.describe(lang),
        _w(
            "取自已存的待遇资格与发放花名册，不另行录入；一人在一个项目中只计一次，按统计期内最后一个"
            "享受月的类别和户籍所在村计。花名册金额含统计期各月花名册的补发、追回行。",
            "Taken from the stored entitlements and payment rolls, never entered again; a "
            "person counts once per program, under the category and village of their last "
            "entitled month in the period. Rolled amounts include the arrears lines of the "
            "period's rolls.",
            lang,
        ),
    )
    if ctx.public:
        notes = (*notes, _w(*_PUBLIC_NOTE, lang))
    return ReportTable(
        code=PROGRAM_BENEFICIARIES.code,
        title_zh=f"各项目享受人数和金额（按{'' if ctx.public else '类别、'}村）"
        f"{ctx.period.label('zh')}",
        title_en=f"Beneficiaries and amounts by program, {'' if ctx.public else 'category and '}"
        f"village, {ctx.period.label('en')}",
        columns=(
            Column(key="program", label_zh="项目", label_en="Program"),
            Column(key="category", label_zh="类别", label_en="Category"),
            *DIVISION_COLUMNS,
            Column(
                key="beneficiaries", label_zh="享受人数", label_en="Beneficiaries", kind="number"
            ),
            Column(
                key="person_months", label_zh="享受人月数", label_en="Person-months", kind="number"
            ),
            Column(key="amount_due", label_zh="应发金额(元)", label_en="Due (yuan)", kind="amount"),
            Column(
                key="amount_rolled",
                label_zh="花名册金额(元)",
                label_en="On rolls (yuan)",
                kind="amount",
            ),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, all_withheld, *notes),
        total_rows=tuple(totals),
    )


PROGRAM_BENEFICIARIES = Indicator(
    code="program_beneficiaries",
    name=Bilingual(zh="各项目享受人数和金额", en="Beneficiaries and amounts by program"),
    definition=Bilingual(
        zh="统计期内享受各项目待遇的人数、人月数、应发金额和花名册金额，按项目、类别和村分。",
        en="Persons entitled under each program in the period, their person-months, the "
        "amounts due and the amounts on the payment rolls, by program, category and village.",
    ),
    numerator=Bilingual(
        zh="享受人数；应发与花名册金额", en="beneficiaries; amounts due and rolled"
    ),
    denominator=None,
    unit=Bilingual(zh="人；人月；元", en="persons; person-months; yuan"),
    dimensions=("program", "category", "division"),
    disclosure="public",
    compute=program_beneficiaries_table,
    sources=("entitlements", "payment_rolls", "payment_roll_lines", "hukou_changes"),
)


# -- starts and ends ----------------------------------------------------------------------------


def _month_date(index: int) -> dt.date:
    year, month = divmod(index - 1, 12)
    return dt.date(year, month + 1, 1)


def _index(d: dt.date) -> int:
    return d.year * 12 + d.month


def _changes(ctx: ReportContext) -> list[tuple[str, str, str, int]]:
    """(direction, program, person_id, month index) of every start and end in the period."""
    first = _index(ctx.period.first)
    before = _month_date(first - 1).isoformat()
    last = ctx.period.last.isoformat()
    d = ctx.date()
    vis_e, par_e = ctx.visible("e")
    seen, par_s = ctx.recorded_by("r")
    mi = ctx.month_index("e.month")
    run_mi = ctx.month_index("rm.month")
    m_sql = (
        f"SELECT e.program AS program, e.person_id AS person_id, {mi} AS mi FROM entitlements e "
        f"WHERE {vis_e} AND e.month >= {d} AND e.month <= {d}"
    )
    runs_sql = (
        f"SELECT DISTINCT {run_mi} AS mi FROM benefit_run_months rm JOIN benefit_runs r "
        f"ON r.run_id = rm.run_id WHERE {seen}"
    )
    rows = ctx.fetch(
        f"WITH m AS ({m_sql}), runs AS ({runs_sql}) "
        f"SELECT 'started', a.program, a.person_id, a.mi FROM m a WHERE a.mi >= {ctx.p} "
        "AND a.mi - 1 IN (SELECT mi FROM runs) AND NOT EXISTS (SELECT 1 FROM m b "
        "WHERE b.program = a.program AND b.person_id = a.person_id AND b.mi = a.mi - 1) "
        "UNION ALL "
        "SELECT 'ended', b.program, b.person_id, b.mi + 1 FROM m b WHERE b.mi + 1 >= "
        f"{ctx.p} AND b.mi + 1 IN (SELECT mi FROM runs) AND NOT EXISTS (SELECT 1 FROM m a "
        "WHERE a.program = b.program AND a.person_id = b.person_id AND a.mi = b.mi + 1)",
        [*par_e, before, last, *par_s, first, first],
    )
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def _reasons(
    ctx: ReportContext, changes: list[tuple[str, str, str, int]]
) -> dict[tuple[str, str], int]:
    """Counts by (program, direction/reason) of the changes in scope."""
    if not changes:
        return {}
    ctx.run("DROP TABLE IF EXISTS _rep_c")
    suffix = "" if ctx.sqlite else " ON COMMIT DROP"
    ctx.run(
        "CREATE TEMPORARY TABLE _rep_c (n INTEGER, direction VARCHAR(10), program VARCHAR(60), "
        f"person_id VARCHAR(200), here DATE, before DATE){suffix}"
    )
    ctx.made_temp("_rep_c")
    params = []
    for n, (direction, program, person, mi) in enumerate(changes):
        here, before = _month_date(mi), _month_date(mi - 1)
        params.append((n, direction, program, person, here.isoformat(), before.isoformat()))
    p, d = ctx.p, ctx.date()
    ctx.connection.exec_driver_sql(
        f"INSERT INTO _rep_c VALUES ({p}, {p}, {p}, {p}, {d}, {d})", params
    )
    div_here, par_here = _hukou_on(ctx, "c.person_id", "c.here")
    div_before, par_before = _hukou_on(ctx, "c.person_id", "c.before")
    vis_p, par_p = ctx.visible("p")
    rows = ctx.fetch(
        f"SELECT c.direction, c.program, {div_here}, {div_before}, p.birth_date >= c.before, "
        "p.death_date IS NOT NULL AND p.death_date < c.here "
        f"FROM _rep_c c LEFT JOIN persons p ON p.person_id = c.person_id AND {vis_p}",
        [*par_here, *par_before, *par_p],
    )
    counts: dict[tuple[str, str], int] = {}
    for direction, program, here, before, born, died in rows:
        in_here = here is not None and str(here).startswith(ctx.scope)
        in_before = before is not None and str(before).startswith(ctx.scope)
        if direction == "started":
            if not in_here:
                continue
            reason = "birth" if born else "newly_eligible" if in_before else "moved_in"
        else:
            if not in_before:
                continue
            reason = "death" if died else "not_eligible" if in_here else "moved_out"
        key = (str(program), reason)
        counts[key] = counts.get(key, 0) + 1
    return counts


def program_changes_table(ctx: ReportContext) -> ReportTable:
    """新增与退出: beneficiaries who started and ended, with reasons, by program."""
    lang = ctx.lang
    counts = _reasons(ctx, _changes(ctx))
    programs = sorted({k[0] for k in counts})
    rows: list[tuple[Cell, ...]] = []
    totals: list[int] = []
    for program in programs:
        name = ctx.label(program, lang)
        for direction, reasons in (("started", _STARTED), ("ended", _ENDED)):
            label = (
                _w("新增", "started", lang) if direction == "started" else _w("退出", "ended", lang)
            )
            totals.append(len(rows))
            rows.append(
                (
                    name,
                    label,
                    text("total", lang),
                    sum(counts.get((program, r), 0) for r in reasons),
                )
            )
            for reason in reasons:
                zh, en = REASONS[reason]
                rows.append((name, label, _w(zh, en, lang), counts.get((program, reason), 0)))
    notes = (
        PROGRAM_CHANGES.describe(lang),
        _w(
            "按相邻两个均已测算的月份比较：本月享受而上月未享受为新增，上月享受而本月未享受为退出；"
            "原因取自户籍登记（出生、迁入迁出、死亡），其余为项目条件变化。",
            "Consecutive months that were both run are compared: entitled this month and not "
            "the month before is a start, the reverse an end; the reason is read from the "
            "register (birth, move, death), otherwise the program's conditions changed.",
            lang,
        ),
    )
    return ReportTable(
        code=PROGRAM_CHANGES.code,
        title_zh=f"各项目新增与退出人数及原因 {ctx.period.label('zh')}",
        title_en=f"Beneficiaries who started and ended, with reasons, {ctx.period.label('en')}",
        columns=(
            Column(key="program", label_zh="项目", label_en="Program"),
            Column(key="change", label_zh="变动", label_en="Change"),
            Column(key="reason", label_zh="原因", label_en="Reason"),
            Column(key="persons", label_zh="人数", label_en="Persons", kind="number"),
        ),
        rows=tuple(rows),
        notes=notes,
        total_rows=tuple(totals),
    )


PROGRAM_CHANGES = Indicator(
    code="program_changes",
    name=Bilingual(zh="各项目新增与退出人数", en="Beneficiaries who started and ended"),
    definition=Bilingual(
        zh="统计期内各项目新增和退出享受待遇的人数，附原因（出生、迁入、死亡、迁出、条件变化）。",
        en="Persons who started or stopped being entitled under each program in the period, "
        "with the reason (birth, move in, death, move out, change of conditions).",
    ),
    numerator=Bilingual(zh="新增或退出人数", en="persons who started or ended"),
    denominator=None,
    unit=Bilingual(zh="人", en="persons"),
    dimensions=("program", "change", "reason"),
    disclosure="internal",
    compute=program_changes_table,
    sources=("entitlements", "benefit_runs", "benefit_run_months", "persons", "hukou_changes"),
)

PROGRAM_INDICATORS: tuple[Indicator, ...] = (PROGRAM_BENEFICIARIES, PROGRAM_CHANGES)
"""The program indicators, in the order reports show them."""
