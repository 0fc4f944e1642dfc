"""One process's live streams: how many are open (bounded), how long each may last, the
log's head shared between them, and the stop signal for a server shutting down.

Every stream polls the log's position rather than waiting on a message from the process
that wrote: any process (API, console, worker, the SLA scanner) appends to the same table,
so the table is the one thing all of them can see. Streams asking within ``poll_seconds`` of
each other share one head query.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from fastapi import FastAPI, Request

from dispatch.bootstrap import Container
from events import safe_head

_hub_lock = threading.Lock()


class StreamsFull(Exception):
    """This process holds as many live streams as it may; the client should retry later."""


@dataclass
class LiveHub:
    limit: int
    lifetime: float  # seconds; then the stream ends and EventSource reconnects with its place
    poll_seconds: float = 0.5
    heartbeat_seconds: float = 15.0
    recount_seconds: float = 30.0  # worklist counts move with the clock too (超期)
    open_streams: int = 0
    stopping: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _head: tuple[float, int] = (0.0, 0)

    def enter(self) -> None:
        with self._lock:
            if self.stopping or self.open_streams >= self.limit:
                raise StreamsFull(f"this server holds {self.open_streams} live streams")
            self.open_streams += 1

    def leave(self) -> None:
        with self._lock:
            self.open_streams = max(0, self.open_streams - 1)

    def stop(self) -> None:
        """Shutting down: every stream ends at its next poll, and no new one opens."""
        self.stopping = True

    def head(self, container: Container) -> int:
        """The log's safe head, asked at most once per ``poll_seconds`` for all streams."""
        with self._lock:
            fetched_at, position = self._head
            if time.monotonic() - fetched_at < self.poll_seconds * 0.8:
                return position
        with container.store.reading() as conn:
            position = safe_head(conn)
        with self._lock:
            self._head = (time.monotonic(), max(position, self._head[1]))
            return self._head[1]


def stop_live_streams(app: FastAPI) -> None:
    """The server is stopping: end the open streams now, rather than keep it waiting for
    clients that never leave (uvicorn waits for responses in flight before it stops)."""
    hub = getattr(app.state, "live_hub", None)
    if hub is not None:
        hub.stop()


def live_hub(request: Request) -> LiveHub:
    """The application's hub, made on first use from the settings; a test may put its own
    in ``app.state.live_hub`` first (a short lifetime, so a test client's stream ends)."""
    state = request.app.state
    with _hub_lock:
        hub = getattr(state, "live_hub", None)
        if hub is None:
            settings = state.container.settings
            hub = state.live_hub = LiveHub(
                limit=settings.stream_connections, lifetime=settings.stream_lifetime_seconds
            )
    return hub
