"""The audit chain (审计链): how each audit entry is sealed, checked, and its key kept.

Every unit of work writes one audit entry. An entry is chained to the one before it: its
``prev_hash`` is that entry's ``hash``, and its own ``hash`` seals the entry's content and
``prev_hash`` together. Entries have a *chain version*:

* ``1`` (`CHAIN_PLAIN`): the hash is an unkeyed SHA-256. Anyone with write access to the
  database can rewrite such entries and compute the hashes again: it catches accidents,
  not a person who means it. Entries written before the deployment had a key are plain.
* ``2`` (`CHAIN_KEYED`): the hash is an HMAC-SHA256 with the deployment's *audit key*, a
  secret kept in a file outside the database. Without the key nobody can write an entry
  that checks, so a rewritten, inserted or deleted entry is found.

The key file (`AuditKey`) also records ``keyed_from``: the first entry that must be keyed
(the number of entries the audit had when the key was made, plus one). A chain "recomputed"
as plain entries from some entry on is therefore found too, and the switch from plain to
keyed entries cannot be moved. The first keyed entry seals the plain entry before it.

Deleting the *newest* entries leaves a chain that checks; *anchors* find it: a payment roll
or a notice records the hash of the audit entry of the unit of work that made it
(``audit_hash``, next to its ``uow_id``), so an audit that no longer holds that entry, or
holds another one under its number, is broken. Reports write the entry they read into their
metadata, and anyone holding a report or roll can check it with ``famplan audit verify
--anchor ID:HASH``.

A break is never repaired: an officer may *accept* it (`ACCEPT_BREAK`), which writes an
entry recording the first bad entry, the broken anchors and the reason; a verification then
reports those as accepted and checks everything from the accepting entry on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from famplan_core.errors import ConfigurationError

__all__ = [
    "ACCEPT_BREAK",
    "ANCHORED_TABLES",
    "CHAIN_KEYED",
    "CHAIN_PLAIN",
    "GENESIS",
    "Anchor",
    "AuditKey",
    "AuditReport",
    "ChainProblem",
    "StoredEntry",
    "check_anchor",
    "check_link",
    "check_seal",
    "create_key_file",
    "entry_hash",
    "read_key_file",
    "verify_chain",
]

CHAIN_PLAIN = 1
"""Chain version of an entry sealed with an unkeyed SHA-256 (before the key)."""

CHAIN_KEYED = 2
"""Chain version of an entry sealed with HMAC-SHA256 and the deployment's audit key."""

GENESIS = "0" * 64
"""The ``prev_hash`` of the first entry."""

ACCEPT_BREAK = "audit-accept-break"
"""The operation of the entry an officer writes to go on writing over a broken chain."""

ANCHORED_TABLES: Mapping[str, str] = {"payment_rolls": "roll_id", "notices": "notice_id"}
"""Tables whose rows record the audit entry that made them (``uow_id``, ``audit_hash``),
with their primary key."""

_KEY_BYTES = 32
_ANCHOR_NAMES = {"payment_rolls": "payment roll", "notices": "notice"}


@attrs.frozen(kw_only=True)
class AuditKey:
    """A deployment's audit key: the HMAC secret and the first entry it seals.

    Attributes:
        secret: the secret (32 random bytes); never shown by ``repr``.
        keyed_from: the first audit entry that must be keyed (1 for a new deployment).
    """

    secret: bytes = attrs.field(repr=False)
    keyed_from: int = 1

    @classmethod
    def generate(cls, keyed_from: int = 1) -> AuditKey:
        """A new random key sealing the entries from `keyed_from` on."""
        return cls(secret=secrets.token_bytes(_KEY_BYTES), keyed_from=keyed_from)


