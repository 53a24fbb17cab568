"""The core's commands: init, plugins, check-id."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import DATE
from famplan_core.config import (
    CONFIG_FILE,
    DEFAULT_SQLITE_URL,
    find_config,
    load_config,
    render_config,
)
from famplan_core.errors import ConfigurationError, ValidationError
from famplan_core.files import private_folder, write_private
from famplan_core.model.identity import CitizenId, DivisionCode
from famplan_core.plugin_manager import PluginManager

__all__ = ["check_id", "init", "plugins"]


def _today() -> dt.date:
    # The command line is where the clock is read (today in China); the core never reads it.
    from famplan_core.cli.register_commands import today

    return today()


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--division", required=True, help="The township's 9-digit division code, e.g. 371502110."
)
@click.option("--name", required=True, help="The township's name, e.g. 顾官屯镇.")
@click.option("--force", is_flag=True, help="Overwrite an existing famplan.toml.")
@click.option(
    "--storage-url",
    default=DEFAULT_SQLITE_URL,
    show_default=True,
    help="Where to store the register, e.g. postgresql+psycopg://user@host/db.",
)
@json_option
@pass_context
def init(
    ctx: Context,
    directory: Path,
    division: str,
    name: str,
    force: bool,
    storage_url: str,
    as_json: bool,
) -> None:
    """Make a new deployment in DIRECTORY: famplan.toml with the SQLite default beside it."""
    try:
        code = DivisionCode.parse(division, path="--division")
    except ValidationError as exc:
        raise click.BadParameter(str(exc.problems[0].message), param_hint="--division") from None
    if not name.strip():
        raise click.BadParameter("the township's name is empty", param_hint="--name")
    target = directory / CONFIG_FILE
    if target.exists() and not force:
        raise ConfigurationError(f"{target} already exists; use --force to overwrite it")
    installed = {i.name: i.enabled for i in PluginManager.assemble().plugins() if not i.default}
    private_folder(directory)
    write_private(
        target,
        render_config(
            division=code.value, name=name.strip(), plugins=installed, storage_url=storage_url
        ),
    )
    config = load_config(target)
    from famplan_core.township import Township

    township = Township(config)
    revision = township.upgrade_database()
    key_file = config.audit_key_path()
    township.storage.close()  # opening it makes the audit key (0600) unless there is one
    result = {
        "config": str(target.resolve()),
        "division": code.value,
        "name": name.strip(),
        "storage": township.storage_display_url,
        "plugins": sorted(installed),
        "schema_revision": revision,
        "audit_key": str(key_file),
    }
    if as_json:
        echo_json(result)
        return
    ctx.console.print(f"Made {target} for {name.strip()} ({code.value}).")
    ctx.console.print(f"The register will be stored in {township.storage_display_url}.")
    ctx.console.print(
        f"The audit key is {key_file}: back it up apart from the database, and keep it secret."
    )
    ctx.console.print(f"Next: cd {directory} && famplan plugins")


@cli.command()
@json_option
@pass_context
def plugins(ctx: Context, as_json: bool) -> None:
    """List the plugins: default and installed, versions, enabled or not, and their hooks."""
    try:
        found = find_config(ctx.config_path)
    except ConfigurationError:
        found = None  # outside a deployment: every installed plugin
    config = load_config(found) if found is not None else None
    manager = PluginManager.assemble(config)
    infos = manager.plugins()
    if as_json:
        echo_json(
            {
                "deployment": str(config.path) if config and config.path else None,
                "plugins": [
                    {
                        "name": i.name,
                        "distribution": i.distribution,
                        "version": i.version,
                        "enabled": i.enabled,
                        "default": i.default,
                        "requires": i.requires,
                        "hooks": list(i.hooks),
                    }
                    for i in infos
                ],
            }
        )
        return
    rows = [
        (
            i.name,
            i.distribution,
            i.version,
            "yes" if i.enabled else "no",
            "default" if i.default else "installed",
            ", ".join(h.removeprefix("famplan_") for h in i.hooks) or "-",
        )
        for i in infos
    ]
    where = f" in {config.path}" if config and config.path else " (no deployment: all installed)"
    print_table(
        ctx.console,
        f"Plugins{where}",
        ["name", "distribution", "version", "enabled", "kind", "hooks"],
        rows,
    )


@cli.command("check-id")
@click.argument("citizen_id")
@click.option(
    "--today",
    type=DATE,
    default=None,
    help="The date to check against (birth dates after it are rejected). Default: today.",
)
@json_option
@pass_context
def check_id(ctx: Context, citizen_id: str, today: dt.datetime | None, as_json: bool) -> None:
    """Check a citizen ID number (GB 11643) and explain every finding.

    Exits 0 when the number is valid, 1 when it is not.
    """
    on = today.date() if today is not None else _today()
    result = CitizenId.check(citizen_id, today=on)
    if as_json:
        echo_json(
            {
                "input": citizen_id,
                "valid": result.valid,
                "normalised": result.normalised,
                "findings": [
                    {"severity": f.severity, "code": f.code, "message": f.message}
                    for f in result.findings
                ],
            }
        )
    else:
        verdict = "[green]valid[/green]" if result.valid else "[red]not valid[/red]"
        ctx.console.print(f"{citizen_id}: {verdict}")
        for finding in result.findings:
            ctx.console.print(f"  {finding.severity:<7} {finding.message}", markup=False)
    if not result.valid:
        click.get_current_context().exit(1)
