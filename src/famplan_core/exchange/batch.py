"""Exchange batches (交换批次): messages, the manifest, parcels and receipts.

A **batch** carries messages from one division (the sender) to another (the receiver): the
provincial population system and a township, or two townships. On the wire it is a
**parcel**: a folder of files, one ``manifest.json`` and the message files of the batch's
format (`famplan_core.exchange.formats`). The manifest names the batch, the sender and the
receiver, when it was made, the format and its version, how many messages of each type it
holds, and the size and SHA-256 of every other file, so that a truncated or altered file is
found before anything is read from it.

Every message has a globally unique id: the sender's division code and the SHA-256 of the
message's type and payload (`message_id`), so the same fact sent twice has the same id and
the receiver's ledger recognises it. A **receipt** goes back for every batch: accepted (each
message accepted or rejected with its reasons) or rejected whole.

Unpacking a parcel (`unpack`) checks everything that can be checked without the register
and raises `BatchRejectedError` (or a subclass) when the batch cannot be taken at all.

Example:
    >>> import datetime as dt
    >>> from famplan_core.exchange.formats import JsonLinesFormat
    >>> m = Message.new(sender="37", message_type="death",
    ...                 payload={"citizen_id": "11010519491231002X", "name": "张三",
    ...                          "death_date": "2026-01-05"})
    >>> parcel = pack([m], sender="37", receiver="371502110",
    ...               created_at=dt.datetime(2026, 1, 6, 8, 0), fmt=JsonLinesFormat())
    >>> sorted(parcel.files)
    ['manifest.json', 'messages.jsonl']
    >>> batch = unpack(parcel, formats={"jsonl": JsonLinesFormat}, receiver="371502110")
    >>> batch.messages[0].id == m.id
    True
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Protocol, overload, runtime_checkable

import attrs

from famplan_core.errors import ExchangeError, Problem

if TYPE_CHECKING:
    from famplan_core.exchange.formats import ExchangeFormat

__all__ = [
    "FORMAT_VERSION",
    "MANIFEST_NAME",
    "MAX_FILE_BYTES",
    "MAX_LINE_BYTES",
    "MAX_MANIFEST_BYTES",
    "MAX_MESSAGES",
    "RECEIPT_NAME",
    "BatchRejectedError",
    "ConflictError",
    "DecodedBatch",
    "FileEntry",
    "MalformedBatchError",
    "Manifest",
    "Message",
    "MessageOutcome",
    "Parcel",
    "ParcelSource",
    "RawMessage",
    "Receipt",
    "TransportError",
    "UnsafeParcelError",
    "canonical_json",
    "check_entries",
    "check_partner",
    "is_township",
    "message_id",
    "naive_utc",
    "pack",
    "parcel_name_parts",
    "payload_hash",
    "read_member",
    "unpack",
]

FORMAT_VERSION: Final = 1
"""The version of the batch layout (manifest, receipt, message envelope) this code writes."""

MANIFEST_NAME: Final = "manifest.json"
RECEIPT_NAME: Final = "receipt.json"

MAX_FILE_BYTES: Final = 1 << 30
"""The largest file a parcel may hold (1 GiB); a larger one refuses the batch."""

MAX_MESSAGES: Final = 2_000_000
"""The most messages one batch may hold."""

MAX_MANIFEST_BYTES: Final = 1 << 20
"""The largest ``manifest.json`` read (1 MiB)."""

MAX_LINE_BYTES: Final = 1 << 20
"""The longest line a line-by-line message file may hold (1 MiB); a longer one refuses the batch."""

_CHUNK_BYTES: Final = 1 << 16

_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._:-]{0,63}")
_PARTNER = re.compile(r"[1-9][0-9](?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{3}(?:[0-9]{3})?)?)?)?")
_TYPE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_FILE_NAME = re.compile(r"[0-9A-Za-z_][0-9A-Za-z_.-]{0,99}")
_KINDS: Final = ("batch", "receipt")


# -- errors ------------------------------------------------------------------------------


class BatchRejectedError(ExchangeError):
    """A batch cannot be taken at all: nothing from it is stored, a rejection goes back.

    Args:
        problems: every reason found (at least one).
        batch_id: the batch's id when it could be read, else ``""``.
        sender: the sender's division when it could be read, else ``""``.
    """

    def __init__(
        self, problems: Iterable[Problem], *, batch_id: str = "", sender: str = ""
    ) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems) or (
            Problem(path="batch", value="", message="rejected"),
        )
        self.batch_id = batch_id
        self.sender = sender
        lead = f"batch {batch_id or '(unnamed)'}" + (f" from {sender}" if sender else "")
        detail = "; ".join(str(p) for p in self.problems[:5])
        more = f" (and {len(self.problems) - 5} more)" if len(self.problems) > 5 else ""
        super().__init__(f"{lead} is rejected: {detail}{more}")


class MalformedBatchError(BatchRejectedError):
    """A file of the batch cannot be read as its format (encoding, syntax, checksum)."""


class ConflictError(BatchRejectedError):
    """A batch or message id already seen arrives with other content (冲突): refused."""


class UnsafeParcelError(MalformedBatchError):
    """A parcel holds something that is not a regular file (a symbolic link, a folder, a
    device, a FIFO, a socket), or is itself not a plain folder: nothing in it is read, and
    the parcel is quarantined (set aside for the office) rather than filed as processed."""


class TransportError(ExchangeError):
    """A parcel could not be sent or received; the outbox tries again later."""


def _problem(path: str, message: str, value: object = "") -> Problem:
    shown = "" if value is None else str(value)
    shown = shown.encode("utf-8", "backslashreplace").decode("utf-8")
    path = path.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(shown) > 80:
        shown = shown[:80] + "…"
    return Problem(path=path, value=shown, message=message)


# -- ids and hashes ----------------------------------------------------------------------


def canonical_json(value: object) -> str:
    """The canonical JSON text of a value: sorted keys, no spaces, Unicode as is.

    Args:
        value: JSON-able data.
    """
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def payload_hash(message_type: str, payload: Mapping[str, object]) -> str:
    """The SHA-256 of a message's type and payload, as the ledger keeps it.

    Args:
        message_type: e.g. ``death``.
        payload: the payload as sent (or as received, before any normalising).
    """
    text = canonical_json([message_type, dict(payload)])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def message_id(sender: str, message_type: str, payload: Mapping[str, object]) -> str:
    """The globally unique id of a message: the sender's division and the payload's hash.

    The same fact sent twice gets the same id, so the receiver recognises it.

    Args:
        sender: the sender's division code.
        message_type: the message type.
        payload: the payload.
    """
    return f"{sender}.{payload_hash(message_type, payload)[:40]}"


def check_partner(code: str, path: str = "partner") -> str:
    """Check an exchange partner's division code: 2, 4, 6, 9 or 12 ASCII digits.

    Args:
        code: the code.
        path: where it came from, for the message.

    Raises:
        ExchangeError: the code has another form.
    """
    if not isinstance(code, str) or _PARTNER.fullmatch(code) is None:
        raise ExchangeError(
            f"{path}: expected a division code of 2, 4, 6, 9 or 12 digits (e.g. 37 for the "
            f"province, 371502115 for a township), found {code!r}"
        )
    return code


def is_township(code: str) -> bool:
    """Whether a partner's division code names a township (9 digits) or finer.

    Args:
        code: a partner's division code.
    """
    return len(code) >= 9


# -- messages ----------------------------------------------------------------------------


def _frozen_payload(payload: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(payload))


@attrs.frozen(kw_only=True)
class Message:
    """A message (报文) to send: its id, its type and its payload of text fields.

    Build one with `Message.new`, which gives it its id. Empty fields are left out of the
    payload.

    Attributes:
        id: the globally unique message id.
        type: the message type, e.g. ``hukou_move`` (see `famplan_core.exchange.messages`).
        payload: field name → text.
    """

    id: str
    type: str
    payload: Mapping[str, str] = attrs.field(converter=_frozen_payload)

    @classmethod
    def new(cls, *, sender: str, message_type: str, payload: Mapping[str, str | None]) -> Message:
        """A message with its id made from the sender and the payload.

        Args:
            sender: the sender's division code.
            message_type: the message type.
            payload: field name → text; empty and None values are left out.
        """
        kept = {k: v for k, v in payload.items() if v}
        return cls(id=message_id(sender, message_type, kept), type=message_type, payload=kept)

    @property
    def payload_hash(self) -> str:
        """The SHA-256 of the type and payload (see `payload_hash`)."""
        return payload_hash(self.type, self.payload)


@attrs.frozen(kw_only=True)
class RawMessage:
    """A message as read from a batch, before its payload is checked.

    Attributes:
        id: the message id.
        type: the message type as written (it may be unknown).
        payload: field name → value as decoded (any JSON value; checked later).
        file: the file it was read from.
        line: its line in that file (1 is the first line; the header for CSV).
    """

    id: str
    type: str
    payload: Mapping[str, Any]
    file: str
    line: int

    @property
    def payload_hash(self) -> str:
        """The SHA-256 of the type and payload as received."""
        return payload_hash(self.type, self.payload)


# -- the manifest --------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FileEntry:
    """A file of a batch as the manifest lists it.

    Attributes:
        sha256: the SHA-256 of its bytes, hexadecimal.
        size: its size in bytes.
    """

    sha256: str
    size: int


def naive_utc(t: dt.datetime) -> dt.datetime:
    """A time in UTC without a zone: an aware time is converted, a naive one taken as UTC.

    Args:
        t: the time.
    """
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t


def _utc_text(t: dt.datetime) -> str:
    return naive_utc(t).isoformat(timespec="seconds") + "Z"


@attrs.frozen(kw_only=True)
class Manifest:
    """The manifest (清单) of a batch: what it is and what it holds.

    Attributes:
        batch_id: the batch's id, unique for its sender.
        sender: the sender's division code (``37`` for the province, 9 digits for a township).
        receiver: the receiver's division code.
        created_at: when the sender made it (UTC, naive), given by the sender's caller.
        format: the message format's ``PLUGIN_NAME``, e.g. ``jsonl``.
        format_version: the batch layout version (`FORMAT_VERSION`).
        message_counts: message type → how many messages of it.
        files: file name → its size and SHA-256 (the manifest itself is not listed).
    """

    batch_id: str
    sender: str
    receiver: str
    created_at: dt.datetime
    format: str
    format_version: int
    message_counts: Mapping[str, int]
    files: Mapping[str, FileEntry]

    @property
    def message_total(self) -> int:
        """How many messages the batch holds."""
        return sum(self.message_counts.values())

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data, the form written to ``manifest.json``."""
        return {
            "batch_id": self.batch_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "created_at": _utc_text(self.created_at),
            "format": self.format,
            "format_version": self.format_version,
            "message_counts": dict(sorted(self.message_counts.items())),
            "files": {
                name: {"sha256": entry.sha256, "size": entry.size}
                for name, entry in sorted(self.files.items())
            },
        }

    def to_bytes(self) -> bytes:
        """The manifest's file content (UTF-8 JSON, indented for people)."""
        text = json.dumps(self.as_dict(), ensure_ascii=False, indent=2, sort_keys=True)
        return (text + "\n").encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Read a manifest.

        Args:
            data: the bytes of ``manifest.json``.

        Raises:
            MalformedBatchError: it is not a manifest of this layout; every problem listed.
        """
        where = MANIFEST_NAME
        try:
            document = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise MalformedBatchError(
                [_problem(where, f"not UTF-8 JSON: {type(exc).__name__}: {exc}")]
            ) from None
        if not isinstance(document, dict):
            raise MalformedBatchError([_problem(where, "expected a JSON object")])
        if b"\\u" in data:
            try:
                json.dumps(document, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:
                raise MalformedBatchError(
                    [_problem(where, "an escape gives a lone surrogate: not Unicode text")]
                ) from None
        problems: list[Problem] = []
        expected = {
            "batch_id",
            "sender",
            "receiver",
            "created_at",
            "format",
            "format_version",
            "message_counts",
            "files",
        }
        for key in sorted(set(document) - expected):
            problems.append(_problem(f"{where}:{key}", "unknown key"))
        for key in sorted(expected - set(document)):
            problems.append(_problem(f"{where}:{key}", "missing"))
        if problems:
            raise MalformedBatchError(problems, batch_id=_text_or_empty(document.get("batch_id")))
        batch_id = document["batch_id"]
        if not isinstance(batch_id, str) or _ID.fullmatch(batch_id) is None:
            problems.append(
                _problem(
                    f"{where}:batch_id", "expected 1-64 letters, digits, '.', ':' or '-'", batch_id
                )
            )
            batch_id = ""
        sender, receiver = document["sender"], document["receiver"]
        for key, value in (("sender", sender), ("receiver", receiver)):
            if not isinstance(value, str) or _PARTNER.fullmatch(value) is None:
                problems.append(
                    _problem(f"{where}:{key}", "expected a division code of 2-12 digits", value)
                )
        created: dt.datetime | None = None
        raw_created = document["created_at"]
        if isinstance(raw_created, str) and raw_created.endswith("Z") and len(raw_created) < 40:
            try:
                created = dt.datetime.fromisoformat(raw_created[:-1])
            except ValueError:
                created = None
        if created is None or created.tzinfo is not None:
            problems.append(
                _problem(
                    f"{where}:created_at",
                    "expected a UTC time such as 2026-01-06T08:00:00Z",
                    raw_created,
                )
            )
        fmt = document["format"]
        if not isinstance(fmt, str) or not fmt or len(fmt) > 60:
            problems.append(_problem(f"{where}:format", "expected a format name", fmt))
        version = document["format_version"]
        if version != FORMAT_VERSION or isinstance(version, bool):
            problems.append(
                _problem(
                    f"{where}:format_version",
                    f"this famplan-core reads batch layout version {FORMAT_VERSION}",
                    version,
                )
            )
        counts: dict[str, int] = {}
        raw_counts = document["message_counts"]
        if not isinstance(raw_counts, dict):
            problems.append(_problem(f"{where}:message_counts", "expected an object"))
        else:
            for name, count in raw_counts.items():
                if (
                    not isinstance(count, int)
                    or isinstance(count, bool)
                    or not 0 < count <= MAX_MESSAGES
                    or len(name) > 40
                ):
                    problems.append(
                        _problem(
                            f"{where}:message_counts:{name[:40]}",
                            f"expected a count from 1 to {MAX_MESSAGES}",
                            count,
                        )
                    )
                else:
                    counts[name] = count
            if sum(counts.values()) > MAX_MESSAGES:
                problems.append(
                    _problem(f"{where}:message_counts", f"more than {MAX_MESSAGES} messages")
                )
        files: dict[str, FileEntry] = {}
        raw_files = document["files"]
        if not isinstance(raw_files, dict) or not raw_files:
            problems.append(_problem(f"{where}:files", "expected an object naming every file"))
        else:
            for name, entry in raw_files.items():
                path = f"{where}:files:{name[:100]}"
                if _FILE_NAME.fullmatch(name) is None or name in (MANIFEST_NAME, RECEIPT_NAME):
                    problems.append(_problem(path, "not an allowed file name", name))
                    continue
                if (
                    not isinstance(entry, dict)
                    or set(entry) != {"sha256", "size"}
                    or not isinstance(entry["sha256"], str)
                    or re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]) is None
                    or not isinstance(entry["size"], int)
                    or isinstance(entry["size"], bool)
                    or not 0 <= entry["size"] <= MAX_FILE_BYTES
                ):
                    problems.append(
                        _problem(path, 'expected {"sha256": 64 hex digits, "size": bytes}')
                    )
                    continue
                files[name] = FileEntry(sha256=entry["sha256"], size=entry["size"])
        if problems:
            raise MalformedBatchError(
                problems, batch_id=batch_id, sender=sender if isinstance(sender, str) else ""
            )
        assert created is not None
        return cls(
            batch_id=batch_id,
            sender=sender,
            receiver=receiver,
            created_at=created,
            format=fmt,
            format_version=version,
            message_counts=MappingProxyType(counts),
            files=MappingProxyType(files),
        )


def _text_or_empty(value: object) -> str:
    return value if isinstance(value, str) and _ID.fullmatch(value) else ""


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(f"the key {key!r} appears twice")
        result[key] = value
    return result


# -- parcels -------------------------------------------------------------------------------


_KIND_OF_MODE: Final = ("file", "symbolic link", "folder", "device", "FIFO", "socket", "other")


@runtime_checkable
class ParcelSource(Protocol):
    """What `unpack` reads a parcel from: its name, its entries, and each file as a stream.

    `Parcel` (files in memory) is one; the folder drop's parcels on disk
    (`famplan_core.exchange.transports.FolderParcel`) are another, read without following a
    symbolic link and without holding a whole file in memory.
    """

    @property
    def name(self) -> str:
        """The parcel's name, ``KIND_SENDER_RECEIVER_BATCHID``."""
        ...

    def entries(self) -> Mapping[str, str]:
        """Every entry of the parcel, by name → what it is, without reading any.

        ``file`` for a regular file; otherwise ``symbolic link``, ``folder``, ``device``,
        ``FIFO``, ``socket`` or ``other``.

        Raises:
            UnsafeParcelError: the parcel itself is not a plain folder.
            TransportError: it cannot be listed.
        """
        ...

    def open(self, name: str) -> BinaryIO:
        """One regular file of the parcel, as a binary stream (the caller closes it).

        Raises:
            UnsafeParcelError: the entry is not a regular file (never followed if a link).
            TransportError: it cannot be opened.
        """
        ...


