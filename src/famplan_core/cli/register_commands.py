"""The register's commands: db upgrade, import, export, quarantine, person show."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from pathlib import Path
from typing import Any

import attrs
import click

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.params import DATE, TIME
from famplan_core.model.dates import CHINA_STANDARD_TIME, record_day

__all__ = [
    "actor_option",
    "db",
    "export",
    "import_",
    "now",
    "person",
    "quarantine",
    "status_option",
    "today",
]


CLOCK_VARIABLE = "FAMPLAN_NOW"
"""Fixes the command line's clock (an ISO date-time) for training, tests and replays."""


def today() -> dt.date:
    """Today's date in China: the command line is where the clock is read, never the core.

    The day of `now` in China Standard Time, whatever the machine's time zone, so that a
    default ``--on`` is the record day a notice is posted on (`record_day`).
    """
    return record_day(now())


def now() -> dt.datetime:
    """The record time for a unit of work (UTC): ``FAMPLAN_NOW`` when set, else the clock.

    A fixed clock cannot rewrite the past: the storage refuses a record time before that of
    the latest unit of work, and the audit shows every record time.
    """
    fixed = os.environ.get(CLOCK_VARIABLE, "").strip()
    if not fixed:
        return dt.datetime.now(dt.UTC)
    try:
        at = dt.datetime.fromisoformat(fixed)
    except ValueError:
        raise click.BadParameter(
            f"{CLOCK_VARIABLE}={fixed!r} is not a date-time; expected ISO 8601 with an offset, "
            "e.g. 2026-11-02T09:00:00+08:00",
            param_hint=CLOCK_VARIABLE,
        ) from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=CHINA_STANDARD_TIME)
    return at.astimezone(dt.UTC)


def _default_actor() -> str:
    try:
        return os.environ.get("FAMPLAN_ACTOR") or getpass.getuser()
    except (KeyError, OSError):
        return "famplan"


status_option = click.option(
    "--status",
    type=click.Choice(["open", "discarded", "resolved", "all"]),
    default="open",
    show_default=True,
    help="Which entries: still open, discarded, resolved, or all.",
)
"""The ``--status`` of a list of held entries (quarantined rows, messages held for review)."""


actor_option = click.option(
    "--actor",
    default=_default_actor,
    show_default="FAMPLAN_ACTOR, else your login name",
    help="Who does this: recorded in the audit and the history.",
)


_DATE = DATE


