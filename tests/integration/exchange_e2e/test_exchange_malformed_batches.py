"""R1: malformed exchange input never crashes and never half-writes (issue 5, "Done when").

Hypothesis builds 10,000 batches per run from a valid one, then damages them: truncated and
garbled files, wrong checksums, bad encodings (GB18030, UTF-16, Latin-1, a BOM), duplicate
ids, unknown types, oversized fields, invalid records (wrong JSON types, bad dates, codes
outside their tables, control characters) and broken manifests. Each goes through the public
import API on a real SQLite database. The property:

* nothing but the `ExchangeError` family is raised;
* when a batch is rejected, no table changes: SQLite's ``PRAGMA data_version``, read on a
  separate connection, moves on any commit by another connection, so an unchanged value
  proves no transaction committed; every 50th rejection and the end of the run also compare a
  hash of every row of every table;
* a batch that is accepted answers every message (applied or quarantined with reasons).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.errors import ExchangeError
from famplan_core.exchange.batch import MANIFEST_NAME, Parcel
from famplan_core.exchange.messages import MESSAGE_TYPES
from famplan_core.exchange.service import ExchangeService
from famplan_core.storage import SqlStorage
from famplan_core.storage.tables import metadata
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"
EXAMPLES = 10_000


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


KNOWN = cid("1950-03-03", 42)
OTHER = cid("1980-01-01", 11)

VALID: list[tuple[str, dict[str, str]]] = [
    ("death", {"citizen_id": KNOWN, "name": "陈兰", "death_date": "2026-03-20"}),
    (
        "birth",
        {
            "person_ref": "B1",
            "name": "张小宝",
            "sex": "1",
            "birth_date": "2026-03-01",
            "hukou_division": "371502110001",
            "hukou_type": "rural",
            "mother_citizen_id": KNOWN,
        },
    ),
    (
        "hukou_move",
        {
            "person_ref": "X1",
            "citizen_id": OTHER,
            "name": "孙强",
            "sex": "1",
            "birth_date": "1980-01-01",
            "date": "2026-03-25",
            "from_division": "371502115001",
            "to_division": "371502110001",
            "hukou_type": "rural",
        },
    ),
    (
        "marriage",
        {
            "a_citizen_id": KNOWN,
            "a_name": "陈兰",
            "b_citizen_id": OTHER,
            "b_name": "孙强",
            "start": "2005-05-01",
        },
    ),
]

FIELD_NAMES = sorted({f.name for t in MESSAGE_TYPES.values() for f in t.fields})

odd_values = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "2026-02-30",
            "20260301",
            "１",
            "x\x00y",
            "\u2028",
            "37",
            "0" * 12,
            "2099-01-01",
            KNOWN.lower(),
        ]
    ),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.builds(lambda n: "长" * n, st.integers(min_value=150, max_value=3000)),
)


def chance(n: int) -> st.SearchStrategy[bool]:
    """True about once in `n` draws (False, the common case, is what shrinking goes to)."""
    return st.sampled_from([False] * (n - 1) + [True])


# Every strategy is built once: building one per draw costs more than drawing from it.
CHANCE = {n: chance(n) for n in (4, 8, 10, 15, 20, 25, 40)}
BASES = st.sampled_from(VALID)
EDITS = st.integers(min_value=0, max_value=2)
FIELDS = st.sampled_from([*FIELD_NAMES, "junk", ""])
BOOLS = st.booleans()
ODD_TYPES = st.sampled_from([*MESSAGE_TYPES, "pregnancy", "Death", "", "x" * 60])
GOOD_IDS = st.one_of(st.uuids().map(lambda u: f"37.{u.hex}"), st.just("37.twice"))
BAD_IDS = st.one_of(st.text(max_size=10), st.just("x" * 65), st.integers())
COUNTS = st.integers(min_value=1, max_value=3)
NOT_ENVELOPES = st.sampled_from(
    [{"id": "37.a"}, {"id": "37.a", "type": "death", "payload": [1]}, {"x": 1}, [1, 2], "text"]
)
DAMAGES = st.lists(
    st.sampled_from(
        ["truncate", "garble", "gb18030", "utf16", "latin1", "bom", "duplicate", "blank", "noeol"]
    ),
    max_size=2,
)
FRACTIONS = st.integers(min_value=0, max_value=2**16)
BYTES = st.integers(min_value=0, max_value=255)
EXTRA_FILES = st.sampled_from(["notes.txt", "messages.csv", "../x", "manifest.json.bak"])
BAD_BATCH_IDS = st.text(max_size=8)
BATCH_IDS = st.uuids().map(lambda u: f"37-{u.hex}")
MANIFEST_EDITS = st.integers(min_value=1, max_value=2)
MANIFEST_KEYS = st.sampled_from(
    [
        "batch_id",
        "sender",
        "receiver",
        "created_at",
        "format",
        "format_version",
        "message_counts",
        "files",
        "extra",
    ]
)
MANIFEST_VALUES = st.one_of(odd_values, st.sampled_from(["37", "371502115", "csv", 2, {}]))
GARBAGE = st.binary(max_size=40)
ODD_NAMES = st.sampled_from(
    ["batch_37", "receipt_37_371502110_37-1", "x_y_z_w", f"batch_37_{G}_../.."]
)
CODECS = {"gb18030": "gb18030", "utf16": "utf-16", "latin1": "latin-1"}


def _at(draw: st.DrawFn, length: int) -> int:
    return draw(FRACTIONS) * length // (2**16 + 1)


def _payload(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind, base = draw(BASES)
    payload: dict[str, Any] = dict(base)
    for _ in range(draw(EDITS)):
        field = draw(FIELDS)
        if draw(BOOLS) and field in payload:
            del payload[field]
        else:
            payload[field] = draw(odd_values)
    if draw(CHANCE[10]):
        kind = draw(ODD_TYPES)
    return kind, payload


def _line(message: object) -> bytes:
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")


def _reseal(files: dict[str, bytes], manifest: dict[str, Any]) -> None:
    manifest["files"] = {
        name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data in files.items()
    }


def _damage(draw: st.DrawFn, body: bytes, damage: str) -> bytes:
    if damage == "truncate" and body:
        return body[: _at(draw, len(body))]
    if damage == "garble" and body:
        at = _at(draw, len(body))
        return body[:at] + bytes([draw(BYTES)]) + body[at + 1 :]
    if damage in CODECS:
        return body.decode("utf-8", "replace").encode(CODECS[damage], "replace")
    if damage == "bom":
        return b"\xef\xbb\xbf" + body
    if damage == "blank":
        return body + b"\n"
    if damage == "noeol":
        return body.rstrip(b"\n")
    return body


@st.composite
def parcels(draw: st.DrawFn) -> Parcel:
    messages: list[object] = []
    counts: dict[str, int] = {}
    for _ in range(draw(COUNTS)):
        kind, payload = _payload(draw)
        message_id = draw(BAD_IDS) if draw(CHANCE[15]) else draw(GOOD_IDS)
        messages.append({"id": message_id, "type": kind, "payload": payload})
        counts[kind] = counts.get(kind, 0) + 1
    if draw(CHANCE[20]):  # an envelope that is not one
        first = messages[0]
        assert isinstance(first, dict)
        counts[first["type"]] -= 1
        if not counts[first["type"]]:
            del counts[first["type"]]
        messages[0] = draw(NOT_ENVELOPES)
    lines = [_line(m) for m in messages]
    if draw(CHANCE[20]):  # a JSON escape of a lone surrogate: not Unicode text
        lines[0] = lines[0].replace(b'": "', b'": "\\udc80', 1)
    body = b"".join(lines)
    for damage in draw(DAMAGES):
        if damage == "duplicate":
            body += lines[0]
            first = messages[0]
            if isinstance(first, dict) and isinstance(first.get("type"), str):
                counts[first["type"]] = counts.get(first["type"], 0) + 1
        else:
            body = _damage(draw, body, damage)
    files = {"messages.jsonl": body}
    if draw(CHANCE[15]):
        files[draw(EXTRA_FILES)] = b"x"
    manifest: dict[str, Any] = {
        "batch_id": draw(BAD_BATCH_IDS)
        if draw(CHANCE[15])
        else f"37-{hashlib.sha256(body).hexdigest()[:16]}-{draw(BATCH_IDS)[-8:]}",
        "sender": "37",
        "receiver": G,
        "created_at": "2026-04-10T07:00:00Z",
        "format": "jsonl",
        "format_version": 1,
        "message_counts": counts,
        "files": {},
    }
    if draw(CHANCE[4]):  # a checksum that does not match the file
        _reseal({"messages.jsonl": b"the original"}, manifest)
    else:
        _reseal(files, manifest)
    if draw(CHANCE[8]):
        for _ in range(draw(MANIFEST_EDITS)):
            key = draw(MANIFEST_KEYS)
            if draw(BOOLS) and key in manifest:
                del manifest[key]
            else:
                manifest[key] = draw(MANIFEST_VALUES)
    raw_manifest = json.dumps(manifest, ensure_ascii=False, default=str).encode(
        "utf-8", "surrogatepass"
    )
    if draw(CHANCE[25]):
        raw_manifest = draw(GARBAGE)
    if not draw(CHANCE[40]):
        files[MANIFEST_NAME] = raw_manifest
    name = f"batch_37_{G}_{manifest.get('batch_id', 'x')}"
    if draw(CHANCE[25]):
        name = draw(ODD_NAMES)
    return Parcel(name=name, files=files)


def _digest(storage: SqlStorage) -> str:
    h = hashlib.sha256()
    with storage.reader() as reader:
        for table in metadata.sorted_tables:
            for row in sorted(repr(tuple(r)) for r in reader.connection.execute(sa.select(table))):
                h.update(row.encode())
    return h.hexdigest()


@pytest.mark.slow
def test_ten_thousand_malformed_batches(tmp_path: Path) -> None:
    path = tmp_path / "r1.db"
    storage = SqlStorage(f"sqlite:///{path}", migrate=True)
    ticks = itertools.count()

    def clock() -> dt.datetime:
        return dt.datetime(2026, 4, 10, 9) + dt.timedelta(seconds=next(ticks))

    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("O", citizen_id=KNOWN, name="陈兰", sex="2", birth_date="1950-03-03"),
                person_row("Q", citizen_id=OTHER, name="孙强", sex="1", birth_date="1980-01-01"),
            ],
        )
    service = ExchangeService(storage, division=G)
    watcher = sqlite3.connect(path)
    seen = {"rejected": 0, "accepted": 0, "replayed": 0, "full_checks": 0}
    started = time.monotonic()

    def data_version() -> int:
        return int(watcher.execute("PRAGMA data_version").fetchone()[0])

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(parcel=parcels())
    def check(parcel: Parcel) -> None:
        before = data_version()
        full = seen["rejected"] % 100 == 0
        digest = _digest(storage) if full else ""
        try:
            outcome = service.import_parcel(
                parcel, actor="clerk", recorded_at=clock(), today=dt.date(2026, 4, 10)
            )
        except ExchangeError:
            seen["rejected"] += 1
            assert data_version() == before, "a rejected batch changed the database"
            if full:
                seen["full_checks"] += 1
                assert _digest(storage) == digest
            return
        seen[outcome.status if outcome.status == "replayed" else "accepted"] += 1
        if outcome.status == "applied":
            assert data_version() != before  # the watcher sees commits: the check has teeth
            assert outcome.receipt is not None
            assert outcome.applied + outcome.quarantined + outcome.duplicates == len(
                outcome.receipt.messages
            )
            assert all(m.reasons for m in outcome.receipt.messages if m.outcome == "rejected")

    try:
        check()
        final = _digest(storage)
        assert storage.verify_audit() >= 1
        assert final == _digest(storage)
    finally:
        watcher.close()
        storage.close()
    elapsed = time.monotonic() - started
    print(f"R1: {sum(seen.values())} batches in {elapsed:.1f} s: {seen}")
    assert seen["rejected"] + seen["accepted"] + seen["replayed"] >= EXAMPLES
    assert seen["rejected"] > EXAMPLES // 4
    assert seen["accepted"] > 100


@pytest.mark.postgres
def test_malformed_batches_on_postgres(pg_url: str) -> None:
    """The same property on PostgreSQL, fewer examples: its typed columns refuse more."""
    storage = SqlStorage(pg_url, migrate=True)
    ticks = itertools.count()

    def clock() -> dt.datetime:
        return dt.datetime(2026, 4, 10, 9) + dt.timedelta(seconds=next(ticks))

    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [person_row("O", citizen_id=KNOWN, name="陈兰", sex="2", birth_date="1950-03-03")],
        )
    service = ExchangeService(storage, division=G)

    @settings(
        max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(parcel=parcels())
    def check(parcel: Parcel) -> None:
        before = _digest(storage)
        try:
            service.import_parcel(
                parcel, actor="clerk", recorded_at=clock(), today=dt.date(2026, 4, 10)
            )
        except ExchangeError:
            assert _digest(storage) == before

    try:
        check()
    finally:
        storage.close()