def parcel_name_parts(name: str) -> tuple[str, str, str, str]:
    """The kind, sender, receiver and batch id a parcel's name gives.

    Args:
        name: e.g. ``batch_37_371502110_37-20260106080000-3f2a``.

    Raises:
        MalformedBatchError: the name is not of that form.
    """
    parts = name.split("_", 3)
    if (
        len(parts) != 4
        or parts[0] not in _KINDS
        or _PARTNER.fullmatch(parts[1]) is None
        or _PARTNER.fullmatch(parts[2]) is None
        or _ID.fullmatch(parts[3]) is None
    ):
        raise MalformedBatchError(
            [
                _problem(
                    "parcel",
                    "a parcel is named KIND_SENDER_RECEIVER_BATCHID, e.g. "
                    "batch_37_371502110_37-20260106080000-3f2a",
                    name,
                )
            ]
        )
    return parts[0], parts[1], parts[2], parts[3]


def _frozen_files(files: Mapping[str, bytes]) -> Mapping[str, bytes]:
    return MappingProxyType(dict(files))


@attrs.frozen(kw_only=True)
class Parcel:
    """What a transport carries (包裹): a batch or a receipt, as named files of bytes.

    Its name says what it is and where it goes, so a transport or the hub can route it
    without reading it: ``KIND_SENDER_RECEIVER_BATCHID``.

    Attributes:
        name: e.g. ``batch_371502110_371502115_371502110-20260106080000-3f2a``.
        files: file name → content.
    """

    name: str
    files: Mapping[str, bytes] = attrs.field(converter=_frozen_files)

    @classmethod
    def named(
        cls, *, kind: str, sender: str, receiver: str, batch_id: str, files: Mapping[str, bytes]
    ) -> Parcel:
        """A parcel with its name made from what it is.

        Args:
            kind: ``batch`` or ``receipt``.
            sender: who sends it.
            receiver: who receives it.
            batch_id: the batch (for a receipt: the batch it answers).
            files: its files.
        """
        return cls(name=f"{kind}_{sender}_{receiver}_{batch_id}", files=files)

    def entries(self) -> Mapping[str, str]:
        """Every file, by name → ``file`` (a parcel in memory holds files only)."""
        return dict.fromkeys(self.files, "file")

    def open(self, name: str) -> BinaryIO:
        """A file's content as a stream.

        Raises:
            TransportError: no such file.
        """
        data = self.files.get(name)
        if data is None:
            raise TransportError(f"parcel {self.name}: no file {name}")
        return io.BytesIO(data)

    def _parts(self) -> tuple[str, str, str, str]:
        return parcel_name_parts(self.name)

    @property
    def kind(self) -> str:
        """``batch`` or ``receipt``.

        Raises:
            MalformedBatchError: the name is not of that form.
        """
        return self._parts()[0]

    @property
    def sender(self) -> str:
        """The sender's division code, from the name."""
        return self._parts()[1]

    @property
    def receiver(self) -> str:
        """The receiver's division code, from the name."""
        return self._parts()[2]

    @property
    def batch_id(self) -> str:
        """The batch's id (for a receipt, of the batch it answers), from the name."""
        return self._parts()[3]


