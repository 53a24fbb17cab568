"""Reading a register folder (登记册导入) and writing one back (导出).

`read_register` finds a folder's files, refuses the whole register when one file is malformed,
and checks every row against the register format (`famplan_core.exchange.register_format`)
and against the other files. It returns a `RegisterReading`: the good rows of each kind as
normalised text, every bad row with every reason found, and warnings. Nothing is stored here:
the caller stores the good rows in one transaction and the bad ones in quarantine.

Rows are tuples of text in spec column order (``""`` for empty), not objects; `RegisterTable.chunks`
hands them on in slices. `stream_register` checks a folder the same way but does not hold the
rows in memory: while the files are read, the checked rows are set aside in a temporary file
(deleted when the `RegisterStream` is closed), and only what the checks across files need (the
identifiers, the line numbers, the bad rows' problems) stays in memory; `RegisterStream.rows`
then reads one kind's good rows back at a time, so that a county register of a million persons
and its other files are imported within a bounded memory.

`write_register` writes rows back in the same format, values exactly as given, so that
read → write → read gives the same rows.

Example:
    >>> import tempfile, datetime
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "persons.csv").write_text(
    ...     "person_id,name,sex,birth_date,hukou_division,hukou_type\\n"
    ...     "P1, 张三 ,1,1980-02-03,371502114201,rural\\n"
    ...     "P2,李四,１,1981-02-03,371502114201,rural\\n",
    ...     encoding="utf-8",
    ... )
    >>> reading = read_register(folder, today=datetime.date(2026, 1, 1))
    >>> [row[2] for row in reading.rows("persons")]
    ['张三']
    >>> reading.quarantine[0].problems[0].path
    'persons.csv:3:sex'
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import itertools
import json
import marshal
import operator
import os
import re
import sys
import tempfile
import unicodedata
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from operator import mul
from pathlib import Path
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self, cast

import attrs
import numpy as np

from famplan_core.errors import ExchangeError, MalformedFileError, Problem, ValidationError
from famplan_core.exchange import textio
from famplan_core.exchange.register_format import (
    FORMATS,
    KIND_BY_NAME,
    KINDS,
    MAX_TEXT_LENGTH,
    CellRule,
    Column,
    RecordKind,
)
from famplan_core.files import private_folder, refuse_symlink
from famplan_core.model._checks import bidi_problem
from famplan_core.model.identity import (
    ID_CHECK_CHARACTERS,
    ID_WEIGHTS,
    CitizenId,
    DivisionCode,
    check_characters,
)

__all__ = [
    "DivisionCheck",
    "KindCounts",
    "KnownIds",
    "QuarantinedRow",
    "RegisterFile",
    "RegisterReading",
    "RegisterStream",
    "RegisterTable",
    "find_register_files",
    "read_register",
    "stream_register",
    "write_register",
]

KnownIds = Callable[[list[str]], Collection[str]]
"""Given a batch of identifiers, answer which of them the store already holds."""

DivisionCheck = Callable[[str], "str | None"]
"""Given a 12-digit division code of the right form, a warning text when it is not known."""

RowsChecked = Callable[[str, int, Sequence[Sequence[str]], Sequence[int]], None]
"""Told of each chunk of rows set aside: kind, first row number, columns, bad row numbers."""

_BATCH: Final = 10_000
_SHOWN_LINES: Final = 10
_SPILL_ROWS: Final = 10_000
"""Rows per chunk that `stream_register` sets aside on disk."""


@attrs.frozen(kw_only=True)
class RegisterFile:
    """One file of a register, as read or written.

    Attributes:
        name: the file's name as it is in the folder, e.g. ``PERSONS.CSV``.
        kind: the record kind it holds, e.g. ``persons``.
        format: ``csv`` or ``jsonl``.
        encoding: ``utf-8``, ``utf-8-sig``, ``gb18030`` (or ``gbk`` when written so).
        size: its size in bytes.
        sha256: the SHA-256 of its bytes, in hex.
    """

    name: str
    kind: str
    format: str
    encoding: str
    size: int
    sha256: str


@attrs.frozen(kw_only=True)
class QuarantinedRow:
    """A bad row, set aside with every reason found (隔离).

    Attributes:
        file: the file's name.
        line: the physical line the row starts on (the header is line 1).
        kind: the record kind.
        cells: the row's cells by column name, trimmed. A row with more fields than the
            header has its extra cells under ``_extra_1``, ``_extra_2``, …; a JSON value that is
            not text is given as its JSON text.
        problems: every problem found, each with a path ``file:line:column``
            (``file:line`` for a problem of the whole row).
    """

    file: str
    line: int
    kind: str
    cells: Mapping[str, str]
    problems: tuple[Problem, ...]


@attrs.frozen(kw_only=True)
class KindCounts:
    """How many rows of one kind were read.

    Attributes:
        rows: rows that were not empty.
        good: rows that passed every check.
        quarantined: rows set aside.
        empty: rows whose cells were all empty, skipped.
    """

    rows: int
    good: int
    quarantined: int
    empty: int


@attrs.frozen(kw_only=True, eq=False)
class RegisterTable:
    """The good rows of one kind, normalised, in spec column order.

    Attributes:
        kind: the record kind, e.g. ``persons``.
        file: the file they came from.
        columns: every column of the kind, in spec order (absent ones are ``""`` in each row).
        rows: the rows, each a tuple of text with ``""`` for empty.
        lines: the physical line each row starts on, in the same order.
    """

    kind: str
    file: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    lines: Sequence[int]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[tuple[str, ...]]:
        return iter(self.rows)

    def index(self, column: str) -> int:
        """The position of a column in each row.

        Args:
            column: the column name.

        Raises:
            KeyError: the kind has no such column.
        """
        return KIND_BY_NAME[self.kind].index(column)

    def dicts(self) -> Iterator[dict[str, str]]:
        """The rows as dictionaries by column name (convenient, but larger than tuples)."""
        columns = self.columns
        for row in self.rows:
            yield dict(zip(columns, row, strict=True))

    def chunks(self, size: int = 50_000) -> Iterator[Sequence[tuple[str, ...]]]:
        """The rows in slices of at most `size`, for chunked bulk writes.

        Args:
            size: the largest slice.
        """
        for start in range(0, len(self.rows), size):
            yield self.rows[start : start + size]

    def origin(self, index: int) -> tuple[str, int]:
        """The file and physical line of the row at `index`.

        Args:
            index: the row's position in `rows`.
        """
        return self.file, self.lines[index]


@attrs.frozen(kw_only=True, eq=False)
class RegisterReading:
    """What `read_register` found in a register folder.

    Attributes:
        today: the import date the checks used.
        files: every file read, with its size and SHA-256.
        tables: the good rows of each kind present in the folder.
        quarantine: every bad row with every reason, in file and line order.
        warnings: things accepted but worth a look, e.g. a division code missing from the
            division table (one warning per code, at its first use).
        counts: the row counts of each kind present.
    """

    today: date
    files: tuple[RegisterFile, ...]
    tables: Mapping[str, RegisterTable]
    quarantine: tuple[QuarantinedRow, ...]
    warnings: tuple[Problem, ...]
    counts: Mapping[str, KindCounts]

    def rows(self, kind: str) -> Iterator[tuple[str, ...]]:
        """The good rows of a kind (none when its file is absent), in spec column order.

        Args:
            kind: the record kind, e.g. ``persons``.

        Raises:
            KeyError: there is no such kind in the register format.
        """
        if kind not in KIND_BY_NAME:
            raise KeyError(f"no record kind {kind!r}; the kinds are {', '.join(KIND_BY_NAME)}")
        table = self.tables.get(kind)
        return iter(()) if table is None else iter(table.rows)

    def has(self, kind: str) -> bool:
        """Whether the folder held a file of this kind (even with no good rows).

        Args:
            kind: the record kind.
        """
        return kind in self.tables

    @property
    def good(self) -> int:
        """The number of good rows, all kinds together."""
        return sum(c.good for c in self.counts.values())


# ------------------------------------------------------------------------------------------
# Finding the files
# ------------------------------------------------------------------------------------------


def _expected_files() -> str:
    return ", ".join(f"{k.name}.csv or {k.name}.jsonl" for k in KINDS)


def find_register_files(folder: Path) -> dict[str, Path]:
    """The register files of a folder, by record kind, in spec order.

    Names match case-insensitively (``PERSONS.CSV`` is ``persons``). Names starting with
    ``~$`` or ``.`` (spreadsheet lock files, hidden files) are ignored.

    Args:
        folder: the register folder.

    Raises:
        MalformedFileError: an unknown file (or a folder inside it), two files of one kind,
            or no ``persons`` file.
        ExchangeError: the folder does not exist.
    """
    if not folder.is_dir():
        raise ExchangeError(f"{folder.name or folder}: no such register folder")
    found: dict[str, Path] = {}
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        name = entry.name
        if name.startswith(("~$", ".")):
            continue
        stem, dot, extension = name.rpartition(".")
        kind = stem.lower()
        if not entry.is_file() or not dot or extension.lower() not in FORMATS:
            raise MalformedFileError(
                name,
                None,
                f"unknown file in the register folder; expected only {_expected_files()}",
            )
        if kind not in KIND_BY_NAME:
            raise MalformedFileError(
                name,
                None,
                f"unknown file: there is no record kind {stem!r}; expected only"
                f" {_expected_files()}",
            )
        if kind in found:
            raise MalformedFileError(
                name,
                None,
                f"both {found[kind].name} and {name} hold {kind}; keep only one of them",
            )
        found[kind] = entry
    if "persons" not in found:
        raise MalformedFileError(
            "persons.csv",
            None,
            "the register has no persons file (persons.csv or persons.jsonl), which every"
            " register needs",
        )
    return {k.name: found[k.name] for k in KINDS if k.name in found}


# ------------------------------------------------------------------------------------------
# Cell checks
# ------------------------------------------------------------------------------------------

_WHITE_SPACE: Final = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
"""Unicode White_Space, plus the byte order mark: trimmed from both ends of every cell."""

_CONTROL: Final = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_ID_WEIGHTS: Final = ID_WEIGHTS
_ID_OFFSET: Final = 48 * sum(_ID_WEIGHTS)  # the weighted sum of the ASCII code of "0"
_ID_CHECK: Final = ID_CHECK_CHARACTERS
_DATE_DIGITS: Final = np.array([0, 1, 2, 3, 5, 6, 8, 9])  # YYYY-MM-DD
_YEAR_PLACES: Final = np.array([1000, 100, 10, 1], dtype=np.int32)
_TWO_PLACES: Final = np.array([10, 1], dtype=np.int32)
_MONTH_DAYS: Final = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_DIVISION_FORM: Final = "a 12-digit division code of ASCII digits 0-9, e.g. 371502114201"


def _real_date(text: str) -> bool:
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.isascii():
        return False
    year, month, day = text[:4], text[5:7], text[8:]
    if not (year.isdigit() and month.isdigit() and day.isdigit()):
        return False
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def _non_ascii_digits(text: str) -> str:
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return "; full-width or other non-ASCII digits are not digits here, type 0-9"
    return ""


def _shown(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "…"


_SHARED_TEXT: Final = frozenset(
    {
        ("persons", "person_id"),
        ("households", "household_id"),
        ("certificates", "certificate_id"),
        ("enrolments", "program"),
        ("enrolments", "category"),
    }
)
"""Text columns whose values repeat across rows or files; references are shared too."""

_TEXT: Final = 1  # one string object per value, from `_Shared.text`
_PERSON: Final = 2  # the person ids of the persons file, kept in `_Shared.people`
_NAMED: Final = 3  # a person id named in another file: `_Shared.person_named`


def _sharing(kind: RecordKind, column: Column) -> int:
    """How the values of a text column are shared (0: they are not)."""
    if kind.name == "persons" and column.name == "person_id":
        return _PERSON
    if column.refers_to == "persons":
        return _NAMED
    if column.refers_to is not None or (kind.name, column.name) in _SHARED_TEXT:
        return _TEXT
    return 0


class _Shared:
    """Caches shared by every file of one reading: dates, division codes, today."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.today_iso = today.isoformat()
        self.dates: dict[str, str] = {}
        self.divisions: dict[str, str] = {}
        self.bad_divisions: dict[str, str] = {}
        self.division_first: dict[str, str] = {}
        self.division_count: dict[str, int] = {}
        # identifiers and other repeated text: one string object however often it appears
        self.text: dict[str, str] = {}
        # the birth dates of IDs found good, as bytes YYYYMMDD
        self.good_births: set[bytes] = set()
        # the person ids of the persons file (read first), and "" for none
        self.people: dict[str, str] = {"": ""}
        # the person ids other files name that the persons file lacks
        self.outside: set[str] = set()

    def person_named(self, value: str) -> str:
        """A person id named in another file, as one string object; notes one from outside."""
        canonical = self.people.get(value)
        if canonical is None:
            self.outside.add(value)
            canonical = self.text.setdefault(value, value)
        return canonical

    def division_problem(self, value: str) -> str | None:
        known = self.bad_divisions.get(value)
        if known is not None:
            return known
        message: str | None = None
        if not (len(value) == 12 and value.isascii() and value.isdigit()):
            message = f"expected {_DIVISION_FORM}{_non_ascii_digits(value)}"
        else:
            try:
                DivisionCode(value)
            except ValidationError as exc:
                message = "; ".join(p.message for p in exc.problems)
        if message is None:
            self.divisions[value] = value
        else:
            self.bad_divisions[value] = message
        return message

    def citizen_id_ok(self, value: str) -> bool:
        """The fast check of a normalised ID; `CitizenId.check` explains a failure."""
        if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
            return False
        total = sum(map(mul, value[:17].encode("ascii"), _ID_WEIGHTS)) - _ID_OFFSET
        if _ID_CHECK[total % 11] != value[17]:
            return False
        born = f"{value[6:10]}-{value[10:12]}-{value[12:14]}"
        return "1800" <= born <= self.today_iso and (born in self.dates or _real_date(born))

    def dates_odd(self, values: Sequence[str]) -> list[int] | None:
        """The positions of the dates in a column (``""`` for none) that are not real dates.

        They are checked together as an array, as `_real_date` checks one; None when they are
        not all 10 ASCII characters (then ask `_real_date`).
        """
        given = [j for j, v in enumerate(values) if v] if "" in values else None
        dates = values if given is None else [values[j] for j in given]
        if not dates:
            return []
        text = "".join(dates)
        if not text.isascii() or set(map(len, dates)) != {10}:
            return None
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, 10)
        digits = codes[:, _DATE_DIGITS].astype(np.int32) - 48
        year = digits[:, :4] @ _YEAR_PLACES
        month = digits[:, 4:6] @ _TWO_PLACES
        day = digits[:, 6:] @ _TWO_PLACES
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        fine = ((digits >= 0) & (digits <= 9)).all(axis=1)
        fine &= (codes[:, 4] == ord("-")) & (codes[:, 7] == ord("-"))
        fine &= (year >= 1) & (month >= 1) & (month <= 12) & (day >= 1)
        fine &= day <= _MONTH_DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
        odd: list[int] = np.flatnonzero(~fine).tolist()
        return odd if given is None else [given[j] for j in odd]

    def citizen_ids_odd(self, ids: Sequence[str]) -> list[int]:
        """The positions of the IDs in a column (``""`` for none) that `citizen_id_ok` fails.

        When every ID given is 18 ASCII characters, they are checked together as an array.
        """
        given = [j for j, v in enumerate(ids) if v] if "" in ids else None
        values = ids if given is None else [ids[j] for j in given]
        if not values:
            return []
        joined = "".join(values)
        if not joined.isascii() or set(map(len, values)) != {18}:
            return [j for j, v in enumerate(ids) if v and not self.citizen_id_ok(v)]
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        digits = codes[:, :17].astype(np.int64) - 48
        fine = ((digits >= 0) & (digits <= 9)).all(axis=1)
        fine &= check_characters(digits) == codes[:, 17]
        born = codes[:, 6:14].copy().view("S8").ravel()
        today, dates, good = self.today_iso, self.dates, self.good_births
        wrong = []
        for day in set(born.tolist()).difference(good):
            text = day.decode("ascii")
            iso = f"{text[:4]}-{text[4:6]}-{text[6:]}"
            if "1800" <= iso <= today and (iso in dates or _real_date(iso)):
                good.add(day)
            else:
                wrong.append(day)
        if wrong:
            fine &= ~np.isin(born, wrong)
        odd: list[int] = np.flatnonzero(~fine).tolist()
        return odd if given is None else [given[j] for j in odd]

    def citizen_id_problems(self, value: str) -> list[str]:
        messages = [f.message for f in CitizenId.check(value, today=self.today).errors]
        return messages or ["not a valid 18-character resident ID number (GB 11643)"]


