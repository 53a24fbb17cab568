"""famplan-report-html: statistical reports as HTML pages with SVG charts."""

from famplan_report_html.renderer import HtmlRenderer

__all__ = ["HtmlRenderer"]