def check_entries(parcel: ParcelSource) -> Mapping[str, str]:
    """The entries of a parcel, refused when any is not a regular file; nothing is read.

    Args:
        parcel: the parcel.

    Returns:
        Its entries (each a regular file), by name.

    Raises:
        UnsafeParcelError: an entry is a symbolic link, a folder, a device, a FIFO or a
            socket (every one named), or the parcel itself is not a plain folder.
    """
    entries = parcel.entries()
    problems = [
        _problem(name, f"a parcel holds regular files only; this is a {kind}")
        for name, kind in sorted(entries.items())
        if kind != "file"
    ]
    if problems:
        raise UnsafeParcelError(problems, batch_id=_batch_of_name(parcel.name))
    return entries


def _batch_of_name(name: str) -> str:
    try:
        return parcel_name_parts(name)[3]
    except MalformedBatchError:
        return ""


def read_member(parcel: ParcelSource, name: str, limit: int) -> bytes:
    """A small file of a parcel (a manifest, a receipt), read whole up to `limit` bytes.

    Args:
        parcel: the parcel.
        name: the file.
        limit: the most bytes it may hold.

    Raises:
        MalformedBatchError: it is larger than `limit`.
        UnsafeParcelError: it is not a regular file.
    """
    with parcel.open(name) as stream:
        data = stream.read(limit + 1)
    if len(data) > limit:
        raise MalformedBatchError([_problem(name, f"larger than {limit} bytes")])
    return data