class _Checker:
    """Checks and normalises the cells of one kind's rows.

    Repeated values are given as one string object (codes, dates, division codes, the texts
    `_SHARED_TEXT` names), to save memory while rows are held. With `hold` False (the rows are
    set aside on disk), `check_columns` only shares the values of the columns kept in memory.
    """

    def __init__(self, kind: RecordKind, shared: _Shared, *, hold: bool = True) -> None:
        self.kind = kind
        self.shared = shared
        self.hold = hold
        columns = list(enumerate(kind.columns))
        self.required = [(i, c.name) for i, c in columns if c.required]
        self.texts = [(i, c.name, _sharing(kind, c)) for i, c in columns if c.rule is CellRule.TEXT]
        kept = _kept_columns(kind)
        self.shared_texts = {i for i, _, share in self.texts if share and (hold or i in kept)}
        self.codes = [
            (i, c.name, {code: code for code in c.codes.codes}, c.codes.describe())
            for i, c in columns
            if c.rule is CellRule.CODE and c.codes is not None
        ]
        self.dates = [(i, c.name) for i, c in columns if c.rule is CellRule.DATE]
        self.divisions = [(i, c.name) for i, c in columns if c.rule is CellRule.DIVISION]
        self.ids = [(i, c.name) for i, c in columns if c.rule is CellRule.CITIZEN_ID]
        self.row_rule = _ROW_RULES.get(kind.name)

    def check(
        self, values: list[str], file: str, line: int, *, count: bool = True
    ) -> tuple[tuple[str, ...], list[Problem] | None]:
        """Check one row given in spec order (trimmed); return it normalised and its problems.

        `count` says whether to count the row's division codes (for the warnings); the rows
        `check_columns` hands back here are counted already.
        """
        shared = self.shared
        found: list[tuple[str, str, str]] = []
        for i, name in self.required:
            if not values[i]:
                found.append((name, "", f"{name} is required but empty"))
        shared_text = shared.text
        for i, name, share in self.texts:
            value = values[i]
            if not value:
                continue
            if not value.isascii():
                value = values[i] = unicodedata.normalize("NFC", value)
            if share == _TEXT:
                value = values[i] = shared_text.setdefault(value, value)
            elif share == _PERSON:
                value = values[i] = shared.people.setdefault(value, value)
            elif share == _NAMED:
                value = values[i] = shared.person_named(value)
            if len(value) > MAX_TEXT_LENGTH:
                found.append(
                    (
                        name,
                        _shown(value),
                        f"text longer than {MAX_TEXT_LENGTH} characters ({len(value)})",
                    )
                )
            elif not value.isprintable():
                # The screen in `check_columns` sends every row with a character that is
                # not printable here: these rules decide which of them are bad.
                control = _CONTROL.search(value)
                if control is not None:
                    found.append(
                        (
                            name,
                            value,
                            f"contains a control character (U+{ord(control.group()):04X} at"
                            f" character {control.start() + 1}); text may not hold tabs, line"
                            " breaks or other control characters",
                        )
                    )
                elif (bidi := bidi_problem(value)) is not None:
                    found.append((name, value, bidi))
        for i, name, table, expected in self.codes:
            value = values[i]
            if not value:
                continue
            canonical = table.get(value)
            if canonical is not None:
                values[i] = canonical
            else:
                lead = "" if expected.startswith(("a ", "an ")) else "one of "
                found.append(
                    (
                        name,
                        value,
                        f"{_shown(value)!r} is not {lead}{expected}{_non_ascii_digits(value)}",
                    )
                )
        dates = shared.dates
        for i, name in self.dates:
            value = values[i]
            if not value:
                continue
            canonical = dates.get(value)
            if canonical is not None:
                values[i] = canonical
            elif _real_date(value):
                dates[value] = value
            else:
                found.append(
                    (
                        name,
                        value,
                        "expected a real date written YYYY-MM-DD, e.g. 1980-02-29"
                        + _non_ascii_digits(value),
                    )
                )
        divisions = shared.divisions
        counts = shared.division_count
        for i, name in self.divisions:
            value = values[i]
            if not value:
                continue
            canonical = divisions.get(value)
            if canonical is None:
                message = shared.division_problem(value)
                if message is not None:
                    found.append((name, value, message))
                    continue
                canonical = value
            values[i] = canonical
            if not count:
                continue
            seen = counts.get(canonical)
            if seen is None:
                shared.division_first[canonical] = f"{file}:{line}:{name}"
                counts[canonical] = 1
            else:
                counts[canonical] = seen + 1
        for i, name in self.ids:
            value = values[i]
            if not value:
                continue
            if value[-1] == "x":
                value = values[i] = value[:-1] + "X"
            if not shared.citizen_id_ok(value):
                found.extend((name, value, m) for m in shared.citizen_id_problems(value))
        row = tuple(values)
        if self.row_rule is not None:
            bad = {column for column, _, _ in found} if found else _NOTHING
            found.extend(self.row_rule(row, bad, shared.today_iso))
        if not found:
            return row, None
        return row, [
            Problem(path=f"{file}:{line}:{column}", value=value, message=message)
            for column, value, message in found
        ]

    def check_columns(
        self, columns: Sequence[Sequence[str]], file: str, lines: Sequence[int]
    ) -> tuple[list[Sequence[str]], dict[int, list[Problem]], dict[int, tuple[str, ...]]]:
        """Check a chunk of rows given column by column, as `check` does row by row.

        The chunk's cells are checked and normalised a column at a time, the common case of
        a good cell costing no Python code per cell. Every row this finds anything odd in
        (a cell that fails or might fail its rule, or a row rule that objects) is checked
        again by `check`, which gives the problems, so that both give the same rows and the
        same problems in the same order.

        Args:
            columns: for each spec column, its trimmed cell in each row (none of the rows
                empty); not changed.
            file: the file's name.
            lines: the physical line of each row.

        Returns:
            The columns, normalised, except for the rows checked again by `check`; those rows
            as `check` gives them, by position in the chunk; and their problems.
        """
        shared = self.shared
        cols: list[Sequence[str]] = list(columns)
        odd: set[int] = set()
        for i, _ in self.required:
            col = cols[i]
            if "" in col:
                odd.update(j for j, v in enumerate(col) if not v)
        text = shared.text
        for i, _, share in self.texts:
            col = cols[i]
            joined = "".join(col)
            if not joined.isascii() and not all(map(_is_nfc, col)):
                col = [v if v.isascii() else unicodedata.normalize("NFC", v) for v in col]
                joined = "".join(col)
            if not joined.isprintable():
                odd.update(j for j, v in enumerate(col) if not v.isprintable())
            if max(map(len, col)) > MAX_TEXT_LENGTH:
                odd.update(j for j, v in enumerate(col) if len(v) > MAX_TEXT_LENGTH)
            if share == _NAMED:  # always: this also finds the persons from outside the folder
                named: list[str | None] = list(map(shared.people.get, col))
                if None in named:
                    for j, v in enumerate(named):
                        if v is None:
                            named[j] = shared.person_named(col[j])
                cols[i] = cast(list[str], named)
            elif i in self.shared_texts:
                pool = shared.people if share == _PERSON else text
                cols[i] = list(map(pool.setdefault, col, col))
            else:
                cols[i] = col
        hold = self.hold
        for i, _, table, _ in self.codes:
            col = cols[i]
            unknown = set(col).difference(table)
            unknown.discard("")
            if unknown:
                odd.update(j for j, v in enumerate(col) if v in unknown)
            if hold:
                cols[i] = list(map(table.get, col, col))
        dates = shared.dates
        for i, _ in self.dates:
            col = cols[i]
            if not hold:
                unreal_at = shared.dates_odd(col)
                if unreal_at is not None:
                    odd.update(unreal_at)
                    continue
            new = set(col).difference(dates)
            new.discard("")
            unreal = {v for v in new if not _real_date(v)}
            dates.update((v, v) for v in new - unreal)
            if unreal:
                odd.update(j for j, v in enumerate(col) if v in unreal)
            if hold:
                cols[i] = list(map(dates.get, col, col))
        if self.divisions:
            self._divisions(cols, odd, file, lines)
        for i, _ in self.ids:
            col = cols[i]
            if "x" in "".join(col):
                col = cols[i] = [v[:-1] + "X" if v[-1:] == "x" else v for v in col]
            odd.update(shared.citizen_ids_odd(col))
        rule = self.row_rule
        if rule is not None:
            screen = _ROW_SCREENS.get(self.kind.name)
            today = shared.today_iso
            if screen is None or not screen(cols, odd, today):
                odd.update(
                    j
                    for j, row in enumerate(zip(*cols, strict=True))
                    if j not in odd and rule(row, _NOTHING, today)
                )
        problems: dict[int, list[Problem]] = {}
        again: dict[int, tuple[str, ...]] = {}
        for j in sorted(odd):
            again[j], found = self.check([c[j] for c in columns], file, lines[j], count=False)
            if found:
                problems[j] = found
        return cols, problems, again

    def note_unchecked(self, row: Sequence[str]) -> None:
        """Note the person ids of a row not checked (it has the wrong number of fields)."""
        shared = self.shared
        for i, _, share in self.texts:
            value = row[i]
            if value and share == _PERSON:
                shared.people.setdefault(value, value)
            elif value and share == _NAMED:
                shared.person_named(value)

    def _divisions(
        self, cols: list[Sequence[str]], odd: set[int], file: str, lines: Sequence[int]
    ) -> None:
        """Check, normalise and count the division codes of a chunk, as `check` does."""
        shared = self.shared
        divisions = shared.divisions
        counts = shared.division_count
        firsts: dict[str, tuple[int, int, str]] = {}  # a code new here: its first row, column
        for order, (i, name) in enumerate(self.divisions):
            col = cols[i]
            found = Counter(col)
            bad = {v for v in found if v and v not in divisions and shared.division_problem(v)}
            if bad:
                odd.update(j for j, v in enumerate(col) if v in bad)
            for code, n in found.items():
                if not code or code in bad:
                    continue
                if code in firsts or code not in counts:
                    where = (col.index(code), order, name)
                    firsts[code] = min(firsts.get(code, where), where)
                counts[code] = counts.get(code, 0) + n
            if self.hold:
                cols[i] = list(map(divisions.get, col, col))
        for code, (j, _, name) in sorted(firsts.items(), key=lambda item: item[1][:2]):
            shared.division_first[code] = f"{file}:{lines[j]}:{name}"


