"""Admission control: overload sheds commands, it does not queue them (DESIGN.md §8.10).

At most ``concurrency`` commands (POST, PUT, PATCH, DELETE — the API's, the console's and
Open311's alike) run at once; one that cannot start within ``queue_budget`` seconds is
answered 503 problem+json with ``Retry-After`` at once. Without it, a burst waited in
uvicorn's and the thread pool's queues for up to 97 s, long after the caller had given up.
The refusal comes before the application sees the request, so a shed command never appended
anything: every 201 is a stored case, and every 503 left none.

Reads and the health checks are not admitted here: they keep answering while commands are
shed (the thread pool, sized by ``http_threads``, is their bound). Nor are the ``exempt``
paths, the sign-ins: the sign-in gate (``dispatch.auth.throttle``) bounds their password
hashing with slots of its own, so a storm of sign-ins never takes intake's slots.
"""

from __future__ import annotations

import asyncio
import json

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from dispatch.ops.metrics import SHED

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PROBLEM_JSON = b"application/problem+json"


class Admission:
    """Admit at most ``concurrency`` commands at once; shed one that waits ``queue_budget``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        concurrency: int,
        queue_budget: float,
        retry_after: int = 1,
        threads: int | None = None,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.exempt = exempt
        self.concurrency = concurrency
        self.queue_budget = queue_budget
        self.retry_after = retry_after
        self.threads = threads
        self._slots = asyncio.Semaphore(concurrency)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._bind_to_running_loop()
        if scope["method"] not in COMMAND_METHODS or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        slots = self._slots  # released to the same semaphore even if a new loop replaced it
        if not await self._admitted(slots):
            SHED.inc()
            keep_alive = await _drained(receive)
            await self._shed(send, keep_alive=keep_alive)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _admitted(self, slots: asyncio.Semaphore) -> bool:
        if not slots.locked():
            await slots.acquire()  # a free slot: taken without waiting
            return True
        if self.queue_budget <= 0:
            return False
        try:
            async with asyncio.timeout(self.queue_budget):
                await slots.acquire()
        except TimeoutError:
            return False
        return True

    def _bind_to_running_loop(self) -> None:
        """Once per event loop (a server has one; tests may start several): fresh slots,
        and the size of the loop's thread pool. Sync routes run in anyio's default pool (40
        threads unless told); it is sized so that commands in flight leave threads to reads."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        self._loop = loop
        self._slots = asyncio.Semaphore(self.concurrency)
        if self.threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads

    async def _shed(self, send: Send, *, keep_alive: bool) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Service Unavailable",
                "status": 503,
                "detail": f"the service is busy ({self.concurrency} commands in progress); "
                f"nothing was done — try again in {self.retry_after} s",
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", PROBLEM_JSON),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after).encode()),
                    *([] if keep_alive else [(b"connection", b"close")]),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


DRAIN_LIMIT = 64 * 1024


async def _drained(receive: Receive) -> bool:
    """Read what is left of a small body, so the client's connection can serve its retry;
    a large one is not read (``False``: the connection is closed after the 503)."""
    read = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return True
        if read > DRAIN_LIMIT:
            return False
