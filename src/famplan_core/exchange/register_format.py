"""The register file format (登记册文件格式), spec v1, as data.

A register is a folder with one file per record kind, each CSV (``NAME.csv``) or JSON Lines
(``NAME.jsonl``). This module says which kinds exist, their columns in spec order, which
columns are required, and the rule each cell follows; `famplan_core.exchange.reader` applies
them and `famplan_core.exchange.reader.write_register` writes columns in this order.

The code tables come from `famplan_core.model.codes` (GB/T 2261.1, GB/T 2261.2, GB 3304,
GB/T 4761 and the format's own words such as ``rural``/``urban``), plus the disability grades
``1``-``4``, so there is one list of codes in the library.

Example:
    >>> KIND_BY_NAME["persons"].required_names[:3]
    ('person_id', 'name', 'sex')
    >>> "01" in ETHNICITY.codes
    True
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

import attrs

from famplan_core.model import codes

__all__ = [
    "CERTIFICATE_KIND",
    "DISABILITY_CATEGORY",
    "DISABILITY_GRADE",
    "ETHNICITY",
    "FORMATS",
    "HUKOU_TYPE",
    "KINDS",
    "KIND_BY_NAME",
    "LINK_KIND",
    "MARITAL_STATUS",
    "MAX_TEXT_LENGTH",
    "RELATION_TO_HEAD",
    "SEX",
    "UNION_END_REASON",
    "CellRule",
    "CodeTable",
    "Column",
    "RecordKind",
]

MAX_TEXT_LENGTH = 200
"""The longest text a cell may hold, in characters (code points)."""

FORMATS = ("csv", "jsonl")
"""The file formats of a register, as file name extensions without the dot."""


class CellRule(enum.Enum):
    """What a cell must hold.

    Every non-empty cell is first trimmed of surrounding white space.
    """

    TEXT = "text"
    """Free text or an identifier: NFC, at most `MAX_TEXT_LENGTH` characters, no control
    character and no bidirectional control (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
    U+061C)."""
    CITIZEN_ID = "citizen_id"
    """An 18-character resident ID (GB 11643): 17 ASCII digits and a MOD 11-2 check character
    (``0``-``9`` or ``X``, a lower-case ``x`` is stored as ``X``) with a real birth date."""
    DATE = "date"
    """A real calendar date written ``YYYY-MM-DD`` with ASCII digits."""
    CODE = "code"
    """A code from the column's `CodeTable`, exactly (a full-width ``１`` is not ``1``)."""
    DIVISION = "division"
    """A 12-digit division code (GB/T 2260 + GB/T 10114 + village), ASCII digits only."""


