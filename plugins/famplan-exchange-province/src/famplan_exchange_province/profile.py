"""The reference provincial exchange profile (省级交换规范): CSV files in GB18030.

A provincial system exchanges files, not JSON: one CSV file per message type, Chinese
column headings, dates written ``YYYYMMDD``, and the national code tables. This profile is the
reference a real province's profile follows: the same `ProvinceCsvFormat`, with its own
`PROFILE` (file names, headings, code tables). It carries only the messages exchanged with the
province; messages between townships go in the core's JSON Lines format.

* Encoding: GB18030 with the GB 18030-2022 mapping (the core's ``famplan-gb18030-2022``
  codec), strict: bytes that are not GB18030 refuse the batch.
* Syntax: RFC 4180 (comma, double quotes, CR LF), a heading row; the first column is
  ``报文标识``, the message id.
* Codes: sex GB/T 2261.1, ethnicity GB 3304, marital status GB/T 2261.2 and 12-digit division
  codes as the core has them; the profile's own tables for the hukou type, the program
  (the business codes of the former national system, ``J`` reward support and ``T`` special
  assistance) and the reason a beneficiary leaves.
* The manifest (``manifest.json``) is the core's, whatever the format, so the checksums and
  counts are checked the same way.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import IO, BinaryIO, ClassVar, Final

import attrs

from famplan_core.errors import ExchangeError, Problem
from famplan_core.exchange.batch import MalformedBatchError, Message, RawMessage
from famplan_core.exchange.messages import MESSAGE_TYPES
from famplan_core.exchange.textio import GB18030_2022_CODEC

__all__ = [
    "EXIT_REASON_CODES",
    "HUKOU_TYPE_CODES",
    "ID_HEADING",
    "PROFILE",
    "PROGRAM_CODES",
    "ProfileColumn",
    "ProvinceCsvFormat",
    "TypeProfile",
]

ID_HEADING: Final = "报文标识"
"""The heading of the first column: the message id."""

HUKOU_TYPE_CODES: Final[Mapping[str, str]] = MappingProxyType({"rural": "1", "urban": "2"})
"""户口性质: the profile's codes for the hukou type (1 农村, 2 城镇)."""

PROGRAM_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {"rural_reward": "J", "special_assistance": "T"}
)
"""项目代码: business codes of the former national system (J 奖励扶助, T 特别扶助); other
programs keep their code."""

EXIT_REASON_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {"death": "01", "moved_out": "02", "hukou_urban": "03", "conditions": "09"}
)
"""退出原因代码: 01 死亡, 02 迁出, 03 转为城镇户口, 09 不再符合条件."""


def _frozen(codes: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(codes))


@attrs.frozen(kw_only=True)
class ProfileColumn:
    """One column of a profile file.

    Attributes:
        field: the message field it holds.
        heading: its heading in the file.
        kind: ``text``, ``date`` (written ``YYYYMMDD``), ``month`` (``YYYYMM``) or ``code``.
        codes: for ``code``: the core's value → the profile's code (a value not listed is
            written as it is).
    """

    field: str
    heading: str
    kind: str = "text"
    codes: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)

    def write(self, value: str) -> str:
        """The cell for a core value."""
        if not value:
            return ""
        if self.kind == "date":
            return value.replace("-", "")
        if self.kind == "month":
            return value.replace("-", "")
        return self.codes.get(value, value)

    def read(self, cell: str) -> str:
        """The core value of a cell (left as it is when it is not of the profile's form, so
        that the message's check names the problem)."""
        cell = cell.strip()
        if self.kind == "date" and len(cell) == 8 and cell.isascii() and cell.isdigit():
            return f"{cell[:4]}-{cell[4:6]}-{cell[6:]}"
        if self.kind == "month" and len(cell) == 6 and cell.isascii() and cell.isdigit():
            return f"{cell[:4]}-{cell[4:]}"
        if self.codes:
            for value, code in self.codes.items():
                if code == cell:
                    return value
        return cell


@attrs.frozen(kw_only=True)
class TypeProfile:
    """How one message type is written: its file and its columns.

    Attributes:
        message_type: the core's message type.
        file: the file name, e.g. ``SWDJ.csv``.
        title: what the file holds, in Chinese.
        columns: the columns after ``报文标识``, in order.
    """

    message_type: str
    file: str
    title: str
    columns: tuple[ProfileColumn, ...]

    @property
    def headings(self) -> tuple[str, ...]:
        """Every heading, ``报文标识`` first."""
        return (ID_HEADING, *(c.heading for c in self.columns))


