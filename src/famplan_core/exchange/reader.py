"""Reading a register folder (登记册导入) and writing one back (导出).

`read_register` finds a folder's files, refuses the whole register when one file is malformed,
and checks every row against the register format (`famplan_core.exchange.register_format`)
and against the other files. It returns a `RegisterReading`: the good rows of each kind as
normalised text, every bad row with every reason found, and warnings. Nothing is stored here:
the caller stores the good rows in one transaction and the bad ones in quarantine.

Rows are kept as tuples of text in spec column order (``""`` for empty), not as objects, so
that a register of a million persons fits in memory; `RegisterTable.chunks` hands them on in
slices.

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

import hashlib
import json
import os
import re
import unicodedata
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import date
from operator import mul
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import attrs

from famplan_core.errors import ExchangeError, MalformedFileError, Problem, ValidationError
from famplan_core.exchange import textio
from famplan_core.exchange.register_format import (
    FORMATS,
    KIND_BY_NAME,
    KINDS,
    MAX_TEXT_LENGTH,
    CellRule,
    RecordKind,
)
from famplan_core.model.identity import CitizenId, DivisionCode

__all__ = [
    "DivisionCheck",
    "KindCounts",
    "KnownIds",
    "QuarantinedRow",
    "RegisterFile",
    "RegisterReading",
    "RegisterTable",
    "find_register_files",
    "read_register",
    "write_register",
]

KnownIds = Callable[[list[str]], Collection[str]]
"""Given a batch of identifiers, answer which of them the store already holds."""

DivisionCheck = Callable[[str], "str | None"]
"""Given a 12-digit division code of the right form, a warning text when it is not known."""

_BATCH: Final = 10_000
_SHOWN_LINES: Final = 10


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
_ID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_OFFSET: Final = 48 * sum(_ID_WEIGHTS)  # the weighted sum of the ASCII code of "0"
_ID_CHECK: Final = "10X98765432"
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

    def citizen_id_problems(self, value: str) -> list[str]:
        messages = [f.message for f in CitizenId.check(value, today=self.today).errors]
        return messages or ["not a valid 18-character resident ID number (GB 11643)"]


class _Checker:
    """Checks and normalises the cells of one kind's rows."""

    def __init__(self, kind: RecordKind, shared: _Shared) -> None:
        self.kind = kind
        self.shared = shared
        columns = list(enumerate(kind.columns))
        self.required = [(i, c.name) for i, c in columns if c.required]
        self.texts = [
            (i, c.name, c.refers_to is not None or (kind.name, c.name) in _SHARED_TEXT)
            for i, c in columns
            if c.rule is CellRule.TEXT
        ]
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
        self, values: list[str], file: str, line: int
    ) -> tuple[tuple[str, ...], list[Problem] | None]:
        """Check one row given in spec order (trimmed); return it normalised and its problems."""
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
            if share:
                value = values[i] = shared_text.setdefault(value, value)
            if len(value) > MAX_TEXT_LENGTH:
                found.append(
                    (
                        name,
                        _shown(value),
                        f"text longer than {MAX_TEXT_LENGTH} characters ({len(value)})",
                    )
                )
            elif not value.isprintable():
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
            count = counts.get(canonical)
            if count is None:
                shared.division_first[canonical] = f"{file}:{line}:{name}"
                counts[canonical] = 1
            else:
                counts[canonical] = count + 1
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


_NOTHING: Final[frozenset[str]] = frozenset()
_Found = list[tuple[str, str, str]]


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


class _Collected:
    """Every row of one file, good and bad, while the register is being checked."""

    def __init__(self, kind: RecordKind, file: RegisterFile, header: tuple[str, ...] | None):
        self.kind = kind
        self.file = file
        self.header = header
        self.rows: list[tuple[str, ...]] = []
        self.lines = array("I")
        self.problems: dict[int, list[Problem]] = {}
        self.cells: dict[int, dict[str, str]] = {}
        self.empty = 0

    def add(self, index: int, problem: Problem) -> None:
        self.problems.setdefault(index, []).append(problem)

    def path(self, index: int, column: str | None = None) -> str:
        line = self.lines[index]
        return f"{self.file.name}:{line}" + (f":{column}" if column else "")

    def cells_of(self, index: int) -> dict[str, str]:
        override = self.cells.get(index)
        if override is not None:
            return override
        row = self.rows[index]
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


