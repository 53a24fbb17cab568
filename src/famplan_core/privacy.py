"""Masking for public outputs, public field selection, leak scanning and log masking.

Public notices (公示) show recipients' names partly masked and at most a masked citizen ID
number; nothing sensitive and nothing about a child under 14 is ever published (PIPL
Arts. 25, 28; domain README §6). This module holds the pieces every public output uses:

* name masks (`MiddleMask`, the default, and `SurnameOnly`) and ID masks (`KeepEnds`, the
  default keeping the first 6 and the last 4 characters, and `Strict`), bundled in a
  `MaskingPolicy` that a deployment chooses in its configuration. There is deliberately no
  "unmasked" policy.
* `public_fields` and `assert_publishable`: which fields of a record may be published, by
  their sensitivity class after the rule for children under 14.
* `find_citizen_ids` and `find_values`: scanners for tests of every public output (spec R6).
* `IdMaskingFilter` and `install_log_filter`: a `logging.Filter` that masks ID numbers in log
  records and strips line breaks from them (CWE-117).

Usage:
    Choose a policy from configuration text and mask the personal fields of a notice row:

    >>> policy = MaskingPolicy.from_settings({"name": "middle", "citizen_id": "keep-6-4"})
    >>> policy.mask_name("欧阳春华"), policy.mask_citizen_id("11010519491231002X")
    ('欧阳*华', '110105********002X')
    >>> row = policy.mask_fields({"name": "张三明", "citizen_id": "11010519491231002X"})
    >>> row
    {'name': '张*明', 'citizen_id': '110105********002X'}

    Check the row before it leaves the library, and scan the rendered text:

    >>> import datetime as dt
    >>> from famplan_core.model.people import Person
    >>> assert_publishable(row, Person, on=dt.date(2026, 1, 1),
    ...                    subject_birth_date=dt.date(1949, 12, 31))
    >>> find_citizen_ids("张*明 110105********002X")
    []
    >>> [leak.kind for leak in find_citizen_ids("身份证 11010519491231002X")]
    ['valid-id']

    Mask ID numbers in the library's own log records (call once at start-up):

    >>> _ = install_log_filter()

Name masking rules (`MiddleMask`):
    A Chinese name is a surname, one character or one of `COMPOUND_SURNAMES` (欧阳, 司马...,
    recognised only when the name has 3 or more characters), then the given name. The
    surname is kept. A given name of 1 character is masked (张三 → 张*, 欧阳华 → 欧阳*), of 2
    or 3 characters all but its last is masked (张三明 → 张*明, 欧阳春华 → 欧阳*华), of 4 or
    more its first and last are kept. A name written in another script or in parts (Latin
    letters, Uyghur names joined by ``·`` such as 买买提·艾力, names with spaces) keeps the first
    character of each part and masks the rest (买**·艾*). Each masked character becomes one
    ``*``, so the length shows; a combining mark or a variation selector counts with the
    character before it, and an astral character (𠮷) is one character. A name of 2 or more
    characters never comes back unchanged: if the rule would leave it so, every character
    after the first is masked. A one-character name becomes ``*``.

Limits:
    A married woman's double surname written without a separator (张王丽) cannot be told from
    a surname and a given name, and a name that starts with a compound surname by chance is
    read as one: the mask is then one character off, never unmasked. The scanners look for
    18 consecutive digits (ASCII or other decimal digits such as full-width ones, the last
    possibly ``X``); numbers split by spaces or hyphens and old 15-digit numbers are not
    found.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Final, Literal, Protocol, runtime_checkable

import attrs

from famplan_core.errors import ConfigurationError, Problem, ValidationError
from famplan_core.model.identity import CitizenId
from famplan_core.model.sensitivity import Sensitivity, effective_sensitivity, sensitivity_of

__all__ = [
    "COMPOUND_SURNAMES",
    "ID_MASKS",
    "MASKABLE_FIELDS",
    "MASK_CHAR",
    "NAME_MASKS",
    "IdMask",
    "IdMaskingFilter",
    "KeepEnds",
    "Leak",
    "LeakKind",
    "MaskingPolicy",
    "MiddleMask",
    "NameMask",
    "Strict",
    "SurnameOnly",
    "assert_publishable",
    "find_citizen_ids",
    "find_values",
    "install_log_filter",
    "public_fields",
]

MASK_CHAR: Final = "*"
"""The character that stands for each masked character."""

COMPOUND_SURNAMES: Final[frozenset[str]] = frozenset(
    {
        "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
        "宇文", "司徒", "夏侯", "轩辕", "令狐", "端木", "独孤", "南宫", "西门", "万俟",
        "闻人", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔", "申屠", "仲孙",
        "钟离", "鲜于", "闾丘", "司空", "亓官", "司寇", "子车", "颛孙", "东郭", "南门",
        "呼延", "百里", "梁丘", "左丘", "公羊", "谷梁", "拓跋", "第五", "乐正", "赫连",
        "羊舌", "微生", "公良", "漆雕", "巫马", "段干", "东里", "公西", "夹谷", "宰父",
    }
)  # fmt: skip
"""Two-character surnames (复姓) that `MiddleMask` and `SurnameOnly` keep whole."""

MASKABLE_FIELDS: Final[frozenset[str]] = frozenset({"name", "citizen_id"})
"""Personal fields that may be published once masked (`MaskingPolicy.mask_fields`)."""

_SEPARATORS: Final = frozenset("·•・‧.．-‐‑")
"""Characters that join the parts of a name written in parts (besides white space)."""

_ID_LENGTH: Final = 18
_BIRTH_DATE_START: Final = 6
"""Characters 7-14 (indexes 6-13) of an ID number are the birth date."""
_MAX_FIRST: Final = 6
_MAX_LAST: Final = 4
_MAX_VISIBLE: Final = 10
_CHECK_X: Final = frozenset("XxＸｘ")
_LINE_BREAKS: Final = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def _clusters(text: str) -> list[str]:
    """Split into user-perceived characters: marks, selectors and ZWJ joins stay attached."""
    clusters: list[str] = []
    for ch in text:
        attach = clusters and (
            unicodedata.category(ch) in ("Mn", "Mc", "Me")
            or ch == "\u200d"
            or clusters[-1].endswith("\u200d")
        )
        if attach:
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _is_separator(cluster: str) -> bool:
    return cluster[0] in _SEPARATORS or cluster[0].isspace()


def _is_han(ch: str) -> bool:
    return "CJK" in unicodedata.name(ch, "") or unicodedata.category(ch) == "Co"


def _written_in_parts(clusters: list[str]) -> bool:
    """True for names with separators or letters of a script other than Han."""
    return any(_is_separator(c) or (c[0].isalpha() and not _is_han(c[0])) for c in clusters)


def _split_surname(clusters: list[str], compound: Collection[str]) -> int:
    """How many clusters the surname has: 2 for a listed compound surname, else 1."""
    if len(clusters) >= 3 and clusters[0] + clusters[1] in compound:
        return 2
    return 1


def _finish(name: str, clusters: list[str], masked: list[str]) -> str:
    """Join, making sure a name of 2+ characters never comes back unchanged."""
    result = "".join(masked)
    if len(clusters) >= 2 and result == name:
        result = clusters[0] + "".join(c if _is_separator(c) else MASK_CHAR for c in clusters[1:])
        if result == name:
            result = MASK_CHAR * len(clusters)
    return result


def _check_compound(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, frozenset) or not all(
        isinstance(s, str) and len(_clusters(s)) == 2 for s in value
    ):
        raise ConfigurationError(
            f"{attribute.name}: expected a frozenset of two-character surnames such as "
            f"frozenset({{'欧阳'}}), found {value!r}"
        )


@runtime_checkable
class NameMask(Protocol):
    """A name masking policy for public outputs: `MiddleMask` or `SurnameOnly`."""

    def mask(self, name: str) -> str:
        """The name as it may be published.

        Args:
            name: the full name; surrounding white space is dropped.
        """
        ...  # pragma: no cover


@attrs.frozen(kw_only=True)
class MiddleMask:
    """The default name mask: keep the surname and the last character of the given name.

    See the module's "Name masking rules" for the whole rule, including names in parts.

    Attributes:
        compound_surnames: the two-character surnames kept whole; `COMPOUND_SURNAMES` unless
            a deployment needs more.

    Example:
        >>> m = MiddleMask()
        >>> [m.mask(n) for n in ("张三明", "欧阳春华", "张三", "欧阳华", "买买提·艾力")]
        ['张*明', '欧阳*华', '张*', '欧阳*', '买**·艾*']
        >>> m.mask("诸葛孔明亮光")
        '诸葛孔**光'
    """

    compound_surnames: frozenset[str] = attrs.field(
        default=COMPOUND_SURNAMES, validator=_check_compound
    )

    def mask(self, name: str) -> str:
        """The name with the middle of the given name masked.

        Args:
            name: the full name; surrounding white space is dropped.
        """
        name = name.strip()
        clusters = _clusters(name)
        if len(clusters) <= 1:
            return MASK_CHAR * len(clusters)
        if _written_in_parts(clusters):
            masked: list[str] = []
            start_of_part = True
            for cluster in clusters:
                if _is_separator(cluster):
                    masked.append(cluster)
                    start_of_part = True
                else:
                    masked.append(cluster if start_of_part else MASK_CHAR)
                    start_of_part = False
            return _finish(name, clusters, masked)
        cut = _split_surname(clusters, self.compound_surnames)
        given = clusters[cut:]
        if len(given) >= 4:
            kept_given = [given[0], *[MASK_CHAR] * (len(given) - 2), given[-1]]
        elif len(given) >= 2:
            kept_given = [*[MASK_CHAR] * (len(given) - 1), given[-1]]
        else:
            kept_given = [MASK_CHAR]
        return _finish(name, clusters, [*clusters[:cut], *kept_given])


@attrs.frozen(kw_only=True)
class SurnameOnly:
    """A stricter name mask: only the surname shows (张三明 → 张**).

    A name in parts keeps only its first character (买买提·艾力 → 买**·**).

    Attributes:
        compound_surnames: the two-character surnames kept whole.

    Example:
        >>> SurnameOnly().mask("张三明"), SurnameOnly().mask("欧阳春华")
        ('张**', '欧阳**')
    """

    compound_surnames: frozenset[str] = attrs.field(
        default=COMPOUND_SURNAMES, validator=_check_compound
    )

    def mask(self, name: str) -> str:
        """The surname followed by one ``*`` for each other character.

        Args:
            name: the full name; surrounding white space is dropped.
        """
        name = name.strip()
        clusters = _clusters(name)
        if len(clusters) <= 1:
            return MASK_CHAR * len(clusters)
        parts = _written_in_parts(clusters)
        cut = 1 if parts else _split_surname(clusters, self.compound_surnames)
        masked = clusters[:cut] + [c if _is_separator(c) else MASK_CHAR for c in clusters[cut:]]
        return _finish(name, clusters, masked)


# --------------------------------------------------------------------------------------------
# Citizen ID numbers
# --------------------------------------------------------------------------------------------


@runtime_checkable
class IdMask(Protocol):
    """A citizen ID masking policy for public outputs: `KeepEnds` or `Strict`."""

    def mask(self, citizen_id: str | CitizenId) -> str:
        """The ID number as it may be published.

        Args:
            citizen_id: the number, valid or not; surrounding white space is dropped.
        """
        ...  # pragma: no cover


def _mask_id(citizen_id: str | CitizenId, first: int, last: int) -> str:
    text = str(citizen_id).strip()
    if not text:
        return ""
    if len(text) != _ID_LENGTH:
        return text[0] + MASK_CHAR * (len(text) - 1)
    return text[:first] + MASK_CHAR * (_ID_LENGTH - first - last) + text[_ID_LENGTH - last :]


def _count(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ConfigurationError(f"KeepEnds.{name} = {value!r}: expected a whole number, 0 or more")
    return value


@attrs.frozen(kw_only=True)
class KeepEnds:
    """The default ID mask: keep the first `first` and the last `last` characters.

    The default, first 6 and last 4 (``110105********002X``), is common practice: it hides
    the birth date but still shows the county of first registration, the sex digit and the
    check character. Other 18-character values are masked the same way; an empty value
    stays empty and a value of any other length (an old 15-digit number) keeps only its first
    character.

    Attributes:
        first: leading characters kept, at most 6 (characters 7-14 are the birth date).
        last: trailing characters kept, at most 4 (the sequence and the check character).

    Raises:
        ConfigurationError: `first` is over 6, `last` is over 4, together they are over 10,
            or either is negative; the message names the setting.

    Example:
        >>> KeepEnds().mask("11010519491231002X")
        '110105********002X'
        >>> KeepEnds(first=3, last=1).mask("11010519491231002X")
        '110**************X'
    """

    first: int = attrs.field(default=6)
    last: int = attrs.field(default=4)

    def __attrs_post_init__(self) -> None:
        first = _count("first", self.first)
        last = _count("last", self.last)
        if first > _MAX_FIRST:
            raise ConfigurationError(
                f"KeepEnds.first = {first}: at most {_MAX_FIRST} leading characters may stay "
                "visible; characters 7-14 are the birth date"
            )
        if last > _MAX_LAST:
            raise ConfigurationError(
                f"KeepEnds.last = {last}: at most {_MAX_LAST} trailing characters may stay "
                "visible; characters 7-14 are the birth date"
            )
        if first + last > _MAX_VISIBLE:  # pragma: no cover - implied by the two limits above
            raise ConfigurationError(
                f"KeepEnds.first + KeepEnds.last = {first + last}: at most {_MAX_VISIBLE} "
                "characters may stay visible"
            )

    def mask(self, citizen_id: str | CitizenId) -> str:
        """The number with all but its first `first` and last `last` characters masked.

        Args:
            citizen_id: the number, valid or not; surrounding white space is dropped.
        """
        return _mask_id(citizen_id, self.first, self.last)


@attrs.frozen(kw_only=True)
class Strict:
    """A strict ID mask: only the first and the last character show (``1****************X``).

    Example:
        >>> Strict().mask("11010519491231002X")
        '1****************X'
    """

    def mask(self, citizen_id: str | CitizenId) -> str:
        """The number with all but its first and last characters masked.

        Args:
            citizen_id: the number, valid or not; surrounding white space is dropped.
        """
        return _mask_id(citizen_id, 1, 1)


# --------------------------------------------------------------------------------------------
# The policy
# --------------------------------------------------------------------------------------------

NAME_MASKS: Final[Mapping[str, type[MiddleMask] | type[SurnameOnly]]] = {
    "middle": MiddleMask,
    "surname": SurnameOnly,
}
"""The setting values of ``name`` in `MaskingPolicy.from_settings`, and their classes."""

ID_MASKS: Final[Mapping[str, type[KeepEnds] | type[Strict]]] = {
    "keep-6-4": KeepEnds,
    "strict": Strict,
}
"""The setting values of ``citizen_id`` in `MaskingPolicy.from_settings`, and their classes."""


def _allowed(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in sorted(values))


def _choose(
    settings: Mapping[str, object], key: str, table: Mapping[str, type[Any]], section: str
) -> Any:
    if key not in settings:
        return None
    value = settings[key]
    if not isinstance(value, str) or value not in table:
        raise ConfigurationError(
            f"{section}.{key} = {value!r} is not a masking policy; "
            f"expected one of: {_allowed(table)}"
        )
    return table[value]()


@attrs.frozen(kw_only=True)
class MaskingPolicy:
    """How a deployment masks names and citizen ID numbers in every public output.

    Attributes:
        name: the name mask; `MiddleMask` by default.
        citizen_id: the ID mask; `KeepEnds` (first 6, last 4) by default.

    Example:
        >>> MaskingPolicy().mask_name("张三明")
        '张*明'
    """

    name: NameMask = attrs.field(factory=MiddleMask)
    citizen_id: IdMask = attrs.field(factory=KeepEnds)

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, object], *, section: str = "masking"
    ) -> MaskingPolicy:
        """Build a policy from configuration text.

        Args:
            settings: ``name`` (``"middle"`` or ``"surname"``) and ``citizen_id``
                (``"keep-6-4"`` or ``"strict"``); a missing key takes the default.
            section: the configuration section, for messages (``masking.name = ...``).

        Raises:
            ConfigurationError: an unknown key, or a value that is not allowed; the message
                names the key, the value and the allowed values.
        """
        unknown = sorted(set(settings) - {"name", "citizen_id"}, key=str)
        if unknown:
            raise ConfigurationError(
                f"{section}.{unknown[0]}: unknown setting; "
                f"expected one of: {_allowed(('name', 'citizen_id'))}"
            )
        name = _choose(settings, "name", NAME_MASKS, section)
        citizen_id = _choose(settings, "citizen_id", ID_MASKS, section)
        return cls(name=name or MiddleMask(), citizen_id=citizen_id or KeepEnds())

    def mask_name(self, name: str) -> str:
        """The name masked by this policy.

        Args:
            name: the full name.
        """
        return self.name.mask(name)

    def mask_citizen_id(self, citizen_id: str | CitizenId) -> str:
        """The ID number masked by this policy.

        Args:
            citizen_id: the number.
        """
        return self.citizen_id.mask(citizen_id)

    def mask_fields(self, values: Mapping[str, object]) -> dict[str, object]:
        """A copy of a row with its ``name`` and ``citizen_id`` masked (None stays None).

        Other fields are copied as they are: `assert_publishable` decides whether they may
        be published.

        Args:
            values: field name to value, e.g. from ``attrs.asdict(person, recurse=False)``.
        """
        out = dict(values)
        if out.get("name") is not None:
            out["name"] = self.mask_name(str(out["name"]))
        if out.get("citizen_id") is not None:
            out["citizen_id"] = self.mask_citizen_id(str(out["citizen_id"]))
        return out


# --------------------------------------------------------------------------------------------
# Public fields
# --------------------------------------------------------------------------------------------


def public_fields(cls: type, *, on: dt.date, subject_birth_date: dt.date | None) -> tuple[str, ...]:
    """The fields of a record class that may be published as they are, in field order.

    These are the fields whose effective sensitivity is `Sensitivity.PUBLIC`; about a child
    under 14 on `on` nothing is public. Names and ID numbers are personal: they are published
    only masked (`MaskingPolicy.mask_fields`, checked by `assert_publishable`).

    Args:
        cls: an attrs record class, e.g. `Person`.
        on: the date of publication.
        subject_birth_date: the birth date of the person the record is about, or None.

    Raises:
        ValidationError: a field declares no sensitivity.
    """
    return tuple(
        a.name
        for a in attrs.fields(cls)
        if effective_sensitivity(cls, a.name, subject_birth_date=subject_birth_date, on=on)
        is Sensitivity.PUBLIC
    )


_LONG_DIGITS: Final = re.compile(r"\d{8}")


def _publish_problem(
    cls: type,
    name: str,
    value: object,
    *,
    on: dt.date,
    subject_birth_date: dt.date | None,
    maskable: Collection[str],
) -> str | None:
    level = effective_sensitivity(cls, name, subject_birth_date=subject_birth_date, on=on)
    if level is Sensitivity.PUBLIC:
        return None
    if level is Sensitivity.SENSITIVE:
        if sensitivity_of(cls, name) is not Sensitivity.SENSITIVE:
            return (
                "the record is about a child under 14 on "
                f"{on.isoformat()}, so nothing about them is published (PIPL Art. 28)"
            )
        return "the field is sensitive personal information and is never published"
    if level is Sensitivity.INTERNAL:
        return "the field is internal bookkeeping and is not published"
    if name not in maskable:
        return "the field is personal information and is not published"
    if value is None or value == "":
        return None
    if (
        not isinstance(value, str)
        or MASK_CHAR not in value
        or find_citizen_ids(value)
        or _LONG_DIGITS.search(value)
    ):
        return "the field is personal information: publish it only masked (MaskingPolicy)"
    return None


def assert_publishable(
    values: Mapping[str, object],
    cls: type,
    *,
    on: dt.date,
    subject_birth_date: dt.date | None,
    maskable: Collection[str] = MASKABLE_FIELDS,
) -> None:
    """Check that a row about one record may be published; raise naming every field that may not.

    A field may be published when its effective sensitivity is public, or when it is a
    personal field in `maskable` (name, citizen ID) whose value is masked: text holding a
    ``*``, no ID-shaped run and no 8 consecutive digits. An empty or None value of such a
    field publishes nothing and passes. Internal, other personal and sensitive fields, and
    every field of a record about a child under 14, never pass.

    Args:
        values: the field names and values about to be published.
        cls: the record class the values come from.
        on: the date of publication.
        subject_birth_date: the birth date of the person the record is about, or None.
        maskable: the personal fields that may be published once masked.

    Raises:
        ValidationError: one problem per field that may not be published, with path
            ``Class.field``; also for a name that is not a field of `cls`. The values are
            not shown in the message.
    """
    problems: list[Problem] = []
    for name, value in values.items():
        path = f"{cls.__qualname__}.{name}"
        try:
            message = _publish_problem(
                cls,
                name,
                value,
                on=on,
                subject_birth_date=subject_birth_date,
                maskable=maskable,
            )
        except ValidationError as exc:
            problems.extend(Problem(path=path, value="", message=p.message) for p in exc.problems)
            continue
        if message is not None:
            problems.append(Problem(path=path, value="", message=message))
    if problems:
        raise ValidationError(problems, summary=f"{cls.__qualname__}: not publishable")


# --------------------------------------------------------------------------------------------
# Leak scanning
# --------------------------------------------------------------------------------------------

LeakKind = Literal["valid-id", "id-shaped"]
"""``valid-id``: 18 characters with a correct check character; ``id-shaped``: any other."""


@attrs.frozen(kw_only=True)
class Leak:
    """A citizen ID number, or something shaped like one, found in text.

    The repr shows the number masked (first 6, last 4), so a failing test's output does not
    spread it further; `text` holds it whole.

    Attributes:
        kind: ``valid-id`` when the check character is right, else ``id-shaped``.
        text: the 18 characters as found.
        start: the index of the first character in the scanned text.
    """

    kind: LeakKind
    text: str
    start: int

    @property
    def end(self) -> int:
        """The index just after the last character."""
        return self.start + len(self.text)

    def __repr__(self) -> str:
        return f"Leak(kind={self.kind!r}, text={KeepEnds().mask(self.text)!r}, start={self.start})"


def _digit(ch: str) -> int | None:
    return unicodedata.decimal(ch, None)


def _id_windows(text: str) -> list[tuple[int, str]]:
    """Every window of 17 decimal digits and a digit or X, with its ASCII-normalised form."""
    found: list[tuple[int, str]] = []
    run = 0  # decimal digits ending just before index i
    for i, ch in enumerate(text):
        digit = _digit(ch)
        if run >= _ID_LENGTH - 1 and (digit is not None or ch in _CHECK_X):
            start = i - (_ID_LENGTH - 1)
            normal = "".join(str(_digit(c)) for c in text[start:i])
            found.append((start, normal + ("X" if digit is None else str(digit))))
        run = run + 1 if digit is not None else 0
    return found


def find_citizen_ids(text: str) -> list[Leak]:
    """Every citizen ID number, or ID-shaped run, in text, overlapping windows included.

    Every window of 18 characters made of 17 decimal digits and a digit or ``X`` (either
    case; full-width digits count too) is reported: as ``valid-id`` when its check character
    is right, otherwise as ``id-shaped``. A run of 20 digits holds three windows, each
    reported. No public output should hold either kind.

    Args:
        text: the rendered output, or a log line.

    Example:
        >>> [(leak.kind, leak.start) for leak in find_citizen_ids("ID:11010519491231002X.")]
        [('valid-id', 3)]
        >>> [leak.kind for leak in find_citizen_ids("123456789012345678")]
        ['id-shaped']
    """
    leaks: list[Leak] = []
    for start, normal in _id_windows(text):
        valid = CitizenId.check_character(normal[:17]) == normal[17]
        leaks.append(
            Leak(
                kind="valid-id" if valid else "id-shaped",
                text=text[start : start + _ID_LENGTH],
                start=start,
            )
        )
    return leaks


def find_values(text: str, values: Iterable[str]) -> list[str]:
    """The values that appear in text, each once, in the order given.

    For checking that no sensitive field value (a birth date, an address, a full name) made
    it into a public output. Values shorter than 2 characters are ignored: they would match
    by chance.

    Args:
        text: the rendered output.
        values: the values that must not appear.

    Example:
        >>> find_values("张*明 王庄村", ["张三明", "王庄村", "明"])
        ['王庄村']
    """
    found: list[str] = []
    for value in values:
        if len(value) >= 2 and value in text and value not in found:
            found.append(value)
    return found


# --------------------------------------------------------------------------------------------
# Logging
# --------------------------------------------------------------------------------------------


def _mask_ids_in(text: str) -> str:
    windows = _id_windows(text)
    if not windows:
        return text
    hidden = [False] * len(text)
    for start, _ in windows:
        for i in range(start + _MAX_FIRST, start + _ID_LENGTH - _MAX_LAST):
            hidden[i] = True
    return "".join(MASK_CHAR if h else ch for ch, h in zip(text, hidden, strict=True))


def _clean_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", _mask_ids_in(text))


class IdMaskingFilter(logging.Filter):
    """A logging filter that masks citizen ID numbers and strips line breaks (CWE-117).

    The message is formatted first (``record.getMessage()``), so numbers passed as ``%s``
    arguments are caught too. In the result, every 18-character ID-shaped run keeps only its
    first 6 and last 4 characters, and each CR, LF or other line break becomes a space. The
    cleaned text replaces ``record.msg`` and ``record.args`` becomes ``()``. A traceback or
    stack attached to the record has its numbers masked too (its line breaks stay).

    Filters on a logger see only records logged on that very logger: attach this one to a
    handler to cover every logger, or use `install_log_filter`.

    Example:
        >>> record = logging.LogRecord("famplan_core", logging.INFO, __file__, 1,
        ...                            "id %s\\nnext", ("11010519491231002X",), None)
        >>> IdMaskingFilter().filter(record), record.getMessage()
        (True, 'id 110105********002X next')
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Clean the record in place; always keep it.

        Args:
            record: the record being logged.
        """
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not escape from logging
            message = f"{record.msg} (arguments that do not fit: {record.args!r})"
        record.msg = _clean_line(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = _mask_ids_in(record.exc_text)
        if record.stack_info:
            record.stack_info = _mask_ids_in(record.stack_info)
        return True


def install_log_filter(logger_name: str = "famplan_core") -> IdMaskingFilter:
    """Add an `IdMaskingFilter` to a logger and to its descendants existing now; idempotent.

    A logger's filters do not apply to records its descendants pass up, so the filter also
    goes on every logger below `logger_name` that exists at the call. Loggers created later
    are not covered: call again after importing plugins, or attach `IdMaskingFilter` to the
    application's handlers.

    Args:
        logger_name: the logger at the top of the tree, ``famplan_core`` by default.

    Returns:
        The filter installed on `logger_name` (the existing one when already installed).
    """
    prefix = logger_name + "."
    below = [
        item
        for name, item in sorted(logging.Logger.manager.loggerDict.items())
        if name.startswith(prefix) and isinstance(item, logging.Logger)
    ]
    for logger in below:
        _ensure_filter(logger)
    return _ensure_filter(logging.getLogger(logger_name))


def _ensure_filter(logger: logging.Logger) -> IdMaskingFilter:
    for existing in logger.filters:
        if isinstance(existing, IdMaskingFilter):
            return existing
    added = IdMaskingFilter()
    logger.addFilter(added)
    return added
