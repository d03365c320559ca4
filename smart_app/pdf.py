"""HTML to PDF with WeasyPrint: the family copy and the filed plan of care.

Layer: plumbing. The one place PDFs are made, with the one fetch guard: WeasyPrint may load nothing
but `data:` URLs (no files, no network), whatever the document or its stylesheet points at.
"""

from __future__ import annotations

import logging

log = logging.getLogger("smart_app.pdf")


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the Pango libraries it needs are not installed on this server."""


def render_pdf(html: str, css: str = "") -> bytes:
    """The document as PDF bytes; PdfUnavailable when this server cannot make PDFs."""
    try:
        import weasyprint
    except (ImportError, OSError) as err:  # OSError: the pango libraries are not installed
        log.warning("pdf_unavailable kind=%s", type(err).__name__)
        raise PdfUnavailable("This server cannot make PDF files.") from None
    fetcher = _DataOnly(weasyprint)
    stylesheets = [weasyprint.CSS(string=css, url_fetcher=fetcher)] if css else []
    return weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)


def _DataOnly(weasyprint):  # noqa: N802 - a class made at call time, WeasyPrint being imported lazily
    class DataOnly(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            if not url.startswith("data:"):
                raise ValueError("The document may load nothing from outside itself.")
            return super().fetch(url, headers)

    return DataOnly(allowed_protocols=("data",), allow_redirects=False)
