"""Program parameters (政策参数): effective-dated step functions of time, loaded from YAML (R0.8).

A parameter file has OpenFisca's shape::

    description: Annual amount of the rural family reward support per parent
    metadata:
      reference: "财政部 国家人口计生委 财教〔2011〕623号"
      unit: CNY/year
      program: rural_reward
    values:
      2004-01-01: {value: "600.00"}
      2012-01-01: {value: "960.00"}

A value is an amount written as quoted text (it becomes `Money`), a whole number (an
``int``: an age limit), a table of amounts keyed by category (``death.urban: "340.00"`` or
nested mappings, flattened with dots), or ``null``: an explicit gap after the first date,
where asking for a value is an error (never a silent 0). A step may carry its own
``reference`` (the document that set that value); it defaults to the file's.

The value for a date `D` is the one with the latest ``from`` on or before `D`. Before the
first ``from`` the parameter is *not in force*: `Parameter.value_at` returns None, which is
not an error (R0.8).

A province overrides national values with `Parameter.overlaid_by`: the override's values win
from its first date on, and earlier history stays national. Each step records where it came
from (`ParameterStep.source`), so an explanation can say so.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import yaml

from famplan_core.errors import (
    ParameterError,
    ParameterNotFoundError,
    ParameterParsingError,
    ValidationError,
)
from famplan_core.model.money import Money

__all__ = [
    "NATIONAL",
    "Parameter",
    "ParameterSet",
    "ParameterStep",
    "ParameterTable",
    "ParameterUse",
    "ParameterValue",
    "ParameterView",
    "load_parameter_directory",
    "load_parameter_file",
    "parse_parameter_yaml",
    "value_text",
]

NATIONAL = "national"
"""The provenance of the values famplan-core ships (the national floors of spec/programs.md)."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_TABLE_DEPTH = 4


def _sorted_entries(items: Iterable[tuple[str, Money]]) -> tuple[tuple[str, Money], ...]:
    return tuple(sorted(items))


def _steps(items: Iterable[ParameterStep]) -> tuple[ParameterStep, ...]:
    return tuple(items)


def _parameters(items: Iterable[Parameter]) -> tuple[Parameter, ...]:
    return tuple(items)


@attrs.frozen(kw_only=True)
class ParameterTable:
    """A table of amounts keyed by category, e.g. ``death.rural`` → 170.00 (参数表).

    Attributes:
        entries: (key, amount) pairs, sorted by key.
    """

    entries: tuple[tuple[str, Money], ...] = attrs.field(converter=_sorted_entries)

    @classmethod
    def of(cls, mapping: Mapping[str, Money]) -> ParameterTable:
        """Build a table from a mapping of keys to amounts.

        Args:
            mapping: category key → amount.
        """
        return cls(entries=tuple(mapping.items()))

    def get(self, key: str) -> Money | None:
        """The amount under `key`, or None when the table has no such key.

        Args:
            key: the category key, e.g. ``"death.rural"``.
        """
        for entry_key, amount in self.entries:
            if entry_key == key:
                return amount
        return None

    def keys(self) -> tuple[str, ...]:
        """The keys, sorted."""
        return tuple(key for key, _ in self.entries)

    def as_dict(self) -> dict[str, str]:
        """The table as key → amount text, e.g. ``{"death.rural": "170.00"}``."""
        return {key: str(amount) for key, amount in self.entries}

    def __str__(self) -> str:
        return ", ".join(f"{key}={amount}" for key, amount in self.entries)


ParameterValue: TypeAlias = Money | int | ParameterTable
"""A parameter's value on a date: an amount, a whole number or a table of amounts."""


def _kind(value: ParameterValue) -> str:
    if isinstance(value, Money):
        return "amount"
    if isinstance(value, ParameterTable):
        return "table"
    return "integer"


def value_text(value: ParameterValue | None) -> str:
    """A value as plain text: ``960.00``, ``60``, ``death.rural=170.00, ...`` or ``null``."""
    return "null" if value is None else str(value)


@attrs.frozen(kw_only=True)
class ParameterStep:
    """One step of a parameter: a value in force from `start` until the next step (参数取值).

    Attributes:
        start: the first date the value applies to (the YAML ``from`` key).
        value: the value, or None for an explicit gap (asking for it is an error).
        source: where the value came from: ``"national"`` or a province's document, e.g.
            ``"Shandong: 鲁卫人口发〔2025〕x号"``.
        reference: the legal reference of the document that set it.
    """

    start: dt.date
    value: ParameterValue | None
    source: str = NATIONAL
    reference: str = ""


