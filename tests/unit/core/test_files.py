"""The owner-only file helpers: permissions whatever the umask, no writing through links."""

from __future__ import annotations

import doctest
import os
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from famplan_core import files
from famplan_core.errors import LoosePermissionsWarning, UnsafeFileError
from famplan_core.storage.engine import create_engine


@pytest.fixture
def loose_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_the_module_examples_run() -> None:
    result = doctest.testmod(files, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0


def test_files_and_folders_are_owner_only_under_umask_000(
    tmp_path: Path, loose_umask: None
) -> None:
    folder = files.private_folder(tmp_path / "a" / "b")
    assert _mode(tmp_path / "a") == _mode(folder) == 0o700
    text = files.write_private(folder / "t.csv", "名字\n")
    assert _mode(text) == 0o600
    assert text.read_text(encoding="utf-8") == "名字\n"
    with files.private_writer(folder / "b.bin", "wb") as f:
        f.write(b"\x00")
    assert _mode(folder / "b.bin") == 0o600
    assert files.create_private_file(folder / "db")
    assert not files.create_private_file(folder / "db")
    assert _mode(folder / "db") == 0o600


def test_an_existing_loose_file_is_replaced_by_an_owner_only_one(tmp_path: Path) -> None:
    target = tmp_path / "roll.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o666)
    files.write_private(target, "new")
    assert _mode(target) == 0o600
    assert target.read_text(encoding="utf-8") == "new"


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    target = files.write_private(tmp_path / "roll.csv", "old")

    def fail() -> None:
        with files.private_writer(target) as f:
            f.write("half")
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        fail()
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["roll.csv"]


@pytest.mark.parametrize("dangling", [False, True])
def test_a_planted_link_is_refused_and_its_target_untouched(tmp_path: Path, dangling: bool) -> None:
    victim = tmp_path / "victim"
    if not dangling:
        victim.write_text("mine", encoding="utf-8")
    link = tmp_path / "out.csv"
    link.symlink_to(victim)
    with pytest.raises(UnsafeFileError, match=r"out\.csv is a symbolic link"):
        files.write_private(link, "theirs")
    with pytest.raises(UnsafeFileError):
        files.create_private_file(link)
    assert victim.exists() is not dangling
    if not dangling:
        assert victim.read_text(encoding="utf-8") == "mine"
    assert link.is_symlink()


def test_a_new_sqlite_database_and_its_wal_are_owner_only(
    tmp_path: Path, loose_umask: None
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'famplan.db'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        made = sorted(p.name for p in tmp_path.iterdir())
        assert "famplan.db-wal" in made
        assert {p.name: _mode(p) for p in tmp_path.iterdir()} == dict.fromkeys(made, 0o600)
    finally:
        engine.dispose()


def test_a_loose_database_file_is_warned_about(tmp_path: Path) -> None:
    database = tmp_path / "famplan.db"
    database.touch()
    database.chmod(0o644)
    with pytest.warns(LoosePermissionsWarning, match=r"permissions 0644.*chmod 600"):
        create_engine(f"sqlite:///{database}").dispose()
    database.chmod(0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        create_engine(f"sqlite:///{database}").dispose()
