"""Identifiers: citizen ID numbers (公民身份号码, GB 11643) and division codes (行政区划代码).

`CitizenId` holds an 18-character resident ID number that has passed every check of GB 11643-1999:
17 ASCII digits and a check character (a digit or ``X``), the ISO 7064 MOD 11-2 check, and a real
birth date from 1800 on. `CitizenId.parse` also refuses a birth date after the date the caller
gives as today. `CitizenId.check` never raises: it explains a number part by part, for
``famplan check-id``.

`DivisionCode` holds a division code of 2, 4, 6, 9 or 12 digits: province, prefecture, county
(GB/T 2260), township (GB/T 10114) or village (NBS statistical code). Names come from the vendored
Ministry of Civil Affairs table (`division_table`, levels 1-4, dated 2025-12-31). A code of the
right form that the table does not list is accepted; `DivisionCode.check_known` gives a warning
for it.

Nothing here reads the clock: "today" always comes from the caller.

Example:
    >>> from datetime import date
    >>> cid = CitizenId.parse("11010519491231002x", today=date(2026, 1, 1))
    >>> cid.value, cid.birth_date, cid.sex.label_en
    ('11010519491231002X', datetime.date(1949, 12, 31), 'female')
    >>> DivisionCode("371502114").name()
    '顾官屯镇'
"""

from __future__ import annotations

import enum
import functools
import importlib.resources
from collections.abc import Mapping
from datetime import date
from types import MappingProxyType
from typing import Any, Final, Literal

import attrs
import numpy as np
import numpy.typing as npt

from famplan_core.errors import Problem, ValidationError
from famplan_core.model.codes import Sex

__all__ = [
    "DIVISION_TABLE_FILE",
    "ID_CHECK_CHARACTERS",
    "ID_WEIGHTS",
    "CitizenId",
    "DivisionCode",
    "DivisionTable",
    "Finding",
    "IdCheck",
    "Level",
    "Severity",
    "check_character",
    "check_characters",
    "division_table",
]

Severity = Literal["error", "warning", "info"]
"""How much a `Finding` matters: ``error`` makes the input invalid, the others do not."""

_SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")


def _ascii_digits(text: str) -> bool:
    """True when ``text`` is non-empty and only ASCII 0-9 (``str.isdigit`` alone accepts "１")."""
    return text.isascii() and text.isdigit()


def _non_ascii_digit_hint(text: str) -> str:
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return " (full-width or other non-ASCII digits are not accepted; type 0-9)"
    return ""


