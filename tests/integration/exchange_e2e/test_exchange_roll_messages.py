"""Outbound to the province: roll changes with reasons, and the monthly roll totals."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from famplan_core.benefits import BenefitService
from famplan_core.exchange.batch import unpack
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.messages import MESSAGE_TYPES
from famplan_core.exchange.service import ExchangeService
from famplan_core.exchange.transports import FolderTransport, read_parcel
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


class Clock:
    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 4, 2, 8) + dt.timedelta(minutes=next(self._ticks))


@pytest.fixture
def township(storage_url: str, tmp_path: Path) -> Iterator[tuple[SqlStorage, Clock]]:
    clock = Clock()
    storage = SqlStorage(storage_url, migrate=True)
    parents = [
        person_row(
            f"P{i}", citizen_id=cid("1955-01-01", 10 + 2 * i + 1), sex="1", birth_date="1955-01-01"
        )
        for i in range(4)
    ]
    children = [person_row(f"C{i}", sex="2", birth_date="1985-01-01") for i in range(4)]
    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows("persons", PERSON_COLUMNS, parents + children)
        uow.upsert_rows(
            "parent_child",
            ("parent_id", "child_id", "kind", "since"),
            [(f"P{i}", f"C{i}", "birth", "") for i in range(4)],
        )
    yield storage, clock
    storage.close()


def test_roll_changes_and_totals_go_to_the_province(
    township: tuple[SqlStorage, Clock], tmp_path: Path
) -> None:
    storage, clock = township
    svc = BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=G,
    )
    svc.run("2026-03", actor="clerk", recorded_at=clock())
    svc.roll("2026-03", actor="clerk", recorded_at=clock())
    with storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
        uow.upsert_rows("persons", ("person_id", "death_date"), [("P0", "2026-03-10")])
        uow.upsert_rows(
            "hukou_changes",
            ("person_id", "date", "hukou_division", "hukou_type"),
            [
                ("P1", "1955-01-01", "371502110001", "rural"),
                ("P1", "2026-03-15", "371502115201", "rural"),
                ("P2", "1955-01-01", "371502110001", "rural"),
                ("P2", "2026-03-15", "371502110001", "urban"),
            ],
        )
    svc.run("2026-04", actor="clerk", recorded_at=clock())
    svc.roll("2026-04", actor="clerk", recorded_at=clock())
    exchange = ExchangeService(storage, division=G, transport=FolderTransport(tmp_path / "x"))
    summary = exchange.export("37", actor="clerk", recorded_at=clock())
    assert summary.sent
    assert summary.messages == {"beneficiary_added": 4, "beneficiary_exited": 3, "roll_totals": 2}
    (path,) = (tmp_path / "x" / "outbox").iterdir()
    batch = unpack(read_parcel(path), formats={"jsonl": JsonLinesFormat}, receiver="37")
    exits = {
        m.payload["citizen_id"]: (m.payload["month"], m.payload["reason"])
        for m in batch.messages
        if m.type == "beneficiary_exited"
    }
    assert exits == {
        cid("1955-01-01", 11): ("2026-04", "death"),
        cid("1955-01-01", 13): ("2026-04", "moved_out"),
        cid("1955-01-01", 15): ("2026-04", "hukou_urban"),
    }
    totals = {
        m.payload["month"]: (m.payload["lines"], m.payload["amount"])
        for m in batch.messages
        if m.type == "roll_totals"
    }
    assert totals == {"2026-03": ("4", "320.00"), "2026-04": ("1", "80.00")}
    for m in batch.messages:
        assert set(m.payload) <= set(MESSAGE_TYPES[m.type].field_names)
    assert json.loads(batch.manifest.to_bytes())["receiver"] == "37"
    # exported once: nothing is due again
    assert exchange.export("37", actor="clerk", recorded_at=clock()).batch_id is None
