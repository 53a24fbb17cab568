"""The notice renderers: a printable board (HTML, A4/A3), a static site, and a PDF.

Every renderer receives only a `famplan_core.notices.PublishedNotice` (masked, public
fields) and fills Jinja2 templates shipped with the package, with autoescaping on: a name
or a village holding ``<script>`` is printed as text, never run.

* `HtmlBoardRenderer` (``html``): ``notice-<id>-a4.html`` (or ``-a3``), one self-contained
  page with its print style (``@page`` size A4 or A3), the township header, the window, the
  list, the complaint telephone and box (``[notices]`` of `famplan.toml`). An amount the
  notice does not show (special assistance: it would tell the category) reads "按标准发放"
  (paid at the standard rate), and then the list gives no total amount, only the count.
* `SiteRenderer` (``site``): a static site for a township website: ``notice-<id>.html``,
  ``style.css``, and ``index.html`` listing every notice exported into the folder (kept in
  ``notices.json``). Export a notice again after it closes: its page then says the list
  was taken down.
* `PdfRenderer` (``pdf``): the board printed to ``notice-<id>-a4.pdf`` by WeasyPrint, with
  a Chinese font (WenQuanYi Micro Hei, or another CJK font fontconfig finds).
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from markupsafe import Markup

from famplan_core.errors import PluginError
from famplan_core.files import private_folder, private_writer, write_private
from famplan_core.notices import PublishedNotice, date_zh

__all__ = [
    "HtmlBoardRenderer",
    "PdfRenderer",
    "SiteRenderer",
    "board_html",
    "environment",
    "site_page_html",
]

_PAPERS = ("A4", "A3")

HIDDEN_AMOUNT_TEXT = "按标准发放"
"""Shown instead of an amount that is not published (paid at the standard rate): for a
program whose amount would tell a sensitive category (special assistance)."""


def environment() -> jinja2.Environment:
    """The Jinja2 environment of the templates: autoescaping on, undefined names fail."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("famplan_notice_html", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _css() -> Markup:
    text = (
        importlib.resources.files("famplan_notice_html")
        .joinpath("templates", "notice.css")
        .read_text(encoding="utf-8")
    )
    return Markup(text)  # our own file, shipped with the package: not user text


def _values(notice: PublishedNotice) -> dict[str, Any]:
    amount_header = "救助金额（元）" if notice.subject == "hardship_grants" else "金额（元/月）"
    posted = f"{date_zh(notice.window_start)}" if notice.window_start is not None else ""
    return {
        "n": notice,
        "amount_header": amount_header,
        "posted": posted,
        "hidden_amount_text": HIDDEN_AMOUNT_TEXT,
    }


def _paper(paper: str) -> str:
    if paper not in _PAPERS:
        raise ValueError(f"paper must be A4 or A3, got {paper!r}")
    return paper


def board_html(notice: PublishedNotice, *, paper: str = "A4") -> str:
    """The printable board of a notice, as one self-contained HTML page.

    Args:
        notice: the masked content.
        paper: ``A4`` or ``A3``.
    """
    template = environment().get_template("board.html.j2")
    return template.render(css=_css(), paper=_paper(paper), **_values(notice))


def site_page_html(notice: PublishedNotice) -> str:
    """The page of a notice on the township's website (style in ``style.css``).

    Args:
        notice: the masked content.
    """
    return environment().get_template("site_page.html.j2").render(**_values(notice))


class HtmlBoardRenderer:
    """The printable notice board (公示栏): ``notice-<id>-a4.html`` or ``-a3.html``."""

    PLUGIN_NAME: ClassVar[str] = "html"

    def render(self, notice: PublishedNotice, out: Path, *, paper: str = "A4") -> Sequence[Path]:
        """Write the board into `out`.

        Args:
            notice: the masked content.
            out: the folder (made when missing).
            paper: ``A4`` or ``A3``.
        """
        private_folder(out)
        target = out / f"notice-{notice.notice_id}-{_paper(paper).lower()}.html"
        write_private(target, board_html(notice, paper=paper))
        return [target]


class SiteRenderer:
    """A static site for the township website: a page per notice and an index."""

    PLUGIN_NAME: ClassVar[str] = "site"
    MANIFEST: ClassVar[str] = "notices.json"

    def render(self, notice: PublishedNotice, out: Path, *, paper: str = "A4") -> Sequence[Path]:
        """Write or rewrite the notice's page, the style sheet and the index in `out`.

        Args:
            notice: the masked content.
            out: the site's folder (made when missing).
            paper: ignored (web pages have no paper size).
        """
        private_folder(out)
        page = out / f"notice-{notice.notice_id}.html"
        write_private(page, site_page_html(notice))
        style = out / "style.css"
        write_private(style, str(_css()))
        manifest = out / self.MANIFEST
        entries: dict[str, dict[str, Any]] = {}
        if manifest.is_file():
            try:
                loaded = json.loads(manifest.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise PluginError(f"{manifest}: not the site's notice list ({exc})") from exc
            entries = {str(e["notice_id"]): e for e in loaded.get("notices", [])}
        entries[str(notice.notice_id)] = {
            "notice_id": notice.notice_id,
            "page": page.name,
            "title": notice.title,
            "level_name": notice.level_name,
            "scope_name": notice.scope_name,
            "place": notice.place,
            "window": notice.window_text,
            "listed": notice.listed,
            "month": notice.month.strftime("%Y-%m"),
        }
        ordered = sorted(entries.values(), key=lambda e: (e["month"], e["notice_id"]), reverse=True)
        write_private(
            manifest, json.dumps({"notices": ordered}, ensure_ascii=False, indent=2) + "\n"
        )
        index = out / "index.html"
        write_private(
            index,
            environment()
            .get_template("site_index.html.j2")
            .render(township=notice.township, entries=ordered),
        )
        return [page, style, index, manifest]


class PdfRenderer:
    """The board printed to PDF by WeasyPrint: ``notice-<id>-a4.pdf`` (or ``-a3``)."""

    PLUGIN_NAME: ClassVar[str] = "pdf"

    def render(self, notice: PublishedNotice, out: Path, *, paper: str = "A4") -> Sequence[Path]:
        """Write the PDF into `out`.

        Args:
            notice: the masked content.
            out: the folder (made when missing).
            paper: ``A4`` or ``A3``.

        Raises:
            PluginError: WeasyPrint cannot be imported (it needs the system's Pango).
        """
        try:
            import weasyprint  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise PluginError(
                f"the pdf notice renderer needs WeasyPrint and the system's Pango: {exc}"
            ) from exc
        private_folder(out)
        target = out / f"notice-{notice.notice_id}-{_paper(paper).lower()}.pdf"
        with private_writer(target, "wb") as pdf:
            weasyprint.HTML(string=board_html(notice, paper=paper)).write_pdf(pdf)
        return [target]
