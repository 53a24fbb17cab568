"""The service layer: a township deployment (乡镇) and its operations.

Open one with `famplan_core.open`; every operation that writes is one unit of work and
takes the acting staff member and the record time (the core never reads the clock: the
command line passes the time it reads).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from famplan_core.benefits import BenefitService
from famplan_core.config import Config, find_config, load_config
from famplan_core.errors import (
    ConfigurationError,
    FamplanWarning,
    StorageError,
    ValidationError,
)
from famplan_core.exchange.importer import ImportSummary, import_register
from famplan_core.exchange.reader import write_register
from famplan_core.exchange.service import ExchangeService
from famplan_core.notices import NoticeService
from famplan_core.plugin_manager import PluginManager
from famplan_core.ports import HistoryEntry, PersonAsOf, QuarantineEntry, Storage
from famplan_core.reporting.runs import Report
from famplan_core.storage.audit import AuditReport
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS

__all__ = ["Township", "open_township"]


class Township:
    """An assembled deployment: its configuration, its plugins and its register.

    Args:
        config: the deployment's configuration.
        plugins: the assembled plugins; assembled from `config` when omitted.
    """

    def __init__(self, config: Config, plugins: PluginManager | None = None) -> None:
        self.config = config
        self.plugins = plugins if plugins is not None else PluginManager.assemble(config)

    @functools.cached_property
    def division(self) -> str:
        """The deployment's division code, as text."""
        return self.config.township.division.value

    @functools.cached_property
    def storage(self) -> Storage:
        """The register's storage, from ``[storage]`` in `famplan.toml`.

        The sql storage seals its audit with the key named by ``[audit] key_file``; the key
        file is made (0600) when it is missing and the audit holds no keyed entry yet, with a
        warning when the register already has entries.

        Raises:
            PluginNotFoundError: no storage plugin has the configured name.
            StorageError: the database cannot be opened or its schema is not current.
            ConfigurationError: the audit is keyed and its key file is missing.
        """
        backend = self.plugins.pick(
            self.plugins.storage_backends(), self.config.storage.backend, "storage backend"
        )
        with _database_errors(self.config.storage_url()):
            storage: Storage = backend(self.config.storage_url())
        opener = getattr(storage, "open_audit_key", None)
        if opener is not None:  # the sql storage seals its audit with the deployment's key
            key_file = self.config.audit_key_path()
            try:
                made = opener(key_file)
            except OSError as exc:  # e.g. a read-only folder: the audit stays unkeyed
                made = False
                warnings.warn(
                    FamplanWarning(
                        f"cannot read or make the audit key {key_file} ({exc}): audit entries "
                        "are not keyed"
                    ),
                    stacklevel=2,
                )
            except BaseException:
                storage.close()
                raise
            key = getattr(storage, "audit_key", None)
            if made and key is not None and key.keyed_from > 1:
                # an existing register: its entries so far stay plain
                warnings.warn(
                    FamplanWarning(
                        f"made the audit key {key_file}: audit entries are keyed from entry "
                        f"{key.keyed_from} on. Back the key up apart from the database"
                    ),
                    stacklevel=2,
                )
        return storage

    @functools.cached_property
    def benefits(self) -> BenefitService:
        """The benefit programs of this deployment: runs, rolls, explanations, checks."""
        return BenefitService.for_township(self)

    @functools.cached_property
    def exchange(self) -> ExchangeService:
        """Data exchange (数据交换) with the province and other townships."""
        return ExchangeService.for_township(self)

    @functools.cached_property
    def notices(self) -> NoticeService:
        """The public notices (公示) of this deployment."""
        return NoticeService.for_township(self)

    def report(
        self,
        name: str = "all",
        *,
        period: str,
        scope: str | None = None,
        public: bool = False,
        state: int | None = None,
        lang: str = "zh",
    ) -> Report:
        """Compute a report (统计报表): one indicator or ``all``, for a period and a scope.

        Args:
            name: an indicator's code, or ``all``.
            period: ``2026``, ``2026-Q3`` or ``2026-03``.
            scope: a division inside the deployment's (default: the whole deployment).
            public: suppress small cells and leave out internal indicators.
            state: recompute as known at this audit entry (a report records its own).
            lang: ``zh`` or ``en`` labels.

        Raises:
            PluginNotFoundError: no indicator has that name.
            ValidationError: the period or scope is wrong, or the indicator is not public.
        """
        from famplan_core.reporting import Period, run_report
        from famplan_core.reporting.runs import program_labels

        indicators = self.plugins.indicators()
        chosen = (
            list(indicators.values())
            if name == "all"
            else [self.plugins.pick(indicators, name, "indicator")]
        )
        if public and name != "all" and chosen[0].disclosure != "public":
            raise ValidationError.single(
                "NAME",
                name,
                f"indicator {name!r} is {chosen[0].disclosure}: it is for staff and is never "
                "published; leave out --public",
            )
        scope = scope or self.division
        if not scope.startswith(self.division):
            raise ValidationError.single(
                "--scope",
                scope,
                f"expected the deployment's division {self.division} or a division inside it",
            )
        return run_report(
            self.storage,
            chosen,
            period=Period.parse(period, path="--period"),
            scope=scope,
            name=name,
            state=state,
            public=public,
            labels=program_labels(self.plugins.programs()),
            lang=lang,
            division_names={self.division: self.config.township.name},
        )

    def render_report(self, report: Report, fmt: str, *, lang: str = "zh") -> bytes:
        """Render a report with a registered renderer (``csv``, ``json``, ``xlsx``, ``html`` …).

        Raises:
            PluginNotFoundError: no renderer has that name; the message lists those that do.
        """
        from famplan_core.reporting import render_report

        renderer = self.plugins.pick(self.plugins.report_renderers(), fmt, "report renderer")()
        buffer = io.BytesIO()
        render_report(renderer, report, buffer, lang=lang)
        return buffer.getvalue()

    def upgrade_database(self, revision: str = "head") -> str:
        """Bring the database schema to `revision` (Alembic); creates the SQLite file.

        Returns:
            The schema revision now current.
        """
        from alembic.util.exc import CommandError

        from famplan_core.storage import migrations
        from famplan_core.storage.engine import create_engine, display_url, hide_password

        url = self.config.storage_url()
        engine = create_engine(url)
        try:
            with _database_errors(url):
                migrations.upgrade_engine(engine, revision)
                return migrations.current_revision(engine) or ""
        except CommandError as exc:
            raise ConfigurationError(
                f"cannot upgrade {display_url(url)} to schema revision {revision!r}: "
                f"{hide_password(str(exc), url)} (use 'head' for the newest)"
            ) from None
        finally:
            engine.dispose()

    def import_register(
        self,
        folder: Path,
        *,
        actor: str,
        today: dt.date,
        recorded_at: dt.datetime,
        encoding: str | None = None,
        dry_run: bool = False,
    ) -> ImportSummary:
        """Import a register folder (spec ``register-format.md``): one unit of work.

        Args:
            folder: the register folder.
            actor: who imports.
            today: the date of the run (births or deaths after it are bad rows).
            recorded_at: the record time.
            encoding: the files' encoding when not detected.
            dry_run: check and count, store nothing.
        """
        return import_register(
            self.storage,  # type: ignore[arg-type]
            folder,
            today=today,
            actor=actor,
            recorded_at=recorded_at,
            encoding=encoding,
            dry_run=dry_run,
        )

    def export_register(
        self, folder: Path, *, fmt: str = "csv", encoding: str = "utf-8"
    ) -> dict[str, int]:
        """Write the current register to `folder` in the register format (values as stored).

        Returns:
            Rows written per file.
        """
        written: dict[str, int] = {}
        with self.storage.reader() as reader:
            rows_by_kind: dict[str, Any] = {}
            for kind in RECORD_KINDS:
                columns, rows = reader.export_rows(kind)
                materialised = list(rows)
                if kind == "persons" or materialised:
                    rows_by_kind[kind] = (columns, materialised)
                    written[f"{kind}.{fmt}"] = len(materialised)
            write_register(
                folder,
                {kind: rows for kind, (_columns, rows) in rows_by_kind.items()},
                fmt=fmt,
                encoding=encoding,
            )
        return written

    def quarantine(self, *, status: str | None = "open") -> list[QuarantineEntry]:
        """The rows kept in quarantine (default: those still open)."""
        with self.storage.reader() as reader:
            return reader.list_quarantine(status=status)

    def discard_quarantine(self, ids: list[int], *, actor: str, recorded_at: dt.datetime) -> int:
        """Discard quarantined rows a person decided not to fix.

        Returns:
            How many entries were discarded.

        Raises:
            RecordNotFoundError: an id is not an open quarantine entry.
        """
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="quarantine-discard"
        ) as uow:
            return uow.discard_quarantine(ids)

    def verify_audit(self, anchors: Sequence[tuple[int, str]] = ()) -> AuditReport:
        """Check the whole audit: its keyed chain, and the entry each roll and notice recorded.

        Args:
            anchors: further ``(entry id, hash)`` pairs the audit must still hold, e.g. the
                register state written in a report's metadata or a roll's footer.

        Returns:
            What was found: ``ok``, the entries checked, and the first bad entry when the
            chain is broken (it does not raise for a broken chain).

        Raises:
            ConfigurationError: the audit is keyed and its key file is missing.
            StorageError: the storage backend cannot verify its audit in detail.
        """
        return self._sql_storage("verify its audit").audit_report(anchors)

    def accept_audit_break(
        self, *, actor: str, recorded_at: dt.datetime, reason: str
    ) -> AuditReport:
        """Accept a broken audit so that the office can go on writing (audited).

        Writes one audit entry recording the first bad entry, the broken anchors, what is
        wrong and the reason. Later verifications report the break as accepted.

        Returns:
            The verification that found the break.

        Raises:
            ValidationError: the reason is empty.
            StorageError: the audit is intact: nothing to accept.
        """
        return self._sql_storage("accept an audit break").accept_audit_break(
            actor=actor, recorded_at=recorded_at, reason=reason
        )

    def _sql_storage(self, what: str) -> SqlStorage:
        storage = self.storage
        if not isinstance(storage, SqlStorage):
            raise StorageError(
                f"the storage backend {self.config.storage.backend!r} cannot {what}: only "
                "the sql storage keeps a keyed audit"
            )
        return storage

    def person(
        self, person_id: str, *, as_of: dt.date, known_at: dt.datetime | None = None
    ) -> tuple[PersonAsOf, list[HistoryEntry]]:
        """One person as of a date, with the history of every change recorded about them.

        Raises:
            RecordNotFoundError: no such person is stored.
        """
        with self.storage.reader() as reader:
            view = reader.person_as_of(person_id, as_of, known_at=known_at)
            history = reader.person_history(person_id)
        return view, history

    @property
    def storage_display_url(self) -> str:
        """Where the register is stored, fit to print: a password in the URL is masked."""
        from famplan_core.storage.engine import display_url

        return display_url(self.config.storage_url())

    def __repr__(self) -> str:
        return f"<Township {self.config.township.name} {self.division}>"


