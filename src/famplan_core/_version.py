"""The distribution's version and the plugin API version it provides."""

__version__ = "0.1.0"
API_VERSION = "1.0"
"""The core API plugins declare against (``FAMPLAN_API = ">=1.0,<2"``)."""
