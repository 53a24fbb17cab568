"""The demo township (示范镇): the whole library at work on a synthetic Guguantun town.

`build_demo` makes a deployment in a folder, writes a deterministic synthetic register in
the register format, imports it through the public path (a few deliberately bad rows go to
quarantine), runs the benefit programs for the register's last two months, stores the
entitlements with their decision records, and writes the payment rolls. The register's own
date fixes every month used, so running the demo twice gives the same numbers.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import attrs

from famplan_core.config import CONFIG_FILE, load_config, render_config
from famplan_core.errors import ConfigurationError
from famplan_core.files import private_folder, private_writer, write_private
from famplan_core.model.dates import record_day
from famplan_core.plugin_manager import PluginManager
from famplan_core.synthetic import SyntheticSpec, generate, write_register
from famplan_core.township import Township

__all__ = [
    "DEMO_DIVISION",
    "DEMO_NAME",
    "DemoResult",
    "Progress",
    "build_demo",
]

DEMO_DIVISION = "371502110"
"""Guguantun town (顾官屯镇), Dongchangfu district, Liaocheng, Shandong (NBS statistical code)."""
DEMO_NAME = "顾官屯镇"
DEMO_AS_OF = dt.date(2026, 11, 1)
NEIGHBOUR_DIVISION = "371502115"
"""Hanji town (韩集镇), the neighbour the demo's moving family goes to."""
MOVE_DATE = dt.date(2026, 11, 15)
"""After the demo's last evaluation date, so the move changes none of its figures (R0.5)."""
"""The synthetic register's date: the demo's months are the two that end with it."""
MARKER = ".famplan-demo"


class Progress(Protocol):
    """Where the demo reports its steps (the command line draws progress bars)."""

    def step(self, name: str, total: int | None = None) -> Callable[[int], None]:
        """Start a step; returns a function to call with the amount of work just done."""


class _Silent:
    def step(self, name: str, total: int | None = None) -> Callable[[int], None]:
        return lambda _done: None


@attrs.frozen(kw_only=True)
class ProgramFigures:
    """One program's figures for a month.

    Attributes:
        program: the program code.
        name_zh: its Chinese name.
        beneficiaries: entitled persons.
        amount: the month's total, in yuan with two decimals.
    """

    program: str
    name_zh: str
    beneficiaries: int
    amount: str


@attrs.frozen(kw_only=True)
class DemoResult:
    """What the demo made, and where.

    Attributes:
        folder: the deployment folder.
        persons: persons stored in the register.
        households: households stored in the register.
        imported: records imported.
        quarantined: bad rows set aside in quarantine.
        months: the months run.
        programs: per program, the figures of the last month.
        files: the files written, by what they are.
    """

    folder: Path
    persons: int
    households: int
    imported: int
    quarantined: int
    months: tuple[str, ...]
    programs: tuple[ProgramFigures, ...]
    files: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """The result as JSON-able data."""
        data = attrs.asdict(self)
        data["folder"] = str(self.folder)
        return data


def _prepare(folder: Path, force: bool) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists() and not force:
            raise ConfigurationError(
                f"{folder} is not empty and was not made by `famplan demo`; choose another "
                "folder, or pass --force to replace it"
            )
        shutil.rmtree(folder)
    private_folder(folder)
    write_private(folder / MARKER, "made by `famplan demo`; safe to delete\n")