@contextlib.contextmanager
def _database_errors(url: str) -> Iterator[None]:
    """Turn a database driver's failure into one clear StorageError naming the database.

    The message never holds the URL's password, and the driver's error is not chained (its
    text, shown in a traceback, may quote the connection string).
    """
    import sqlalchemy.exc

    from famplan_core.storage.engine import display_url, hide_password

    try:
        yield
    except sqlalchemy.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(
            f"cannot use the database {display_url(url)}: {hide_password(reason, url)}"
        ) from None
    except StorageError as exc:
        text = str(exc)
        if hide_password(text, url) == text:
            raise
        raise StorageError(hide_password(text, url)) from None


def open_township(
    path: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Township:
    """Open the deployment whose `famplan.toml` is at `path` (a file or its folder).

    Without `path`: the ``FAMPLAN_CONFIG`` variable, then `famplan.toml` in the current
    folder.

    Args:
        path: the configuration file, or the folder holding it.
        environ: the environment for plugin loading (default: ``os.environ``).

    Raises:
        ConfigurationError: no configuration was found, or it is wrong.
        PluginError: the plugins cannot be assembled.
    """
    if path is not None:
        path = Path(path)
        if path.is_dir():
            path = path / "famplan.toml"
    config = load_config(find_config(path))
    return Township(config, PluginManager.assemble(config, environ=environ))
