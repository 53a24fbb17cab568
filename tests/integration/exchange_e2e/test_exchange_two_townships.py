"""Two townships exchange a family's move, a verification request and its reply (issue 5).

Guguantun (371502110) records a family's hukou move to Hanji (371502115) and exports it;
Hanji imports it, asks Guguantun to verify the parents' children, Guguantun answers on its
own, and Hanji's ``rural_reward`` run for April 2026 is then right. The same flow with every
parcel delivered twice and out of order ends in exactly the same registers. On SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import random
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core.benefits import BenefitService
from famplan_core.exchange.hub import Hub
from famplan_core.exchange.service import ExchangeService
from famplan_core.exchange.transports import FolderTransport
from famplan_core.programs import national_parameter_set, national_programs
from famplan_core.storage import SqlStorage
from famplan_core.storage import benefit_tables as bt
from famplan_core.storage.tables import RECORD_KINDS
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, PG_URL_VARIABLE, person_row

G, H = "371502110", "371502115"
TODAY = dt.date(2026, 4, 10)
APRIL = "2026-04"


def citizen_id(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


FATHER = citizen_id("1960-03-15", 11)
MOTHER = citizen_id("1962-07-01", 22)
DAUGHTER = citizen_id("1988-05-05", 24)
NEIGHBOUR = citizen_id("1955-01-20", 31)


class Clock:
    """Record times that never go back, one minute apart."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> dt.datetime:
        return dt.datetime(2026, 4, 10, 8) + dt.timedelta(minutes=next(self._ticks))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[list[str]]:
    """Four fresh databases: two township pairs (in order, and twice out of order)."""
    if request.param == "sqlite":
        yield [f"sqlite:///{tmp_path / f'db{i}.db'}" for i in range(4)]
        return
    base = os.environ.get(PG_URL_VARIABLE)
    if not base:
        if os.environ.get("CI"):
            pytest.fail(f"{PG_URL_VARIABLE} is not set, and CI needs the PostgreSQL tests")
        pytest.skip(f"{PG_URL_VARIABLE} is not set")
    schemas = [f"famplan_x_{uuid.uuid4().hex[:10]}" for _ in range(4)]
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        yield [
            sa.make_url(base)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
            for schema in schemas
        ]
        with admin.connect() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


class Pair:
    """Guguantun and Hanji, each with its storage, exchange folder and service, and a hub."""

    def __init__(
        self, root: Path, g_url: str, h_url: str, hub_copies: int, seed: int | None
    ) -> None:
        self.clock = Clock()
        self.g_storage = SqlStorage(g_url, migrate=True)
        self.h_storage = SqlStorage(h_url, migrate=True)
        self.g = ExchangeService(self.g_storage, division=G, transport=FolderTransport(root / "g"))
        self.h = ExchangeService(self.h_storage, division=H, transport=FolderTransport(root / "h"))
        self.hub = Hub(
            {G: root / "g", H: root / "h"},
            copies=hub_copies,
            rng=None if seed is None else random.Random(seed),
        )
        self.rounds = 0
        self.statuses: list[str] = []

    def close(self) -> None:
        self.g_storage.close()
        self.h_storage.close()

    def seed(self) -> None:
        """Guguantun's register: the family and a neighbour; then the family's move."""
        with self.g_storage.unit_of_work(actor="clerk", recorded_at=self.clock()) as uow:
            uow.upsert_rows(
                "persons",
                PERSON_COLUMNS,
                [
                    person_row(
                        "P1", citizen_id=FATHER, name="王建国", sex="1", birth_date="1960-03-15"
                    ),
                    person_row(
                        "P2", citizen_id=MOTHER, name="李秀英", sex="2", birth_date="1962-07-01"
                    ),
                    person_row(
                        "P3", citizen_id=DAUGHTER, name="王芳", sex="2", birth_date="1988-05-05"
                    ),
                    person_row(
                        "P4", citizen_id=NEIGHBOUR, name="赵大山", sex="1", birth_date="1955-01-20"
                    ),
                ],
            )
            uow.upsert_rows(
                "parent_child",
                ("parent_id", "child_id", "kind", "since"),
                [("P1", "P3", "birth", ""), ("P2", "P3", "birth", "")],
            )
            uow.upsert_rows(
                "unions",
                ("person_a", "person_b", "start", "end", "end_reason"),
                [("P1", "P2", "1985-01-01", "", "")],
            )
        with self.g_storage.unit_of_work(
            actor="clerk", recorded_at=self.clock(), operation="record-move"
        ) as uow:
            uow.upsert_rows(
                "hukou_changes",
                ("person_id", "date", "hukou_division", "hukou_type"),
                [
                    ("P1", "1960-03-15", "371502110001", "rural"),
                    ("P1", "2026-03-15", "371502115201", "rural"),
                    ("P2", "1962-07-01", "371502110001", "rural"),
                    ("P2", "2026-03-15", "371502115201", "rural"),
                ],
            )
            uow.upsert_rows(
                "persons",
                ("person_id", "hukou_division"),
                [("P1", "371502115201"), ("P2", "371502115201")],
            )

    def pump(self) -> None:
        """Move parcels and import them until nothing is left anywhere."""
        for _ in range(500):
            step = self.hub.step()
            got = [
                *self.g.receive(actor="g", recorded_at=self.clock(), today=TODAY),
                *self.h.receive(actor="h", recorded_at=self.clock(), today=TODAY),
            ]
            self.rounds += 1
            self.statuses.extend(o.status for o in got)
            assert all(o.status != "rejected" for o in got), got
            if not got and step.collected == 0 and step.delivered == 0 and step.in_transit == 0:
                return
        raise AssertionError("the exchange did not settle")

    def flow(self) -> None:
        self.seed()
        moved = self.g.export(H, actor="g", recorded_at=self.clock())
        assert moved.messages == {"hukou_move": 2}
        self.pump()
        for person_id in (f"{G}-P1", f"{G}-P2"):
            self.h.request_verification(
                person_id, program="rural_reward", actor="h", recorded_at=self.clock()
            )
        asked = self.h.export(G, actor="h", recorded_at=self.clock())
        assert asked.messages == {"verification_request": 2}
        self.pump()


