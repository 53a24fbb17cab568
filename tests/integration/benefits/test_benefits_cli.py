"""`famplan benefits ...` as a user runs it: subprocesses, exit status, one-line errors."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import famplan_json, run_famplan, write_synthetic


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyntheticRegister]:
    root = tmp_path_factory.mktemp("cli")
    done = run_famplan("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=root)
    assert done.returncode == 0, done.stderr
    town = root / "town"
    register = write_synthetic(town / "register", persons=1500, seed=13)
    done = run_famplan("import", "register", "--today", "2026-11-20", cwd=town)
    assert done.returncode == 0, done.stderr
    return town, register


def test_run_roll_and_rerun(deployment: tuple[Path, SyntheticRegister]) -> None:
    """Spec "Runs, rolls and completeness" through the command line: a run, a re-run that
    changes nothing, a roll whose CSV lines reconcile with its totals to the fen."""
    town, _register = deployment
    first = famplan_json("benefits", "run", "--month", "2026-10", cwd=town)
    assert first["stored"] is True
    assert first["run_id"] == 1
    again = famplan_json("benefits", "run", "--month", "2026-10", cwd=town)
    assert again["stored"] is False
    assert "nothing changed" in str(again["message"])
    table = run_famplan("benefits", "run", "--month", "2026-10", cwd=town)
    assert "nothing changed" in table.stdout
    assert "childcare_subsidy" in table.stdout

    roll = famplan_json("benefits", "roll", "--month", "2026-10", "--out", "roll.csv", cwd=town)
    assert roll["created"] is True
    with (town / "roll.csv").open(encoding="utf-8", newline="") as stream:
        lines = list(csv.DictReader(stream))
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
    sums: dict[str, Decimal] = {}
    for line in lines:
        sums[line["program"]] = sums.get(line["program"], Decimal(0)) + Decimal(line["amount"])
    totals = roll["totals"]
    assert isinstance(totals, list)
    assert {t["program"]: Decimal(t["amount"]) for t in totals} == sums
    assert sum(t["lines"] for t in totals) == len(lines) == roll["line_count"]
    again_roll = famplan_json("benefits", "roll", "--month", "2026-10", cwd=town)
    assert again_roll["created"] is False
    assert again_roll["totals"] == totals
    shown = run_famplan("benefits", "roll", "--month", "2026-10", cwd=town)
    assert "made before, unchanged" in shown.stdout


def test_user_mistakes_are_one_line(deployment: tuple[Path, SyntheticRegister]) -> None:
    town, _register = deployment
    malformed = run_famplan("benefits", "run", "--month", "2026-13", cwd=town)
    assert malformed.returncode == 2  # a malformed argument is a usage error, like any other
    assert "--month: expected a month written as YYYY-MM" in malformed.stderr
    assert "(found '2026-13')" in malformed.stderr
    cases = [
        (
            ("benefits", "explain", "P00000001", "--program", "nope", "--month", "2026-11"),
            "no program is named 'nope'; known programs: childcare_subsidy",
        ),
        (("benefits", "roll", "--month", "2020-01"), "no run of 2020-01 is stored"),
        (
            ("benefits", "whatif", "--month", "2026-11", "--set", "rural_reward=5"),
            "expected PROGRAM.PARAM=VALUE",
        ),
        (
            (
                "benefits",
                "grant",
                "H-none",
                "--amount",
                "2000.00",
                "--approved-on",
                "2026-11-02",
                "--reason",
                "x",
            ),
            "may be at most 1000.00",
        ),
    ]
    for args, message in cases:
        done = run_famplan(*args, cwd=town)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert done.stderr.startswith("famplan: error: ")
        assert "Traceback" not in done.stderr
    failed = run_famplan("benefits", "run", "--month", "11/2026", "--json", cwd=town)
    assert failed.returncode == 2
    assert json.loads(failed.stdout)["error"]["type"] == "UsageError"


def test_explain_check_whatif_and_grant(deployment: tuple[Path, SyntheticRegister]) -> None:
    town, register = deployment
    expected = register.expected
    person = str(expected.eligible["rural_reward"][0])
    text = run_famplan(
        "benefits",
        "explain",
        person,
        "--program",
        "rural_reward",
        "--month",
        "2026-11",
        "--lang",
        "en",
        cwd=town,
    )
    assert text.returncode == 0, text.stderr
    assert "Entitled: yes" in text.stdout
    assert "R2.4" in text.stdout
    chinese = run_famplan(
        "benefits",
        "explain",
        person,
        "--program",
        "rural_reward",
        "--month",
        "2026-11",
        cwd=town,
    )
    assert "结论：符合" in chinese.stdout
    explained = famplan_json(
        "benefits",
        "explain",
        person,
        "--program",
        "rural_reward",
        "--month",
        "2026-11",
        cwd=town,
    )
    assert explained["entitled"] is True

    report = famplan_json("benefits", "check", "--month", "2026-11", cwd=town)
    programs = report["programs"]
    assert isinstance(programs, list)
    for program in programs:
        omissions = sorted(f["person_id"] for f in program["omissions"])
        assert omissions == sorted(expected.omitted[program["program"]].tolist())
        errors = sorted(f["person_id"] for f in program["errors"])
        assert errors == sorted(expected.wrongly_enrolled[program["program"]].tolist())
    shown = run_famplan("benefits", "check", "--month", "2026-11", cwd=town)
    assert "omissions" in shown.stdout

    whatif = famplan_json(
        "benefits",
        "whatif",
        "--month",
        "2026-11",
        "--set",
        "special_assistance.monthly_amount.death.rural=300.00",
        cwd=town,
    )
    special = next(p for p in whatif["programs"] if p["program"] == "special_assistance")
    assert Decimal(special["cost_difference"]) >= 0
    assert special["losers"] == 0
    assert all(Decimal(p["after"]) > Decimal(p["before"]) for p in whatif["people"])

    household = str(register.households["household_id"][0])
    granted = famplan_json(
        "benefits",
        "grant",
        household,
        "--amount",
        "800.00",
        "--approved-on",
        "2026-11-05",
        "--reason",
        "因病致困",
        cwd=town,
    )
    assert granted["amount"] == "800.00"
    assert granted["month"] == "2026-11"
    famplan_json("benefits", "run", "--month", "2026-11", cwd=town)
    roll = famplan_json("benefits", "roll", "--month", "2026-11", cwd=town)
    totals = {t["program"]: t for t in roll["totals"]}
    assert totals["hardship_relief"] == {
        "program": "hardship_relief",
        "lines": 1,
        "amount": "800.00",
    }
