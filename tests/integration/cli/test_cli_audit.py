"""`famplan audit verify` and `famplan audit accept-break`, run as a user runs them."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from famplan_core.storage import SqlStorage
from famplan_core.testing import PERSON_COLUMNS, Clock, famplan_json, person_row, run_famplan
from famplan_core.township import open_township


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """A new deployment, made with the process umask at 000."""
    init = ["init", "town", "--division", "371502110", "--name", "顾官屯镇", "--json"]
    done = subprocess.run(
        ["sh", "-c", 'umask 000 && exec "$0" "$@"', str(_famplan()), *init],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["audit_key"] == str(tmp_path / "town" / "famplan-audit.key")
    return tmp_path / "town"


def _famplan() -> Path:
    import sys

    return Path(sys.executable).parent / "famplan"


def _write(folder: Path, n: int, clock: Clock) -> None:
    township = open_township(folder)
    try:
        for i in range(n):
            with township.storage.unit_of_work(actor="clerk", recorded_at=clock()) as uow:
                uow.upsert_rows("persons", PERSON_COLUMNS, [person_row(f"p{i}")])
    finally:
        township.storage.close()


def _tamper(folder: Path, statement: str) -> None:
    with sqlite3.connect(folder / "famplan.db") as conn:
        conn.execute("DROP TRIGGER IF EXISTS audit_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_no_delete")
        conn.execute(statement)


def test_init_makes_an_owner_only_audit_key(town: Path) -> None:
    key = town / "famplan-audit.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "keyed_from = 1" in key.read_text("utf-8")
    assert famplan_json("audit", "verify", cwd=town)["checked"] == 0


def test_verify_reports_the_count_and_then_the_first_bad_entry(town: Path) -> None:
    _write(town, 3, Clock())
    done = run_famplan("audit", "verify", cwd=town)
    assert done.returncode == 0, done.stderr
    assert "intact: 3 entries checked, 3 keyed" in done.stdout
    _tamper(town, "UPDATE audit SET actor = 'mallory' WHERE id = 2")
    done = run_famplan("audit", "verify", cwd=town)
    assert done.returncode == 1
    assert "BROKEN at entry 2" in done.stdout
    assert "by mallory" in done.stdout
    assert "Traceback" not in done.stderr
    done = run_famplan("audit", "verify", "--json", cwd=town)
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert report["ok"] is False
    assert report["problem"]["entry"] == 2


def test_a_write_over_a_broken_head_fails_until_a_break_is_accepted(town: Path) -> None:
    clock = Clock()
    _write(town, 2, clock)
    _tamper(town, "UPDATE audit SET summary = '{}' WHERE id = 2")
    done = run_famplan("quarantine", "discard", "1", cwd=town)
    assert done.returncode == 1
    assert "hash chain is broken at entry 2" in done.stderr
    assert "accept-break" in done.stderr
    done = run_famplan("audit", "accept-break", cwd=town)
    assert done.returncode == 2  # --reason is required
    accepted = famplan_json(
        "audit", "accept-break", "--reason", "found in the county's review", cwd=town
    )
    assert accepted["accepted"]["problem"]["entry"] == 2
    report = famplan_json("audit", "verify", cwd=town)
    assert report["ok"] is True
    assert report["accepted"][0]["reason"] == "found in the county's review"
    assert report["accepted"][0]["actor"] == "clerk"
    done = run_famplan("audit", "accept-break", "--reason", "again", cwd=town)
    assert done.returncode == 1
    assert "intact" in done.stderr


def test_verify_checks_an_anchor_given_from_a_file(town: Path) -> None:
    _write(town, 2, Clock())
    head = famplan_json("audit", "verify", cwd=town)["head"]
    anchor = f"{head['id']}:{head['hash']}"
    assert famplan_json("audit", "verify", "--anchor", anchor, cwd=town)["anchors"] == 1
    _tamper(town, "DELETE FROM audit WHERE id = 2")
    done = run_famplan("audit", "verify", "--anchor", anchor, cwd=town)
    assert done.returncode == 1
    assert "no entry 2" in done.stdout
    done = run_famplan("audit", "verify", "--anchor", "2:xyz", cwd=town)
    assert done.returncode == 2
    assert "ENTRY:HASH" in done.stderr


def test_a_keyed_audit_whose_key_is_missing_is_refused(town: Path) -> None:
    _write(town, 1, Clock())
    (town / "famplan-audit.key").unlink()
    done = run_famplan("audit", "verify", cwd=town)
    assert done.returncode == 1
    assert "restore the key file from its backup" in done.stderr
    assert not (town / "famplan-audit.key").exists()


def test_an_existing_register_gets_a_key_from_its_next_entry(tmp_path: Path) -> None:
    """A deployment made before the key: its entries stay plain and verifiable."""
    town = tmp_path / "town"
    done = run_famplan(
        "init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    (town / "famplan-audit.key").unlink()
    plain = SqlStorage(f"sqlite:///{town / 'famplan.db'}")
    try:
        for day in (1, 2):
            with plain.unit_of_work(actor="clerk", recorded_at=dt.datetime(2026, 1, day)):
                pass
    finally:
        plain.close()
    done = run_famplan("audit", "verify", "--json", cwd=town)
    assert done.returncode == 0, done.stderr
    assert "made the audit key" in done.stderr
    report = json.loads(done.stdout)
    assert (report["checked"], report["keyed"], report["keyed_from"]) == (2, 0, 3)
    _write(town, 1, Clock(dt.datetime(2026, 2, 1)))
    report = famplan_json("audit", "verify", cwd=town)
    assert (report["checked"], report["keyed"]) == (3, 1)


def test_the_demo_rolls_and_notices_anchor_the_audit(tmp_path: Path) -> None:
    """Deleting the newest entries of a real deployment is found through its roll."""
    demo = famplan_json("demo", "demo", "--persons", "100", cwd=tmp_path)
    folder = tmp_path / "demo"
    month = demo["months"][-1]
    roll = famplan_json("benefits", "roll", "--month", month, cwd=folder)
    anchor = f"{roll['audit']['entry']}:{roll['audit']['hash']}"
    report = famplan_json("audit", "verify", "--anchor", anchor, cwd=folder)
    assert report["ok"] is True
    assert report["anchors"] >= 3  # two rolls, the notices, and the one given
    written = famplan_json(
        "report", "population", "--period", month[:4], "--out", "r.csv", cwd=folder
    )
    state = written["register_state"]
    anchor = f"{state['audit_id']}:{state['audit_hash']}"
    assert famplan_json("audit", "verify", "--anchor", anchor, cwd=folder)["ok"] is True
    _tamper(folder, f"DELETE FROM audit WHERE id >= {roll['audit']['entry']}")
    done = run_famplan("audit", "verify", "--json", cwd=folder)
    assert done.returncode == 1
    problem = json.loads(done.stdout)["problem"]
    assert problem["entry"] == roll["audit"]["entry"]
    assert f"payment roll {roll['roll_id']} ({month})" in problem["message"]
