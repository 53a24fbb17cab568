"""Dates, months and periods far outside the calendar a register uses are usage errors
(exit 2, one line), never an internal error (issue 13, point 10)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from famplan_core.cli import (
    app,
    benefits_commands,
    commands,
    demo_command,
    exchange_commands,
    notice_commands,
    register_commands,
    report_commands,
)
from famplan_core.cli.params import DATE, EARLIEST, LATEST, MONTH, PERIOD, TIME
from famplan_core.errors import FamplanError
from famplan_core.testing import run_famplan

MODULES = (
    benefits_commands, commands, demo_command, exchange_commands, notice_commands,
    register_commands, report_commands,
)  # fmt: skip

# Each command with a date-like option, VALUE standing for the value tried.
COMMANDS = [
    ("check-id", "110101199003070011", "--today", "VALUE"),
    ("person", "show", "P1", "--as-of", "VALUE"),
    ("person", "show", "P1", "--known-at", "VALUE"),
    ("import", ".", "--dry-run", "--today", "VALUE"),
    ("report", "all", "--period", "VALUE"),
    ("notice", "draft", "--month", "VALUE", "--level", "township"),
    ("notice", "list", "--month", "VALUE"),
    ("notice", "post", "1", "--on", "VALUE"),
    ("notice", "close", "1", "--on", "VALUE"),
    ("benefits", "run", "--month", "VALUE"),
    ("benefits", "roll", "--month", "VALUE"),
    ("exchange", "export", "--to", "37", "--since", "VALUE"),
    ("exchange", "import", "--today", "VALUE"),
]


def _odd_years() -> st.SearchStrategy[int]:
    return st.one_of(
        st.integers(0, 1899), st.integers(3000, 99999), st.sampled_from([1, 1899, 9999, 10000])
    )


ODD_TEXT = st.one_of(
    st.text(max_size=24),
    st.builds("{:04d}-{:02d}-{:02d}".format, _odd_years(), st.integers(0, 13), st.integers(0, 32)),
    st.builds("{:d}-{:02d}".format, _odd_years(), st.integers(0, 13)),
    st.builds("{:d}-Q{:d}".format, _odd_years(), st.integers(0, 5)),
    st.builds(str, _odd_years()),
    st.builds(
        "{}T{:02d}:{:02d}:{:02d}".format,
        st.dates().map(dt.date.isoformat),
        st.integers(0, 25),
        st.integers(0, 61),
        st.integers(0, 61),
    ),
    st.dates().map(dt.date.isoformat),
)


@given(text=ODD_TEXT)
def test_the_shared_types_accept_only_the_calendar_range(text: str) -> None:
    for kind in (DATE, TIME, MONTH, PERIOD):
        try:
            value = kind.convert(text, None, None)
        except click.BadParameter as exc:
            message = exc.message
            assert message
            continue
        if isinstance(value, dt.datetime):
            assert EARLIEST <= value.date() <= LATEST
        else:
            assert EARLIEST.year <= int(value[:4]) <= LATEST.year


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FAMPLAN_CONFIG", raising=False)
    return tmp_path


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS), text=ODD_TEXT)
def test_no_date_option_ends_in_an_internal_error(
    nowhere: Path, command: tuple[str, ...], text: str
) -> None:
    args = [text if a == "VALUE" else a for a in command]
    try:
        app.cli.main(args=args, standalone_mode=False)
    except click.UsageError:
        return  # exit 2, one line
    except (FamplanError, click.ClickException, click.exceptions.Exit):
        # The command ran on and found no deployment here: the value was a real date.
        assert _accepted(text), text


def _accepted(text: str) -> bool:
    for kind in (DATE, TIME, MONTH, PERIOD):
        try:
            kind.convert(text, None, None)
        except click.BadParameter:
            continue
        return True
    return False


def _params(group: click.Group) -> Iterator[tuple[str, click.Parameter]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from ((f"{name} {n}", p) for n, p in _params(command))
        else:
            yield from ((name, p) for p in command.params)


def test_no_command_parses_a_date_with_its_own_type() -> None:
    assert MODULES  # every command is registered
    loose = [
        f"{name} {param.name}"
        for name, param in _params(app.cli)
        if isinstance(param.type, click.DateTime)
    ]
    assert loose == []


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dates")
    done = run_famplan("init", "town", "--division", "371502110", "--name", "顾官屯镇", cwd=root)
    assert done.returncode == 0, done.stderr
    return root / "town"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("notice", "post", "1", "--on", "0001-01-01"), "outside the dates accepted"),
        (("report", "all", "--period", "9999-Q4"), "outside the years accepted"),
        (("report", "all", "--period", "0001"), "outside the years accepted"),
        (("benefits", "run", "--month", "0001-01"), "outside the years accepted"),
        (("person", "show", "P1", "--as-of", "10000-01-01"), "expected a date written"),
    ],
)
def test_a_date_out_of_range_is_a_usage_error(
    town: Path, args: tuple[str, ...], message: str
) -> None:
    done = run_famplan(*args, cwd=town)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("famplan: error: Invalid value for ")
    assert message in done.stderr
    assert "internal error" not in done.stderr
