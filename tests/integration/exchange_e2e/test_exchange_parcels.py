"""Parcels from a hostile partner (issue 13, point 8): links, folders, devices and FIFOs in a
parcel, files the manifest does not list, one bad parcel among good ones, and a large parcel
read in little memory."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import socket
import stat
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from famplan_core.exchange.batch import (
    MalformedBatchError,
    Message,
    MessageOutcome,
    Parcel,
    Receipt,
    UnsafeParcelError,
    pack,
    unpack,
)
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.ledger import ExchangeLedger, StoredMessage
from famplan_core.exchange.service import ExchangeService
from famplan_core.exchange.transports import FolderParcel, FolderTransport, write_parcel
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"
PROVINCE = "37"
TODAY = dt.date(2026, 4, 10)
FORMATS = {"jsonl": JsonLinesFormat}


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


WIDOW, OLD_MAN = cid("1950-03-03", 42), cid("1948-06-06", 13)


class Clock:
    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 4, 10, 9) + dt.timedelta(minutes=next(self._ticks))


@pytest.fixture
def storage(storage_url: str) -> Iterator[SqlStorage]:
    store = SqlStorage(storage_url, migrate=True)
    with store.unit_of_work(actor="clerk", recorded_at=dt.datetime(2026, 4, 10, 8)) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("O", citizen_id=WIDOW, name="陈兰", sex="2", birth_date="1950-03-03"),
                person_row("L", citizen_id=OLD_MAN, name="赵山", sex="1", birth_date="1948-06-06"),
            ],
        )
    yield store
    store.close()


def death(citizen_id: str, name: str, minute: int) -> Parcel:
    message = Message.new(
        sender=PROVINCE,
        message_type="death",
        payload={"citizen_id": citizen_id, "name": name, "death_date": "2026-03-20"},
    )
    return pack(
        [message],
        sender=PROVINCE,
        receiver=G,
        created_at=dt.datetime(2026, 4, 10, 7, minute),
        fmt=JsonLinesFormat(),
    )


def death_date(storage: SqlStorage, person_id: str) -> dt.date | None:
    with storage.reader() as reader:
        return reader.person_as_of(person_id, TODAY).death_date


# -- what a parcel may hold ----------------------------------------------------------------


def _link_to_a_copy(folder: Path, name: str, data: bytes) -> None:
    # the link points at a file with exactly the listed bytes: following it would "work"
    outside = folder.parent.parent / f"outside-{folder.name}-{name}"
    outside.write_bytes(data)
    (folder / name).unlink()
    (folder / name).symlink_to(outside)


def _folder(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    (folder / name).mkdir()


def _fifo(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    os.mkfifo(folder / name)


def _device(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    try:
        os.mknod(folder / name, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # like /dev/null
    except PermissionError:
        pytest.skip("making a device node needs privileges")


def _socket(folder: Path, name: str, data: bytes) -> None:
    (folder / name).unlink()
    with contextlib.chdir(folder), socket.socket(socket.AF_UNIX) as s:
        s.bind(name)  # relative: a socket's path is short


UNSAFE: dict[str, Callable[[Path, str, bytes], None]] = {
    "symbolic link": _link_to_a_copy,
    "folder": _folder,
    "FIFO": _fifo,
    "device": _device,
    "socket": _socket,
}


@pytest.mark.parametrize("member", ["messages.jsonl", "manifest.json"])
@pytest.mark.parametrize("what", list(UNSAFE))
def test_a_parcel_holding_anything_but_regular_files_is_quarantined_unread(
    storage: SqlStorage, tmp_path: Path, what: str, member: str
) -> None:
    exchange = tmp_path / "exchange"
    transport = FolderTransport(exchange)
    parcel = death(WIDOW, "陈兰", 0)
    folder = write_parcel(exchange / "inbox", parcel)
    UNSAFE[what](folder, member, parcel.files[member])
    service = ExchangeService(storage, division=G, transport=transport)
    clock = Clock()
    (outcome,) = service.receive(actor="clerk", recorded_at=clock(), today=TODAY)
    assert outcome.status == "quarantined"
    assert any(member in r and what in r for r in outcome.reasons), outcome.reasons
    assert death_date(storage, "O") is None
    assert not (exchange / "inbox" / parcel.name).exists()
    assert (exchange / "quarantine" / parcel.name).is_dir()
    # the sender learns its batch was refused, and why (nothing about the register)
    (answer,) = (exchange / "outbox").iterdir()
    receipt = Receipt.from_json((answer / "receipt.json").read_bytes())
    assert (receipt.status, receipt.batch_id) == ("rejected", parcel.batch_id)
    assert what in receipt.reasons[0]
    # set aside as it was: the odd entry is still what it was, nothing was followed
    kept = exchange / "quarantine" / parcel.name / member
    assert kept.is_symlink() if what == "symbolic link" else not stat.S_ISREG(kept.lstat().st_mode)


def test_a_parcel_that_is_itself_a_link_is_quarantined(storage: SqlStorage, tmp_path: Path) -> None:
    exchange = tmp_path / "exchange"
    parcel = death(WIDOW, "陈兰", 0)
    elsewhere = write_parcel(tmp_path / "elsewhere", parcel)
    (exchange / "inbox").mkdir(parents=True)
    (exchange / "inbox" / parcel.name).symlink_to(elsewhere, target_is_directory=True)
    service = ExchangeService(storage, division=G, transport=FolderTransport(exchange))
    (outcome,) = service.receive(actor="clerk", recorded_at=Clock()(), today=TODAY)
    assert outcome.status == "quarantined"
    assert "symbolic link" in outcome.reasons[0]
    assert death_date(storage, "O") is None
    assert (exchange / "quarantine" / parcel.name).is_symlink()
    assert elsewhere.is_dir()  # the link was moved, not what it points to


def test_a_file_swapped_for_a_link_after_listing_is_refused_when_opened(tmp_path: Path) -> None:
    parcel = death(WIDOW, "陈兰", 0)
    folder = write_parcel(tmp_path, parcel)
    source = FolderParcel(folder)
    assert source.entries() == {"manifest.json": "file", "messages.jsonl": "file"}
    _link_to_a_copy(folder, "messages.jsonl", parcel.files["messages.jsonl"])
    with pytest.raises(UnsafeParcelError, match="symbolic link"):
        source.open("messages.jsonl")


# -- one bad parcel among good ones --------------------------------------------------------


def test_one_bad_parcel_never_blocks_the_others_and_each_is_reported(
    storage: SqlStorage, tmp_path: Path
) -> None:
    exchange = tmp_path / "exchange"
    inbox = exchange / "inbox"
    good_first = write_parcel(inbox, death(WIDOW, "陈兰", 0))
    unsafe = write_parcel(inbox, death(OLD_MAN, "赵山", 1))
    (unsafe / "messages.jsonl").unlink()
    (unsafe / "messages.jsonl").mkdir()
    damaged = death(OLD_MAN, "赵山", 2)
    damaged_folder = write_parcel(inbox, damaged)
    (damaged_folder / "messages.jsonl").write_bytes(b"{}\n")
    garbage = inbox / "receipt_37_371502110_nonsense"
    garbage.mkdir()
    (garbage / "receipt.json").write_bytes(b"\xff not json")
    odd_name = inbox / "not-a-parcel"
    odd_name.mkdir()
    service = ExchangeService(storage, division=G, transport=FolderTransport(exchange))
    outcomes = service.receive(actor="clerk", recorded_at=Clock()(), today=TODAY)
    by_name = {o.parcel: o.status for o in outcomes}
    assert by_name == {
        good_first.name: "applied",
        unsafe.name: "quarantined",
        damaged_folder.name: "rejected",
        garbage.name: "rejected",
        odd_name.name: "rejected",
    }
    assert death_date(storage, "O") == dt.date(2026, 3, 20)
    assert death_date(storage, "L") is None
    assert sorted(p.name for p in (exchange / "processed").iterdir()) == [good_first.name]
    assert sorted(p.name for p in (exchange / "quarantine").iterdir()) == [unsafe.name]
    assert sorted(p.name for p in (exchange / "rejected").iterdir()) == sorted(
        [damaged_folder.name, garbage.name, odd_name.name]
    )
    assert not list(inbox.iterdir())


def test_a_parcel_that_cannot_be_read_now_stays_and_the_others_go_on(
    storage: SqlStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exchange = tmp_path / "exchange"
    stuck = write_parcel(exchange / "inbox", death(OLD_MAN, "赵山", 0))
    good = write_parcel(exchange / "inbox", death(WIDOW, "陈兰", 1))
    real_open = FolderParcel.open

    def failing_open(self: FolderParcel, name: str) -> io.RawIOBase:
        if self.name == stuck.name and name == "messages.jsonl":
            raise PermissionError(13, "Permission denied", name)
        return real_open(self, name)  # type: ignore[return-value]

    monkeypatch.setattr(FolderParcel, "open", failing_open)
    service = ExchangeService(storage, division=G, transport=FolderTransport(exchange))
    outcomes = service.receive(actor="clerk", recorded_at=Clock()(), today=TODAY)
    assert {o.parcel: o.status for o in outcomes} == {stuck.name: "failed", good.name: "applied"}
    assert "Permission denied" in outcomes[0].reasons[0]
    assert stuck.is_dir()  # left in the inbox for the next run
    assert death_date(storage, "O") == dt.date(2026, 3, 20)


# -- files the manifest does not list ------------------------------------------------------


def test_a_file_the_manifest_does_not_list_refuses_the_parcel_before_anything_is_read(
    storage: SqlStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parcel = death(WIDOW, "陈兰", 0)
    folder = write_parcel(tmp_path / "inbox", parcel)
    (folder / "payload.exe").write_bytes(b"MZ" + b"\0" * 100)
    opened: list[str] = []
    real_os_open, real_io_open = os.open, io.open

    def spy_os_open(path: object, *args: object, **kwargs: object) -> int:
        opened.append(os.path.basename(os.fsdecode(path)))  # type: ignore[arg-type]
        return real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def spy_io_open(file: object, *args: object, **kwargs: object) -> object:
        if isinstance(file, (str, bytes, os.PathLike)):
            opened.append(os.path.basename(os.fsdecode(file)))
        return real_io_open(file, *args, **kwargs)  # type: ignore[call-overload]

    service = ExchangeService(storage, division=G)
    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr(io, "open", spy_io_open)
    try:
        (outcome,) = service.import_path(folder, actor="clerk", recorded_at=Clock()(), today=TODAY)
    finally:
        monkeypatch.undo()
    assert outcome.status == "rejected"
    assert any("payload.exe" in r and "does not list" in r for r in outcome.reasons)
    assert "payload.exe" not in opened
    assert "messages.jsonl" not in opened
    assert death_date(storage, "O") is None


# -- memory --------------------------------------------------------------------------------

_NOTE = "x" * 3000


def _large_parcel(folder: Path, *, lines: int, last: bytes | None = None) -> tuple[Path, int]:
    """A parcel of `lines` large death messages (about 3 KB each), written to disk in
    pieces; `last` replaces the last line's bytes. Returns the folder and the file's size."""
    name = f"batch_{PROVINCE}_{G}_37-big"
    target = folder / name
    target.mkdir(parents=True)
    digest = hashlib.sha256()
    size = 0
    with (target / "messages.jsonl").open("wb") as out:
        for n in range(lines):
            payload = {
                "citizen_id": WIDOW,
                "name": "陈兰",
                "death_date": "2026-03-20",
                "note": f"{n:08d}{_NOTE}",
            }
            message_id = f"37.{hashlib.sha256(str(n).encode()).hexdigest()[:40]}"
            data = (
                json.dumps(
                    {"id": message_id, "type": "death", "payload": payload}, ensure_ascii=False
                )
                + "\n"
            ).encode()
            if last is not None and n == lines - 1:
                data = last
            out.write(data)
            digest.update(data)
            size += len(data)
    manifest = {
        "batch_id": "37-big",
        "sender": PROVINCE,
        "receiver": G,
        "created_at": "2026-04-10T07:00:00Z",
        "format": "jsonl",
        "format_version": 1,
        "message_counts": {"death": lines},
        "files": {"messages.jsonl": {"sha256": digest.hexdigest(), "size": size}},
    }
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return target, size


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_a_large_parcel_streams_it(tmp_path: Path) -> None:
    folder, size = _large_parcel(tmp_path, lines=12_000)
    assert size > 35_000_000

    def read_all() -> int:
        batch = unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
        return sum(1 for _m in batch.messages)

    peak = _peak(read_all)
    assert peak < size // 5, f"peak {peak} bytes for a file of {size}"


@pytest.mark.parametrize("damage", ["checksum", "last line"])
def test_a_large_damaged_parcel_is_refused_in_little_memory(
    storage: SqlStorage, tmp_path: Path, damage: str
) -> None:
    folder, size = _large_parcel(
        tmp_path, lines=12_000, last=b'{"id": broken\n' if damage == "last line" else None
    )
    if damage == "checksum":
        with (folder / "messages.jsonl").open("r+b") as f:
            f.seek(size - 10)
            f.write(b"y")
    service = ExchangeService(storage, division=G)
    outcomes: list[object] = []
    peak = _peak(
        lambda: outcomes.extend(
            service.import_path(folder, actor="clerk", recorded_at=Clock()(), today=TODAY)
        )
    )
    (outcome,) = outcomes
    assert getattr(outcome, "status") == "rejected"  # noqa: B009
    assert peak < size // 5, f"peak {peak} bytes for a file of {size}"


def test_a_file_changed_after_its_check_refuses_the_batch(tmp_path: Path) -> None:
    parcel = death(WIDOW, "陈兰", 0)
    folder = write_parcel(tmp_path, parcel)
    batch = unpack(FolderParcel(folder), formats=FORMATS, receiver=G)
    data = parcel.files["messages.jsonl"].replace(b"2026-03-20", b"2026-03-01")
    (folder / "messages.jsonl").write_bytes(data)
    with pytest.raises(MalformedBatchError, match="SHA-256"):
        list(batch.messages)


# -- receipts ------------------------------------------------------------------------------

H = "371502115"


def _two_batches_to_h(storage: SqlStorage, clock: Clock) -> tuple[ExchangeService, dict[str, str]]:
    """Two batches sent to Hanji, one verification request each: batch id → message id."""
    service = ExchangeService(storage, division=G)
    sent: dict[str, str] = {}
    for person in ("O", "L"):
        message = service.request_verification(
            person, program="rural_reward", to=H, actor="clerk", recorded_at=clock()
        ).message
        summary = service.export(H, actor="clerk", recorded_at=clock(), send=False)
        assert summary.batch_id is not None
        sent[summary.batch_id] = message.id
    return service, sent


def _outcomes(service: ExchangeService) -> dict[str, str]:
    return dict(service.status().counts["messages_out"])


def test_a_receipt_named_for_one_batch_cannot_settle_another(
    storage: SqlStorage, tmp_path: Path
) -> None:
    clock = Clock()
    service, sent = _two_batches_to_h(storage, clock)
    first, second = sent
    answer = Receipt(
        batch_id=second,
        sender=H,
        receiver=G,
        status="rejected",
        created_at=dt.datetime(2026, 4, 10, 12),
        reasons=("no",),
    )
    # the parcel says it answers the first batch; its content answers the second
    disguised = Parcel.named(
        kind="receipt", sender=H, receiver=G, batch_id=first, files=answer.to_parcel().files
    )
    folder = write_parcel(tmp_path / "inbox", disguised)
    (outcome,) = service.import_path(folder, actor="clerk", recorded_at=clock(), today=TODAY)
    assert outcome.status == "rejected"
    assert "its receipt answers batch" in outcome.reasons[0]
    assert _outcomes(service) == {"sent": 2}
    assert {b.batch_id: b.status for b in service.status().batches if b.direction == "out"} == {
        first: "created",
        second: "created",
    }


def test_a_receipt_marks_only_messages_of_its_own_batch(
    storage: SqlStorage, tmp_path: Path
) -> None:
    clock = Clock()
    service, sent = _two_batches_to_h(storage, clock)
    (first, first_message), (_second, second_message) = sent.items()
    answer = Receipt(
        batch_id=first,
        sender=H,
        receiver=G,
        status="accepted",
        created_at=dt.datetime(2026, 4, 10, 12),
        messages=(
            MessageOutcome(id=first_message, outcome="accepted"),
            MessageOutcome(id=second_message, outcome="rejected", reasons=("forged",)),
        ),
    )
    outcome = service.import_parcel(
        answer.to_parcel(), actor="clerk", recorded_at=clock(), today=TODAY
    )
    assert outcome.status == "settled"
    assert outcome.reasons == (
        f"1 message(s) it names are not in batch {first}: left alone ({second_message})",
    )
    assert _outcomes(service) == {"accepted": 1, "sent": 1}
    with storage.reader() as reader:
        assert (
            ExchangeLedger(reader.connection)
            .messages("out", H, [second_message])[second_message]
            .outcome
            == "sent"
        )
    # the ledger itself never changes a message of another batch on a receipt's behalf
    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        changed = ExchangeLedger(uow.connection).set_outcomes(
            direction="out",
            partner=H,
            outcomes={second_message: ("rejected", ("forged",))},
            in_batch=first,
        )
    assert changed == 0
    assert _outcomes(service) == {"accepted": 1, "sent": 1}


# -- a quarantined message sent again -------------------------------------------------------

NEWCOMER = cid("1975-05-05", 15)


def _ledger_row(storage: SqlStorage, message_id: str) -> StoredMessage:
    with storage.reader() as reader:
        return ExchangeLedger(reader.connection).messages("in", PROVINCE, [message_id])[message_id]


def _register_rows(storage: SqlStorage) -> list[tuple[object, ...]]:
    with storage.reader() as reader:
        return [
            tuple(r)
            for r in reader.connection.exec_driver_sql(
                "SELECT kind, subject_id, valid_date FROM facts ORDER BY fact_id"
            )
        ]


def test_a_quarantined_message_sent_again_after_its_cause_is_fixed_is_applied(
    storage: SqlStorage,
) -> None:
    clock = Clock()
    service = ExchangeService(storage, division=G)
    first = death(NEWCOMER, "孙强", 0)
    (message_id,) = [json.loads(line)["id"] for line in first.files["messages.jsonl"].split()]
    refused = service.import_parcel(first, actor="clerk", recorded_at=clock(), today=TODAY)
    assert refused.quarantined == 1
    assert _ledger_row(storage, message_id).outcome == "quarantined"
    with storage.reader() as reader:
        (entry,) = reader.list_quarantine()
    assert entry.row.raw["message_id"] == message_id
    # the office registers the person; the province sends the same message again
    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [person_row("N", citizen_id=NEWCOMER, name="孙强", sex="1", birth_date="1975-05-05")],
        )
    again = death(NEWCOMER, "孙强", 5)
    applied = service.import_parcel(again, actor="clerk", recorded_at=clock(), today=TODAY)
    assert (applied.applied, applied.quarantined, applied.duplicates) == (1, 0, 0)
    assert applied.receipt is not None
    assert [(m.id, m.outcome) for m in applied.receipt.messages] == [(message_id, "accepted")]
    assert death_date(storage, "N") == dt.date(2026, 3, 20)
    row = _ledger_row(storage, message_id)
    assert (row.outcome, row.subject_id, row.reasons) == ("applied", "N", ())
    with storage.reader() as reader:
        assert reader.list_quarantine(status="open") == []
        assert [q.status for q in reader.list_quarantine(status=None)] == ["resolved"]
    # from now on it is a message applied: a replay writes nothing to the register
    before = _register_rows(storage)
    replayed = service.import_parcel(again, actor="clerk", recorded_at=clock(), today=TODAY)
    assert replayed.status == "replayed"
    assert replayed.receipt == applied.receipt
    third = service.import_parcel(
        death(NEWCOMER, "孙强", 9), actor="clerk", recorded_at=clock(), today=TODAY
    )
    assert (third.applied, third.quarantined, third.duplicates) == (0, 0, 1)
    assert third.receipt is not None
    assert third.receipt.messages[0].outcome == "accepted"
    assert _register_rows(storage) == before
    assert _ledger_row(storage, message_id) == row


def test_a_message_refused_again_keeps_one_open_entry(storage: SqlStorage) -> None:
    clock = Clock()
    service = ExchangeService(storage, division=G)
    for minute in (0, 5, 9):
        outcome = service.import_parcel(
            death(NEWCOMER, "孙强", minute), actor="clerk", recorded_at=clock(), today=TODAY
        )
        assert (outcome.applied, outcome.quarantined, outcome.duplicates) == (0, 1, 0)
        assert outcome.receipt is not None
        assert outcome.receipt.messages[0].outcome == "rejected"
    with storage.reader() as reader:
        assert len(reader.list_quarantine()) == 1


@pytest.mark.parametrize("first_outcome", ["applied", "quarantined"])
def test_another_payload_under_a_known_id_is_a_conflict(
    storage: SqlStorage, first_outcome: str
) -> None:
    clock = Clock()
    service = ExchangeService(storage, division=G)
    citizen, name = (WIDOW, "陈兰") if first_outcome == "applied" else (NEWCOMER, "孙强")
    first = death(citizen, name, 0)
    (line,) = first.files["messages.jsonl"].split(b"\n")[:-1]
    original = json.loads(line)
    service.import_parcel(first, actor="clerk", recorded_at=clock(), today=TODAY)
    assert _ledger_row(storage, original["id"]).outcome == first_outcome
    if first_outcome == "quarantined":  # even once the cause is fixed
        with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [person_row("N", citizen_id=NEWCOMER, name=name, sex="1", birth_date="1975-05-05")],
            )
    forged = Message(
        id=original["id"], type="death", payload={**original["payload"], "death_date": "2026-03-01"}
    )
    outcome = service.import_parcel(
        pack(
            [forged],
            sender=PROVINCE,
            receiver=G,
            created_at=dt.datetime(2026, 4, 10, 8),
            fmt=JsonLinesFormat(),
        ),
        actor="clerk",
        recorded_at=clock(),
        today=TODAY,
    )
    assert outcome.receipt is not None
    assert outcome.receipt.messages[0].outcome == "rejected"
    assert "conflict" in outcome.receipt.messages[0].reasons[0]
    assert _ledger_row(storage, original["id"]).outcome == first_outcome
    expected = dt.date(2026, 3, 20) if first_outcome == "applied" else None
    assert death_date(storage, "O" if first_outcome == "applied" else "N") == expected


def test_a_receipt_larger_than_its_batch_can_need_is_refused_unparsed(
    storage: SqlStorage, tmp_path: Path
) -> None:
    clock = Clock()
    service, sent = _two_batches_to_h(storage, clock)
    first, first_message = next(iter(sent.items()))
    padded = Receipt(
        batch_id=first,
        sender=H,
        receiver=G,
        status="accepted",
        created_at=dt.datetime(2026, 4, 10, 12),
        messages=(
            MessageOutcome(id=first_message, outcome="rejected", reasons=("x" * 20_000_000,)),
        ),
    )
    folder = write_parcel(tmp_path / "inbox", padded.to_parcel())
    outcomes: list[object] = []
    peak = _peak(
        lambda: outcomes.extend(
            service.import_path(folder, actor="clerk", recorded_at=clock(), today=TODAY)
        )
    )
    (outcome,) = outcomes
    assert getattr(outcome, "status") == "rejected"  # noqa: B009
    assert "larger than" in getattr(outcome, "reasons")[0]  # noqa: B009
    assert peak < 2_000_000, peak
    assert _outcomes(service) == {"sent": 2}