def _read_csv(path: Path, kind: RecordKind, scan: textio.FileScan, checker: _Checker) -> _Collected:
    records = textio.read_csv(path, scan.encoding)
    first = next(records, None)
    header = _check_header(path.name, kind, None if first is None else first[1])
    file = _register_file(path, kind, "csv", scan)
    collected = _Collected(kind, file, header)
    width = len(header)
    names = kind.column_names
    # positions[i] = where spec column i is in the file, or `width` (an always-empty cell)
    positions = [header.index(n) if n in header else width for n in names]
    strip = str.strip
    ws = _WHITE_SPACE
    rows = collected.rows
    lines = collected.lines
    check = checker.check
    name = path.name
    for line, cells in records:
        values = [strip(c, ws) for c in cells]
        if not any(values):
            collected.empty += 1
            continue
        index = len(rows)
        lines.append(line)
        if len(values) != width:
            values.extend([""] * (width + 1 - len(values)))
            row = tuple(values[p] for p in positions)
            rows.append(row)
            collected.cells[index] = _raw_cells(header, cells)
            collected.add(
                index,
                Problem(
                    path=f"{name}:{line}",
                    value="",
                    message=f"the row has {len(cells)} fields but the header has {width}",
                ),
            )
            continue
        values.append("")
        row, problems = check([values[p] for p in positions], name, line)
        rows.append(row)
        if problems:
            collected.problems[index] = problems
    return collected


def _raw_cells(header: tuple[str, ...], cells: list[str]) -> dict[str, str]:
    result = {column: cell.strip(_WHITE_SPACE) for column, cell in zip(header, cells, strict=False)}
    for extra, cell in enumerate(cells[len(header) :], start=1):
        result[f"_extra_{extra}"] = cell.strip(_WHITE_SPACE)
    return result


def _read_jsonl(
    path: Path, kind: RecordKind, scan: textio.FileScan, checker: _Checker
) -> _Collected:
    file = _register_file(path, kind, "jsonl", scan)
    collected = _Collected(kind, file, None)
    names = kind.column_names
    known = set(names)
    name = path.name
    ws = _WHITE_SPACE
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
        index = len(collected.rows)
        collected.lines.append(line)
        row, problems = checker.check(values, name, line)
        if wrong:
            # a cell given as a non-string is reported once, not also as "required but empty"
            wrong_paths = {p.path for p in wrong}
            problems = wrong + [p for p in problems or () if p.path not in wrong_paths]
            collected.cells[index] = {
                key: (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))
                for key, v in record.items()
                if v is not None
            }
        collected.rows.append(row)
        if problems:
            collected.problems[index] = problems
    return collected


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


def _duplicates(
    collected: _Collected, key: Callable[[tuple[str, ...]], Any], column: str, what: str
) -> dict[Any, int]:
    """Mark every row whose key repeats; return the key → index map of the first rows."""
    first: dict[Any, int] = {}
    repeated: dict[Any, list[int]] = {}
    for index, row in enumerate(collected.rows):
        value = key(row)
        if not value:
            continue
        seen = first.setdefault(value, index)
        if seen != index:
            repeated.setdefault(value, [seen]).append(index)
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


class _People:
    """Answers whether a person id may be referred to."""

    def __init__(self, persons: _Collected, first: dict[Any, int], known: set[str]) -> None:
        self.persons = persons
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


