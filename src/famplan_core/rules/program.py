"""Programs (待遇项目): a benefit program as data plus clauses.

A `Program` names its clauses (AND-ed, in the order an explanation lists them), how an
entitled row gets its category and its amount, and facts about the program itself: who the
beneficiary is, whether it is paid monthly, whether people apply, its legal reference and a
version that changes whenever its clauses do (decisions record it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.errors import PluginContractError
from famplan_core.rules.clause import Clause, Facts, IntArray, SubjectKind, fact_paths, names
from famplan_core.rules.parameter import ParameterView

__all__ = ["AmountRule", "Beneficiary", "CategoryRule", "Program"]

Beneficiary = Literal["person", "child", "household"]
"""Who an entitlement is for: a person (a parent), a child, or a household."""

CodeArray = npt.NDArray[np.int8]


def _clauses(items: Iterable[Clause]) -> tuple[Clause, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True, eq=False)
class CategoryRule:
    """How an entitled row gets its category (类别), e.g. ``death`` or ``disability``.

    Attributes:
        ref: the spec clause, e.g. ``"R3.5"``.
        facts: the fact names it reads.
        assign: returns, for the entitled rows it is given, the position of each row's
            category in `Program.categories`, or -1 for none (then the row is not entitled).
        parameters: the parameter names it reads.
    """

    ref: str
    facts: tuple[str, ...] = attrs.field(converter=names)
    assign: Callable[[Facts, ParameterView], CodeArray]
    parameters: tuple[str, ...] = attrs.field(default=(), converter=names)


@attrs.frozen(kw_only=True, eq=False)
class AmountRule:
    """How an entitled row gets its monthly amount, in fen.

    Attributes:
        ref: the spec clause, e.g. ``"R3.6"``.
        facts: the fact names it reads.
        parameters: the parameter names it reads.
        compute: given the entitled rows and their category codes, the amount of each in fen.
    """

    ref: str
    facts: tuple[str, ...] = attrs.field(converter=names)
    parameters: tuple[str, ...] = attrs.field(converter=names)
    compute: Callable[[Facts, ParameterView, CodeArray], IntArray]


@attrs.frozen(kw_only=True, eq=False)
class Program:
    """A benefit program: who, on what conditions, in which category, how much (待遇项目).

    Attributes:
        code: the program code, e.g. ``rural_reward``.
        name_zh: the Chinese name, e.g. ``农村部分计划生育家庭奖励扶助``.
        name_en: the English name.
        beneficiary: ``"person"``, ``"child"`` or ``"household"``.
        clauses: the conditions, all of which must hold, in the order they are explained.
        amount: the amount rule (None for a program decided case by case).
        categories: the category names, in code order (empty when the program has none).
        categories_zh: the Chinese names of the categories, in the same order.
        category: the category rule (None when there are no categories).
        requires_application: whether a person must apply (申请) before being paid.
        reference: the legal reference of the program.
        version: changes whenever the clauses change; decisions record it.
        monthly: whether it is computed per calendar month (False for one-off grants).
        subject: what a row is: ``"person"``, or ``"certificate"`` for a program paid per honour
            certificate (at most one entitlement per holder a month, R4.6).
        extra_parameters: parameters the program has besides those its rules read (e.g. a
            grant's maximum), so that they count for "in force" and are shown.
    """

    code: str
    name_zh: str
    name_en: str
    beneficiary: Beneficiary
    clauses: tuple[Clause, ...] = attrs.field(converter=_clauses)
    amount: AmountRule | None
    categories: tuple[str, ...] = attrs.field(default=(), converter=names)
    categories_zh: tuple[str, ...] = attrs.field(default=(), converter=names)
    category: CategoryRule | None = None
    requires_application: bool = True
    reference: str = ""
    version: str = "1"
    monthly: bool = True
    subject: SubjectKind = "person"
    extra_parameters: tuple[str, ...] = attrs.field(default=(), converter=names)

    def __attrs_post_init__(self) -> None:
        where = f"program {self.code}"
        if bool(self.categories) != (self.category is not None):
            raise PluginContractError(
                f"{where}: categories {self.categories} and a category rule go together; "
                "expected both or neither"
            )
        if self.monthly and self.amount is None:
            raise PluginContractError(f"{where} is monthly; expected an amount rule")
        for clause in self.clauses:
            if clause.subject != self.subject:
                raise PluginContractError(
                    f"{where}: clause {clause.ref} reads {clause.subject} rows; expected "
                    f"{self.subject} rows like the program"
                )
        known = fact_paths(self.subject)
        for rule in (self.amount, self.category):
            if rule is not None and not set(rule.facts) <= known:
                raise PluginContractError(
                    f"{where}: rule {rule.ref} declares unknown facts "
                    f"{sorted(set(rule.facts) - known)}; expected names like 'hukou_rural'"
                )

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Every parameter the program reads, sorted: in force only when all of them are."""
        names: set[str] = set(self.extra_parameters)
        for clause in self.clauses:
            names.update(clause.parameters)
        for rule in (self.amount, self.category):
            if rule is not None:
                names.update(rule.parameters)
        return tuple(sorted(names))

    def find_clause(self, ref: str) -> Clause | None:
        """The first clause implementing spec clause `ref`, or None.

        Args:
            ref: e.g. ``"R2.4"``.
        """
        return next((clause for clause in self.clauses if clause.ref == ref), None)
