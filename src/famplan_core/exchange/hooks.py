"""The core's exchange plugin: the JSON Lines format (``jsonl``), the folder drop (``folder``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core.exchange.formats import JsonLinesFormat
from famplan_core.exchange.transports import FolderTransport
from famplan_core.hookspecs import hookimpl

__all__ = [
    "FAMPLAN_API",
    "famplan_register_exchange_formats",
    "famplan_register_exchange_transports",
]

FAMPLAN_API = ">=1.0,<2"


@hookimpl
def famplan_register_exchange_formats() -> Sequence[type[Any]]:
    """Register the JSON Lines exchange format."""
    return [JsonLinesFormat]


@hookimpl
def famplan_register_exchange_transports() -> Sequence[type[Any]]:
    """Register the folder drop transport."""
    return [FolderTransport]
