# mypy: disable-error-code="empty-body"
# (Hook specs are signatures with docstrings; pluggy never calls their bodies.)
"""Every ``famplan_*`` hook: what a plugin may implement, and when each is called.

A plugin is a module (or object) with functions marked by `famplan_core.hookimpl` whose
names are hook names below. Hooks are always called with keyword arguments, and an
implementation may accept fewer arguments than the spec lists: arguments may be added in
later versions, never removed.

Registration hooks return *classes* (or, for policy, program and parameter objects) that
carry a ``PLUGIN_NAME`` (for programs, a ``code``); `famplan.toml` picks one by that name,
and two plugins claiming one name fail at start-up with both named.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pluggy

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "famplan"
"""The pluggy project name, and the entry-point group plugins are published under."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- storage -----------------------------------------------------------------------------


@hookspec
def famplan_register_storage_backends() -> Sequence[type[Any]]:
    """Register storage backends: classes that implement `famplan_core.ports.Storage`.

    Called once while the deployment is assembled. ``[storage] backend`` in `famplan.toml`
    picks one by its ``PLUGIN_NAME``; the core registers ``sql`` (SQLite and PostgreSQL).

    Returns:
        A sequence of storage classes, each with a ``PLUGIN_NAME`` class attribute.

    Version added: 0.1
    """


# -- policy ------------------------------------------------------------------------------


@hookspec
def famplan_register_programs() -> Sequence[Any]:
    """Register benefit programs (项目): `famplan_core.rules.Program` objects.

    Called once while the deployment is assembled. Programs are keyed by their ``code``;
    two plugins registering the same code fail with both named. The core registers the
    national programs of `spec/programs.md` (R1-R5).

    Returns:
        A sequence of programs.

    Version added: 0.1
    """


@hookspec
def famplan_register_parameters() -> Sequence[Any]:
    """Register effective-dated parameters (标准): `famplan_core.rules.Parameter` objects.

    Called once while the deployment is assembled, after `famplan_register_programs`.
    A parameter for a (program, name) that another plugin already registered *overlays* it:
    from the overlay's first date on its values win, earlier history stays, and each value
    keeps its provenance (how a province plugin raises a national floor).

    Returns:
        A sequence of parameters.

    Version added: 0.1
    """


# -- exchange ----------------------------------------------------------------------------


@hookspec
def famplan_register_exchange_formats() -> Sequence[type[Any]]:
    """Register exchange formats: classes that encode and decode exchange batches.

    Called once while the deployment is assembled; picked by ``PLUGIN_NAME``.

    Returns:
        A sequence of format classes, each with a ``PLUGIN_NAME``.

    Version added: 0.1
    """


@hookspec
def famplan_register_exchange_transports() -> Sequence[type[Any]]:
    """Register exchange transports: classes that send and receive batches (folder drop, HTTP).

    Called once while the deployment is assembled; picked by ``PLUGIN_NAME``.

    Returns:
        A sequence of transport classes, each with a ``PLUGIN_NAME``.

    Version added: 0.1
    """


# -- reporting ---------------------------------------------------------------------------


@hookspec
def famplan_register_indicators() -> Sequence[Any]:
    """Register statistical indicators (指标) as definitions.

    Called once while the deployment is assembled; keyed by the indicator's ``code``.

    Returns:
        A sequence of indicator definitions.

    Version added: 0.1
    """


@hookspec
def famplan_register_report_renderers() -> Sequence[type[Any]]:
    """Register report renderers: classes that write a `famplan_core.reporting.ReportTable`.

    Called once while the deployment is assembled. ``famplan report --format NAME`` picks
    one by ``PLUGIN_NAME``; the core registers ``csv`` and ``json``. A renderer's output
    may be opened by people: text cells that start with a formula character are
    neutralised (see the privacy explanation).

    Returns:
        A sequence of renderer classes, each with a ``PLUGIN_NAME``.

    Version added: 0.1
    """


# -- notices -----------------------------------------------------------------------------


@hookspec
def famplan_register_notice_renderers() -> Sequence[type[Any]]:
    """Register notice renderers: classes that render a public notice (公示) for posting.

    Called once while the deployment is assembled; picked by ``PLUGIN_NAME``. A notice
    renderer only ever receives masked, public fields.

    Returns:
        A sequence of renderer classes, each with a ``PLUGIN_NAME``.

    Version added: 0.1
    """


# -- command line ------------------------------------------------------------------------


@hookspec
def famplan_register_commands(cli: Any) -> None:
    """Add commands to the ``famplan`` command line.

    Called once when the command line starts, before arguments are parsed.

    Args:
        cli: the root ``click.Group``; call ``cli.add_command(...)`` or decorate with
            ``@cli.command()``.

    Version added: 0.1
    """


# -- lifecycle and events ----------------------------------------------------------------


@hookspec(historic=True)
def famplan_configure(config: Any) -> None:
    """The deployment was assembled; a plugin reads its settings here.

    Called once after all plugins are registered and validated (historic: a plugin
    registered later is called too). A plugin's own ``[plugins.<name>]`` table is
    ``config.plugin_settings("<name>")``.

    Args:
        config: the deployment's `famplan_core.config.Config`, or None when plugins are
            assembled without a deployment (``famplan plugins`` outside one).

    Version added: 0.1
    """


@hookspec
def famplan_facts_recorded(facts: Sequence[Any], actor: str) -> None:
    """Facts were committed to the register's journal.

    Called after the unit of work committed, with the facts it recorded. An
    implementation must not write to the register in the same unit of work.

    Args:
        facts: the journal facts committed.
        actor: who recorded them.

    Version added: 0.1
    """


@hookspec
def famplan_run_completed(run: Any) -> None:
    """A monthly benefit run was stored.

    Called after the run's unit of work committed.

    Args:
        run: the stored run (month, counts, totals per program).

    Version added: 0.1
    """