def pack(
    messages: Sequence[Message],
    *,
    sender: str,
    receiver: str,
    created_at: dt.datetime,
    fmt: ExchangeFormat,
    batch_id: str | None = None,
) -> Parcel:
    """Encode messages as a batch parcel with its manifest.

    Args:
        messages: the messages (each id at most once).
        sender: the sender's division code.
        receiver: the receiver's division code.
        created_at: when the batch is made (from the caller; the core never reads the clock).
        fmt: the format to encode with.
        batch_id: the batch's id; by default the sender, the time and a digest of the ids.

    Raises:
        ExchangeError: no messages, a repeated id, or a message the format cannot carry.
    """
    check_partner(sender, "sender")
    check_partner(receiver, "receiver")
    if not messages:
        raise ExchangeError("a batch needs at least one message")
    ids = [m.id for m in messages]
    if len(set(ids)) != len(ids):
        raise ExchangeError("a batch may hold each message id once")
    if batch_id is None:
        digest = hashlib.sha256("\n".join([receiver, *ids]).encode("utf-8")).hexdigest()
        stamp = naive_utc(created_at).strftime("%Y%m%d%H%M%S")
        batch_id = f"{sender}-{stamp}-{digest[:12]}"
    if _ID.fullmatch(batch_id) is None:
        raise ExchangeError(f"batch id {batch_id!r}: expected 1-64 letters, digits, '.', ':', '-'")
    files = dict(fmt.encode(messages))
    counts: dict[str, int] = {}
    for m in messages:
        counts[m.type] = counts.get(m.type, 0) + 1
    naive = naive_utc(created_at)
    manifest = Manifest(
        batch_id=batch_id,
        sender=sender,
        receiver=receiver,
        created_at=naive.replace(microsecond=0),
        format=fmt.PLUGIN_NAME,
        format_version=FORMAT_VERSION,
        message_counts=MappingProxyType(counts),
        files=MappingProxyType(
            {
                name: FileEntry(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
                for name, data in files.items()
            }
        ),
    )
    files[MANIFEST_NAME] = manifest.to_bytes()
    return Parcel.named(
        kind="batch", sender=sender, receiver=receiver, batch_id=batch_id, files=files
    )


@attrs.frozen(kw_only=True)
class DecodedBatch:
    """A batch parcel read and checked, before any message is applied.

    Attributes:
        manifest: its manifest.
        manifest_digest: the SHA-256 of the manifest's bytes (the batch's fingerprint).
        messages: its messages in file order, payloads not yet checked. For a parcel read
            from disk they are read again, line by line, each time they are iterated, and
            every file's size and SHA-256 are checked again as it is read (a file changed
            since the check refuses the batch); for a parcel in memory they are a tuple.
    """

    manifest: Manifest
    manifest_digest: str
    messages: Sequence[RawMessage]


class _Verified(io.RawIOBase):
    """A file of a parcel read through the size and SHA-256 its manifest gives: a byte more
    than the size, or the wrong size or digest at the end, raises `MalformedBatchError`."""

    def __init__(self, raw: BinaryIO, name: str, entry: FileEntry) -> None:
        super().__init__()
        self._raw = raw
        self._name = name
        self._entry = entry
        self._hash = hashlib.sha256()
        self._size = 0
        self._checked = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self._entry.size - self._size + 1)
        data = self._raw.read(want)
        n = len(data)
        view[:n] = data
        self._size += n
        if self._size > self._entry.size:
            raise MalformedBatchError(
                [
                    _problem(
                        self._name,
                        f"more than the {self._entry.size} bytes the manifest says: "
                        "truncated or altered",
                    )
                ]
            )
        if n:
            self._hash.update(data)
        else:
            self.verify()
        return n

    def verify(self) -> None:
        """Check the size and digest of what was read (at the end of the file)."""
        if self._checked:
            return
        self._checked = True
        if self._size != self._entry.size:
            raise MalformedBatchError(
                [
                    _problem(
                        self._name,
                        f"{self._size} bytes, but the manifest says {self._entry.size}: "
                        "truncated or altered",
                    )
                ]
            )
        if self._hash.hexdigest() != self._entry.sha256:
            raise MalformedBatchError(
                [
                    _problem(
                        self._name, "its SHA-256 differs from the manifest's: altered or damaged"
                    )
                ]
            )

    def drain(self) -> None:
        """Read (and check) the rest of the file."""
        while self.readinto(bytearray(_CHUNK_BYTES)):
            pass

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()