def read_key_file(path: Path) -> AuditKey:
    """Read an audit key file.

    Raises:
        FileNotFoundError: there is no such file.
        ConfigurationError: the file is not a key file.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
        secret = bytes.fromhex(str(data["key"]))
        keyed_from = int(data.get("keyed_from", 1))
    except (tomllib.TOMLDecodeError, KeyError, ValueError, TypeError) as exc:
        raise ConfigurationError(
            f'{path}: not an audit key file (expected `key = "<64 hex digits>"` and '
            f"`keyed_from = N`): {exc}"
        ) from None
    if len(secret) != _KEY_BYTES or keyed_from < 1:
        raise ConfigurationError(
            f"{path}: expected a key of {_KEY_BYTES * 2} hex digits and keyed_from >= 1, "
            f"found {len(secret) * 2} digits and keyed_from = {keyed_from}"
        )
    return AuditKey(secret=secret, keyed_from=keyed_from)


def create_key_file(path: Path, key: AuditKey) -> None:
    """Write a new audit key file, readable and writable by its owner only (0600).

    Raises:
        FileExistsError: the file exists (a key is never overwritten: the entries it sealed
            could no longer be checked).
    """
    text = (
        "# famplan audit key: it seals the audit entries of this deployment.\n"
        "# Keep it secret and back it up apart from the database: without it the audit\n"
        "# can no longer be verified, and whoever holds it can rewrite the audit.\n"
        f'key = "{key.secret.hex()}"\n'
        f"keyed_from = {key.keyed_from}\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def entry_hash(
    chain: int,
    key: AuditKey | None,
    prev_hash: str,
    entry_id: int,
    actor: str,
    recorded_at: dt.datetime,
    operation: str,
    summary: str,
) -> str:
    """The hash sealing an entry: SHA-256 (plain) or HMAC-SHA256 with the key (keyed).

    Raises:
        ValueError: a keyed entry without a key, or an unknown chain version.
    """
    fields: list[Any] = [prev_hash, entry_id, actor, recorded_at.isoformat(), operation, summary]
    if chain == CHAIN_PLAIN:
        canonical = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    if chain == CHAIN_KEYED:
        if key is None:
            raise ValueError("a keyed entry needs the audit key")
        canonical = json.dumps([chain, *fields], ensure_ascii=False, separators=(",", ":"))
        return hmac.new(key.secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()
    raise ValueError(f"unknown chain version {chain}")


@attrs.frozen(kw_only=True)
class StoredEntry:
    """An audit entry as stored."""

    id: int
    actor: str
    recorded_at: dt.datetime
    operation: str
    summary: str
    prev_hash: str
    hash: str
    chain: int


@attrs.frozen(kw_only=True)
class Anchor:
    """A row that records the audit entry that made it.

    Attributes:
        table: ``payment_rolls`` or ``notices``.
        row_id: the row's primary key.
        entry: the audit entry (its unit of work).
        hash: the entry's hash as recorded in the row.
        label: what the row is, for people (e.g. ``payment roll 3 (2026-03)``).
    """

    table: str
    row_id: int
    entry: int
    hash: str
    label: str = ""

    @property
    def ref(self) -> str:
        """``table:row_id``, as an accepting entry lists it."""
        return f"{self.table}:{self.row_id}"

    def describe(self) -> str:
        """The row, for people."""
        return self.label or f"{_ANCHOR_NAMES.get(self.table, self.table)} {self.row_id}"


@attrs.frozen(kw_only=True)
class ChainProblem:
    """What is wrong with the audit, at its first bad entry.

    Attributes:
        entry: the first bad entry's id (for a missing entry, the id it would have).
        message: what is wrong, in plain words.
        anchor: ``table:row_id`` when a row's anchor found it.
    """

    entry: int
    message: str
    anchor: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"entry": self.entry, "message": self.message, "anchor": self.anchor}


@attrs.frozen(kw_only=True)
class AuditReport:
    """What a verification of the audit found.

    Attributes:
        checked: how many entries were checked.
        keyed: how many of them are keyed.
        head: the newest entry's id and hash (None for an empty audit).
        keyed_from: the first entry the key seals (None without a key).
        anchors: how many anchors (rolls, notices, ``--anchor``) were checked.
        accepted: breaks an officer accepted: the entries not vouched for, the entry that
            accepted them, its actor and reason.
        problems: every problem found that no officer accepted, the first bad entry first
            (empty when the audit is intact).
    """

    checked: int
    keyed: int
    head: tuple[int, str] | None
    keyed_from: int | None
    anchors: int
    accepted: tuple[Mapping[str, Any], ...] = ()
    problems: tuple[ChainProblem, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the audit is intact (apart from accepted breaks)."""
        return not self.problems

    @property
    def problem(self) -> ChainProblem | None:
        """The first problem, or None."""
        return self.problems[0] if self.problems else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "ok": self.ok,
            "checked": self.checked,
            "keyed": self.keyed,
            "head": None if self.head is None else {"id": self.head[0], "hash": self.head[1]},
            "keyed_from": self.keyed_from,
            "anchors": self.anchors,
            "accepted": [dict(a) for a in self.accepted],
            "problem": None if self.problem is None else self.problem.as_dict(),
            "problems": [p.as_dict() for p in self.problems],
        }


