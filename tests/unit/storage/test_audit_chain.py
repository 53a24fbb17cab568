"""The audit chain's checks on entries built in memory: any single change is found at the
entry changed, with or without the chain computed again by someone without the key."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from famplan_core.errors import ConfigurationError
from famplan_core.storage.audit import (
    CHAIN_KEYED,
    CHAIN_PLAIN,
    GENESIS,
    AuditKey,
    StoredEntry,
    create_key_file,
    entry_hash,
    read_key_file,
    verify_chain,
)

KEY = AuditKey(secret=b"k" * 32)


def _chain(n: int, key: AuditKey | None, chain: int = CHAIN_KEYED) -> list[StoredEntry]:
    entries: list[StoredEntry] = []
    prev = GENESIS
    for i in range(1, n + 1):
        at = dt.datetime(2026, 1, 1) + dt.timedelta(minutes=i)
        summary = f'{{"n": {i}}}'
        digest = entry_hash(chain, key, prev, i, "clerk", at, "write", summary)
        entries.append(
            StoredEntry(
                id=i,
                actor="clerk",
                recorded_at=at,
                operation="write",
                summary=summary,
                prev_hash=prev,
                hash=digest,
                chain=chain,
            )
        )
        prev = digest
    return entries


def _reseal_plain(entries: list[StoredEntry], start: int) -> list[StoredEntry]:
    """What someone without the key can do: seal the entries from `start` on with SHA-256."""
    out = entries[:start]
    prev = out[-1].hash if out else GENESIS
    for e in entries[start:]:
        digest = entry_hash(
            CHAIN_PLAIN, None, prev, e.id, e.actor, e.recorded_at, e.operation, e.summary
        )
        out.append(attrs.evolve(e, prev_hash=prev, hash=digest, chain=CHAIN_PLAIN))
        prev = digest
    return out


_FIELDS = st.sampled_from(["actor", "operation", "summary", "recorded_at"])
_TEXT = st.text(min_size=1, max_size=20)


@given(n=st.integers(1, 12), data=st.data(), field=_FIELDS, value=_TEXT, reseal=st.booleans())
def test_any_change_to_one_entry_is_found_at_that_entry(
    n: int, data: st.DataObject, field: str, value: str, reseal: bool
) -> None:
    entries = _chain(n, KEY)
    assert verify_chain(entries, [], KEY).ok
    index = data.draw(st.integers(0, n - 1))
    old = entries[index]
    new_value: object = (
        old.recorded_at + dt.timedelta(seconds=len(value)) if field == "recorded_at" else value
    )
    if new_value == getattr(old, field):
        return
    entries[index] = attrs.evolve(old, **{field: new_value})
    if reseal:
        entries = _reseal_plain(entries, index)
    report = verify_chain(entries, [], KEY)
    assert report.problem is not None
    assert report.problem.entry == old.id


@given(n=st.integers(2, 12), data=st.data())
def test_a_deleted_entry_is_found(n: int, data: st.DataObject) -> None:
    entries = _chain(n, KEY)
    index = data.draw(st.integers(0, n - 2))  # not the newest: anchors find those
    del entries[index]
    report = verify_chain(entries, [], KEY)
    assert report.problem is not None
    assert report.problem.entry == index + 1


def test_a_plain_chain_verifies_without_a_key() -> None:
    assert verify_chain(_chain(3, None, CHAIN_PLAIN), [], None).ok


def test_the_key_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "famplan-audit.key"
    old = os.umask(0)
    try:
        create_key_file(path, AuditKey.generate(keyed_from=4))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = read_key_file(path)
    assert key.keyed_from == 4
    assert len(key.secret) == 32
    assert key.secret.hex() not in repr(key)
    with pytest.raises(FileExistsError):
        create_key_file(path, AuditKey.generate())


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k"
    path.write_text('key = "abc"\n', "utf-8")
    with pytest.raises(ConfigurationError, match="64 hex digits"):
        read_key_file(path)