class _Kept(io.BufferedReader):
    """A buffered stream a format cannot close (a text wrapper closing it on its way out
    would stop the check of the rest); `_Streams.close` closes it."""

    def close(self) -> None:
        pass

    def release(self) -> None:
        super().close()


class _Streams(Mapping[str, BinaryIO]):
    """The message files of a batch, each opened (checked as read) when first asked for."""

    def __init__(self, parcel: ParcelSource, files: Mapping[str, FileEntry]) -> None:
        self._parcel = parcel
        self._files = files
        self.opened: dict[str, _Verified] = {}
        self._buffered: dict[str, _Kept] = {}

    def __getitem__(self, name: str) -> BinaryIO:
        stream = self._buffered.get(name)
        if stream is None:
            entry = self._files[name]
            verified = _Verified(self._parcel.open(name), name, entry)
            self.opened[name] = verified
            stream = _Kept(verified, _CHUNK_BYTES)
            self._buffered[name] = stream
        return stream

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def finish(self) -> None:
        """Read to the end, and check, every file the format opened."""
        for name, verified in self.opened.items():
            buffered = self._buffered[name]
            while buffered.read(_CHUNK_BYTES):
                pass
            verified.verify()

    def close(self) -> None:
        for stream in self._buffered.values():
            stream.release()