# --------------------------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Finding:
    """One thing found when checking an identifier, for people to read.

    Attributes:
        severity: ``error`` (the identifier is invalid), ``warning`` (accepted, worth a look)
            or ``info`` (an explanation of a part).
        code: a short stable slug, e.g. ``check-character`` or ``division-unknown``.
        message: plain English naming the value and what was expected.
    """

    severity: Severity = attrs.field(validator=attrs.validators.in_(_SEVERITIES))
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@attrs.frozen(kw_only=True)
class IdCheck:
    """The outcome of `CitizenId.check`: valid or not, and every finding.

    Attributes:
        valid: True when there is no error finding.
        normalised: the 18-character number as stored (trimmed, ``x`` made ``X``) when valid,
            otherwise None.
        findings: errors first, then warnings, then information on each part.
    """

    valid: bool
    normalised: str | None
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        """The error findings only."""
        return tuple(f for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        """The warning findings only."""
        return tuple(f for f in self.findings if f.severity == "warning")


# --------------------------------------------------------------------------------------------
# The division table
# --------------------------------------------------------------------------------------------

DIVISION_TABLE_FILE = "divisions-2025-12-31.tsv"
"""The vendored table's file name inside ``famplan_core/data`` (see its README for provenance)."""


@attrs.frozen(kw_only=True, eq=False)
class DivisionTable:
    """The vendored Ministry of Civil Affairs division table: code to name, levels 1-4.

    Keys are 6-digit codes for provinces, prefectures and counties (``370000``, ``371500``,
    ``371502``) and 9-digit codes for townships (``371502114``). Use `division_table` to get the
    shipped table; `DivisionCode.name` is the usual way in.

    Attributes:
        as_of: the date the table describes.
        metadata: the file's header (``source_table``, ``source_sha256``, ``via``...).
        names: code to name, as the source writes it.
    """

    as_of: date
    metadata: Mapping[str, str]
    names: Mapping[str, str]

    def name(self, key: str) -> str | None:
        """The name for a 6- or 9-digit table key, or None when the table does not list it."""
        return self.names.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.names

    def __len__(self) -> int:
        return len(self.names)

    @classmethod
    def from_text(cls, text: str) -> DivisionTable:
        """Read a table in the vendored format.

        The format is ``# key: value`` header lines, then ``code<TAB>name`` lines.

        Args:
            text: the whole file.

        Raises:
            ValueError: the header has no ``data_as_of`` or a line is not ``code<TAB>name``.
        """
        metadata: dict[str, str] = {}
        names: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if line.startswith("#"):
                key, sep, value = line[1:].strip().partition(": ")
                if sep:
                    metadata[key] = value
                continue
            code, sep, name = line.partition("\t")
            if not sep or not _ascii_digits(code) or len(code) not in (6, 9) or not name:
                raise ValueError(f"division table line {number}: expected code<TAB>name")
            names[code] = name
        if "data_as_of" not in metadata:
            raise ValueError("division table: the header has no 'data_as_of' line")
        return cls(
            as_of=date.fromisoformat(metadata["data_as_of"]),
            metadata=MappingProxyType(metadata),
            names=MappingProxyType(names),
        )


@functools.cache
def division_table() -> DivisionTable:
    """The shipped division table, read from the package data once and then kept."""
    resource = importlib.resources.files("famplan_core") / "data" / DIVISION_TABLE_FILE
    return DivisionTable.from_text(resource.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Division codes
# --------------------------------------------------------------------------------------------


class Level(enum.IntEnum):
    """The levels of a division code, shallowest first; compare them as integers."""

    PROVINCE = 1
    PREFECTURE = 2
    COUNTY = 3
    TOWNSHIP = 4
    VILLAGE = 5

    @property
    def width(self) -> int:
        """How many digits a code of this level has in its short form: 2, 4, 6, 9 or 12."""
        return _WIDTHS[self - 1]


_WIDTHS = (2, 4, 6, 9, 12)
_DIVISION_FORM = (
    "a division code of 2, 4, 6, 9 or 12 ASCII digits (province, prefecture, county, township "
    "or village), e.g. a 9-digit township code such as 371502110 or a 12-digit village code "
    "such as 371502110201"
)


def _significant_level(digits: str) -> Level:
    """The deepest level whose digits are not all zero (``371502110000`` is a township)."""
    level = Level(_WIDTHS.index(len(digits)) + 1)
    while level > Level.PROVINCE:
        if digits[_WIDTHS[level - 2] : level.width].strip("0"):
            return level
        level = Level(level - 1)
    return level


def _division_problems(text: object) -> list[str]:
    if not isinstance(text, str):
        return [f"expected {_DIVISION_FORM}, given as text, not {type(text).__name__}"]
    if text == "":
        return [f"expected {_DIVISION_FORM}; the value is empty"]
    problems: list[str] = []
    bad = "".join(dict.fromkeys(ch for ch in text if not _ascii_digits(ch)))
    if bad:
        problems.append(
            f"expected ASCII digits 0-9 only, found {bad!r}{_non_ascii_digit_hint(text)}"
        )
    if len(text) not in _WIDTHS:
        problems.append(f"expected {_DIVISION_FORM}; found {len(text)} characters")
    elif not bad and text[0] == "0":
        problems.append(
            f"the province digits {text[:2]!r} do not name a province; "
            "province codes run from 11 to 82"
        )
    return problems


def _check_division(_instance: object, _attribute: object, value: str) -> None:
    problems = _division_problems(value)
    if problems:
        raise ValidationError(
            [Problem(path="division", value=str(value), message=m) for m in problems]
        )


@attrs.frozen(eq=False)
class DivisionCode:
    """A division code (行政区划代码 / 统计用区划代码) of 2, 4, 6, 9 or 12 digits.

    The digits are province (2) + prefecture (2) + county (2) + township (3) + village (3).
    ``value`` keeps the text as given. A code padded with zeros at a level boundary denotes the
    upper level: ``371502110000`` is the township ``371502110`` and ``370000`` the province
    ``37``. `level` is that *significant* level, and equality and hashing use the significant
    digits, so ``DivisionCode("371502110000") == DivisionCode("371502110")``.

    Constructing one checks the form only (ASCII digits, a possible length, a province that does
    not start with 0) and raises `ValidationError` otherwise. Whether the code exists is a
    separate question: see `is_known` and `check_known`.

    Attributes:
        value: the code as given, e.g. ``"371502114"``.

    Example:
        >>> town = DivisionCode("371502114")
        >>> town.level, str(town.county), town.contains(DivisionCode("371502114201"))
        (<Level.TOWNSHIP: 4>, '371502', True)
    """

    value: str = attrs.field(validator=_check_division)

    @classmethod
    def parse(cls, text: str, *, path: str = "division") -> DivisionCode:
        """Read a division code from outside input, trimming surrounding white space.

        Args:
            text: the code as text.
            path: where the text came from, for the error message.

        Raises:
            ValidationError: the text is not 2, 4, 6, 9 or 12 ASCII digits; every problem is
                listed with the expected form.
        """
        trimmed = text.strip() if isinstance(text, str) else text
        problems = _division_problems(trimmed)
        if problems:
            shown = "" if text is None else str(text)
            raise ValidationError([Problem(path=path, value=shown, message=m) for m in problems])
        return cls(trimmed)

    def __str__(self) -> str:
        return self.value

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DivisionCode):
            return NotImplemented
        return self.significant == other.significant

    def __hash__(self) -> int:
        return hash((DivisionCode, self.significant))

    @property
    def level(self) -> Level:
        """The significant level: the deepest level whose digits are not all zero."""
        return _significant_level(self.value)

    @property
    def significant(self) -> str:
        """The code cut to its significant level's width.

        For example ``"371502110000"`` gives ``"371502110"``.
        """
        return self.value[: self.level.width]

    @property
    def padded(self) -> str:
        """The code in its standard written width.

        Provinces, prefectures and counties get 6 digits in the GB/T 2260 style (``"370000"``),
        townships 9 and villages 12.
        """
        significant = self.significant
        return significant.ljust(6, "0") if len(significant) < 6 else significant

    def at(self, level: Level) -> DivisionCode | None:
        """The enclosing code at ``level``, in that level's short form, or None.

        It is None when this code is not that deep, and when that level's own digits are all
        zero. For example, the towns of 东莞市 (``441900003``) have no county.

        Args:
            level: the level wanted.
        """
        own = self.level
        if level > own:
            return None
        if level > Level.PROVINCE and not self.value[_WIDTHS[level - 2] : level.width].strip("0"):
            return None
        return DivisionCode(self.value[: level.width])

    @property
    def province(self) -> DivisionCode | None:
        """The province (2 digits); None only for codes that have none, which cannot happen."""
        return self.at(Level.PROVINCE)

    @property
    def prefecture(self) -> DivisionCode | None:
        """The prefecture (4 digits), or None when the code is a province or skips the level."""
        return self.at(Level.PREFECTURE)

    @property
    def county(self) -> DivisionCode | None:
        """The county (6 digits), or None when the code is not that deep or skips the level."""
        return self.at(Level.COUNTY)

    @property
    def township(self) -> DivisionCode | None:
        """The township (9 digits), or None when the code is not that deep."""
        return self.at(Level.TOWNSHIP)

    @property
    def village(self) -> DivisionCode | None:
        """The village (12 digits), or None when the code is not a village code."""
        return self.at(Level.VILLAGE)

    @property
    def parent(self) -> DivisionCode | None:
        """The nearest enclosing code, skipping zero levels; None for a province."""
        for level in range(self.level - 1, 0, -1):
            found = self.at(Level(level))
            if found is not None:
                return found
        return None

    def contains(self, other: DivisionCode) -> bool:
        """Whether ``other`` lies within this code (or is this code).

        A township contains its villages and itself. Containment compares the significant
        digits as a prefix.

        Args:
            other: the code that may lie inside this one.
        """
        return other.significant.startswith(self.significant)

    def _table_key(self) -> str | None:
        return None if self.level is Level.VILLAGE else self.padded

    def name(self) -> str | None:
        """The name in the vendored 2025-12-31 table, or None when the table does not list it.

        Village codes have no name there: the table stops at townships.
        """
        key = self._table_key()
        return None if key is None else division_table().name(key)

    def is_known(self) -> bool:
        """Whether the vendored table lists this code; village codes are never listed."""
        return self.name() is not None

    def full_name(self) -> str | None:
        """The names from the province down to this code, joined as Chinese addresses are.

        For example, ``371502114`` gives ``"山东省聊城市东昌府区顾官屯镇"``. Levels that the
        table does not list are left out. The result is None when this code itself is not listed.
        """
        if not self.is_known():
            return None
        parts = []
        for level in range(1, self.level + 1):
            code = self.at(Level(level))
            name = None if code is None else code.name()
            if name is not None:
                parts.append(name)
        return "".join(parts)

    def check_known(self) -> tuple[Finding, ...]:
        """Explain whether the vendored table knows this code; never rejects.

        Returns:
            One finding. It is an ``info`` with the full name when the code is known. It is a
            ``warning`` when it is not, or, for a village code, when its township is not known.
            It is an ``info`` when a village's township is known.
        """
        as_of = division_table().as_of.isoformat()
        if self.level is Level.VILLAGE:
            township = self.township
            if township is not None and township.is_known():
                return (
                    Finding(
                        severity="info",
                        code="division-village",
                        message=(
                            f"village code {self.value}: the shipped table has no village level; "
                            f"its township {township.value} is {township.full_name()}"
                        ),
                    ),
                )
            return (
                Finding(
                    severity="warning",
                    code="division-unknown",
                    message=(
                        f"village code {self.value}: its township "
                        f"{self.value[:9]} is not in the {as_of} division table; check the "
                        "code (it may be new, retired, or an NBS statistical code that differs "
                        "from the Ministry of Civil Affairs code)"
                    ),
                ),
            )
        if self.is_known():
            return (
                Finding(
                    severity="info",
                    code="division",
                    message=f"division code {self.value}: {self.full_name()}",
                ),
            )
        return (
            Finding(
                severity="warning",
                code="division-unknown",
                message=(
                    f"division code {self.value} is not in the {as_of} division table; check "
                    "it (it may be new, retired, or an NBS statistical code that differs from "
                    "the Ministry of Civil Affairs code)"
                ),
            ),
        )


# --------------------------------------------------------------------------------------------
# Citizen ID numbers
# --------------------------------------------------------------------------------------------

ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643-1999: the weight of each of the first 17 digits of an ID number (ISO 7064 MOD 11-2)."""
ID_CHECK_CHARACTERS: Final = "10X98765432"
"""GB 11643-1999: the check character for each remainder of the weighted sum modulo 11."""
_ID_FORM = "18 characters: 17 digits and a check character (a digit or X)"
_WEIGHT_ARRAY: Final = np.array(ID_WEIGHTS, dtype=np.int64)
_CHECK_CODES: Final = np.frombuffer(ID_CHECK_CHARACTERS.encode("ascii"), dtype=np.uint8)


def check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of an ID number.

    The one definition of the check, with `check_characters` for a whole column.

    Example:
        >>> check_character("11010519491231002")
        'X'
    """
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARACTERS[total % 11]


def check_characters(digits: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.uint8]:
    """The GB 11643 check characters, as ASCII codes, of rows of 17 digit values (0-9).

    The column-wise `check_character`: row ``i`` of `digits` holds the first 17 digits of
    one ID number, and element ``i`` of the result the ASCII code of its check character.
    """
    remainders = (digits.astype(np.int64) @ _WEIGHT_ARRAY) % 11
    return np.asarray(_CHECK_CODES[remainders], dtype=np.uint8)


def _normalise_x(value: str) -> str:
    """Make a lower-case check character ``x`` upper-case; leave anything else alone."""
    if isinstance(value, str) and len(value) == 18 and value.endswith("x"):
        return value[:17] + "X"
    return value


def _positions(indexes: list[int]) -> str:
    shown = [str(i + 1) for i in indexes]
    if len(shown) == 1:
        return f"character {shown[0]}"
    return "characters " + ", ".join(shown[:-1]) + " and " + shown[-1]


def _id_errors(text: str, today: date | None) -> list[tuple[str, str]]:
    """Every error in an ID number as ``(code, message)``; an empty list when it is valid."""
    errors: list[tuple[str, str]] = []
    size = len(text)
    if size == 15 and _ascii_digits(text):
        return [
            (
                "old-15-digit",
                "has 15 digits: it is an old number (GB 11643-1989, used before 1999); expected "
                "the 18-character number, which CitizenId.upgrade15 makes from it",
            )
        ]
    if size != 18:
        errors.append(("length", f"has {size} characters; expected {_ID_FORM}"))
    body = text[:17]
    bad = [i for i, ch in enumerate(body) if not _ascii_digits(ch)]
    if bad:
        errors.append(
            (
                "digits",
                f"{_positions(bad[:5])}{' and more' if len(bad) > 5 else ''} "
                f"({''.join(dict.fromkeys(body[i] for i in bad))!r}) "
                f"{'is' if len(bad) == 1 else 'are'} not a digit; the first 17 characters must be "
                f"ASCII digits 0-9{_non_ascii_digit_hint(body)}",
            )
        )
    last_ok = size == 18 and text[17] in "0123456789X"
    if size == 18 and not last_ok:
        errors.append(
            (
                "check-character-form",
                f"the last character is {text[17]!r}; expected a check character, a digit or X"
                f"{_non_ascii_digit_hint(text[17])}",
            )
        )
    errors.extend(_date_errors(text[6:14], today, "7-14"))
    if last_ok and not bad:
        expected = check_character(body)
        if text[17] != expected:
            errors.append(
                (
                    "check-character",
                    f"check character is {text[17]!r} but the first 17 digits give {expected!r}",
                )
            )
    return errors


def _date_errors(digits: str, today: date | None, where: str) -> list[tuple[str, str]]:
    """Errors in an 8-digit YYYYMMDD birth date; none when the digits are not there to read."""
    if len(digits) != 8 or not _ascii_digits(digits):
        return []
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return [
            (
                "birth-date",
                f"birth date {digits} (characters {where}) is not a real date; expected YYYYMMDD, "
                "e.g. 19491231",
            )
        ]
    if born.year < 1800:
        return [
            (
                "birth-date",
                f"birth year {born.year} (characters {where}) is before 1800; expected a birth "
                "date from 1800 on",
            )
        ]
    if today is not None and born > today:
        return [
            (
                "future-birth-date",
                f"birth date {born.isoformat()} (characters {where}) is after today, "
                f"{today.isoformat()}; a birth date cannot be in the future",
            )
        ]
    return []


def _raise_for(errors: list[tuple[str, str]], path: str, value: object) -> None:
    if errors:
        shown = "" if value is None else str(value)
        raise ValidationError([Problem(path=path, value=shown, message=m) for _, m in errors])


def _check_citizen_id(_instance: object, _attribute: object, value: str) -> None:
    if not isinstance(value, str):
        _raise_for([("type", f"expected {_ID_FORM} as text")], "citizen_id", value)
    _raise_for(_id_errors(value, None), "citizen_id", value)


def _division_finding(prefix: str) -> Finding:
    try:
        code = DivisionCode(prefix)
    except ValidationError:
        return Finding(
            severity="warning",
            code="division-unknown",
            message=f"division code {prefix} (characters 1-6) is not a possible division code",
        )
    if code.is_known():
        return Finding(
            severity="info",
            code="division",
            message=(
                f"division code {prefix} (characters 1-6, the county of first registration): "
                f"{code.full_name()}"
            ),
        )
    as_of = division_table().as_of.isoformat()
    return Finding(
        severity="warning",
        code="division-unknown",
        message=(
            f"division code {prefix} (characters 1-6) is not in the {as_of} division table; it "
            "may be a code retired since the number was issued, so check it by hand"
        ),
    )


@attrs.frozen
class CitizenId:
    """A resident ID number (公民身份号码), GB 11643-1999, that passed every check.

    The 18 characters are: a 6-digit division code (the county of *first* registration; it does
    not change when the person moves), the birth date as YYYYMMDD, a 3-digit sequence whose last
    digit is odd for men and even for women, and a check character (ISO 7064 MOD 11-2).

    Constructing one validates the form, the check character and the birth date (a real date,
    year 1800 or later). A lower-case ``x`` is stored as ``X``. Every problem found is raised
    together as one `ValidationError` with path ``citizen_id``. Use `parse` for outside input: it
    trims white space and also refuses a birth date after today.

    Attributes:
        value: the 18 characters, check character upper-case.

    Example:
        >>> CitizenId("440524188001010014").birth_date
        datetime.date(1880, 1, 1)
    """

    value: str = attrs.field(converter=_normalise_x, validator=_check_citizen_id)

    def __repr__(self) -> str:
        # Private by design: a repr ends up in logs and tracebacks, so it shows only the
        # first 6 and the last 4 characters. `value` holds the whole number.
        return f"CitizenId('{self.value[:6]}********{self.value[-4:]}')"

    @classmethod
    def parse(cls, text: str, *, today: date, path: str = "citizen_id") -> CitizenId:
        """Read an ID number from outside input.

        Args:
            text: the number; surrounding white space is trimmed and ``x`` becomes ``X``.
            today: the caller's date; a birth date after it is refused.
            path: where the text came from, for the error message.

        Raises:
            ValidationError: listing every problem: form, birth date, check character.
        """
        if not isinstance(text, str):
            _raise_for([("type", f"expected {_ID_FORM} as text")], path, text)
        normalised = _normalise_x(text.strip())
        _raise_for(_id_errors(normalised, today), path, text)
        return cls(normalised)

    @classmethod
    def check(cls, text: str, *, today: date) -> IdCheck:
        """Explain an ID number part by part; never raises.

        Errors make it invalid. An unknown division code is only a warning. When the number is
        valid, info findings explain the division, the birth date, the sex and the sequence.

        Args:
            text: the number as typed; white space is trimmed and ``x`` becomes ``X``.
            today: the caller's date; a birth date after it is an error.
        """
        if not isinstance(text, str):
            finding = Finding(severity="error", code="type", message=f"expected {_ID_FORM}")
            return IdCheck(valid=False, normalised=None, findings=(finding,))
        normalised = _normalise_x(text.strip())
        findings = [
            Finding(severity="error", code=c, message=m) for c, m in _id_errors(normalised, today)
        ]
        if len(normalised) == 15 and _ascii_digits(normalised):
            try:
                upgraded = cls.upgrade15(normalised)
            except ValidationError as exc:
                findings.extend(
                    Finding(severity="error", code="birth-date", message=p.message)
                    for p in exc.problems
                )
            else:
                findings.append(
                    Finding(
                        severity="info",
                        code="upgrade",
                        message=f"its 18-character form would be {upgraded.value}",
                    )
                )
        if len(normalised) >= 6 and _ascii_digits(normalised[:6]):
            findings.append(_division_finding(normalised[:6]))
        valid = not any(f.severity == "error" for f in findings)
        if valid:
            cid = cls(normalised)
            findings.extend(
                [
                    Finding(
                        severity="info",
                        code="birth-date",
                        message=f"birth date {cid.birth_date.isoformat()} (characters 7-14)",
                    ),
                    Finding(
                        severity="info",
                        code="sex",
                        message=(
                            f"sex {cid.sex.label_en}: the 17th digit, {normalised[16]}, is "
                            f"{'odd' if cid.sex is Sex.MALE else 'even'}"
                        ),
                    ),
                    Finding(
                        severity="info",
                        code="sequence",
                        message=(
                            f"sequence {cid.sequence} (characters 15-17): the order of "
                            "registration among people born that day in that division"
                        ),
                    ),
                    Finding(
                        severity="info",
                        code="check-character",
                        message=f"check character {normalised[17]} matches the first 17 digits",
                    ),
                ]
            )
        order = {"error": 0, "warning": 1, "info": 2}
        findings.sort(key=lambda f: order[f.severity])
        return IdCheck(
            valid=valid, normalised=normalised if valid else None, findings=tuple(findings)
        )

    @staticmethod
    def check_character(first17: str) -> str:
        """The ISO 7064 MOD 11-2 check character for the first 17 digits: ``0``-``9`` or ``X``.

        Args:
            first17: 17 ASCII digits.

        Raises:
            ValidationError: the text is not 17 ASCII digits.
        """
        if not isinstance(first17, str) or len(first17) != 17 or not _ascii_digits(first17):
            raise ValidationError.single(
                "citizen_id",
                first17,
                "expected the first 17 digits of an ID number: 17 ASCII digits",
            )
        return check_character(first17)

    @classmethod
    def upgrade15(cls, text15: str, *, path: str = "citizen_id") -> CitizenId:
        """Turn an old 15-digit number (GB 11643-1989) into the 18-character one.

        "19" goes in front of the 2-digit birth year, then the check character is computed, as
        the 1999 standard prescribes (old numbers were issued to people born in the 1900s).

        Args:
            text15: the 15 digits; surrounding white space is trimmed.
            path: where the text came from, for the error message.

        Raises:
            ValidationError: the text is not 15 ASCII digits, or its birth date is not real.
        """
        text = text15.strip() if isinstance(text15, str) else ""
        if len(text) != 15 or not _ascii_digits(text):
            raise ValidationError.single(
                path,
                text15,
                "expected an old 15-digit ID number (GB 11643-1989): 15 ASCII digits"
                + _non_ascii_digit_hint(text),
            )
        first17 = text[:6] + "19" + text[6:]
        _raise_for(_date_errors(first17[6:14], None, "7-12 of the old number"), path, text15)
        return cls(first17 + check_character(first17))

    def __str__(self) -> str:
        return self.value

    @property
    def birth_date(self) -> date:
        """The birth date in characters 7-14."""
        digits = self.value[6:14]
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))

    @property
    def sex(self) -> Sex:
        """`Sex.MALE` when the 17th digit is odd, `Sex.FEMALE` when it is even."""
        return Sex.MALE if int(self.value[16]) % 2 else Sex.FEMALE

    @property
    def division_prefix(self) -> str:
        """The first 6 digits: the division of first registration (may be retired since)."""
        return self.value[:6]

    @property
    def sequence(self) -> str:
        """The 3-digit sequence, characters 15-17 (its last digit gives the sex)."""
        return self.value[14:17]
