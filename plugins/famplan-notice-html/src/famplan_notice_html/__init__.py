"""famplan-notice-html: public notices (公示) as a printable board, a static site and a PDF."""

from famplan_notice_html.renderers import (
    HtmlBoardRenderer,
    PdfRenderer,
    SiteRenderer,
    board_html,
    environment,
    site_page_html,
)

__all__ = [
    "HtmlBoardRenderer",
    "PdfRenderer",
    "SiteRenderer",
    "board_html",
    "environment",
    "site_page_html",
]