def _seal_problem(entry: StoredEntry, key: AuditKey | None) -> str | None:
    """Whether the entry's content still matches its own hash (None: it does)."""
    if entry.chain == CHAIN_KEYED and key is None:
        return None  # cannot be checked without the key: the caller refuses first
    if key is not None and entry.chain == CHAIN_PLAIN and entry.id >= key.keyed_from:
        return (
            f"entry {entry.id} is sealed without the key, but the key seals every entry from "
            f"{key.keyed_from} on: the chain was rewritten (computed again without the key)"
        )
    try:
        wanted = entry_hash(
            entry.chain,
            key,
            entry.prev_hash,
            entry.id,
            entry.actor,
            entry.recorded_at,
            entry.operation,
            entry.summary,
        )
    except ValueError as exc:
        return f"entry {entry.id}: {exc}"
    if not hmac.compare_digest(wanted, entry.hash):
        how = "its MAC (keyed hash)" if entry.chain == CHAIN_KEYED else "its hash"
        return (
            f"entry {entry.id} ({entry.operation} by {entry.actor} at "
            f"{entry.recorded_at.isoformat()}) was changed: its content does not match {how}"
        )
    return None


def check_seal(entry: StoredEntry, key: AuditKey | None) -> ChainProblem | None:
    """Check that an entry's content still matches its own hash (MAC), and that it is keyed
    where the key seals it; a keyed entry is not checked without the key."""
    seal = _seal_problem(entry, key)
    return None if seal is None else ChainProblem(entry=entry.id, message=seal)


def check_link(
    entry: StoredEntry, previous: StoredEntry | None, key: AuditKey | None
) -> ChainProblem | None:
    """Check one entry against the one stored before it (None: it is the first).

    Checks that no entry is missing between them, that the entry names the previous one's
    hash, that it is not a plain entry after a keyed one or where the key seals it, and
    that its content matches its hash.
    """
    expected = 1 if previous is None else previous.id + 1
    if entry.id != expected:
        before = "the start" if previous is None else f"entry {previous.id}"
        missing = (
            f"entry {expected} is"
            if entry.id == expected + 1
            else f"entries {expected} to {entry.id - 1} are"
        )
        return ChainProblem(
            entry=expected,
            message=f"{missing} missing: the audit goes from {before} to entry {entry.id}",
        )
    prev_hash = GENESIS if previous is None else previous.hash
    if entry.prev_hash != prev_hash:
        return ChainProblem(
            entry=entry.id,
            message=(
                f"entry {entry.id} does not follow entry {expected - 1}: it names the previous "
                f"hash {entry.prev_hash}, but entry {expected - 1} has {prev_hash}"
            ),
        )
    if previous is not None and previous.chain == CHAIN_KEYED and entry.chain != CHAIN_KEYED:
        return ChainProblem(
            entry=entry.id,
            message=(
                f"entry {entry.id} is not keyed, but entry {previous.id} before it is: a keyed "
                "chain never goes back to plain entries (computed again without the key)"
            ),
        )
    seal = _seal_problem(entry, key)
    return None if seal is None else ChainProblem(entry=entry.id, message=seal)


def check_anchor(anchor: Anchor, entry: StoredEntry | None, head: int) -> ChainProblem | None:
    """Check that the audit still holds the entry a roll or notice recorded."""
    if entry is None:
        ends = f"it ends at entry {head}" if head else "it is empty"
        return ChainProblem(
            entry=anchor.entry,
            anchor=anchor.ref,
            message=(
                f"{anchor.describe()} was made at audit entry {anchor.entry} (hash "
                f"{anchor.hash}), but the audit has no entry {anchor.entry} ({ends}): "
                "entries were deleted"
            ),
        )
    if not hmac.compare_digest(entry.hash, anchor.hash):
        return ChainProblem(
            entry=anchor.entry,
            anchor=anchor.ref,
            message=(
                f"{anchor.describe()} was made at audit entry {anchor.entry} with hash "
                f"{anchor.hash}, but entry {anchor.entry} now has hash {entry.hash}: the "
                "entries from there on were replaced"
            ),
        )
    return None


