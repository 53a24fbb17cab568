"""`famplan exchange ...` as a user runs it: two deployments, a hub, exit statuses."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from famplan_core.exchange.batch import Message, pack
from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.hub import Hub
from famplan_core.synthetic import gb11643_check
from famplan_core.testing import famplan_json, run_famplan

G, H = "371502110", "371502115"


def cid(birth: str, seq: int) -> str:
    body = "371502" + birth.replace("-", "") + f"{seq:03d}"
    return body + gb11643_check(body)


def init(root: Path, name: str, division: str) -> Path:
    done = run_famplan("init", name, "--division", division, "--name", name, cwd=root)
    assert done.returncode == 0, done.stderr
    return root / name


PERSONS = "person_id,citizen_id,name,sex,birth_date,hukou_division,hukou_type\n"


@pytest.fixture
def towns(tmp_path: Path) -> tuple[Path, Path, Hub]:
    g = init(tmp_path, "guguantun", G)
    h = init(tmp_path, "hanji", H)
    register = g / "register"
    register.mkdir()
    (register / "persons.csv").write_text(
        PERSONS
        + f"P1,{cid('1960-03-15', 11)},王建国,1,1960-03-15,371502110001,rural\n"
        + f"P2,{cid('1962-07-01', 22)},李秀英,2,1962-07-01,371502110001,rural\n"
        + f"P3,{cid('1988-05-05', 24)},王芳,2,1988-05-05,371502110001,rural\n",
        encoding="utf-8",
    )
    (register / "parent_child.csv").write_text(
        "parent_id,child_id,kind,since\nP1,P3,birth,\nP2,P3,birth,\n", encoding="utf-8"
    )
    assert run_famplan("import", "register", "--today", "2026-04-10", cwd=g).returncode == 0
    move = g / "move"
    move.mkdir()
    (move / "persons.csv").write_text(
        PERSONS
        + f"P1,{cid('1960-03-15', 11)},王建国,1,1960-03-15,371502115201,rural\n"
        + f"P2,{cid('1962-07-01', 22)},李秀英,2,1962-07-01,371502115201,rural\n",
        encoding="utf-8",
    )
    (move / "hukou_changes.csv").write_text(
        "person_id,date,hukou_division,hukou_type\n"
        "P1,1960-03-15,371502110001,rural\nP1,2026-03-15,371502115201,rural\n"
        "P2,1962-07-01,371502110001,rural\nP2,2026-03-15,371502115201,rural\n",
        encoding="utf-8",
    )
    assert run_famplan("import", "move", "--today", "2026-04-10", cwd=g).returncode == 0
    return g, h, Hub({G: g / "exchange", H: h / "exchange"})


def test_export_import_request_status_and_reconcile(towns: tuple[Path, Path, Hub]) -> None:
    g, h, hub = towns
    exported = famplan_json("exchange", "export", "--to", H, cwd=g)
    assert exported["messages"] == {"hukou_move": 2}
    assert exported["sent"] is True
    again = run_famplan("exchange", "export", "--to", H, cwd=g)
    assert again.returncode == 0
    assert "Nothing is due" in again.stdout
    hub.step()
    imported = famplan_json("exchange", "import", cwd=h)
    assert [p["status"] for p in imported["parcels"]] == ["applied"]
    assert imported["parcels"][0]["applied"] == 2
    asked = famplan_json("exchange", "request", f"{G}-P1", "--program", "rural_reward", cwd=h)
    assert asked["to"] == G
    assert asked["export"]["messages"] == {"verification_request": 1}
    hub.step()
    answered = run_famplan("exchange", "import", cwd=g)
    assert answered.returncode == 0, answered.stderr
    assert "applied" in answered.stdout
    hub.step()
    famplan_json("exchange", "import", cwd=h)
    status = famplan_json("exchange", "status", cwd=h)
    assert status["counts"]["messages_in"] == {"applied": 4}
    assert status["quarantine"] == []
    table = run_famplan("exchange", "status", cwd=g)
    assert table.returncode == 0
    assert "Outbox" in table.stdout
    # the province's snapshot of Hanji: one person differs, one is missing
    snapshot = h / "snapshot"
    snapshot.mkdir()
    (snapshot / "persons.csv").write_text(
        PERSONS
        + f"S1,{cid('1960-03-15', 11)},王建国,1,1960-03-15,371502115201,urban\n"
        + f"S9,{cid('1970-01-01', 31)},赵六,1,1970-01-01,371502115202,rural\n",
        encoding="utf-8",
    )
    report = famplan_json("exchange", "reconcile", "snapshot", cwd=h)
    persons = report["kinds"][0]
    assert persons["missing"] == [["snapshot:S9"]]
    assert persons["extra"] == [[f"{G}-P2"]]
    assert persons["differing"] == [
        {"key": [f"{G}-P1"], "field": "hukou_type", "register": "rural", "snapshot": "urban"}
    ]
    assert "Differences found" in run_famplan("exchange", "reconcile", "snapshot", cwd=h).stdout


def test_a_refused_batch_exits_1_and_changes_nothing(towns: tuple[Path, Path, Hub]) -> None:
    g, h, hub = towns
    famplan_json("exchange", "export", "--to", H, cwd=g)
    hub.step()
    inbox = h / "exchange" / "inbox"
    (parcel,) = inbox.iterdir()
    damaged = h / "damaged" / parcel.name
    shutil.copytree(parcel, damaged)
    with (damaged / "messages.jsonl").open("ab") as f:
        f.write(b"{}\n")
    done = run_famplan("exchange", "import", str(damaged), cwd=h)
    assert done.returncode == 1
    assert "refused" in done.stdout
    assert "Traceback" not in done.stderr
    status = famplan_json("exchange", "status", cwd=h)
    assert status["counts"] == {}
    bad = run_famplan("exchange", "export", "--to", "12x", cwd=h)
    assert bad.returncode == 1
    assert "division code" in bad.stderr


def test_a_held_message_is_reviewed_side_by_side_then_discarded_or_applied(
    towns: tuple[Path, Path, Hub], tmp_path: Path
) -> None:
    g, _h, _hub = towns
    mother = cid("1988-05-05", 24)
    birth = {
        "person_ref": "B-1",
        "citizen_id": cid("1962-07-01", 22),  # an existing adult's ID number
        "name": "王小宝",
        "sex": "2",
        "birth_date": "1962-07-01",
        "hukou_division": "371502110001",
        "hukou_type": "urban",
        "mother_citizen_id": mother,
    }
    death = {"citizen_id": cid("1960-03-15", 11), "name": "王建軍", "death_date": "2026-03-01"}
    parcel = pack(
        [
            Message.new(sender="37", message_type="birth", payload=birth),
            Message.new(sender="37", message_type="death", payload=death),
        ],
        sender="37",
        receiver=G,
        created_at=dt.datetime(2026, 4, 10, 7),
        fmt=JsonLinesFormat(),
    )
    folder = tmp_path / parcel.name
    folder.mkdir()
    for name, data in parcel.files.items():
        (folder / name).write_bytes(data)
    imported = famplan_json("exchange", "import", str(folder), "--today", "2026-04-10", cwd=g)
    assert imported["parcels"][0]["quarantined"] == 2
    receipt = imported["parcels"][0]["receipt"]
    assert "李秀英" not in json.dumps(receipt, ensure_ascii=False)
    held = famplan_json("exchange", "review", "list", cwd=g)["messages"]
    assert [m["message_type"] for m in held] == ["birth", "death"]
    shown = famplan_json("exchange", "review", "show", str(held[0]["id"]), cwd=g)
    subject = next(s for s in shown["sides"] if s["role"] == "subject")
    assert subject["person_id"] == "P2"
    assert {"field": "name", "register": "李秀英", "message": "王小宝", "agree": False} in subject[
        "fields"
    ]
    table = run_famplan("exchange", "review", "show", str(held[0]["id"]), cwd=g)
    assert table.returncode == 0
    assert "李秀英" in table.stdout
    assert "differs" in table.stdout
    no_reason = run_famplan("exchange", "review", "discard", str(held[0]["id"]), cwd=g)
    assert no_reason.returncode == 2
    assert "--reason" in no_reason.stderr
    discarded = famplan_json(
        "exchange", "review", "discard", str(held[0]["id"]), "--reason", "wrong ID", cwd=g
    )
    assert discarded["decision"] == "discard"
    applied = famplan_json(
        "exchange",
        "review",
        "apply",
        str(held[1]["id"]),
        "--reason",
        "the name was mistyped here; the death certificate was checked",
        "--today",
        "2026-04-10",
        cwd=g,
    )
    assert applied["subject"] == "P1"
    person = famplan_json("person", "show", "P1", "--as-of", "2026-04-01", cwd=g)
    assert person["person"]["name"] == "王建軍"
    assert famplan_json("exchange", "review", "list", cwd=g)["messages"] == []
    unknown = run_famplan("exchange", "review", "show", "999", cwd=g)
    assert unknown.returncode == 1
    assert "no such entry" in unknown.stderr


def test_every_parcel_of_the_inbox_is_taken_on_its_own_and_reported(
    towns: tuple[Path, Path, Hub],
) -> None:
    g, h, hub = towns
    famplan_json("exchange", "export", "--to", H, cwd=g)
    hub.step()
    inbox = h / "exchange" / "inbox"
    (good,) = inbox.iterdir()
    # a parcel whose message file is a link to a file of the receiver's own
    evil = inbox / f"batch_{G}_{H}_{G}-evil"
    shutil.copytree(good, evil)
    (evil / "messages.jsonl").unlink()
    (evil / "messages.jsonl").symlink_to(h / "famplan.toml")
    done = run_famplan("exchange", "import", "--json", cwd=h)
    assert done.returncode == 1, done.stderr
    parcels = {p["parcel"]: p for p in json.loads(done.stdout)["parcels"]}
    assert {name: p["status"] for name, p in parcels.items()} == {
        good.name: "applied",
        evil.name: "quarantined",
    }
    assert parcels[good.name]["applied"] == 2
    assert "symbolic link" in parcels[evil.name]["reasons"][0]
    assert (h / "exchange" / "quarantine" / evil.name / "messages.jsonl").is_symlink()
    # the human table names every parcel too, and why one was set aside
    processed = h / "exchange" / "processed" / good.name
    shutil.copytree(processed, inbox / good.name)
    fifo = inbox / f"batch_{G}_{H}_{G}-fifo"
    shutil.copytree(processed, fifo)
    (fifo / "messages.jsonl").unlink()
    os.mkfifo(fifo / "messages.jsonl")
    shown = run_famplan("exchange", "import", cwd=h)
    assert shown.returncode == 1, shown.stderr
    assert "replayed" in shown.stdout
    assert f"quarantined {fifo.name}: messages.jsonl" in shown.stdout.replace("\n", "")
    assert "Traceback" not in shown.stderr
