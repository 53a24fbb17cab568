"""The plugin's hooks: registers the board, site and PDF notice renderers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core import hookimpl
from famplan_notice_html.renderers import HtmlBoardRenderer, PdfRenderer, SiteRenderer

__all__ = ["FAMPLAN_API", "famplan_register_notice_renderers"]

FAMPLAN_API = ">=1.0,<2"
"""The famplan-core API range this plugin needs."""


@hookimpl
def famplan_register_notice_renderers() -> Sequence[type[Any]]:
    """Register the ``html``, ``site`` and ``pdf`` notice renderers."""
    return [HtmlBoardRenderer, SiteRenderer, PdfRenderer]