def _check_steps(instance: Parameter, _attribute: object, steps: tuple[ParameterStep, ...]) -> None:
    where = f"{instance.program}.{instance.name}"
    if not steps:
        raise ParameterError(f"parameter {where} has no values; expected at least one dated value")
    if steps[0].value is None:
        raise ParameterError(
            f"parameter {where}: the first value (from {steps[0].start}) is null; "
            "expected a value (a gap can only follow a value)"
        )
    for before, after in itertools.pairwise(steps):
        if after.start <= before.start:
            raise ParameterError(
                f"parameter {where}: values must be in increasing date order with no repeats; "
                f"found {after.start} after {before.start}"
            )
    kinds = {_kind(step.value) for step in steps if step.value is not None}
    if len(kinds) > 1:
        raise ParameterError(
            f"parameter {where} mixes kinds of value ({', '.join(sorted(kinds))}); "
            "expected every value to be of one kind"
        )


@attrs.frozen(kw_only=True)
class Parameter:
    """An effective-dated program parameter: a step function of time (R0.8).

    Attributes:
        program: the program code, e.g. ``rural_reward``.
        name: the parameter's name within the program, e.g. ``annual_amount``.
        description: what the parameter is, in plain words.
        reference: the legal reference of the parameter (of its latest layer).
        unit: the unit, e.g. ``CNY/year``, ``CNY/month`` or ``years``.
        values: the steps, in increasing date order; the first is never a gap.
        source: the provenance of the parameter's latest layer: ``"national"`` or a province's.

    Example:
        >>> p = Parameter(program="p", name="amount", description="d", reference="r",
        ...               unit="CNY/month", values=(ParameterStep(start=dt.date(2025, 1, 1),
        ...               value=Money.parse("300.00")),))
        >>> p.value_at(dt.date(2024, 12, 1)) is None, str(p.value_at(dt.date(2025, 1, 1)))
        (True, '300.00')
    """

    program: str
    name: str
    description: str
    reference: str
    unit: str
    values: tuple[ParameterStep, ...] = attrs.field(converter=_steps, validator=_check_steps)
    source: str = NATIONAL

    @property
    def key(self) -> str:
        """``program.name``, e.g. ``rural_reward.annual_amount``."""
        return f"{self.program}.{self.name}"

    @property
    def first_date(self) -> dt.date:
        """The date of the first value: the parameter is not in force before it."""
        return self.values[0].start

    @property
    def kind(self) -> str:
        """``"amount"``, ``"integer"`` or ``"table"``."""
        return _kind(self._first_value())

    def _first_value(self) -> ParameterValue:
        value = self.values[0].value
        assert value is not None  # checked by the validator
        return value

    def in_force(self, on: dt.date) -> bool:
        """Whether `on` is on or after the first value's date (R0.8).

        Args:
            on: the evaluation date.
        """
        return on >= self.values[0].start

    def step_at(self, on: dt.date) -> ParameterStep | None:
        """The step in force on `on` (the latest ``from`` on or before it), or None before any.

        A gap step (value None) is returned as it is; `value_at` turns it into an error.

        Args:
            on: the evaluation date.
        """
        index = bisect.bisect_right([step.start for step in self.values], on) - 1
        return self.values[index] if index >= 0 else None

    def value_at(self, on: dt.date) -> ParameterValue | None:
        """The value on `on`, or None when the parameter is not yet in force (R0.8).

        Args:
            on: the evaluation date.

        Raises:
            ParameterNotFoundError: `on` falls in an explicit gap (a null value) after the
                first date.
        """
        step = self.step_at(on)
        if step is None:
            return None
        if step.value is None:
            raise ParameterNotFoundError(
                f"program {self.program}: parameter {self.name} has no value on {on}: the value "
                f"from {step.start} is null (an explicit gap, {step.source}); expected a value for "
                f"every date on or after {self.first_date}, e.g. add "
                f"'{step.start}: {{value: ...}}' to the parameter file"
            )
        return step.value

    def amount_at(self, on: dt.date) -> Money | None:
        """The amount on `on`, or None when not in force.

        Args:
            on: the evaluation date.

        Raises:
            ParameterNotFoundError: `on` falls in an explicit gap.
            ParameterError: the parameter is not an amount.
        """
        value = self.value_at(on)
        if value is None or isinstance(value, Money):
            return value
        raise self._wrong_kind("an amount", value, on)

    def integer_at(self, on: dt.date) -> int | None:
        """The whole number on `on`, or None when not in force.

        Args:
            on: the evaluation date.

        Raises:
            ParameterNotFoundError: `on` falls in an explicit gap.
            ParameterError: the parameter is not a whole number.
        """
        value = self.value_at(on)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self._wrong_kind("a whole number", value, on)

    def table_at(self, on: dt.date) -> ParameterTable | None:
        """The table on `on`, or None when not in force.

        Args:
            on: the evaluation date.

        Raises:
            ParameterNotFoundError: `on` falls in an explicit gap.
            ParameterError: the parameter is not a table.
        """
        value = self.value_at(on)
        if value is None or isinstance(value, ParameterTable):
            return value
        raise self._wrong_kind("a table of amounts", value, on)

    def table_amount_at(self, on: dt.date, key: str) -> Money | None:
        """The amount under `key` of the table on `on`, or None when not in force.

        Args:
            on: the evaluation date.
            key: the category key, e.g. ``"death.rural"``.

        Raises:
            ParameterNotFoundError: `on` falls in a gap, or the table has no `key`.
            ParameterError: the parameter is not a table.
        """
        table = self.table_at(on)
        if table is None:
            return None
        amount = table.get(key)
        if amount is None:
            step = self.step_at(on)
            assert step is not None
            raise ParameterNotFoundError(
                f"program {self.program}: parameter {self.name} has no entry {key!r} on {on} "
                f"(the table from {step.start}, {step.source}); expected one of the keys "
                f"{', '.join(table.keys())} to include it"
            )
        return amount

    def _wrong_kind(self, expected: str, value: ParameterValue, on: dt.date) -> ParameterError:
        return ParameterError(
            f"program {self.program}: parameter {self.name} on {on} is {_kind(value)} "
            f"{value_text(value)!r}; expected {expected}"
        )

    def overlaid_by(self, override: Parameter) -> Parameter:
        """This parameter with `override`'s values winning from `override`'s first date on.

        Earlier steps stay as they are (with their own provenance); the override's steps
        follow. The override must be the same program, name, unit and kind of value.

        Args:
            override: the province's (or township's) values for the same parameter.

        Raises:
            ParameterError: the override is for another parameter, unit or kind of value.
        """
        if (override.program, override.name) != (self.program, self.name):
            raise ParameterError(
                f"cannot overlay parameter {self.key} ({self.source}) with {override.key} "
                f"({override.source}); expected the same program and parameter name"
            )
        if override.unit != self.unit or override.kind != self.kind:
            raise ParameterError(
                f"program {self.program}: parameter {self.name} is {self.kind} in {self.unit} "
                f"({self.source}) but the override ({override.source}) gives {override.kind} in "
                f"{override.unit}; expected the same unit and kind of value"
            )
        cut = override.first_date
        kept = tuple(step for step in self.values if step.start < cut)
        return attrs.evolve(
            override,
            description=override.description or self.description,
            values=kept + override.values,
        )

    @classmethod
    def from_mapping(
        cls,
        data: object,
        *,
        file: str,
        program: str | None = None,
        name: str | None = None,
        source: str = NATIONAL,
    ) -> Parameter:
        """Build a parameter from YAML already parsed into Python objects.

        Args:
            data: the parsed document.
            file: the file name, for error messages; its stem gives the name (and the
                program, as ``program.name.yaml``) unless given.
            program: the program code, when neither the file name nor the metadata gives it.
            name: the parameter name, when the file name should not give it.
            source: the provenance of the values, unless the metadata has ``source``.

        Raises:
            ParameterParsingError: the document is not a parameter; the message names the
                file and key.
        """
        return _Parser(file).parse(data, program=program, name=name, source=source)


