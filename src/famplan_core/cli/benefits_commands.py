"""The benefit commands (待遇发放): ``famplan benefits run|roll|grant|explain|check|whatif``.

Each command takes ``--json`` (one JSON document on stdout) and prints tables otherwise; a
user mistake (a month not written ``YYYY-MM``, an unknown program, a month never run) is
one line on stderr from the error it raises.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import DATE, EARLIEST, LATEST
from famplan_core.cli.register_commands import actor_option, now, today

__all__ = ["benefits", "check", "explain", "grant", "roll", "run", "whatif"]

_DATE = DATE
_MONTH_HELP = "The month, as YYYY-MM (evaluated on its first day)."


def _service(ctx: Context) -> Any:
    from famplan_core.benefits import BenefitService

    return BenefitService.for_township(ctx.township)


def _month(text: str) -> dt.date:
    from famplan_core.benefits import parse_month
    from famplan_core.errors import ValidationError

    try:
        month = parse_month(text, path="--month")
    except ValidationError as exc:
        # A malformed argument is a usage error (exit 2), like every other option.
        problem = exc.problems[0]
        raise click.BadParameter(
            f"{problem.message} (found {problem.value!r})", param_hint="--month"
        ) from None
    if not EARLIEST <= month <= LATEST:
        raise click.BadParameter(
            f"{text!r} is outside the years accepted, {EARLIEST.year} to {LATEST.year}",
            param_hint="--month",
        )
    return month


def _not_after_today(day: dt.date) -> dt.date:
    if day > today():
        raise click.BadParameter(
            f"{day} is after today; a grant is recorded once it has been approved",
            param_hint="--approved-on",
        )
    return day


def _checked_month(_ctx: click.Context, _param: click.Parameter, text: str) -> str:
    _month(text)  # a malformed or out-of-range month stops here, before the deployment opens
    return text


def _month_option(function: Any) -> Any:
    return click.option(
        "--month", "month", required=True, help=_MONTH_HELP, callback=_checked_month
    )(function)


@cli.group()
def benefits() -> None:
    """Benefit runs: run a month, make its payment roll, explain, check, what-if."""


@benefits.command("run")
@_month_option
@click.option(
    "--recheck", is_flag=True, help="Evaluate the month even when nothing changed since its run."
)
@actor_option
@json_option
@pass_context
def run(ctx: Context, month: str, recheck: bool, actor: str, as_json: bool) -> None:
    """Evaluate every monthly program for a month and store what changed.

    Months already rolled are checked again when the register or the parameters changed:
    differences from what was paid become arrears lines for the next roll.
    """
    summary = _service(ctx).run(_month(month), actor=actor, recorded_at=now(), recheck=recheck)
    if as_json:
        echo_json(summary.as_dict())
        return
    print_table(
        ctx.console,
        f"Run of {month}" + (f" (run {summary.run_id})" if summary.run_id else ""),
        ["program", "entitled", "total", "new", "ended", "changed", "unchanged"],
        [
            (p.program, p.entitled, _yuan(p.total_fen), p.new, p.ended, p.changed, p.unchanged)
            for p in summary.programs
        ],
    )
    if summary.arrears:
        print_table(
            ctx.console,
            "Arrears found (for the next roll)",
            ["month", "program", "lines", "arrears", "overpaid"],
            [
                (
                    a.month.strftime("%Y-%m"),
                    a.program,
                    a.lines,
                    _yuan(a.arrears_fen),
                    _yuan(a.overpaid_fen),
                )
                for a in summary.arrears
            ],
        )
    ctx.console.print(summary.message, markup=False)
    for warning in summary.warnings:
        ctx.console.print(f"warning: {warning}", markup=False)


@benefits.command("roll")
@_month_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv"]),
    default="csv",
    show_default=True,
    help="The roll file's format.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the roll to this file (UTF-8 CSV with a header).",
)
@actor_option
@json_option
@pass_context
def roll(ctx: Context, month: str, fmt: str, out: Path | None, actor: str, as_json: bool) -> None:
    """Make the payment roll of a month (or show the one made before), with totals.

    Regular lines are the month's entitlements (run the month first) and the hardship grants
    approved in it; arrears lines are what earlier runs found for months already rolled.
    """
    from famplan_core.benefits import write_roll_csv

    made = _service(ctx).roll(_month(month), actor=actor, recorded_at=now())
    if out is not None:
        write_roll_csv(made, out)
    if as_json:
        document = made.as_dict(lines=False)
        document["file"] = None if out is None else str(out)
        document["format"] = fmt
        echo_json(document)
        return
    state = "made" if made.created else "made before, unchanged"
    print_table(
        ctx.console,
        f"Payment roll of {month} (roll {made.roll_id}, {state})",
        ["program", "lines", "amount"],
        [(t.program, t.lines, str(t.amount)) for t in made.totals]
        + [("total", len(made.lines), str(made.total))],
    )
    if out is not None:
        ctx.console.print(f"Wrote {len(made.lines)} line(s) to {out}.", markup=False)
    for warning in made.warnings:
        ctx.console.print(f"warning: {warning}", markup=False)


@benefits.command("grant")
@click.argument("household_id")
@click.option("--amount", required=True, help="The amount in yuan, e.g. 800.00.")
@click.option("--approved-on", "approved_on", type=_DATE, required=True, help="YYYY-MM-DD.")
@click.option("--reason", required=True, help="Why the grant is made.")
@actor_option
@json_option
@pass_context
def grant(
    ctx: Context,
    household_id: str,
    amount: str,
    approved_on: dt.datetime,
    reason: str,
    actor: str,
    as_json: bool,
) -> None:
    """Record a hardship relief grant (R5.1) to HOUSEHOLD_ID, paid to its head.

    It enters the payment roll of its approval month.
    """
    made = _service(ctx).grant(
        household_id,
        amount=amount,
        approved_on=_not_after_today(approved_on.date()),
        reason=reason,
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json(made.as_dict())
        return
    ctx.console.print(
        f"Grant {made.grant_id}: {made.amount} to household {made.household_id} "
        f"(paid to {made.person_id}), approved on {made.approved_on}.",
        markup=False,
    )
    when = made.month.strftime("%Y-%m")
    if made.rolled:
        ctx.console.print(
            f"The roll of {when} was already made: the next roll takes it.", markup=False
        )
    else:
        ctx.console.print(f"It enters the payment roll of {when}.", markup=False)


@benefits.command("explain")
@click.argument("person_id")
@click.option("--program", required=True, help="The program code, e.g. rural_reward.")
@_month_option
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@json_option
@pass_context
def explain(
    ctx: Context, person_id: str, program: str, month: str, lang: str, as_json: bool
) -> None:
    """Explain why PERSON_ID is or is not entitled under a program for a month (R0.9)."""
    found = _service(ctx).explain(person_id, program, _month(month))
    if as_json:
        echo_json(found.as_dict())
        return
    ctx.console.print(found.as_text(lang), markup=False)


@benefits.command("check")
@_month_option
@click.option("--limit", default=20, show_default=True, help="Findings shown per program.")
@json_option
@pass_context
def check(ctx: Context, month: str, limit: int, as_json: bool) -> None:
    """Check the enrolments against who is entitled (应奖尽奖，不错不漏).

    Lists, per program, those entitled but not enrolled (omissions) and those enrolled but
    not entitled (errors), each with the reason.
    """
    report = _service(ctx).check(_month(month))
    if as_json:
        echo_json(report.as_dict())
        return
    stale = " (the register changed since: run the month again)" if report.stale else ""
    print_table(
        ctx.console,
        f"Completeness of {month} (entitlements from {report.source}){stale}",
        ["program", "entitled", "enrolled", "omissions", "errors", "other category"],
        [
            (
                p.program,
                p.entitled,
                p.enrolled,
                len(p.omissions),
                len(p.errors),
                len(p.category_mismatches),
            )
            for p in report.programs
        ],
    )
    rows = [
        (f.program, f.kind, f.person_id, f.reason)
        for p in report.programs
        for f in (*p.omissions[:limit], *p.errors[:limit], *p.category_mismatches[:limit])
    ]
    if rows:
        print_table(ctx.console, "Findings", ["program", "kind", "person", "why"], rows)
    for person, code in report.unknown[:limit]:
        ctx.console.print(
            f"warning: {person} is enrolled in {code}, which is not a monthly program here",
            markup=False,
        )


@benefits.command("whatif")
@_month_option
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="PROGRAM.PARAM=VALUE",
    help="A proposed value (repeat for several); PROGRAM.PARAM.KEY=VALUE for a table entry.",
)
@click.option(
    "--parameters",
    "files",
    multiple=True,
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A parameter file (YAML) with proposed values and their dates.",
)
@click.option(
    "--from", "start", type=_DATE, default=None, help="Apply --set values from this date."
)
@json_option
@pass_context
def whatif(
    ctx: Context,
    month: str,
    settings: tuple[str, ...],
    files: tuple[Path, ...],
    start: dt.datetime | None,
    as_json: bool,
) -> None:
    """Evaluate a month with proposed parameter values; nothing is stored (政策测算)."""
    report = _service(ctx).whatif(
        _month(month), settings=settings, files=files, start=start.date() if start else None
    )
    if as_json:
        echo_json(report.as_dict())
        return
    for line in report.proposal:
        ctx.console.print(f"proposed: {line}", markup=False)
    print_table(
        ctx.console,
        f"What if, {month}",
        [
            "program",
            "before",
            "amount before",
            "after",
            "amount after",
            "difference",
            "gain",
            "lose",
        ],
        [
            (
                p.program,
                p.before_count,
                _yuan(p.before_fen),
                p.after_count,
                _yuan(p.after_fen),
                _yuan(p.cost_fen),
                p.gainers,
                p.losers,
            )
            for p in report.programs
        ],
    )
    changed = [v for v in report.villages if v.before_fen != v.after_fen]
    if changed:
        print_table(
            ctx.console,
            "By village (hukou division)",
            ["program", "village", "before", "amount before", "after", "amount after"],
            [
                (
                    v.program,
                    v.village or "unknown",
                    v.before_count,
                    _yuan(v.before_fen),
                    v.after_count,
                    _yuan(v.after_fen),
                )
                for v in changed
            ],
        )
    for warning in report.warnings:
        ctx.console.print(f"warning: {warning}", markup=False)


def _yuan(fen: int) -> str:
    from famplan_core.model.money import Money

    return str(Money(fen))