def _read_only(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@attrs.frozen(kw_only=True)
class CodeTable:
    """A closed list of codes a cell may hold.

    Attributes:
        name: the table's name and source, e.g. ``"GB/T 2261.1 sex"``.
        codes: each code mapped to its meaning.
        expected: what a valid code looks like, in words, for messages (optional).
    """

    name: str
    codes: Mapping[str, str] = attrs.field(converter=_read_only)
    expected: str = ""

    def describe(self, limit: int = 12) -> str:
        """What a valid code looks like, for messages, e.g. ``"1 (male), 2 (female)"``.

        Args:
            limit: how many codes to list before summarising the rest.
        """
        if self.expected:
            return self.expected
        items = [f"{code} ({meaning})" for code, meaning in self.codes.items()]
        if len(items) > limit:
            return ", ".join(items[:limit]) + f", … ({len(items)} codes in all)"
        return ", ".join(items)


@attrs.frozen(kw_only=True)
class Column:
    """One column of a record kind.

    Attributes:
        name: the column name used in the CSV header and as the JSON key.
        required: whether every row must give a value.
        rule: what the cell must hold.
        codes: the code table, for `CellRule.CODE` columns.
        refers_to: the kind whose rows this column names (``persons`` or ``households``).
        meaning: a short description.
    """

    name: str
    required: bool
    rule: CellRule
    codes: CodeTable | None = None
    refers_to: str | None = None
    meaning: str = ""


@attrs.frozen(kw_only=True)
class RecordKind:
    """A record kind: one file of the register.

    Attributes:
        name: the kind's name, which is also the file's stem (``persons``).
        columns: the columns in spec order.
        required: whether every register must contain this file.
        meaning: a short description.
    """

    name: str
    columns: tuple[Column, ...]
    required: bool = False
    meaning: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names in spec order."""
        return tuple(c.name for c in self.columns)

    @property
    def required_names(self) -> tuple[str, ...]:
        """The names of the required columns, in spec order."""
        return tuple(c.name for c in self.columns if c.required)

    def index(self, name: str) -> int:
        """The position of a column in spec order.

        Args:
            name: the column name.

        Raises:
            KeyError: the kind has no such column.
        """
        for i, column in enumerate(self.columns):
            if column.name == name:
                return i
        raise KeyError(f"{self.name} has no column {name!r}")


def _table(name: str, pairs: str) -> CodeTable:
    codes: dict[str, str] = {}
    for item in pairs.split(";"):
        code, _, meaning = item.strip().partition(" ")
        codes[code] = meaning
    return CodeTable(name=name, codes=codes)


def _from_enum(table: type[codes.CodeTable]) -> CodeTable:
    # One source of truth: the model's national code tables (famplan_core.model.codes).
    return CodeTable(
        name=table.table_name(),
        codes={member.value: member.label_en for member in table},
        expected=table.expected(),
    )


SEX = _from_enum(codes.Sex)
"""GB/T 2261.1-2003 sex codes (from `famplan_core.model.codes.Sex`)."""

MARITAL_STATUS = _from_enum(codes.MaritalStatus)
"""GB/T 2261.2-2003 marital status codes (from `famplan_core.model.codes.MaritalStatus`)."""

ETHNICITY = _from_enum(codes.Ethnicity)
"""GB 3304-1991 two-digit ethnicity codes, ``01`` Han to ``56`` Jino."""

RELATION_TO_HEAD = _from_enum(codes.RelationToHead)
"""GB/T 4761-2008 family relationship codes (``02`` head, ``10`` spouse, ``20`` son, …)."""

HUKOU_TYPE = _from_enum(codes.HukouType)
"""The hukou type, written ``rural`` or ``urban``."""

LINK_KIND = _from_enum(codes.LinkKind)
"""The kinds of parent-child link: ``birth``, ``adoptive``, ``step``."""

UNION_END_REASON = _from_enum(codes.UnionEndReason)
"""Why a marriage ended: ``divorce`` or ``death``."""

DISABILITY_GRADE = _table("disability grade", "1 most severe; 2 severe; 3 moderate; 4 mild")
"""Disability certificate grades, 1 most severe to 4."""

DISABILITY_CATEGORY = _from_enum(codes.DisabilityCategory)
"""Disability categories of the disability certificate (残疾人证)."""

CERTIFICATE_KIND = _from_enum(codes.CertificateKind)
"""Certificate kinds (``honour`` for 独生子女父母光荣证, which needs a ``child_id``)."""

_T = CellRule.TEXT
_D = CellRule.DATE
_C = CellRule.CODE
_V = CellRule.DIVISION


def _col(
    name: str,
    required: bool,
    rule: CellRule,
    meaning: str,
    *,
    codes: CodeTable | None = None,
    refers_to: str | None = None,
) -> Column:
    return Column(
        name=name, required=required, rule=rule, codes=codes, refers_to=refers_to, meaning=meaning
    )


KINDS: tuple[RecordKind, ...] = (
    RecordKind(
        name="persons",
        required=True,
        meaning="one row per person (人员)",
        columns=(
            _col("person_id", True, _T, "the sender's stable identifier, unique in the register"),
            _col("citizen_id", False, CellRule.CITIZEN_ID, "18-character resident ID number"),
            _col("name", True, _T, "full name"),
            _col("sex", True, _C, "GB/T 2261.1 sex", codes=SEX),
            _col("birth_date", True, _D, "date of birth, not in the future"),
            _col("death_date", False, _D, "date of death, on or after the birth"),
            _col("ethnicity", False, _C, "GB 3304 ethnicity", codes=ETHNICITY),
            _col("marital_status", False, _C, "GB/T 2261.2 marital status", codes=MARITAL_STATUS),
            _col("hukou_division", True, _V, "12-digit division of the registered residence"),
            _col("hukou_type", True, _C, "rural or urban", codes=HUKOU_TYPE),
            _col("residence_division", False, _V, "12-digit division where the person lives"),
            _col("household_id", False, _T, "the person's household", refers_to="households"),
            _col(
                "relation_to_head",
                False,
                _C,
                "GB/T 4761 relationship to the head of household",
                codes=RELATION_TO_HEAD,
            ),
        ),
    ),
    RecordKind(
        name="households",
        meaning="registered households (户)",
        columns=(
            _col("household_id", True, _T, "the household's identifier"),
            _col("division", True, _V, "12-digit village code"),
            _col("address", False, _T, "address"),
            _col("head_person_id", False, _T, "the head of household (户主)", refers_to="persons"),
        ),
    ),
    RecordKind(
        name="parent_child",
        meaning="parent-child links",
        columns=(
            _col("parent_id", True, _T, "the parent", refers_to="persons"),
            _col("child_id", True, _T, "the child", refers_to="persons"),
            _col("kind", True, _C, "birth, adoptive or step", codes=LINK_KIND),
            _col("since", False, _D, "the adoption date for adoptive; empty for birth"),
        ),
    ),
    RecordKind(
        name="unions",
        meaning="marriages (婚姻)",
        columns=(
            _col("person_a", True, _T, "one spouse", refers_to="persons"),
            _col("person_b", True, _T, "the other spouse", refers_to="persons"),
            _col("start", True, _D, "date of marriage"),
            _col("end", False, _D, "date the marriage ended"),
            _col("end_reason", False, _C, "divorce or death", codes=UNION_END_REASON),
        ),
    ),
    RecordKind(
        name="hukou_changes",
        meaning="dated hukou history (户口迁移)",
        columns=(
            _col("person_id", True, _T, "the person", refers_to="persons"),
            _col("date", True, _D, "date of the change"),
            _col("hukou_division", True, _V, "12-digit division from that date"),
            _col("hukou_type", True, _C, "rural or urban from that date", codes=HUKOU_TYPE),
        ),
    ),
    RecordKind(
        name="disabilities",
        meaning="disability certificates (残疾人证)",
        columns=(
            _col("person_id", True, _T, "the certificate's holder", refers_to="persons"),
            _col("grade", True, _C, "1 (most severe) to 4", codes=DISABILITY_GRADE),
            _col("category", False, _C, "kind of disability", codes=DISABILITY_CATEGORY),
            _col("valid_from", True, _D, "first day of validity"),
            _col("valid_to", False, _D, "last day of validity"),
        ),
    ),
    RecordKind(
        name="certificates",
        meaning="honour certificates and other issued documents",
        columns=(
            _col("certificate_id", True, _T, "the certificate's number"),
            _col("kind", True, _C, "honour for 独生子女父母光荣证", codes=CERTIFICATE_KIND),
            _col("holder_id", True, _T, "a holding parent (one row each)", refers_to="persons"),
            _col("child_id", False, _T, "the only child, for honour", refers_to="persons"),
            _col("issued_on", True, _D, "date of issue"),
            _col("revoked_on", False, _D, "date of revocation"),
        ),
    ),
    RecordKind(
        name="enrolments",
        meaning="who the township pays today (在册对象)",
        columns=(
            _col("person_id", True, _T, "the enrolled person", refers_to="persons"),
            _col("program", True, _T, "the program's name"),
            _col("since", True, _D, "date of enrolment"),
            _col("category", False, _T, "the program's category"),
        ),
    ),
)
"""Every record kind, in spec order (``persons`` first)."""

KIND_BY_NAME: Mapping[str, RecordKind] = MappingProxyType({k.name: k for k in KINDS})
"""The record kinds by name."""
