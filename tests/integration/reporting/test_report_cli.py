"""`famplan report ...` as a user runs it: subprocesses, files written, exit status."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from famplan_core.testing import famplan_json, run_famplan, write_synthetic


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    done = run_famplan("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=root)
    assert done.returncode == 0, done.stderr
    folder = root / "town"
    write_synthetic(folder / "register", persons=1500, seed=13)
    done = run_famplan("import", "register", "--today", "2026-11-20", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


def test_report_list_shows_every_indicator_and_format(town: Path) -> None:
    document = famplan_json("report", "list", cwd=town)
    codes = {i["code"] for i in document["indicators"]}
    assert {"population", "births", "vital_rates", "sex_ratio_at_birth", "fertility"} <= codes
    assert {"csv", "json"} <= set(document["formats"])
    people = run_famplan("report", "list", cwd=town)
    assert people.returncode == 0, people.stderr
    assert "出生人口性别比" in people.stdout


def test_report_writes_csv_with_a_bom_and_records_the_state(town: Path) -> None:
    summary = famplan_json("report", "population", "--period", "2025", "--out", "pop.csv", cwd=town)
    assert summary["format"] == "csv"
    assert summary["register_state"]["audit_id"] == 1
    data = (town / "pop.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][0].startswith("户籍人口")
    assert rows[2] == ["区划代码", "区划名称", "年龄组", "男", "女", "合计"]
    assert any("审计第1条" in row[0] for row in rows if row)


def test_report_all_as_json_is_reproducible_with_state(town: Path) -> None:
    done = run_famplan("report", "all", "--period", "2025", "--format", "json", cwd=town)
    assert done.returncode == 0, done.stderr
    first = json.loads(done.stdout)
    assert first["period"] == "2025"
    assert [t["code"] for t in first["tables"]][:2] == ["population", "births"]
    again = run_famplan(
        "report", "all", "--period", "2025", "--format", "json", "--state", "1", cwd=town
    )
    assert json.loads(again.stdout)["digest"] == first["digest"]


def test_public_report_withholds_and_refuses_internal(town: Path) -> None:
    summary = famplan_json(
        "report",
        "vital_rates",
        "--period",
        "2025",
        "--public",
        "--format",
        "json",
        "--out",
        "rates.json",
        cwd=town,
    )
    assert summary["public"] is True
    document = json.loads((town / "rates.json").read_text("utf-8"))
    (table,) = document["tables"]
    assert table["withheld"], "a 1,500-person township has villages with under 5 births"


def test_user_mistakes_are_one_line_errors(town: Path) -> None:
    done = run_famplan("report", "population", cwd=town)
    assert done.returncode == 2
    assert "--period" in done.stderr
    done = run_famplan("report", "nosuch", "--period", "2025", cwd=town)
    assert done.returncode == 1
    assert "no indicator is named 'nosuch'" in done.stderr
    assert "population" in done.stderr
    done = run_famplan("report", "population", "--period", "2025-13", cwd=town)
    assert done.returncode == 2  # a malformed option, like any other
    assert "2026-Q3" in done.stderr
    done = run_famplan("report", "population", "--period", "2025", "--scope", "371502115", cwd=town)
    assert done.returncode == 1
    assert "371502110" in done.stderr
    done = run_famplan("report", "population", "--period", "2025", "--state", "99", cwd=town)
    assert done.returncode == 1
    assert "no such audit entry" in done.stderr
    assert "Traceback" not in done.stderr
