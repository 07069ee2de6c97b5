"""The operations dashboard: ``GET /`` serves one static page that follows the gateway's own API.

The page and its ES modules live in ``static/dashboard/`` inside the package (no CDN, no build
step); the modules are served by the gateway's ``/static`` router, and this route only answers
``/`` with the page, under a Content-Security-Policy that lets it load nothing from elsewhere.
The page reads as any partner does: ``GET /v1/streams`` and ``/metrics`` over HTTP, and every
stream through one ``/v1/ws`` WebSocket that resumes from its last cursor.

Mount it with :func:`dashboard_routes`::

    create_app(log, config, routers=[*dashboard_routes(), *service_routes])
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from litestar import MediaType, Response, get
from litestar.handlers import HTTPRouteHandler

__all__ = ["CONTENT_SECURITY_POLICY", "DASHBOARD_DIR", "dashboard_routes"]

DASHBOARD_DIR = Path(__file__).parent / "static" / "dashboard"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        # in CSP 3 'self' also covers ws:// and wss:// to this host (the browser test checks it)
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The page may load scripts, styles and data from the gateway only."""


@cache
def _page() -> bytes:
    # read once: the page is part of the installed package and does not change while serving
    return (DASHBOARD_DIR / "index.html").read_bytes()


def dashboard_routes() -> list[HTTPRouteHandler]:
    """The route handler of ``GET /`` (the dashboard page), for ``create_app(routers=...)``."""

    @get("/", include_in_schema=False, sync_to_thread=False)
    def dashboard() -> Response[bytes]:
        """The operations dashboard page."""
        return Response(
            _page(),
            media_type=MediaType.HTML,
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    return [dashboard]
