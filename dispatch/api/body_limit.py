"""Request bodies are bounded before anything parses them (DESIGN.md §8.9): over the limit
is a 413 problem+json.

A declared ``Content-Length`` over the limit is refused before a byte of the body is read; a
chunked body (no length) is counted as it streams, and the request is cut off at the first
chunk that passes the limit. An ASGI middleware, so the API, the console and Open311 are all
covered, whatever parses the body later (JSON, a form, multipart).
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MIB = 1024 * 1024
DEFAULT_LIMIT = MIB
PROBLEM_JSON = b"application/problem+json"


class BodyLimit:
    """``limit`` bytes for every request; ``larger`` raises it for exact paths (a catalogue
    with its grid polygons is loaded in one PUT), ``larger_matching`` for multipart uploads to
    paths matching a pattern in full (a case's attachments, up to the upload limit): the same
    path sent as JSON or a plain form keeps the ordinary limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int = DEFAULT_LIMIT,
        larger: dict[str, int] | None = None,
        larger_matching: dict[str, int] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.larger = larger or {}
        self.larger_matching = [
            (re.compile(pattern), size) for pattern, size in (larger_matching or {}).items()
        ]

    def limit_for(self, path: str, *, multipart: bool = True) -> int:
        if path in self.larger:
            return self.larger[path]
        if multipart:
            for pattern, size in self.larger_matching:
                if pattern.fullmatch(path):
                    return size
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"], multipart=_is_multipart(scope))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Answer now and tell the app the client left: it stops reading, and
                    # whatever it answers to that is dropped.
                    refused = True
                    if not started:
                        await _refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except Exception:
            if not refused:
                raise  # the app's own failure; a disconnect we caused is answered already


def _is_multipart(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.lower().startswith(b"multipart/")
    return False


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Content Too Large",
            "status": 413,
            "detail": f"the body is larger than {limit // 1024} KiB; send less, "
            "or give large media as a link",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", PROBLEM_JSON),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
