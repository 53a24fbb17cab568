"""Assembling a deployment from plugins: the pluggy manager behind a typed facade.

The core's default plugins are registered by module name; installed plugins are found
through the ``famplan`` entry-point group. Only the plugins a deployment enables are
loaded: every installed plugin is enabled unless its ``[plugins.<name>]`` table in
`famplan.toml` says ``enabled = false``, and the ``FAMPLAN_LOAD_PLUGINS`` variable (a
comma-separated list of plugin names; empty for none) overrides the configuration for
tests and debugging. A plugin module may declare ``FAMPLAN_ENABLED_BY_DEFAULT = False``
(a policy plugin whose values are not yet confirmed, say): it is then loaded only where a
deployment says ``enabled = true`` or ``FAMPLAN_LOAD_PLUGINS`` names it. Each plugin module
declares the core API range it needs as
``FAMPLAN_API = ">=1.0,<2"``; a deployment whose core cannot meet it refuses to start.
After registration ``check_pending()`` runs, so a misspelt hook fails at start-up.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import os
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
import pluggy
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from famplan_core import hookspecs
from famplan_core._version import API_VERSION, __version__
from famplan_core.errors import (
    PluginConflictError,
    PluginContractError,
    PluginError,
    PluginNotFoundError,
)

if TYPE_CHECKING:
    from famplan_core.config import Config

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "LOAD_PLUGINS_VARIABLE",
    "PluginInfo",
    "PluginManager",
]

ENTRY_POINT_GROUP = hookspecs.PROJECT
LOAD_PLUGINS_VARIABLE = "FAMPLAN_LOAD_PLUGINS"

DEFAULT_PLUGINS: Mapping[str, str] = {
    "sql-storage": "famplan_core.storage.hooks",
    "national-programs": "famplan_core.programs.hooks",
    "core-reports": "famplan_core.reporting.hooks",
    "core-exchange": "famplan_core.exchange.hooks",
    "core-notices": "famplan_core.notices.hooks",
}
"""The core's own plugins, by name: registered through the same hooks as any other."""

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class PluginInfo:
    """What `famplan plugins` shows about one plugin.

    Attributes:
        name: the plugin's name (its entry-point name, or the default plugin's name).
        distribution: the distribution that installs it (``famplan-core`` for defaults).
        version: that distribution's version.
        enabled: whether this deployment loads it.
        default: whether it ships with the core.
        hooks: the hooks it implements (empty when it is not loaded).
        requires: the core API range it declares.
    """

    name: str
    distribution: str
    version: str
    enabled: bool
    default: bool
    hooks: tuple[str, ...]
    requires: str


def _requires_of(name: str, module: ModuleType) -> str:
    declared = getattr(module, "FAMPLAN_API", None)
    if not isinstance(declared, str):
        raise PluginContractError(
            f"plugin {name!r} ({module.__name__}) does not declare the core API range it needs; "
            f'expected a module attribute such as FAMPLAN_API = ">=1.0,<2"'
        )
    try:
        spec = SpecifierSet(declared)
    except InvalidSpecifier as exc:
        raise PluginContractError(
            f"plugin {name!r} declares FAMPLAN_API = {declared!r}, which is not a version range; "
            f'expected e.g. ">=1.0,<2"'
        ) from exc
    if Version(API_VERSION) not in spec:
        raise PluginContractError(
            f"plugin {name!r} needs famplan-core API {declared}, but this famplan-core "
            f"({__version__}) provides API {API_VERSION}; upgrade or downgrade one of them"
        )
    return declared


