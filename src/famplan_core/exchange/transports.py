"""Exchange transports (传输): how parcels leave and arrive.

A transport is a class with a ``PLUGIN_NAME``, registered through the
``famplan_register_exchange_transports`` hook, built with the deployment's exchange folder
and settings. It sends a parcel (a batch or a receipt, `famplan_core.exchange.batch.Parcel`),
lists the parcels that arrived, and files away those that were processed. The core's is the
folder drop, `FolderTransport` (``folder``):

```text
EXCHANGE_FOLDER/
  outbox/    parcels sent: the drop a courier, a sync tool or the hub takes them from
  inbox/     parcels arrived: put here by the courier, read by `famplan exchange import`
  processed/ parcels imported (kept, for the record)
  rejected/  parcels refused whole (kept, with the reason in the receipt sent back)
```

Each parcel is a folder named after it, written under a temporary name and renamed when
complete, so a reader never sees half a parcel. An HTTP transport would implement the same
three methods.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from famplan_core.exchange.batch import MAX_FILE_BYTES, Parcel, TransportError
from famplan_core.files import open_new_private, private_folder

__all__ = ["ExchangeTransport", "FolderTransport", "read_parcel", "write_parcel"]


@runtime_checkable
class ExchangeTransport(Protocol):
    """The port of an exchange transport: send parcels, receive them, file them away.

    Attributes:
        PLUGIN_NAME: the name `famplan.toml` picks it by.
    """

    PLUGIN_NAME: ClassVar[str]

    def send(self, parcel: Parcel) -> None:
        """Send a parcel; sending the same parcel twice is harmless.

        Raises:
            TransportError: it could not be sent (the outbox tries again).
        """
        ...

    def receive(self) -> Iterator[Parcel]:
        """The parcels that arrived and are not yet filed away, oldest first."""
        ...

    def done(self, parcel: Parcel, *, rejected: bool = False) -> None:
        """File a received parcel away after it was processed.

        Args:
            parcel: the parcel.
            rejected: it was refused whole.
        """
        ...


def write_parcel(folder: Path, parcel: Parcel) -> Path:
    """Write a parcel as a folder inside `folder`, atomically (a temporary name, then a rename).

    Writing a parcel that is already there leaves the one there.

    Args:
        folder: where to put it (made if missing).
        parcel: the parcel.

    Returns:
        The parcel's folder.

    Raises:
        TransportError: it cannot be written.
    """
    target = folder / parcel.name
    try:
        private_folder(folder)
        if target.exists():
            return target
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
        try:
            for name, data in parcel.files.items():
                with os.fdopen(open_new_private(staging / name), "wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            try:
                os.rename(staging, target)
            except OSError:
                if not target.exists():
                    raise
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise TransportError(f"cannot write parcel {parcel.name} to {folder}: {exc}") from exc
    return target


def read_parcel(path: Path) -> Parcel:
    """Read a parcel folder.

    Args:
        path: the parcel's folder (its name is the parcel's name).

    Raises:
        TransportError: it is not a folder of readable files, or a file is too large.
    """
    try:
        files: dict[str, bytes] = {}
        for entry in sorted(path.iterdir()):
            if not entry.is_file():
                raise TransportError(f"{entry}: a parcel holds files only")
            if entry.stat().st_size > MAX_FILE_BYTES:
                raise TransportError(f"{entry}: larger than {MAX_FILE_BYTES} bytes")
            files[entry.name] = entry.read_bytes()
    except OSError as exc:
        raise TransportError(f"cannot read parcel {path}: {exc}") from exc
    return Parcel(name=path.name, files=files)


class FolderTransport:
    """The folder drop (``folder``): parcels as folders under the deployment's exchange folder.

    Args:
        folder: the exchange folder (``outbox``, ``inbox``, ``processed``, ``rejected``).
        settings: the plugin's settings (none are used).
    """

    PLUGIN_NAME: ClassVar[str] = "folder"

    def __init__(self, folder: Path, settings: Mapping[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.outbox = self.folder / "outbox"
        self.inbox = self.folder / "inbox"
        self.processed = self.folder / "processed"
        self.rejected = self.folder / "rejected"

    def send(self, parcel: Parcel) -> None:
        """Drop a parcel in the outbox folder.

        Raises:
            TransportError: it cannot be written.
        """
        write_parcel(self.outbox, parcel)

    def receive(self) -> Iterator[Parcel]:
        """The parcels in the inbox folder, batches before receipts, by name."""
        if not self.inbox.is_dir():
            return
        entries = [p for p in self.inbox.iterdir() if p.is_dir() and not p.name.startswith(".")]
        for path in sorted(entries, key=lambda p: (p.name.startswith("receipt_"), p.name)):
            yield read_parcel(path)

    def done(self, parcel: Parcel, *, rejected: bool = False) -> None:
        """Move a processed parcel from the inbox to ``processed`` (or ``rejected``).

        A parcel already filed there (it arrived twice) is replaced by a numbered copy.
        """
        source = self.inbox / parcel.name
        if not source.is_dir():
            return
        target_folder = self.rejected if rejected else self.processed
        private_folder(target_folder)
        target = target_folder / parcel.name
        if target.exists():
            target = target_folder / f"{parcel.name}.{uuid.uuid4().hex[:8]}"
        try:
            os.rename(source, target)
        except OSError as exc:
            raise TransportError(f"cannot file away parcel {parcel.name}: {exc}") from exc
