"""famplan-core: township population and family services administration.

The register of people and households, the benefit programs paid to families, public
notices, data exchange with provincial systems and the statistics a township reports.

Open a deployment with `open` (its `famplan.toml`), or use the typed core directly.
"""

from famplan_core._version import API_VERSION, __version__
from famplan_core.errors import (
    ConfigurationError,
    ExchangeError,
    FamplanError,
    FamplanWarning,
    PluginError,
    StorageError,
    ValidationError,
)
from famplan_core.hookspecs import hookimpl
from famplan_core.model.money import Money

TYPE_CHECKING = False
if TYPE_CHECKING:
    from famplan_core.township import Township
    from famplan_core.township import open_township as open


def __getattr__(name: str) -> object:
    # The service layer pulls in storage and plugins; import it only when asked for.
    if name in ("open", "Township"):
        from famplan_core import township

        return township.open_township if name == "open" else township.Township
    raise AttributeError(f"module 'famplan_core' has no attribute {name!r}")


__all__ = [
    "API_VERSION",
    "ConfigurationError",
    "ExchangeError",
    "FamplanError",
    "FamplanWarning",
    "Money",
    "PluginError",
    "StorageError",
    "Township",
    "ValidationError",
    "__version__",
    "hookimpl",
    "open",
]
