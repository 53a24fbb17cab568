"""`famplan notice ...` as a user runs it: subprocesses, exit status, one-line errors."""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from typing import Any

import pytest

from famplan_core.synthetic import SyntheticRegister
from famplan_core.testing import famplan_json as _famplan_json
from famplan_core.testing import run_famplan as _run_famplan
from famplan_core.testing import write_synthetic

NOVEMBER_2 = "2026-11-02T09:00:00+08:00"
NOVEMBER_9 = "2026-11-09T09:00:00+08:00"
CLOCK = {"FAMPLAN_NOW": NOVEMBER_2}
"""The commands' clock: the notice goes up on 2 November and closes on 9 November."""


def run_famplan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return _run_famplan(*args, cwd=cwd, env=CLOCK)


def famplan_json(*args: str, cwd: Path) -> dict[str, Any]:
    return _famplan_json(*args, cwd=cwd, env=CLOCK)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SyntheticRegister]:
    root = tmp_path_factory.mktemp("cli")
    done = run_famplan("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=root)
    assert done.returncode == 0, done.stderr
    town = root / "town"
    register = write_synthetic(town / "register", persons=1500, seed=13)
    config = town / "famplan.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('complaint_phone = ""', 'complaint_phone = "0635-8123456"')
    text = text.replace('complaint_box = ""', 'complaint_box = "镇政府一楼大厅意见箱"')
    villages = "".join(f'"{c}" = "{n}"\n' for c, n in sorted(register.village_names.items()))
    text += '\n[plugins.core-notices]\nmasking = { citizen_id = "keep-6-4" }\n'
    text += f"\n[plugins.core-notices.villages]\n{villages}"
    config.write_text(text, encoding="utf-8")
    done = run_famplan("import", "register", "--today", "2026-11-20", cwd=town)
    assert done.returncode == 0, done.stderr
    assert run_famplan("benefits", "run", "--month", "2026-11", cwd=town).returncode == 0
    return town, register


def test_draft_post_object_decide_close_render(
    deployment: tuple[Path, SyntheticRegister],
) -> None:
    town, _register = deployment
    drafted = famplan_json("notice", "draft", "--month", "2026-11", "--level", "township", cwd=town)
    (notice,) = drafted["notices"]
    notice_id = str(notice["notice_id"])
    assert notice["state"] == "draft"
    posted = famplan_json("notice", "post", notice_id, cwd=town)
    assert (posted["window_start"], posted["window_end"]) == ("2026-11-02", "2026-11-08")

    shown = famplan_json("notice", "show", notice_id, cwd=town)
    line = next(x for x in shown["lines"] if x["published"])
    objection = famplan_json(
        "notice", "object", notice_id, "--line", str(line["line_no"]), "--by", "王某",
        "--channel", "phone", "--content", "不符合条件", "--received-on", "2026-11-03",
        cwd=town,
    )  # fmt: skip
    CLOCK["FAMPLAN_NOW"] = NOVEMBER_9
    early = run_famplan("notice", "close", notice_id, "--on", "2026-11-09", cwd=town)
    assert early.returncode == 1
    assert early.stderr.startswith("famplan: error: notice")
    assert "under review" in early.stderr
    assert len(early.stderr.strip().splitlines()) == 1
    decided = run_famplan(
        "notice", "decide", str(objection["objection_id"]), "--upheld", "--reason", "核实不符",
        "--on", "2026-11-04", "--actor", "director-li",
        cwd=town,
    )  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    assert "upheld by director-li on 2026-11-04; the payment is withdrawn" in decided.stdout
    closed = run_famplan("notice", "close", notice_id, "--on", "2026-11-09", cwd=town)
    assert closed.returncode == 0, closed.stderr
    assert "(closed)" in closed.stdout

    roll = town / "roll.csv"
    assert (
        run_famplan(
            "benefits", "roll", "--month", "2026-11", "--out", str(roll), cwd=town
        ).returncode
        == 0
    )
    with roll.open(encoding="utf-8", newline="") as stream:
        paid = {row["person_id"] for row in csv.DictReader(stream)}
    assert line["person_id"] not in paid
    others = {x["person_id"] for x in shown["lines"] if x["line_no"] != line["line_no"]}
    assert others <= paid

    for fmt in ("html", "site", "csv", "pdf"):
        done = run_famplan(
            "notice", "render", notice_id, "--format", fmt, "--out", f"out-{fmt}", cwd=town
        )
        assert done.returncode == 0, done.stderr
        assert "Wrote" in done.stdout
    page = (town / "out-html" / f"notice-{notice_id}-a4.html").read_text(encoding="utf-8")
    assert "公示期已结束，名单已撤下。" in page  # closed: the list is taken down
    listed = famplan_json("notice", "list", cwd=town)["notices"]
    assert [n["state"] for n in listed] == ["closed"]


def test_usage_errors_are_one_line(deployment: tuple[Path, SyntheticRegister]) -> None:
    town, _ = deployment
    missing = run_famplan("notice", "post", "999", cwd=town)
    assert missing.returncode == 1
    assert missing.stderr.strip() == "famplan: error: notice 999: no such notice is stored"
    bad = run_famplan("notice", "draft", "--month", "2026-13", "--level", "village", cwd=town)
    assert bad.returncode != 0
    assert "--month" in bad.stderr
    group = run_famplan("notice", "draft", "--month", "2026-11", "--level", "group", cwd=town)
    assert group.returncode == 1
    assert "--place" in group.stderr
    unknown = run_famplan("notice", "render", "1", "--format", "docx", "--out", "x", cwd=town)
    assert "no notice renderer is named 'docx'" in unknown.stderr
    neither = run_famplan("notice", "decide", "1", "--reason", "x", cwd=town)
    assert neither.returncode == 2
    assert "--upheld or --dismissed" in neither.stderr
