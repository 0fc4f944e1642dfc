"""``X-Request-ID``: the caller's correlation id if it is a safe one, else a new one; set for
everything the request does (events' meta, logs) and sent back on the answer."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.correlation import acceptable, correlated, new_correlation_id

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower().encode()


class Correlation:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k == _HEADER_KEY), b"")
        correlation_id = acceptable(sent.decode("latin-1")) or new_correlation_id()

        async def with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = correlation_id
            await send(message)

        with correlated(correlation_id):
            await self.app(scope, receive, with_header)
