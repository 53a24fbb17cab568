"""`famplan demo`: the whole library at work on a synthetic Guguantun town."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from famplan_core.cli.app import Context, cli, echo_json, json_option, pass_context, print_table
from famplan_core.cli.register_commands import actor_option, now

__all__ = ["demo"]


class _Bars:
    """Rich progress bars for the demo's steps."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.last: TaskID | None = None

    def step(self, name: str, total: int | None = None) -> Callable[[int], None]:
        if self.progress is None:
            return lambda _done: None
        if self.last is not None:
            self.progress.update(self.last, completed=self._total(self.last))
        task_id = self.progress.add_task(name, total=total or 1)
        self.last = task_id
        progress = self.progress
        return lambda done: progress.update(task_id, completed=done)

    def _total(self, task_id: TaskID) -> float:
        assert self.progress is not None
        task = next(t for t in self.progress.tasks if t.id == task_id)
        return task.total or 1

    def finish(self) -> None:
        if self.progress is not None and self.last is not None:
            self.progress.update(self.last, completed=self._total(self.last))


@contextmanager
def _bars(enabled: bool) -> Iterator[_Bars]:
    if not enabled:
        yield _Bars(None)
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        bars = _Bars(progress)
        yield bars
        bars.finish()


@cli.command()
@click.argument(
    "directory", type=click.Path(path_type=Path, file_okay=False), default="demo-township"
)
@click.option("--persons", type=click.IntRange(100, 200_000), default=40_000, show_default=True)
@click.option("--force", is_flag=True, help="Replace a non-empty folder not made by the demo.")
@actor_option
@json_option
@pass_context
def demo(
    ctx: Context, directory: Path, persons: int, force: bool, actor: str, as_json: bool
) -> None:
    """Build the demo township in DIRECTORY (default: demo-township) and run a monthly cycle.

    A deterministic synthetic Guguantun town (371502110, 37 villages) is written in the
    register format, imported (a few deliberately bad rows go to quarantine), and the benefit
    programs are run for its last two months. Running it twice gives the same numbers.
    """
    from famplan_core.demo import build_demo

    started = time.monotonic()
    with _bars(not as_json) as bars:
        result = build_demo(
            directory, actor=actor, recorded_at=now(), persons=persons, force=force, progress=bars
        )
    seconds = time.monotonic() - started
    if as_json:
        echo_json({**result.as_dict(), "seconds": round(seconds, 1)})
        return
    console = ctx.console
    print_table(
        console,
        f"Demo township 顾官屯镇 (371502110) in {directory}",
        ["", ""],
        [
            ("persons imported", result.persons),
            ("households", result.households),
            ("records imported", result.imported),
            ("rows in quarantine", f"{result.quarantined} (see `famplan quarantine list`)"),
            ("months run", ", ".join(result.months)),
        ],
    )
    print_table(
        console,
        f"Benefits for {result.months[-1]}",
        ["program", "项目", "beneficiaries", "amount (yuan)"],
        [(p.program, p.name_zh, p.beneficiaries, p.amount) for p in result.programs],
    )
    print_table(console, "Files", ["what", "where"], sorted(result.files.items()))
    # After `make demo` the command lives in .venv/bin, which may not be on PATH.
    here = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    famplan = "famplan" if shutil.which("famplan") or here is None else str(here)
    console.print(f"Done in {seconds:.1f} s. Try: cd {directory} && {famplan} quarantine list")