class PluginManager:
    """The deployment's plugins, with one typed method per hook.

    Build it with `PluginManager.assemble`. Registration hooks are collected into
    dictionaries keyed by the name each result carries; two plugins claiming one name fail
    with both named.
    """

    def __init__(self) -> None:
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._infos: dict[str, PluginInfo] = {}
        self._cache: dict[str, Any] = {}

    # -- assembly --------------------------------------------------------------------------

    @classmethod
    def assemble(
        cls,
        config: Config | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> PluginManager:
        """Register the default plugins and the enabled installed ones, and validate them.

        Args:
            config: the deployment's configuration; None to load every installed plugin.
            environ: the environment to read ``FAMPLAN_LOAD_PLUGINS`` from (default:
                ``os.environ``).
            extra: more plugins to register, by name (modules or objects), e.g. in tests.

        Raises:
            PluginNotFoundError: ``FAMPLAN_LOAD_PLUGINS`` names a plugin that is not
                installed (the message lists those that are).
            PluginContractError: a plugin implements an unknown hook, has a hook with a
                wrong signature, or needs a core API this core does not provide.
            PluginConflictError: two plugins have the same name.
        """
        manager = cls()
        environ = os.environ if environ is None else environ
        for name, module_name in DEFAULT_PLUGINS.items():
            module = importlib.import_module(module_name)
            manager._register(name, module, "famplan-core", __version__, default=True)

        entry_points = {
            ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        }
        wanted = manager._wanted(entry_points, config, environ)
        for name in sorted(entry_points):
            ep = entry_points[name]
            dist_name = ep.dist.name if ep.dist is not None else "?"
            dist_version = ep.dist.version if ep.dist is not None else "?"
            if name in DEFAULT_PLUGINS:
                raise PluginConflictError(
                    f"plugin {name!r} from {dist_name} has the name of a default plugin of "
                    f"famplan-core ({DEFAULT_PLUGINS[name]}); rename one of them"
                )
            if name not in wanted:
                manager._infos[name] = PluginInfo(
                    name=name,
                    distribution=dist_name,
                    version=dist_version,
                    enabled=False,
                    default=False,
                    hooks=(),
                    requires="",
                )
                continue
            try:
                module = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"plugin {name!r} from {dist_name} {dist_version} failed to load "
                    f"({ep.value}): {type(exc).__name__}: {exc}"
                ) from exc
            if not getattr(module, "FAMPLAN_ENABLED_BY_DEFAULT", True) and not _asked_for(
                name, config, environ
            ):
                manager._infos[name] = PluginInfo(
                    name=name,
                    distribution=dist_name,
                    version=dist_version,
                    enabled=False,
                    default=False,
                    hooks=(),
                    requires=str(getattr(module, "FAMPLAN_API", "")),
                )
                continue
            manager._register(name, module, dist_name, dist_version, default=False)
        for name, obj in (extra or {}).items():
            manager._register(name, obj, "(registered in code)", "", default=False)
        manager._check_pending()
        manager._pm.hook.famplan_configure.call_historic(kwargs={"config": config})
        return manager

    def _wanted(
        self,
        entry_points: Mapping[str, importlib.metadata.EntryPoint],
        config: Config | None,
        environ: Mapping[str, str],
    ) -> set[str]:
        override = environ.get(LOAD_PLUGINS_VARIABLE)
        if override is not None:
            names = {part.strip() for part in override.split(",") if part.strip()}
            missing = sorted(names - set(entry_points))
            if missing:
                available = ", ".join(sorted(entry_points)) or "none"
                raise PluginNotFoundError(
                    f"{LOAD_PLUGINS_VARIABLE} names {', '.join(map(repr, missing))}, which "
                    f"{'is' if len(missing) == 1 else 'are'} not installed; installed plugins: "
                    f"{available}"
                )
            return names
        if config is None:
            return set(entry_points)
        return {name for name in entry_points if config.plugin_enabled(name)}

    def _register(
        self, name: str, plugin: object, distribution: str, version: str, *, default: bool
    ) -> None:
        if name in self._infos or self._pm.has_plugin(name):
            raise PluginConflictError(
                f"two plugins are named {name!r}: {self._infos[name].distribution} and "
                f"{distribution}; uninstall or rename one"
            )
        requires = _requires_of(name, plugin) if isinstance(plugin, ModuleType) else ""
        try:
            self._pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginContractError(f"plugin {name!r} ({distribution}): {exc}") from exc
        hooks = tuple(
            sorted(
                hook.name
                for hook in self._pm.get_hookcallers(plugin) or []
                if not hook.name.startswith("_")
            )
        )
        self._infos[name] = PluginInfo(
            name=name,
            distribution=distribution,
            version=version,
            enabled=True,
            default=default,
            hooks=hooks,
            requires=requires,
        )

    def _check_pending(self) -> None:
        known = [name for name in dir(hookspecs) if name.startswith("famplan_")]
        for hook_name in dir(self._pm.hook):
            if hook_name.startswith("_"):
                continue
            caller = getattr(self._pm.hook, hook_name)
            if caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
                    continue
                close = difflib.get_close_matches(hook_name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise PluginContractError(
                    f"plugin {impl.plugin_name!r} implements {hook_name!r}, which is not a "
                    f"famplan hook{hint} (the hooks are listed in the hooks reference)"
                )
        self._pm.check_pending()

    # -- introspection ---------------------------------------------------------------------

    def plugins(self) -> list[PluginInfo]:
        """Every plugin known to this deployment, default ones first, then by name."""
        return sorted(self._infos.values(), key=lambda info: (not info.default, info.name))

    @property
    def hook(self) -> pluggy.HookRelay:
        """The raw pluggy hook relay, for plugins that call hooks of their own."""
        return self._pm.hook

    # -- registration hooks ----------------------------------------------------------------

    def _collect(self, hook_name: str, key: Callable[[Any], str], what: str) -> dict[str, Any]:
        if hook_name in self._cache:
            return dict(self._cache[hook_name])
        found: dict[str, tuple[str, Any]] = {}
        caller = getattr(self._pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            results = impl.function(**dict.fromkeys(impl.argnames)) or ()
            for item in results:
                try:
                    item_name = key(item)
                except AttributeError as exc:
                    raise PluginContractError(
                        f"plugin {impl.plugin_name!r} registered a {what} without a name "
                        f"({item!r}): {exc}"
                    ) from exc
                if item_name in found:
                    raise PluginConflictError(
                        f"two plugins register the {what} {item_name!r}: "
                        f"{found[item_name][0]!r} and {impl.plugin_name!r}"
                    )
                found[item_name] = (impl.plugin_name, item)
        result = {name: item for name, (_, item) in found.items()}
        self._cache[hook_name] = result
        return dict(result)

    def storage_backends(self) -> dict[str, type[Any]]:
        """Storage classes by ``PLUGIN_NAME``."""
        return self._collect("famplan_register_storage_backends", _plugin_name, "storage backend")

    def programs(self) -> dict[str, Any]:
        """Benefit programs by ``code``."""
        return self._collect("famplan_register_programs", lambda p: str(p.code), "program")

    def parameters(self) -> list[tuple[str, Any]]:
        """Every registered parameter with the plugin that registered it, in load order.

        National values come first; a later plugin's parameter for the same (program, name)
        overlays the earlier one (see `famplan_register_parameters`).
        """
        caller = self._pm.hook.famplan_register_parameters
        found: list[tuple[str, Any]] = []
        for impl in reversed(caller.get_hookimpls()):
            results = cast("Sequence[Any]", impl.function() or ())
            found.extend((impl.plugin_name, item) for item in results)
        return found

    def parameter_set(self) -> Any:
        """The deployment's parameters: national values overlaid by each plugin's, in load order.

        Returns:
            A `famplan_core.rules.ParameterSet`.

        Raises:
            ParameterError: an overlay does not fit the parameter it overlays.
        """
        if "parameter_set" not in self._cache:
            from famplan_core.rules import ParameterSet

            merged = ParameterSet.of(())
            for _plugin, parameter in self.parameters():
                merged = merged.overlaid_by([parameter])
            self._cache["parameter_set"] = merged
        return self._cache["parameter_set"]

    def exchange_formats(self) -> dict[str, type[Any]]:
        """Exchange format classes by ``PLUGIN_NAME``."""
        return self._collect("famplan_register_exchange_formats", _plugin_name, "exchange format")

    def exchange_transports(self) -> dict[str, type[Any]]:
        """Exchange transport classes by ``PLUGIN_NAME``."""
        return self._collect(
            "famplan_register_exchange_transports", _plugin_name, "exchange transport"
        )

    def indicators(self) -> dict[str, Any]:
        """Indicator definitions by ``code``."""
        return self._collect("famplan_register_indicators", lambda i: str(i.code), "indicator")

    def report_renderers(self) -> dict[str, type[Any]]:
        """Report renderer classes by ``PLUGIN_NAME``."""
        return self._collect("famplan_register_report_renderers", _plugin_name, "report renderer")

    def notice_renderers(self) -> dict[str, type[Any]]:
        """Notice renderer classes by ``PLUGIN_NAME``."""
        return self._collect("famplan_register_notice_renderers", _plugin_name, "notice renderer")

    def pick(self, registry: Mapping[str, T], name: str, what: str) -> T:
        """Choose one registered item by name.

        Args:
            registry: the result of one of the registration methods.
            name: the name asked for.
            what: what it is, for the message (e.g. ``"report renderer"``).

        Raises:
            PluginNotFoundError: no plugin registers that name; the message lists those that do.
        """
        try:
            return registry[name]
        except KeyError:
            available = ", ".join(sorted(registry)) or "none"
            raise PluginNotFoundError(
                f"no {what} is named {name!r}; available: {available}"
            ) from None

    # -- other hooks -----------------------------------------------------------------------

    def register_commands(self, cli: object) -> None:
        """Let plugins add commands to the root ``click.Group``."""
        self._pm.hook.famplan_register_commands(cli=cli)

    def facts_recorded(self, facts: Sequence[Any], actor: str) -> None:
        """Tell plugins that facts were committed."""
        self._pm.hook.famplan_facts_recorded(facts=facts, actor=actor)

    def run_completed(self, run: object) -> None:
        """Tell plugins that a monthly run was stored."""
        self._pm.hook.famplan_run_completed(run=run)


def _asked_for(name: str, config: Config | None, environ: Mapping[str, str]) -> bool:
    """Whether a plugin that is off by default was switched on explicitly."""
    override = environ.get(LOAD_PLUGINS_VARIABLE)
    if override is not None:
        return name in {part.strip() for part in override.split(",")}
    return config is not None and config.plugins.get(name, {}).get("enabled") is True


def _plugin_name(cls: Any) -> str:
    name = cls.PLUGIN_NAME
    if not isinstance(name, str) or not name:
        raise AttributeError("PLUGIN_NAME must be a non-empty string")
    return name
