"""The core's notice plugin (``core-notices``): registers the CSV notice renderer.

Its settings, ``[plugins.core-notices]`` in `famplan.toml`, are read by
`famplan_core.notices.NoticeService.for_township`: ``masking`` (the masking policy of every
notice) and ``villages`` (village names by 12-digit code).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from famplan_core.hookspecs import hookimpl
from famplan_core.notices.csv_renderer import CsvNoticeRenderer

__all__ = ["FAMPLAN_API", "famplan_register_notice_renderers"]

FAMPLAN_API = ">=1.0,<2"


@hookimpl
def famplan_register_notice_renderers() -> Sequence[type[Any]]:
    """Register the CSV notice renderer."""
    return [CsvNoticeRenderer]
