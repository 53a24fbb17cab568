"""The exchange commands (数据交换): ``famplan exchange export|import|status|reconcile|…``.

Each command takes ``--json`` (one JSON document on stdout) and prints tables otherwise. The
clock is read here: the record time of each unit of work and the processing date.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import DATE, TIME
from famplan_core.cli.register_commands import actor_option, now, status_option, today

__all__ = ["exchange", "export", "import_", "reconcile", "request", "review", "send", "status"]

_TODAY = click.option(
    "--today", "on", type=DATE, default=None, help="The processing date. Default: today."
)
"""The date messages are processed as of (ages, checks); the command's today by default."""

_SAID = {"rejected": "refused", "quarantined": "quarantined", "failed": "not read now"}

_TIME = TIME


def _service(ctx: Context) -> Any:
    from famplan_core.exchange.service import ExchangeService

    return ExchangeService.for_township(ctx.township)


@cli.group()
def exchange() -> None:
    """Exchange with the province and other townships: batches, receipts, reconciliation."""


@exchange.command("export")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="DIVISION",
    help="The receiver's division code (37 for the province).",
)
@click.option(
    "--since",
    type=_TIME,
    default=None,
    metavar="TIME",
    help="Only what was recorded at or after this local time (YYYY-MM-DD[THH:MM:SS]).",
)
@click.option(
    "--format", "fmt", default=None, help="The exchange format. Default: from famplan.toml."
)
@actor_option
@json_option
@pass_context
def export(
    ctx: Context, to: str, since: dt.datetime | None, fmt: str | None, actor: str, as_json: bool
) -> None:
    """Make one batch of everything due to DIVISION, and send it.

    Due: moves into a township, roll changes and totals for the province, and queued
    verification requests and answers, never sent before. The batch stays in the outbox
    until a send succeeds.
    """
    summary = _service(ctx).export(
        to,
        actor=actor,
        recorded_at=now(),
        since=since.astimezone(dt.UTC) if since else None,
        fmt=fmt,
    )
    if as_json:
        echo_json(summary.as_dict())
        return
    if summary.batch_id is None:
        ctx.console.print(f"Nothing is due to {to}.")
    else:
        print_table(
            ctx.console,
            f"Batch {summary.batch_id} to {to}",
            ["message type", "messages"],
            sorted(summary.messages.items()),
        )
        ctx.console.print(
            "Sent."
            if summary.sent
            else "Not sent yet: it waits in the outbox (see `famplan exchange status`)."
        )
    for warning in summary.warnings:
        ctx.console.print(f"warning: {warning}", markup=False)


@exchange.command("import")
@click.argument(
    "path", required=False, type=click.Path(path_type=Path, exists=True, file_okay=False)
)
@_TODAY
@actor_option
@json_option
@pass_context
def import_(
    ctx: Context, path: Path | None, on: dt.datetime | None, actor: str, as_json: bool
) -> None:
    """Import a batch or receipt PATH, or a folder of them; without PATH, the inbox.

    Each parcel is taken on its own and every parcel's outcome is reported. Each message is
    applied or quarantined with its reasons, the rest in one transaction, and a receipt goes
    back. A batch seen before changes nothing. A parcel holding a symbolic link, a folder, a
    device or a FIFO is quarantined unread; one that cannot be read now stays in the inbox.
    Exits 1 when a parcel was refused whole (a damaged file, a conflict), quarantined or
    could not be read, 0 otherwise.
    """
    service = _service(ctx)
    day = on.date() if on else today()
    if path is None:
        outcomes = service.receive(actor=actor, recorded_at=now(), today=day)
    else:
        outcomes = service.import_path(path, actor=actor, recorded_at=now(), today=day)
        service.flush_outbox(actor=actor, recorded_at=now())
    refused = [o for o in outcomes if o.status in ("rejected", "quarantined", "failed")]
    if as_json:
        echo_json({"parcels": [o.as_dict() for o in outcomes]})
    else:
        print_table(
            ctx.console,
            f"Imported {len(outcomes)} parcel(s)",
            ["parcel", "status", "applied", "quarantined", "seen before"],
            [(o.parcel, o.status, o.applied, o.quarantined, o.duplicates) for o in outcomes],
        )
        for o in refused:
            for reason in o.reasons[:5]:
                ctx.console.print(f"{_SAID[o.status]} {o.parcel}: {reason}", markup=False)
        if any(o.quarantined for o in outcomes):
            ctx.console.print("Quarantined messages: see `famplan exchange review list`.")
    if refused:
        sys.exit(1)


