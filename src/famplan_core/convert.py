"""The one cattrs converter (转换器): every rule for reading and writing our types as plain data.

`make_converter` builds it on cattrs' JSON preset, with ``forbid_extra_keys`` and detailed
validation. `structure` turns a mapping (a TOML table, a JSON object, a CSV row) into a
record and reports every problem at once in one `ValidationError`; `unstructure` turns a
record back into JSON-safe data. The model classes stay free of these rules (validation
belongs at the edges): they check their own invariants, this module reads text.

How values are written:

| type | as data | example |
|---|---|---|
| `datetime.date` | ISO text, ``YYYY-MM-DD`` only, a real date | ``"2024-02-29"`` |
| `datetime.datetime` | ISO text with a time zone | ``"2024-03-01T08:30:00+08:00"`` |
| `Money` | text of yuan, at most two decimals; never a float | ``"960.00"`` |
| `decimal.Decimal` | text; never a float | ``"0.5"`` |
| code tables (enums) | the code as text | ``"01"``, ``"rural"`` |
| `CitizenId`, `DivisionCode` | text | ``"371502110"`` |
| `pathlib.Path` | text | ``"exports/2024-03"`` |
| `str` | text only: a number is not text | |
| `int` | a whole number, or its ASCII digits as text | ``3``, ``"3"`` |
| `bool` | ``true``/``false``, or that text | |

For an optional field (``X | None``) an empty text means None, as an empty CSV cell does.
TOML's own date and datetime values are accepted as they are.

Paths in problems are ``source:line:field`` (``persons.csv:17:citizen_id``),
``source:field`` (``famplan.toml:township.division``) or just ``field``; nested fields are
dotted and list items indexed (``children[0].name``).
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
import cattrs.preconf.json
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
    StructureHandlerNotFoundError,
)

from famplan_core.errors import Problem, ValidationError
from famplan_core.model.identity import CitizenId, DivisionCode
from famplan_core.model.money import Money

__all__ = ["make_converter", "structure", "unstructure"]

T = TypeVar("T")

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.ASCII,
)
_INTEGER = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def _fail(value: object, message: str) -> ValidationError:
    """An error for a leaf value; `structure` fills in the path."""
    return ValidationError.single("", value, message)


# --- scalars ------------------------------------------------------------------------------


def _structure_str(value: Any, cls: type) -> Any:
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return _structure_enum(value, cls)
    if isinstance(value, str):
        return value
    raise _fail(value, f"expected text, found {_kind(value)}")


def _structure_int(value: Any, cls: type) -> Any:
    if isinstance(cls, type) and issubclass(cls, enum.Enum):
        return _structure_enum(value, cls)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value.strip())
    raise _fail(value, f"expected a whole number such as 3, found {_kind(value)}")


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
        if number == number and abs(number) != float("inf"):
            return number
    raise _fail(value, f"expected a finite number such as 0.5, found {_kind(value)}")


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip() in ("true", "false"):
        return value.strip() == "true"
    raise _fail(value, f"expected true or false, found {_kind(value)}")


def _structure_date(value: Any, _: type) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise _fail(value, "no such date in the calendar") from None
    raise _fail(
        value, f"expected a date written YYYY-MM-DD such as 2024-03-01, found {_kind(value)}"
    )


def _structure_datetime(value: Any, _: type) -> dt.datetime:
    if isinstance(value, str) and _DATETIME.fullmatch(value.strip()):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise _fail(value, "no such date or time in the calendar") from None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise _fail(value, "expected a time zone, e.g. 2024-03-01T08:30:00+08:00")
        return value
    raise _fail(
        value,
        f"expected a date and time with a time zone such as 2024-03-01T08:30:00+08:00, "
        f"found {_kind(value)}",
    )


def _structure_money(value: Any, _: type) -> Money:
    if isinstance(value, Money):
        return value
    if isinstance(value, float):
        raise _fail(value, "money is never a float; write the amount as text, e.g. '960.00'")
    if not isinstance(value, str):
        raise _fail(
            value, f"expected an amount of yuan as text, e.g. '960.00', found {_kind(value)}"
        )
    return Money.parse(value, path="")


def _structure_decimal(value: Any, _: type) -> Decimal:
    if isinstance(value, Decimal) and value.is_finite():
        return value
    if isinstance(value, float):
        raise _fail(value, "a decimal is never read from a float; write it as text, e.g. '0.5'")
    if isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
            pass
    raise _fail(value, f"expected a decimal number as text, e.g. '0.5', found {_kind(value)}")


def _structure_path(value: Any, _: type) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str) and value.strip():
        return Path(value)
    raise _fail(value, f"expected a file or folder path as text, found {_kind(value)}")


def _structure_enum(value: Any, cls: type[enum.Enum]) -> Any:
    if isinstance(value, cls):
        return value
    parse: Callable[..., Any] | None = getattr(cls, "parse", None)
    if parse is not None:
        return parse(value, path="")
    for member in cls:
        if member.value == value and type(member.value) is type(value):
            return member
    codes = ", ".join(repr(member.value) for member in cls)
    raise _fail(value, f"expected one of {codes}")


def _structure_division(value: Any, _: type) -> DivisionCode:
    if isinstance(value, DivisionCode):
        return value
    return DivisionCode.parse(value, path="")


def _citizen_id_hook(today: dt.date | None) -> Callable[[Any, type], CitizenId]:
    def structure_citizen_id(value: Any, _: type) -> CitizenId:
        if isinstance(value, CitizenId):
            return value
        return CitizenId.parse(value, today=today or dt.date.max, path="")

    return structure_citizen_id


def _is_optional(cls: Any) -> bool:
    if get_origin(cls) not in (Union, UnionType):
        return False
    args = get_args(cls)
    return len(args) == 2 and NoneType in args


def _optional_hook(cls: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    (inner,) = [arg for arg in get_args(cls) if arg is not NoneType]
    handler = converter.get_structure_hook(inner)

    def structure_optional(value: Any, _: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return handler(value, inner)

    return structure_optional


def _unstructure_enum(member: enum.Enum) -> Any:
    return member.value


def _unstructure_str(value: str) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def make_converter(*, today: dt.date | None = None) -> cattrs.Converter:
    """Build the converter holding every (un)structure rule of famplan-core.

    Args:
        today: the date of the run, passed to `CitizenId.parse` so that an ID number born
            after it is refused; None skips that check (the clock is never read).

    Returns:
        A cattrs JSON converter with ``forbid_extra_keys`` and detailed validation, and hooks
        for dates, datetimes, `Money`, `Decimal`, code tables, `CitizenId`, `DivisionCode`
        and `Path` (see the module's table).
    """
    converter = cattrs.preconf.json.make_converter(forbid_extra_keys=True, detailed_validation=True)
    structure_hooks: list[tuple[type, Callable[[Any, Any], Any]]] = [
        (str, _structure_str),
        (int, _structure_int),
        (float, _structure_float),
        (bool, _structure_bool),
        (enum.Enum, _structure_enum),
        (dt.date, _structure_date),
        (dt.datetime, _structure_datetime),
        (Money, _structure_money),
        (Decimal, _structure_decimal),
        (Path, _structure_path),
        (DivisionCode, _structure_division),
        (CitizenId, _citizen_id_hook(today)),
    ]
    for cls, hook in structure_hooks:
        converter.register_structure_hook(cls, hook)
    converter.register_structure_hook_factory(
        _is_optional, lambda cls: _optional_hook(cls, converter)
    )

    unstructure_hooks: list[tuple[type, Callable[[Any], Any]]] = [
        (str, _unstructure_str),
        (enum.Enum, _unstructure_enum),
        (dt.date, dt.date.isoformat),
        (dt.datetime, dt.datetime.isoformat),
        (Money, str),
        (Decimal, str),
        (Path, str),
        (DivisionCode, lambda code: code.value),
        (CitizenId, lambda citizen_id: citizen_id.value),
    ]
    for cls, unhook in unstructure_hooks:
        converter.register_unstructure_hook(cls, unhook)
    return converter


_DEFAULT = make_converter()


# --- errors -------------------------------------------------------------------------------

_MISSING = object()
_Segment = str | int


def _kind(value: object) -> str:
    """What sort of value was found, in words (the value itself is shown beside)."""
    if value is None or value is _MISSING:
        return "nothing"
    if isinstance(value, bool):
        return "a true/false value"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text" if value.strip() else "empty text"
    if isinstance(value, Mapping):
        return "a table of fields"
    if isinstance(value, Sequence):
        return "a list"
    return f"a {type(value).__name__}"


def _text(value: object) -> str:
    """The value found, as text for a `Problem`."""
    if value is _MISSING or value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    try:
        shown = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _lookup(data: object, segments: Sequence[_Segment]) -> object:
    for segment in segments:
        if isinstance(data, Mapping):
            data = data.get(segment, _MISSING)
        elif (
            isinstance(data, Sequence)
            and not isinstance(data, str | bytes)
            and isinstance(segment, int)
            and -len(data) <= segment < len(data)
        ):
            data = data[segment]
        else:
            return _MISSING
    return data


def _dotted(segments: Sequence[_Segment], tail: str = "") -> str:
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else str(segment)
    if tail:
        text = f"{text}.{tail}" if text else tail
    return text


def _type_name(cls: Any) -> str:
    return getattr(cls, "__name__", None) or str(cls)


def _field_names(cls: Any) -> list[str]:
    return [a.name for a in attrs.fields(cls)] if attrs.has(cls) else []


def _collect(
    exc: BaseException,
    segments: tuple[_Segment, ...],
    expected: Any,
    data: object,
    out: list[Problem],
) -> None:
    """Turn one (possibly grouped) structuring failure into problems with their paths."""
    if isinstance(exc, ClassValidationError):
        attributes, others = exc.group_exceptions()
        for sub, attribute in attributes:
            _collect(sub, (*segments, attribute.name), attribute.type, data, out)
        for sub in others:
            _collect(sub, segments, exc.cl, data, out)
        return
    if isinstance(exc, IterableValidationError):
        items, others = exc.group_exceptions()
        for sub, item in items:
            _collect(sub, (*segments, item.index), item.type, data, out)
        for sub in others:
            _collect(sub, segments, exc.cl, data, out)
        return
    if isinstance(exc, ValidationError):
        out.extend(
            Problem(path=_dotted(segments, p.path), value=p.value, message=p.message)
            for p in exc.problems
        )
        return
    if isinstance(exc, ForbiddenExtraKeysError):
        known = ", ".join(_field_names(exc.cl)) or "none"
        out.extend(
            Problem(
                path=_dotted((*segments, key)),
                value=_text(_lookup(data, (*segments, key))),
                message=f"unknown field; the fields are: {known}",
            )
            for key in sorted(map(str, exc.extra_fields))
        )
        return
    found = _lookup(data, segments)
    if isinstance(exc, KeyError) and found is _MISSING:
        message = "required, but missing"
    elif attrs.has(expected) and not isinstance(found, Mapping):
        names = ", ".join(_field_names(expected))
        message = f"expected a table of fields ({names}), found {_kind(found)}"
    elif isinstance(exc, TypeError | ValueError | AttributeError | KeyError):
        message = f"expected {_type_name(expected)}, found {_kind(found)}"
    else:
        message = f"cannot be read: {exc}"
    out.append(Problem(path=_dotted(segments), value=_text(found), message=message))


def _where(source: str, line: int | None, path: str) -> str:
    parts = [source, "" if line is None else str(line), path]
    return ":".join(part for part in parts if part) or "$"


def structure(
    data: Mapping[str, Any],
    cls: type[T],
    *,
    source: str = "",
    line: int | None = None,
    converter: cattrs.Converter | None = None,
) -> T:
    """Build a record of type `cls` from plain data, reporting every problem at once.

    Args:
        data: the fields, e.g. a TOML table, a JSON object or a CSV row.
        cls: the class to build, e.g. `Person`.
        source: the file the data came from, e.g. ``"persons.csv"``; prefixes every path.
        line: the physical line of the row in `source` (the header is line 1).
        converter: the converter to use; by default one from `make_converter()`.

    Returns:
        The record.

    Raises:
        ValidationError: the data cannot be read as `cls`. Its problems list every field
            at fault with its path (``persons.csv:17:citizen_id``,
            ``famplan.toml:township.division``, ``citizen_id``), the value found and what
            was expected.

    Example:
        >>> from famplan_core.model.facts import HukouChange
        >>> row = {"person_id": "p1", "date": "2024-02-30", "hukou_division": "371502110001"}
        >>> try:
        ...     structure(row, HukouChange, source="hukou_changes.csv", line=3)
        ... except ValidationError as exc:
        ...     print(*exc.problems, sep="\\n")
        hukou_changes.csv:3:date: no such date in the calendar (found '2024-02-30')
        hukou_changes.csv:3:hukou_type: required, but missing
    """
    problems: list[Problem] = []
    try:
        return (converter or _DEFAULT).structure(data, cls)
    except StructureHandlerNotFoundError:
        raise  # a type without a hook is a bug in the caller, not bad input
    except Exception as exc:  # every failure of bad input becomes one ValidationError
        _collect(exc, (), cls, data, problems)
    raise ValidationError(
        Problem(path=_where(source, line, p.path), value=p.value, message=p.message)
        for p in problems
    )


def unstructure(obj: Any, *, converter: cattrs.Converter | None = None) -> dict[str, Any]:
    """Turn a record into JSON-safe data: dates as ISO text, money as text, codes as codes.

    Args:
        obj: a record (or any value the converter knows).
        converter: the converter to use; by default one from `make_converter()`.

    Returns:
        The record's field names mapped to JSON-safe values (None for an empty field).

    Raises:
        TypeError: `obj` is not a record.
    """
    data = (converter or _DEFAULT).unstructure(obj)
    if not isinstance(data, dict):
        raise TypeError(f"expected a record (an attrs class instance), got {type(obj).__name__}")
    return data