def build_demo(
    folder: Path,
    *,
    actor: str,
    recorded_at: dt.datetime,
    persons: int = 40_000,
    force: bool = False,
    progress: Progress | None = None,
    run_month: Callable[[Township, str], Any] | None = None,
) -> DemoResult:
    """Build the demo township in `folder`.

    Args:
        folder: where to build it; replaced when an earlier demo made it.
        actor: who runs the demo (recorded in the audit).
        recorded_at: the record time of its units of work.
        persons: the register's size (about 40,000 for a town of 37 villages).
        force: replace a non-empty folder not made by the demo.
        progress: where to report the steps.
        run_month: how to run (and roll) one month; the default stores a run and writes
            the month's payment roll under ``rolls/``.

    Raises:
        ConfigurationError: the folder holds something else.
    """
    report = progress or _Silent()
    _prepare(folder, force)
    installed = {i.name: i.enabled for i in PluginManager.assemble().plugins() if not i.default}
    write_private(
        folder / CONFIG_FILE,
        render_config(division=DEMO_DIVISION, name=DEMO_NAME, plugins=installed),
    )
    township = Township(load_config(folder / CONFIG_FILE))
    township.upgrade_database()

    tick = report.step("Generating the synthetic register", 3)
    register = generate(
        SyntheticSpec(
            persons=persons, division=DEMO_DIVISION, villages=37, as_of=DEMO_AS_OF, bad_rows=8
        )
    )
    tick(1)
    register_folder = folder / "register"
    write_register(register, register_folder)
    tick(2)

    tick = report.step("Importing the register (checking every row)", 1)
    summary = township.import_register(
        register_folder, actor=actor, today=DEMO_AS_OF, recorded_at=recorded_at
    )
    tick(1)

    months = tuple(
        f"{d:%Y-%m}" for d in (dt.date(DEMO_AS_OF.year, DEMO_AS_OF.month - 1, 1), DEMO_AS_OF)
    )

    def runner(township: Township, month: str) -> Any:
        if run_month is not None:
            return run_month(township, month)
        return _run_and_roll(
            township, month, actor=actor, recorded_at=recorded_at, notices=month == months[-1]
        )

    figures: tuple[ProgramFigures, ...] = ()
    files: dict[str, str] = {
        "register": str(register_folder),
        "database": township.storage_display_url,
    }
    tick = report.step("Running the benefit programs", len(months))
    for index, month in enumerate(months, start=1):
        outcome = runner(township, month)
        figures = outcome["figures"]
        files.update(outcome.get("files", {}))
        tick(index)
    if run_month is None:
        tick = report.step("Writing the year's public reports", 1)
        files.update(_reports(township, f"{DEMO_AS_OF.year}"))
        tick(1)
        tick = report.step("Sending a family's move to 韩集镇", 1)
        files.update(
            _move_a_family(township, register_folder, actor=actor, recorded_at=recorded_at)
        )
        tick(1)
    stored = {k.kind: k.imported + k.updated + k.unchanged for k in summary.kinds}
    return DemoResult(
        folder=folder,
        persons=stored.get("persons", 0),
        households=stored.get("households", 0),
        imported=summary.imported,
        quarantined=summary.quarantined,
        months=months,
        programs=figures,
        files=files,
    )


def _run_and_roll(
    township: Township,
    month: str,
    *,
    actor: str,
    recorded_at: dt.datetime,
    notices: bool = False,
) -> dict[str, Any]:
    """Run the benefit programs for `month`, store the entitlements, and write its roll.

    With `notices`, the month's new beneficiaries are first posted at village level
    (三级公示): their lines are held as pending in the roll until the window closes.
    """
    from famplan_core.benefits import write_roll_csv

    service = township.benefits
    service.run(month, actor=actor, recorded_at=recorded_at)
    files: dict[str, str] = {}
    if notices:
        files.update(_post_notices(township, month, actor=actor, recorded_at=recorded_at))
    roll = service.roll(month, actor=actor, recorded_at=recorded_at)
    rolls = township.config.folder / "rolls"
    private_folder(rolls)
    path = rolls / f"roll-{month}.csv"
    write_roll_csv(roll, path)
    programs = township.plugins.programs()
    beneficiaries: dict[str, set[str]] = {}
    for line in roll.lines:
        beneficiaries.setdefault(line.program, set()).add(line.person_id)
    figures = tuple(
        ProgramFigures(
            program=total.program,
            name_zh=programs[total.program].name_zh if total.program in programs else "",
            beneficiaries=len(beneficiaries.get(total.program, ())),
            amount=str(total.amount),
        )
        for total in sorted(roll.totals, key=lambda t: t.program)
    )
    files[f"payment roll {month}"] = str(path)
    return {"figures": figures, "files": files}