@exchange.command("status")
@json_option
@pass_context
def status(ctx: Context, as_json: bool) -> None:
    """The ledger's counts, the outbox, the latest batches and the exchange's quarantine."""
    report = _service(ctx).status()
    if as_json:
        echo_json(report.as_dict())
        return
    rows = [
        (group, outcome, n)
        for group, counts in sorted(report.counts.items())
        for outcome, n in sorted(counts.items())
    ]
    print_table(ctx.console, "Ledger", ["what", "outcome", "count"], rows)
    print_table(
        ctx.console,
        "Outbox",
        ["parcel", "to", "status", "attempts", "last error"],
        [(e.parcel, e.receiver, e.status, e.attempts, e.last_error) for e in report.outbox],
    )
    print_table(
        ctx.console,
        "Latest batches",
        ["batch", "direction", "partner", "status", "messages"],
        [(b.batch_id, b.direction, b.partner, b.status, b.message_count) for b in report.batches],
    )
    print_table(
        ctx.console,
        f"Quarantined messages: {len(report.quarantine)}",
        ["id", "where", "type", "problems"],
        [
            (
                q.id,
                f"{q.row.file}:{q.row.line}",
                q.row.raw.get("message_type") or "",
                "\n".join(str(p) for p in q.row.problems),
            )
            for q in report.quarantine
        ],
    )


