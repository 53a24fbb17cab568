"""A database password never shows: not in output, JSON, errors or reprs (issue 13, point 6);
a PostgreSQL URL without psycopg says how to install it (point 10)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from famplan_core.config import Config, StorageSettings, TownshipSettings
from famplan_core.model.identity import DivisionCode
from famplan_core.testing import run_famplan

PASSWORD = "Zq7-s3cret"
UNREACHABLE = f"postgresql+psycopg://famplan:{PASSWORD}@127.0.0.1:1/famplan"


def _init(root: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_famplan(
        "init", "town", "--division", "371502110", "--name", "顾官屯镇", "--storage-url", url,
        *extra, cwd=root,
    )  # fmt: skip


@pytest.mark.parametrize("as_json", [False, True])
def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, as_json: bool
) -> None:
    extra = ("--json",) if as_json else ()
    made = _init(tmp_path, UNREACHABLE, *extra)
    assert made.returncode == 1
    assert "cannot use the database postgresql+psycopg://famplan:***@127.0.0.1:1/famplan" in (
        made.stderr
    )
    for args in (
        ("db", "upgrade"),
        ("quarantine", "list"),
        ("benefits", "roll", "--month", "2026-11"),
    ):
        done = run_famplan(*args, *extra, cwd=tmp_path / "town")
        assert done.returncode == 1, done.stdout
        assert "famplan:***@127.0.0.1:1" in done.stderr
        for output in (made.stdout, made.stderr, done.stdout, done.stderr):
            assert PASSWORD not in output
    assert "Traceback" not in done.stderr


@pytest.mark.postgres
def test_db_upgrade_shows_the_url_without_its_password(tmp_path: Path, pg_url: str) -> None:
    # The test server trusts the loopback: the password is sent and ignored.
    url = sa.make_url(pg_url).set(password=PASSWORD).render_as_string(hide_password=False)
    made = _init(tmp_path, url, "--json")
    assert made.returncode == 0, made.stderr
    town = tmp_path / "town"
    upgraded = run_famplan("db", "upgrade", "--json", cwd=town)
    plain = run_famplan("db", "upgrade", cwd=town)
    assert upgraded.returncode == plain.returncode == 0, upgraded.stderr + plain.stderr
    assert '"storage": "postgresql+psycopg://postgres:***@127.0.0.1' in upgraded.stdout
    for done in (made, upgraded, plain):
        assert PASSWORD not in done.stdout + done.stderr


def test_the_configuration_repr_hides_the_password() -> None:
    config = Config(
        township=TownshipSettings(division=DivisionCode.parse("371502110"), name="顾官屯镇"),
        storage=StorageSettings(url=UNREACHABLE),
    )
    assert PASSWORD not in repr(config)
    assert "famplan:***@127.0.0.1:1" in repr(config)


def test_a_postgresql_url_without_psycopg_says_how_to_install_it(tmp_path: Path) -> None:
    program = (
        "import sys; sys.modules['psycopg'] = None; "
        "from famplan_core.cli.app import main; main(sys.argv[1:])"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, "init", "town", "--division", "371502110", "--name",
         "顾官屯镇", "--storage-url", UNREACHABLE],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "PostgreSQL needs the psycopg driver, which is not installed" in done.stderr
    assert "pip install 'famplan-core[postgres]'" in done.stderr
    assert "internal error" not in done.stderr
    assert PASSWORD not in done.stderr


def test_a_malformed_url_is_named_without_its_password(tmp_path: Path) -> None:
    done = _init(tmp_path, f"postgresql+psycopg://famplan:{PASSWORD}@db:port/famplan", "--json")
    assert done.returncode == 1
    assert "storage URL 'postgresql+psycopg://famplan:***@db:port/famplan' cannot be read" in (
        done.stderr
    )
    assert "internal error" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
