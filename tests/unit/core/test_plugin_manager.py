"""Assembling a deployment from plugins (DESIGN "Hooks"; issue: plugin assembly)."""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest

from famplan_core import hookimpl
from famplan_core.errors import PluginConflictError, PluginContractError, PluginNotFoundError
from famplan_core.plugin_manager import PluginManager

NO_INSTALLED: dict[str, str] = {"FAMPLAN_LOAD_PLUGINS": ""}


def _module(name: str, api: str | None = ">=1.0,<2", **functions: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    if api is not None:
        module.FAMPLAN_API = api  # type: ignore[attr-defined]
    for key, value in functions.items():
        setattr(module, key, value)
    return module


class _Renderer:
    PLUGIN_NAME: ClassVar[str] = "csv"


@hookimpl
def _register_csv_again() -> Sequence[type[Any]]:
    return [_Renderer]


def test_default_plugins_are_registered_and_listed_first() -> None:
    manager = PluginManager.assemble(environ=NO_INSTALLED)
    infos = manager.plugins()
    assert infos[0].default
    assert infos[0].distribution == "famplan-core"
    assert {"csv", "json"} <= set(manager.report_renderers())


def test_a_misspelt_hook_fails_at_start_up_naming_plugin_and_hook() -> None:
    @hookimpl
    def famplan_register_report_renderer() -> Sequence[type[Any]]:  # missing the final "s"
        return []

    plugin = _module("typo", famplan_register_report_renderer=famplan_register_report_renderer)
    with pytest.raises(PluginContractError) as caught:
        PluginManager.assemble(environ=NO_INSTALLED, extra={"typo-plugin": plugin})
    message = str(caught.value)
    assert "'typo-plugin'" in message
    assert "'famplan_register_report_renderer'" in message
    assert "did you mean 'famplan_register_report_renderers'" in message


def test_a_hook_with_an_unknown_argument_is_refused() -> None:
    @hookimpl
    def famplan_register_commands(cli: object, colour: str) -> None:
        return None

    plugin = _module("badargs", famplan_register_commands=famplan_register_commands)
    with pytest.raises(PluginContractError, match="badargs-plugin"):
        PluginManager.assemble(environ=NO_INSTALLED, extra={"badargs-plugin": plugin})


def test_an_unmet_core_api_range_refuses_to_start_saying_what_is_needed() -> None:
    plugin = _module("future", api=">=2.0")
    with pytest.raises(PluginContractError) as caught:
        PluginManager.assemble(environ=NO_INSTALLED, extra={"future-plugin": plugin})
    message = str(caught.value)
    assert "'future-plugin' needs famplan-core API >=2.0" in message
    assert "provides API 1.0" in message


def test_a_plugin_module_must_declare_its_api_range() -> None:
    with pytest.raises(PluginContractError, match="FAMPLAN_API"):
        PluginManager.assemble(environ=NO_INSTALLED, extra={"silent": _module("silent", api=None)})


def test_two_plugins_registering_one_name_fail_with_both_named() -> None:
    plugin = _module("dupe", famplan_register_report_renderers=_register_csv_again)
    manager = PluginManager.assemble(environ=NO_INSTALLED, extra={"dupe-plugin": plugin})
    with pytest.raises(PluginConflictError) as caught:
        manager.report_renderers()
    assert "'core-reports'" in str(caught.value)
    assert "'dupe-plugin'" in str(caught.value)
    assert "'csv'" in str(caught.value)


def test_load_plugins_naming_an_unknown_plugin_lists_the_installed_ones() -> None:
    with pytest.raises(PluginNotFoundError) as caught:
        PluginManager.assemble(environ={"FAMPLAN_LOAD_PLUGINS": "report-markdwon"})
    assert "'report-markdwon'" in str(caught.value)
    assert "report-markdown" in str(caught.value)


def test_pick_names_what_is_available() -> None:
    manager = PluginManager.assemble(environ=NO_INSTALLED)
    with pytest.raises(PluginNotFoundError, match="available: csv, json"):
        manager.pick(manager.report_renderers(), "xlsx", "report renderer")


def test_the_example_plugin_is_found_through_its_entry_point() -> None:
    manager = PluginManager.assemble(environ={})
    by_name = {info.name: info for info in manager.plugins()}
    assert by_name["report-markdown"].enabled
    assert by_name["report-markdown"].distribution == "famplan-report-markdown"
    assert "markdown" in manager.report_renderers()
