"""`famplan demo`: the README's main job, as a newcomer runs it."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

FAMPLAN = str(Path(sys.executable).parent / "famplan")


def _demo(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAMPLAN_")}
    return subprocess.run(
        [FAMPLAN, "demo", str(folder), *args],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def test_the_demo_runs_to_its_summary_and_twice_gives_the_same_numbers(tmp_path: Path) -> None:
    first = _demo(tmp_path / "town", "--json")
    assert first.returncode == 0, first.stderr
    again = _demo(tmp_path / "town", "--json")
    assert again.returncode == 0, again.stderr
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    for result in (one, two):
        result.pop("seconds")
    assert one == two
    assert one["persons"] == 40_000
    assert one["quarantined"] > 0
    assert one["months"] == ["2026-10", "2026-11"]
    programs = {p["program"]: p for p in one["programs"]}
    assert set(programs) == {
        "childcare_subsidy",
        "rural_reward",
        "special_assistance",
        "only_child_reward",
    }
    assert all(p["beneficiaries"] > 0 for p in programs.values())
    rural = programs["rural_reward"]
    assert rural["amount"] == f"{rural['beneficiaries'] * 80}.00"  # the national floor, R2.6
    files = one["files"]
    assert Path(files["notice board (first village)"]).is_file()
    assert Path(files["report 2026 (csv)"]).is_file()
    assert files["exchange batch to 韩集镇"].startswith("3 message(s)")
    roll = Path(files["payment roll 2026-11"])
    with roll.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert list(lines[0]) == [
        "program",
        "month",
        "person_id",
        "citizen_id",
        "name",
        "category",
        "amount",
        "kind",
    ]
    for code, figures in programs.items():
        fen = sum(int(line["amount"].replace(".", "")) for line in lines if line["program"] == code)
        assert f"{fen // 100}.{fen % 100:02d}" == figures["amount"]  # reconciles to the fen


def test_the_human_summary_names_every_output(tmp_path: Path) -> None:
    done = _demo(tmp_path / "town", "--persons", "1500")
    assert done.returncode == 0, done.stderr
    for text in (
        "Demo township 顾官屯镇",
        "rows in quarantine",
        "Benefits for 2026-11",
        "register",
    ):
        assert text in done.stdout


def test_the_demo_refuses_a_folder_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", "utf-8")
    done = _demo(tmp_path / "mine")
    assert done.returncode == 1
    assert "not made by `famplan demo`" in done.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text("utf-8") == "keep me"
