"""Small-cell suppression (小数单元格隐藏) for public outputs (domain README §6).

A count under `THRESHOLD` (5) about a village can point at a person: "the one birth to a
woman over 40 in 王庄村". In a table marked public, such cells are withheld (*primary
suppression*); counts of 0 are shown, since they describe nobody. Withholding one cell is
not enough when its row or column total is shown: the total minus the other cells gives it
back. So more cells are withheld (*secondary suppression*) until every additive relation
of the table (a total and the cells it sums) has either no withheld cell or at least two.

The relations come from the table's structure: `cube_relations` lists them for a table
whose cells are keyed by one member per dimension, where some members are the sums of
others (a township of its villages, "all ages" of the age bands, "both sexes" of male and
female). The secondary cells are chosen greedily, in a fixed order, preferring the smallest
non-zero cell among the parts (the total only when no part is left), so the same table
always gives the same pattern.

Limits: the greedy rule guarantees that no withheld cell can be recovered from a single
relation. Combining several relations (solving the table as a system of equations) can
still narrow a withheld cell to a range, and occasionally to one value, in large
multi-dimensional tables; the outputs are aggregates for notice boards and reports, not a
guarantee against a determined attacker with linear programming (τ-ARGUS's optimal methods
give that, at a far higher cost).

Example:
    >>> cells = {("t", "*"): 9, ("v1", "*"): 3, ("v2", "*"): 6}
    >>> rels = [Relation(total=("t", "*"), parts=(("v1", "*"), ("v2", "*")))]
    >>> sorted(suppress(cells, rels, primary_cells(cells, [("v1", "*"), ("v2", "*")])))
    [('v1', '*'), ('v2', '*')]
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any

import attrs

__all__ = [
    "THRESHOLD",
    "Relation",
    "cube_relations",
    "primary_cells",
    "suppress",
]

THRESHOLD = 5
"""Counts from 1 to ``THRESHOLD - 1`` at village level are withheld in public outputs."""


@attrs.frozen(kw_only=True)
class Relation:
    """An additive relation of a table: `total` is the sum of `parts`.

    Attributes:
        total: the key of the total cell.
        parts: the keys of the cells it sums.
    """

    total: Hashable
    parts: tuple[Hashable, ...]


def primary_cells(
    values: Mapping[Any, int], candidates: Iterable[Hashable], threshold: int = THRESHOLD
) -> set[Hashable]:
    """The cells to withhold first: the candidates whose count is from 1 to threshold - 1.

    Args:
        values: every cell's count, by key.
        candidates: the cells the rule applies to (those about a village).
        threshold: the smallest count shown.
    """
    return {key for key in candidates if 0 < values.get(key, 0) < threshold}


def _sort_key(key: Hashable) -> str:
    return repr(key)


def suppress(
    values: Mapping[Any, int],
    relations: Sequence[Relation],
    primary: Iterable[Hashable],
) -> frozenset[Hashable]:
    """Primary and secondary suppression: every cell to withhold.

    Args:
        values: every cell's count, by key (missing keys count 0).
        relations: the table's additive relations.
        primary: the cells withheld because they are small.

    Returns:
        The primary cells and the secondary cells that protect them.
    """
    withheld: set[Hashable] = set(primary)
    if not withheld:
        return frozenset()
    by_cell: dict[Hashable, list[int]] = {}
    for index, relation in enumerate(relations):
        for key in (relation.total, *relation.parts):
            by_cell.setdefault(key, []).append(index)
    pending = sorted({i for key in withheld for i in by_cell.get(key, ())})
    while pending:
        again: set[int] = set()
        for index in pending:
            relation = relations[index]
            members = (relation.total, *relation.parts)
            if sum(1 for key in members if key in withheld) != 1:
                continue
            choices = [key for key in relation.parts if key not in withheld]
            if not choices:
                choices = [relation.total] if relation.total not in withheld else []
            if not choices:
                continue
            pick = min(
                choices,
                key=lambda key: (values.get(key, 0) == 0, values.get(key, 0), _sort_key(key)),
            )
            withheld.add(pick)
            again.update(by_cell.get(pick, ()))
        pending = sorted(again)
    return frozenset(withheld)


def cube_relations(
    members: Sequence[Sequence[Any]],
    sums: Sequence[Mapping[Any, Sequence[Any]]],
) -> list[Relation]:
    """The additive relations of a table keyed by one member per dimension.

    Args:
        members: for each dimension, all its members (totals included).
        sums: for each dimension, the members that are sums, each with the members it sums
            (e.g. ``{"*": ("1", "2")}`` for sex, or a township with its villages).

    Returns:
        One relation per dimension, sum member and combination of the other dimensions'
        members.

    Example:
        >>> rels = cube_relations([["*", "a", "b"], ["*", "x"]], [{"*": ["a", "b"]}, {"*": ["x"]}])
        >>> len(rels)
        5
    """
    relations: list[Relation] = []
    for axis, axis_sums in enumerate(sums):
        others = [m for i, m in enumerate(members) if i != axis]
        for total, parts in axis_sums.items():
            for rest in itertools.product(*others):
                head, tail = rest[:axis], rest[axis:]
                relations.append(
                    Relation(
                        total=(*head, total, *tail),
                        parts=tuple((*head, part, *tail) for part in parts),
                    )
                )
    return relations
