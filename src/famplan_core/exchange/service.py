"""The exchange service (数据交换): export, import, receipts, the outbox, verification requests.

`ExchangeService` is a deployment's exchange with its partners (the provincial population
system, other townships) over its SQL storage, its formats and its transport. Every operation
that writes is one unit of work with its audit entry; the caller passes the actor and the
times (the core never reads the clock).

* `ExchangeService.export` makes one batch for a partner of everything due: messages queued
  (verification requests and answers) and messages derived from the register and the rolls
  (`famplan_core.exchange.outbound`) not yet sent, puts it in the outbox and sends it.
* `ExchangeService.import_parcel` takes a batch: a replay returns the stored receipt and
  changes nothing; a batch that cannot be taken is refused whole (`BatchRejectedError`) and
  a rejection goes back; otherwise each message is applied or quarantined, all in one
  transaction, and the receipt goes back through the outbox. A receipt that arrives settles
  the batch it answers.
* `ExchangeService.receive` imports everything the transport has, and files each parcel away.
* `ExchangeService.flush_outbox` sends what is pending; a failed send stays pending with its
  error and is tried again next time, so nothing is lost.

Settings come from ``[plugins.core-exchange]`` in `famplan.toml`: ``folder`` (default
``exchange`` beside the file), ``transport`` (default ``folder``), ``format`` (default
``jsonl``) and ``partner_formats`` (a division prefix → format name, e.g. ``{"37" =
"province-csv"}``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import attrs
import sqlalchemy as sa

from famplan_core.errors import (
    ConfigurationError,
    ExchangeError,
    Problem,
    RecordNotFoundError,
    StorageError,
)
from famplan_core.exchange.batch import (
    MANIFEST_NAME,
    MAX_FILE_BYTES,
    MAX_MANIFEST_BYTES,
    RECEIPT_NAME,
    BatchRejectedError,
    ConflictError,
    MalformedBatchError,
    Manifest,
    Message,
    ParcelSource,
    Receipt,
    TransportError,
    UnsafeParcelError,
    check_entries,
    check_partner,
    pack,
    parcel_name_parts,
    read_member,
    unpack,
)
from famplan_core.exchange.formats import ExchangeFormat, JsonLinesFormat
from famplan_core.exchange.inbound import ApplyResult, apply_batch, person_rows
from famplan_core.exchange.ledger import (
    BatchRecord,
    ExchangeLedger,
    LedgerMessage,
    OutboxEntry,
)
from famplan_core.exchange.messages import VERIFIABLE_PROGRAMS, minimise
from famplan_core.exchange.outbound import derived_messages
from famplan_core.exchange.reconcile import ReconcileReport, reconcile
from famplan_core.exchange.transports import ExchangeTransport, FolderParcel, FolderTransport
from famplan_core.ports import QuarantineEntry
from famplan_core.storage import exchange_tables as xt
from famplan_core.storage.sql import SqlStorage
from famplan_core.storage.tables import RECORD_KINDS

__all__ = [
    "PLUGIN_SETTINGS",
    "RECEIPT_BASE_BYTES",
    "RECEIPT_MESSAGE_BYTES",
    "ExchangeService",
    "ExchangeSettings",
    "ExchangeStatus",
    "ExportSummary",
    "ImportOutcome",
    "QueuedRequest",
    "exchange_service",
]

RECEIPT_BASE_BYTES = 64 << 10
"""The most a receipt may hold besides its messages' lines (64 KiB)."""

RECEIPT_MESSAGE_BYTES = 16 << 10
"""The most a receipt may hold for each message of the batch it answers (16 KiB)."""

PLUGIN_SETTINGS = "core-exchange"
"""The name of the ``[plugins.<name>]`` table holding the exchange settings."""


@attrs.frozen(kw_only=True)
class ExchangeSettings:
    """A deployment's exchange settings (``[plugins.core-exchange]``).

    Attributes:
        folder: the exchange folder (the folder transport's drop).
        transport: the transport's ``PLUGIN_NAME``.
        format: the default format's ``PLUGIN_NAME``.
        partner_formats: a partner's division prefix → the format to send it (the longest
            matching prefix wins).
    """

    folder: Path
    transport: str = "folder"
    format: str = "jsonl"
    partner_formats: Mapping[str, str] = attrs.Factory(dict)

    @classmethod
    def from_config(cls, config: Any) -> ExchangeSettings:
        """Read the settings of a deployment's configuration.

        Args:
            config: a `famplan_core.config.Config`.

        Raises:
            ConfigurationError: a setting has the wrong type.
        """
        raw = dict(config.plugin_settings(PLUGIN_SETTINGS))
        folder = raw.pop("folder", "exchange")
        transport = raw.pop("transport", "folder")
        fmt = raw.pop("format", "jsonl")
        partner_formats = raw.pop("partner_formats", {})
        if raw:
            raise ConfigurationError(
                f"[plugins.{PLUGIN_SETTINGS}]: unknown setting(s) {', '.join(sorted(raw))}; "
                "known: folder, transport, format, partner_formats"
            )
        if not all(isinstance(v, str) for v in (folder, transport, fmt)) or not isinstance(
            partner_formats, dict
        ):
            raise ConfigurationError(
                f"[plugins.{PLUGIN_SETTINGS}]: folder, transport and format are text, "
                'partner_formats a table such as {"37" = "province-csv"}'
            )
        path = Path(folder)
        if not path.is_absolute():
            path = config.folder / path
        return cls(
            folder=path,
            transport=transport,
            format=fmt,
            partner_formats={str(k): str(v) for k, v in partner_formats.items()},
        )