def _accepting(entries: Sequence[StoredEntry]) -> list[tuple[StoredEntry, dict[str, Any]]]:
    """The entries accepting a break, with their summaries, oldest first."""
    found: list[tuple[StoredEntry, dict[str, Any]]] = []
    for entry in entries:
        if entry.operation != ACCEPT_BREAK:
            continue
        try:
            summary = json.loads(entry.summary)
        except ValueError:
            continue
        if isinstance(summary, dict):
            found.append((entry, summary))
    return found


def verify_chain(
    entries: Sequence[StoredEntry],
    anchors: Iterable[Anchor],
    key: AuditKey | None,
    recorded: Mapping[str, int] | None = None,
) -> AuditReport:
    """Check a whole audit, oldest entry first, and the anchors recorded in other tables.

    A break an accepting entry names (its ``first_bad``) is reported as accepted: the
    entries from the first bad one up to the accepting one are not vouched for, and the
    check goes on from the accepting entry. Anchors an accepting entry lists are accepted.

    Args:
        entries: the audit, by id.
        anchors: rows that recorded the entry (and its hash) that made them.
        key: the audit key (None: keyed entries are not checked).
        recorded: for each table holding a ``uow_id``, the newest unit of work it names:
            none may be beyond the newest entry (unless an accepting entry's
            ``max_uow`` covers it).
    """
    accepts_all = _accepting(entries)
    accepting: dict[int, tuple[StoredEntry, dict[str, Any]]] = {}
    for entry, summary in accepts_all:
        first_bad = summary.get("first_bad")
        if isinstance(first_bad, int) and first_bad < entry.id:
            accepting.setdefault(first_bad, (entry, summary))
    accepted: list[dict[str, Any]] = []
    problems: list[ChainProblem] = []
    previous: StoredEntry | None = None
    skip_to: int | None = None
    for entry in entries:
        if skip_to is not None and entry.id < skip_to:
            previous = entry
            continue
        skip_to = None
        problem = check_link(entry, previous, key)
        if problem is not None:
            accepts = accepting.get(problem.entry)
            # the accepting entry itself must be sound: it is checked when reached
            if accepts is not None and accepts[0].id > entry.id:
                skip_to = accepts[0].id
                accepted.append(
                    {
                        "from_entry": problem.entry,
                        "to_entry": accepts[0].id - 1,
                        "accepted_by_entry": accepts[0].id,
                        "actor": accepts[0].actor,
                        "reason": accepts[1].get("reason", ""),
                        "problem": problem.message,
                    }
                )
            else:
                problems.append(problem)
                break
        previous = entry
    by_id = {e.id: e for e in entries}
    head = entries[-1].id if entries else 0
    accepted_anchors = {
        str(ref) for _entry, summary in accepts_all for ref in summary.get("anchors", ()) or ()
    }
    checked_anchors = 0
    for anchor in anchors:
        checked_anchors += 1
        problem = check_anchor(anchor, by_id.get(anchor.entry), head)
        if problem is None:
            continue
        if anchor.ref in accepted_anchors:
            accepted.append({"anchor": anchor.ref, "problem": problem.message})
            continue
        problems.append(problem)
    ceiling = max(
        (
            int(summary["max_uow"])
            for _entry, summary in accepts_all
            if isinstance(summary.get("max_uow"), int)
        ),
        default=0,
    )
    for table, newest in sorted((recorded or {}).items()):
        if newest > head and newest > ceiling:
            problems.append(
                ChainProblem(
                    entry=head + 1,
                    message=(
                        f"the table {table} holds rows written by unit of work {newest}, but "
                        f"the audit ends at entry {head}: the newest entries were deleted"
                    ),
                )
            )
    return AuditReport(
        checked=len(entries),
        keyed=sum(1 for e in entries if e.chain == CHAIN_KEYED),
        head=None if not entries else (entries[-1].id, entries[-1].hash),
        keyed_from=None if key is None else key.keyed_from,
        anchors=checked_anchors,
        accepted=tuple(accepted),
        problems=tuple(problems),
    )
