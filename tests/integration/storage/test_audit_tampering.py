"""Issue 13, point 7: tampering with the audit is found, and writes stop over a broken chain.

Each test plays a DBA (or an intruder) with direct access to the database: the append-only
triggers are dropped first, then entries are edited, deleted or recomputed without the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from famplan_core.errors import (
    AuditChainError,
    ConfigurationError,
    RecordNotFoundError,
    StorageError,
    ValidationError,
)
from famplan_core.storage import SqlStorage, migrations
from famplan_core.storage.audit import CHAIN_PLAIN, GENESIS, AuditKey, entry_hash
from famplan_core.storage.engine import create_engine, is_sqlite
from famplan_core.storage.notice_tables import notices
from famplan_core.testing import PERSON_COLUMNS, Clock, person_row

KEY = AuditKey(secret=bytes(range(32)), keyed_from=1)


@pytest.fixture
def store(storage_url: str) -> Iterator[SqlStorage]:
    storage = SqlStorage(storage_url, migrate=True, audit_key=KEY)
    yield storage
    storage.close()


def _write(storage: SqlStorage, clock: Clock, person: str | None = None) -> int:
    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        if person is not None:
            uow.upsert_rows("persons", PERSON_COLUMNS, [person_row(person)])
        return uow.id


def _notice(storage: SqlStorage, clock: Clock) -> int:
    """A unit of work that drafts a notice (an anchored row), as the notice service does."""
    at = clock()
    with storage.unit_of_work(actor="clerk", recorded_at=at, operation="notice-draft") as uow:
        uow.connection.execute(
            notices.insert(),
            [
                {
                    "notice_id": uow.id,
                    "uow_id": uow.id,
                    "subject": "new_beneficiaries",
                    "month": dt.date(2026, 11, 1),
                    "level": "township",
                    "scope": "371502110",
                    "place": "顾官屯镇",
                    "state": "draft",
                    "window_days": 7,
                    "masking": "default",
                    "content": "{}",
                    "content_sha256": "0" * 64,
                    "drafted_at": at,
                    "drafted_by": "clerk",
                }
            ],
        )
        return uow.id


def _tamper(storage: SqlStorage, *statements: str) -> None:
    """Drop the append-only triggers, as someone with the database's password can, and run
    the statements."""
    with storage.engine.begin() as conn:
        if is_sqlite(conn):
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_no_update")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_no_delete")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_append_only ON audit")
        for statement in statements:
            conn.exec_driver_sql(statement)


def _recompute_plain(storage: SqlStorage, from_id: int) -> None:
    """Seal every entry from `from_id` on again with the unkeyed SHA-256, as an intruder
    without the key would after changing one (the attack that passed before the key)."""
    with storage.engine.begin() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, actor, recorded_at, operation, summary, prev_hash FROM audit ORDER BY id"
        ).all()
        prev = GENESIS
        p = "?" if is_sqlite(conn) else "%s"
        for entry_id, actor, recorded_at, operation, summary, _prev in rows:
            if entry_id < from_id:
                prev = conn.exec_driver_sql(
                    f"SELECT hash FROM audit WHERE id = {p}", (entry_id,)
                ).scalar_one()
                continue
            at = (
                recorded_at
                if isinstance(recorded_at, dt.datetime)
                else dt.datetime.fromisoformat(recorded_at)
            )
            digest = hashlib.sha256(
                json.dumps(
                    [prev, entry_id, actor, at.isoformat(), operation, summary],
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode("utf-8")
            ).hexdigest()
            conn.exec_driver_sql(
                f"UPDATE audit SET prev_hash = {p}, hash = {p}, chain = 1 WHERE id = {p}",
                (prev, digest, entry_id),
            )
            prev = digest


def _count(storage: SqlStorage) -> int:
    with storage.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT COUNT(*) FROM audit").scalar_one())


def test_an_intact_keyed_audit_verifies(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b"):
        _write(store, clock, person)
    _notice(store, clock)
    report = store.audit_report()
    assert report.ok
    assert (report.checked, report.keyed, report.anchors) == (3, 3, 1)
    assert store.verify_audit() == 3


def test_verify_finds_an_edited_entry(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b", "c"):
        _write(store, clock, person)
    _tamper(store, "UPDATE audit SET actor = 'mallory' WHERE id = 2")
    with pytest.raises(AuditChainError, match="entry 2") as caught:
        store.verify_audit()
    assert "was changed" in str(caught.value)
    problem = store.audit_report().problem
    assert problem is not None
    assert problem.entry == 2


def test_verify_finds_an_edited_entry_whose_chain_was_recomputed_without_the_key(
    store: SqlStorage,
) -> None:
    """The attack that passed before: change an entry and seal the chain again unkeyed."""
    clock = Clock()
    for person in ("a", "b", "c"):
        _write(store, clock, person)
    _tamper(store, "UPDATE audit SET actor = 'mallory' WHERE id = 2")
    _recompute_plain(store, 2)
    with pytest.raises(AuditChainError, match="entry 2") as caught:
        store.verify_audit()
    assert "without the key" in str(caught.value)


def test_verify_finds_a_chain_resealed_with_sha256_but_marked_keyed(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b"):
        _write(store, clock, person)
    _tamper(store, "UPDATE audit SET actor = 'mallory' WHERE id = 1")
    _recompute_plain(store, 1)
    _tamper(store, "UPDATE audit SET chain = 2")
    problem = store.audit_report().problem
    assert problem is not None
    assert problem.entry == 1
    assert "MAC" in problem.message


def test_verify_finds_a_deleted_entry_in_the_middle(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b", "c", "d"):
        _write(store, clock, person)
    _tamper(store, "DELETE FROM audit WHERE id = 2")
    with pytest.raises(AuditChainError, match="entry 2 is missing"):
        store.verify_audit()


def test_verify_finds_deleted_newest_entries_through_the_anchors(store: SqlStorage) -> None:
    """Truncation leaves a chain that checks; the notice made at entry 3 finds it."""
    clock = Clock()
    _write(store, clock, "a")
    _write(store, clock, "b")
    anchored = _notice(store, clock)
    _write(store, clock)
    _tamper(store, f"DELETE FROM audit WHERE id >= {anchored}")
    report = store.audit_report()
    assert report.problem is not None
    assert report.problem.entry == anchored
    assert f"notice {anchored}" in report.problem.message
    assert "no entry 3" in report.problem.message
    with pytest.raises(AuditChainError, match="deleted"):
        store.verify_audit()


def test_verify_finds_deleted_newest_entries_refilled_by_new_writes(store: SqlStorage) -> None:
    """Entries written after a truncation reuse the numbers: the anchor's hash differs."""
    clock = Clock()
    _write(store, clock, "a")
    anchored = _notice(store, clock)
    _tamper(store, f"DELETE FROM audit WHERE id >= {anchored}")
    # a writer that does not know the anchors (an old version) fills the number again
    with store.engine.begin() as conn:
        prev = conn.exec_driver_sql("SELECT hash FROM audit WHERE id = 1").scalar_one()
        at = clock()
        digest = entry_hash(2, KEY, prev, 2, "clerk", at, "write", "{}")
        conn.execute(
            sa.text(
                "INSERT INTO audit (id, actor, recorded_at, operation, summary, prev_hash, "
                "hash, chain) VALUES (2, 'clerk', :at, 'write', '{}', :prev, :hash, 2)"
            ),
            {"at": at, "prev": prev, "hash": digest},
        )
    problem = store.audit_report().problem
    assert problem is not None
    assert problem.entry == anchored
    assert "now has hash" in problem.message


