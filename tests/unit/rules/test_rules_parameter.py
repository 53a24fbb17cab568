"""R0.8: parameters are step functions of time, read from YAML; province overlays (R0.7 money)."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import (
    ParameterError,
    ParameterNotFoundError,
    ParameterParsingError,
)
from famplan_core.model.money import Money
from famplan_core.rules import (
    Parameter,
    ParameterSet,
    ParameterStep,
    ParameterTable,
    load_parameter_directory,
    load_parameter_file,
    parse_parameter_yaml,
)

RURAL = """\
description: Annual amount of the rural family reward support per parent
metadata:
  reference: "财政部 国家人口计生委 财教〔2011〕623号"
  unit: CNY/year
  program: rural_reward
values:
  2004-01-01: {value: "600.00"}
  2012-01-01: {value: "960.00"}
"""

TABLE = """\
description: Special assistance by category and hukou type
metadata: {reference: "R3.6", unit: CNY/month, program: special_assistance}
values:
  2008-01-01:
    value: {death: {urban: "100.00", rural: "100.00"}, disability: {urban: "80.00", rural: "80.00"}}
  2014-01-01:
    value: {death.urban: "340.00", death.rural: "170.00", disability.urban: "270.00"}
  2020-01-01: {value: null}
"""


def _rural() -> Parameter:
    return parse_parameter_yaml(RURAL, file="annual_amount.yaml")


def _step(year: int, fen: int | None, source: str = "national") -> ParameterStep:
    return ParameterStep(
        start=dt.date(year, 1, 1), value=None if fen is None else Money(fen), source=source
    )


def _param(*steps: ParameterStep, source: str = "national") -> Parameter:
    return Parameter(
        program="p",
        name="amount",
        description="d",
        reference="r",
        unit="CNY/month",
        values=steps,
        source=source,
    )


def test_r0_8_loads_openfisca_shape_with_fields() -> None:
    parameter = _rural()
    assert (parameter.program, parameter.name, parameter.key) == (
        "rural_reward",
        "annual_amount",
        "rural_reward.annual_amount",
    )
    assert parameter.unit == "CNY/year"
    assert parameter.reference.startswith("财政部")
    assert parameter.source == "national"
    assert parameter.kind == "amount"
    assert [str(step.value) for step in parameter.values] == ["600.00", "960.00"]


def test_r0_8_value_is_latest_from_on_or_before_date() -> None:
    parameter = _rural()
    assert parameter.value_at(dt.date(2011, 12, 31)) == Money.parse("600.00")
    assert parameter.value_at(dt.date(2012, 1, 1)) == Money.parse("960.00")
    assert parameter.amount_at(dt.date(2030, 6, 1)) == Money.parse("960.00")


def test_r0_8_before_first_value_is_not_in_force_not_an_error() -> None:
    parameter = _rural()
    assert parameter.value_at(dt.date(2003, 12, 31)) is None
    assert parameter.in_force(dt.date(2003, 12, 31)) is False
    assert parameter.in_force(dt.date(2004, 1, 1)) is True


def test_r0_8_null_gap_after_first_value_is_an_error_naming_program_parameter_date() -> None:
    parameter = parse_parameter_yaml(TABLE, file="monthly_amount.yaml")
    with pytest.raises(ParameterNotFoundError) as caught:
        parameter.value_at(dt.date(2021, 3, 1))
    message = str(caught.value)
    assert "special_assistance" in message
    assert "monthly_amount" in message
    assert "2021-03-01" in message


def test_r0_8_missing_table_key_is_an_error_naming_program_parameter_date_key() -> None:
    parameter = parse_parameter_yaml(TABLE, file="monthly_amount.yaml")
    assert parameter.table_amount_at(dt.date(2014, 1, 1), "death.rural") == Money(17000)
    assert parameter.table_amount_at(dt.date(2009, 1, 1), "death.rural") == Money(10000)
    with pytest.raises(ParameterNotFoundError) as caught:
        parameter.table_amount_at(dt.date(2015, 2, 1), "disability.rural")
    message = str(caught.value)
    for part in ("special_assistance", "monthly_amount", "2015-02-01", "disability.rural"):
        assert part in message
    assert parameter.table_amount_at(dt.date(2007, 1, 1), "death.rural") is None


def test_r0_8_nested_and_dotted_table_keys_are_the_same() -> None:
    parameter = parse_parameter_yaml(TABLE, file="monthly_amount.yaml")
    table = parameter.table_at(dt.date(2009, 1, 1))
    assert isinstance(table, ParameterTable)
    assert table.keys() == ("death.rural", "death.urban", "disability.rural", "disability.urban")
    assert table.as_dict()["disability.urban"] == "80.00"


def test_r0_8_integer_values() -> None:
    text = """