_NOTHING: Final[frozenset[str]] = frozenset()
_Found = list[tuple[str, str, str]]
_is_nfc: Final = functools.partial(unicodedata.is_normalized, "NFC")


def _col(kind: str, column: str) -> int:
    return KIND_BY_NAME[kind].index(column)


_P_ID, _P_CID = _col("persons", "person_id"), _col("persons", "citizen_id")
_P_BIRTH, _P_DEATH = _col("persons", "birth_date"), _col("persons", "death_date")
_P_SEX = _col("persons", "sex")
_P_HOUSEHOLD = _col("persons", "household_id")
_H_ID, _H_HEAD = _col("households", "household_id"), _col("households", "head_person_id")
_C_ID, _C_KIND = _col("certificates", "certificate_id"), _col("certificates", "kind")
_C_HOLDER, _C_CHILD = _col("certificates", "holder_id"), _col("certificates", "child_id")
_C_ISSUED, _C_REVOKED = _col("certificates", "issued_on"), _col("certificates", "revoked_on")


def _persons_rule(row: tuple[str, ...], bad: Collection[str], today: str) -> _Found:
    found: _Found = []
    birth = row[_P_BIRTH] if "birth_date" not in bad else ""
    death = row[_P_DEATH] if "death_date" not in bad else ""
    if birth and birth > today:
        found.append(
            (
                "birth_date",
                birth,
                f"the birth date is after the import date {today}; a birth cannot be in the future",
            )
        )
    if death:
        if death > today:
            found.append(
                (
                    "death_date",
                    death,
                    f"the death date is after the import date {today}; a"
                    " death cannot be in the future",
                )
            )
        if birth and death < birth:
            found.append(("death_date", death, f"the death date is before the birth date {birth}"))
    cid = row[_P_CID] if "citizen_id" not in bad else ""
    if cid:
        born = f"{cid[6:10]}-{cid[10:12]}-{cid[12:14]}"
        if birth and born != birth:
            found.append(
                (
                    "citizen_id",
                    cid,
                    f"the birth date in the ID number ({born}, characters 7-14)"
                    f" does not match birth_date {birth}",
                )
            )
        sex = row[_P_SEX]
        if sex in ("1", "2") and "sex" not in bad:
            odd = int(cid[16]) % 2 == 1
            if (sex == "1") != odd:
                found.append(
                    (
                        "citizen_id",
                        cid,
                        f"the sex digit of the ID number (17th character"
                        f" {cid[16]}, {'odd: male' if odd else 'even: female'}) does not match"
                        f" sex {sex} ({'male' if sex == '1' else 'female'})",
                    )
                )
    return found


