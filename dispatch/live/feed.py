"""One viewer's stream: ``worklist`` (key, count), ``task`` and ``alert`` messages as
Server-Sent Events, each ``id`` the log position it reflects, so a reconnecting browser
(``Last-Event-ID``) is told what it missed and nothing twice.

The generator is async and sleeps between polls, so an open stream holds no worker thread;
each poll's queries run briefly in the thread pool. It ends when the client goes (Starlette
cancels it), when its lifetime is up, or when the server stops (``LiveHub.stop``).
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import anyio
from starlette.background import BackgroundTask
from starlette.responses import StreamingResponse

from dispatch.bootstrap import Container
from dispatch.live.hub import LiveHub
from dispatch.queries.kpi_settings import zone_and_weights
from dispatch.queries.live_view import changes_for
from dispatch.queries.scope import Viewer
from dispatch.queries.worklist_items import Moment, worklist_counts
from dispatch.queries.worklist_keys import visible_worklists

BACKLOG = 500  # events read per poll; a client far behind catches up over a few polls
RETRY_MS = 2000
MAX_POSITION = 2**62
HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def last_event_id(value: str | None) -> int | None:
    """The ``Last-Event-ID`` a reconnecting EventSource sends: a log position we gave."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or int(text) > MAX_POSITION:
        raise ValueError(f"Last-Event-ID must be a position this stream sent, not {value!r}")
    return int(text)


def message(event: str, data: Any, position: int) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return f"id: {position}\nevent: {event}\ndata: {body}\n\n"


@dataclass
class ViewerState:
    """Where this viewer's stream stands: the position told, and the counts told."""

    position: int
    counts: dict[str, int] = field(default_factory=dict)
    counted_at: float = 0.0


def stream_response(
    hub: LiveHub, container: Container, viewer: Viewer, *, since: int | None
) -> StreamingResponse:
    """Counts one stream in (``StreamsFull`` beyond the limit) and answers with its feed."""
    hub.enter()
    left = _Once(hub.leave)
    return StreamingResponse(
        _feed(hub, container, viewer, since, left),
        media_type="text/event-stream",
        headers=HEADERS,
        background=BackgroundTask(left),  # also when the feed never started
    )


class _Once:
    def __init__(self, action: Any) -> None:
        self.action, self.done = action, False

    def __call__(self) -> None:
        if not self.done:
            self.done = True
            self.action()


async def _feed(
    hub: LiveHub, container: Container, viewer: Viewer, since: int | None, left: _Once
) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n\n"
        head = await anyio.to_thread.run_sync(hub.head, container)
        state = ViewerState(position=head if since is None else min(since, head))
        started = beat = time.monotonic()
        while not hub.stopping and time.monotonic() - started < hub.lifetime:
            head = await anyio.to_thread.run_sync(hub.head, container)
            recount = time.monotonic() - state.counted_at >= hub.recount_seconds
            if head > state.position or recount:
                sent = await anyio.to_thread.run_sync(_catch_up, container, viewer, state, head)
                for text in sent:
                    yield text
                if sent:
                    beat = time.monotonic()
            if time.monotonic() - beat >= hub.heartbeat_seconds:
                yield ": keep-alive\n\n"
                beat = time.monotonic()
            await anyio.sleep(hub.poll_seconds)
    finally:
        left()


def _catch_up(container: Container, viewer: Viewer, state: ViewerState, head: int) -> list[str]:
    """The messages for what happened after ``state.position`` up to ``head``; moves it."""
    container.fresh("case_list")
    read = container.store.read_all(after=state.position, limit=BACKLOG)
    recorded = [event for event in read if event.position <= head]
    behind = len(read) == BACKLOG and recorded  # more to tell: the next poll goes on from here
    position = recorded[-1].position if behind else max(head, state.position)
    lists = visible_worklists(viewer)
    with container.store.reading() as conn:
        changes = changes_for(conn, viewer, recorded)
        counts = worklist_counts(conn, viewer, lists, at=_moment(container))
    sent = [message("task", task, position) for task in changes.tasks]
    sent += [message("alert", alert, position) for alert in changes.alerts]
    for worklist in lists:
        count = counts[worklist.key]
        if state.counts.get(worklist.key) != count:
            data = {"key": worklist.key, "title": worklist.title, "count": count}
            sent.append(message("worklist", data, position))
    state.position, state.counts, state.counted_at = position, counts, time.monotonic()
    return sent


def _moment(container: Container) -> Moment:
    zone, _weights = zone_and_weights(container.catalogue_source(), container.settings.timezone)
    now = container.clock()
    return Moment(now=now, today=now.astimezone(zone).date())
