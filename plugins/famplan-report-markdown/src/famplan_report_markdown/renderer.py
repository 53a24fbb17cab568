"""The Markdown report renderer."""

from __future__ import annotations

from typing import BinaryIO, ClassVar

from famplan_core.reporting import ReportTable, spreadsheet_safe

__all__ = ["MarkdownRenderer"]


def _cell(value: object) -> str:
    if value is None:
        return ""
    text = spreadsheet_safe(str(value)) if isinstance(value, str) else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


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
