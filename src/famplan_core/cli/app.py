"""The root of the `famplan` command, its error handling and its output helpers.

Every command that reports a result takes ``--json`` and then prints one JSON document on
stdout. User mistakes print one clear line on stderr and exit 2 (usage) or 1 (failure),
never a traceback (``FAMPLAN_DEBUG=1`` shows it, for developers).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table

from famplan_core._version import API_VERSION, __version__
from famplan_core.errors import ConfigurationError, FamplanError, FamplanWarning

__all__ = [
    "Context",
    "cli",
    "echo_json",
    "json_option",
    "main",
    "pass_context",
    "print_table",
]

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILURE = 1
EXIT_USAGE = 2


class Context:
    """What every command receives: where the deployment is, and how to print.

    Attributes:
        config_path: ``--config`` (or None: ``FAMPLAN_CONFIG``, then the current folder).
        console: the rich console for people (stdout).
    """

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        # Piped output (scripts, tests, files) is not cut to 80 columns.
        width = None if sys.stdout.isatty() else 200
        self.console = Console(highlight=False, soft_wrap=True, width=width)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)

    @functools.cached_property
    def township(self) -> Any:
        """The deployment named by ``--config``, ``FAMPLAN_CONFIG`` or the current folder."""
        from famplan_core.township import open_township

        return open_township(self.config_path)


pass_context = click.make_pass_decorator(Context)


def _json_default(value: object) -> object:
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.isoformat() + "+00:00"  # record times are stored in UTC
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def echo_json(document: object) -> None:
    """Print one JSON document on stdout (dates as ISO text, amounts as text)."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2, default=_json_default))


def json_option(function: Callable[P, R]) -> Callable[P, R]:
    """Add ``--json`` to a command: it then prints one JSON document on stdout."""
    return click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print one JSON document on stdout, for scripts.",
    )(function)


def print_table(
    console: Console, title: str | None, headers: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """Print a table for people."""
    table = Table(title=title, title_justify="left", show_lines=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console.print(table)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(
    __version__,
    "--version",
    prog_name="famplan-core",
    message=f"%(prog)s %(version)s (plugin API {API_VERSION})",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=True),
    envvar="FAMPLAN_CONFIG",
    help="The deployment's famplan.toml (or its folder). Default: FAMPLAN_CONFIG, then "
    "./famplan.toml.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """famplan: township population and family services administration.

    Run commands inside a deployment folder (one made by `famplan init`), or name its
    famplan.toml with --config.
    """
    if config_path is not None and config_path.is_dir():
        config_path = config_path / "famplan.toml"
    ctx.obj = Context(config_path)


def _fail(message: str, code: int, kind: str) -> NoReturn:
    if "--json" in sys.argv[1:]:
        echo_json({"error": {"type": kind, "message": message}})
    lines = message.splitlines() or [message]
    click.echo(f"famplan: error: {lines[0]}", err=True)
    for line in lines[1:]:
        click.echo(f"  {line.strip()}", err=True)
    sys.exit(code)


_show_warning = warnings.showwarning


def _warn(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    # The library's warnings are for the person at the command line: one plain line.
    if issubclass(category, FamplanWarning):
        click.echo(f"famplan: warning: {message}", err=True)
        return
    _show_warning(message, category, filename, lineno, file, line)


def _add_plugin_commands() -> None:
    # Plugins may add commands; the deployment is not needed to list them.
    from famplan_core.plugin_manager import PluginManager

    try:
        PluginManager.assemble().register_commands(cli)
    except FamplanError:
        # A broken plugin is reported by the command that needs it, with its message.
        return


def main(argv: Sequence[str] | None = None) -> None:
    """Run the ``famplan`` command line.

    Args:
        argv: the arguments (default: ``sys.argv[1:]``).
    """
    from famplan_core.cli import (  # noqa: F401  (each module registers its commands)
        audit_commands,
        benefits_commands,
        commands,
        demo_command,
        exchange_commands,
        notice_commands,
        register_commands,
        report_commands,
    )

    warnings.showwarning = _warn
    _add_plugin_commands()
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", EXIT_FAILURE, "Abort")
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        _fail(exc.format_message() + hint, EXIT_USAGE, "UsageError")
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code, type(exc).__name__)
    except ConfigurationError as exc:
        _fail(str(exc), EXIT_FAILURE, "ConfigurationError")
    except FamplanError as exc:
        _fail(str(exc), EXIT_FAILURE, type(exc).__name__)
    except (OSError, UnicodeError) as exc:
        _fail(str(exc), EXIT_FAILURE, type(exc).__name__)
    except Exception as exc:
        if os.environ.get("FAMPLAN_DEBUG"):
            raise
        _fail(
            f"internal error: {type(exc).__name__}: {exc} (this is a bug in famplan-core or a "
            "plugin; run again with FAMPLAN_DEBUG=1 to see where, and report it)",
            EXIT_FAILURE,
            "InternalError",
        )
