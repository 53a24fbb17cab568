"""Statistical indicators (统计指标) as definitions.

An `Indicator` says what is counted and how: its names in Chinese and English, its
definition, numerator and denominator, unit, dimensions and disclosure level, and the
function that computes its table from a `famplan_core.reporting.context.ReportContext`.
Indicators are registered through the ``famplan_register_indicators`` hook; the core's are
in `famplan_core.reporting.catalog`.

Disclosure levels (公开级别):

* ``public``: may be published once small cells at village level are withheld;
* ``internal``: for staff only (内部); never part of a public output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import attrs

if TYPE_CHECKING:
    from famplan_core.reporting.context import ReportContext
    from famplan_core.reporting.table import ReportTable

__all__ = ["DIMENSIONS", "Bilingual", "Disclosure", "Indicator"]

Disclosure = Literal["public", "internal"]
"""``public`` (公开, after small-cell suppression) or ``internal`` (内部, staff only)."""

DIMENSIONS: dict[str, tuple[str, str]] = {
    "division": ("区划", "division"),
    "sex": ("性别", "sex"),
    "age_band": ("五岁年龄组", "five-year age band"),
    "month": ("月份", "month"),
    "birth_order": ("孩次", "birth order"),
    "mother_age_band": ("母亲年龄组", "mother's age band"),
    "program": ("项目", "program"),
    "category": ("类别", "category"),
    "change": ("变动", "change"),
    "reason": ("原因", "reason"),
}
"""The dimensions indicators are broken down by, with their Chinese and English names."""

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


@attrs.frozen(kw_only=True)
class Bilingual:
    """A text in Chinese and English.

    Attributes:
        zh: the Chinese text.
        en: the English text.
    """

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``zh`` or ``en``."""
        return self.zh if lang == "zh" else self.en


def _check_code(_instance: object, _attribute: object, value: str) -> None:
    if not _CODE.match(value) or value in ("all", "list"):
        raise ValueError(
            f"indicator code {value!r}: expected lower-case letters, digits and _ "
            "(2-60 characters, starting with a letter), not 'all' or 'list'"
        )


def _check_dimensions(_instance: object, _attribute: object, value: tuple[str, ...]) -> None:
    unknown = [d for d in value if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"unknown dimensions {unknown}; known: {sorted(DIMENSIONS)}")


@attrs.frozen(kw_only=True)
class Indicator:
    """A statistical indicator (统计指标): a definition and the function computing its table.

    Attributes:
        code: the machine name, e.g. ``sex_ratio_at_birth`` (what ``famplan report`` takes).
        name: the indicator's name, e.g. 出生人口性别比 / sex ratio at birth.
        definition: what is counted, in a sentence or two.
        numerator: what is counted above the line (or counted, for a plain count).
        denominator: what it is divided by; None for a count.
        unit: e.g. 人 / persons, ‰, 男婴/100女婴 / males per 100 females.
        dimensions: what the table is broken down by (names in `DIMENSIONS`).
        disclosure: ``public`` or ``internal``.
        compute: builds the table for one run.
        sources: the stored tables it reads (for the documentation).
    """

    code: str = attrs.field(validator=_check_code)
    name: Bilingual
    definition: Bilingual
    numerator: Bilingual
    denominator: Bilingual | None
    unit: Bilingual
    dimensions: tuple[str, ...] = attrs.field(validator=_check_dimensions)
    disclosure: Disclosure
    compute: Callable[[ReportContext], ReportTable] = attrs.field(eq=False, repr=False)
    sources: tuple[str, ...] = ()

    def describe(self, lang: str) -> str:
        """One line: the definition, the numerator and denominator, and the unit."""
        sep = "；" if lang == "zh" else "; "
        words = {
            "zh": ("分子", "分母", "单位"),
            "en": ("numerator", "denominator", "unit"),
        }["zh" if lang == "zh" else "en"]
        colon = "：" if lang == "zh" else ": "
        definition = self.definition.get(lang).rstrip("。.")
        parts = [definition, f"{words[0]}{colon}{self.numerator.get(lang)}"]
        if self.denominator is not None:
            parts.append(f"{words[1]}{colon}{self.denominator.get(lang)}")
        parts.append(f"{words[2]}{colon}{self.unit.get(lang)}")
        return sep.join(parts)