def _parent_child_rule(row: tuple[str, ...], bad: Collection[str], today: str) -> _Found:
    parent, child, kind, since = row
    found: _Found = []
    if parent and parent == child:
        found.append(("child_id", child, "a parent cannot be their own child"))
    if kind == "adoptive" and not since and "since" not in bad:
        found.append(("since", "", "an adoptive link needs the adoption date in since"))
    if kind == "birth" and since and "since" not in bad:
        found.append(
            ("since", since, "since must be empty for a birth link: it dates from the birth")
        )
    return found


def _unions_rule(row: tuple[str, ...], bad: Collection[str], today: str) -> _Found:
    a, b, start, end, reason = row
    found: _Found = []
    if a and a == b:
        found.append(("person_b", b, "a person cannot be in a union with themself"))
    if start and end and "start" not in bad and "end" not in bad and end < start:
        found.append(("end", end, f"the union ends before it starts ({start})"))
    if reason and not end and "end" not in bad:
        found.append(("end_reason", reason, "an end reason needs the end date in end"))
    return found


def _disabilities_rule(row: tuple[str, ...], bad: Collection[str], today: str) -> _Found:
    valid_from, valid_to = row[3], row[4]
    both = valid_from and valid_to and "valid_from" not in bad and "valid_to" not in bad
    if both and valid_to < valid_from:
        return [("valid_to", valid_to, f"valid_to is before valid_from ({valid_from})")]
    return []


def _certificates_rule(row: tuple[str, ...], bad: Collection[str], today: str) -> _Found:
    found: _Found = []
    if row[_C_KIND] == "honour" and not row[_C_CHILD]:
        found.append(("child_id", "", "an honour certificate needs the child in child_id"))
    issued, revoked = row[_C_ISSUED], row[_C_REVOKED]
    both = issued and revoked and "issued_on" not in bad and "revoked_on" not in bad
    if both and revoked < issued:
        found.append(
            (
                "revoked_on",
                revoked,
                f"the certificate is revoked before it was issued ({issued})",
            )
        )
    return found


def _persons_screen(cols: Sequence[Sequence[str]], odd: set[int], today: str) -> bool:
    """Mark every row of a chunk `_persons_rule` might object to, a column at a time.

    Returns False, marking nothing, unless every row has a 10-character birth date and every
    row with an ID an 18-character one and a one-character sex, all ASCII (`_persons_rule` is
    then asked row by row).
    """
    births, deaths, ids, sexes = cols[_P_BIRTH], cols[_P_DEATH], cols[_P_CID], cols[_P_SEX]
    if set(map(len, births)) != {10}:
        return False
    given = [j for j, v in enumerate(ids) if v] if "" in ids else None
    born: Sequence[str] = births
    if given is not None:
        ids, sexes = [ids[j] for j in given], [sexes[j] for j in given]
        born = [births[j] for j in given]
    n = len(ids)
    birth_text, id_text, sex_text = "".join(born), "".join(ids), "".join(sexes)
    if n and not (
        set(map(len, ids)) == {18}
        and set(map(len, sexes)) == {1}
        and (birth_text + id_text + sex_text).isascii()
    ):
        return False
    if max(births) > today:
        odd.update(j for j, birth in enumerate(births) if birth > today)
    if any(deaths):
        odd.update(
            j
            for j, (death, birth) in enumerate(zip(deaths, births, strict=True))
            if death and (death > today or death < birth)
        )
    if not n:
        return True
    id_codes = np.frombuffer(id_text.encode("ascii"), dtype=np.uint8).reshape(n, 18)
    birth_codes = np.frombuffer(birth_text.encode("ascii"), dtype=np.uint8).reshape(n, 10)
    sex_codes = np.frombuffer(sex_text.encode("ascii"), dtype=np.uint8)
    differ = (
        (id_codes[:, 6:10] != birth_codes[:, 0:4]).any(axis=1)
        | (id_codes[:, 10:12] != birth_codes[:, 5:7]).any(axis=1)
        | (id_codes[:, 12:14] != birth_codes[:, 8:10]).any(axis=1)
    )
    odd_digit = (id_codes[:, 16] & 1).astype(bool)  # the ASCII code has the digit's parity
    differ |= ((sex_codes == ord("1")) & ~odd_digit) | ((sex_codes == ord("2")) & odd_digit)
    found: list[int] = np.flatnonzero(differ).tolist()
    odd.update(found if given is None else [given[j] for j in found])
    return True


def _same(a: Sequence[str], b: Sequence[str]) -> Iterator[int]:
    """The rows where two columns hold the same value, not empty."""
    if any(map(operator.eq, a, b)):
        yield from (j for j, (x, y) in enumerate(zip(a, b, strict=True)) if x and x == y)


def _before(later: Sequence[str], earlier: Sequence[str]) -> Iterator[int]:
    """The rows where both columns hold a value and the first is the smaller."""
    if any(later):
        yield from (
            j for j, (x, y) in enumerate(zip(later, earlier, strict=True)) if x and y and x < y
        )


def _parent_child_screen(cols: Sequence[Sequence[str]], odd: set[int], today: str) -> bool:
    """Mark every row of a chunk `_parent_child_rule` might object to."""
    parents, children, kinds, since = cols
    odd.update(_same(parents, children))
    if "adoptive" in kinds:
        odd.update(
            j
            for j, (k, s) in enumerate(zip(kinds, since, strict=True))
            if k == "adoptive" and not s
        )
    if any(since):
        odd.update(
            j for j, (k, s) in enumerate(zip(kinds, since, strict=True)) if k == "birth" and s
        )
    return True


def _unions_screen(cols: Sequence[Sequence[str]], odd: set[int], today: str) -> bool:
    """Mark every row of a chunk `_unions_rule` might object to."""
    a, b, start, end, reason = cols
    odd.update(_same(a, b))
    odd.update(_before(end, start))
    if any(reason):
        odd.update(j for j, (r, e) in enumerate(zip(reason, end, strict=True)) if r and not e)
    return True


def _disabilities_screen(cols: Sequence[Sequence[str]], odd: set[int], today: str) -> bool:
    """Mark every row of a chunk `_disabilities_rule` might object to."""
    odd.update(_before(cols[4], cols[3]))
    return True


def _certificates_screen(cols: Sequence[Sequence[str]], odd: set[int], today: str) -> bool:
    """Mark every row of a chunk `_certificates_rule` might object to."""
    kinds, children = cols[_C_KIND], cols[_C_CHILD]
    if "honour" in kinds:
        odd.update(
            j
            for j, (k, c) in enumerate(zip(kinds, children, strict=True))
            if k == "honour" and not c
        )
    odd.update(_before(cols[_C_REVOKED], cols[_C_ISSUED]))
    return True


_ROW_SCREENS: Final[Mapping[str, Callable[[Sequence[Sequence[str]], set[int], str], bool]]] = {
    "persons": _persons_screen,
    "parent_child": _parent_child_screen,
    "unions": _unions_screen,
    "disabilities": _disabilities_screen,
    "certificates": _certificates_screen,
}
"""Column-at-a-time versions of row rules, marking a superset of the rows they object to."""

_ROW_RULES: Final[Mapping[str, Callable[[tuple[str, ...], Collection[str], str], _Found]]] = {
    "persons": _persons_rule,
    "parent_child": _parent_child_rule,
    "unions": _unions_rule,
    "disabilities": _disabilities_rule,
    "certificates": _certificates_rule,
}