class _Messages(Sequence[RawMessage]):
    """The messages of a checked parcel, decoded afresh (line by line) on each iteration."""

    def __init__(
        self,
        parcel: ParcelSource,
        manifest: Manifest,
        format_class: type[Any],
    ) -> None:
        self._parcel = parcel
        self._manifest = manifest
        self._format_class = format_class

    def __iter__(self) -> Iterator[RawMessage]:
        batch, sender = self._manifest.batch_id, self._manifest.sender
        streams = _Streams(self._parcel, self._manifest.files)
        try:
            yield from self._format_class().decode(streams)
            streams.finish()
        except BatchRejectedError as exc:
            raise type(exc)(exc.problems, batch_id=batch, sender=sender) from None
        except (TransportError, OSError):
            raise
        except (ExchangeError, ValueError, UnicodeError, RecursionError, MemoryError) as exc:
            raise MalformedBatchError(
                [_problem("messages", f"cannot be read: {type(exc).__name__}: {exc}")],
                batch_id=batch,
                sender=sender,
            ) from None
        finally:
            streams.close()

    def __len__(self) -> int:
        return self._manifest.message_total

    @overload
    def __getitem__(self, index: int) -> RawMessage: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[RawMessage]: ...

    def __getitem__(self, index: int | slice) -> RawMessage | Sequence[RawMessage]:
        # reads the files again: for looking at a few messages, not for a loop
        return tuple(self)[index]


def _check_file(parcel: ParcelSource, name: str, entry: FileEntry) -> Problem | None:
    try:
        with _Verified(parcel.open(name), name, entry) as stream:
            stream.drain()
    except UnsafeParcelError:
        raise
    except MalformedBatchError as exc:
        return exc.problems[0]
    return None