description: age limit
metadata: {reference: r, unit: years, program: childcare_subsidy}
values:
  2025-01-01: {value: 3}
"""
    parameter = parse_parameter_yaml(text, file="age_limit.yaml")
    assert parameter.integer_at(dt.date(2025, 1, 1)) == 3
    assert parameter.kind == "integer"
    with pytest.raises(ParameterError):
        parameter.amount_at(dt.date(2025, 1, 1))


def test_r0_8_file_name_gives_program_and_name(tmp_path: Path) -> None:
    path = tmp_path / "rural_reward.annual_amount.yaml"
    path.write_text(RURAL.replace("  program: rural_reward\n", ""), encoding="utf-8")
    parameter = load_parameter_file(path)
    assert parameter.key == "rural_reward.annual_amount"
    (tmp_path / "notes.txt").write_text("ignored", encoding="utf-8")
    assert [p.key for p in load_parameter_directory(tmp_path)] == ["rural_reward.annual_amount"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("- a list\n", "(document)"),
        (RURAL.replace('"600.00"', "600.5"), "values.2004-01-01.value"),
        (RURAL.replace('"600.00"', "600"), "values.2004-01-01.value"),
        (RURAL.replace('"600.00"', '"six hundred"'), "values.2004-01-01.value"),
        (RURAL.replace('"600.00"', "true"), "values.2004-01-01.value"),
        (RURAL.replace("2004-01-01", "2004-13-01"), "annual_amount.yaml"),
        (RURAL.replace("2004-01-01", "'first of 2004'"), "values.first of 2004"),
        (RURAL.replace("{value:", "{valeu:"), "values.2004-01-01"),
        (RURAL.replace("  unit: CNY/year\n", ""), "metadata.unit"),
        (RURAL.replace("  reference:", "  referance:"), "metadata.reference"),
        (RURAL.replace("description:", "descripton:"), "descripton"),
        (RURAL.replace("program: rural_reward", "program: other"), "metadata.program"),
        (RURAL.replace('"600.00"', "null"), "values"),
        (RURAL.replace('{value: "960.00"}', '{value: {a: "1.00"}}'), "values"),
        ("values: {2004-01-01: {value: '1.00'}}\n", "description"),
        ("description: x\nmetadata: {reference: r, unit: CNY}\nvalues: {}\n", "values"),
        ("{{{", "not readable as YAML"),
    ],
)
def test_r0_8_parse_errors_name_file_and_key(text: str, key: str) -> None:
    with pytest.raises(ParameterParsingError) as caught:
        parse_parameter_yaml(text, file="rural_reward.annual_amount.yaml")
    message = str(caught.value)
    assert message.startswith("rural_reward.annual_amount.yaml")
    assert key in message


def test_r0_8_quoted_and_date_keys_for_the_same_day_are_refused() -> None:
    text = RURAL.replace("  2012-01-01:", "  '2004-01-01':")
    with pytest.raises(ParameterParsingError, match="twice"):
        parse_parameter_yaml(text, file="rural_reward.annual_amount.yaml")


def test_r0_8_steps_must_increase_and_not_start_with_a_gap() -> None:
    with pytest.raises(ParameterError, match="increasing"):
        _param(_step(2012, 1), _step(2004, 1))
    with pytest.raises(ParameterError, match="null"):
        _param(_step(2004, None))
    with pytest.raises(ParameterError, match="no values"):
        _param()


# --- overlays (a province overrides national values) ---------------------------------------


def test_r0_8_overlay_wins_from_its_first_date_and_keeps_national_history() -> None:
    national = _param(_step(2004, 60000), _step(2012, 96000))
    shandong = _param(_step(2020, 120000, "Shandong: 鲁卫人口发〔2025〕x号"), source="Shandong")
    merged = national.overlaid_by(shandong)
    assert merged.value_at(dt.date(2019, 12, 1)) == Money(96000)
    assert merged.value_at(dt.date(2020, 1, 1)) == Money(120000)
    assert merged.value_at(dt.date(2005, 1, 1)) == Money(60000)
    before = merged.step_at(dt.date(2019, 12, 1))
    after = merged.step_at(dt.date(2021, 1, 1))
    assert before is not None
    assert before.source == "national"
    assert after is not None
    assert after.source.startswith("Shandong")
    assert merged.source == "Shandong"


def test_r0_8_overlay_refuses_another_parameter_or_unit() -> None:
    national = _param(_step(2004, 1))
    other = Parameter(
        program="p",
        name="other",
        description="d",
        reference="r",
        unit="CNY/month",
        values=(_step(2004, 1),),
    )
    with pytest.raises(ParameterError, match="same program"):
        national.overlaid_by(other)
    yearly = Parameter(
        program="p",
        name="amount",
        description="d",
        reference="r",
        unit="CNY/year",
        values=(_step(2004, 1),),
    )
    with pytest.raises(ParameterError, match="unit"):
        national.overlaid_by(yearly)


def test_r0_8_parameter_set_overlay_lookup_and_views() -> None:
    national = ParameterSet.of([_rural()])
    override = parse_parameter_yaml(
        RURAL.replace("2004-01-01", "2020-01-01").replace("2012-01-01", "2024-01-01"),
        file="rural_reward.annual_amount.yaml",
        source="Shandong",
    )
    merged = national.overlaid_by([override])
    parameter = merged.get("rural_reward", "annual_amount")
    assert [step.source for step in parameter.values] == [
        "national",
        "national",
        "Shandong",
        "Shandong",
    ]
    view = merged.view("rural_reward", dt.date(2025, 1, 1))
    assert view.in_force
    (use,) = view.uses()
    assert (use.value_text, use.start, use.source) == ("960.00", dt.date(2024, 1, 1), "Shandong")
    with pytest.raises(ParameterNotFoundError, match="annual_amount"):
        merged.get("rural_reward", "monthly_amount")
    with pytest.raises(ParameterError, match="twice"):
        ParameterSet.of([_rural(), _rural()])


# --- Hypothesis: the step function and the loader --------------------------------------------

step_lists = st.lists(
    st.tuples(
        st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)),
        st.one_of(st.none(), st.integers(min_value=-(10**9), max_value=10**9)),
    ),
    min_size=1,
    max_size=8,
    unique_by=lambda pair: pair[0],
).map(sorted)


def _from_pairs(pairs: list[tuple[dt.date, int | None]], source: str = "national") -> Parameter:
    first, *rest = pairs
    steps = [ParameterStep(start=first[0], value=Money(first[1] or 0), source=source)]
    steps += [
        ParameterStep(start=d, value=None if v is None else Money(v), source=source)
        for d, v in rest
    ]
    return _param(*steps)


@given(pairs=step_lists, on=st.dates(min_value=dt.date(1985, 1, 1)))
def test_r0_8_step_function_matches_brute_force(
    pairs: list[tuple[dt.date, int | None]], on: dt.date
) -> None:
    parameter = _from_pairs(pairs)
    applicable = [step for step in parameter.values if step.start <= on]
    if not applicable:
        assert parameter.value_at(on) is None
        assert not parameter.in_force(on)
    elif applicable[-1].value is None:
        with pytest.raises(ParameterNotFoundError):
            parameter.value_at(on)
    else:
        assert parameter.value_at(on) == applicable[-1].value


def _gap(parameter: Parameter, on: dt.date) -> bool:
    step = parameter.step_at(on)
    return step is not None and step.value is None


@given(pairs=step_lists, on=st.dates(min_value=dt.date(1985, 1, 1)))
def test_r0_8_yaml_round_trip(pairs: list[tuple[dt.date, int | None]], on: dt.date) -> None:
    parameter = _from_pairs(pairs)
    document = {
        "description": "d",
        "metadata": {"reference": "r", "unit": "CNY/month", "program": "p"},
        "values": {
            step.start: {"value": None if step.value is None else str(step.value)}
            for step in parameter.values
        },
    }
    loaded = parse_parameter_yaml(yaml.safe_dump(document), file="amount.yaml")
    assert [(s.start, s.value) for s in loaded.values] == [
        (s.start, s.value) for s in parameter.values
    ]
    assert {s.reference for s in loaded.values} == {"r"}
    if not _gap(parameter, on):
        assert loaded.value_at(on) == parameter.value_at(on)


@given(
    national=step_lists,
    override=step_lists,
    on=st.dates(min_value=dt.date(1985, 1, 1)),
)
def test_r0_8_overlay_equals_override_from_its_first_date(
    national: list[tuple[dt.date, int | None]],
    override: list[tuple[dt.date, int | None]],
    on: dt.date,
) -> None:
    base = _from_pairs(national)
    top = _from_pairs(override, source="province")
    merged = base.overlaid_by(top)
    expected = top if on >= top.first_date else base
    try:
        wanted = expected.value_at(on)
    except ParameterNotFoundError:
        with pytest.raises(ParameterNotFoundError):
            merged.value_at(on)
        return
    assert merged.value_at(on) == wanted
    step = merged.step_at(on)
    if step is not None:
        assert step.source == ("province" if on >= top.first_date else "national")


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.dates(),
    st.sampled_from(["300.00", "1.5", "-2", "12,000.00", "2025-01-01"]),
)
yaml_keys = st.one_of(
    st.sampled_from(
        ["description", "metadata", "values", "value", "reference", "unit", "program", "source"]
    ),
    st.dates(),
    st.text(max_size=8),
    st.integers(),
)
yaml_documents = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(yaml_keys, children, max_size=5)
    ),
    max_leaves=25,
)


@given(document=yaml_documents)
def test_r0_8_random_yaml_structures_raise_only_parameter_errors(document: object) -> None:
    try:
        text = yaml.safe_dump(document, allow_unicode=True)
    except yaml.YAMLError:
        return
    with contextlib.suppress(ParameterError):
        parse_parameter_yaml(text, file="p.amount.yaml")


@given(text=st.text(max_size=200))
def test_r0_8_random_text_raises_only_parameter_errors(text: str) -> None:
    with contextlib.suppress(ParameterError):
        parse_parameter_yaml(text, file="p.amount.yaml")


@given(
    metadata=st.dictionaries(yaml_keys, yaml_scalars, max_size=4),
    values=st.dictionaries(
        st.one_of(st.dates(), st.text(max_size=10)),
        st.one_of(yaml_scalars, st.dictionaries(yaml_keys, yaml_scalars, max_size=3)),
        max_size=4,
    ),
)
def test_r0_8_random_near_valid_documents_raise_only_parameter_errors(
    metadata: dict[object, object], values: dict[object, object]
) -> None:
    document = {"description": "d", "metadata": metadata, "values": values}
    with contextlib.suppress(ParameterError):
        Parameter.from_mapping(document, file="p.amount.yaml")
