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
  quarantine/ parcels set aside unread: one holding a symbolic link, a folder, a device
             or a FIFO, or that is itself a link (for the office to look at)
```

Each parcel is a folder named after it, written under a temporary name and renamed when
complete, so a reader never sees half a parcel. A received parcel (`FolderParcel`) is read
through a handle on its own folder, opened without following a symbolic link: its entries
are told apart by ``lstat`` and each file is opened with ``O_NOFOLLOW`` and checked to be a
regular file, then streamed, never read whole. An HTTP transport would implement the same
three methods.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol, runtime_checkable

from famplan_core.errors import Problem
from famplan_core.exchange.batch import (
    MAX_FILE_BYTES,
    Parcel,
    ParcelSource,
    TransportError,
    UnsafeParcelError,
    check_entries,
)
from famplan_core.files import open_new_private, private_folder

__all__ = [
    "ExchangeTransport",
    "FolderParcel",
    "FolderTransport",
    "read_parcel",
    "write_parcel",
]


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

    def receive(self) -> Iterator[ParcelSource]:
        """The parcels that arrived and are not yet filed away, oldest first.

        Listing them reads none: a parcel that cannot be read is found when it is imported,
        on its own, and never stops the others.
        """
        ...

    def done(
        self, parcel: ParcelSource, *, rejected: bool = False, quarantined: bool = False
    ) -> None:
        """File a received parcel away after it was processed.

        Args:
            parcel: the parcel.
            rejected: it was refused whole.
            quarantined: it was set aside unread (it holds something unsafe).
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


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISLNK(mode):
        return "symbolic link"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "other"


class FolderParcel:
    """A parcel folder on disk, read safely: nothing is followed, nothing is read whole.

    The folder is opened with ``O_NOFOLLOW`` and ``O_DIRECTORY`` (a parcel that is itself a
    symbolic link, or not a folder, is unsafe), and must stay the folder first seen; its
    entries are described by ``lstat``; a file is opened relative to the folder's handle
    with ``O_NOFOLLOW`` and ``O_NONBLOCK`` (a FIFO never blocks the import) and must be a
    regular file.

    Args:
        path: the parcel's folder (its name is the parcel's name).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._identity: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        """The parcel's name."""
        return self.path.name

    def __repr__(self) -> str:
        return f"FolderParcel({str(self.path)!r})"

    def _unsafe(self, message: str) -> UnsafeParcelError:
        return UnsafeParcelError([Problem(path="parcel", value=self.name[:80], message=message)])

    @contextlib.contextmanager
    def _folder(self) -> Iterator[int]:
        try:
            fd = os.open(self.path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as exc:
            try:
                mode = os.lstat(self.path).st_mode
            except OSError:
                raise TransportError(f"cannot open parcel {self.path}: {exc}") from exc
            if not stat.S_ISDIR(mode):
                raise self._unsafe(f"a parcel is a plain folder; this is a {_kind(mode)}") from None
            raise TransportError(f"cannot open parcel {self.path}: {exc}") from exc
        try:
            info = os.fstat(fd)
            identity = (info.st_dev, info.st_ino)
            if self._identity is None:
                self._identity = identity
            elif identity != self._identity:
                raise self._unsafe("the parcel's folder was replaced while it was read")
            yield fd
        finally:
            os.close(fd)

    def entries(self) -> Mapping[str, str]:
        """Every entry of the folder, by name → what ``lstat`` says it is; nothing is read.

        Raises:
            UnsafeParcelError: the parcel is not a plain folder.
            TransportError: it cannot be listed.
        """
        with self._folder() as fd:
            try:
                names = os.listdir(fd)
                return {
                    name: _kind(os.stat(name, dir_fd=fd, follow_symlinks=False).st_mode)
                    for name in sorted(names)
                }
            except OSError as exc:
                raise TransportError(f"cannot list parcel {self.path}: {exc}") from exc

    def open(self, name: str) -> BinaryIO:
        """A regular file of the parcel, unbuffered, never through a link.

        Raises:
            UnsafeParcelError: it is not a regular file.
            TransportError: it cannot be opened.
        """
        if "/" in name or name in ("", ".", ".."):
            raise self._unsafe(f"{name!r} is not a file name")
        with self._folder() as folder:
            try:
                fd = os.open(
                    name,
                    os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _NOCTTY | _CLOEXEC,
                    dir_fd=folder,
                )
            except OSError as exc:
                try:
                    mode = os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
                except OSError:
                    raise TransportError(f"cannot open {self.path / name}: {exc}") from exc
                raise UnsafeParcelError(
                    [
                        Problem(
                            path=name,
                            value="",
                            message=f"a parcel holds regular files only; this is a {_kind(mode)}",
                        )
                    ]
                ) from None
        try:
            mode = os.fstat(fd).st_mode
        except OSError as exc:
            os.close(fd)
            raise TransportError(f"cannot open {self.path / name}: {exc}") from exc
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise UnsafeParcelError(
                [
                    Problem(
                        path=name,
                        value="",
                        message=f"a parcel holds regular files only; this is a {_kind(mode)}",
                    )
                ]
            )
        os.set_blocking(fd, True)
        return io.FileIO(fd, "rb", closefd=True)


def read_parcel(path: Path) -> Parcel:
    """Read a parcel folder into memory (for the hub and tests; imports stream instead).

    Args:
        path: the parcel's folder (its name is the parcel's name).

    Raises:
        TransportError: it is not a folder of regular files, or a file is too large.
    """
    source = FolderParcel(path)
    try:
        files: dict[str, bytes] = {}
        for name in check_entries(source):
            with source.open(name) as f:
                data = f.read(MAX_FILE_BYTES + 1)
            if len(data) > MAX_FILE_BYTES:
                raise TransportError(f"{path / name}: larger than {MAX_FILE_BYTES} bytes")
            files[name] = data
    except UnsafeParcelError as exc:
        raise TransportError(f"cannot read parcel {path}: {exc}") from exc
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
        self.quarantine = self.folder / "quarantine"

    def send(self, parcel: Parcel) -> None:
        """Drop a parcel in the outbox folder.

        Raises:
            TransportError: it cannot be written.
        """
        write_parcel(self.outbox, parcel)

    def receive(self) -> Iterator[FolderParcel]:
        """The parcels in the inbox folder, batches before receipts, by name; none is read.

        Every entry that is a folder or a symbolic link is a parcel (a link is quarantined
        when imported); hidden entries (a parcel still being written) are left alone.
        """
        if not self.inbox.is_dir():
            return
        entries = [
            p
            for p in self.inbox.iterdir()
            if not p.name.startswith(".") and (p.is_symlink() or p.is_dir())
        ]
        for path in sorted(entries, key=lambda p: (p.name.startswith("receipt_"), p.name)):
            yield FolderParcel(path)

    def done(
        self, parcel: ParcelSource, *, rejected: bool = False, quarantined: bool = False
    ) -> None:
        """Move a processed parcel from the inbox to ``processed``, ``rejected`` or
        ``quarantine`` (a link is moved as the link, never followed).

        A parcel already filed there (it arrived twice) is replaced by a numbered copy.
        """
        source = self.inbox / parcel.name
        if not (source.is_symlink() or source.is_dir()):
            return
        if quarantined:
            target_folder = self.quarantine
        else:
            target_folder = self.rejected if rejected else self.processed
        private_folder(target_folder)
        target = target_folder / parcel.name
        if target.exists() or target.is_symlink():
            target = target_folder / f"{parcel.name}.{uuid.uuid4().hex[:8]}"
        try:
            os.rename(source, target)
        except OSError as exc:
            raise TransportError(f"cannot file away parcel {parcel.name}: {exc}") from exc