def unpack(
    parcel: ParcelSource, *, formats: Mapping[str, type[Any]], receiver: str
) -> DecodedBatch:
    """Read and check a batch parcel: entries, manifest, files, checksums, format, ids, counts.

    In this order, so that nothing is read that should not be: every entry must be a
    regular file (nothing is read otherwise, and no link is followed); the manifest is read
    (at most `MAX_MANIFEST_BYTES`); every other file must be listed in it (nothing else is
    read otherwise); each file's size and SHA-256 are checked while streaming it; then the
    messages are decoded line by line. No file is ever held in memory whole.

    Args:
        parcel: the parcel received (`Parcel`, or a parcel on disk).
        formats: the exchange formats known, by ``PLUGIN_NAME`` (classes).
        receiver: this deployment's division code: the batch must be addressed to it.

    Raises:
        UnsafeParcelError: an entry is not a regular file (a symbolic link, a folder, a
            device, a FIFO, a socket); nothing is read.
        MalformedBatchError: the manifest or a file cannot be read, a file is missing,
            extra, truncated or altered (size or SHA-256), or a message file breaks its
            format; nothing is taken.
        BatchRejectedError: the batch is for another receiver, its format is unknown, a
            message id repeats, or the counts disagree with the manifest.
        TransportError: a file cannot be opened or read.
    """
    entries = check_entries(parcel)
    if MANIFEST_NAME not in entries:
        raise MalformedBatchError(
            [_problem("parcel", f"no {MANIFEST_NAME} in the parcel", parcel.name)],
            batch_id=_batch_of_name(parcel.name),
        )
    raw_manifest = read_member(parcel, MANIFEST_NAME, MAX_MANIFEST_BYTES)
    manifest = Manifest.from_bytes(raw_manifest)
    batch, sender = manifest.batch_id, manifest.sender
    problems: list[Problem] = []
    if manifest.receiver != receiver:
        problems.append(
            _problem(
                f"{MANIFEST_NAME}:receiver",
                f"the batch is addressed to {manifest.receiver}, not to this deployment "
                f"({receiver})",
                manifest.receiver,
            )
        )
    if manifest.sender == receiver:
        problems.append(
            _problem(
                f"{MANIFEST_NAME}:sender", "the batch comes from this deployment itself", sender
            )
        )
    present = set(entries) - {MANIFEST_NAME}
    for name in sorted(present - set(manifest.files)):
        problems.append(_problem(name, "a file the manifest does not list: nothing was read"))
    for name in sorted(set(manifest.files) - present):
        problems.append(_problem(name, "listed in the manifest but missing from the parcel"))
    if problems:
        raise MalformedBatchError(problems, batch_id=batch, sender=sender)
    for name, entry in sorted(manifest.files.items()):
        problem = _check_file(parcel, name, entry)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise MalformedBatchError(problems, batch_id=batch, sender=sender)
    format_class = formats.get(manifest.format)
    if format_class is None:
        known = ", ".join(sorted(formats)) or "none"
        raise BatchRejectedError(
            [
                _problem(
                    f"{MANIFEST_NAME}:format",
                    f"no exchange format of that name is installed; known: {known}",
                    manifest.format,
                )
            ],
            batch_id=batch,
            sender=sender,
        )
    messages = _Messages(parcel, manifest, format_class)
    in_memory = isinstance(parcel, Parcel)
    kept: list[RawMessage] = []
    seen: dict[str, tuple[str, int]] = {}
    counts: dict[str, int] = {}
    for m in messages:
        if in_memory:
            kept.append(m)
        if not isinstance(m.id, str) or _ID.fullmatch(m.id) is None:
            problems.append(
                _problem(
                    f"{m.file}:{m.line}:id", "expected 1-64 letters, digits, '.', ':', '-'", m.id
                )
            )
            continue
        if not isinstance(m.type, str) or _TYPE.fullmatch(m.type) is None:
            problems.append(
                _problem(f"{m.file}:{m.line}:type", "expected a message type such as death", m.type)
            )
            continue
        if m.id in seen:
            first_file, first_line = seen[m.id]
            problems.append(
                _problem(
                    f"{m.file}:{m.line}",
                    f"message id repeats ({first_file}:{first_line} has it too)",
                    m.id,
                )
            )
        else:
            seen[m.id] = (m.file, m.line)
        counts[m.type] = counts.get(m.type, 0) + 1
        if sum(counts.values()) > manifest.message_total:
            break
    if counts != dict(manifest.message_counts):
        problems.append(
            _problem(
                f"{MANIFEST_NAME}:message_counts",
                f"the files hold {canonical_json(dict(sorted(counts.items())))}"
                + (" or more" if sum(counts.values()) > manifest.message_total else ""),
                canonical_json(dict(sorted(manifest.message_counts.items()))),
            )
        )
    if problems:
        raise BatchRejectedError(problems, batch_id=batch, sender=sender)
    return DecodedBatch(
        manifest=manifest,
        manifest_digest=hashlib.sha256(raw_manifest).hexdigest(),
        messages=tuple(kept) if in_memory else messages,
    )