def test_a_given_anchor_finds_a_replaced_entry(store: SqlStorage) -> None:
    clock = Clock()
    _write(store, clock, "a")
    head = store.audit_head()
    assert head is not None
    assert store.verify_audit([head]) == 1
    assert not store.audit_report([(head[0], "f" * 64)]).ok
    assert not store.audit_report([(head[0] + 5, head[1])]).ok


def test_writes_are_refused_over_a_broken_head(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b"):
        _write(store, clock, person)
    _tamper(store, "UPDATE audit SET summary = '{}' WHERE id = 2")
    with pytest.raises(AuditChainError, match="entry 2") as caught:
        _write(store, clock, "c")
    assert "accept-break" in str(caught.value)
    assert _count(store) == 2
    with store.reader() as reader, pytest.raises(RecordNotFoundError):
        reader.person_as_of("c", dt.date(2026, 1, 1))


def test_writes_are_refused_after_the_newest_entries_were_deleted(store: SqlStorage) -> None:
    clock = Clock()
    _write(store, clock, "a")
    anchored = _notice(store, clock)
    _tamper(store, f"DELETE FROM audit WHERE id >= {anchored}")
    with pytest.raises(AuditChainError, match=f"entry {anchored}"):
        _write(store, clock, "b")
    assert _count(store) == 1


def test_an_accepted_break_is_audited_and_lets_the_office_go_on(store: SqlStorage) -> None:
    clock = Clock()
    for person in ("a", "b", "c"):
        _write(store, clock, person)
    _tamper(store, "UPDATE audit SET actor = 'mallory' WHERE id = 3")
    with pytest.raises(AuditChainError):
        _write(store, clock, "d")
    with pytest.raises(ValidationError, match="say why"):
        store.accept_audit_break(actor="officer", recorded_at=clock(), reason="  ")
    found = store.accept_audit_break(
        actor="officer", recorded_at=clock(), reason="DBA test on 2026-11-20; county told"
    )
    assert found.problem is not None
    assert found.problem.entry == 3
    _write(store, clock, "d")  # allowed again
    report = store.audit_report()
    assert report.ok
    assert report.accepted[0]["from_entry"] == 3
    assert report.accepted[0]["accepted_by_entry"] == 4
    assert report.accepted[0]["actor"] == "officer"
    with store.reader() as reader:
        entry = reader.list_audit()[3]
    assert entry.operation == "audit-accept-break"
    assert entry.actor == "officer"
    assert entry.summary["reason"] == "DBA test on 2026-11-20; county told"
    assert entry.summary["first_bad"] == 3
    # a later change is a new break: the acceptance covers only what it names
    _tamper(store, "UPDATE audit SET actor = 'mallory' WHERE id = 5")
    problem = store.audit_report().problem
    assert problem is not None
    assert problem.entry == 5


def test_an_accepted_truncation_keeps_its_anchor_and_lets_writes_go_on(
    store: SqlStorage,
) -> None:
    clock = Clock()
    _write(store, clock, "a")
    anchored = _notice(store, clock)
    _tamper(store, f"DELETE FROM audit WHERE id >= {anchored}")
    store.accept_audit_break(actor="officer", recorded_at=clock(), reason="restored backup")
    _write(store, clock, "b")
    report = store.audit_report()
    assert report.ok, report.problems
    assert report.accepted[0]["anchor"] == f"notices:{anchored}"
    with store.engine.connect() as conn:
        kept = conn.exec_driver_sql("SELECT audit_hash FROM notices").scalar_one()
        entry = conn.exec_driver_sql(f"SELECT hash FROM audit WHERE id = {anchored}").scalar_one()
    assert kept != entry  # the anchor still says what it recorded


def test_an_intact_audit_has_no_break_to_accept(store: SqlStorage) -> None:
    _write(store, Clock(), "a")
    with pytest.raises(StorageError, match="intact"):
        store.accept_audit_break(actor="officer", recorded_at=Clock()(), reason="x")


def test_a_keyed_audit_needs_its_key(store: SqlStorage, storage_url: str) -> None:
    _write(store, Clock(), "a")
    keyless = SqlStorage(storage_url)
    try:
        with pytest.raises(ConfigurationError, match="keyed"):
            keyless.verify_audit()
        with pytest.raises(ConfigurationError, match="keyed"):
            _write(keyless, Clock(dt.datetime(2027, 1, 1)), "b")
    finally:
        keyless.close()
    wrong = SqlStorage(storage_url, audit_key=AuditKey(secret=b"\x01" * 32))
    try:
        with pytest.raises(AuditChainError, match="MAC"):
            _write(wrong, Clock(dt.datetime(2027, 1, 1)), "b")
    finally:
        wrong.close()


def test_an_existing_plain_chain_stays_verifiable_and_the_switch_cannot_move(
    storage_url: str,
) -> None:
    """A deployment without a key: its plain entries check as they are, the key seals the
    entries from `keyed_from` on, and resealing them plain is found."""
    clock = Clock()
    plain = SqlStorage(storage_url, migrate=True)
    try:
        _write(plain, clock, "a")
        _write(plain, clock, "b")
        assert plain.verify_audit() == 2
    finally:
        plain.close()
    keyed = SqlStorage(storage_url, audit_key=AuditKey(secret=KEY.secret, keyed_from=3))
    try:
        _write(keyed, clock, "c")
        _write(keyed, clock, "d")
        report = keyed.audit_report()
        assert report.ok
        assert (report.checked, report.keyed) == (4, 2)
        _tamper(keyed, "UPDATE audit SET actor = 'mallory' WHERE id = 3")
        _recompute_plain(keyed, 3)  # move the switch: entries 3 and 4 made plain again
        problem = keyed.audit_report().problem
        assert problem is not None
        assert problem.entry == 3
        assert "from 3 on" in problem.message
    finally:
        keyed.close()


def test_an_audit_written_before_the_migration_upgrades_and_verifies(storage_url: str) -> None:
    """Existing databases: entries sealed by the old code are chain version 1 after upgrade."""
    engine = create_engine(storage_url)
    try:
        migrations.upgrade_engine(engine, "0004")
        at = dt.datetime(2026, 1, 1, 8)
        digest = entry_hash(CHAIN_PLAIN, None, GENESIS, 1, "clerk", at, "import", "{}")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO audit (id, actor, recorded_at, operation, summary, prev_hash, "
                    "hash) VALUES (1, 'clerk', :at, 'import', '{}', :prev, :hash)"
                ),
                {"at": at, "prev": GENESIS, "hash": digest},
            )
        migrations.upgrade_engine(engine)
    finally:
        engine.dispose()
    storage = SqlStorage(storage_url, audit_key=AuditKey(secret=KEY.secret, keyed_from=2))
    try:
        assert storage.verify_audit() == 1
        _write(storage, Clock(dt.datetime(2026, 2, 1)), "a")
        report = storage.audit_report()
        assert report.ok
        assert (report.checked, report.keyed) == (2, 1)
    finally:
        storage.close()


def test_the_check_before_each_write_reads_a_fixed_number_of_audit_rows(
    store: SqlStorage,
) -> None:
    """The per-write check is O(1): no statement reads the whole audit (1M-row imports
    write one entry per unit of work, each checked)."""
    clock = Clock()
    for person in ("a", "b", "c"):
        _write(store, clock, person)
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(" ".join(statement.split()))

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        _write(store, clock, "d")
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)
    reads = [s for s in seen if "FROM audit" in s]
    assert reads
    assert all("LIMIT" in s for s in reads), reads
