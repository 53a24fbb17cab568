"""The Markdown report renderer.

Text from the register (a village's name, a label, a note) is written so that it reads as
itself and never as markup: ``&``, ``<`` and ``>`` become HTML entities, so no tag, comment
or entity of the text reaches a page the Markdown is turned into, and every other ASCII
punctuation character is escaped with a backslash (CommonMark's rule), so no link, image,
emphasis, code span, heading, list or table cell boundary can be made from a value. Numbers
and amounts are written as they are.
"""

from __future__ import annotations

import re
import string
from typing import BinaryIO, ClassVar

from famplan_core.reporting import ReportTable, spreadsheet_safe

__all__ = ["MarkdownRenderer", "escape"]

_ESCAPES = {ord(c): "\\" + c for c in string.punctuation} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord("\n"): " ",
    ord("\r"): " ",
}

_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def escape(text: str) -> str:
    r"""Text as Markdown that shows exactly `text` (line breaks become spaces).

    >>> print(escape("<b>王庄</b> [x](javascript:y) *1* | 2"))
    &lt;b&gt;王庄&lt;\/b&gt; \[x\]\(javascript\:y\) \*1\* \| 2

    Args:
        text: the text.
    """
    return text.translate(_ESCAPES)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return escape(spreadsheet_safe(value))
    text = str(value)  # a count or an amount: written as it is, unless it is not a number
    return text if _NUMBER.fullmatch(text) else escape(text)


class MarkdownRenderer:
    """Write a report table as a Markdown heading and pipe table."""

    PLUGIN_NAME: ClassVar[str] = "markdown"
    suffix: ClassVar[str] = ".md"
    media_type: ClassVar[str] = "text/markdown"

    def render(self, table: ReportTable, out: BinaryIO, *, lang: str = "zh") -> None:
        """Write `table` to `out` as UTF-8 Markdown.

        Args:
            table: the table.
            out: a binary stream.
            lang: ``zh`` or ``en`` title and headers.
        """
        align = ["---:" if c.kind != "text" else "---" for c in table.columns]
        lines = [
            f"## {_cell(table.title(lang))}",
            "",
            "| " + " | ".join(_cell(h) for h in table.headers(lang)) + " |",
            "| " + " | ".join(align) + " |",
        ]
        lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.rows]
        lines += [""] + [f"- {_cell(note)}" for note in table.notes]
        out.write(("\n".join(lines).rstrip() + "\n").encode("utf-8"))