@exchange.command("reconcile")
@click.argument("snapshot_dir", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option(
    "--limit", default=20, show_default=True, help="Rows shown per list (all with --json)."
)
@json_option
@pass_context
def reconcile(ctx: Context, snapshot_dir: Path, limit: int, as_json: bool) -> None:
    """Compare the register with a provincial snapshot SNAPSHOT_DIR (register format).

    Reports rows missing from the register, rows the snapshot lacks, and every differing
    field. Nothing is written.
    """
    report = _service(ctx).reconcile(snapshot_dir, today=today())
    if as_json:
        echo_json(report.as_dict())
        return
    print_table(
        ctx.console,
        f"Reconciliation with {snapshot_dir}",
        ["kind", "compared", "missing", "extra", "differing fields", "unreadable"],
        [
            (k.kind, k.compared, len(k.missing), len(k.extra), len(k.differing), k.unreadable)
            for k in report.kinds
        ],
    )
    for k in report.kinds:
        for label, keys in (
            ("missing from the register", k.missing),
            ("not in the snapshot", k.extra),
        ):
            for key in keys[:limit]:
                ctx.console.print(f"{k.kind} {'/'.join(key)}: {label}", markup=False)
        for d in k.differing[:limit]:
            ctx.console.print(
                f"{k.kind} {'/'.join(d.key)} {d.field}: register {d.register!r}, "
                f"snapshot {d.snapshot!r}",
                markup=False,
            )
    ctx.console.print(
        "The register agrees with the snapshot." if report.agrees else "Differences found."
    )


@exchange.command("request")
@click.argument("person_id")
@click.option("--program", required=True, help="The program whose rules need the answer.")
@click.option(
    "--to",
    "to",
    default=None,
    metavar="DIVISION",
    help="The township to ask. Default: the one the person moved from.",
)
@actor_option
@json_option
@pass_context
def request(
    ctx: Context, person_id: str, program: str, to: str | None, actor: str, as_json: bool
) -> None:
    """Ask the township PERSON_ID moved from to verify their children (协查), and send it."""
    service = _service(ctx)
    queued = service.request_verification(
        person_id, program=program, to=to, actor=actor, recorded_at=now()
    )
    summary = service.export(queued.to, actor=actor, recorded_at=now())
    if as_json:
        echo_json({"message_id": queued.message.id, "to": queued.to, "export": summary.as_dict()})
        return
    ctx.console.print(
        f"Asked {queued.to} about {person_id} for {program} (message {queued.message.id})."
    )


@exchange.command("send")
@click.option(
    "--resend-after",
    type=int,
    default=None,
    metavar="HOURS",
    help="Also send again the batches sent more than HOURS ago that got no receipt.",
)
@actor_option
@json_option
@pass_context
def send(ctx: Context, resend_after: int | None, actor: str, as_json: bool) -> None:
    """Send what waits in the outbox (a failed send is tried again here)."""
    service = _service(ctx)
    again = 0
    if resend_after is not None:
        again = service.resend_unacknowledged(
            actor=actor, recorded_at=now(), older_than=now() - dt.timedelta(hours=resend_after)
        )
    sent, failed = service.flush_outbox(actor=actor, recorded_at=now())
    if as_json:
        echo_json({"sent": sent, "failed": failed, "resent": again})
        return
    ctx.console.print(f"Sent {sent} parcel(s); {failed} failed and stay in the outbox.")


def _review(ctx: Context) -> Any:
    from famplan_core.exchange.review import ExchangeReview

    service = _service(ctx)
    return ExchangeReview(service.storage, division=service.division)


@exchange.group("review")
def review() -> None:
    """Received messages held for review (the office only): list, show, apply or discard.

    A message that does not match the register (an unknown person, another name or birth
    date, a move from a division the person never held, a child born before its parent) is
    held; the officer compares both versions and decides, with a reason kept in the audit.
    """


_REASON = click.option(
    "--reason", required=True, help="Why this decision (kept in the audit entry)."
)


@review.command("list")
@status_option
@json_option
@pass_context
def review_list(ctx: Context, status: str, as_json: bool) -> None:
    """List the held messages with every reason found."""
    held = _review(ctx).entries(status=None if status == "all" else status)
    if as_json:
        echo_json({"messages": [h.as_dict() for h in held]})
        return
    print_table(
        ctx.console,
        f"Held messages ({status}): {len(held)}",
        ["id", "from", "type", "status", "problems"],
        [
            (h.id, h.partner, h.message_type, h.status, "\n".join(str(p) for p in h.problems))
            for h in held
        ],
    )


@review.command("show")
@click.argument("entry_id", metavar="ID", type=int)
@json_option
@pass_context
def review_show(ctx: Context, entry_id: int, as_json: bool) -> None:
    """Show held message ID: what the register holds beside what the message says."""
    held = _review(ctx).show(entry_id)
    if as_json:
        echo_json(held.as_dict())
        return
    ctx.console.print(
        f"{held.message_type} message {held.message_id} from {held.partner} "
        f"(batch {held.batch_id}), {held.status}",
        markup=False,
    )
    for problem in held.problems:
        ctx.console.print(f"  {problem}", markup=False)
    for side in held.sides:
        print_table(
            ctx.console,
            f"{side.role}: {side.person_id or 'not in the register'}",
            ["field", "register", "message", ""],
            [(f, r, m, "" if not r or not m or r == m else "differs") for f, r, m in side.fields],
        )


@review.command("apply")
@click.argument("entry_id", metavar="ID", type=int)
@_REASON
@_TODAY
@actor_option
@json_option
@pass_context
def review_apply(
    ctx: Context, entry_id: int, reason: str, on: dt.datetime | None, actor: str, as_json: bool
) -> None:
    """Apply held message ID: the message's version replaces the register's."""
    done = _review(ctx).apply(
        entry_id,
        reason=reason,
        actor=actor,
        recorded_at=now(),
        today=on.date() if on else today(),
    )
    if as_json:
        echo_json(
            {
                "id": entry_id,
                "decision": "apply",
                "message_id": done.message_id,
                "from": done.partner,
                "subject": done.subject,
                "stored": {k: list(v) for k, v in done.stored.items()},
                "replies": dict(done.replies),
            }
        )
        return
    ctx.console.print(
        f"Applied message {done.message_id} from {done.partner}"
        + (f" to {done.subject}." if done.subject else "."),
        markup=False,
    )


@review.command("discard")
@click.argument("entry_id", metavar="ID", type=int)
@_REASON
@actor_option
@json_option
@pass_context
def review_discard(ctx: Context, entry_id: int, reason: str, actor: str, as_json: bool) -> None:
    """Discard held message ID: the register stays as it is."""
    held = _review(ctx).discard(entry_id, reason=reason, actor=actor, recorded_at=now())
    if as_json:
        echo_json(
            {
                "id": entry_id,
                "decision": "discard",
                "message_id": held.message_id,
                "from": held.partner,
            }
        )
        return
    ctx.console.print(f"Discarded message {held.message_id} from {held.partner}.", markup=False)