def benefits(storage: SqlStorage) -> BenefitService:
    return BenefitService(
        storage,
        programs={p.code: p for p in national_programs()},
        parameters=national_parameter_set(),
        division=H,
    )


def register(storage: SqlStorage) -> dict[str, list[tuple[str, ...]]]:
    found: dict[str, list[tuple[str, ...]]] = {}
    with storage.reader() as reader:
        for kind in RECORD_KINDS:
            _columns, rows = reader.export_rows(kind)
            found[kind] = sorted(rows)
    return found


def ledger_state(
    storage: SqlStorage,
) -> tuple[tuple[tuple[object, ...], ...], tuple[tuple[object, ...], ...], object]:
    with storage.reader() as reader:
        conn = reader.connection
        messages = sorted(
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT direction, partner, message_id, message_type, payload_hash, outcome "
                "FROM exchange_messages"
            )
        )
        batches = conn.exec_driver_sql(
            "SELECT direction, status, COUNT(*) FROM exchange_batches GROUP BY direction, status "
            "ORDER BY direction, status"
        ).all()
        quarantine = conn.exec_driver_sql("SELECT COUNT(*) FROM quarantine").scalar()
    return tuple(messages), tuple(tuple(b) for b in batches), quarantine


@pytest.fixture
def pairs(urls: list[str], tmp_path: Path) -> Iterator[tuple[Pair, Pair]]:
    in_order = Pair(tmp_path / "once", urls[0], urls[1], hub_copies=1, seed=None)
    shuffled = Pair(tmp_path / "twice", urls[2], urls[3], hub_copies=2, seed=20261)
    yield in_order, shuffled
    in_order.close()
    shuffled.close()


def test_move_verify_and_rural_reward_twice_out_of_order(pairs: tuple[Pair, Pair]) -> None:
    once, twice = pairs

    # In order, each parcel once.
    once.seed()
    once.g.export(H, actor="g", recorded_at=once.clock())
    once.pump()
    svc = benefits(once.h_storage)
    father = f"{G}-P1"
    with once.h_storage.reader() as reader:
        view = reader.person_as_of(father, dt.date(2026, 4, 1))
    assert (view.hukou_division, view.hukou_type, view.name) == ("371502115201", "rural", "王建国")
    before = svc.explain(father, "rural_reward", APRIL).explanation
    assert not before.entitled  # Hanji does not know the children yet (R2.5)
    for person_id in (father, f"{G}-P2"):
        once.h.request_verification(
            person_id, program="rural_reward", actor="h", recorded_at=once.clock()
        )
    once.h.export(G, actor="h", recorded_at=once.clock())
    once.pump()
    after = svc.explain(father, "rural_reward", APRIL).explanation
    assert after.entitled
    assert str(after.amount) == "80.00"
    summary = svc.run(APRIL, actor="h", recorded_at=once.clock())
    assert summary is not None
    with once.h_storage.reader() as reader:
        e = bt.entitlements.c
        entitled = {
            (r[0], r[1])
            for r in reader.connection.execute(
                sa.select(e.program, e.person_id).where(e.superseded_at.is_(None))
            )
        }
    assert ("rural_reward", father) in entitled
    assert ("rural_reward", f"{G}-P2") in entitled
    # only what the purpose needs came over: the daughter, no neighbour, no death dates
    h_register = register(once.h_storage)
    assert {r[0] for r in h_register["persons"]} == {father, f"{G}-P2", f"{G}-P3"}
    assert sorted(h_register["parent_child"]) == [
        (father, f"{G}-P3", "birth", ""),
        (f"{G}-P2", f"{G}-P3", "birth", ""),
    ]
    for state in (ledger_state(once.g_storage), ledger_state(once.h_storage)):
        _messages, batches, quarantined = state
        assert quarantined == 0
        assert all(status in ("applied", "acknowledged") for _d, status, _n in batches)

    # Twice, out of order: the same registers and ledgers in the end.
    twice.flow()
    assert twice.rounds > once.rounds
    assert "replayed" in twice.statuses
    assert "unchanged" in twice.statuses
    assert "replayed" not in once.statuses
    assert register(twice.h_storage) == h_register
    assert register(twice.g_storage) == register(once.g_storage)
    assert ledger_state(twice.h_storage) == ledger_state(once.h_storage)
    assert ledger_state(twice.g_storage) == ledger_state(once.g_storage)
    assert benefits(twice.h_storage).explain(father, "rural_reward", APRIL).explanation.entitled
    for pair in (once, twice):
        assert pair.g_storage.verify_audit() > 0
        assert pair.h_storage.verify_audit() > 0
        assert not pair.g.status().outbox or all(e.status == "sent" for e in pair.g.status().outbox)