@attrs.frozen(kw_only=True)
class ExportSummary:
    """What one export did.

    Attributes:
        partner: the receiver.
        batch_id: the batch made, or None when nothing was due.
        messages: message type → how many the batch holds.
        sent: whether the batch left (else it waits in the outbox).
        warnings: things left out, e.g. a mover without an ID number.
    """

    partner: str
    batch_id: str | None
    messages: Mapping[str, int]
    sent: bool
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "partner": self.partner,
            "batch_id": self.batch_id,
            "messages": dict(self.messages),
            "sent": self.sent,
            "warnings": list(self.warnings),
        }


@attrs.frozen(kw_only=True)
class ImportOutcome:
    """What importing one parcel did.

    Attributes:
        parcel: the parcel's name.
        kind: ``batch`` or ``receipt``.
        status: ``applied`` (a batch taken), ``replayed`` (a batch taken before: nothing
            changed), ``rejected`` (refused whole), ``quarantined`` (set aside unread: it
            holds a symbolic link, a folder, a device or a FIFO), ``failed`` (it could not
            be read now, e.g. no permission: left where it is, tried again next time),
            ``settled`` (a receipt recorded), ``unchanged`` (a receipt already recorded) or
            ``unknown`` (a receipt for no batch of ours).
        receipt: the receipt sent back (a batch) or received (a receipt), if any.
        applied: messages applied.
        quarantined: messages quarantined.
        duplicates: messages received before.
        reasons: why a parcel was refused, quarantined or failed.
    """

    parcel: str
    kind: str
    status: str
    receipt: Receipt | None = None
    applied: int = 0
    quarantined: int = 0
    duplicates: int = 0
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "parcel": self.parcel,
            "kind": self.kind,
            "status": self.status,
            "applied": self.applied,
            "quarantined": self.quarantined,
            "duplicates": self.duplicates,
            "reasons": list(self.reasons),
            "receipt": None if self.receipt is None else self.receipt.as_dict(),
        }


@attrs.frozen(kw_only=True)
class ExchangeStatus:
    """The state of the exchange, for ``famplan exchange status``.

    Attributes:
        counts: messages by direction and outcome, batches by direction and status.
        outbox: every outbox entry not sent yet, and the latest sent ones.
        batches: the latest batches in and out.
        quarantine: the open quarantine entries that came from the exchange.
    """

    counts: Mapping[str, Mapping[str, int]]
    outbox: tuple[OutboxEntry, ...]
    batches: tuple[BatchRecord, ...]
    quarantine: tuple[QuarantineEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "outbox": [attrs.asdict(e) for e in self.outbox],
            "batches": [
                {
                    **{k: v for k, v in attrs.asdict(b, recurse=False).items() if k != "receipt"},
                    "receipt": None if b.receipt is None else b.receipt.as_dict(),
                }
                for b in self.batches
            ],
            "quarantine": [
                {
                    "id": q.id,
                    "file": q.row.file,
                    "line": q.row.line,
                    "message_type": q.row.raw.get("message_type"),
                    "problems": [str(p) for p in q.row.problems],
                }
                for q in self.quarantine
            ],
        }


@attrs.frozen(kw_only=True)
class QueuedRequest:
    """A verification request waiting for the next export.

    Attributes:
        to: the township asked.
        message: the request.
    """

    to: str
    message: Message


class _TownshipLike(Protocol):
    config: Any
    plugins: Any

    @property
    def storage(self) -> Any: ...

    @property
    def division(self) -> str: ...


