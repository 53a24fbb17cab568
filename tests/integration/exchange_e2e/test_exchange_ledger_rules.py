"""The exchange ledger's rules on real databases: facts or quarantine, replays, conflicts,
receipts and the outbox (issue 5, deliverable 3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

from famplan_core.exchange.batch import (
    BatchRejectedError,
    ConflictError,
    Message,
    MessageOutcome,
    Parcel,
    Receipt,
    TransportError,
    pack,
)
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.inbound import NOT_MATCHED
from famplan_core.exchange.service import ExchangeService
from famplan_core.exchange.transports import FolderTransport
from famplan_core.storage import SqlStorage
from famplan_core.storage.tables import metadata
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"
PROVINCE = "37"
TODAY = dt.date(2026, 4, 10)


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


HUSBAND, WIFE, WIDOW, MOVER = (
    cid("1980-01-01", 11),
    cid("1982-02-02", 22),
    cid("1950-03-03", 42),
    cid("1970-04-04", 13),
)
STRANGER = cid("1975-05-05", 15)


class Clock:
    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 4, 10, 9) + dt.timedelta(minutes=next(self._ticks))


class Recorder:
    """A transport that keeps what it is given, and fails the first `failures` sends."""

    PLUGIN_NAME: ClassVar[str] = "recorder"

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: list[Parcel] = []

    def send(self, parcel: Parcel) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise TransportError("the network is down")
        self.sent.append(parcel)

    def receive(self) -> Iterator[Parcel]:
        return iter(())

    def done(self, parcel: Parcel, *, rejected: bool = False) -> None:
        return None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def storage(storage_url: str, clock: Clock) -> Iterator[SqlStorage]:
    store = SqlStorage(storage_url, migrate=True)
    with store.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("H", citizen_id=HUSBAND, name="张伟", sex="1", birth_date="1980-01-01"),
                person_row("W", citizen_id=WIFE, name="刘芳", sex="2", birth_date="1982-02-02"),
                person_row("O", citizen_id=WIDOW, name="陈兰", sex="2", birth_date="1950-03-03"),
                person_row("M", citizen_id=MOVER, name="孙强", sex="1", birth_date="1970-04-04"),
            ],
        )
    yield store
    store.close()


def digest(storage: SqlStorage) -> str:
    """A hash of every row of every table: equal when nothing changed."""
    h = hashlib.sha256()
    with storage.reader() as reader:
        for table in metadata.sorted_tables:
            rows = reader.connection.execute(sa.select(table)).all()
            for row in sorted(repr(tuple(r)) for r in rows):
                h.update(row.encode())
    return h.hexdigest()


def province_batch(
    messages: list[tuple[str, dict[str, str]]], *, minute: int = 0, batch_id: str | None = None
) -> Parcel:
    built = [Message.new(sender=PROVINCE, message_type=t, payload=p) for t, p in messages]
    return pack(
        built,
        sender=PROVINCE,
        receiver=G,
        created_at=dt.datetime(2026, 4, 10, 7, minute),
        fmt=JsonLinesFormat(),
        batch_id=batch_id,
    )


def facts(storage: SqlStorage) -> list[tuple[Any, ...]]:
    with storage.reader() as reader:
        return [
            tuple(r)
            for r in reader.connection.exec_driver_sql(
                "SELECT kind, subject_id, valid_date FROM facts ORDER BY fact_id"
            )
        ]


EVENTS: list[tuple[str, dict[str, str]]] = [
    (
        "birth",
        {
            "person_ref": "B2026-001",
            "name": "张小宝",
            "sex": "1",
            "birth_date": "2026-03-01",
            "hukou_division": "371502110001",
            "hukou_type": "rural",
            "mother_citizen_id": WIFE,
            "father_citizen_id": HUSBAND,
        },
    ),
    ("death", {"citizen_id": WIDOW, "name": "陈兰", "death_date": "2026-03-20"}),
    (
        "marriage",
        {
            "a_citizen_id": HUSBAND,
            "a_name": "张伟",
            "b_citizen_id": WIFE,
            "b_name": "刘芳",
            "start": "2005-05-01",
        },
    ),
    (
        "hukou_move",
        {
            "person_ref": "X1",
            "citizen_id": MOVER,
            "name": "孙强",
            "sex": "1",
            "birth_date": "1970-04-04",
            "date": "2026-03-25",
            "from_division": "371502110001",
            "to_division": "371502115201",
            "hukou_type": "rural",
        },
    ),
    # cannot be matched
    ("death", {"citizen_id": STRANGER, "name": "无名", "death_date": "2026-03-21"}),
    # invalid: a death before the birth
    ("death", {"citizen_id": MOVER, "name": "孙强", "death_date": "1960-01-01"}),
    # unknown type
    ("pregnancy", {"citizen_id": WIFE}),
    # a township-to-province type sent the wrong way
    (
        "roll_totals",
        {"program": "rural_reward", "month": "2026-03", "lines": "1", "amount": "80.00"},
    ),
]


def test_events_become_facts_and_bad_ones_are_quarantined(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    audit_before = storage.verify_audit()
    outcome = service.import_parcel(
        province_batch(EVENTS), actor="clerk", recorded_at=clock(), today=TODAY
    )
    assert (outcome.status, outcome.applied, outcome.quarantined) == ("applied", 4, 4)
    assert outcome.receipt is not None
    verdicts = [m.outcome for m in outcome.receipt.messages]
    assert verdicts == ["accepted"] * 4 + ["rejected"] * 4
    reasons = [m.reasons for m in outcome.receipt.messages[4:]]
    # refused against the register: the partner learns nothing of it (issue 13)
    assert reasons[0] == reasons[1] == (NOT_MATCHED,)
    assert "unknown message type" in reasons[2][0]
    assert "township→province" in reasons[3][0]
    kinds = [f[0] for f in facts(storage)]
    for expected in (
        "person_registered",
        "child_linked",
        "death_recorded",
        "union_started",
        "hukou_changed",
    ):
        assert expected in kinds
    with storage.reader() as reader:
        quarantined = reader.list_quarantine()
        assert len(quarantined) == 4
        assert all(q.row.file.startswith("exchange:") and q.row.problems for q in quarantined)
        details = " ".join(str(p) for q in quarantined for p in q.row.problems)
        assert "no person with this ID number" in details
        assert "before the birth" in details
        mover = reader.person_as_of("M", dt.date(2026, 4, 1))
        assert (mover.hukou_division, mover.death_date) == ("371502115201", None)
        # the first change is preceded by the hukou held from birth (R0.5)
        assert reader.person_as_of("M", dt.date(2000, 1, 1)).hukou_division == "371502110001"
        baby = reader.person_as_of(f"{PROVINCE}-B2026-001", dt.date(2026, 4, 1))
        assert {c.child_id for c in reader.person_as_of("W", dt.date(2026, 4, 1)).children} == {
            baby.person_id
        }
        # one unit of work for the whole batch (no transport: no send)
        assert len(reader.list_audit()) == audit_before + 1


def test_a_replayed_batch_returns_the_stored_receipt_and_changes_nothing(
    storage: SqlStorage, clock: Clock
) -> None:
    recorder = Recorder()
    service = ExchangeService(storage, division=G, transport=recorder)
    parcel = province_batch(EVENTS)
    first = service.import_parcel(parcel, actor="clerk", recorded_at=clock(), today=TODAY)
    before = digest(storage)
    again = service.import_parcel(parcel, actor="clerk", recorded_at=clock(), today=TODAY)
    assert again.status == "replayed"
    assert again.receipt == first.receipt
    assert digest(storage) == before
    # the receipt went back twice: after the import (outbox) and on the replay (directly)
    receipts = [Receipt.from_json(p.files["receipt.json"]) for p in recorder.sent]
    assert receipts == [first.receipt, first.receipt]
    # the same messages in a new batch: those applied are duplicates, nothing applied again;
    # those quarantined are tried again (their cause is not fixed: quarantined again)
    repeat = service.import_parcel(
        province_batch(EVENTS, minute=5), actor="clerk", recorded_at=clock(), today=TODAY
    )
    assert (repeat.applied, repeat.quarantined, repeat.duplicates) == (0, 4, 4)
    assert repeat.receipt is not None
    assert first.receipt is not None
    assert [m.outcome for m in repeat.receipt.messages] == [
        m.outcome for m in first.receipt.messages
    ]


def test_the_same_message_id_with_another_payload_is_a_conflict(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    death = Message.new(
        sender=PROVINCE,
        message_type="death",
        payload={"citizen_id": WIDOW, "name": "陈兰", "death_date": "2026-03-20"},
    )
    forged = Message(
        id=death.id,
        type="death",
        payload={"citizen_id": WIDOW, "name": "陈兰", "death_date": "2026-03-01"},
    )
    fmt = JsonLinesFormat()
    at = dt.datetime(2026, 4, 10, 7)
    service.import_parcel(
        pack([death], sender=PROVINCE, receiver=G, created_at=at, fmt=fmt),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    outcome = service.import_parcel(
        pack([forged], sender=PROVINCE, receiver=G, created_at=at + dt.timedelta(hours=1), fmt=fmt),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    assert outcome.receipt is not None
    (verdict,) = outcome.receipt.messages
    assert verdict.outcome == "rejected"
    assert "conflict" in verdict.reasons[0]
    with storage.reader() as reader:
        assert reader.person_as_of("O", TODAY).death_date == dt.date(
            2026, 3, 20
        )  # the first stands
        assert any("conflict" in str(q.row.problems[0]) for q in reader.list_quarantine())


def test_the_same_batch_id_with_other_content_is_refused_whole(
    storage: SqlStorage, clock: Clock
) -> None:
    recorder = Recorder()
    service = ExchangeService(storage, division=G, transport=recorder)
    service.import_parcel(
        province_batch(EVENTS[:2], batch_id="37-B1"), actor="c", recorded_at=clock(), today=TODAY
    )
    before = digest(storage)
    with pytest.raises(ConflictError, match="conflict"):
        service.import_parcel(
            province_batch(EVENTS[2:4], batch_id="37-B1"),
            actor="c",
            recorded_at=clock(),
            today=TODAY,
        )
    assert digest(storage) == before
    rejection = Receipt.from_json(recorder.sent[-1].files["receipt.json"])
    assert rejection.status == "rejected"
    assert rejection.batch_id == "37-B1"


def test_a_damaged_batch_is_refused_whole_and_a_rejection_goes_back(
    storage: SqlStorage, clock: Clock
) -> None:
    recorder = Recorder()
    service = ExchangeService(storage, division=G, transport=recorder)
    parcel = province_batch(EVENTS)
    data = parcel.files["messages.jsonl"]
    damaged = Parcel(
        name=parcel.name, files={**parcel.files, "messages.jsonl": data[: len(data) // 2]}
    )
    before = digest(storage)
    with pytest.raises(BatchRejectedError, match="truncated"):
        service.import_parcel(damaged, actor="c", recorded_at=clock(), today=TODAY)
    assert digest(storage) == before
    (sent,) = recorder.sent
    assert sent.name.startswith(f"receipt_{G}_{PROVINCE}_")
    assert Receipt.from_json(sent.files["receipt.json"]).status == "rejected"


def test_moves_apply_in_date_order_whatever_the_order_of_arrival(
    storage: SqlStorage, clock: Clock
) -> None:
    service = ExchangeService(storage, division=G)
    common = {
        "person_ref": "X1",
        "citizen_id": MOVER,
        "name": "孙强",
        "sex": "1",
        "birth_date": "1970-04-04",
        "hukou_type": "rural",
    }
    later = {
        **common,
        "date": "2026-03-01",
        "from_division": "371502110001",
        "to_division": "371502115201",
    }
    earlier = {
        **common,
        "date": "2026-01-01",
        "from_division": "371502110001",
        "to_division": "371502110002",
    }
    service.import_parcel(
        province_batch([("hukou_move", later)], minute=1),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    service.import_parcel(
        province_batch([("hukou_move", earlier)], minute=2),
        actor="c",
        recorded_at=clock(),
        today=TODAY,
    )
    with storage.reader() as reader:
        assert reader.person_as_of("M", TODAY).hukou_division == "371502115201"
        assert reader.person_as_of("M", dt.date(2026, 2, 1)).hukou_division == "371502110002"
        assert reader.person_as_of("M", dt.date(2025, 2, 1)).hukou_division == "371502110001"


def test_the_outbox_retries_failed_sends_and_receipts_settle_batches(
    storage: SqlStorage, clock: Clock, tmp_path: Path
) -> None:
    flaky = Recorder(failures=1)
    service = ExchangeService(storage, division=G, transport=flaky)
    message = service.request_verification(
        "M", program="rural_reward", to="371502115", actor="c", recorded_at=clock()
    ).message
    summary = service.export("371502115", actor="c", recorded_at=clock())
    assert summary.batch_id is not None
    assert not summary.sent
    (entry,) = service.status().outbox
    assert (entry.status, entry.attempts) == (
        "pending",
        1,
    )
    assert "network is down" in entry.last_error
    assert service.flush_outbox(actor="c", recorded_at=clock()) == (1, 0)
    (parcel,) = flaky.sent
    assert parcel.name == f"batch_{G}_371502115_{summary.batch_id}"
    # the partner rejects the message: the ledger keeps why
    receipt = Receipt(
        batch_id=summary.batch_id,
        sender="371502115",
        receiver=G,
        status="accepted",
        created_at=dt.datetime(2026, 4, 10, 12),
        messages=(MessageOutcome(id=message.id, outcome="rejected", reasons=("no such person",)),),
    )
    settled = service.import_parcel(
        receipt.to_parcel(), actor="c", recorded_at=clock(), today=TODAY
    )
    assert settled.status == "settled"
    assert (
        service.import_parcel(
            receipt.to_parcel(), actor="c", recorded_at=clock(), today=TODAY
        ).status
        == "unchanged"
    )
    status = service.status()
    assert status.counts["batches_out"] == {"acknowledged": 1}
    assert status.counts["messages_out"] == {"rejected": 1}
    # a folder transport writes the same bytes again on a retry
    folder = FolderTransport(tmp_path / "x")
    folder.send(parcel)
    folder.send(parcel)
    assert [p.name for p in (tmp_path / "x" / "outbox").iterdir()] == [parcel.name]
