"""The public notice commands (公示): ``famplan notice draft|post|object|decide|close|...``.

``draft`` lists a month's new beneficiaries (or hardship grants) at one level; ``post``
posts a draft for its window; ``object`` records an objection received during the window;
``decide`` upholds or dismisses it; ``close`` closes a notice after its window once every
objection is decided; ``withdraw`` takes a notice down; ``render`` writes it as HTML, PDF,
a static site or CSV; ``list`` and ``show`` read them. Each command takes ``--json``.
Dates default to today (the command line reads the clock; the core never does).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import DATE, MONTH
from famplan_core.cli.register_commands import actor_option, now, today

__all__ = [
    "close",
    "decide",
    "draft",
    "list_",
    "notice",
    "object_",
    "post",
    "render",
    "show",
    "withdraw",
]

_DATE = DATE


def _total_text(content: Any, *, short: bool = False) -> str:
    """The notice's total as the public sees it: none when an amount is withheld."""
    shown = content.shown_total
    if shown is None:
        return "withheld" if short else "total withheld (an amount would reveal a category)"
    return str(shown) if short else f"{shown} in all"


def _service(ctx: Context) -> Any:
    from famplan_core.notices import NoticeService

    return NoticeService.for_township(ctx.township)


def _day(value: dt.datetime | None) -> dt.date:
    return value.date() if value is not None else today()


def _print_notice(ctx: Context, found: Any, *, lines: bool = False) -> None:
    content = found.content
    window = (
        f"{found.window_start} to {found.window_end}"
        if found.window_start is not None
        else "not posted"
    )
    ctx.console.print(
        f"Notice {found.notice_id} ({found.state}): {content.title} — {content.level_name} "
        f"{content.scope_name}{found.place}; window {window}; {content.count} line(s), "
        f"{_total_text(content)}.",
        markup=False,
    )
    if lines:
        print_table(
            ctx.console,
            "Lines (internal: person ids are not published)",
            ["line", "program", "month", "person", "amount", "listed", "status"],
            [
                (
                    x.line_no,
                    x.program,
                    x.month.strftime("%Y-%m"),
                    x.person_id,
                    str(x.corrected_amount or x.amount),
                    "yes" if x.published else "no (child under 14)",
                    x.status,
                )
                for x in found.lines
            ],
        )
        if found.objections:
            print_table(
                ctx.console,
                "Objections",
                ["objection", "line", "received", "channel", "status", "reason", "decided by"],
                [
                    (
                        o.objection_id,
                        o.line_no or "",
                        o.received_on,
                        o.channel,
                        o.status,
                        o.reason or "",
                        o.decided_by or "",
                    )
                    for o in found.objections
                ],
            )
    _print_settlement(ctx, found.settlement)


def _print_settlement(ctx: Context, settlement: Any) -> None:
    """One line per month: the arrears (补发) and recoveries (追回) stored for the next roll."""
    from famplan_core.model.money import Money

    by_month: dict[dt.date, list[Any]] = {}
    for month, amount in settlement:
        by_month.setdefault(month, []).append(amount)
    for month, amounts in sorted(by_month.items()):
        for label, chosen in (
            ("arrears", [a for a in amounts if a.fen > 0]),
            ("recovery", [a for a in amounts if a.fen < 0]),
        ):
            if chosen:
                total = Money(sum(a.fen for a in chosen))
                ctx.console.print(
                    f"{label} for {month.strftime('%Y-%m')}: {len(chosen)} line(s), {total} "
                    "(in the next payment roll)",
                    markup=False,
                )


@cli.group()
def notice() -> None:
    """Public notices (公示): draft, post, object, decide, close, render."""


