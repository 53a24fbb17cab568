"""Report runs (报表运行): indicators computed for a period and a scope, reproducibly.

`run_report` opens one read snapshot of the SQL storage, fixes the *register state* it
reads (the newest audit entry, or one named by the caller), and computes every indicator
asked for as known at that entry's record time. The state is written into each table's
notes and into the report, and so is a SHA-256 digest of the figures: running the same
report again with the same state gives the same figures and the same digest, whatever was
recorded since (corrections supersede, they never overwrite).

A public report (``public=True``) leaves out the indicators whose disclosure level is
``internal``, withholds small village cells (see `famplan_core.reporting.suppression`) and
masks anything shaped like a citizen ID number in its text cells.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

import attrs
import sqlalchemy as sa
import sqlalchemy.exc

from famplan_core.errors import RecordNotFoundError, StorageError, ValidationError
from famplan_core.model.money import Money
from famplan_core.privacy import find_citizen_ids
from famplan_core.reporting.context import DivisionTree, ReportContext
from famplan_core.reporting.indicators import Indicator
from famplan_core.reporting.periods import Period
from famplan_core.reporting.suppression import THRESHOLD
from famplan_core.reporting.table import Cell, ReportTable, Suppressed

__all__ = [
    "RegisterState",
    "Report",
    "SnapshotStorage",
    "mask_citizen_ids",
    "program_labels",
    "publish_table",
    "register_state",
    "run_report",
    "table_digest",
]


class SnapshotStorage(Protocol):
    """A storage whose read snapshots expose their SQLAlchemy connection (the SQL storage)."""

    def reader(self) -> Any:
        """A context manager giving a snapshot with a ``connection`` attribute."""


@attrs.frozen(kw_only=True)
class RegisterState:
    """The state of the register a report read (登记状态): an audit entry and its time.

    Attributes:
        audit_id: the newest unit of work included; None for an empty register.
        recorded_at: its record time (UTC, naive); what the report is computed "as known at".
        audit_hash: that entry's hash: ``famplan audit verify --anchor ID:HASH`` checks that
            the audit still holds it.
    """

    audit_id: int | None
    recorded_at: dt.datetime | None
    audit_hash: str | None = None

    def describe(self, lang: str) -> str:
        """The state for a reader."""
        if self.audit_id is None or self.recorded_at is None:
            return "登记状态：空登记。" if lang == "zh" else "Register state: empty register."
        when = self.recorded_at.isoformat(timespec="seconds") + "Z"
        if lang == "zh":
            return (
                f"登记状态：审计第{self.audit_id}条（{when}）；"
                f"以 --state {self.audit_id} 重算，结果相同。"
            )
        return (
            f"Register state: audit entry {self.audit_id} ({when}); run again with "
            f"--state {self.audit_id} for the same figures."
        )


def _timestamp(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None) if value.tzinfo is None else value
    return dt.datetime.fromisoformat(str(value))


def register_state(connection: sa.Connection, audit_id: int | None = None) -> RegisterState:
    """The register state: the newest audit entry, or the one numbered `audit_id`.

    Args:
        connection: a snapshot's connection.
        audit_id: the entry to use; None for the newest.

    Raises:
        RecordNotFoundError: there is no audit entry with that number.
    """
    if audit_id is None:
        row = connection.exec_driver_sql(
            "SELECT id, recorded_at, hash FROM audit ORDER BY id DESC LIMIT 1"
        ).first()
        if row is None:
            return RegisterState(audit_id=None, recorded_at=None)
    else:
        p = "?" if connection.dialect.name == "sqlite" else "%s"
        row = connection.exec_driver_sql(
            f"SELECT id, recorded_at, hash FROM audit WHERE id = {p}", (audit_id,)
        ).first()
        if row is None:
            newest = connection.exec_driver_sql("SELECT MAX(id) FROM audit").scalar()
            raise RecordNotFoundError(
                f"register state {audit_id}: no such audit entry (the register has entries "
                f"1 to {newest or 0}); use the number a report's notes give"
            )
    return RegisterState(
        audit_id=int(row[0]), recorded_at=_timestamp(row[1]), audit_hash=str(row[2])
    )


def mask_citizen_ids(text: str) -> str:
    """Mask every citizen ID number (or ID-shaped run) in text, keeping 6 + 4 characters.

    Example:
        >>> mask_citizen_ids("王庄村 11010519491231002X")
        '王庄村 110105********002X'
    """
    leaks = find_citizen_ids(text)
    if not leaks:
        return text
    hidden = [False] * len(text)
    for leak in leaks:
        for i in range(leak.start + 6, leak.end - 4):
            hidden[i] = True
    return "".join("*" if h else ch for ch, h in zip(text, hidden, strict=True))


def publish_table(table: ReportTable) -> ReportTable:
    """A table made fit for the public: ID-shaped text masked in its cells, title and notes.

    Small cells are withheld by the indicators themselves (they know the table's
    structure); this is the last step every public table goes through.

    Args:
        table: the table.
    """
    rows = tuple(
        tuple(mask_citizen_ids(c) if isinstance(c, str) else c for c in row) for row in table.rows
    )
    return attrs.evolve(
        table,
        rows=rows,
        notes=tuple(mask_citizen_ids(n) for n in table.notes),
        title_zh=mask_citizen_ids(table.title_zh),
        title_en=mask_citizen_ids(table.title_en),
    )


def _plain(cell: Cell) -> object:
    if isinstance(cell, Money | Decimal):
        return str(cell)
    if isinstance(cell, Suppressed):
        return {"withheld": True}
    return cell


def table_digest(tables: Sequence[ReportTable]) -> str:
    """A SHA-256 of the tables' codes, columns and cells (not their notes).

    Args:
        tables: the tables.
    """
    document = [
        {
            "code": t.code,
            "columns": [c.key for c in t.columns],
            "rows": [[_plain(c) for c in row] for row in t.rows],
        }
        for t in tables
    ]
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class Report:
    """The result of a report run: its tables and how they were made.

    Attributes:
        name: what was asked for (an indicator code, or ``all``).
        period: the period.
        scope: the division code covered.
        scope_name: its name, when the division table knows it.
        public: whether it was made for the public (small cells withheld).
        lang: the language of its labels and notes.
        state: the register state it read.
        tables: one table per indicator.
        left_out: internal indicators left out of a public report.
        digest: the SHA-256 of the figures (`table_digest`).
    """

    name: str
    period: Period
    scope: str
    scope_name: str
    public: bool
    lang: str
    state: RegisterState
    tables: tuple[ReportTable, ...]
    left_out: tuple[str, ...] = ()
    digest: str

    def title(self, lang: str) -> str:
        """The report's title, e.g. ``顾官屯镇 2026年 统计报表``."""
        place = self.scope_name or self.scope
        if lang == "zh":
            return f"{place} {self.period.label('zh')} 人口与计划生育统计报表"
        return f"{place}: population and family services report, {self.period.label('en')}"

    def metadata(self) -> dict[str, Any]:
        """What a renderer writes about the run: period, scope, state, digest."""
        return {
            "name": self.name,
            "period": self.period.text(),
            "first_day": self.period.first.isoformat(),
            "last_day": self.period.last.isoformat(),
            "scope": self.scope,
            "scope_name": self.scope_name,
            "public": self.public,
            "lang": self.lang,
            "register_state": {
                "audit_id": self.state.audit_id,
                # the anchor is for the office: a public report shows nothing of the audit's
                # content, not even a seal that differs with what was recorded
                **({} if self.public else {"audit_hash": self.state.audit_hash}),
                "recorded_at": (
                    None
                    if self.state.recorded_at is None
                    else self.state.recorded_at.isoformat() + "Z"
                ),
            },
            "digest": self.digest,
            "left_out": list(self.left_out),
        }


