"""famplan-report-markdown: report tables as Markdown."""

from famplan_report_markdown.renderer import MarkdownRenderer

__all__ = ["MarkdownRenderer"]
