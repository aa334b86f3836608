"""The binder as a printable PDF (WeasyPrint), from the same HTML as the offline copy.

Rendering never touches the network: the stylesheet is inline and the URL fetcher refuses every URL
that is not a data: URI, so a stray reference can only leave a blank, never a request.

WeasyPrint needs Pango from the system. It is imported on first use, so a server without Pango
still runs everything else and answers a PDF export with a clear 503 (the HTML copy still works).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from services.core.errors import DomainError

INSTALL_HINT = "apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"


class PdfUnavailable(DomainError):
    status, code, title = 503, "pdf-unavailable", "PDF export is unavailable on this server"


@lru_cache(maxsize=1)
def _weasyprint() -> Any:
    try:
        import weasyprint
        import weasyprint.urls
    except (ImportError, OSError) as exc:  # OSError: a system library (Pango, HarfBuzz) could not be loaded
        raise PdfUnavailable(f"WeasyPrint cannot load ({exc}); the server needs: {INSTALL_HINT}. "
                             "The offline HTML export still works.") from exc
    return weasyprint


def offline_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves data: URIs only; anything else is refused and remembered."""
    wp = _weasyprint()

    # WeasyPrint is imported lazily (it needs system libraries), so its class reaches here as a value.
    url_fetcher: Any = wp.urls.URLFetcher

    class OfflineFetcher(url_fetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=("data",))
            self.refused: list[str] = []

        def fetch(self, url, headers=None):  # noqa: ANN001 — WeasyPrint's signature
            if not url.startswith("data:"):
                self.refused.append(url)
                raise ValueError(f"the binder fetches nothing from the network: {url}")
            return super().fetch(url, headers)

    return OfflineFetcher()


def render_pdf(html: str, fetcher: Any = None) -> bytes:
    """Blocking (tens to hundreds of milliseconds): call it from a worker thread."""
    wp = _weasyprint()
    return wp.HTML(string=html, base_url=None, url_fetcher=fetcher or offline_fetcher()).write_pdf()