@notice.command("draft")
@click.option("--month", type=MONTH, required=True, help="The month of the run, as YYYY-MM.")
@click.option(
    "--level",
    type=click.Choice(["township", "village", "group"]),
    required=True,
    help="township: one notice; village: one per village; group: one for --scope/--place.",
)
@click.option("--scope", default=None, help="Only this village (12-digit code).")
@click.option("--place", default="", help="The village group's name, e.g. 第三村民小组.")
@click.option(
    "--subject",
    type=click.Choice(["new_beneficiaries", "hardship_grants"]),
    default="new_beneficiaries",
    show_default=True,
    help="What the notice lists.",
)
@actor_option
@json_option
@pass_context
def draft(
    ctx: Context,
    month: str,
    level: str,
    scope: str | None,
    place: str,
    subject: str,
    actor: str,
    as_json: bool,
) -> None:
    """Draft the notices of a month; their lines are held from payment until closed."""
    from famplan_core.benefits import parse_month

    made = _service(ctx).draft(
        parse_month(month, path="--month"),
        level=level,
        scope=scope,
        place=place,
        subject=subject,
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json({"notices": [n.as_dict(lines=False) for n in made]})
        return
    if not made:
        ctx.console.print(f"Nothing new to notice for {month} at {level} level.", markup=False)
        return
    print_table(
        ctx.console,
        f"Notices drafted for {month} ({level})",
        ["notice", "scope", "rows", "withheld", "total"],
        [
            (
                n.notice_id,
                n.content.scope_name + n.place,
                len(n.content.rows),
                sum(w.count for w in n.content.withheld),
                _total_text(n.content, short=True),
            )
            for n in made
        ],
    )


@notice.command("post")
@click.argument("notice_id", type=int)
@click.option(
    "--on", "on", type=_DATE, default=None, help="Day it went up (default and normally today)."
)
@click.option("--audience", default="", help="Where it is shown, e.g. 王庄村村务公开栏.")
@click.option(
    "--backdate-reason",
    default="",
    help="Why a notice that went up on an earlier --on is recorded late (audited).",
)
@actor_option
@json_option
@pass_context
def post(
    ctx: Context,
    notice_id: int,
    on: dt.datetime | None,
    audience: str,
    backdate_reason: str,
    actor: str,
    as_json: bool,
) -> None:
    """Post a drafted notice for its window ([notices] window_days, 7 by default).

    The window runs from the day it is posted; an earlier --on needs --backdate-reason and
    does not shorten the window.
    """
    found = _service(ctx).post(
        notice_id,
        on=_day(on),
        audience=audience,
        backdate_reason=backdate_reason,
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json(found.as_dict(lines=False))
        return
    _print_notice(ctx, found)


@notice.command("object")
@click.argument("notice_id", type=int)
@click.option("--line", type=int, default=None, help="The row number on the notice.")
@click.option("--by", "objector", required=True, help="Who raised it (匿名 if anonymous).")
@click.option(
    "--channel",
    type=click.Choice(["in_person", "phone", "box"]),
    required=True,
    help="How it came in.",
)
@click.option("--content", required=True, help="What it says.")
@click.option("--received-on", "received_on", type=_DATE, default=None, help="Default today.")
@actor_option
@json_option
@pass_context
def object_(
    ctx: Context,
    notice_id: int,
    line: int | None,
    objector: str,
    channel: str,
    content: str,
    received_on: dt.datetime | None,
    actor: str,
    as_json: bool,
) -> None:
    """Record an objection to NOTICE_ID received during its window; it opens a review."""
    made = _service(ctx).object(
        notice_id,
        line=line,
        objector=objector,
        channel=channel,
        content=content,
        received_on=_day(received_on),
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json(made.as_dict())
        return
    ctx.console.print(
        f"Objection {made.objection_id} to notice {notice_id}"
        + (f", line {made.line_no}" if made.line_no is not None else "")
        + ": under review.",
        markup=False,
    )


@notice.command("decide")
@click.argument("objection_id", type=int)
@click.option("--upheld", "decision", flag_value="upheld", help="The objection is right.")
@click.option("--dismissed", "decision", flag_value="dismissed", help="It is not.")
@click.option("--reason", required=True, help="Why it is decided so.")
@click.option(
    "--amount",
    default=None,
    help="Upheld: the corrected amount in yuan (omit to withdraw the payment).",
)
@click.option("--on", "on", type=_DATE, default=None, help="Day of the decision (default today).")
@actor_option
@json_option
@pass_context
def decide(
    ctx: Context,
    objection_id: int,
    decision: str | None,
    reason: str,
    amount: str | None,
    on: dt.datetime | None,
    actor: str,
    as_json: bool,
) -> None:
    """Decide OBJECTION_ID: --upheld (withdraw, or correct with --amount) or --dismissed."""
    if decision is None:
        raise click.UsageError("say --upheld or --dismissed")
    made = _service(ctx).decide(
        objection_id,
        decision=decision,
        reason=reason,
        amount=amount,
        decided_on=_day(on),
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json(made.as_dict())
        return
    what = {
        "withdraw": "the payment is withdrawn",
        "correct": f"the amount is corrected to {made.corrected_amount}",
        None: "the line stays held until the notice closes",
    }[made.outcome]
    ctx.console.print(
        f"Objection {made.objection_id}: {made.status} by {made.decided_by} on "
        f"{made.decided_on}; {what}.",
        markup=False,
    )
    _print_settlement(ctx, made.settlement)


@notice.command("close")
@click.argument("notice_id", type=int)
@click.option("--on", "on", type=_DATE, default=None, help="Closing day (default today).")
@actor_option
@json_option
@pass_context
def close(ctx: Context, notice_id: int, on: dt.datetime | None, actor: str, as_json: bool) -> None:
    """Close NOTICE_ID after its window, once its objections are decided; release its lines."""
    found = _service(ctx).close(notice_id, on=_day(on), actor=actor, recorded_at=now())
    if as_json:
        echo_json(found.as_dict(lines=False))
        return
    _print_notice(ctx, found)


@notice.command("withdraw")
@click.argument("notice_id", type=int)
@click.option("--reason", required=True, help="Why it is withdrawn.")
@actor_option
@json_option
@pass_context
def withdraw(ctx: Context, notice_id: int, reason: str, actor: str, as_json: bool) -> None:
    """Withdraw NOTICE_ID (a draft or posted notice): it is taken down."""
    found = _service(ctx).withdraw(notice_id, reason=reason, actor=actor, recorded_at=now())
    if as_json:
        echo_json(found.as_dict(lines=False))
        return
    _print_notice(ctx, found)


@notice.command("render")
@click.argument("notice_id", type=int)
@click.option(
    "--format", "fmt", required=True, help="html, pdf, site (plugin famplan-notice-html) or csv."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="The folder to write into.",
)
@click.option("--paper", type=click.Choice(["A4", "A3"]), default="A4", show_default=True)
@click.option("--audience", default="", help="Where the files are shown, e.g. 镇政府网站.")
@actor_option
@json_option
@pass_context
def render(
    ctx: Context,
    notice_id: int,
    fmt: str,
    out: Path,
    paper: str,
    audience: str,
    actor: str,
    as_json: bool,
) -> None:
    """Render NOTICE_ID as it shows now; each file's SHA-256 is recorded."""
    files = _service(ctx).render(
        notice_id,
        fmt,
        out,
        paper=paper,
        audience=audience,
        on=today(),
        actor=actor,
        recorded_at=now(),
    )
    if as_json:
        echo_json({"notice_id": notice_id, "format": fmt, "files": [str(p) for p in files]})
        return
    for path in files:
        ctx.console.print(f"Wrote {path}", markup=False)


@notice.command("list")
@click.option("--month", type=MONTH, default=None, help="Only this month (YYYY-MM).")
@json_option
@pass_context
def list_(ctx: Context, month: str | None, as_json: bool) -> None:
    """List the notices, newest first."""
    found = _service(ctx).notices(month=month)
    if as_json:
        echo_json({"notices": [n.as_dict(lines=False) for n in found]})
        return
    print_table(
        ctx.console,
        "Notices",
        ["notice", "month", "level", "scope", "state", "window", "rows", "total"],
        [
            (
                n.notice_id,
                n.month.strftime("%Y-%m"),
                n.level,
                n.content.scope_name + n.place,
                n.state,
                f"{n.window_start} to {n.window_end}" if n.window_start else "",
                n.content.count,
                _total_text(n.content, short=True),
            )
            for n in found
        ],
    )


@notice.command("show")
@click.argument("notice_id", type=int)
@json_option
@pass_context
def show(ctx: Context, notice_id: int, as_json: bool) -> None:
    """Show NOTICE_ID with its lines and objections (an office view, not for posting)."""
    found = _service(ctx).get(notice_id)
    if as_json:
        echo_json(found.as_dict())
        return
    _print_notice(ctx, found, lines=True)
