"""Shaping counts into report tables: labels, division columns, roll-up and withholding.

Shared by the core's indicators. Counts are held as *cubes*: dictionaries keyed by one
member per dimension, where ``"*"`` (or a division above the villages) is a total. `rollup`
adds each count into every total it belongs to, `withhold` runs small-cell suppression on
a cube when the output is public, and `division_cells` gives a row's code and name.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

from famplan_core.reporting.context import DivisionTree, ReportContext
from famplan_core.reporting.suppression import cube_relations, primary_cells, suppress
from famplan_core.reporting.table import SUPPRESSED, Cell, Column

__all__ = [
    "ALL",
    "DIVISION_COLUMNS",
    "cell",
    "division_cells",
    "notes_for",
    "rollup",
    "sex_label",
    "text",
    "withhold",
]

ALL = "*"
"""The member of a dimension that is the total of its other members."""

DIVISION_COLUMNS = (
    Column(key="division", label_zh="区划代码", label_en="Division code"),
    Column(key="division_name", label_zh="区划名称", label_en="Division name"),
)
"""The two columns naming a row's division."""

_WORDS: dict[str, tuple[str, str]] = {
    "total": ("合计", "Total"),
    "male": ("男", "Male"),
    "female": ("女", "Female"),
    "village": ("村", "village"),
    "withheld": (
        "* 为保护个人信息，村级小于{n}的数及可推算出它们的数不予公布。",
        "* Withheld to protect individuals: village counts under {n}, and the cells "
        "they could be worked out from.",
    ),
}


def text(word: str, lang: str) -> str:
    """A shared word (``total``, ``male``, ``female``...) in ``zh`` or ``en``."""
    zh, en = _WORDS[word]
    return zh if lang == "zh" else en


def sex_label(sex: Hashable, lang: str) -> str:
    """The label of a sex member: 男, 女 or 合计."""
    if sex == 1:
        return text("male", lang)
    if sex == 2:
        return text("female", lang)
    return text("total", lang)


def division_cells(tree: DivisionTree, code: str, lang: str) -> tuple[str, str]:
    """A row's division code and name (a village's name is its code's last 3 digits + 村,
    since the shipped division table stops at townships)."""
    name = tree.name(code)
    if not name and tree.is_village(code):
        name = f"{code[-3:]}{text('village', lang)}" if lang == "zh" else f"village {code[-3:]}"
    return code, name


def rollup(
    counts: Mapping[Any, int],
    ups: Sequence[Mapping[Any, Sequence[Any]] | None],
) -> dict[tuple[Any, ...], int]:
    """Add each count into every total above it.

    Args:
        counts: the finest counts, keyed by one member per dimension.
        ups: for each dimension, each member's members to count under (itself included),
            or None for ``(member, "*")``.

    Returns:
        Every cell with a count, totals included.
    """
    out: dict[tuple[Any, ...], int] = {}
    for key, n in counts.items():
        targets = [
            (member, ALL) if up is None else tuple(up.get(member, (member,)))
            for member, up in zip(key, ups, strict=True)
        ]
        for target in itertools.product(*targets):
            out[target] = out.get(target, 0) + n
    return out


def withhold(
    ctx: ReportContext,
    values: Mapping[Any, int],
    members: Sequence[Sequence[Any]],
    sums: Sequence[Mapping[Any, Sequence[Any]]],
    *,
    village_axis: int | None,
    tree: DivisionTree,
    candidates: Iterable[tuple[Any, ...]] | None = None,
) -> frozenset[Hashable]:
    """The cells of a cube to withhold in a public output (nothing otherwise).

    Args:
        ctx: the run (public or not, and its threshold).
        values: every cell's count.
        members: each dimension's members.
        sums: each dimension's sum members with their parts.
        village_axis: the dimension holding divisions; None when the whole table is about
            the scope (then the scope decides whether cells are about a village).
        tree: the division tree.
        candidates: the cells the small-cell rule applies to (default: every cell about a
            village).
    """
    if not ctx.public:
        return frozenset()
    if candidates is None:
        everything = itertools.product(*members)
        if village_axis is None:
            candidates = list(everything) if tree.is_village(tree.root) else []
        else:
            candidates = [k for k in everything if tree.is_village(str(k[village_axis]))]
    primary = primary_cells(values, candidates, ctx.threshold)
    return suppress(values, cube_relations(members, sums), primary)


def cell(value: Cell, key: Hashable, withheld: frozenset[Hashable]) -> Cell:
    """A cell's value, or the withheld mark."""
    return SUPPRESSED if key in withheld else value


def notes_for(ctx: ReportContext, withheld: Iterable[object], *extra: str) -> tuple[str, ...]:
    """The notes of a table: the extra notes, and the withholding note when cells are withheld."""
    notes = list(extra)
    if any(True for _ in withheld):
        zh, en = _WORDS["withheld"]
        notes.append((zh if ctx.lang == "zh" else en).format(n=ctx.threshold))
    return tuple(notes)
