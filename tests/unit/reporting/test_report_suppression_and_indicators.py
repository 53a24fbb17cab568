"""Small-cell suppression, indicator definitions and their registration through the hooks."""

from __future__ import annotations

import itertools
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from famplan_core.plugin_manager import PluginManager
from famplan_core.reporting import CORE_INDICATORS, Bilingual, Indicator
from famplan_core.reporting.context import DivisionTree
from famplan_core.reporting.suppression import (
    Relation,
    cube_relations,
    primary_cells,
    suppress,
)


def test_a_single_small_cell_takes_a_second_one_with_it() -> None:
    # township 20 = villages 3 + 8 + 9: the 3 is withheld, and the smallest other, 8
    values = {"T": 20, "a": 3, "b": 8, "c": 9}
    relations = [Relation(total="T", parts=("a", "b", "c"))]
    withheld = suppress(values, relations, primary_cells(values, ["a", "b", "c"]))
    assert withheld == {"a", "b"}


def test_zero_is_shown_and_not_chosen_when_another_cell_will_do() -> None:
    values = {"T": 12, "a": 2, "z": 0, "b": 10}
    relations = [Relation(total="T", parts=("a", "z", "b"))]
    assert primary_cells(values, ["a", "z", "b"]) == {"a"}
    assert suppress(values, relations, {"a"}) == {"a", "b"}


def test_a_lone_part_takes_its_total() -> None:
    values = {"T": 3, "a": 3}
    assert suppress(values, [Relation(total="T", parts=("a",))], {"a"}) == {"a", "T"}


def test_nothing_small_nothing_withheld() -> None:
    assert suppress({"T": 10, "a": 5, "b": 5}, [Relation(total="T", parts=("a", "b"))], []) == (
        frozenset()
    )


@settings(max_examples=150)
@given(
    villages=st.integers(1, 5),
    bands=st.integers(1, 4),
    data=st.data(),
)
def test_no_relation_is_left_with_exactly_one_withheld_cell(
    villages: int, bands: int, data: st.DataObject
) -> None:
    """The promise of secondary suppression, on random village x band x sex tables."""
    village_codes = [f"v{i}" for i in range(villages)]
    band_codes = list(range(bands))
    counts = {
        (v, b, s): data.draw(st.integers(0, 12))
        for v, b, s in itertools.product(village_codes, band_codes, (1, 2))
    }
    divisions: list[Hashable] = ["T", *village_codes]
    band_members: list[Hashable] = ["*", *band_codes]
    sexes: list[Hashable] = ["*", 1, 2]
    values: dict[tuple[Hashable, ...], int] = {}
    for (v, b, s), n in counts.items():
        for key in itertools.product((v, "T"), (b, "*"), (s, "*")):
            values[key] = values.get(key, 0) + n
    relations = cube_relations(
        [divisions, band_members, sexes],
        [{"T": village_codes}, {"*": band_codes}, {"*": (1, 2)}],
    )
    candidates = [k for k in itertools.product(divisions, band_members, sexes) if k[0] != "T"]
    primary = primary_cells(values, candidates)
    withheld = suppress(values, relations, primary)
    assert primary <= withheld
    for relation in relations:
        members = (relation.total, *relation.parts)
        assert sum(1 for m in members if m in withheld) != 1, relation
    for key in candidates:
        if key not in withheld:
            assert values.get(key, 0) == 0 or values[key] >= 5


def test_division_tree_rolls_villages_up() -> None:
    tree = DivisionTree.build("371502", ["371502110201", "371502110202", "371502115201"])
    assert tree.order == (
        "371502",
        "371502110",
        "371502110201",
        "371502110202",
        "371502115",
        "371502115201",
    )
    assert tree.parts["371502"] == ("371502110", "371502115")
    assert tree.chain("371502110202") == ("371502110202", "371502110", "371502")
    village = DivisionTree.build("371502110201", ["371502110201"])
    assert village.order == ("371502110201",)
    assert village.is_village(village.root)


def test_every_core_indicator_is_a_complete_definition() -> None:
    codes = [i.code for i in CORE_INDICATORS]
    assert codes == [
        "population",
        "births",
        "vital_rates",
        "sex_ratio_at_birth",
        "fertility",
        "program_beneficiaries",
        "program_changes",
    ]
    for indicator in CORE_INDICATORS:
        for text in (indicator.name, indicator.definition, indicator.numerator, indicator.unit):
            assert text.zh
            assert text.en
        assert indicator.dimensions
        assert indicator.disclosure in ("public", "internal")
        assert "分子" in indicator.describe("zh")
        assert "numerator" in indicator.describe("en")
    rates = next(i for i in CORE_INDICATORS if i.code == "vital_rates")
    assert rates.denominator is not None
    assert "平均人口" in rates.denominator.zh


def test_the_core_registers_its_indicators_through_the_hook() -> None:
    registered = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": ""}).indicators()
    assert list(registered) == [i.code for i in CORE_INDICATORS]
    assert registered["sex_ratio_at_birth"].name.zh == "出生人口性别比"


def test_an_indicator_code_is_checked() -> None:
    base = CORE_INDICATORS[0]
    with pytest.raises(ValueError, match="indicator code"):
        Indicator(
            code="All Births",
            name=base.name,
            definition=base.definition,
            numerator=base.numerator,
            denominator=None,
            unit=base.unit,
            dimensions=("sex",),
            disclosure="public",
            compute=base.compute,
        )
    with pytest.raises(ValueError, match="unknown dimensions"):
        Indicator(
            code="outreach",
            name=Bilingual(zh="外展", en="Outreach"),
            definition=base.definition,
            numerator=base.numerator,
            denominator=None,
            unit=base.unit,
            dimensions=("colour",),
            disclosure="public",
            compute=base.compute,
        )