def _c(
    field: str, heading: str, kind: str = "text", codes: Mapping[str, str] | None = None
) -> ProfileColumn:
    return ProfileColumn(field=field, heading=heading, kind=kind, codes=dict(codes or {}))


_HUKOU = _c("hukou_type", "户口性质代码", "code", HUKOU_TYPE_CODES)
_PROGRAM = _c("program", "项目代码", "code", PROGRAM_CODES)

PROFILE: Final[Mapping[str, TypeProfile]] = MappingProxyType(
    {
        p.message_type: p
        for p in (
            TypeProfile(
                message_type="birth",
                file="CSDJ.csv",
                title="出生登记",
                columns=(
                    _c("person_ref", "个人标识"),
                    _c("citizen_id", "公民身份号码"),
                    _c("name", "姓名"),
                    _c("sex", "性别代码"),
                    _c("birth_date", "出生日期", "date"),
                    _c("hukou_division", "户籍地区划代码"),
                    _HUKOU,
                    _c("mother_citizen_id", "母亲公民身份号码"),
                    _c("father_citizen_id", "父亲公民身份号码"),
                ),
            ),
            TypeProfile(
                message_type="death",
                file="SWDJ.csv",
                title="死亡登记",
                columns=(
                    _c("citizen_id", "公民身份号码"),
                    _c("name", "姓名"),
                    _c("death_date", "死亡日期", "date"),
                ),
            ),
            TypeProfile(
                message_type="hukou_move",
                file="HJQY.csv",
                title="户籍迁移",
                columns=(
                    _c("person_ref", "个人标识"),
                    _c("citizen_id", "公民身份号码"),
                    _c("name", "姓名"),
                    _c("sex", "性别代码"),
                    _c("birth_date", "出生日期", "date"),
                    _c("ethnicity", "民族代码"),
                    _c("marital_status", "婚姻状况代码"),
                    _c("date", "迁移日期", "date"),
                    _c("from_division", "迁出地区划代码"),
                    _c("to_division", "迁入地区划代码"),
                    _HUKOU,
                ),
            ),
            TypeProfile(
                message_type="marriage",
                file="JHDJ.csv",
                title="结婚登记",
                columns=(
                    _c("a_citizen_id", "甲方公民身份号码"),
                    _c("a_name", "甲方姓名"),
                    _c("b_citizen_id", "乙方公民身份号码"),
                    _c("b_name", "乙方姓名"),
                    _c("start", "登记日期", "date"),
                ),
            ),
            TypeProfile(
                message_type="divorce",
                file="LHDJ.csv",
                title="离婚登记",
                columns=(
                    _c("a_citizen_id", "甲方公民身份号码"),
                    _c("a_name", "甲方姓名"),
                    _c("b_citizen_id", "乙方公民身份号码"),
                    _c("b_name", "乙方姓名"),
                    _c("start", "结婚日期", "date"),
                    _c("end", "离婚日期", "date"),
                ),
            ),
            TypeProfile(
                message_type="beneficiary_added",
                file="DXXZ.csv",
                title="扶助对象新增",
                columns=(
                    _PROGRAM,
                    _c("month", "发放年月", "month"),
                    _c("citizen_id", "公民身份号码"),
                    _c("name", "姓名"),
                    _c("category", "类别"),
                    _c("amount", "月金额"),
                ),
            ),
            TypeProfile(
                message_type="beneficiary_exited",
                file="DXTC.csv",
                title="扶助对象退出",
                columns=(
                    _PROGRAM,
                    _c("month", "退出年月", "month"),
                    _c("citizen_id", "公民身份号码"),
                    _c("name", "姓名"),
                    _c("reason", "退出原因代码", "code", EXIT_REASON_CODES),
                ),
            ),
            TypeProfile(
                message_type="roll_totals",
                file="HMCHZ.csv",
                title="发放花名册汇总",
                columns=(
                    _PROGRAM,
                    _c("month", "发放年月", "month"),
                    _c("lines", "人数"),
                    _c("amount", "金额"),
                ),
            ),
        )
    }
)
"""The reference profile: each message type exchanged with the province, its file and columns."""

_BY_FILE: Final = {p.file: p for p in PROFILE.values()}


