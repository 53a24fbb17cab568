"""The population indicators (人口指标): stocks, births, deaths, rates and fertility.

Every table here is computed from the four set-based aggregates of
`famplan_core.reporting.context.ReportContext` (the stocks at the start and end of the
period, the births and the deaths), rolled up from village to township (and county), and
withheld cell by cell when the output is public. Definitions follow the domain README §5.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal

from famplan_core.reporting.context import OLDEST_BAND, ReportContext, band_label
from famplan_core.reporting.indicators import Bilingual, Indicator
from famplan_core.reporting.shaping import (
    ALL,
    DIVISION_COLUMNS,
    cell,
    division_cells,
    notes_for,
    rollup,
    text,
    withhold,
)
from famplan_core.reporting.statistics import (
    Z95,
    average,
    person_years,
    quantize,
    rate_per_thousand,
    sex_ratio_at_birth,
    srb_standard_error,
)
from famplan_core.reporting.table import SUPPRESSED, Cell, Chart, Column, ReportTable

__all__ = [
    "BIRTHS",
    "FERTILITY",
    "POPULATION",
    "POPULATION_INDICATORS",
    "SEX_RATIO_AT_BIRTH",
    "VITAL_RATES",
    "births_table",
    "fertility_table",
    "population_table",
    "sex_ratio_table",
    "vital_rates_table",
]

FERTILE_BANDS: tuple[int, ...] = tuple(range(3, 10))
"""The five-year bands of women of reproductive age, 15-19 to 45-49."""

_SEXES = (ALL, 1, 2)
_ORDERS: tuple[Hashable, ...] = (ALL, 1, 2, 3, 0)
_ORDER_LABELS = {
    ALL: ("合计", "Total"),
    1: ("一孩", "First"),
    2: ("二孩", "Second"),
    3: ("三孩及以上", "Third and higher"),
    0: ("孩次不详", "Order unknown"),
}


def _w(zh: str, en: str, lang: str) -> str:
    return zh if lang == "zh" else en


def _sex_columns() -> tuple[Column, ...]:
    return (
        Column(key="male", label_zh="男", label_en="Male", kind="number"),
        Column(key="female", label_zh="女", label_en="Female", kind="number"),
        Column(key="total", label_zh="合计", label_en="Total", kind="number"),
    )


def _state_note(ctx: ReportContext) -> str:
    period = ctx.period
    if ctx.lang == "zh":
        return (
            f"统计期：{period.label('zh')}（{period.first.isoformat()}至{period.last.isoformat()}）；"
            "户籍以当日户籍所在地计。"
        )
    return (
        f"Period: {period.label('en')} ({period.first.isoformat()} to "
        f"{period.last.isoformat()}); persons counted where their hukou was on the day."
    )


# -- population by village, sex and age band ------------------------------------------------


def population_table(ctx: ReportContext) -> ReportTable:
    """户籍人口: persons alive at the end of the period by village, sex and five-year band."""
    lang = ctx.lang
    end = ctx.stock("end")
    tree = ctx.tree(k[0] for k in end)
    ups_div = {leaf: tree.chain(leaf) for leaf in {k[0] for k in end}}
    sex_up = {1: (1, ALL), 2: (2, ALL), 9: (ALL,)}
    by_band = {(div, band, sex): n for (div, sex, band), n in end.items()}
    values = rollup(by_band, [ups_div, None, sex_up])
    bands: list[Hashable] = [ALL, *range(OLDEST_BAND + 1)]
    withheld = withhold(
        ctx,
        values,
        [tree.order, bands, _SEXES],
        [tree.parts, {ALL: bands[1:]}, {ALL: (1, 2)}],
        village_axis=0,
        tree=tree,
    )
    rows: list[tuple[Cell, ...]] = []
    totals: list[int] = []
    chart_rows: list[int] = []
    for code in tree.order:
        code_cell, name_cell = division_cells(tree, code, lang)
        for band in bands:
            if band == ALL:
                totals.append(len(rows))
                label = text("total", lang)
            else:
                assert isinstance(band, int)
                label = band_label(band, lang)
                if code == tree.root:
                    chart_rows.append(len(rows))
            rows.append(
                (
                    code_cell,
                    name_cell,
                    label,
                    *(
                        cell(values.get((code, band, s), 0), (code, band, s), withheld)
                        for s in (1, 2, ALL)
                    ),
                )
            )
    notes = (
        POPULATION.describe(lang),
        _state_note(ctx),
        _w(
            "年龄按期末日的周岁计；合计含性别未说明者。",
            "Age in completed years on the last day; totals include persons of unstated sex.",
            lang,
        ),
    )
    return ReportTable(
        code=POPULATION.code,
        title_zh=f"户籍人口（按村、性别、五岁年龄组）{ctx.period.label('zh')}末",
        title_en=f"Registered population by village, sex and age band, end of "
        f"{ctx.period.label('en')}",
        columns=(
            *DIVISION_COLUMNS,
            Column(key="age_band", label_zh="年龄组", label_en="Age band"),
            *_sex_columns(),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, withheld, *notes),
        total_rows=tuple(totals),
        chart=Chart(
            kind="pyramid", category="age_band", series=("male", "female"), rows=tuple(chart_rows)
        ),
    )


POPULATION = Indicator(
    code="population",
    name=Bilingual(zh="户籍人口", en="Registered population"),
    definition=Bilingual(
        zh="期末日终在世、户籍在本辖区的人数，按村、性别和五岁年龄组分。",
        en="Persons alive at the end of the period's last day whose hukou is in the area, "
        "by village, sex and five-year age band.",
    ),
    numerator=Bilingual(zh="期末户籍人口数", en="persons at the end of the period"),
    denominator=None,
    unit=Bilingual(zh="人", en="persons"),
    dimensions=("division", "sex", "age_band"),
    disclosure="public",
    compute=population_table,
    sources=("persons", "hukou_changes"),
)


# -- births by month, sex and order -----------------------------------------------------------


def _month_label(month: object, lang: str) -> str:
    if month == ALL:
        return text("total", lang)
    return f"{month}月" if lang == "zh" else f"{month:02d}"


def births_table(ctx: ReportContext) -> ReportTable:
    """出生人口: live births of the period by month, sex and birth order."""
    lang = ctx.lang
    births = ctx.births()
    tree = ctx.tree(k[0] for k in births)
    finest: dict[tuple[Hashable, ...], int] = {}
    for (_div, month_, sex_, order_, _mband), n in births.items():
        key = (month_, order_, sex_)
        finest[key] = finest.get(key, 0) + n
    values = rollup(finest, [None, None, {1: (1, ALL), 2: (2, ALL), 9: (ALL,)}])
    months: list[Hashable] = [ALL, *(d.month for d in ctx.period.months())]
    withheld = withhold(
        ctx,
        values,
        [months, _ORDERS, _SEXES],
        [{ALL: months[1:]}, {ALL: _ORDERS[1:]}, {ALL: (1, 2)}],
        village_axis=None,
        tree=tree,
    )
    rows: list[tuple[Cell, ...]] = []
    totals: list[int] = []
    chart_rows: list[int] = []
    for month in months:
        for order in _ORDERS:
            if order == ALL:
                totals.append(len(rows))
                if month != ALL:
                    chart_rows.append(len(rows))
            zh, en = _ORDER_LABELS[order]
            rows.append(
                (
                    _month_label(month, lang),
                    zh if lang == "zh" else en,
                    *(
                        cell(values.get((month, order, s), 0), (month, order, s), withheld)
                        for s in (1, 2, ALL)
                    ),
                )
            )
    code, name = division_cells(tree, tree.root, lang)
    notes = (
        BIRTHS.describe(lang),
        _state_note(ctx),
        _w(
            f"范围：{name.strip()}（{code}）。孩次按母亲的亲生子女出生先后计（收养不计）；"
            "母亲不在登记中者为孩次不详。",
            f"Area: {name.strip()} ({code}). Birth order counts the mother's children by "
            "birth in order of birth (adopted children do not count); unknown when the "
            "mother is not in the register.",
            lang,
        ),
    )
    return ReportTable(
        code=BIRTHS.code,
        title_zh=f"出生人口（按月份、性别、孩次）{ctx.period.label('zh')}",
        title_en=f"Live births by month, sex and birth order, {ctx.period.label('en')}",
        columns=(
            Column(key="month", label_zh="月份", label_en="Month"),
            Column(key="birth_order", label_zh="孩次", label_en="Birth order"),
            *_sex_columns(),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, withheld, *notes),
        total_rows=tuple(totals),
        chart=Chart(
            kind="bar", category="month", series=("male", "female"), rows=tuple(chart_rows)
        ),
    )


BIRTHS = Indicator(
    code="births",
    name=Bilingual(zh="出生人口", en="Live births"),
    definition=Bilingual(
        zh="统计期内出生、出生时户籍在本辖区的活产婴儿数，按月份、性别和孩次分。",
        en="Live births in the period of children whose hukou at birth is in the area, by "
        "month, sex and birth order.",
    ),
    numerator=Bilingual(zh="活产数", en="live births"),
    denominator=None,
    unit=Bilingual(zh="人", en="births"),
    dimensions=("month", "sex", "birth_order"),
    disclosure="public",
    compute=births_table,
    sources=("persons", "parent_child", "hukou_changes"),
)


# -- crude rates --------------------------------------------------------------------------------


def _by_division(
    counts: dict[tuple[Hashable, ...], int], measure: str, tree_chain: dict[str, tuple[str, ...]]
) -> dict[tuple[Hashable, ...], int]:
    out: dict[tuple[Hashable, ...], int] = {}
    for key, n in counts.items():
        for code in tree_chain[str(key[0])]:
            k = (code, measure)
            out[k] = out.get(k, 0) + n
    return out


def vital_rates_table(ctx: ReportContext) -> ReportTable:
    """人口变动: stocks, births, deaths and the crude rates on the average population."""
    lang = ctx.lang
    period = ctx.period
    start, end, births, deaths = ctx.stock("start"), ctx.stock("end"), ctx.births(), ctx.deaths()
    leaves = {k[0] for k in start} | {k[0] for k in end} | {k[0] for k in births}
    leaves |= {k[0] for k in deaths}
    tree = ctx.tree(leaves)
    chain = {leaf: tree.chain(leaf) for leaf in leaves}
    values: dict[tuple[Hashable, ...], int] = {}
    for measure, counts in (
        ("start", start),
        ("end", end),
        ("births", births),
        ("deaths", deaths),
    ):
        values.update(_by_division(dict(counts), measure, chain))  # type: ignore[arg-type]
    measures: list[Hashable] = ["start", "end", "births", "deaths"]
    withheld = withhold(
        ctx, values, [tree.order, measures], [tree.parts, {}], village_axis=0, tree=tree
    )
    rows: list[tuple[Cell, ...]] = []
    for code in tree.order:
        s, e = values.get((code, "start"), 0), values.get((code, "end"), 0)
        b, d = values.get((code, "births"), 0), values.get((code, "deaths"), 0)
        hidden = {m for m in ("start", "end", "births", "deaths") if (code, m) in withheld}
        exposure = person_years(s, e, days=period.days, year_days=period.year_days)
        avg_hidden = bool(hidden & {"start", "end"})
        cbr = rate_per_thousand(b, exposure)
        cdr = rate_per_thousand(d, exposure)
        ngr = rate_per_thousand(b - d, exposure)
        rows.append(
            (
                *division_cells(tree, code, lang),
                cell(s, (code, "start"), withheld),
                cell(e, (code, "end"), withheld),
                SUPPRESSED if avg_hidden else quantize(average(s, e), 1),
                cell(b, (code, "births"), withheld),
                cell(d, (code, "deaths"), withheld),
                SUPPRESSED if hidden & {"births", "deaths"} else b - d,
                SUPPRESSED if avg_hidden or "births" in hidden else cbr,
                SUPPRESSED if avg_hidden or "deaths" in hidden else cdr,
                SUPPRESSED if avg_hidden or hidden & {"births", "deaths"} else ngr,
            )
        )
    notes = [VITAL_RATES.describe(lang), _state_note(ctx)]
    if period.kind != "year":
        notes.append(
            _w(
                f"非全年统计期的率已年化：平均人口×{period.days}/{period.year_days}为人年数。",
                f"Rates for a part of a year are annualised: person-years = average population "
                f"x {period.days}/{period.year_days}.",
                lang,
            )
        )
    return ReportTable(
        code=VITAL_RATES.code,
        title_zh=f"人口变动与出生率、死亡率、自然增长率 {period.label('zh')}",
        title_en=f"Births, deaths and crude rates, {period.label('en')}",
        columns=(
            *DIVISION_COLUMNS,
            Column(key="start", label_zh="期初人口", label_en="Start population", kind="number"),
            Column(key="end", label_zh="期末人口", label_en="End population", kind="number"),
            Column(
                key="average",
                label_zh="平均人口",
                label_en="Average population",
                kind="decimal",
                places=1,
            ),
            Column(key="births", label_zh="出生", label_en="Births", kind="number"),
            Column(key="deaths", label_zh="死亡", label_en="Deaths", kind="number"),
            Column(
                key="natural_increase",
                label_zh="自然增长",
                label_en="Natural increase",
                kind="number",
            ),
            Column(
                key="birth_rate",
                label_zh="出生率(‰)",
                label_en="Birth rate (‰)",
                kind="decimal",
                places=2,
            ),
            Column(
                key="death_rate",
                label_zh="死亡率(‰)",
                label_en="Death rate (‰)",
                kind="decimal",
                places=2,
            ),
            Column(
                key="natural_growth_rate",
                label_zh="自然增长率(‰)",
                label_en="Natural growth rate (‰)",
                kind="decimal",
                places=2,
            ),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, withheld, *notes),
        total_rows=tuple(i for i, code in enumerate(tree.order) if code in tree.parts) or (0,),
        chart=Chart(
            kind="bar",
            category="division_name",
            series=("birth_rate", "death_rate"),
            rows=tuple(range(len(rows))),
        ),
    )


VITAL_RATES = Indicator(
    code="vital_rates",
    name=Bilingual(
        zh="出生率、死亡率和自然增长率", en="Crude birth, death and natural growth rates"
    ),
    definition=Bilingual(
        zh="出生（死亡）人数除以平均人口（期初与期末人口之平均）乘1000；自然增长率为两者之差。",
        en="Births (deaths) divided by the average population (the mean of the start and "
        "end populations), times 1,000; the natural growth rate is their difference.",
    ),
    numerator=Bilingual(zh="出生数、死亡数或两者之差", en="births, deaths, or births minus deaths"),
    denominator=Bilingual(zh="平均人口（人年数）", en="average population (person-years)"),
    unit=Bilingual(zh="‰", en="per 1,000 (‰)"),
    dimensions=("division",),
    disclosure="public",
    compute=vital_rates_table,
    sources=("persons", "hukou_changes"),
)


# -- sex ratio at birth ---------------------------------------------------------------------------


def _srb_warning(n: int, lang: str) -> str:
    error = srb_standard_error(n)
    if error is None:
        return _w("无出生，无法计算。", "No births: not computed.", lang)
    half = quantize(Z95 * error, 0)
    return _w(
        f"出生数过少（{n}例），95%区间约±{half}，不足以说明问题；应多年合并观察，"
        "不得用于推断性别选择。",
        f"Too few births ({n}): the 95% interval is about ±{half} points, too wide to mean "
        "anything; pool several years, and never use it to infer sex selection.",
        lang,
    )


def sex_ratio_table(ctx: ReportContext) -> ReportTable:
    """出生人口性别比: male births per 100 female births, with the 95 % interval."""
    lang = ctx.lang
    births = ctx.births()
    tree = ctx.tree(k[0] for k in births)
    rows_for = [tree.root]
    if len(tree.root) == 6:
        rows_for += list(tree.parts.get(tree.root, ()))
    counts: dict[tuple[Hashable, ...], int] = {}
    for (div, _month, sex, _order, _mband), n in births.items():
        if sex not in (1, 2):
            continue
        for code in tree.chain(div):
            counts[(code, sex)] = counts.get((code, sex), 0) + n
    withheld = withhold(ctx, counts, [rows_for, (1, 2)], [{}, {}], village_axis=0, tree=tree)
    rows: list[tuple[Cell, ...]] = []
    for code in rows_for:
        males, females = counts.get((code, 1), 0), counts.get((code, 2), 0)
        srb = sex_ratio_at_birth(males, females)
        hide = (code, 1) in withheld or (code, 2) in withheld
        figures: tuple[Cell, ...] = (srb.ratio, srb.low, srb.high, srb.standard_error)
        rows.append(
            (
                *division_cells(tree, code, lang),
                cell(males, (code, 1), withheld),
                cell(females, (code, 2), withheld),
                *((SUPPRESSED,) * 4 if hide else figures),
                _srb_warning(srb.births, lang) if srb.too_uncertain and not hide else "",
            )
        )
    notes = (
        SEX_RATIO_AT_BIRTH.describe(lang),
        _state_note(ctx),
        _w(
            "95%区间为男婴比例的Wilson区间换算为性别比；标准误按delta法100·√(p/(n(1−p)³))。"
            "正常范围约为103至107。",
            "The 95% interval is the Wilson interval of the share of boys, carried over to "
            "the ratio; the standard error is the delta-method 100·sqrt(p/(n(1-p)^3)). The "
            "usual range is about 103 to 107.",
            lang,
        ),
    )
    return ReportTable(
        code=SEX_RATIO_AT_BIRTH.code,
        title_zh=f"出生人口性别比及其95%置信区间 {ctx.period.label('zh')}",
        title_en=f"Sex ratio at birth with its 95% interval, {ctx.period.label('en')}",
        columns=(
            *DIVISION_COLUMNS,
            Column(key="male_births", label_zh="男婴", label_en="Male births", kind="number"),
            Column(key="female_births", label_zh="女婴", label_en="Female births", kind="number"),
            Column(
                key="sex_ratio", label_zh="性别比", label_en="Sex ratio", kind="decimal", places=2
            ),
            Column(key="low", label_zh="95%下限", label_en="95% low", kind="decimal", places=2),
            Column(key="high", label_zh="95%上限", label_en="95% high", kind="decimal", places=2),
            Column(
                key="standard_error",
                label_zh="标准误",
                label_en="Standard error",
                kind="decimal",
                places=2,
            ),
            Column(key="warning", label_zh="提示", label_en="Warning"),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, withheld, *notes),
        total_rows=(0,),
        chart=Chart(
            kind="interval",
            category="division_name",
            series=("sex_ratio", "low", "high"),
            reference=Decimal(105),
        ),
    )


SEX_RATIO_AT_BIRTH = Indicator(
    code="sex_ratio_at_birth",
    name=Bilingual(zh="出生人口性别比", en="Sex ratio at birth"),
    definition=Bilingual(
        zh="统计期内活产男婴数与女婴数之比乘100，附95%置信区间；出生数过少时给出提示。",
        en="Male live births per 100 female live births in the period, with its 95% "
        "interval, and a warning where births are too few for it to mean anything.",
    ),
    numerator=Bilingual(zh="活产男婴数", en="male live births"),
    denominator=Bilingual(zh="活产女婴数", en="female live births"),
    unit=Bilingual(zh="男婴/100女婴", en="males per 100 females"),
    dimensions=("division", "sex"),
    disclosure="public",
    compute=sex_ratio_table,
    sources=("persons", "hukou_changes"),
)


# -- fertility --------------------------------------------------------------------------------


def fertility_table(ctx: ReportContext) -> ReportTable:
    """生育率: age-specific, general and total fertility rates of the scope."""
    lang = ctx.lang
    period = ctx.period
    births = ctx.births()
    start, end = ctx.stock("start"), ctx.stock("end")
    tree = ctx.tree(k[0] for k in births)
    by_band: dict[Hashable, int] = {}
    for (_div, _month, _sex, _order, mband), n in births.items():
        key: Hashable = mband if mband in FERTILE_BANDS else "unknown"
        by_band[key] = by_band.get(key, 0) + n
    women: dict[int, tuple[int, int]] = {}
    for band in FERTILE_BANDS:
        s = sum(n for (_d, sex, b), n in start.items() if sex == 2 and b == band)
        e = sum(n for (_d, sex, b), n in end.items() if sex == 2 and b == band)
        women[band] = (s, e)
    total_births = sum(by_band.values())
    values: dict[tuple[Hashable, ...], int] = {(b,): n for b, n in by_band.items()}
    values[(ALL,)] = total_births
    parts: list[Hashable] = [*FERTILE_BANDS, "unknown"]
    withheld = withhold(ctx, values, [[ALL, *parts]], [{ALL: parts}], village_axis=None, tree=tree)
    small_women = {
        band
        for band, (s, e) in women.items()
        if ctx.public
        and tree.is_village(tree.root)
        and (0 < s < ctx.threshold or 0 < e < ctx.threshold)
    }

    def per_year(s: int, e: int) -> Decimal:
        return person_years(s, e, days=period.days, year_days=period.year_days)

    rows: list[tuple[Cell, ...]] = []
    tfr_sum = Decimal(0)
    tfr_hidden = False
    per_thousand = _w("‰", "‰", lang)
    for band in FERTILE_BANDS:
        s, e = women[band]
        n = by_band.get(band, 0)
        exposure = per_year(s, e)
        rate = rate_per_thousand(n, exposure)
        if exposure > 0:
            tfr_sum += Decimal(n) / exposure
        hidden = (band,) in withheld or band in small_women
        tfr_hidden = tfr_hidden or hidden
        rows.append(
            (
                band_label(band, lang),
                cell(n, (band,), withheld),
                SUPPRESSED if band in small_women else quantize(average(s, e), 1),
                SUPPRESSED if hidden else rate,
                per_thousand,
            )
        )
    s_all = sum(women[b][0] for b in FERTILE_BANDS)
    e_all = sum(women[b][1] for b in FERTILE_BANDS)
    gfr = rate_per_thousand(total_births, per_year(s_all, e_all))
    rows.append(
        (
            _w("一般生育率（15-49岁）", "General fertility rate (15-49)", lang),
            cell(total_births, (ALL,), withheld),
            quantize(average(s_all, e_all), 1),
            SUPPRESSED if (ALL,) in withheld else gfr,
            per_thousand,
        )
    )
    known = sum(by_band.get(b, 0) for b in FERTILE_BANDS)
    tfr = quantize(5 * tfr_sum, 3) if known or tfr_sum else Decimal("0.000")
    rows.append(
        (
            _w("总和生育率", "Total fertility rate", lang),
            SUPPRESSED if tfr_hidden else known,
            None,
            SUPPRESSED if tfr_hidden else tfr,
            _w("孩/妇女", "children per woman", lang),
        )
    )
    rows.append(
        (
            _w("母亲年龄不详", "Mother's age unknown", lang),
            cell(by_band.get("unknown", 0), ("unknown",), withheld),
            None,
            None,
            "",
        )
    )
    code, name = division_cells(tree, tree.root, lang)
    notes = [
        FERTILITY.describe(lang),
        _state_note(ctx),
        _w(
            f"范围：{name.strip()}（{code}）。年龄别生育率＝该年龄组母亲所生活产数÷该组妇女人年数×1000；"
            "总和生育率＝5×各五岁组生育率之和（每名妇女）；不满15岁和50岁及以上母亲分别计入15-19岁和"
            "45-49岁组；母亲年龄不详的出生计入一般生育率，不计入年龄别生育率。",
            f"Area: {name.strip()} ({code}). Age-specific rate = births to mothers of the band "
            "/ person-years of women of the band x 1,000; total fertility rate = 5 x the sum "
            "of the five-year rates (children per woman); mothers under 15 count in 15-19 and "
            "those 50 and over in 45-49; births whose mother's age is unknown count in the "
            "general rate only.",
            lang,
        ),
    ]
    if period.kind != "year":
        notes.append(
            _w("非全年统计期的率已年化。", "Rates for a part of a year are annualised.", lang)
        )
    return ReportTable(
        code=FERTILITY.code,
        title_zh=f"一般生育率与总和生育率 {period.label('zh')}",
        title_en=f"General and total fertility rates, {period.label('en')}",
        columns=(
            Column(key="group", label_zh="母亲年龄组/指标", label_en="Mother's age band / measure"),
            Column(key="births", label_zh="活产数", label_en="Live births", kind="number"),
            Column(
                key="women",
                label_zh="妇女平均人数",
                label_en="Women (average)",
                kind="decimal",
                places=1,
            ),
            Column(key="rate", label_zh="生育率", label_en="Rate", kind="decimal", places=2),
            Column(key="unit", label_zh="单位", label_en="Unit"),
        ),
        rows=tuple(rows),
        notes=notes_for(ctx, withheld | frozenset(small_women), *notes),
        total_rows=(len(FERTILE_BANDS), len(FERTILE_BANDS) + 1),
        chart=Chart(
            kind="bar", category="group", series=("rate",), rows=tuple(range(len(FERTILE_BANDS)))
        ),
    )


FERTILITY = Indicator(
    code="fertility",
    name=Bilingual(zh="一般生育率和总和生育率", en="General and total fertility rates"),
    definition=Bilingual(
        zh="一般生育率为活产数除以15-49岁妇女平均人数乘1000；总和生育率为各年龄别生育率之和，"
        "即一名妇女按当期生育水平一生所生子女数。",
        en="The general fertility rate is live births per 1,000 women aged 15-49 (average); "
        "the total fertility rate is the sum of the age-specific rates: the children a "
        "woman would have at the period's rates.",
    ),
    numerator=Bilingual(zh="活产数（按母亲年龄组）", en="live births (by mother's age band)"),
    denominator=Bilingual(
        zh="15-49岁妇女平均人数（人年数，按年龄组）",
        en="women aged 15-49, average (person-years, by age band)",
    ),
    unit=Bilingual(zh="‰；总和生育率为孩/妇女", en="‰; the total rate in children per woman"),
    dimensions=("mother_age_band",),
    disclosure="public",
    compute=fertility_table,
    sources=("persons", "parent_child", "hukou_changes"),
)

POPULATION_INDICATORS: tuple[Indicator, ...] = (
    POPULATION,
    BIRTHS,
    VITAL_RATES,
    SEX_RATIO_AT_BIRTH,
    FERTILITY,
)
"""The population indicators, in the order reports show them."""