def parse_parameter_yaml(
    text: str | bytes,
    *,
    file: str,
    program: str | None = None,
    name: str | None = None,
    source: str = NATIONAL,
) -> Parameter:
    """Read one parameter from YAML text.

    Args:
        text: the YAML document.
        file: the file name, for error messages and to derive the name (see
            `Parameter.from_mapping`).
        program: the program code, when neither the file name nor the metadata gives it.
        name: the parameter name, when the file name should not give it.
        source: the provenance of the values, unless the metadata has ``source``.

    Raises:
        ParameterParsingError: the text is not YAML, or not a parameter.
    """
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        detail = " ".join(str(exc).split())
        raise ParameterParsingError(f"{file}: not readable as YAML: {detail}") from exc
    return Parameter.from_mapping(data, file=file, program=program, name=name, source=source)


def load_parameter_file(
    path: Traversable | str | os.PathLike[str],
    *,
    program: str | None = None,
    source: str = NATIONAL,
) -> Parameter:
    """Read one parameter file (``program.name.yaml``, or ``name.yaml`` with ``metadata.program``).

    Args:
        path: the file, on disk or inside a package (`importlib.resources`).
        program: the program code, when neither the file name nor the metadata gives it.
        source: the provenance of the values, unless the metadata has ``source``.

    Raises:
        ParameterParsingError: the file cannot be read as a parameter.
    """
    entry: Traversable = Path(path) if isinstance(path, str | os.PathLike) else path
    try:
        text = entry.read_bytes()
    except OSError as exc:
        raise ParameterParsingError(f"{entry.name}: cannot read the file: {exc}") from exc
    return parse_parameter_yaml(text, file=entry.name, program=program, source=source)


