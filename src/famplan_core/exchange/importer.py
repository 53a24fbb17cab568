"""Importing a register folder (导入): read and check every file, then store in one transaction.

The rules are those of the register file format (spec ``register-format.md``):

* a malformed file refuses the whole import, naming the file and the line; nothing is stored;
* good rows are stored together in one unit of work, with the import's audit entry;
* each bad row goes to quarantine with every reason, until it is fixed and re-imported (its
  entry is then resolved) or discarded by a person;
* importing the same files again changes nothing and says so;
* a changed row updates the record and keeps the earlier values in the history;
* a monthly update folder holds only the rows it concerns: stored persons absent from it
  stay as they are.

The register is not held in memory: `famplan_core.exchange.reader.stream_register` checks
every file, setting the checked rows aside on disk, and the good rows of each kind are then
handed to the storage in turn. A first load into an empty register on PostgreSQL stores the
rows while the files are still being checked (`famplan_core.storage.sql.FirstLoad`), and
takes out those the checks across files set aside at the end. Either way everything happens
in one unit of work, so a malformed file (or any failure) leaves nothing stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from famplan_core.exchange.reader import QuarantinedRow as ReadRow
from famplan_core.exchange.reader import RegisterStream, stream_register
from famplan_core.exchange.register_format import KIND_BY_NAME
from famplan_core.ports import QuarantinedRow, SourceFile
from famplan_core.storage.sql import (
    FirstLoad,
    SqlStorage,
    SqlUnitOfWork,
    source_digest,
)
from famplan_core.storage.tables import RECORD_KINDS

__all__ = ["IMPORT_ORDER", "ImportSummary", "KindSummary", "import_register"]

IMPORT_ORDER: tuple[str, ...] = (
    "households",
    "persons",
    "parent_child",
    "unions",
    "hukou_changes",
    "disabilities",
    "certificates",
    "enrolments",
)
"""The order kinds are stored in: households and persons before what refers to them."""


@attrs.frozen(kw_only=True)
class KindSummary:
    """What an import did with one record kind.

    Attributes:
        kind: the record kind, e.g. ``persons``.
        rows: rows read (empty rows left out).
        imported: new records stored.
        updated: stored records changed (the earlier values stay in the history).
        unchanged: rows identical to what is stored.
        quarantined: bad rows set aside.
    """

    kind: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0


@attrs.frozen(kw_only=True)
class ImportSummary:
    """What an import did, for the officer and for scripts.

    Attributes:
        folder: the folder imported.
        dry_run: True when nothing was stored (``--dry-run``).
        import_id: the stored import's id, or None when nothing was stored.
        kinds: per record kind, in import order.
        files: the files read, with their SHA-256 sums.
        warnings: things accepted but worth a look (e.g. division codes not in the table).
        new_quarantine: bad rows not already in quarantine (a bad row imported again is
            not quarantined twice).
        quarantine_ids: the quarantine entries this import opened (none on a dry run).
        resolved: earlier quarantine entries resolved by a good row in this import.
        previous_import: the id of an earlier import of exactly these files, if any.
    """

    folder: str
    dry_run: bool
    import_id: int | None
    kinds: tuple[KindSummary, ...]
    files: tuple[SourceFile, ...]
    warnings: tuple[str, ...]
    new_quarantine: int
    quarantine_ids: tuple[int, ...]
    resolved: int
    previous_import: int | None

    @property
    def imported(self) -> int:
        """New records stored, all kinds together."""
        return sum(k.imported for k in self.kinds)

    @property
    def updated(self) -> int:
        """Stored records changed, all kinds together."""
        return sum(k.updated for k in self.kinds)

    @property
    def unchanged(self) -> int:
        """Rows identical to what is stored, all kinds together."""
        return sum(k.unchanged for k in self.kinds)

    @property
    def quarantined(self) -> int:
        """Bad rows set aside, all kinds together."""
        return sum(k.quarantined for k in self.kinds)

    @property
    def changed_nothing(self) -> bool:
        """True when the import stored nothing new: no record, change or quarantine entry."""
        return (
            self.imported == 0
            and self.updated == 0
            and self.new_quarantine == 0
            and self.resolved == 0
        )

    def as_dict(self) -> dict[str, Any]:
        """The summary as JSON-able data."""
        return {
            "folder": self.folder,
            "dry_run": self.dry_run,
            "import_id": self.import_id,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantined": self.quarantined,
            "new_quarantine": self.new_quarantine,
            "changed_nothing": self.changed_nothing,
            "previous_import": self.previous_import,
            "resolved": self.resolved,
            "kinds": [attrs.asdict(k) for k in self.kinds],
            "files": [{"name": f.name, "sha256": f.sha256} for f in self.files],
            "warnings": list(self.warnings),
            "quarantine_ids": list(self.quarantine_ids),
        }


class _RollBack(Exception):
    """Raised inside the unit of work to undo a dry run or an import that changed nothing."""


def _key_cells(kind: str, cells: Mapping[str, str | None]) -> tuple[str, ...]:
    return tuple((cells.get(column) or "").strip() for column in RECORD_KINDS[kind].key)


def _to_port(row: ReadRow) -> QuarantinedRow:
    return QuarantinedRow(
        file=row.file, line=row.line, kind=row.kind, raw=dict(row.cells), problems=row.problems
    )


def import_register(
    storage: SqlStorage,
    folder: Path,
    *,
    today: dt.date,
    actor: str,
    recorded_at: dt.datetime,
    encoding: str | None = None,
    dry_run: bool = False,
) -> ImportSummary:
    """Import a register folder into `storage`.

    Args:
        storage: where the register is stored.
        folder: the folder of register files.
        today: the date of the import run: births and deaths after it are bad rows.
        actor: who imports (recorded in the audit and the history).
        recorded_at: the record time of the import.
        encoding: the files' encoding when not detected (``utf-8`` or ``gb18030``).
        dry_run: check and count everything, store nothing.

    Raises:
        MalformedFileError: a file cannot be read as the format; nothing is stored.
        StorageError: the database failed; nothing is stored.
    """
    outcome: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        try:
            with storage.unit_of_work(
                actor=actor, recorded_at=recorded_at, operation="import"
            ) as uow:
                load = None if dry_run else uow.first_load()
                reading = stack.enter_context(_check(storage, folder, today, encoding, load))
                outcome["reading"] = reading
                kinds = _store_rows(uow, reading) if load is None else _loaded(load, reading)
                _record(uow, folder, reading, kinds, dry_run, outcome)
        except _RollBack:
            pass
        return _final(folder, outcome, dry_run)


def _check(
    storage: SqlStorage,
    folder: Path,
    today: dt.date,
    encoding: str | None,
    load: FirstLoad | None,
) -> RegisterStream:
    """Read and check the folder (sending rows to `load` as they are checked, if given).

    A first load does not ask the register which persons and households it holds: it holds
    none (and its tables are locked by the load until it commits).
    """
    if load is None:
        with storage.reader() as reader:
            return stream_register(
                folder,
                today=today,
                encoding=encoding,
                known_person_ids=reader.known_person_ids,
                known_household_ids=reader.known_household_ids,
            )
    try:
        return stream_register(folder, today=today, encoding=encoding, on_rows=load.send)
    except BaseException:
        load.abandon()
        raise


def _loaded(load: FirstLoad, reading: RegisterStream) -> dict[str, KindSummary]:
    """Finish a first load: the rows set aside by the checks across files are taken out."""
    stored = load.finish({kind: reading.bad_rows(kind) for kind in reading.counts})
    return {
        kind: KindSummary(
            kind=kind,
            rows=counts.rows,
            imported=stored.get(kind, 0),
            quarantined=counts.quarantined,
        )
        for kind, counts in reading.counts.items()
    }


def _record(
    uow: SqlUnitOfWork,
    folder: Path,
    reading: RegisterStream,
    kinds: dict[str, KindSummary],
    dry_run: bool,
    outcome: dict[str, Any],
) -> None:
    """Resolve and add quarantine entries and record the import (or roll back: `_RollBack`)."""
    sources = outcome["sources"] = tuple(
        SourceFile(name=f.name, sha256=f.sha256) for f in reading.files
    )
    previous = uow.find_imports(source_digest(sources))
    outcome["previous"] = previous[-1].id if previous else None
    outcome["kinds"] = kinds
    new_bad, resolved = _quarantine(uow, reading)
    outcome["resolved"] = resolved
    outcome["new_bad"] = new_bad
    summary = _summary(folder, reading, sources, kinds, new_bad, resolved, None, dry_run)
    if dry_run or summary.changed_nothing:
        raise _RollBack
    import_id = uow.record_import(sources, summary.as_dict())
    ids = uow.record_quarantine([_to_port(row) for row in new_bad], import_id=import_id)
    outcome["import_id"] = import_id
    outcome["quarantine_ids"] = ids


def _final(folder: Path, outcome: Mapping[str, Any], dry_run: bool) -> ImportSummary:
    """The summary of an import, committed or rolled back."""
    reading: RegisterStream = outcome["reading"]
    sources: tuple[SourceFile, ...] = outcome["sources"]
    return attrs.evolve(
        _summary(
            folder,
            reading,
            sources,
            outcome["kinds"],
            outcome["new_bad"],
            outcome["resolved"],
            outcome.get("import_id"),
            dry_run,
        ),
        quarantine_ids=tuple(outcome.get("quarantine_ids", ())),
        previous_import=outcome["previous"],
    )


def _store_rows(uow: Any, reading: RegisterStream) -> dict[str, KindSummary]:
    kinds: dict[str, KindSummary] = {}
    for kind in IMPORT_ORDER:
        counts = reading.counts.get(kind)
        if counts is None:
            continue
        if counts.good:
            columns = KIND_BY_NAME[kind].column_names
            stored = uow.upsert_rows(kind, columns, reading.rows(kind))
            kinds[kind] = KindSummary(
                kind=kind,
                rows=counts.rows,
                imported=stored.inserted,
                updated=stored.updated,
                unchanged=stored.unchanged,
                quarantined=counts.quarantined,
            )
            del stored  # its keys touched: not to be held while the next kind is stored
        else:
            kinds[kind] = KindSummary(kind=kind, rows=counts.rows, quarantined=counts.quarantined)
    return kinds


def _quarantine(uow: Any, reading: RegisterStream) -> tuple[list[ReadRow], int]:
    """The bad rows not already in quarantine, and how many open entries a good row resolved."""
    open_entries = uow.list_quarantine(status="open")
    already = {
        (e.row.kind, e.row.file, tuple(sorted((k, v or "") for k, v in e.row.raw.items())))
        for e in open_entries
    }
    new_bad = [
        row
        for row in reading.quarantine
        if (row.kind, row.file, tuple(sorted(row.cells.items()))) not in already
    ]
    # Only the kinds with open entries are read back, and only their keys are kept.
    wanted: dict[str, set[tuple[str, ...]]] = {}
    for e in open_entries:
        wanted.setdefault(e.row.kind, set()).add(_key_cells(e.row.kind, e.row.raw))
    good_keys: dict[str, set[tuple[str, ...]]] = {}
    for kind, keys in wanted.items():
        if not reading.has(kind):
            continue
        key_index = [KIND_BY_NAME[kind].index(column) for column in RECORD_KINDS[kind].key]
        found = good_keys[kind] = set()
        for row in reading.rows(kind):
            key = tuple(row[i] for i in key_index)
            if key in keys:
                found.add(key)
    fixed = [
        e.id
        for e in open_entries
        if _key_cells(e.row.kind, e.row.raw) in good_keys.get(e.row.kind, set())
    ]
    resolved = uow.resolve_quarantine(fixed) if fixed else 0
    return new_bad, int(resolved)


def _summary(
    folder: Path,
    reading: RegisterStream,
    sources: Sequence[SourceFile],
    kinds: Mapping[str, KindSummary],
    new_bad: Iterable[ReadRow],
    resolved: int,
    import_id: int | None,
    dry_run: bool,
) -> ImportSummary:
    return ImportSummary(
        folder=str(folder),
        dry_run=dry_run,
        import_id=import_id,
        kinds=tuple(kinds[k] for k in IMPORT_ORDER if k in kinds),
        files=tuple(sources),
        warnings=tuple(str(w) for w in reading.warnings),
        new_quarantine=len(list(new_bad)),
        quarantine_ids=(),
        resolved=resolved,
        previous_import=None,
    )
