"""The ports (端口) famplan-core talks through: `typing.Protocol` classes that plugins implement.

The service layer and the command line depend on these protocols only; the SQL storage of
`famplan_core.storage` is the default implementation, and every storage plugin passes the
contract suite `famplan_core.testing.StorageContract`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import attrs

from famplan_core.errors import Problem
from famplan_core.model.frame import FactsFrame

__all__ = [
    "AuditEntry",
    "CertificateView",
    "ChildView",
    "DisabilityView",
    "HistoryEntry",
    "ImportRecord",
    "PersonAsOf",
    "QuarantineEntry",
    "QuarantinedRow",
    "RegisterReader",
    "SourceFile",
    "Storage",
    "UnionView",
    "UnitOfWork",
    "UpsertSummary",
]


# ---------------------------------------------------------------------------------------
# Storage: the register's persistence (the journal of dated facts, audit, quarantine).
# ---------------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class UpsertSummary:
    """What one bulk upsert of register rows did.

    Attributes:
        kind: the record kind, e.g. ``persons``.
        inserted: rows whose natural key was not stored: a new record.
        updated: rows that differ from the stored current version: a correction.
        unchanged: rows identical to the stored current version.
        touched: the natural keys inserted or updated, in input order.
    """

    kind: str
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: tuple[tuple[str, ...], ...] = ()


@attrs.frozen(kw_only=True)
class HistoryEntry:
    """One version of one record in a person's history (履历).

    Attributes:
        fact_id: the journal entry that made this version.
        fact_kind: e.g. ``person_registered``, ``person_corrected``, ``death_recorded``.
        record_kind: the record kind, e.g. ``persons`` or ``unions``.
        key: the record's natural key, as text.
        valid_date: when it happened (birth, death, union start ...), when known.
        recorded_at: when it was recorded (UTC).
        actor: who recorded it.
        changes: field → (before, after) as text; ``before`` is ``""`` for a new record.
    """

    fact_id: int
    fact_kind: str
    record_kind: str
    key: tuple[str, ...]
    valid_date: dt.date | None
    recorded_at: dt.datetime
    actor: str
    changes: Mapping[str, tuple[str, str]]


@attrs.frozen(kw_only=True)
class UnionView:
    """A marriage of the person, started on or before the view's date.

    Attributes:
        partner_id: the other person's `person_id`.
        start: the start date.
        end: the end date, or None.
        end_reason: ``divorce`` or ``death``, or ``""``.
        in_force: started on or before the date and not ended on or before it.
    """

    partner_id: str
    start: dt.date
    end: dt.date | None
    end_reason: str
    in_force: bool


@attrs.frozen(kw_only=True)
class ChildView:
    """A child of the person by a link in force on the view's date.

    Attributes:
        child_id: the child's `person_id`.
        link: ``birth``, ``adoptive`` or ``step``.
        since: the date the link counts from: the child's birth date for ``birth``, the
            link's `since` for the others.
        sex: the child's GB/T 2261.1 code.
        alive: the child is alive on the date (R0.3).
        counts: the link counts as a child under R0.4 (``birth`` or ``adoptive``).
    """

    child_id: str
    link: str
    since: dt.date | None
    sex: str
    alive: bool
    counts: bool


@attrs.frozen(kw_only=True)
class DisabilityView:
    """A disability certificate valid on the view's date (R0.10).

    Attributes:
        grade: 1 (most severe) to 4.
        category: the category code, or ``""``.
        valid_from: first day of validity.
        valid_to: last day of validity, or None.
    """

    grade: int
    category: str
    valid_from: dt.date
    valid_to: dt.date | None


@attrs.frozen(kw_only=True)
class CertificateView:
    """A certificate held by the person and valid on the view's date (R0.10).

    Attributes:
        certificate_id: the certificate's identifier.
        kind: e.g. ``honour``.
        child_id: the certificate's child, or ``""``.
        issued_on: the issue date.
        revoked_on: the revocation date (after the view's date), or None.
    """

    certificate_id: str
    kind: str
    child_id: str
    issued_on: dt.date
    revoked_on: dt.date | None


@attrs.frozen(kw_only=True)
class PersonAsOf:
    """One person as the register stood for a date (R0.1-R0.5, R0.10), for `person show`.

    Attributes:
        person_id: the person.
        date: the date D of the view.
        known_at: the record time the view is "as known at", or None for the current.
        name: the full name.
        sex: GB/T 2261.1 code.
        birth_date: the birth date.
        death_date: the death date, or None.
        alive: born on or before D and not dead on or before D (R0.3).
        age: completed years on D (R0.2), -1 before the birth.
        hukou_known: the hukou on D is known (R0.5).
        hukou_division: the hukou division on D, or ``""``.
        hukou_type: ``rural`` or ``urban`` on D, or ``""``.
        unions: marriages started on or before D.
        children: children by links in force on D, of all kinds.
        disabilities: disability certificates valid on D.
        certificates: certificates held and valid on D.
    """

    person_id: str
    date: dt.date
    known_at: dt.datetime | None
    name: str
    sex: str
    birth_date: dt.date
    death_date: dt.date | None
    alive: bool
    age: int
    hukou_known: bool
    hukou_division: str
    hukou_type: str
    unions: tuple[UnionView, ...]
    children: tuple[ChildView, ...]
    disabilities: tuple[DisabilityView, ...]
    certificates: tuple[CertificateView, ...]


@attrs.frozen(kw_only=True)
class QuarantinedRow:
    """A bad row to keep in quarantine (隔离区) with every reason found.

    Attributes:
        file: the file's name, e.g. ``persons.csv``.
        line: the physical line (the header is line 1), or None.
        kind: the record kind, e.g. ``persons``.
        raw: the row as read: column → cell text (None for an absent cell).
        problems: every problem found.
    """

    file: str
    line: int | None
    kind: str
    raw: Mapping[str, str | None]
    problems: tuple[Problem, ...]


@attrs.frozen(kw_only=True)
class QuarantineEntry:
    """A quarantined row as stored.

    Attributes:
        id: the entry's identifier.
        import_id: the import that found it, or None.
        row: the row and its problems.
        status: ``open``, ``discarded`` or ``resolved``.
        recorded_at: when it was quarantined.
        closed_at: when it was discarded or resolved, or None.
        closed_by: who discarded or resolved it, or ``""``.
    """

    id: int
    import_id: int | None
    row: QuarantinedRow
    status: str
    recorded_at: dt.datetime
    closed_at: dt.datetime | None
    closed_by: str


@attrs.frozen(kw_only=True)
class SourceFile:
    """One file of an imported register.

    Attributes:
        name: the file's name, e.g. ``persons.csv``.
        sha256: the SHA-256 of its bytes, in hexadecimal.
    """

    name: str
    sha256: str


@attrs.frozen(kw_only=True)
class ImportRecord:
    """A register import as stored, to tell a re-import of the same files.

    Attributes:
        id: the import's identifier.
        recorded_at: when it ran.
        actor: who ran it.
        source_digest: SHA-256 over the sorted (name, sha256) pairs of its files.
        sources: its files.
        summary: what it did (JSON-able).
    """

    id: int
    recorded_at: dt.datetime
    actor: str
    source_digest: str
    sources: tuple[SourceFile, ...]
    summary: Mapping[str, Any]


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One entry of the append-only audit (审计): one per committed unit of work.

    Attributes:
        id: the unit of work's identifier.
        actor: who acted.
        recorded_at: when (UTC).
        operation: what, e.g. ``import``.
        summary: details and counts of what changed (JSON-able).
        hash: the seal chaining this entry to the previous one: HMAC-SHA256 with the
            deployment's audit key, or SHA-256 for entries written before it had one.
    """

    id: int
    actor: str
    recorded_at: dt.datetime
    operation: str
    summary: Mapping[str, Any]
    hash: str


@runtime_checkable
class RegisterReader(Protocol):
    """Reads of the stored register, inside one consistent snapshot."""

    def person_history(self, person_id: str) -> list[HistoryEntry]:
        """Every version of every record about a person, oldest first.

        Args:
            person_id: the person.

        Raises:
            RecordNotFoundError: no such person is stored.
        """
        ...

    def person_as_of(
        self, person_id: str, d: dt.date, known_at: dt.datetime | None = None
    ) -> PersonAsOf:
        """The person as the register stood for date `d`, as known at `known_at`.

        Args:
            person_id: the person.
            d: the date of the view.
            known_at: use only what was recorded by then; None for the current versions.

        Raises:
            RecordNotFoundError: the person was not stored (by `known_at`).
        """
        ...

    def export_rows(self, kind: str) -> tuple[tuple[str, ...], Iterator[tuple[str, ...]]]:
        """The current rows of a record kind as text, in the spec's column order.

        Consume the iterator before the snapshot ends.

        Args:
            kind: the record kind, e.g. ``persons``.

        Returns:
            The column names and an iterator of rows (``""`` for an empty cell).
        """
        ...

    def all_person_ids(self) -> set[str]:
        """The ids of every currently stored person."""
        ...

    def known_person_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that name a currently stored person.

        Args:
            ids: person ids to look up.
        """
        ...

    def known_household_ids(self, ids: Iterable[str]) -> set[str]:
        """Those of `ids` that name a currently stored household.

        Args:
            ids: household ids to look up.
        """
        ...

    def list_quarantine(self, *, status: str | None = "open") -> list[QuarantineEntry]:
        """Quarantined rows, oldest first.

        Args:
            status: only entries with this status; None for all.
        """
        ...

    def find_imports(self, source_digest: str) -> list[ImportRecord]:
        """Earlier imports of exactly the same files, oldest first.

        Args:
            source_digest: see `famplan_core.storage.source_digest`.
        """
        ...

    def list_audit(self) -> list[AuditEntry]:
        """The whole audit, oldest first."""
        ...


@runtime_checkable
class UnitOfWork(RegisterReader, Protocol):
    """One transaction of writes (工作单元): all of it is stored, with its audit entry, or none.

    Used as a context manager from `Storage.unit_of_work`: it commits when the block ends
    normally and rolls back when it raises.

    Attributes:
        actor: who acts.
        recorded_at: the record time of everything written.
    """

    actor: str
    recorded_at: dt.datetime

    def upsert_rows(
        self, kind: str, columns: Sequence[str], rows: Iterable[Sequence[str]]
    ) -> UpsertSummary:
        """Store register rows: insert new records, supersede changed ones, skip the same.

        Args:
            kind: the record kind, e.g. ``persons``.
            columns: the columns of `rows`: every key column, in any order; a column left
                out is empty for a new record and keeps its stored value otherwise.
            rows: normalised text cells (``""`` for empty), one natural key at most once.

        Raises:
            StorageError: an unknown kind or column, a repeated key, or a database failure.
        """
        ...

    def record_quarantine(
        self, rows: Iterable[QuarantinedRow], *, import_id: int | None = None
    ) -> list[int]:
        """Keep bad rows in quarantine.

        Args:
            rows: the rows with their problems.
            import_id: the import that found them.

        Returns:
            The new entries' ids.
        """
        ...

    def discard_quarantine(self, ids: Iterable[int]) -> int:
        """Mark open quarantine entries discarded by the actor.

        Args:
            ids: entry ids.

        Returns:
            How many open entries were discarded.

        Raises:
            RecordNotFoundError: an id names no entry.
        """
        ...

    def resolve_quarantine(self, ids: Iterable[int]) -> int:
        """Mark open quarantine entries resolved (fixed and re-imported).

        Args:
            ids: entry ids.

        Returns:
            How many open entries were resolved.

        Raises:
            RecordNotFoundError: an id names no entry.
        """
        ...

    def record_import(self, sources: Sequence[SourceFile], summary: Mapping[str, Any]) -> int:
        """Record that a register was imported from these files.

        Args:
            sources: the files with their SHA-256 sums.
            summary: what the import did (JSON-able).

        Returns:
            The import's id.
        """
        ...

    def audit(self, operation: str | None = None, **details: Any) -> None:
        """Describe this unit of work in its audit entry, written when it commits.

        Args:
            operation: what is done, e.g. ``import``; replaces the one given at the start.
            **details: JSON-able details added to the entry's summary.
        """
        ...


@runtime_checkable
class Storage(Protocol):
    """Where a deployment keeps its register (存储): the port storage plugins implement."""

    def unit_of_work(
        self, *, actor: str, recorded_at: dt.datetime, operation: str = "write"
    ) -> AbstractContextManager[UnitOfWork]:
        """Open a unit of work: one transaction and one audit entry.

        Args:
            actor: who acts (staff member or system).
            recorded_at: the record time (the core never reads the clock).
            operation: what is done, for the audit, e.g. ``import``.

        Raises:
            StorageError: `recorded_at` is before the latest unit of work's.
        """
        ...

    def reader(self) -> AbstractContextManager[RegisterReader]:
        """Open a read-only snapshot of the register."""
        ...

    def facts_frame(
        self, d: dt.date, division: str, known_at: dt.datetime | None = None
    ) -> FactsFrame:
        """The facts frame of every stored person for date `d` (R0.1-R0.6, R0.10).

        Args:
            d: the evaluation date.
            division: the deployment's division code (prefix of the 12-digit codes).
            known_at: use only what was recorded by then; None for the current versions.
        """
        ...

    def verify_audit(self) -> int:
        """Check the audit's hash chain.

        Returns:
            The number of entries checked.

        Raises:
            StorageError: an entry was changed, removed or inserted out of order.
        """
        ...

    def close(self) -> None:
        """Release the storage's connections."""
        ...