def _check_profile() -> None:
    """Every field of every type is a column of its file: checked on import."""
    for profile in PROFILE.values():
        fields = set(MESSAGE_TYPES[profile.message_type].field_names)
        columns = {c.field for c in profile.columns}
        if columns != fields:
            raise RuntimeError(
                f"{profile.file}: columns {sorted(columns)} differ from the fields of "
                f"{profile.message_type} {sorted(fields)}"
            )


_check_profile()


def _malformed(path: str, message: str, value: str = "") -> MalformedBatchError:
    return MalformedBatchError([Problem(path=path, value=value[:60], message=message)])


class ProvinceCsvFormat:
    """The provincial CSV profile (``province-csv``): one GB18030 CSV file per message type."""

    PLUGIN_NAME: ClassVar[str] = "province-csv"
    MESSAGE_TYPES: ClassVar[frozenset[str] | None] = frozenset(PROFILE)

    def encode(self, messages: Sequence[Message]) -> Mapping[str, bytes]:
        """One CSV file per message type present, in GB18030.

        Args:
            messages: the messages.

        Raises:
            ExchangeError: a message type the profile does not carry, or text GB18030
                cannot hold.
        """
        rows: dict[str, list[list[str]]] = {}
        for m in messages:
            profile = PROFILE.get(m.type)
            if profile is None:
                raise ExchangeError(
                    f"the province-csv profile does not carry {m.type} messages; it carries "
                    + ", ".join(PROFILE)
                )
            rows.setdefault(m.type, []).append(
                [m.id, *(c.write(m.payload.get(c.field, "")) for c in profile.columns)]
            )
        files: dict[str, bytes] = {}
        for message_type, profile in PROFILE.items():
            if message_type not in rows:
                continue
            out = io.StringIO(newline="")
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(profile.headings)
            writer.writerows(rows[message_type])
            try:
                files[profile.file] = out.getvalue().encode(GB18030_2022_CODEC)
            except UnicodeEncodeError as exc:
                raise ExchangeError(
                    f"{profile.file}: the character U+{ord(exc.object[exc.start]):04X} cannot be "
                    "written in GB18030"
                ) from None
        return files

    def decode(self, files: Mapping[str, BinaryIO]) -> Iterator[RawMessage]:
        """The messages of the profile's files, read record by record.

        Args:
            files: the batch's files, as binary streams.

        Raises:
            MalformedBatchError: a file the profile does not know, bytes that are not
                GB18030, broken CSV quoting, a heading row that is not the file's, or a row
                of the wrong width; the path names the file and the line.
        """
        for name in files:
            if name not in _BY_FILE:
                raise _malformed(
                    name,
                    "not a file of the province-csv profile; its files are " + ", ".join(_BY_FILE),
                )
        for name in sorted(files, key=list(_BY_FILE).index):
            text = io.TextIOWrapper(files[name], encoding=GB18030_2022_CODEC, newline="")
            yield from _read(_BY_FILE[name], name, text)


def _read(profile: TypeProfile, name: str, text: IO[str]) -> Iterator[RawMessage]:
    reader = csv.reader(text, strict=True)
    try:
        heading = next(reader, None)
        if heading is None:
            raise _malformed(f"{name}:1", "empty file: expected the heading row")
        expected = profile.headings
        if sorted(heading) != sorted(expected) or len(set(heading)) != len(heading):
            raise _malformed(
                f"{name}:1", "the heading row must name " + ", ".join(expected), ",".join(heading)
            )
        order = [heading.index(h) for h in expected]
        start = reader.line_num + 1
        for record in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue
            if len(record) != len(heading):
                raise _malformed(
                    f"{name}:{line}", f"{len(record)} cells, but the heading has {len(heading)}"
                )
            cells = [record[i] for i in order]
            payload = {
                column.field: column.read(cell)
                for column, cell in zip(profile.columns, cells[1:], strict=True)
                if cell.strip()
            }
            yield RawMessage(
                id=cells[0].strip(),
                type=profile.message_type,
                payload=payload,
                file=name,
                line=line,
            )
    except csv.Error as exc:
        raise _malformed(f"{name}:{reader.line_num}", f"broken CSV: {exc}") from None
    except UnicodeDecodeError as exc:
        raise _malformed(
            f"{name}:{reader.line_num + 1}", f"not GB18030 near this line: {exc.reason}"
        ) from None
