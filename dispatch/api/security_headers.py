"""Headers every response carries (DESIGN.md §8.9).

``nosniff`` and a ``Referrer-Policy`` everywhere; console pages also a Content Security
Policy. The console serves its one script and its stylesheet from ``/console/static`` and has
no inline script, style attribute or event handler, so ``'self'`` suffices and nothing needs
``'unsafe-inline'``; ``frame-ancestors 'none'`` keeps it out of other sites' frames
(clickjacking), with ``X-Frame-Options`` for old browsers. ``/docs`` and ``/redoc``
(Swagger UI and ReDoc, served from ``/docs/assets`` with inline start-up scripts) get no CSP.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE = "/console"
CONSOLE_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
EVERYWHERE = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}
CONSOLE_ONLY = {"Content-Security-Policy": CONSOLE_POLICY, "X-Frame-Options": "DENY"}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        console = path == CONSOLE or path.startswith(CONSOLE + "/") or path == "/"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in EVERYWHERE.items():
                    headers.setdefault(name, value)
                if console:
                    for name, value in CONSOLE_ONLY.items():
                        headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, with_headers)
