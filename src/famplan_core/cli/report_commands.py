"""The report commands (统计报表): ``famplan report list`` and ``famplan report NAME``.

``famplan report NAME --period 2026 [--scope CODE] --format csv|json|xlsx|html --out FILE``
computes one indicator (or ``all`` of them) for a period and a division scope, and writes
it with a renderer picked by its ``PLUGIN_NAME``. The output records the register state it
read; ``--state N`` computes the report again as the register was known at that audit entry.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import PERIOD
from famplan_core.errors import ConfigurationError
from famplan_core.files import write_private

__all__ = ["report"]


def _list(ctx: Context, as_json: bool) -> None:
    from famplan_core.plugin_manager import PluginManager

    plugins = ctx.township.plugins if _has_deployment(ctx) else PluginManager.assemble()
    indicators = plugins.indicators()
    renderers = plugins.report_renderers()
    if as_json:
        echo_json(
            {
                "indicators": [
                    {
                        "code": i.code,
                        "name_zh": i.name.zh,
                        "name_en": i.name.en,
                        "definition": i.definition.en,
                        "unit": i.unit.en,
                        "dimensions": list(i.dimensions),
                        "disclosure": i.disclosure,
                    }
                    for i in indicators.values()
                ],
                "formats": sorted(renderers),
            }
        )
        return
    print_table(
        ctx.console,
        "Indicators (famplan report NAME, or all)",
        ["name", "指标", "indicator", "unit", "dimensions", "disclosure"],
        [
            (
                i.code,
                i.name.zh,
                i.name.en,
                i.unit.zh,
                ", ".join(i.dimensions),
                i.disclosure,
            )
            for i in indicators.values()
        ],
    )
    ctx.console.print(f"Formats: {', '.join(sorted(renderers))}")


def _has_deployment(ctx: Context) -> bool:
    try:
        ctx.township  # noqa: B018  (opens the deployment, or raises)
    except ConfigurationError:
        return False
    return True


def _format_for(out: Path | None, fmt: str | None, renderers: dict[str, type[Any]]) -> str:
    if fmt is not None:
        return fmt
    if out is not None:
        for name, renderer in sorted(renderers.items()):
            if out.suffix.lower() == str(getattr(renderer, "suffix", "")).lower():
                return name
    return "csv"


@cli.command("report")
@click.argument("name")
@click.option(
    "--period", type=PERIOD, help="A year (2026), a quarter (2026-Q3) or a month (2026-03)."
)
@click.option(
    "--scope",
    help="The division to cover: the deployment's township (default), one of its villages "
    "(12 digits), or a county (6 digits) for a county deployment.",
)
@click.option(
    "--format",
    "fmt",
    help="The renderer: csv, json, or a plugin's (xlsx, html, ...). Default: from --out's "
    "suffix, else csv.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The file to write. Default: standard output (text formats only).",
)
@click.option(
    "--public",
    is_flag=True,
    help="For publication: leave out internal indicators and withhold village cells under 5.",
)
@click.option(
    "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help="Labels."
)
@click.option(
    "--state",
    type=int,
    help="Read the register as known at this audit entry (a report's notes name it), to "
    "reproduce an earlier report.",
)
@json_option
@pass_context
def report(
    ctx: Context,
    name: str,
    period: str | None,
    scope: str | None,
    fmt: str | None,
    out: Path | None,
    public: bool,
    lang: str,
    state: int | None,
    as_json: bool,
) -> None:
    """Compute statistical report NAME (an indicator, or `all`), or `list` the indicators.

    \b
    Examples:
      famplan report list
      famplan report population --period 2026 --format xlsx --out population.xlsx
      famplan report all --period 2026-Q3 --public --format html --out report.html
    """
    if name == "list":
        _list(ctx, as_json)
        return
    if period is None:
        raise click.UsageError("--period is needed, e.g. --period 2026")
    township = ctx.township
    renderers = township.plugins.report_renderers()
    fmt = _format_for(out, fmt, renderers)
    renderer = township.plugins.pick(renderers, fmt, "report renderer")
    binary = not str(getattr(renderer, "media_type", "text/")).startswith(
        ("text/", "application/json")
    )
    if out is None and binary:
        raise click.UsageError(f"--format {fmt} writes a binary file: name it with --out")
    result = township.report(
        name, period=period, scope=scope, public=public, state=state, lang=lang
    )
    buffer = io.BytesIO(township.render_report(result, fmt, lang=lang))
    if out is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(buffer.getvalue())
        sys.stdout.buffer.flush()
        return
    write_private(out, buffer.getvalue())
    summary = {"out": str(out), "format": fmt, **result.metadata()}
    summary["tables"] = [t.code for t in result.tables]
    if as_json:
        echo_json(summary)
        return
    audit = result.state.audit_id
    ctx.console.print(
        f"Wrote {out} ({fmt}): {len(result.tables)} table(s), {result.period.text()}, "
        f"scope {result.scope}" + (", public" if public else ""),
        markup=False,
    )
    ctx.console.print(
        f"Register state: audit entry {audit} (run again with --state {audit} for the same "
        f"figures); digest {result.digest[:16]}",
        markup=False,
    )
    if result.left_out:
        ctx.console.print(
            f"Left out (internal, never published): {', '.join(result.left_out)}", markup=False
        )
