"""Reconciliation with a provincial snapshot: missing, extra and differing rows (item 6)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from famplan_core.errors import MalformedFileError
from famplan_core.exchange.reconcile import reconcile
from famplan_core.storage import SqlStorage
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import PERSON_COLUMNS, person_row

G = "371502110"


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


A, B, C, D = (
    cid("1960-01-01", 11),
    cid("1962-01-01", 22),
    cid("1990-01-01", 31),
    cid("1955-01-01", 42),
)


def test_reconcile_matches_persons_by_id_number_and_translates_links(
    sqlite_url: str, tmp_path: Path
) -> None:
    storage = SqlStorage(sqlite_url, migrate=True)
    with storage.unit_of_work(actor="t", recorded_at=dt.datetime(2026, 4, 1)) as uow:
        uow.upsert_rows(
            "persons",
            PERSON_COLUMNS,
            [
                person_row("P1", citizen_id=A, name="甲", birth_date="1960-01-01"),
                person_row("P2", citizen_id=B, name="乙", sex="2", birth_date="1962-01-01"),
                person_row("P3", citizen_id=C, name="丙", birth_date="1990-01-01"),
                # a spouse from elsewhere: not extra
                person_row(
                    "X1",
                    citizen_id=D,
                    name="丁",
                    birth_date="1955-01-01",
                    hukou_division="371502115201",
                ),
            ],
        )
        uow.upsert_rows(
            "parent_child",
            ("parent_id", "child_id", "kind", "since"),
            [("P1", "P3", "birth", ""), ("P2", "P3", "adoptive", "1991-01-01")],
        )
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    header = ",".join(PERSON_COLUMNS) + "\n"
    (snapshot / "persons.csv").write_text(
        header
        + ",".join(person_row("S1", citizen_id=A, name="甲", birth_date="1960-01-01"))
        + "\n"
        + ",".join(person_row("S3", citizen_id=C, name="丙丙", birth_date="1990-01-01"))
        + "\n"
        + ",".join(person_row("S9", name="新生儿", birth_date="2026-01-01"))
        + "\n",
        encoding="utf-8",
    )
    (snapshot / "parent_child.csv").write_text(
        "parent_id,child_id,kind,since\nS1,S3,birth,\nS9,S3,birth,\n", encoding="utf-8"
    )
    try:
        report = reconcile(storage, snapshot, division=G, today=dt.date(2026, 4, 10))
    finally:
        storage.close()
    persons, links = report.kinds
    assert persons.kind == "persons"
    assert persons.compared == 2
    assert persons.missing == (("snapshot:S9",),)
    assert persons.extra == (("P2",),)
    assert [(d.key, d.field, d.register, d.snapshot) for d in persons.differing] == [
        (("P3",), "name", "丙", "丙丙")
    ]
    assert links.kind == "parent_child"
    assert links.compared == 1
    assert links.missing == (("snapshot:S9", "P3", "birth"),)
    assert links.extra == (("P2", "P3", "adoptive"),)
    assert not report.agrees
    assert report.as_dict()["kinds"][0]["extra"] == [["P2"]]


def test_a_malformed_snapshot_is_refused(sqlite_url: str, tmp_path: Path) -> None:
    storage = SqlStorage(sqlite_url, migrate=True)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "persons.csv").write_text("person_id,unknown\n1,2\n", encoding="utf-8")
    try:
        with pytest.raises(MalformedFileError, match=r"persons\.csv"):
            reconcile(storage, snapshot, division=G, today=dt.date(2026, 4, 10))
    finally:
        storage.close()