def _post_notices(
    township: Township, month: str, *, actor: str, recorded_at: dt.datetime
) -> dict[str, str]:
    """Draft and post the village notices of `month` today; print the first village's A4 board."""
    service = township.notices
    posted_on = record_day(recorded_at)  # a notice is posted on the day it goes up
    drafted = service.draft(month, level="village", actor=actor, recorded_at=recorded_at)
    for notice in drafted:
        service.post(notice.notice_id, on=posted_on, actor=actor, recorded_at=recorded_at)
    if not drafted:
        return {}
    folder = township.config.folder / "notices"
    fmt = "html" if "html" in service.formats() else service.formats()[0]
    paths = service.render(
        drafted[0].notice_id, fmt, folder, on=posted_on, actor=actor, recorded_at=recorded_at
    )
    return {
        f"notices {month}": f"{len(drafted)} village notice(s) posted {posted_on}",
        "notice board (first village)": str(paths[0]),
    }


def _reports(township: Township, year: str) -> dict[str, str]:
    """The year's public report set, as an HTML page (when installed) and CSV."""
    folder = township.config.folder / "reports"
    private_folder(folder)
    report = township.report("all", period=year, public=True)
    written = {}
    for fmt in ("html", "csv"):
        if fmt not in township.plugins.report_renderers():
            continue
        path = folder / f"report-{year}.{fmt}"
        write_private(path, township.render_report(report, fmt))
        written[f"report {year} ({fmt})"] = str(path)
    return written


def _move_a_family(
    township: Township, register_folder: Path, *, actor: str, recorded_at: dt.datetime
) -> dict[str, str]:
    """Record one family's hukou move to Hanji town and send Hanji the batch (双向管理)."""
    import csv

    with (register_folder / "persons.csv").open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["household_id"] and r["person_id"][0] != "B"]
    with (register_folder / "hukou_changes.csv").open(encoding="utf-8", newline="") as handle:
        with_history = {r["person_id"] for r in csv.DictReader(handle)}
    alive = [r for r in rows if not r["death_date"] and r["citizen_id"]]
    household = next(
        h
        for h in sorted({r["household_id"] for r in alive})
        if sum(r["household_id"] == h for r in alive) >= 3
        and not any(r["household_id"] == h and r["person_id"] in with_history for r in rows)
    )
    family = [r for r in alive if r["household_id"] == household]
    update = township.config.folder / "exchange-demo-move"
    private_folder(update)
    new_division = f"{NEIGHBOUR_DIVISION}201"
    with private_writer(update / "hukou_changes.csv", newline="") as handle:
        changes = csv.writer(handle)
        changes.writerow(["person_id", "date", "hukou_division", "hukou_type"])
        for row in family:
            # R0.5: the hukou held until the move, recorded from birth, then the move.
            changes.writerow(
                [row["person_id"], row["birth_date"], row["hukou_division"], row["hukou_type"]]
            )
            changes.writerow(
                [row["person_id"], MOVE_DATE.isoformat(), new_division, row["hukou_type"]]
            )
    with private_writer(update / "persons.csv", newline="") as handle:
        persons = csv.DictWriter(handle, fieldnames=list(family[0]))
        persons.writeheader()
        for row in family:
            persons.writerow({**row, "hukou_division": new_division})
    township.import_register(update, actor=actor, today=DEMO_AS_OF, recorded_at=recorded_at)
    sent = township.exchange.export(NEIGHBOUR_DIVISION, actor=actor, recorded_at=recorded_at)
    return {
        "exchange batch to 韩集镇": (
            f"{sum(sent.messages.values())} message(s) about household {household}'s move, "
            f"in {township.config.folder / 'exchange'}"
        )
    }