# ------------------------------------------------------------------------------------------
# Reading one file
# ------------------------------------------------------------------------------------------


_SEPARATOR: Final = "\x00"


class _Spill:
    """Checked rows set aside in a temporary file, a chunk at a time, column by column.

    A chunk is marshalled as one text per column, its cells joined by NUL (or, for a column
    with a NUL in a cell, the list of cells), which is quicker to write and read back than
    the rows themselves. The file has no name in the folder tree (it is deleted as it is
    made, where the system allows) and goes with `close`. Only this process writes it, and
    reads back what it wrote.
    """

    def __init__(self, on_rows: RowsChecked | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix="famplan-register-")  # noqa: SIM115
        self._end = 0
        self.on_rows = on_rows

    def write(self, columns: Sequence[Sequence[str]]) -> tuple[int, int]:
        """Append a chunk given column by column; returns where it is (offset, length)."""
        packed: list[str | Sequence[str]] = []
        for cells in columns:
            joined = _SEPARATOR.join(cells)
            packed.append(joined if joined.count(_SEPARATOR) == len(cells) - 1 else list(cells))
        data = marshal.dumps(packed)
        self._file.seek(self._end)
        self._file.write(data)
        where = (self._end, len(data))
        self._end += len(data)
        return where

    def read(self, where: tuple[int, int]) -> list[tuple[str, ...]]:
        """The rows of the chunk written at `where`."""
        offset, length = where
        self._file.seek(offset)
        data = self._file.read(length)
        if len(data) != length:
            raise ExchangeError(
                "the temporary copy of the checked rows is shorter than written; import again"
            )
        packed: list[str | list[str]] = marshal.loads(data)
        columns = [c.split(_SEPARATOR) if isinstance(c, str) else c for c in packed]
        return list(zip(*columns, strict=True))

    def close(self) -> None:
        self._file.close()


def _kept_columns(kind: RecordKind) -> tuple[int, ...]:
    """The columns of a kind that the checks across rows and files look at."""
    kept = {i for i, c in enumerate(kind.columns) if c.refers_to is not None}
    kept.update(
        {
            "persons": (_P_ID, _P_CID),
            "households": (_H_ID,),
            "certificates": (_C_ID, _C_HOLDER),
        }.get(kind.name, ())
    )
    return tuple(sorted(kept))