def _cross_check(
    collected: dict[str, _Collected],
    known_person_ids: KnownIds | None,
    known_household_ids: KnownIds | None,
) -> None:
    persons = collected["persons"]
    person_first = _duplicates(persons, lambda r: r[_P_ID], "person_id", "this person_id")
    _duplicates(persons, lambda r: r[_P_CID], "citizen_id", "this citizen_id")
    households = collected.get("households")
    household_first: dict[Any, int] = {}
    if households is not None:
        household_first = _duplicates(
            households, lambda r: r[_H_ID], "household_id", "this household_id"
        )
    certificates = collected.get("certificates")
    if certificates is not None:
        _duplicates(
            certificates,
            lambda r: (r[_C_ID], r[_C_HOLDER]) if r[_C_ID] and r[_C_HOLDER] else None,
            "certificate_id",
            "this certificate with this holder",
        )

    # Ask the store once about every person named but not in the folder.
    references: list[tuple[_Collected, int, str]] = []
    for table in collected.values():
        for i, spec in enumerate(table.kind.columns):
            if spec.refers_to == "persons":
                references.append((table, i, spec.name))
    outside: set[str] = set()
    for table, i, _ in references:
        for row in table.rows:
            value = row[i]
            if value and value not in person_first:
                outside.add(value)
    people = _People(persons, person_first, _ask(outside, known_person_ids))

    known_households: set[str] = set()
    if households is not None:
        missing = {
            row[_P_HOUSEHOLD]
            for row in persons.rows
            if row[_P_HOUSEHOLD] and row[_P_HOUSEHOLD] not in household_first
        }
        known_households = _ask(missing, known_household_ids)

        # Persons and households refer to each other: repeat until no new row turns bad.
        head_done: set[int] = set()
        member_done: set[int] = set()
        while True:
            changed = False
            for index, row in enumerate(households.rows):
                head = row[_H_HEAD]
                if not head or index in head_done:
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
            for index, row in enumerate(persons.rows):
                household = row[_P_HOUSEHOLD]
                if not household or index in member_done:
                    continue
                where = household_first.get(household)
                if where is None:
                    if household in known_households:
                        continue
                    message = (
                        f"household_id names the household {_shown(household)!r}, which is"
                        f" not in {households.file.name}"
                    )
                elif where in households.problems:
                    message = (
                        f"household_id names the household {_shown(household)!r}, whose own"
                        f" row is bad ({households.path(where)})"
                    )
                else:
                    continue
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

    for table, i, column in references:
        if table is households and i == _H_HEAD:
            continue
        for index, row in enumerate(table.rows):
            value = row[i]
            if value:
                message = people.problem(value, column)
                if message is not None:
                    table.add(
                        index, Problem(path=table.path(index, column), value=value, message=message)
                    )


def _default_division_check(code: str) -> str | None:
    for finding in DivisionCode(code).check_known():
        if finding.severity == "warning":
            return finding.message
    return None


# ------------------------------------------------------------------------------------------
# The entry points
# ------------------------------------------------------------------------------------------


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
    if encoding is not None:
        textio.normalise_encoding(encoding)
    paths = find_register_files(folder)
    shared = _Shared(today)
    collected: dict[str, _Collected] = {}
    for kind_name, path in paths.items():
        kind = KIND_BY_NAME[kind_name]
        # GB18030 is verified while the file is parsed: one pass less over the bytes
        scan = textio.scan_file(path, encoding=encoding, verify=False)
        checker = _Checker(kind, shared)
        if path.suffix.lower() == ".csv":
            collected[kind_name] = _read_csv(path, kind, scan, checker)
        else:
            collected[kind_name] = _read_jsonl(path, kind, scan, checker)
    _cross_check(collected, known_person_ids, known_household_ids)

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

    tables: dict[str, RegisterTable] = {}
    quarantine: list[QuarantinedRow] = []
    counts: dict[str, KindCounts] = {}
    files: list[RegisterFile] = []
    for kind_name, table in collected.items():
        files.append(table.file)
        bad = table.problems
        if bad:
            good_rows = [row for i, row in enumerate(table.rows) if i not in bad]
            good_lines = array("I", (ln for i, ln in enumerate(table.lines) if i not in bad))
        else:
            good_rows, good_lines = table.rows, table.lines
        for index in sorted(bad):
            quarantine.append(
                QuarantinedRow(
                    file=table.file.name,
                    line=table.lines[index],
                    kind=kind_name,
                    cells=MappingProxyType(table.cells_of(index)),
                    problems=tuple(bad[index]),
                )
            )
        tables[kind_name] = RegisterTable(
            kind=kind_name,
            file=table.file.name,
            columns=table.kind.column_names,
            rows=good_rows,
            lines=good_lines,
        )
        counts[kind_name] = KindCounts(
            rows=len(table.rows), good=len(good_rows), quarantined=len(bad), empty=table.empty
        )
        table.rows = []  # let the full list go as soon as the good rows are copied
    return RegisterReading(
        today=today,
        files=tuple(files),
        tables=MappingProxyType(tables),
        quarantine=tuple(quarantine),
        warnings=tuple(warnings),
        counts=MappingProxyType(counts),
    )


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
    folder.mkdir(parents=True, exist_ok=True)
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