@cli.group()
def db() -> None:
    """The database: create it or bring its schema up to date."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="The schema revision.")
@json_option
@pass_context
def db_upgrade(ctx: Context, revision: str, as_json: bool) -> None:
    """Create the database, or bring its schema to the newest revision (Alembic migrations)."""
    current = ctx.township.upgrade_database(revision)
    url = ctx.township.storage_display_url
    if as_json:
        echo_json({"storage": url, "revision": current})
        return
    ctx.console.print(f"The database {url} is at schema revision {current}.")


@cli.command("import")
@click.argument("folder", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--dry-run", is_flag=True, help="Check and count everything; store nothing.")
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "gb18030"]),
    default=None,
    help="The files' encoding. Default: detected (UTF-8 with or without BOM, then GB18030).",
)
@click.option("--today", "on", type=_DATE, default=None, help="The run's date. Default: today.")
@actor_option
@json_option
@pass_context
def import_(
    ctx: Context,
    folder: Path,
    dry_run: bool,
    encoding: str | None,
    on: dt.datetime | None,
    actor: str,
    as_json: bool,
) -> None:
    """Import a register FOLDER (register format v1): good rows stored, bad rows quarantined.

    Exits 0 when the import ran (even with quarantined rows) and 1 when it was refused.
    """
    summary = ctx.township.import_register(
        folder,
        actor=actor,
        today=on.date() if on else today(),
        recorded_at=now(),
        encoding=encoding,
        dry_run=dry_run,
    )
    if as_json:
        echo_json(summary.as_dict())
        return
    rows = [
        (k.kind, k.rows, k.imported, k.updated, k.unchanged, k.quarantined) for k in summary.kinds
    ]
    rows.append(
        (
            "total",
            sum(k.rows for k in summary.kinds),
            summary.imported,
            summary.updated,
            summary.unchanged,
            summary.quarantined,
        )
    )
    title = "Dry run: nothing was stored" if dry_run else f"Imported {folder}"
    print_table(
        ctx.console,
        title,
        ["kind", "rows", "imported", "updated", "unchanged", "quarantined"],
        rows,
    )
    if summary.changed_nothing and not dry_run:
        again = (
            f" (these files were imported before, as import {summary.previous_import})"
            if summary.previous_import
            else ""
        )
        ctx.console.print(f"Nothing changed: the register already holds these rows{again}.")
    if summary.quarantined and dry_run:
        ctx.console.print(f"{summary.quarantined} bad row(s) would go to quarantine.")
    elif summary.quarantined:
        ctx.console.print(
            f"{summary.quarantined} bad row(s) are in quarantine: see `famplan quarantine list`."
        )
    if summary.resolved:
        ctx.console.print(
            f"{summary.resolved} earlier quarantined row(s) are resolved: fixed rows arrived."
        )
    shown = 5
    for warning in summary.warnings[:shown]:
        ctx.console.print(f"warning: {warning}", markup=False)
    if len(summary.warnings) > shown:
        ctx.console.print(f"... and {len(summary.warnings) - shown} more warning(s): see --json.")


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True
)
@click.option(
    "--encoding",
    type=click.Choice(["utf-8", "utf-8-sig", "gb18030"]),
    default="utf-8",
    show_default=True,
    help="utf-8-sig for Excel, gb18030 for provincial systems that need it.",
)
@json_option
@pass_context
def export(ctx: Context, folder: Path, fmt: str, encoding: str, as_json: bool) -> None:
    """Write the register to FOLDER in the register format, values exactly as stored."""
    written = ctx.township.export_register(folder, fmt=fmt, encoding=encoding)
    if as_json:
        echo_json({"folder": str(folder), "files": written})
        return
    print_table(ctx.console, f"Exported to {folder}", ["file", "rows"], sorted(written.items()))


@cli.group()
def quarantine() -> None:
    """Bad rows kept from imports until they are fixed and re-imported, or discarded."""


def _entry(entry: Any) -> dict[str, Any]:
    row = entry.row
    return {
        "id": entry.id,
        "import_id": entry.import_id,
        "status": entry.status,
        "file": row.file,
        "line": row.line,
        "kind": row.kind,
        "row": dict(row.raw),
        "problems": [attrs.asdict(p) for p in row.problems],
        "recorded_at": entry.recorded_at,
        "closed_at": entry.closed_at,
        "closed_by": entry.closed_by,
    }


@quarantine.command("list")
@status_option
@json_option
@pass_context
def quarantine_list(ctx: Context, status: str, as_json: bool) -> None:
    """List quarantined rows with every reason (file, line, column, value, message)."""
    entries = ctx.township.quarantine(status=None if status == "all" else status)
    if as_json:
        echo_json({"entries": [_entry(e) for e in entries]})
        return
    rows = [
        (e.id, f"{e.row.file}:{e.row.line}", e.status, "\n".join(str(p) for p in e.row.problems))
        for e in entries
    ]
    print_table(
        ctx.console,
        f"Quarantine ({status}): {len(rows)}",
        ["id", "where", "status", "problems"],
        rows,
    )


@quarantine.command("discard")
@click.argument("ids", nargs=-1, type=int, required=True)
@actor_option
@json_option
@pass_context
def quarantine_discard(ctx: Context, ids: tuple[int, ...], actor: str, as_json: bool) -> None:
    """Discard quarantined rows IDS that will not be fixed (recorded with who and when)."""
    count = ctx.township.discard_quarantine(list(ids), actor=actor, recorded_at=now())
    if as_json:
        echo_json({"discarded": count, "ids": list(ids)})
        return
    ctx.console.print(f"Discarded {count} quarantined row(s).")


def _sex(code: str) -> str:
    from famplan_core.model.codes import Sex

    try:
        sex = Sex(code)
    except ValueError:
        return code
    return f"{code} {sex.label_en} ({sex.label_zh})"


def _union(union: Any) -> str:
    text = f"{union.partner_id} from {union.start}"
    if union.end is not None:
        text += f", ended {union.end}" + (f" ({union.end_reason})" if union.end_reason else "")
    return text


@cli.group()
def person() -> None:
    """One person in the register."""


@person.command("show")
@click.argument("person_id")
@click.option("--as-of", type=_DATE, default=None, help="The date of the view. Default: today.")
@click.option(
    "--known-at",
    type=TIME,
    default=None,
    help="Show the register as it was known at this record time (UTC).",
)
@json_option
@pass_context
def person_show(
    ctx: Context,
    person_id: str,
    as_of: dt.datetime | None,
    known_at: dt.datetime | None,
    as_json: bool,
) -> None:
    """Show PERSON_ID as of a date, and the history of every change recorded about them."""
    on = as_of.date() if as_of else today()
    view, history = ctx.township.person(
        person_id, as_of=on, known_at=known_at.replace(tzinfo=dt.UTC) if known_at else None
    )
    if as_json:
        echo_json(
            {
                "person": attrs.asdict(view, recurse=True),
                "history": [attrs.asdict(h, recurse=True) for h in history],
            }
        )
        return
    console = ctx.console
    console.print(f"[bold]{view.name}[/bold] ({view.person_id}) as of {view.date}", highlight=False)
    facts = [
        ("alive", "yes" if view.alive else f"no (died {view.death_date})"),
        ("age", view.age if view.age >= 0 else "not yet born"),
        ("sex", _sex(view.sex)),
        ("hukou", f"{view.hukou_type} {view.hukou_division}" if view.hukou_known else "unknown"),
        ("unions", "; ".join(_union(u) for u in view.unions) or "-"),
        (
            "children",
            "; ".join(f"{c.child_id} ({c.link})" for c in view.children) or "-",
        ),
        ("disability certificates", len(view.disabilities)),
        ("certificates", "; ".join(c.certificate_id for c in view.certificates) or "-"),
    ]
    print_table(console, None, ["fact", "value"], facts)
    print_table(
        console,
        "History",
        ["recorded", "by", "what", "changes"],
        [
            (
                h.recorded_at.strftime("%Y-%m-%d %H:%M"),
                h.actor,
                f"{h.fact_kind} {h.record_kind}",
                "; ".join(f"{k}: {b!r} → {a!r}" for k, (b, a) in h.changes.items()),
            )
            for h in history
        ],
    )