class ExchangeService:
    """A deployment's exchange (数据交换服务).

    Args:
        storage: the SQL storage holding the register and the ledger.
        division: this deployment's division code.
        formats: the exchange formats known, by ``PLUGIN_NAME`` (classes).
        transport: the transport, or None to keep parcels in the outbox only.
        default_format: the format to send with.
        partner_formats: a partner's division prefix → format name.
    """

    def __init__(
        self,
        storage: SqlStorage,
        *,
        division: str,
        formats: Mapping[str, type[Any]] | None = None,
        transport: ExchangeTransport | None = None,
        default_format: str = "jsonl",
        partner_formats: Mapping[str, str] | None = None,
    ) -> None:
        self.storage = storage
        self.division = check_partner(division, "division")
        self.formats: dict[str, type[Any]] = dict(formats or {"jsonl": JsonLinesFormat})
        self.transport = transport
        self.default_format = default_format
        self.partner_formats = dict(partner_formats or {})

    @classmethod
    def for_township(cls, township: _TownshipLike) -> ExchangeService:
        """The exchange of an assembled deployment: its storage, formats, transport, settings.

        Args:
            township: a `famplan_core.township.Township`.

        Raises:
            StorageError: the storage is not the SQL storage.
            PluginNotFoundError: the configured transport or format is not installed.
            ConfigurationError: the settings are wrong.
        """
        storage = township.storage
        if not isinstance(storage, SqlStorage):
            raise StorageError(
                "the exchange needs the SQL storage (SQLite or PostgreSQL); the deployment "
                f"uses {type(storage).__name__}"
            )
        settings = ExchangeSettings.from_config(township.config)
        plugins = township.plugins
        # the core's own format and transport are always there, registered or not
        formats = {JsonLinesFormat.PLUGIN_NAME: JsonLinesFormat, **plugins.exchange_formats()}
        for name in (settings.format, *settings.partner_formats.values()):
            plugins.pick(formats, name, "exchange format")
        transports = {FolderTransport.PLUGIN_NAME: FolderTransport, **plugins.exchange_transports()}
        transport_cls = plugins.pick(transports, settings.transport, "exchange transport")
        return cls(
            storage,
            division=township.division,
            formats=formats,
            transport=transport_cls(
                settings.folder, township.config.plugin_settings(PLUGIN_SETTINGS)
            ),
            default_format=settings.format,
            partner_formats=settings.partner_formats,
        )

    # -- formats -------------------------------------------------------------------------

    def format_for(self, partner: str, name: str | None = None) -> ExchangeFormat:
        """The format to send a partner: `name`, else the longest matching partner prefix's,
        else the default.

        Raises:
            ExchangeError: no format of that name is known.
        """
        if name is None:
            matches = [p for p in self.partner_formats if partner.startswith(p)]
            name = self.partner_formats[max(matches, key=len)] if matches else self.default_format
        cls = self.formats.get(name)
        if cls is None:
            raise ExchangeError(
                f"no exchange format is named {name!r}; known: {', '.join(sorted(self.formats))}"
            )
        fmt: ExchangeFormat = cls()
        return fmt

    # -- sending -------------------------------------------------------------------------

    def export(
        self,
        to: str,
        *,
        actor: str,
        recorded_at: dt.datetime,
        since: dt.datetime | None = None,
        fmt: str | None = None,
        send: bool = True,
    ) -> ExportSummary:
        """Make and send one batch of everything due to a partner.

        Due: the messages queued for it, and those derived from the register and the rolls
        (recorded at or after `since`, if given) that were never sent or were rejected.

        Args:
            to: the partner's division code.
            actor: who exports.
            recorded_at: the record time, also the batch's creation time.
            since: only derive from what was recorded at or after this time.
            fmt: the format's name (default: from the settings).
            send: send it now (else it waits in the outbox).

        Raises:
            ExchangeError: a bad division code, an unknown format, or a message the format
                cannot carry.
        """
        check_partner(to, "--to")
        if to == self.division:
            raise ExchangeError(f"--to {to}: that is this deployment itself")
        chosen = self.format_for(to, fmt)
        with self.storage.reader() as reader:
            ledger = ExchangeLedger(reader.connection)
            derived, warnings = derived_messages(
                reader.connection, division=self.division, partner=to, since=since
            )
            queued = ledger.queued(to)
            known = ledger.messages("out", to, (m.id for m in derived))
        messages: dict[str, Message] = {}
        for q in queued:
            messages[q.message_id] = Message(
                id=q.message_id, type=q.message_type, payload=q.payload
            )
        again: list[str] = []
        fresh: list[Message] = []
        for m in derived:
            if m.id in messages:
                continue
            previous = known.get(m.id)
            if previous is None:
                fresh.append(m)
            elif previous.outcome == "rejected":
                again.append(m.id)
            else:
                continue
            messages[m.id] = m
        if not messages:
            return ExportSummary(
                partner=to, batch_id=None, messages={}, sent=False, warnings=tuple(warnings)
            )
        carried = chosen.MESSAGE_TYPES
        if carried is not None:
            odd = sorted({m.type for m in messages.values()} - carried)
            if odd:
                raise ExchangeError(
                    f"the {chosen.PLUGIN_NAME} format cannot carry {', '.join(odd)} messages; "
                    "choose another with --format"
                )
        ordered = list(messages.values())
        parcel = pack(
            ordered, sender=self.division, receiver=to, created_at=recorded_at, fmt=chosen
        )
        batch_id = parcel.batch_id
        manifest_bytes = parcel.files[MANIFEST_NAME]
        counts: dict[str, int] = {}
        for m in ordered:
            counts[m.type] = counts.get(m.type, 0) + 1
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-export"
        ) as uow:
            ledger = ExchangeLedger(uow.connection)
            ledger.insert_batch(
                direction="out",
                partner=to,
                batch_id=batch_id,
                manifest_digest=hashlib.sha256(manifest_bytes).hexdigest(),
                fmt=chosen.PLUGIN_NAME,
                status="created",
                message_count=len(ordered),
                receipt=None,
                recorded_at=uow.recorded_at,
                uow_id=uow.id,
            )
            moved = {q.message_id: ("sent", ()) for q in queued}
            moved.update(dict.fromkeys(again, ("sent", ())))
            if moved:
                ledger.set_outcomes(direction="out", partner=to, outcomes=moved, batch_id=batch_id)
            ledger.insert_messages(
                direction="out",
                partner=to,
                batch_id=batch_id,
                messages=[
                    LedgerMessage(
                        message_id=m.id,
                        message_type=m.type,
                        payload_hash=m.payload_hash,
                        outcome="sent",
                        payload=m.payload,
                    )
                    for m in fresh
                ],
                recorded_at=uow.recorded_at,
                uow_id=uow.id,
            )
            ledger.add_to_outbox(
                kind="batch",
                parcel=parcel,
                batch_id=batch_id,
                receiver=to,
                created_at=uow.recorded_at,
                uow_id=uow.id,
            )
            uow.audit(exchange={"batch_id": batch_id, "to": to, "messages": counts})
        sent = False
        if send:
            self.flush_outbox(actor=actor, recorded_at=recorded_at)
            with self.storage.reader() as reader:
                sent = not any(
                    e.batch_id == batch_id and e.kind == "batch"
                    for e in ExchangeLedger(reader.connection).outbox(status="pending")
                )
        return ExportSummary(
            partner=to, batch_id=batch_id, messages=counts, sent=sent, warnings=tuple(warnings)
        )

    def flush_outbox(self, *, actor: str, recorded_at: dt.datetime) -> tuple[int, int]:
        """Send every pending parcel of the outbox; a failure stays pending with its error.

        Args:
            actor: who sends.
            recorded_at: the record time of the outcome.

        Returns:
            (sent, failed) counts.
        """
        if self.transport is None:
            return 0, 0
        with self.storage.reader() as reader:
            ledger = ExchangeLedger(reader.connection)
            pending = ledger.outbox(status="pending")
            parcels = [(e, ledger.parcel(e.outbox_id)) for e in pending]
        if not parcels:
            return 0, 0
        results: list[tuple[int, str | None]] = []
        for entry, parcel in parcels:
            try:
                self.transport.send(parcel)
                results.append((entry.outbox_id, None))
            except (TransportError, OSError) as exc:
                results.append((entry.outbox_id, f"{type(exc).__name__}: {exc}"))
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-send"
        ) as uow:
            ledger = ExchangeLedger(uow.connection)
            for outbox_id, error in results:
                if error is None:
                    ledger.outbox_sent(outbox_id, uow.recorded_at)
                else:
                    ledger.outbox_failed(outbox_id, error)
            failed = sum(1 for _i, e in results if e is not None)
            uow.audit(outbox={"sent": len(results) - failed, "failed": failed})
        return len(results) - failed, failed

    def resend_unacknowledged(
        self, *, actor: str, recorded_at: dt.datetime, older_than: dt.datetime
    ) -> int:
        """Put back in the outbox the batches sent before `older_than` that got no receipt.

        Args:
            actor: who does it.
            recorded_at: the record time.
            older_than: batches sent before this time.

        Returns:
            How many batches will be sent again.
        """
        with self.storage.reader() as reader:
            ledger = ExchangeLedger(reader.connection)
            waiting = [
                e.batch_id
                for e in ledger.outbox(status="sent")
                if e.kind == "batch"
                and e.sent_at is not None
                and e.sent_at < _naive(older_than)
                and (record := ledger.batch("out", e.receiver, e.batch_id)) is not None
                and record.status == "created"
            ]
        if not waiting:
            return 0
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-resend"
        ) as uow:
            n = ExchangeLedger(uow.connection).resend(waiting)
            uow.audit(resent=waiting)
        return n

    # -- verification requests -----------------------------------------------------------

    def request_verification(
        self,
        person_id: str,
        *,
        program: str,
        actor: str,
        recorded_at: dt.datetime,
        to: str | None = None,
    ) -> QueuedRequest:
        """Queue a verification request (协查) about a person who moved in.

        The request goes to `to`, or by default to the township the person's move came from.
        Export to that township to send it; the answer comes back as ``verification_reply``
        and ``verified_child`` messages, applied when imported.

        Args:
            person_id: the person (who must have an ID number).
            program: the program whose rules need the answer (the purpose).
            actor: who asks.
            recorded_at: the record time (its date is the request's date).
            to: the township to ask.

        Returns:
            The township asked and the request.

        Raises:
            RecordNotFoundError: no such person is stored.
            ExchangeError: the person has no ID number, the program needs no verification,
                or no former township is known and `to` is not given.
        """
        if program not in VERIFIABLE_PROGRAMS:
            raise ExchangeError(
                f"program {program!r} needs no verification; verifiable: "
                + ", ".join(sorted(VERIFIABLE_PROGRAMS))
            )
        with self.storage.reader() as reader:
            rows = person_rows(reader.connection, person_ids=[person_id])
            if not rows:
                raise RecordNotFoundError(f"person {person_id!r}: no such person is stored")
            if to is None:
                moves = ExchangeLedger(reader.connection).received_about(person_id, "hukou_move")
                townships = [p for p, _m in moves if len(p) >= 9]
                if not townships:
                    raise ExchangeError(
                        f"person {person_id!r}: no move from another township was received; "
                        "name the township to ask with --to"
                    )
                to = townships[-1]
        check_partner(to, "--to")
        person = dict(zip(_PERSON_COLUMNS, rows[0], strict=True))
        if not person["citizen_id"]:
            raise ExchangeError(
                f"person {person_id!r} has no ID number: a request cannot name them"
            )
        when = _naive(recorded_at)
        payload = minimise(
            "verification_request",
            {
                "citizen_id": person["citizen_id"],
                "name": person["name"],
                "birth_date": person["birth_date"],
                "program": program,
                "asked_on": when.date(),
            },
        )
        message = Message.new(
            sender=self.division, message_type="verification_request", payload=payload
        )
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-request"
        ) as uow:
            ledger = ExchangeLedger(uow.connection)
            if not ledger.messages("out", to, [message.id]):
                ledger.insert_messages(
                    direction="out",
                    partner=to,
                    batch_id=None,
                    messages=[
                        LedgerMessage(
                            message_id=message.id,
                            message_type=message.type,
                            payload_hash=message.payload_hash,
                            outcome="queued",
                            subject_id=person_id,
                            payload=message.payload,
                        )
                    ],
                    recorded_at=uow.recorded_at,
                    uow_id=uow.id,
                )
            uow.audit(request={"to": to, "person_id": person_id, "program": program})
        return QueuedRequest(to=to, message=message)

    # -- receiving -----------------------------------------------------------------------

    def _send_now(self, receipt: Receipt) -> None:
        if self.transport is None:
            return
        # On failure the sender sends the batch again, and its replay answers with this receipt.
        with contextlib.suppress(TransportError, OSError):
            self.transport.send(receipt.to_parcel())

    def import_parcel(
        self,
        parcel: ParcelSource,
        *,
        actor: str,
        recorded_at: dt.datetime,
        today: dt.date,
        answer: bool = True,
    ) -> ImportOutcome:
        """Take one parcel: a batch (applied, replayed or refused) or a receipt.

        Args:
            parcel: the parcel: a `Parcel` in memory, or one on disk read as a stream
                (`famplan_core.exchange.transports.FolderParcel`).
            actor: who imports.
            recorded_at: the record time.
            today: the processing date (dates after it are refused).
            answer: send the receipt and any verification answers now.

        Raises:
            BatchRejectedError: the batch is refused whole (`MalformedBatchError` for a file
                that cannot be read, `ConflictError` for a batch id seen with other
                content, `UnsafeParcelError` for an entry that is not a regular file);
                nothing is stored, and a rejection receipt goes back.
            MalformedBatchError: the parcel's name or a receipt cannot be read.
            TransportError: a file of the parcel cannot be opened now.
        """
        if parcel_name_parts(parcel.name)[0] == "receipt":
            return self._take_receipt(parcel, actor=actor, recorded_at=recorded_at)
        when = _naive(recorded_at)
        try:
            replayed = self._seen_before(parcel, when)
            if replayed is not None:
                return replayed
            decoded = unpack(parcel, formats=self.formats, receiver=self.division)
            manifest = decoded.manifest
            with self.storage.reader() as reader:
                seen = ExchangeLedger(reader.connection).batch(
                    "in", manifest.sender, manifest.batch_id
                )
            if seen is not None:
                return self._replayed(parcel, seen, decoded.manifest_digest, when)
            result: ApplyResult | None = None
            with self.storage.unit_of_work(
                actor=actor, recorded_at=recorded_at, operation="exchange-import"
            ) as uow:
                ledger = ExchangeLedger(uow.connection)
                seen = ledger.batch("in", manifest.sender, manifest.batch_id)
                if seen is None:
                    result = apply_batch(uow, decoded, division=self.division, today=today)
                    ledger.insert_batch(
                        direction="in",
                        partner=manifest.sender,
                        batch_id=manifest.batch_id,
                        manifest_digest=decoded.manifest_digest,
                        fmt=manifest.format,
                        status="applied",
                        message_count=manifest.message_total,
                        receipt=result.receipt,
                        recorded_at=uow.recorded_at,
                        uow_id=uow.id,
                    )
                    ledger.add_to_outbox(
                        kind="receipt",
                        parcel=result.receipt.to_parcel(),
                        batch_id=manifest.batch_id,
                        receiver=manifest.sender,
                        created_at=uow.recorded_at,
                        uow_id=uow.id,
                    )
                    uow.audit(
                        exchange={
                            "batch_id": manifest.batch_id,
                            "from": manifest.sender,
                            "applied": result.applied,
                            "quarantined": result.quarantined,
                            "duplicates": result.duplicates,
                        }
                    )
            if result is None:
                with self.storage.reader() as reader:
                    seen = ExchangeLedger(reader.connection).batch(
                        "in", manifest.sender, manifest.batch_id
                    )
                assert seen is not None
                return self._replayed(parcel, seen, decoded.manifest_digest, when)
        except BatchRejectedError as error:
            receiver = error.sender or _sender_of(parcel)
            if receiver and receiver != self.division:
                self._send_now(
                    Receipt.rejection(
                        error
                        if error.batch_id
                        else type(error)(
                            error.problems, batch_id=_batch_of(parcel), sender=receiver
                        ),
                        sender=self.division,
                        receiver=receiver,
                        created_at=when,
                    )
                )
            raise
        if answer:
            self.flush_outbox(actor=actor, recorded_at=recorded_at)
            for partner, n in result.replies.items():
                if n:
                    self.export(partner, actor=actor, recorded_at=recorded_at)
        return ImportOutcome(
            parcel=parcel.name,
            kind="batch",
            status="applied",
            receipt=result.receipt,
            applied=result.applied,
            quarantined=result.quarantined,
            duplicates=result.duplicates,
        )

    def _seen_before(self, parcel: ParcelSource, when: dt.datetime) -> ImportOutcome | None:
        """The stored answer to a batch whose manifest was received before, unread again.

        The manifest carries every file's SHA-256, so the same manifest is the same batch
        (a damaged file would change nothing anyway: the batch was applied before). A parcel
        holding anything but regular files is refused first (`UnsafeParcelError`).
        """
        entries = check_entries(parcel)
        if entries.get(MANIFEST_NAME) != "file":
            return None
        try:
            raw = read_member(parcel, MANIFEST_NAME, MAX_MANIFEST_BYTES)
            manifest = Manifest.from_bytes(raw)
        except UnsafeParcelError:
            raise
        except MalformedBatchError:
            return None
        if manifest.receiver != self.division:
            return None
        with self.storage.reader() as reader:
            seen = ExchangeLedger(reader.connection).batch("in", manifest.sender, manifest.batch_id)
        if seen is None or seen.manifest_digest != hashlib.sha256(raw).hexdigest():
            return None
        return self._replayed(parcel, seen, seen.manifest_digest, when)

    def _replayed(
        self, parcel: ParcelSource, seen: BatchRecord, digest: str, when: dt.datetime
    ) -> ImportOutcome:
        if seen.manifest_digest != digest:
            raise ConflictError(
                [
                    _problem(
                        "manifest.json:batch_id",
                        "conflict: a batch with this id was received before with other content; "
                        "the first one stands",
                        seen.batch_id,
                    )
                ],
                batch_id=seen.batch_id,
                sender=seen.partner,
            )
        if seen.receipt is not None:
            self._send_now(seen.receipt)
        return ImportOutcome(
            parcel=parcel.name, kind="batch", status="replayed", receipt=seen.receipt
        )

    def _take_receipt(
        self, parcel: ParcelSource, *, actor: str, recorded_at: dt.datetime
    ) -> ImportOutcome:
        """Record a receipt for one of our batches.

        It is matched to its batch by partner and batch id, and the parcel's name must say
        the same as its content (who sends it, to whom, for which batch); it marks only the
        messages that are in that batch now (a message named that is not is left alone),
        checked again inside the unit of work that writes. A receipt is one JSON document,
        read whole: it may hold at most `RECEIPT_BASE_BYTES` and `RECEIPT_MESSAGE_BYTES` per
        message of the batch its name answers, so a partner cannot make it large.
        """
        entries = check_entries(parcel)
        if set(entries) != {RECEIPT_NAME}:
            raise MalformedBatchError(
                [_problem("parcel", f"a receipt parcel holds {RECEIPT_NAME} only", parcel.name)]
            )
        _kind, named_sender, named_receiver, named_batch = parcel_name_parts(parcel.name)
        with self.storage.reader() as reader:
            named = ExchangeLedger(reader.connection).batch("out", named_sender, named_batch)
        limit = RECEIPT_BASE_BYTES + (0 if named is None else named.message_count) * (
            RECEIPT_MESSAGE_BYTES
        )
        receipt = Receipt.from_json(read_member(parcel, RECEIPT_NAME, min(limit, MAX_FILE_BYTES)))
        if receipt.receiver != self.division:
            raise BatchRejectedError(
                [
                    _problem(
                        f"{RECEIPT_NAME}:receiver",
                        f"the receipt is for {receipt.receiver}, not this deployment",
                        receipt.receiver,
                    )
                ],
                batch_id=receipt.batch_id,
            )
        if (named_sender, named_receiver, named_batch) != (
            receipt.sender,
            receipt.receiver,
            receipt.batch_id,
        ):
            raise BatchRejectedError(
                [
                    _problem(
                        "parcel",
                        f"the parcel is named for batch {named_batch} from {named_sender} to "
                        f"{named_receiver}, but its receipt answers batch {receipt.batch_id} "
                        f"from {receipt.sender} to {receipt.receiver}",
                        parcel.name,
                    )
                ],
                batch_id=named_batch,
            )
        ids = [m.id for m in receipt.messages]
        if len(set(ids)) != len(ids):
            raise BatchRejectedError(
                [_problem(f"{RECEIPT_NAME}:messages", "a message id is answered twice")],
                batch_id=receipt.batch_id,
            )
        with self.storage.reader() as reader:
            ledger = ExchangeLedger(reader.connection)
            record = ledger.batch("out", receipt.sender, receipt.batch_id)
            if record is None:
                return ImportOutcome(
                    parcel=parcel.name, kind="receipt", status="unknown", receipt=receipt
                )
            outcomes, foreign = _receipt_outcomes(reader.connection, receipt)
        notes = (
            (
                f"{len(foreign)} message(s) it names are not in batch {receipt.batch_id}: "
                f"left alone ({', '.join(foreign[:3])}{', …' if len(foreign) > 3 else ''})",
            )
            if foreign
            else ()
        )
        status = "acknowledged" if receipt.status == "accepted" else "rejected"
        if record.status == status and record.receipt == receipt and not outcomes:
            return ImportOutcome(
                parcel=parcel.name,
                kind="receipt",
                status="unchanged",
                receipt=receipt,
                reasons=notes,
            )
        with self.storage.unit_of_work(
            actor=actor, recorded_at=recorded_at, operation="exchange-receipt"
        ) as uow:
            ledger = ExchangeLedger(uow.connection)
            ledger.settle_batch(receipt.sender, receipt.batch_id, receipt)
            outcomes, _foreign = _receipt_outcomes(uow.connection, receipt)
            if outcomes:
                ledger.set_outcomes(
                    direction="out",
                    partner=receipt.sender,
                    outcomes=outcomes,
                    in_batch=receipt.batch_id,
                )
            uow.audit(
                receipt={
                    "batch_id": receipt.batch_id,
                    "from": receipt.sender,
                    "status": receipt.status,
                }
            )
        return ImportOutcome(
            parcel=parcel.name, kind="receipt", status="settled", receipt=receipt, reasons=notes
        )

    def import_path(
        self, path: Path, *, actor: str, recorded_at: dt.datetime, today: dt.date
    ) -> list[ImportOutcome]:
        """Import a parcel folder, or every parcel in a folder of parcels (e.g. an inbox).

        Each parcel is taken on its own: one refused whole (``rejected``), set aside as
        unsafe (``quarantined``) or unreadable (``failed``) is reported, not raised, so that
        the others are taken.

        Args:
            path: a parcel folder, or a folder holding parcel folders.
            actor: who imports.
            recorded_at: the record time.
            today: the processing date.

        Raises:
            ExchangeError: the path is neither.
        """
        if not path.is_dir():
            raise ExchangeError(f"{path}: no such folder")
        children = [p for p in path.iterdir() if not p.name.startswith(".")]
        single = path.name.startswith(("batch_", "receipt_")) or any(
            p.is_symlink() or not p.is_dir() for p in children
        )
        if single:
            paths = [path]
        else:
            paths = sorted(children, key=lambda p: (p.name.startswith("receipt_"), p.name))
        return [
            self._import_one(FolderParcel(p), actor=actor, recorded_at=recorded_at, today=today)
            for p in paths
        ]

    def _import_one(
        self, parcel: ParcelSource, *, actor: str, recorded_at: dt.datetime, today: dt.date
    ) -> ImportOutcome:
        """Import one parcel, whatever happens to it: its outcome is always reported."""
        kind = "receipt" if parcel.name.startswith("receipt_") else "batch"
        try:
            return self.import_parcel(parcel, actor=actor, recorded_at=recorded_at, today=today)
        except UnsafeParcelError as error:
            return ImportOutcome(
                parcel=parcel.name,
                kind=kind,
                status="quarantined",
                reasons=tuple(str(p) for p in error.problems),
            )
        except BatchRejectedError as error:
            return ImportOutcome(
                parcel=parcel.name,
                kind=kind,
                status="rejected",
                reasons=tuple(str(p) for p in error.problems),
            )
        except (TransportError, OSError) as error:
            return ImportOutcome(
                parcel=parcel.name,
                kind=kind,
                status="failed",
                reasons=(f"{type(error).__name__}: {error}",),
            )

    def receive(
        self, *, actor: str, recorded_at: dt.datetime, today: dt.date
    ) -> list[ImportOutcome]:
        """Import every parcel the transport has, each on its own, file each away, and send
        what is pending.

        A parcel that is refused is filed as rejected, one holding anything but regular files
        as quarantined, and one that cannot be read now stays where it is (``failed``); none
        of them stops the others, and every parcel's outcome is returned.

        Args:
            actor: who imports.
            recorded_at: the record time.
            today: the processing date.
        """
        if self.transport is None:
            return []
        outcomes: list[ImportOutcome] = []
        for parcel in list(self.transport.receive()):
            outcome = self._import_one(parcel, actor=actor, recorded_at=recorded_at, today=today)
            if outcome.status != "failed":
                try:
                    self.transport.done(
                        parcel,
                        rejected=outcome.status == "rejected",
                        quarantined=outcome.status == "quarantined",
                    )
                except (TransportError, OSError) as exc:
                    outcome = attrs.evolve(
                        outcome,
                        reasons=(*outcome.reasons, f"not filed away: {exc}"),
                    )
            outcomes.append(outcome)
        self.flush_outbox(actor=actor, recorded_at=recorded_at)
        return outcomes

    # -- looking -------------------------------------------------------------------------

    def reconcile(
        self, snapshot: Path, *, today: dt.date, encoding: str | None = None
    ) -> ReconcileReport:
        """Compare the register with a provincial snapshot in the register format.

        Args:
            snapshot: the snapshot folder.
            today: the date of the comparison.
            encoding: the snapshot's encoding when not detected.

        Raises:
            MalformedFileError: a snapshot file cannot be read as the register format.
        """
        return reconcile(
            self.storage, snapshot, division=self.division, today=today, encoding=encoding
        )

    def status(self, *, batches: int = 20) -> ExchangeStatus:
        """The ledger's counts, the outbox, the latest batches and the exchange's quarantine.

        Args:
            batches: how many of the latest batches to list.
        """
        with self.storage.reader() as reader:
            ledger = ExchangeLedger(reader.connection)
            outbox = ledger.outbox()
            pending = [e for e in outbox if e.status == "pending"]
            recent = [e for e in outbox if e.status == "sent"][-10:]
            return ExchangeStatus(
                counts=ledger.counts(),
                outbox=tuple(pending + recent),
                batches=tuple(ledger.batches(limit=batches)),
                quarantine=tuple(
                    q
                    for q in reader.list_quarantine(status="open")
                    if q.row.file.startswith("exchange:")
                ),
            )


