"""Owner-only files and folders: how famplan-core writes anything that may hold personal data.

Every file the library and its plugins write (the SQLite database, payment rolls, register
files, exchange parcels, notices, reports, the deployment's ``famplan.toml``) goes through
this module, so that:

* files are created ``0600`` and folders ``0700`` (owner only), whatever the process umask;
* a file is written under a new temporary name beside it, opened with ``O_CREAT | O_EXCL |
  O_NOFOLLOW``, and renamed over the target only when complete: a reader never sees half a
  file, and nothing is ever written *through* a symbolic link;
* a symbolic link planted where an output file goes is refused with `UnsafeFileError`, and
  the file it points to is left untouched;
* an existing database file that others may read is reported once, with
  `LoosePermissionsWarning`.

Existing folders are left as they are (an office may keep its outputs in a folder it shares
on purpose); the files written into them are still owner-only.

    >>> import os, stat, tempfile
    >>> from pathlib import Path
    >>> folder = private_folder(Path(tempfile.mkdtemp()) / "rolls" / "2026-03")
    >>> oct(stat.S_IMODE(folder.stat().st_mode))
    '0o700'
    >>> roll = write_private(folder / "roll.csv", "person_id,amount\\r\\n")
    >>> oct(stat.S_IMODE(roll.stat().st_mode))
    '0o600'
    >>> os.symlink(roll, folder / "planted.csv")
    >>> write_private(folder / "planted.csv", "x")
    Traceback (most recent call last):
    ...
    famplan_core.errors.UnsafeFileError: ...planted.csv is a symbolic link; famplan never ...
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from famplan_core.errors import LoosePermissionsWarning, UnsafeFileError

__all__ = [
    "FILE_MODE",
    "FOLDER_MODE",
    "create_private_file",
    "open_new_private",
    "private_folder",
    "private_writer",
    "refuse_symlink",
    "warn_if_loose",
    "write_private",
]

FILE_MODE = 0o600
"""The permissions of every file famplan writes: read and write for the owner only."""

FOLDER_MODE = 0o700
"""The permissions of every folder famplan makes: the owner only."""

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


def refuse_symlink(path: Path) -> None:
    """Refuse to write where a symbolic link stands.

    Raises:
        UnsafeFileError: `path` is a symbolic link (dangling or not).
    """
    if path.is_symlink():
        raise UnsafeFileError(
            f"{path} is a symbolic link; famplan never writes through one (remove it, or "
            "write elsewhere)"
        )


def private_folder(path: Path) -> Path:
    """Make a folder and its missing parents owner-only (``0700``); existing ones are kept.

    Args:
        path: the folder.

    Returns:
        `path`.

    Raises:
        FileExistsError: `path` is a file.
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and not current.is_symlink() and current != current.parent:
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, FOLDER_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made meanwhile by someone else: theirs
        os.chmod(folder, FOLDER_MODE)  # the umask may have taken bits away
    if not path.is_dir():
        raise FileExistsError(f"{path} is not a folder")
    return path


def open_new_private(path: Path) -> int:
    """Create a new owner-only file and open it for writing; never follows a symbolic link.

    Args:
        path: the file; it must not exist yet.

    Returns:
        The open file descriptor.

    Raises:
        FileExistsError: something (a file, a link) is already there.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _BINARY
    descriptor = os.open(path, flags, FILE_MODE)
    if hasattr(os, "fchmod"):  # the umask may have taken bits away (Windows has no modes)
        try:
            os.fchmod(descriptor, FILE_MODE)
        except BaseException:
            os.close(descriptor)
            raise
    return descriptor


@overload
def private_writer(
    path: Path,
    mode: Literal["w"] = "w",
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[str]]: ...
@overload
def private_writer(
    path: Path, mode: Literal["wb"], *, encoding: None = None, errors: None = None
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
def private_writer(
    path: Path,
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    errors: str | None = "strict",
    newline: str | None = None,
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Write a file owner-only and whole: a new temporary file, renamed over `path` at the end.

    When the block raises, `path` is left as it was and the temporary file is removed.

    Args:
        path: the file to write (its folder must exist).
        mode: ``w`` (text) or ``wb`` (bytes).
        encoding: the text encoding (text mode).
        errors: how encoding errors are handled (text mode).
        newline: as for `open` (text mode).

    Raises:
        UnsafeFileError: `path` is a symbolic link.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb': {mode!r}")
    return _private_writer(path, mode, encoding, errors, newline)


@contextlib.contextmanager
def _private_writer(
    path: Path, mode: str, encoding: str | None, errors: str | None, newline: str | None
) -> Iterator[IO[Any]]:
    refuse_symlink(path)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        descriptor = open_new_private(temporary)
    except FileNotFoundError:
        if path.parent.is_dir():
            raise
        raise FileNotFoundError(
            errno.ENOENT, f"cannot write {path}: no such folder", str(path.parent)
        ) from None
    try:
        if mode == "wb":
            with os.fdopen(descriptor, "wb") as binary:
                yield binary
        else:
            with os.fdopen(
                descriptor, "w", encoding=encoding, errors=errors, newline=newline
            ) as text:
                yield text
        refuse_symlink(path)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_private(path: Path, data: str | bytes, *, encoding: str = "utf-8") -> Path:
    """Write a whole file owner-only (``0600``), atomically, never through a symbolic link.

    Args:
        path: the file (its folder must exist).
        data: bytes, or text written in `encoding`.
        encoding: the encoding of text.

    Returns:
        `path`.

    Raises:
        UnsafeFileError: `path` is a symbolic link.
    """
    payload = data.encode(encoding) if isinstance(data, str) else data
    with private_writer(path, "wb") as f:
        f.write(payload)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty owner-only file unless one is there (e.g. before SQLite opens it).

    Returns:
        Whether the file was created.

    Raises:
        UnsafeFileError: `path` is a symbolic link.
    """
    refuse_symlink(path)
    try:
        os.close(open_new_private(path))
    except FileExistsError:
        refuse_symlink(path)
        return False
    return True


def warn_if_loose(path: Path, what: str = "file") -> bool:
    """Warn (`LoosePermissionsWarning`) when a file may be read or written by others.

    Args:
        path: the file.
        what: what it is, for the message (``database``, ``file``).

    Returns:
        Whether it was loose.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return False
    if not mode & 0o077:
        return False
    warnings.warn(
        f"the {what} {path} can be read by other users of this computer (permissions "
        f"{mode:04o}); it holds personal data: make it owner-only with `chmod 600 {path}`",
        LoosePermissionsWarning,
        stacklevel=2,
    )
    return True
