"""The `famplan` command as a user runs it: a subprocess, its exit status and its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FAMPLAN = str(Path(sys.executable).parent / "famplan")


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FAMPLAN_")}
    environment.update(env or {})
    return subprocess.run(
        [FAMPLAN, *args], cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )


def run_json(*args: str, cwd: Path, env: dict[str, str] | None = None) -> object:
    done = run(*args, "--json", cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture
def deployment(tmp_path: Path) -> Path:
    done = run("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "town"


def test_version(tmp_path: Path) -> None:
    done = run("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("famplan-core 0.1.0")


def test_init_writes_config_with_the_sqlite_default(tmp_path: Path) -> None:
    result = run_json("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=tmp_path)
    assert isinstance(result, dict)
    assert result["division"] == "371502110"
    assert result["storage"].startswith("sqlite:///")
    assert result["storage"].endswith("town/famplan.db")
    text = (tmp_path / "town" / "famplan.toml").read_text("utf-8")
    assert 'division = "371502110"' in text
    assert 'url = "sqlite:///famplan.db"' in text


def test_init_refuses_to_overwrite(deployment: Path) -> None:
    done = run("init", ".", "--division", "371502110", "--name", "x", cwd=deployment)
    assert done.returncode == 1
    assert "already exists; use --force" in done.stderr
    assert "Traceback" not in done.stderr


def test_init_with_a_bad_division_is_a_usage_error(tmp_path: Path) -> None:
    done = run("init", "town", "--division", "37150", "--name", "x", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") <= 2
    assert "--division" in done.stderr
    assert not (tmp_path / "town").exists()


def test_plugins_shows_defaults_and_the_example_plugin(deployment: Path) -> None:
    result = run_json("plugins", cwd=deployment)
    assert isinstance(result, dict)
    by_name = {p["name"]: p for p in result["plugins"]}
    assert by_name["core-reports"]["default"] is True
    assert by_name["report-markdown"]["enabled"] is True
    assert by_name["report-markdown"]["hooks"] == ["famplan_register_report_renderers"]
    table = run("plugins", cwd=deployment)
    assert "report-markdown" in table.stdout
    assert "famplan-report-markdown" in table.stdout


def test_disabling_a_plugin_in_famplan_toml_removes_it(deployment: Path) -> None:
    config = deployment / "famplan.toml"
    text = config.read_text("utf-8")
    config.write_text(
        text.replace(
            "[plugins.report-markdown]\nenabled = true",
            "[plugins.report-markdown]\nenabled = false",
        ),
        "utf-8",
    )
    assert "enabled = false" in config.read_text("utf-8")
    result = run_json("plugins", cwd=deployment)
    assert isinstance(result, dict)
    markdown = {p["name"]: p for p in result["plugins"]}["report-markdown"]
    assert markdown["enabled"] is False
    assert markdown["hooks"] == []


def test_config_option_and_variable_name_the_deployment(deployment: Path, tmp_path: Path) -> None:
    by_option = run_json("--config", str(deployment / "famplan.toml"), "plugins", cwd=tmp_path)
    by_variable = run_json(
        "plugins", cwd=tmp_path, env={"FAMPLAN_CONFIG": str(deployment / "famplan.toml")}
    )
    assert isinstance(by_option, dict)
    assert isinstance(by_variable, dict)
    assert by_option["deployment"] == by_variable["deployment"] == str(deployment / "famplan.toml")


def test_a_bad_division_in_famplan_toml_fails_in_one_line(deployment: Path) -> None:
    config = deployment / "famplan.toml"
    config.write_text(
        config.read_text("utf-8").replace('division = "371502110"', 'division = "37150"'), "utf-8"
    )
    done = run("plugins", cwd=deployment)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert "famplan.toml" in line
    assert "township.division" in line
    assert "37150" in line
    assert "371502110" in line  # the example of the expected form


def test_check_id_accepts_the_standard_vectors(tmp_path: Path) -> None:
    for number in ("11010519491231002X", "440524188001010014", "11010519491231002x"):
        result = run_json("check-id", number, "--today", "2026-11-29", cwd=tmp_path)
        assert isinstance(result, dict)
        assert result["valid"] is True, result
        assert result["normalised"] == number.upper()


def test_check_id_explains_a_bad_check_character(tmp_path: Path) -> None:
    done = run("check-id", "110105194912310021", "--today", "2026-11-29", cwd=tmp_path)
    assert done.returncode == 1
    assert "not valid" in done.stdout
    assert "check character" in done.stdout
    assert "Traceback" not in done.stderr


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    done = run("frobnicate", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("famplan: error:")
    assert "Traceback" not in done.stderr


def test_json_errors_are_one_document_on_stdout(tmp_path: Path) -> None:
    done = run("--config", str(tmp_path / "missing.toml"), "plugins", "--json", cwd=tmp_path)
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["error"]["type"] == "ConfigurationError"
    assert "missing.toml" in document["error"]["message"]