_PERSON_COLUMNS: tuple[str, ...] = RECORD_KINDS["persons"].columns


def _naive(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _problem(path: str, message: str, value: str = "") -> Problem:
    return Problem(path=path, value=value, message=message)


def _sender_of(parcel: ParcelSource) -> str:
    try:
        return parcel_name_parts(parcel.name)[1]
    except MalformedBatchError:
        return ""


def _batch_of(parcel: ParcelSource) -> str:
    try:
        return parcel_name_parts(parcel.name)[3]
    except MalformedBatchError:
        return ""


def _messages_of_batch(connection: sa.Connection, partner: str, batch_id: str) -> dict[str, Any]:
    m = xt.exchange_messages.c
    return {
        str(r[0]): (str(r[1]), tuple(json.loads(r[2])) if r[2] else ())
        for r in connection.execute(
            sa.select(m.message_id, m.outcome, m.reasons).where(
                m.direction == "out", m.partner == partner, m.batch_id == batch_id
            )
        )
    }


def _receipt_outcomes(
    connection: sa.Connection, receipt: Receipt
) -> tuple[dict[str, tuple[str, tuple[str, ...]]], list[str]]:
    """The outcomes a receipt changes (only of messages in the batch it answers), and the
    ids it names that are not in that batch (left alone)."""
    in_batch = _messages_of_batch(connection, receipt.sender, receipt.batch_id)
    outcomes: dict[str, tuple[str, tuple[str, ...]]] = {}
    foreign: list[str] = []
    for m in receipt.messages:
        stored = in_batch.get(m.id)
        if stored is None:
            foreign.append(m.id)
        elif stored != (m.outcome, m.reasons):
            outcomes[m.id] = (m.outcome, m.reasons)
    if receipt.status == "rejected":
        for mid, (outcome, _reasons) in in_batch.items():
            if outcome != "rejected":
                outcomes[mid] = ("rejected", receipt.reasons)
    return outcomes, foreign


def exchange_service(township: _TownshipLike) -> ExchangeService:
    """The exchange service of a deployment (`ExchangeService.for_township`).

    Args:
        township: a `famplan_core.township.Township`.
    """
    return ExchangeService.for_township(township)
