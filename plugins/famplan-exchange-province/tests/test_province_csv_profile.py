"""The reference provincial profile: GB18030 CSV files, national code tables."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from famplan_core.errors import ExchangeError
from famplan_core.exchange.batch import MalformedBatchError, Message, Parcel, pack, unpack
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.service import ExchangeService
from famplan_core.plugin_manager import PluginManager
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row
from famplan_exchange_province import PROFILE, ProvinceCsvFormat

G = "371502110"
FORMATS = {"province-csv": ProvinceCsvFormat, "jsonl": JsonLinesFormat}
WHEN = dt.datetime(2026, 4, 10, 7)


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


MOTHER, FATHER = cid("1990-01-01", 22), cid("1988-01-01", 11)

SAMPLES: dict[str, dict[str, str]] = {
    "birth": {
        "person_ref": "B1",
        "name": "吉\u9fb4",
        "sex": "2",
        "birth_date": "2026-03-01",
        "hukou_division": "371502110001",
        "hukou_type": "rural",
        "mother_citizen_id": MOTHER,
        "father_citizen_id": FATHER,
    },
    "death": {"citizen_id": FATHER, "name": "𠮷祥", "death_date": "2026-03-20"},
    "hukou_move": {
        "person_ref": "X1",
        "citizen_id": MOTHER,
        "name": '李,"引号"',
        "sex": "2",
        "birth_date": "1990-01-01",
        "ethnicity": "01",
        "marital_status": "20",
        "date": "2026-03-25",
        "from_division": "371502110001",
        "to_division": "371502115201",
        "hukou_type": "urban",
    },
    "marriage": {
        "a_citizen_id": FATHER,
        "a_name": "甲",
        "b_citizen_id": MOTHER,
        "b_name": "乙",
        "start": "2015-05-01",
    },
    "divorce": {
        "a_citizen_id": FATHER,
        "a_name": "甲",
        "b_citizen_id": MOTHER,
        "b_name": "乙",
        "start": "2015-05-01",
        "end": "2026-01-01",
    },
    "beneficiary_added": {
        "program": "rural_reward",
        "month": "2026-03",
        "citizen_id": FATHER,
        "name": "甲",
        "amount": "80.00",
    },
    "beneficiary_exited": {
        "program": "special_assistance",
        "month": "2026-04",
        "citizen_id": FATHER,
        "name": "甲",
        "reason": "death",
    },
    "roll_totals": {
        "program": "childcare_subsidy",
        "month": "2026-03",
        "lines": "12",
        "amount": "3600.00",
    },
}


def test_found_through_its_entry_point() -> None:
    manager = PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": "exchange-province"})
    info = {p.name: p for p in manager.plugins()}["exchange-province"]
    assert info.distribution == "famplan-exchange-province"
    assert info.hooks == ("famplan_register_exchange_formats",)
    assert manager.exchange_formats()["province-csv"] is ProvinceCsvFormat


def test_every_province_message_type_round_trips() -> None:
    messages = [Message.new(sender="37", message_type=t, payload=p) for t, p in SAMPLES.items()]
    parcel = pack(messages, sender="37", receiver=G, created_at=WHEN, fmt=ProvinceCsvFormat())
    assert set(parcel.files) == {"manifest.json", *(p.file for p in PROFILE.values())}
    decoded = unpack(parcel, formats=FORMATS, receiver=G)
    assert decoded.manifest.format == "province-csv"
    back = {m.type: dict(m.payload) for m in decoded.messages}
    assert back == SAMPLES
    assert [m.id for m in decoded.messages] == [m.id for m in messages]
    assert all(
        m.payload_hash == o.payload_hash for m, o in zip(decoded.messages, messages, strict=True)
    )


def test_files_are_gb18030_with_the_profile_codes() -> None:
    messages = [
        Message.new(sender="37", message_type=t, payload=SAMPLES[t])
        for t in ("birth", "death", "beneficiary_exited")
    ]
    files = ProvinceCsvFormat().encode(messages)
    birth = files["CSDJ.csv"]
    assert bytes.fromhex("fe59") in birth  # U+9FB4 by the GB 18030-2022 mapping
    with pytest.raises(UnicodeDecodeError):
        birth.decode("utf-8")
    lines = birth.decode("famplan-gb18030-2022").split("\r\n")
    assert lines[0].startswith("报文标识,个人标识,公民身份号码,姓名,性别代码,出生日期")
    assert ",20260301,371502110001,1," in lines[1]
    death = files["SWDJ.csv"].decode("famplan-gb18030-2022")
    assert "𠮷祥" in death
    assert (
        files["DXTC.csv"]
        .decode("famplan-gb18030-2022")
        .split("\r\n")[1]
        .startswith(messages[2].id + ",T,202604,")
    )


def test_a_type_between_townships_is_not_carried() -> None:
    request = Message.new(
        sender=G, message_type="verification_request", payload={"citizen_id": FATHER}
    )
    with pytest.raises(ExchangeError, match="does not carry verification_request"):
        ProvinceCsvFormat().encode([request])


def _rebuilt(parcel: Parcel, name: str, data: bytes) -> Parcel:
    manifest = json.loads(parcel.files["manifest.json"])
    manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    return Parcel(
        name=parcel.name,
        files={**parcel.files, name: data, "manifest.json": json.dumps(manifest).encode()},
    )


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\xff\xff\xff", "not GB18030"),
        ("报文标识,公民身份号码,姓名\r\n".encode("gb18030"), "heading row"),
        ("报文标识,公民身份号码,姓名,死亡日期\r\n37.a,1,2\r\n".encode("gb18030"), "3 cells"),
        ('报文标识,公民身份号码,姓名,死亡日期\r\n37.a,"1,2,3\r\n'.encode("gb18030"), "broken CSV"),
    ],
)
def test_a_damaged_file_refuses_the_batch(data: bytes, words: str) -> None:
    death = Message.new(sender="37", message_type="death", payload=SAMPLES["death"])
    parcel = pack([death], sender="37", receiver=G, created_at=WHEN, fmt=ProvinceCsvFormat())
    with pytest.raises(MalformedBatchError, match=words):
        unpack(_rebuilt(parcel, "SWDJ.csv", data), formats=FORMATS, receiver=G)


def test_a_bad_cell_quarantines_only_its_message(tmp_path: Path) -> None:
    storage = SqlStorage(f"sqlite:///{tmp_path / 'g.db'}", migrate=True)
    try:
        with storage.unit_of_work(actor="t", recorded_at=dt.datetime(2026, 4, 10, 8)) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [person_row("F", citizen_id=FATHER, name="𠮷祥", birth_date="1988-01-01")],
            )
        good = Message.new(sender="37", message_type="death", payload=SAMPLES["death"])
        bad = Message(
            id="37.bad", type="death", payload={**SAMPLES["death"], "death_date": "2026-13-01"}
        )
        parcel = pack(
            [good, bad], sender="37", receiver=G, created_at=WHEN, fmt=ProvinceCsvFormat()
        )
        service = ExchangeService(storage, division=G, formats=FORMATS)
        outcome = service.import_parcel(
            parcel, actor="t", recorded_at=dt.datetime(2026, 4, 10, 9), today=dt.date(2026, 4, 10)
        )
        assert (outcome.applied, outcome.quarantined) == (1, 1)
        with storage.reader() as reader:
            assert reader.person_as_of("F", dt.date(2026, 4, 1)).death_date == dt.date(2026, 3, 20)
            (entry,) = reader.list_quarantine()
            assert entry.row.file.startswith("exchange:")
            assert "SWDJ.csv" in entry.row.problems[0].path
    finally:
        storage.close()
