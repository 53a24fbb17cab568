"""The service layer: a township deployment (乡镇) and its operations.

Open one with `famplan_core.open`; every operation is one unit of work and takes the
acting staff member. The command line is a thin shell over this module.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

from famplan_core.config import Config, find_config, load_config
from famplan_core.plugin_manager import PluginManager

__all__ = ["Township", "open_township"]


class Township:
    """An assembled deployment: its configuration and its plugins.

    Args:
        config: the deployment's configuration.
        plugins: the assembled plugins; assembled from `config` when omitted.
    """

    def __init__(self, config: Config, plugins: PluginManager | None = None) -> None:
        self.config = config
        self.plugins = plugins if plugins is not None else PluginManager.assemble(config)

    @functools.cached_property
    def division(self) -> str:
        """The deployment's division code, as text."""
        return self.config.township.division.value

    def __repr__(self) -> str:
        return f"<Township {self.config.township.name} {self.division}>"


def open_township(
    path: Path | str | None = None, *, environ: Mapping[str, str] | None = None
) -> Township:
    """Open the deployment whose `famplan.toml` is at `path` (a file or its folder).

    Without `path`: the ``FAMPLAN_CONFIG`` variable, then `famplan.toml` in the current
    folder.

    Args:
        path: the configuration file, or the folder holding it.
        environ: the environment for plugin loading (default: ``os.environ``).

    Raises:
        ConfigurationError: no configuration was found, or it is wrong.
        PluginError: the plugins cannot be assembled.
    """
    if path is not None:
        path = Path(path)
        if path.is_dir():
            path = path / "famplan.toml"
    config = load_config(find_config(path))
    return Township(config, PluginManager.assemble(config, environ=environ))