# -- receipts ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MessageOutcome:
    """What the receiver did with one message.

    Attributes:
        id: the message id.
        outcome: ``accepted`` or ``rejected``.
        reasons: why it was rejected, in plain words (empty when accepted).
    """

    id: str
    outcome: str
    reasons: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class Receipt:
    """A receipt (回执): the receiver's answer to one batch.

    Attributes:
        batch_id: the batch answered.
        sender: who sends the receipt (the batch's receiver).
        receiver: who gets it (the batch's sender).
        status: ``accepted`` (the batch was taken; see each message) or ``rejected``.
        created_at: when the batch was processed (UTC, naive).
        reasons: why the batch was rejected (empty when accepted).
        messages: each message's outcome (empty when the batch was rejected whole).
    """

    batch_id: str
    sender: str
    receiver: str
    status: str
    created_at: dt.datetime
    reasons: tuple[str, ...] = ()
    messages: tuple[MessageOutcome, ...] = ()

    @property
    def accepted(self) -> int:
        """How many messages were accepted."""
        return sum(1 for m in self.messages if m.outcome == "accepted")

    @property
    def rejected(self) -> int:
        """How many messages were rejected."""
        return sum(1 for m in self.messages if m.outcome == "rejected")

    def as_dict(self) -> dict[str, Any]:
        """As JSON-ready data, the form of ``receipt.json``."""
        return {
            "batch_id": self.batch_id,
            "sender": self.sender,
            "receiver": self.receiver,
            "status": self.status,
            "created_at": _utc_text(self.created_at),
            "format_version": FORMAT_VERSION,
            "reasons": list(self.reasons),
            "messages": [
                {"id": m.id, "outcome": m.outcome, "reasons": list(m.reasons)}
                for m in self.messages
            ],
        }

    def to_json(self) -> str:
        """The receipt as one line of canonical JSON (as the ledger stores it)."""
        return canonical_json(self.as_dict())

    def to_parcel(self) -> Parcel:
        """The receipt as a parcel to send back."""
        return Parcel.named(
            kind="receipt",
            sender=self.sender,
            receiver=self.receiver,
            batch_id=self.batch_id,
            files={RECEIPT_NAME: (self.to_json() + "\n").encode("utf-8")},
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Receipt:
        """Read a receipt.

        Args:
            text: the content of ``receipt.json``.

        Raises:
            MalformedBatchError: it is not a receipt of this layout.
        """
        try:
            if isinstance(text, bytes):
                text = text.decode("utf-8")
            d = json.loads(text, object_pairs_hook=_no_duplicates)
            if not isinstance(d, dict) or d.get("format_version") != FORMAT_VERSION:
                raise ValueError("not a receipt of layout version 1")
            status = d["status"]
            if status not in ("accepted", "rejected"):
                raise ValueError(f"unknown status {status!r}")
            created = str(d["created_at"])
            if not created.endswith("Z"):
                raise ValueError("created_at is not a UTC time")
            for key in ("batch_id", "sender", "receiver"):
                if not isinstance(d[key], str):
                    raise ValueError(f"{key} is not text")
            check_partner(d["sender"], "sender")
            check_partner(d["receiver"], "receiver")
            messages = []
            for m in d["messages"]:
                if m["outcome"] not in ("accepted", "rejected") or not isinstance(m["id"], str):
                    raise ValueError("a message outcome is neither accepted nor rejected")
                messages.append(
                    MessageOutcome(
                        id=m["id"],
                        outcome=m["outcome"],
                        reasons=tuple(str(r) for r in m["reasons"]),
                    )
                )
            return cls(
                batch_id=d["batch_id"],
                sender=d["sender"],
                receiver=d["receiver"],
                status=status,
                created_at=dt.datetime.fromisoformat(created[:-1]),
                reasons=tuple(str(r) for r in d["reasons"]),
                messages=tuple(messages),
            )
        except (
            ExchangeError,
            ValueError,
            KeyError,
            TypeError,
            UnicodeError,
            RecursionError,
        ) as exc:
            raise MalformedBatchError(
                [_problem(RECEIPT_NAME, f"not a receipt: {type(exc).__name__}: {exc}")]
            ) from None

    @classmethod
    def rejection(
        cls, error: BatchRejectedError, *, sender: str, receiver: str, created_at: dt.datetime
    ) -> Receipt:
        """The receipt saying a batch was rejected whole.

        Args:
            error: why.
            sender: this deployment (the batch's receiver).
            receiver: the batch's sender.
            created_at: when it was processed.
        """
        return cls(
            batch_id=error.batch_id,
            sender=sender,
            receiver=receiver,
            status="rejected",
            created_at=naive_utc(created_at).replace(microsecond=0),
            reasons=tuple(str(p) for p in error.problems),
        )