def load_parameter_directory(
    directory: Traversable | str | os.PathLike[str], *, source: str = NATIONAL
) -> tuple[Parameter, ...]:
    """Read every ``*.yaml`` / ``*.yml`` file of a directory, in file-name order.

    Args:
        directory: the directory, on disk or inside a package (`importlib.resources`).
        source: the provenance of the values, unless a file's metadata has ``source``.

    Raises:
        ParameterParsingError: a file cannot be read as a parameter.
    """
    folder: Traversable = Path(directory) if isinstance(directory, str | os.PathLike) else directory
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith((".yaml", ".yml"))),
        key=lambda entry: entry.name,
    )
    return tuple(load_parameter_file(entry, source=source) for entry in files)


class _Parser:
    """Turns a parsed YAML document into a `Parameter`, naming the file and key on error."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, key: str, message: str, found: object = attrs.NOTHING) -> ParameterParsingError:
        shown = "" if found is attrs.NOTHING else f"; found {_show(found)}"
        return ParameterParsingError(f"{self.file}: {key}: {message}{shown}")

    def parse(
        self, data: object, *, program: str | None, name: str | None, source: str
    ) -> Parameter:
        if not isinstance(data, Mapping):
            raise self.fail(
                "(document)",
                "expected a mapping with description, metadata and values",
                data,
            )
        unknown = sorted(str(key) for key in data if key not in _TOP_KEYS)
        if unknown:
            raise self.fail(
                unknown[0], f"unknown key; expected only {', '.join(sorted(_TOP_KEYS))}"
            )
        description = self.text(data, "description", required=True)
        metadata = data.get("metadata", {})
        if not isinstance(metadata, Mapping):
            raise self.fail("metadata", "expected a mapping (reference, unit, program)", metadata)
        reference = self.text(metadata, "reference", required=True, prefix="metadata.")
        unit = self.text(metadata, "unit", required=True, prefix="metadata.")
        meta_program = self.text(metadata, "program", required=False, prefix="metadata.")
        meta_source = self.text(metadata, "source", required=False, prefix="metadata.")
        program, name = self.names(program, name, meta_program)
        source = meta_source or source
        steps = self.steps(data.get("values"), unit=unit, reference=reference, source=source)
        try:
            return Parameter(
                program=program,
                name=name,
                description=description,
                reference=reference,
                unit=unit,
                values=steps,
                source=source,
            )
        except ParameterError as exc:
            raise self.fail("values", str(exc)) from exc

    def text(self, data: Mapping[Any, Any], key: str, *, required: bool, prefix: str = "") -> str:
        value = data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{prefix}{key}", "expected non-empty text", value)
        return value.strip()

    def names(self, program: str | None, name: str | None, meta_program: str) -> tuple[str, str]:
        stem = self.file.rsplit("/", 1)[-1]
        for suffix in (".yaml", ".yml"):
            stem = stem.removesuffix(suffix)
        file_program, _, file_name = stem.rpartition(".")
        name = name or file_name
        program = program or file_program or meta_program
        if meta_program and meta_program != program:
            raise self.fail(
                "metadata.program",
                f"the file is named for program {program!r}; expected the metadata to agree",
                meta_program,
            )
        if not program:
            raise self.fail(
                "metadata.program",
                "expected the program code here or a file named program.name.yaml",
            )
        for what, value in (("program", program), ("parameter name", name)):
            if not _NAME.match(value):
                raise self.fail(
                    "(file name)",
                    f"expected a {what} of lower-case letters, digits and '_', e.g. rural_reward",
                    value,
                )
        return program, name

    def steps(
        self, values: object, *, unit: str, reference: str, source: str
    ) -> tuple[ParameterStep, ...]:
        if not isinstance(values, Mapping) or not values:
            raise self.fail(
                "values",
                'expected a mapping of dates to values, e.g. 2012-01-01: {value: "960.00"}',
                values,
            )
        steps: dict[dt.date, ParameterStep] = {}
        for raw_key, entry in values.items():
            start = self.date_key(raw_key)
            key = f"values.{start}"
            if start in steps:
                raise self.fail(key, "the same date appears twice; expected one value per date")
            if not isinstance(entry, Mapping) or "value" not in entry:
                raise self.fail(key, 'expected a mapping like {value: "960.00"}', entry)
            extra = sorted(str(k) for k in entry if k not in ("value", "reference"))
            if extra:
                raise self.fail(f"{key}.{extra[0]}", "unknown key; expected value and reference")
            step_reference = self.text(entry, "reference", required=False, prefix=f"{key}.")
            steps[start] = ParameterStep(
                start=start,
                value=self.value(entry["value"], f"{key}.value", unit=unit),
                source=source,
                reference=step_reference or reference,
            )
        return tuple(steps[start] for start in sorted(steps))

    def date_key(self, raw: object) -> dt.date:
        if isinstance(raw, dt.datetime):
            raise self.fail(f"values.{raw}", "expected a date without a time, e.g. 2012-01-01")
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                pass
        raise self.fail(f"values.{raw}", "expected an ISO date key, e.g. 2012-01-01", raw)

    def value(self, raw: object, key: str, *, unit: str) -> ParameterValue | None:
        if raw is None:
            return None
        if isinstance(raw, bool):
            raise self.fail(key, "expected an amount, a whole number or a table", raw)
        if isinstance(raw, float):
            raise self.fail(
                key, 'money is never a float: write the amount as text, e.g. "960.00"', raw
            )
        if isinstance(raw, int):
            if unit.upper().startswith("CNY"):
                raise self.fail(
                    key, f'an amount in {unit} is written as quoted text, e.g. "960.00"', raw
                )
            return raw
        if isinstance(raw, str):
            return self.amount(raw, key)
        if isinstance(raw, Mapping):
            flat: dict[str, Money] = {}
            self.flatten(raw, key, "", flat, depth=0)
            if not flat:
                raise self.fail(key, "expected a table with at least one amount", raw)
            return ParameterTable.of(flat)
        raise self.fail(key, "expected an amount as text, a whole number or a table", raw)

    def flatten(
        self, raw: Mapping[Any, Any], key: str, prefix: str, into: dict[str, Money], *, depth: int
    ) -> None:
        if depth >= _TABLE_DEPTH:
            raise self.fail(key, f"a table nests at most {_TABLE_DEPTH} levels deep")
        for sub_key, sub_value in raw.items():
            if not isinstance(sub_key, str) or not sub_key:
                raise self.fail(key, "expected table keys as text, e.g. death.rural", sub_key)
            full = f"{prefix}{sub_key}"
            if isinstance(sub_value, Mapping):
                self.flatten(sub_value, key, f"{full}.", into, depth=depth + 1)
            elif isinstance(sub_value, str):
                if full in into:
                    raise self.fail(f"{key}.{full}", "the same table key appears twice")
                into[full] = self.amount(sub_value, f"{key}.{full}")
            else:
                raise self.fail(
                    f"{key}.{full}", 'expected an amount as text, e.g. "340.00"', sub_value
                )

    def amount(self, text: str, key: str) -> Money:
        try:
            return Money.parse(text, path=key)
        except ValidationError as exc:
            raise self.fail(
                key, 'expected an amount of yuan with at most two decimals, e.g. "960.00"', text
            ) from exc


_TOP_KEYS = frozenset({"description", "metadata", "values", "documentation"})


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


@attrs.frozen(kw_only=True)
class ParameterUse:
    """A parameter value an evaluation used, with its provenance (for decisions and explanations).

    Attributes:
        program: the program code.
        name: the parameter name.
        value: the value on the evaluation date.
        start: the date that value applies from.
        source: where the value came from (``"national"`` or a province's document).
        reference: the legal reference of the value.
        unit: the unit, e.g. ``CNY/month``.
    """

    program: str
    name: str
    value: ParameterValue
    start: dt.date
    source: str
    reference: str
    unit: str

    @property
    def value_text(self) -> str:
        """The value as plain text, e.g. ``960.00`` or ``death.rural=170.00, ...``."""
        return value_text(self.value)

    def as_dict(self) -> dict[str, object]:
        """The use as JSON-ready data."""
        value: object = (
            self.value.as_dict()
            if isinstance(self.value, ParameterTable)
            else self.value
            if isinstance(self.value, int)
            else str(self.value)
        )
        return {
            "name": self.name,
            "value": value,
            "unit": self.unit,
            "from": self.start.isoformat(),
            "source": self.source,
            "reference": self.reference,
        }


@attrs.frozen(kw_only=True, eq=False)
class ParameterView:
    """The parameters of one program on one date, as clauses and amount rules read them.

    Attributes:
        program: the program code.
        date: the evaluation date D.
        parameters: the program's parameters by name.
        owner: who reads through this view (a clause reference), for error messages.
    """

    program: str
    date: dt.date
    parameters: Mapping[str, Parameter]
    owner: str = ""

    @property
    def in_force(self) -> bool:
        """Whether every parameter is in force on the date (else the program is not, R0.8)."""
        return all(parameter.in_force(self.date) for parameter in self.parameters.values())

    def not_in_force(self) -> tuple[Parameter, ...]:
        """The parameters whose first value is after the date."""
        return tuple(p for p in self.parameters.values() if not p.in_force(self.date))

    def parameter(self, name: str) -> Parameter:
        """The parameter `name`.

        Args:
            name: the parameter name.

        Raises:
            ParameterNotFoundError: the program has no such parameter, or the reader did not
                declare it.
        """
        try:
            return self.parameters[name]
        except KeyError:
            reader = f" ({self.owner} did not declare it)" if self.owner else ""
            raise ParameterNotFoundError(
                f"program {self.program}: no parameter {name!r} on {self.date}{reader}; "
                f"expected one of: {', '.join(sorted(self.parameters)) or '(none)'}"
            ) from None

    def value(self, name: str) -> ParameterValue:
        """The value of `name` on the date.

        Args:
            name: the parameter name.

        Raises:
            ParameterNotFoundError: no such parameter, not in force, or a gap.
        """
        parameter = self.parameter(name)
        value = parameter.value_at(self.date)
        if value is None:
            raise ParameterNotFoundError(
                f"program {self.program}: parameter {name} is not in force on {self.date}; "
                f"its first value is from {parameter.first_date}"
            )
        return value

    def amount(self, name: str) -> Money:
        """The amount `name` on the date.

        Args:
            name: the parameter name.

        Raises:
            ParameterNotFoundError: no such parameter, not in force, or a gap.
            ParameterError: the parameter is not an amount.
        """
        self.value(name)
        amount = self.parameter(name).amount_at(self.date)
        assert amount is not None
        return amount

    def integer(self, name: str) -> int:
        """The whole number `name` on the date.

        Args:
            name: the parameter name.

        Raises:
            ParameterNotFoundError: no such parameter, not in force, or a gap.
            ParameterError: the parameter is not a whole number.
        """
        self.value(name)
        number = self.parameter(name).integer_at(self.date)
        assert number is not None
        return number

    def table_amount(self, name: str, key: str) -> Money:
        """The amount under `key` of the table `name` on the date.

        Args:
            name: the parameter name.
            key: the category key, e.g. ``"death.rural"``.

        Raises:
            ParameterNotFoundError: no such parameter, not in force, a gap or a missing key.
            ParameterError: the parameter is not a table.
        """
        self.value(name)
        amount = self.parameter(name).table_amount_at(self.date, key)
        assert amount is not None
        return amount

    def restricted(self, names: Iterable[str], owner: str) -> ParameterView:
        """A view of only `names`, for a reader that declared them.

        Args:
            names: the parameter names the reader declared.
            owner: the reader, e.g. ``"R2.2"``, for error messages.

        Raises:
            ParameterNotFoundError: the program has no parameter of one of the names.
        """
        wanted = tuple(names)
        return ParameterView(
            program=self.program,
            date=self.date,
            parameters={name: self.parameter(name) for name in wanted},
            owner=owner,
        )

    def uses(self) -> tuple[ParameterUse, ...]:
        """The value of each parameter on the date with its provenance, by name.

        Raises:
            ParameterNotFoundError: a parameter is not in force or has a gap on the date.
        """
        uses = []
        for name in sorted(self.parameters):
            parameter = self.parameters[name]
            value = self.value(name)
            step = parameter.step_at(self.date)
            assert step is not None
            uses.append(
                ParameterUse(
                    program=self.program,
                    name=name,
                    value=value,
                    start=step.start,
                    source=step.source,
                    reference=step.reference or parameter.reference,
                    unit=parameter.unit,
                )
            )
        return tuple(uses)

    def scalars(self) -> dict[str, str]:
        """The amounts and whole numbers in force, as text by name (for clause descriptions)."""
        shown: dict[str, str] = {}
        for name, parameter in self.parameters.items():
            step = parameter.step_at(self.date)
            if step is not None and step.value is not None:
                shown[name] = value_text(step.value)
        return shown


@attrs.frozen(kw_only=True, eq=False)
class ParameterSet:
    """Every parameter of a deployment, by program and name, after province overrides (参数集).

    Attributes:
        parameters: the parameters, one per (program, name).
    """

    parameters: tuple[Parameter, ...] = attrs.field(converter=_parameters)
    _index: dict[tuple[str, str], Parameter] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        index: dict[tuple[str, str], Parameter] = {}
        for parameter in self.parameters:
            key = (parameter.program, parameter.name)
            if key in index:
                raise ParameterError(
                    f"parameter {parameter.key} is given twice ({index[key].source} and "
                    f"{parameter.source}); expected one, with overrides applied by overlaid_by"
                )
            index[key] = parameter
        object.__setattr__(self, "_index", index)

    @classmethod
    def of(cls, parameters: Iterable[Parameter]) -> ParameterSet:
        """A set of the given parameters.

        Args:
            parameters: at most one per (program, name).

        Raises:
            ParameterError: a parameter is given twice.
        """
        return cls(parameters=tuple(parameters))

    def overlaid_by(self, overrides: Iterable[Parameter]) -> ParameterSet:
        """This set with each override laid over the parameter of the same key (or added).

        Args:
            overrides: a province's (or township's) parameters.

        Raises:
            ParameterError: an override does not fit the parameter it overrides.
        """
        merged = dict(self._index)
        for override in overrides:
            key = (override.program, override.name)
            merged[key] = merged[key].overlaid_by(override) if key in merged else override
        return ParameterSet(parameters=tuple(merged.values()))

    def get(self, program: str, name: str) -> Parameter:
        """The parameter `name` of `program`.

        Args:
            program: the program code.
            name: the parameter name.

        Raises:
            ParameterNotFoundError: there is none; the message lists the program's parameters.
        """
        try:
            return self._index[(program, name)]
        except KeyError:
            known = sorted(n for p, n in self._index if p == program)
            raise ParameterNotFoundError(
                f"program {program}: no parameter {name!r} is registered; expected one of: "
                f"{', '.join(known) or '(none for this program)'}"
            ) from None

    def for_program(self, program: str) -> tuple[Parameter, ...]:
        """Every parameter of `program`, by name.

        Args:
            program: the program code.
        """
        return tuple(sorted((p for p in self.parameters if p.program == program), key=_name))

    def view(self, program: str, on: dt.date, names: Iterable[str] | None = None) -> ParameterView:
        """The parameters of `program` on `on`, as its clauses read them.

        Args:
            program: the program code.
            on: the evaluation date.
            names: the parameters the program uses; all of the program's when None.

        Raises:
            ParameterNotFoundError: one of `names` is not registered.
        """
        chosen = (
            self.for_program(program)
            if names is None
            else tuple(self.get(program, name) for name in names)
        )
        return ParameterView(program=program, date=on, parameters={p.name: p for p in chosen})

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)


def _name(parameter: Parameter) -> str:
    return parameter.name
