"""The binder as a printable PDF (WeasyPrint), from the same HTML as the offline copy.

Rendering never touches the network: the stylesheet is inline and the URL fetcher refuses every URL
that is not a data: URI, so a stray reference can only leave a blank, never a request.
"""

from __future__ import annotations

from weasyprint import HTML
from weasyprint.urls import URLFetcher


class OfflineFetcher(URLFetcher):
    """Serves data: URIs only; anything else is refused (and remembered, for tests and logs)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("data",))
        self.refused: list[str] = []

    def fetch(self, url, headers=None):  # noqa: ANN001 — WeasyPrint's signature
        if not url.startswith("data:"):
            self.refused.append(url)
            raise ValueError(f"the binder fetches nothing from the network: {url}")
        return super().fetch(url, headers)


def render_pdf(html: str, fetcher: OfflineFetcher | None = None) -> bytes:
    """Blocking (tens to hundreds of milliseconds): call it from a worker thread."""
    return HTML(string=html, base_url=None, url_fetcher=fetcher or OfflineFetcher()).write_pdf()