class _Collected:
    """Every row of one file, good and bad, while the register is being checked.

    Rows are numbered from 0 in file order (empty rows left out). Without a spill they all
    stay in `rows`. With one, `rows` holds the chunk being read (at most `_SPILL_ROWS`), the
    chunks before it are on disk, and the columns the checks across files need are kept in
    `columns` until those checks are done.
    """

    def __init__(
        self,
        kind: RecordKind,
        file: RegisterFile,
        header: tuple[str, ...] | None,
        spill: _Spill | None,
    ):
        self.kind = kind
        self.file = file
        self.header = header
        self.spill = spill
        self.chunk_size = _SPILL_ROWS if spill is not None else sys.maxsize
        self.rows: list[tuple[str, ...]] = []  # every row, without a spill
        self.buffer: list[list[str]] = [[] for _ in kind.columns]  # with one, by column
        self.buffered = 0
        self.set_aside = 0
        self.chunks: list[tuple[int, int]] = []
        self.columns: dict[int, list[str]] = (
            {i: [] for i in _kept_columns(kind)} if spill is not None else {}
        )
        self.lines = array("I")
        self.problems: dict[int, list[Problem]] = {}
        self.cells: dict[int, dict[str, str]] = {}
        self.empty = 0

    def __len__(self) -> int:
        return self.set_aside + self.buffered + len(self.rows)

    def _write(self, n: int) -> None:
        assert self.spill is not None
        columns = [column[:n] for column in self.buffer]
        self.chunks.append(self.spill.write(columns))
        if self.spill.on_rows is not None:
            first, bad = self.set_aside, self.problems
            held = (
                [i for i in bad if first <= i < first + n]
                if len(bad) < n
                else [i for i in range(first, first + n) if i in bad]
            )
            self.spill.on_rows(self.kind.name, first, columns, held)
        for column in self.buffer:
            del column[:n]
        self.buffered -= n
        self.set_aside += n

    def flush(self) -> None:
        """Set the rows read so far aside on disk."""
        if self.buffered:
            self._write(self.buffered)

    def extend(
        self,
        rows: list[tuple[str, ...]],
        lines: Sequence[int],
        problems: Mapping[int, list[Problem]],
        cells: Mapping[int, dict[str, str]],
    ) -> None:
        """Add rows read (problems and cells by position in `rows`)."""
        columns: list[Sequence[str]] = [
            [row[i] for row in rows] for i in range(len(self.kind.columns))
        ]
        self.extend_columns(columns, lines, problems, {}, cells)

    def extend_columns(
        self,
        columns: list[Sequence[str]],
        lines: Sequence[int],
        problems: Mapping[int, list[Problem]],
        again: Mapping[int, tuple[str, ...]],
        cells: Mapping[int, dict[str, str]],
    ) -> None:
        """Add rows read, column by column, but for the rows in `again` (problems, rows and
        cells by position in the chunk); set full chunks aside."""
        base = len(self)
        for offset, found in problems.items():
            self.problems[base + offset] = found
        for offset, given in cells.items():
            self.cells[base + offset] = given
        self.lines.extend(lines)
        if again:
            patched = [list(values) for values in columns]
            for j, row in again.items():
                for values, value in zip(patched, row, strict=True):
                    values[j] = value
            columns = list(patched)
        if self.spill is None:
            self.rows.extend(zip(*columns, strict=True))
            return
        for i, kept in self.columns.items():
            kept.extend(columns[i])
        for buffered, column in zip(self.buffer, columns, strict=True):
            buffered.extend(column)
        self.buffered += len(lines)
        while self.buffered >= self.chunk_size:
            self._write(self.chunk_size)

    def column(self, i: int) -> Sequence[str]:
        """The values of column `i` of every row, in row order."""
        if self.spill is None:
            return [row[i] for row in self.rows]
        return self.columns[i]

    def chunks_of(
        self, wanted: Collection[int] | None = None
    ) -> Iterator[tuple[int, list[tuple[str, ...]]]]:
        """Each chunk of rows (all of them, or those numbered in `wanted`) and its first index."""
        if self.spill is None:
            if wanted is None or 0 in wanted:
                yield 0, self.rows
            return
        for number, where in enumerate(self.chunks):
            if wanted is None or number in wanted:
                yield number * self.chunk_size, self.spill.read(where)

    def good_rows(self) -> Iterator[tuple[str, ...]]:
        """The rows without a problem, in file order."""
        return itertools.chain.from_iterable(self._good_chunks())

    def _good_chunks(self) -> Iterator[list[tuple[str, ...]]]:
        bad = self.problems
        size = self.chunk_size
        dirty = {index // size for index in bad}
        for start, rows in self.chunks_of():
            if start // size not in dirty:
                yield rows
            else:
                yield [row for index, row in enumerate(rows, start) if index not in bad]

    def quarantined(self) -> list[QuarantinedRow]:
        """The rows with a problem, in file order, with every problem found."""
        by_chunk: dict[int, list[int]] = {}
        for index in sorted(self.problems):
            by_chunk.setdefault(index // self.chunk_size, []).append(index)
        found: list[QuarantinedRow] = []
        for start, rows in self.chunks_of(by_chunk):
            for index in by_chunk[start // self.chunk_size]:
                found.append(
                    QuarantinedRow(
                        file=self.file.name,
                        line=self.lines[index],
                        kind=self.kind.name,
                        cells=MappingProxyType(self.cells_of(index, rows[index - start])),
                        problems=tuple(self.problems[index]),
                    )
                )
        return found

    def counts(self) -> KindCounts:
        bad = len(self.problems)
        return KindCounts(rows=len(self), good=len(self) - bad, quarantined=bad, empty=self.empty)

    def add(self, index: int, problem: Problem) -> None:
        self.problems.setdefault(index, []).append(problem)

    def path(self, index: int, column: str | None = None) -> str:
        line = self.lines[index]
        return f"{self.file.name}:{line}" + (f":{column}" if column else "")

    def cells_of(self, index: int, row: tuple[str, ...]) -> dict[str, str]:
        override = self.cells.get(index)
        if override is not None:
            return override
        names = self.kind.column_names
        if self.header is not None:
            return {name: row[names.index(name)] for name in self.header}
        return {name: value for name, value in zip(names, row, strict=True) if value}


def _check_header(name: str, kind: RecordKind, record: list[str] | None) -> tuple[str, ...]:
    if not record:
        raise MalformedFileError(
            name,
            1,
            "the header is missing: line 1 must name the columns, e.g."
            f" {','.join(kind.required_names)}",
        )
    header = tuple(cell.strip(_WHITE_SPACE) for cell in record)
    if not any(header):
        raise MalformedFileError(name, 1, "the header is empty: line 1 names no column")
    known = kind.column_names
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if not column:
            raise MalformedFileError(
                name, 1, f"the header's column {position} has no name; remove the empty column"
            )
        if column in seen:
            raise MalformedFileError(name, 1, f"the header repeats the column {column!r}")
        seen.add(column)
        if column not in known:
            raise MalformedFileError(
                name,
                1,
                f"the header has an unknown column {_shown(column)!r}; the columns of"
                f" {kind.name} are {', '.join(known)}",
            )
    missing = [c for c in kind.required_names if c not in seen]
    if missing:
        raise MalformedFileError(
            name, 1, f"the header lacks the required column(s) {', '.join(missing)}"
        )
    return header


_CHECK_ROWS: Final = 1_024
"""Rows of a CSV file checked together, column by column."""


def _read_csv(
    path: Path, kind: RecordKind, scan: textio.FileScan, checker: _Checker, spill: _Spill | None
) -> _Collected:
    chunks = textio.read_csv_chunks(path, scan.encoding, _CHECK_ROWS)
    lines, records = next(chunks, ([], []))
    header = _check_header(path.name, kind, records[0] if records else None)
    file = _register_file(path, kind, "csv", scan)
    collected = _Collected(kind, file, header, spill)
    width = len(header)
    names = kind.column_names
    # positions[i] = where spec column i is in the file, or `width` (an always-empty cell)
    positions = [header.index(n) if n in header else width for n in names]
    if len(records) > 1:
        _check_csv_chunk(collected, checker, records[1:], lines[1:], positions)
    for lines, records in chunks:
        _check_csv_chunk(collected, checker, records, lines, positions)
    collected.flush()
    return collected


def _check_csv_chunk(
    collected: _Collected,
    checker: _Checker,
    chunk: list[list[str]],
    lines: list[int],
    positions: Sequence[int],
) -> None:
    """Check CSV records: column by column when every one has the header's width and a cell
    that is not empty, else record by record."""
    header = collected.header
    assert header is not None
    width = len(header)
    name = collected.file.name
    ws = _WHITE_SPACE
    if len(set(map(len, chunk))) == 1 and len(chunk[0]) == width:
        columns = [_strip_all(column) for column in zip(*chunk, strict=True)]
        first = columns[0]
        if "" not in first or not any(
            not any(column[j] for column in columns) for j, v in enumerate(first) if not v
        ):
            blank = [""] * len(chunk)
            checked, bad, again = checker.check_columns(
                [columns[p] if p < width else blank for p in positions], name, lines
            )
            collected.extend_columns(checked, lines, bad, again, {})
            return
    rows: list[tuple[str, ...]] = []
    kept: list[int] = []
    found: dict[int, list[Problem]] = {}
    raw: dict[int, dict[str, str]] = {}
    for line, cells in zip(lines, chunk, strict=True):
        values = [c.strip(ws) for c in cells]
        if not any(values):
            collected.empty += 1
            continue
        index = len(rows)
        kept.append(line)
        if len(values) != width:
            values.extend([""] * (width + 1 - len(values)))
            rows.append(tuple(values[p] for p in positions))
            checker.note_unchecked(rows[-1])
            raw[index] = _raw_cells(header, cells)
            found[index] = [
                Problem(
                    path=f"{name}:{line}",
                    value="",
                    message=f"the row has {len(cells)} fields but the header has {width}",
                )
            ]
            continue
        values.append("")
        row, problems = checker.check([values[p] for p in positions], name, line)
        rows.append(row)
        if problems:
            found[index] = problems
    collected.extend(rows, kept, found, raw)


_ASCII_WHITE_SPACE: Final = tuple(c for c in _WHITE_SPACE if c.isascii())


def _strip_all(cells: Sequence[str]) -> Sequence[str]:
    """The cells trimmed of white space (the same cells when none has any)."""
    joined = "".join(cells)
    if joined.isascii() and not any(c in joined for c in _ASCII_WHITE_SPACE):
        return cells
    return list(map(str.strip, cells, itertools.repeat(_WHITE_SPACE)))


def _raw_cells(header: tuple[str, ...], cells: list[str]) -> dict[str, str]:
    result = {column: cell.strip(_WHITE_SPACE) for column, cell in zip(header, cells, strict=False)}
    for extra, cell in enumerate(cells[len(header) :], start=1):
        result[f"_extra_{extra}"] = cell.strip(_WHITE_SPACE)
    return result


def _read_jsonl(
    path: Path, kind: RecordKind, scan: textio.FileScan, checker: _Checker, spill: _Spill | None
) -> _Collected:
    file = _register_file(path, kind, "jsonl", scan)
    collected = _Collected(kind, file, None, spill)
    names = kind.column_names
    known = set(names)
    name = path.name
    ws = _WHITE_SPACE
    chunk: list[list[str]] = []
    lines: list[int] = []
    special: dict[int, tuple[list[Problem], dict[str, Any]]] = {}
    for line, record in textio.read_jsonl(path, scan.encoding):
        if not record.keys() <= known:
            unknown = next(key for key in record if key not in known)
            raise MalformedFileError(
                name,
                line,
                f"the object holds an unknown key {_shown(unknown)!r}; the keys of"
                f" {kind.name} are {', '.join(names)}",
            )
        given = list(map(record.get, names))
        wrong: list[Problem] = []
        try:
            values = [v.strip(ws) if v is not None else "" for v in given]
        except AttributeError:  # a value that is not text: a number, true/false, list, object
            values = []
            for column, value in zip(names, given, strict=True):
                if value is None:
                    values.append("")
                elif isinstance(value, str):
                    values.append(value.strip(ws))
                else:
                    values.append("")
                    shown = json.dumps(value, ensure_ascii=False)
                    wrong.append(
                        Problem(
                            path=f"{name}:{line}:{column}",
                            value=_shown(shown),
                            message=f"a JSON {_json_type(value)} where text or null is"
                            ' expected; write every value as a string, e.g. "01" (codes keep'
                            " their leading zeros)",
                        )
                    )
        if not wrong and not any(values):
            collected.empty += 1
            continue
        if wrong:
            special[len(chunk)] = (wrong, record)
        chunk.append(values)
        lines.append(line)
        if len(chunk) == _CHECK_ROWS:
            _check_jsonl_chunk(collected, checker, chunk, lines, special)
            chunk, lines, special = [], [], {}
    if chunk:
        _check_jsonl_chunk(collected, checker, chunk, lines, special)
    collected.flush()
    return collected


def _check_jsonl_chunk(
    collected: _Collected,
    checker: _Checker,
    chunk: list[list[str]],
    lines: list[int],
    special: Mapping[int, tuple[list[Problem], dict[str, Any]]],
) -> None:
    """Check JSON Lines records (trimmed, in spec order, none empty): column by column unless
    one gave a value that is not text (`special`: its problems and the object), else one by one.
    """
    name = collected.file.name
    if not special:
        checked, bad, again = checker.check_columns(list(zip(*chunk, strict=True)), name, lines)
        collected.extend_columns(checked, lines, bad, again, {})
        return
    rows: list[tuple[str, ...]] = []
    found: dict[int, list[Problem]] = {}
    cells: dict[int, dict[str, str]] = {}
    for offset, (values, line) in enumerate(zip(chunk, lines, strict=True)):
        row, problems = checker.check(values, name, line)
        given = special.get(offset)
        if given is not None:
            wrong, record = given
            # a cell given as a non-string is reported once, not also as "required but empty"
            wrong_paths = {p.path for p in wrong}
            problems = wrong + [p for p in problems or () if p.path not in wrong_paths]
            cells[offset] = {
                key: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                for key, v in record.items()
                if v is not None
            }
        rows.append(row)
        if problems:
            found[offset] = problems
    collected.extend(rows, lines, found, cells)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object"


def _register_file(path: Path, kind: RecordKind, fmt: str, scan: textio.FileScan) -> RegisterFile:
    return RegisterFile(
        name=path.name,
        kind=kind.name,
        format=fmt,
        encoding=scan.encoding,
        size=scan.size,
        sha256=scan.sha256,
    )


# ------------------------------------------------------------------------------------------
# Checks across rows and files
# ------------------------------------------------------------------------------------------


def _lines_text(collected: _Collected, indexes: Sequence[int]) -> str:
    shown = ", ".join(str(collected.lines[i]) for i in indexes[:_SHOWN_LINES])
    return shown + (
        f" and {len(indexes) - _SHOWN_LINES} more" if len(indexes) > _SHOWN_LINES else ""
    )


class _FirstRows(Mapping[Any, int]):
    """Key → the index of its row, for keys that do not repeat; made when first asked."""

    def __init__(self, keys: Sequence[Any]) -> None:
        self._keys = keys
        self._index: dict[Any, int] | None = None

    def _made(self) -> dict[Any, int]:
        if self._index is None:
            index = dict(zip(self._keys, range(len(self._keys)), strict=True))
            index.pop("", None)
            index.pop(None, None)
            self._index = index
        return self._index

    def __getitem__(self, key: Any) -> int:
        return self._made()[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._made())

    def __len__(self) -> int:
        return len(self._made())


def _duplicates(
    collected: _Collected, keys: Sequence[Any], column: str, what: str
) -> Mapping[Any, int]:
    """Mark every row whose key repeats; return the key → index map of the first rows.

    An empty key (``""`` or None) is no key.
    """
    distinct = set(keys)
    empty = 0
    for nothing in ("", None):
        if nothing in distinct:
            distinct.discard(nothing)
            empty += keys.count(nothing)
    if len(distinct) == len(keys) - empty:
        return _FirstRows(keys)
    del distinct
    # reversed, so that the first index of a key is the one that stays
    first: dict[Any, int] = dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))
    first.pop("", None)
    first.pop(None, None)
    repeated: dict[Any, list[int]] = {}
    for index, value in enumerate(keys):
        if value and first[value] != index:
            repeated.setdefault(value, [first[value]]).append(index)
    for value, indexes in repeated.items():
        for index in indexes:
            shown = value if isinstance(value, str) else value[0]
            collected.add(
                index,
                Problem(
                    path=collected.path(index, column),
                    value=shown,
                    message=f"{what} appears on more than one row (lines"
                    f" {_lines_text(collected, indexes)}); all of them are set aside, since"
                    " there is no telling which is right",
                ),
            )
    return first


def _ask(ids: set[str], callback: KnownIds | None) -> set[str]:
    if callback is None or not ids:
        return set()
    known: set[str] = set()
    ordered = sorted(ids)
    for start in range(0, len(ordered), _BATCH):
        batch = ordered[start : start + _BATCH]
        known.update(set(callback(batch)).intersection(batch))
    return known


def _bad_keys(table: _Collected, keys: Sequence[str], first: Mapping[str, int]) -> set[str]:
    """The keys whose first row is bad (so that naming them is a problem)."""
    bad = table.problems
    return {key for index in bad if (key := keys[index]) and first[key] in bad}


class _People:
    """Answers whether a person id may be referred to."""

    def __init__(
        self, persons: _Collected, ids: Sequence[str], first: Mapping[Any, int], known: set[str]
    ) -> None:
        self.persons = persons
        self.ids = ids
        self.first = first
        self.known = known

    def problem(self, person_id: str, column: str) -> str | None:
        index = self.first.get(person_id)
        if index is None:
            if person_id in self.known:
                return None
            return (
                f"{column} names the person {_shown(person_id)!r}, who is neither in"
                f" {self.persons.file.name} nor already stored"
            )
        if index in self.persons.problems:
            return (
                f"{column} names the person {_shown(person_id)!r}, whose own row is bad"
                f" ({self.persons.path(index)})"
            )
        return None

    def named_badly(self, outside: set[str]) -> set[str]:
        """Every person id among those in the folder and `outside` it that `problem` refuses."""
        return _bad_keys(self.persons, self.ids, self.first) | (outside - self.known)


def _cross_check(
    collected: dict[str, _Collected],
    shared: _Shared,
    known_person_ids: KnownIds | None,
    known_household_ids: KnownIds | None,
) -> None:
    """The checks across rows and files, on the columns `_kept_columns` names.

    The common case, where nothing is wrong, is found with set operations; only the rows
    that name something bad are looked at one by one.
    """
    persons = collected["persons"]
    person_ids = persons.column(_P_ID)
    person_first = _duplicates(persons, person_ids, "person_id", "this person_id")
    _duplicates(persons, persons.column(_P_CID), "citizen_id", "this citizen_id")
    households = collected.get("households")
    household_first: Mapping[Any, int] = {}
    if households is not None:
        household_first = _duplicates(
            households, households.column(_H_ID), "household_id", "this household_id"
        )
    certificates = collected.get("certificates")
    if certificates is not None:
        _duplicates(
            certificates,
            [
                (c, h) if c and h else None
                for c, h in zip(
                    certificates.column(_C_ID), certificates.column(_C_HOLDER), strict=True
                )
            ],
            "certificate_id",
            "this certificate with this holder",
        )

    # Ask the store once about every person named but not in the folder (`person_named`
    # noted them while the files were read).
    references: list[tuple[_Collected, int, str, Sequence[str]]] = []
    for table in collected.values():
        for i, spec in enumerate(table.kind.columns):
            if spec.refers_to == "persons":
                references.append((table, i, spec.name, table.column(i)))
    outside = shared.outside.difference(shared.people)
    people = _People(persons, person_ids, person_first, _ask(outside, known_person_ids))

    if households is not None:
        _households_and_members(
            persons, households, people, outside, household_first, known_household_ids
        )

    named_badly = people.named_badly(outside)
    for table, i, column, values in references:
        if table is households and i == _H_HEAD:
            continue
        if named_badly.isdisjoint(values):
            continue
        for index, value in enumerate(values):
            if value in named_badly:
                message = people.problem(value, column)
                if message is not None:
                    table.add(
                        index, Problem(path=table.path(index, column), value=value, message=message)
                    )


def _households_and_members(
    persons: _Collected,
    households: _Collected,
    people: _People,
    outside: set[str],
    household_first: Mapping[Any, int],
    known_household_ids: KnownIds | None,
) -> None:
    """Persons and households refer to each other: repeat until no new row turns bad.

    A household is bad when its head is a person who may not be named; a person is bad when
    the household named is neither in the file (nor stored) nor good. Each row gets at most
    one such problem, and its text does not depend on the order rows turn bad in.
    """
    person_households = persons.column(_P_HOUSEHOLD)
    household_ids = households.column(_H_ID)
    heads = households.column(_H_HEAD)
    missing = set(person_households).difference(household_ids)
    missing.discard("")
    unknown_households = missing - _ask(missing, known_household_ids)
    head_done: set[int] = set()
    member_done: set[int] = set()
    while True:
        changed = False
        bad_people = people.named_badly(outside)
        if not bad_people.isdisjoint(heads):
            for index, head in enumerate(heads):
                if head not in bad_people or index in head_done:
                    continue
                message = people.problem(head, "head_person_id")
                if message is not None:
                    head_done.add(index)
                    changed |= index not in households.problems
                    households.add(
                        index,
                        Problem(
                            path=households.path(index, "head_person_id"),
                            value=head,
                            message=message,
                        ),
                    )
        bad_households = unknown_households | _bad_keys(households, household_ids, household_first)
        if not bad_households.isdisjoint(person_households):
            for index, household in enumerate(person_households):
                if household not in bad_households or index in member_done:
                    continue
                where = household_first.get(household)
                if where is None:
                    message = (
                        f"household_id names the household {_shown(household)!r}, which is"
                        f" not in {households.file.name}"
                    )
                else:
                    message = (
                        f"household_id names the household {_shown(household)!r}, whose own"
                        f" row is bad ({households.path(where)})"
                    )
                member_done.add(index)
                changed |= index not in persons.problems
                persons.add(
                    index,
                    Problem(
                        path=persons.path(index, "household_id"), value=household, message=message
                    ),
                )
        if not changed:
            break


def _default_division_check(code: str) -> str | None:
    for finding in DivisionCode(code).check_known():
        if finding.severity == "warning":
            return finding.message
    return None


# ------------------------------------------------------------------------------------------
# The entry points
# ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a register is read.

    Reading makes millions of lists and tuples that live for a chunk, and no reference
    cycles; left running, the collector would sweep every object kept so far again and again
    (a third of the reading time for a million persons). It is switched back on after.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _check_folder(
    folder: Path,
    *,
    today: date,
    encoding: str | None,
    known_person_ids: KnownIds | None,
    known_household_ids: KnownIds | None,
    check_division: DivisionCheck | None,
    spill: _Spill | None,
) -> tuple[dict[str, _Collected], list[Problem]]:
    """Read every file, check every row and the rows against each other; return the warnings."""
    if encoding is not None:
        textio.normalise_encoding(encoding)
    paths = find_register_files(folder)
    shared = _Shared(today)
    collected: dict[str, _Collected] = {}
    with _collector_paused():
        for kind_name, path in paths.items():
            kind = KIND_BY_NAME[kind_name]
            # GB18030 is verified while the file is parsed: one pass less over the bytes
            scan = textio.scan_file(path, encoding=encoding, verify=False)
            checker = _Checker(kind, shared, hold=spill is None)
            read = _read_csv if path.suffix.lower() == ".csv" else _read_jsonl
            collected[kind_name] = read(path, kind, scan, checker, spill)
        _cross_check(collected, shared, known_person_ids, known_household_ids)
    for table in collected.values():
        table.columns = {}  # what the checks across files needed

    warn = check_division or _default_division_check
    warnings: list[Problem] = []
    for code, where in shared.division_first.items():
        message = warn(code)
        if message is not None:
            count = shared.division_count[code]
            warnings.append(
                Problem(
                    path=where,
                    value=code,
                    message=f"{message} (accepted with a warning; {count} row(s) use this code)",
                )
            )
    return collected, warnings


def read_register(
    folder: Path,
    *,
    today: date,
    encoding: str | None = None,
    known_person_ids: KnownIds | None = None,
    known_household_ids: KnownIds | None = None,
    check_division: DivisionCheck | None = None,
) -> RegisterReading:
    """Read and check a register folder, as spec ``register-format.md`` says.

    Every file is read whole before anything is returned: a malformed file raises, and the
    caller then stores nothing. Bad rows never stop the good ones.

    Args:
        folder: the register folder.
        today: the date of the import run; births and deaths after it are bad rows.
        encoding: the encoding of every file (``utf-8``, ``utf-8-sig``, ``gb18030``); by
            default each file is decoded as UTF-8 (with or without BOM), then as GB18030.
        known_person_ids: answers which of a batch of person ids the store already holds, so
            that a monthly update may refer to persons it does not carry. Without it, only
            persons in the folder exist.
        known_household_ids: the same for households, asked only when the folder has a
            households file (a person's household must then be in it or already stored).
        check_division: gives a warning text for a 12-digit division code of the right form
            that is not known; by default the shipped division table is asked
            (`famplan_core.model.identity.DivisionCode.check_known`).

    Returns:
        The good rows, the quarantined rows with every reason, warnings and counts.

    Raises:
        MalformedFileError: a file cannot be read as the format (unknown or doubled file,
            undecodable bytes, broken CSV quoting, a bad header, a JSON Lines line that is not
            one object or has an unknown key); the message names the file and the line.
        ExchangeError: the folder does not exist, or the encoding given is not allowed.
    """
    collected, warnings = _check_folder(
        folder,
        today=today,
        encoding=encoding,
        known_person_ids=known_person_ids,
        known_household_ids=known_household_ids,
        check_division=check_division,
        spill=None,
    )
    counts = {kind_name: table.counts() for kind_name, table in collected.items()}
    tables: dict[str, RegisterTable] = {}
    quarantine: list[QuarantinedRow] = []
    for kind_name, table in collected.items():
        bad = table.problems
        if bad:
            good_rows = list(table.good_rows())
            good_lines = array("I", (ln for i, ln in enumerate(table.lines) if i not in bad))
        else:
            good_rows, good_lines = table.rows, table.lines
        quarantine.extend(table.quarantined())
        tables[kind_name] = RegisterTable(
            kind=kind_name,
            file=table.file.name,
            columns=table.kind.column_names,
            rows=good_rows,
            lines=good_lines,
        )
        table.rows = []  # let the full list go as soon as the good rows are copied
    return RegisterReading(
        today=today,
        files=tuple(t.file for t in collected.values()),
        tables=MappingProxyType(tables),
        quarantine=tuple(quarantine),
        warnings=tuple(warnings),
        counts=MappingProxyType(counts),
    )


class RegisterStream:
    """A register folder read and checked by `stream_register`, its rows set aside on disk.

    It answers as a `RegisterReading` does, but holds no rows in memory: `rows` reads a kind's
    good rows back from a temporary file, chunk by chunk, each time it is called. Close it (or
    use it as a context manager) to delete that file.

    Attributes:
        today: the import date the checks used.
        files: every file read, with its size and SHA-256.
        warnings: things accepted but worth a look, as in `RegisterReading`.
        counts: the row counts of each kind present.
    """

    def __init__(
        self,
        *,
        today: date,
        collected: dict[str, _Collected],
        warnings: Sequence[Problem],
        spill: _Spill,
    ) -> None:
        self.today = today
        self.files = tuple(t.file for t in collected.values())
        self.warnings = tuple(warnings)
        self.counts: Mapping[str, KindCounts] = MappingProxyType(
            {k: t.counts() for k, t in collected.items()}
        )
        self._collected = collected
        self._spill = spill
        self._quarantine: tuple[QuarantinedRow, ...] | None = None

    def rows(self, kind: str) -> Iterator[tuple[str, ...]]:
        """The good rows of a kind (none when its file is absent), in spec column order.

        Args:
            kind: the record kind, e.g. ``persons``.

        Raises:
            KeyError: there is no such kind in the register format.
        """
        if kind not in KIND_BY_NAME:
            raise KeyError(f"no record kind {kind!r}; the kinds are {', '.join(KIND_BY_NAME)}")
        table = self._collected.get(kind)
        return iter(()) if table is None else table.good_rows()

    def bad_rows(self, kind: str) -> frozenset[int]:
        """The numbers of a kind's bad rows, counted from 0 in file order (as for `on_rows`).

        Args:
            kind: the record kind (none when its file is absent).
        """
        table = self._collected.get(kind)
        return frozenset(table.problems) if table is not None else frozenset()

    def has(self, kind: str) -> bool:
        """Whether the folder held a file of this kind (even with no good rows).

        Args:
            kind: the record kind.
        """
        return kind in self._collected

    @property
    def quarantine(self) -> tuple[QuarantinedRow, ...]:
        """Every bad row with every reason, in file and line order (read back once)."""
        if self._quarantine is None:
            found: list[QuarantinedRow] = []
            for table in self._collected.values():
                found.extend(table.quarantined())
            self._quarantine = tuple(found)
        return self._quarantine

    @property
    def good(self) -> int:
        """The number of good rows, all kinds together."""
        return sum(c.good for c in self.counts.values())

    def close(self) -> None:
        """Delete the rows set aside; `rows` and `quarantine` may not be asked after."""
        self._spill.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def stream_register(
    folder: Path,
    *,
    today: date,
    encoding: str | None = None,
    known_person_ids: KnownIds | None = None,
    known_household_ids: KnownIds | None = None,
    check_division: DivisionCheck | None = None,
    on_rows: RowsChecked | None = None,
) -> RegisterStream:
    """Read and check a register folder as `read_register` does, without holding its rows.

    Every file is read and every check made before this returns, with the same results as
    `read_register` (a malformed file raises; bad rows are found with every reason). The
    checked rows are set aside in a temporary file as they are read, and only the identifiers
    the checks across files need are kept in memory meanwhile; the `RegisterStream` returned
    reads the good rows back kind by kind. Close it when done.

    Args:
        folder: the register folder.
        today: the date of the import run; births and deaths after it are bad rows.
        encoding: the encoding of every file, as for `read_register`.
        known_person_ids: as for `read_register`.
        known_household_ids: as for `read_register`.
        check_division: as for `read_register`.
        on_rows: called with each chunk of rows as it is set aside, before the checks
            across rows and files: the kind, the number of the chunk's first row (rows are
            numbered from 0 in file order), its cells column by column (normalised, spec
            order), and the numbers of its rows already found bad. Rows that are good then
            may still be set aside in the end: `RegisterStream.bad_rows` gives the final
            numbers. A first load stores rows this way while the rest is being checked.

    Raises:
        MalformedFileError: as `read_register`.
        ExchangeError: as `read_register`.
    """
    spill = _Spill(on_rows)
    try:
        collected, warnings = _check_folder(
            folder,
            today=today,
            encoding=encoding,
            known_person_ids=known_person_ids,
            known_household_ids=known_household_ids,
            check_division=check_division,
            spill=spill,
        )
    except BaseException:
        spill.close()
        raise
    return RegisterStream(today=today, collected=collected, warnings=warnings, spill=spill)


def write_register(
    folder: Path,
    rows_by_kind: Mapping[str, Iterable[Sequence[str]]],
    *,
    fmt: str = "csv",
    encoding: str = "utf-8",
) -> tuple[RegisterFile, ...]:
    """Write a register folder: one file per kind given, every column in spec order.

    Values are written exactly as given (no formula neutralising: this is an exchange file,
    not a report), so that `read_register` gives the same rows back. The files appear
    together at the end; if one cannot be written, none is.

    Args:
        folder: the folder to write into (made if missing).
        rows_by_kind: for each kind, its rows, each with one text value per spec column
            (``""`` for empty); a `RegisterTable` will do.
        fmt: ``csv`` or ``jsonl``.
        encoding: ``utf-8``, ``utf-8-sig`` (for spreadsheets), ``gb18030`` (GB 18030-2022
            mapping) or ``gbk``.

    Returns:
        The files written, with their sizes and SHA-256.

    Raises:
        ExchangeError: an unknown kind or format, a row of the wrong width, a character the
            encoding cannot hold, or a file of the same kind already in the folder under
            another name.
    """
    if fmt not in FORMATS:
        raise ExchangeError(f"unknown register format {fmt!r}; use csv or jsonl")
    encoding = textio.normalise_encoding(encoding, for_writing=True)
    unknown = [k for k in rows_by_kind if k not in KIND_BY_NAME]
    if unknown:
        raise ExchangeError(
            f"unknown record kind {unknown[0]!r}; the kinds are {', '.join(KIND_BY_NAME)}"
        )
    private_folder(folder)
    for kind_name in rows_by_kind:
        refuse_symlink(folder / f"{kind_name}.{fmt}")
    for entry in folder.iterdir():
        stem, _, extension = entry.name.rpartition(".")
        target = f"{stem.lower()}.{fmt}"
        if (
            stem.lower() in rows_by_kind
            and extension.lower() in FORMATS
            and entry.name != target
            and not entry.name.startswith(("~$", "."))
        ):
            raise ExchangeError(
                f"{entry.name} is already in the folder and holds {stem.lower()}; remove it"
                f" before writing {target}"
            )
    writer = textio.write_csv if fmt == "csv" else textio.write_jsonl
    written: list[tuple[Path, Path, str]] = []
    try:
        for kind in KINDS:
            if kind.name not in rows_by_kind:
                continue
            final = folder / f"{kind.name}.{fmt}"
            staged = folder / f".{kind.name}.{fmt}.staged"
            writer(staged, kind.column_names, rows_by_kind[kind.name], encoding=encoding)
            written.append((staged, final, kind.name))
        files: list[RegisterFile] = []
        for staged, final, kind_name in written:
            refuse_symlink(final)
            os.replace(staged, final)
            hasher = hashlib.sha256()
            with final.open("rb") as f:
                while chunk := f.read(1 << 20):
                    hasher.update(chunk)
            files.append(
                RegisterFile(
                    name=final.name,
                    kind=kind_name,
                    format=fmt,
                    encoding=encoding,
                    size=final.stat().st_size,
                    sha256=hasher.hexdigest(),
                )
            )
        return tuple(files)
    finally:
        for staged, _, _ in written:
            if staged.exists():
                staged.unlink()
