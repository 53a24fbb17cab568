"""famplan-core."""

from famplan_core._version import __version__

__all__ = ["__version__"]
