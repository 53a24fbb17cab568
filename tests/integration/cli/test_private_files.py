"""Files holding personal data are owner-only, whatever the umask, and never written through
a symbolic link planted where an output goes (issue 13, points 5 and 10).

Each command runs as a user runs it (a subprocess) under ``umask 000``, the loosest there is:
before, every file came out ``0666`` and every folder ``0777``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from famplan_core.testing import famplan_json, run_famplan, write_synthetic


@pytest.fixture(scope="module")
def loose_umask() -> Iterator[None]:
    # The subprocesses inherit the umask of this process.
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _modes(root: Path) -> dict[str, str]:
    """Every file and folder under `root` (root included) with its permissions."""
    found = {".": oct(stat.S_IMODE(root.lstat().st_mode))}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def _loose(root: Path) -> dict[str, str]:
    """What under `root` is not owner-only: files other than 0600, folders other than 0700."""
    loose = {}
    for name, mode in _modes(root).items():
        path = root / name
        wanted = oct(0o700) if path.is_dir() else oct(0o600)
        if mode != wanted or path.is_symlink():
            loose[name] = mode
    return loose


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, loose_umask: None) -> Path:
    root = tmp_path_factory.mktemp("private")
    done = run_famplan("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=root)
    assert done.returncode == 0, done.stderr
    town = root / "town"
    write_synthetic(town / "register", persons=1500, seed=13)
    assert run_famplan("import", "register", "--today", "2026-11-20", cwd=town).returncode == 0
    assert run_famplan("benefits", "run", "--month", "2026-11", cwd=town).returncode == 0
    return town


def test_every_file_a_month_makes_is_owner_only(town: Path) -> None:
    (town / "out").mkdir(mode=0o777)  # a folder the office made itself, left as it is
    famplan_json("benefits", "roll", "--month", "2026-11", "--out", "out/roll.csv", cwd=town)
    drafted = famplan_json("notice", "draft", "--month", "2026-11", "--level", "township", cwd=town)
    notice_id = str(drafted["notices"][0]["notice_id"])
    famplan_json("notice", "post", notice_id, cwd=town)
    for fmt in ("csv", "html", "site"):
        famplan_json(
            "notice", "render", notice_id, "--format", fmt, "--out", f"notices/{fmt}", cwd=town
        )
    for fmt, suffix in (("csv", "csv"), ("xlsx", "xlsx"), ("html", "html"), ("markdown", "md")):
        famplan_json(
            "report", "all", "--period", "2026", "--public", "--format", fmt,
            "--out", f"out/report.{suffix}", cwd=town,
        )  # fmt: skip
    famplan_json("export", "register-copy", cwd=town)
    famplan_json("exchange", "export", "--to", "37", cwd=town)

    modes = _modes(town)
    assert modes["out"] == oct(0o777)
    del modes["out"]
    for written in (
        "famplan.toml", "famplan.db", "register/persons.csv", "out/roll.csv",
        f"notices/csv/notice-{notice_id}.csv", f"notices/html/notice-{notice_id}-a4.html",
        "notices/site/index.html", "notices/site/notices.json", "out/report.xlsx",
        "out/report.md", "register-copy/persons.csv", "exchange/outbox",
    ):  # fmt: skip
        assert written in modes, sorted(modes)
    loose = {name: mode for name, mode in _loose(town).items() if name != "out"}
    assert loose == {}


def test_the_demo_is_owner_only(tmp_path: Path, loose_umask: None) -> None:
    famplan_json("demo", "demo", "--persons", "300", cwd=tmp_path)
    demo = tmp_path / "demo"
    assert {"rolls", "reports", "register", "exchange", "famplan.db"} <= set(_modes(demo))
    assert _loose(demo) == {}


@pytest.mark.parametrize(
    ("planted", "command"),
    [
        ("out/roll.csv", ("benefits", "roll", "--month", "2026-11", "--out", "out/roll.csv")),
        (
            "out/report.csv",
            ("report", "all", "--period", "2026", "--format", "csv", "--out", "out/report.csv"),
        ),
        ("copy/persons.csv", ("export", "copy")),
        ("copy/households.csv", ("export", "copy")),
    ],
)
def test_an_output_is_never_written_through_a_planted_link(
    town: Path, planted: str, command: tuple[str, ...]
) -> None:
    victim = town.parent / "victim.txt"
    victim.write_text("someone else's file\n", encoding="utf-8")
    link = town / planted
    link.parent.mkdir(exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    try:
        done = run_famplan(*command, cwd=town)
        assert done.returncode == 1, done.stdout
        assert f"{planted} is a symbolic link; famplan never writes through one" in done.stderr
        assert "Traceback" not in done.stderr
        assert victim.read_text(encoding="utf-8") == "someone else's file\n"
        assert link.is_symlink()
    finally:
        link.unlink()


def test_a_notice_is_never_written_through_a_planted_link(town: Path) -> None:
    listed = famplan_json("notice", "list", cwd=town)["notices"]
    notice_id = str(listed[0]["notice_id"]) if listed else None
    if notice_id is None:
        drafted = famplan_json(
            "notice", "draft", "--month", "2026-11", "--level", "township", cwd=town
        )
        notice_id = str(drafted["notices"][0]["notice_id"])
    victim = town.parent / "victim-notice.txt"
    victim.write_text("untouched\n", encoding="utf-8")
    (town / "board").mkdir(exist_ok=True)
    link = town / "board" / f"notice-{notice_id}.csv"
    link.symlink_to(victim)
    done = run_famplan("notice", "render", notice_id, "--format", "csv", "--out", "board", cwd=town)
    assert done.returncode == 1
    assert "is a symbolic link" in done.stderr
    assert victim.read_text(encoding="utf-8") == "untouched\n"


def test_a_loose_database_is_warned_about_once(town: Path) -> None:
    database = town / "famplan.db"
    database.chmod(0o644)
    try:
        done = run_famplan("quarantine", "list", "--json", cwd=town)
        assert done.returncode == 0, done.stderr
        warning = (
            f"famplan: warning: the database {database} can be read by other users of this "
            "computer (permissions 0644); it holds personal data: make it owner-only with "
            f"`chmod 600 {database}`"
        )
        assert done.stderr.splitlines() == [warning]
    finally:
        database.chmod(0o600)
    quiet = run_famplan("quarantine", "list", "--json", cwd=town)
    assert quiet.returncode == 0
    assert quiet.stderr == ""
