"""The audit's commands: audit verify, audit accept-break."""

from __future__ import annotations

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context
from famplan_core.cli.register_commands import actor_option, now

__all__ = ["audit"]


def _anchor(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[int, str]]:
    anchors: list[tuple[int, str]] = []
    for value in values:
        entry, _, digest = value.partition(":")
        digest = digest.strip().lower()
        if not (entry.strip().isdigit() and len(digest) == 64 and digest.isascii()) or any(
            c not in "0123456789abcdef" for c in digest
        ):
            raise click.BadParameter(
                f"{value!r}: expected ENTRY:HASH, an audit entry number and its 64 hex digit "
                "hash, e.g. 57:3f2a…, as a roll's footer or a report's register_state gives",
                ctx=ctx,
                param=param,
            )
        anchors.append((int(entry), digest))
    return anchors


@cli.group()
def audit() -> None:
    """The audit (审计): check that nobody changed it, and accept a break to go on."""


@audit.command("verify")
@click.option(
    "--anchor",
    "anchors",
    multiple=True,
    callback=_anchor,
    metavar="ENTRY:HASH",
    help="An audit entry and its hash that the audit must still hold, from a payment roll's "
    "footer or a report's register state (repeatable).",
)
@json_option
@pass_context
def audit_verify(ctx: Context, anchors: list[tuple[int, str]], as_json: bool) -> None:
    """Check the whole audit: every entry's keyed hash and link, every roll's and notice's anchor.

    Exits 0 when the audit is intact (breaks an officer accepted are listed), 1 with the
    first bad entry when it is not.
    """
    report = ctx.township.verify_audit(anchors)
    if as_json:
        echo_json(report.as_dict())
    elif report.problem is None:
        keyed = f", {report.keyed} keyed" if report.keyed else ", none keyed"
        ctx.console.print(
            f"The audit is intact: {report.checked} entries checked{keyed}; "
            f"{report.anchors} anchor(s) from rolls, notices and --anchor found.",
            markup=False,
        )
        for accepted in report.accepted:
            if "anchor" in accepted:
                what = str(accepted["problem"])
            else:
                what = (
                    f"entries {accepted['from_entry']} to {accepted['to_entry']} (accepted by "
                    f"entry {accepted['accepted_by_entry']}, {accepted['actor']}: "
                    f"{accepted['reason']})"
                )
            ctx.console.print(f"  accepted break, not vouched for: {what}", markup=False)
    else:
        problem = report.problem
        ctx.console.print(
            f"The audit is BROKEN at entry {problem.entry}: {problem.message}.", markup=False
        )
        ctx.console.print(
            f"Checked {report.checked} entries. Writes that find the break are refused; an "
            "officer who has looked into it accepts it with `famplan audit accept-break "
            "--reason TEXT` (recorded in the audit).",
            markup=False,
        )
        for other in report.problems[1:]:
            ctx.console.print(f"  also: {other.message}", markup=False)
    if not report.ok:
        click.get_current_context().exit(1)


@audit.command("accept-break")
@click.option(
    "--reason",
    required=True,
    help="Why the office goes on writing over the broken audit (what happened, who was told).",
)
@actor_option
@json_option
@pass_context
def audit_accept_break(ctx: Context, reason: str, actor: str, as_json: bool) -> None:
    """Accept a broken audit and go on writing; the acceptance is itself an audit entry.

    The break is never repaired: later verifications report it as accepted, with who
    accepted it and why, and check every entry from the accepting one on.
    """
    report = ctx.township.accept_audit_break(actor=actor, recorded_at=now(), reason=reason)
    problem = report.problem
    assert problem is not None
    if as_json:
        echo_json({"accepted": report.as_dict(), "actor": actor, "reason": reason.strip()})
        return
    ctx.console.print(
        f"Accepted the break at entry {problem.entry} ({problem.message}); recorded in the "
        f"audit with your reason. Writes are allowed again.",
        markup=False,
    )
