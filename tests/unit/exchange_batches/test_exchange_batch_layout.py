"""Batches on the wire: manifest, checksums, the JSON Lines format, receipts (issue 5, item 2)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from famplan_core.errors import ExchangeError
from famplan_core.exchange.batch import (
    BatchRejectedError,
    MalformedBatchError,
    Manifest,
    Message,
    MessageOutcome,
    Parcel,
    Receipt,
    pack,
    unpack,
)
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.messages import MESSAGE_TYPES, check_payload

FORMATS = {"jsonl": JsonLinesFormat}
WHEN = dt.datetime(2026, 1, 6, 8, 0)
DEATH = {"citizen_id": "11010519491231002X", "name": "张三", "death_date": "2026-01-05"}


def _batch(*payloads: dict[str, str]) -> Parcel:
    messages = [
        Message.new(sender="37", message_type="death", payload=p) for p in payloads or (DEATH,)
    ]
    return pack(messages, sender="37", receiver="371502110", created_at=WHEN, fmt=JsonLinesFormat())


def _with(parcel: Parcel, **files: bytes | None) -> Parcel:
    changed = dict(parcel.files)
    for name, data in files.items():
        name = name.replace("_", ".")
        if data is None:
            changed.pop(name)
        else:
            changed[name] = data
    return Parcel(name=parcel.name, files=changed)


def _remanifest(parcel: Parcel, **changes: object) -> Parcel:
    document = json.loads(parcel.files["manifest.json"])
    document.update(changes)
    return _with(parcel, manifest_json=json.dumps(document).encode())


def test_a_batch_round_trips_with_its_manifest() -> None:
    parcel = _batch(DEATH, {**DEATH, "death_date": "2026-01-04"})
    assert parcel.kind == "batch"
    assert (parcel.sender, parcel.receiver) == ("37", "371502110")
    decoded = unpack(parcel, formats=FORMATS, receiver="371502110")
    manifest = decoded.manifest
    assert manifest.batch_id == parcel.batch_id
    assert dict(manifest.message_counts) == {"death": 2}
    data = parcel.files["messages.jsonl"]
    assert manifest.files["messages.jsonl"].sha256 == hashlib.sha256(data).hexdigest()
    assert manifest.files["messages.jsonl"].size == len(data)
    assert [m.payload["death_date"] for m in decoded.messages] == ["2026-01-05", "2026-01-04"]
    assert decoded.messages[0].id.startswith("37.")
    # ids come from the content: the same fact has the same id, another has another
    again = Message.new(sender="37", message_type="death", payload=DEATH)
    assert decoded.messages[0].id == again.id != decoded.messages[1].id
    assert decoded.messages[0].payload_hash == again.payload_hash


@pytest.mark.parametrize(
    ("damage", "error", "words"),
    [
        ("truncated", MalformedBatchError, "truncated"),
        ("altered", MalformedBatchError, "SHA-256"),
        ("extra file", MalformedBatchError, "does not list"),
        ("missing file", MalformedBatchError, "missing from the parcel"),
        ("no manifest", MalformedBatchError, "no manifest.json"),
        ("manifest not json", MalformedBatchError, "not UTF-8 JSON"),
        ("manifest unknown key", MalformedBatchError, "unknown key"),
        ("manifest version", MalformedBatchError, "layout version"),
        ("wrong receiver", BatchRejectedError, "addressed to"),
        ("unknown format", BatchRejectedError, "no exchange format"),
        ("counts", BatchRejectedError, "the files hold"),
    ],
)
def test_a_damaged_batch_is_refused_whole(damage: str, error: type[Exception], words: str) -> None:
    parcel = _batch()
    data = parcel.files["messages.jsonl"]
    damaged = {
        "truncated": lambda: _with(parcel, messages_jsonl=data[:-5]),
        "altered": lambda: _with(parcel, messages_jsonl=data.replace(b"2026-01-05", b"2026-01-06")),
        "extra file": lambda: _with(parcel, notes_txt=b"hello"),
        "missing file": lambda: _with(parcel, messages_jsonl=None),
        "no manifest": lambda: _with(parcel, manifest_json=None),
        "manifest not json": lambda: _with(parcel, manifest_json=b"\xff{"),
        "manifest unknown key": lambda: _remanifest(parcel, extra=1),
        "manifest version": lambda: _remanifest(parcel, format_version=2),
        "wrong receiver": lambda: _remanifest(parcel, receiver="371502115"),
        "unknown format": lambda: _remanifest(parcel, format="xml"),
        "counts": lambda: _remanifest(parcel, message_counts={"death": 2}),
    }[damage]()
    with pytest.raises(error, match=words) as caught:
        unpack(damaged, formats=FORMATS, receiver="371502110")
    assert isinstance(caught.value, ExchangeError)
    assert caught.value.problems  # type: ignore[attr-defined]


def _rebuilt(text: bytes) -> Parcel:
    """A parcel whose message file is `text`, with a manifest that matches it."""
    parcel = _batch()
    manifest = json.loads(parcel.files["manifest.json"])
    manifest["files"]["messages.jsonl"] = {
        "sha256": hashlib.sha256(text).hexdigest(),
        "size": len(text),
    }
    return _with(parcel, messages_jsonl=text, manifest_json=json.dumps(manifest).encode())


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b'{"id": "37.a", "type": "death", "payload": {}}', "truncated"),
        (b"\xef\xbb\xbf" + b'{"id": "37.a", "type": "death", "payload": {}}\n', "BOM"),
        (b'{"id": "37.a", "type": "death", "payload": {}}\n\xb8\xb6\n', "not UTF-8"),
        (b'{"id": "37.a", "type": "death"}\n', "expected"),
        (b'{"id": "37.a", "type": "death", "payload": {}, "payload": {}}\n', "appears twice"),
        (b"[1, 2]\n", "expected"),
        (b"\n", "not one JSON object"),
        (
            b'{"id": "37.a", "type": "death", "payload": {}}\n' * 2,
            "repeats",
        ),
        (b'{"id": "no spaces allowed", "type": "death", "payload": {}}\n', "letters, digits"),
        (b'{"id": "37.a", "type": "Death!", "payload": {}}\n', "message type"),
    ],
)
def test_a_message_file_that_breaks_the_format_is_refused(text: bytes, words: str) -> None:
    with pytest.raises(BatchRejectedError, match=words):
        unpack(_rebuilt(text), formats=FORMATS, receiver="371502110")


def test_a_parcel_name_is_checked() -> None:
    with pytest.raises(MalformedBatchError, match="KIND_SENDER_RECEIVER_BATCHID"):
        _ = Parcel(name="../../etc", files={}).kind


def test_a_receipt_round_trips() -> None:
    receipt = Receipt(
        batch_id="37-1",
        sender="371502110",
        receiver="37",
        status="accepted",
        created_at=WHEN,
        messages=(
            MessageOutcome(id="37.a", outcome="accepted"),
            MessageOutcome(id="37.b", outcome="rejected", reasons=("no such person",)),
        ),
    )
    parcel = receipt.to_parcel()
    assert parcel.name == "receipt_371502110_37_37-1"
    back = Receipt.from_json(parcel.files["receipt.json"])
    assert back == receipt
    assert (back.accepted, back.rejected) == (1, 1)
    with pytest.raises(MalformedBatchError):
        Receipt.from_json(b'{"status": "maybe"}')
    rejection = Receipt.rejection(
        BatchRejectedError([], batch_id="37-2", sender="37"),
        sender="371502110",
        receiver="37",
        created_at=dt.datetime(2026, 1, 6, 8, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )
    assert rejection.status == "rejected"
    assert rejection.created_at == dt.datetime(2026, 1, 6, 0)


def test_pack_refuses_an_empty_or_repeating_batch() -> None:
    m = Message.new(sender="37", message_type="death", payload=DEATH)
    with pytest.raises(ExchangeError, match="at least one"):
        pack([], sender="37", receiver="371502110", created_at=WHEN, fmt=JsonLinesFormat())
    with pytest.raises(ExchangeError, match="once"):
        pack([m, m], sender="37", receiver="371502110", created_at=WHEN, fmt=JsonLinesFormat())
    with pytest.raises(ExchangeError, match="division code"):
        pack([m], sender="x", receiver="371502110", created_at=WHEN, fmt=JsonLinesFormat())


def test_manifest_bytes_round_trip() -> None:
    manifest = unpack(_batch(), formats=FORMATS, receiver="371502110").manifest
    assert Manifest.from_bytes(manifest.to_bytes()) == manifest


def test_payload_checks_name_every_problem() -> None:
    death = MESSAGE_TYPES["death"]
    clean, problems = check_payload(
        death,
        {"citizen_id": " 11010519491231002x ", "name": "张三", "death_date": "2026-01-05"},
        today=dt.date(2026, 1, 6),
        where="m:1",
    )
    assert not problems
    assert clean["citizen_id"] == "11010519491231002X"
    _clean, problems = check_payload(
        death,
        {
            "citizen_id": "110105194912310021",
            "name": "x" * 201,
            "death_date": "2026-02-30",
            "grade": "1",
        },
        today=dt.date(2026, 1, 6),
        where="m:2",
    )
    paths = {p.path for p in problems}
    assert paths == {"m:2:citizen_id", "m:2:name", "m:2:death_date", "m:2:grade"}
    _clean, problems = check_payload(
        death, {"citizen_id": 11010519, "name": "a\x07b"}, today=dt.date(2026, 1, 6), where="m:3"
    )
    messages = " ".join(p.message for p in problems)
    assert "expected text" in messages
    assert "control character" in messages
    _clean, problems = check_payload(
        death, {**DEATH, "name": "张\u202e三"}, today=dt.date(2026, 1, 6), where="m:5"
    )
    assert [(p.path, p.message[:41]) for p in problems] == [
        ("m:5:name", "contains the bidirectional control U+202E")
    ]
    assert "death_date is required" in messages
    _clean, problems = check_payload(
        death, {**DEATH, "death_date": "2026-01-07"}, today=dt.date(2026, 1, 6), where="m:4"
    )
    assert "after today" in problems[0].message