def _scope_name(scope: str, names: Mapping[str, str], lang: str) -> str:
    name = names.get(scope) or DivisionTree.table_name(scope)
    if not name and len(scope) == 12:  # the shipped table stops at townships
        name = f"{scope[-3:]}村" if lang == "zh" else f"village {scope[-3:]}"
    return name


def _check_scope(scope: str) -> None:
    if not (scope.isascii() and scope.isdigit() and len(scope) in (6, 9, 12)):
        raise ValidationError.single(
            "scope",
            scope,
            "expected a 6-digit county, 9-digit township or 12-digit village code, e.g. 371502110",
        )


def run_report(
    storage: SnapshotStorage,
    indicators: Sequence[Indicator],
    *,
    period: Period,
    scope: str,
    name: str = "all",
    state: int | None = None,
    public: bool = False,
    threshold: int = THRESHOLD,
    labels: Mapping[str, tuple[str, str]] | None = None,
    lang: str = "zh",
    division_names: Mapping[str, str] | None = None,
) -> Report:
    """Compute indicators for a period and a scope, as known at one register state.

    Args:
        storage: the SQL storage.
        indicators: the indicators, in the order their tables should appear.
        period: the period.
        scope: the division code to cover (6, 9 or 12 digits).
        name: what the report is called (an indicator code, or ``all``).
        state: the audit entry to read the register as known at; None for the newest.
        public: make it for the public: leave out internal indicators, withhold small
            village cells, mask ID-shaped text.
        threshold: the smallest village count shown in a public report.
        labels: names of program and category codes, as ``(zh, en)``.
        lang: ``zh`` or ``en`` labels and notes.
        division_names: division names that win over the shipped table's (a deployment's
            name for its own township).

    Raises:
        ValidationError: the scope is not a division code.
        RecordNotFoundError: `state` names no audit entry.
        StorageError: the storage is not the SQL storage.
    """
    _check_scope(scope)
    with storage.reader() as reader:
        connection = getattr(reader, "connection", None)
        if not isinstance(connection, sa.Connection):
            raise StorageError(
                f"reports are computed in SQL: they need the SQL storage (SQLite or "
                f"PostgreSQL), not {type(storage).__name__}"
            )
        register = register_state(connection, state)
        ctx = ReportContext(
            connection,
            period=period,
            scope=scope,
            known_at=register.recorded_at,
            public=public,
            threshold=threshold,
            labels=labels,
            lang=lang,
            division_names=division_names,
        )
        tables: list[ReportTable] = []
        left_out: list[str] = []
        try:
            for indicator in indicators:
                if public and indicator.disclosure != "public":
                    left_out.append(indicator.code)
                    continue
                table = indicator.compute(ctx)
                table = attrs.evolve(table, notes=(*table.notes, register.describe(lang)))
                tables.append(publish_table(table) if public else table)
        except BaseException:
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                ctx.close()  # the first failure is the one to report
            raise
        ctx.close()
    return Report(
        name=name,
        period=period,
        scope=scope,
        scope_name=_scope_name(scope, division_names or {}, lang),
        public=public,
        lang=lang,
        state=register,
        tables=tuple(tables),
        left_out=tuple(left_out),
        digest=table_digest(tables),
    )


def program_labels(programs: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """The names of program and category codes, as ``(zh, en)``, from registered programs.

    Categories are keyed ``program.category``.
    """
    labels: dict[str, tuple[str, str]] = {}
    for code, program in programs.items():
        labels[code] = (str(program.name_zh), str(program.name_en))
        names_zh = tuple(getattr(program, "categories_zh", ()) or ())
        for index, category in enumerate(getattr(program, "categories", ()) or ()):
            zh = names_zh[index] if index < len(names_zh) else str(category)
            labels[f"{code}.{category}"] = (zh, str(category))
    return labels
