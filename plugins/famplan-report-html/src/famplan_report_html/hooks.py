"""The plugin's hooks: registers the HTML renderer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core import hookimpl
from famplan_report_html.renderer import HtmlRenderer

__all__ = ["FAMPLAN_API", "famplan_register_report_renderers"]

FAMPLAN_API = ">=1.0,<2"
"""The famplan-core API range this plugin needs."""


@hookimpl
def famplan_register_report_renderers() -> Sequence[type[Any]]:
    """Register the HTML renderer."""
    return [HtmlRenderer]
