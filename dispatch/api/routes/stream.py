"""Live (DESIGN.md §8.8): ``GET /stream``, Server-Sent Events in the caller's scope.

``worklist`` {key, title, count} for each of the caller's worklists at the start and
whenever a count changes; ``task`` (a liaison: its department's tasks; a street officer:
the tasks its whistles summoned) when a task is new or changes; ``alert`` for SLA warnings
(supervisors and dispatchers all, a liaison its department's). Each message's ``id`` is a
log position: send it back as ``Last-Event-ID`` to hear what was missed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from starlette.responses import StreamingResponse

from dispatch.api.deps import ContainerDep, CurrentUser
from dispatch.api.problems import Problem
from dispatch.live import StreamsFull, last_event_id, live_hub, stream_response

router = APIRouter(tags=["live"])

RETRY_AFTER_SECONDS = 10


@router.get("/stream", response_class=StreamingResponse)
def stream(
    request: Request,
    container: ContainerDep,
    user: CurrentUser,
    last_event: Annotated[str | None, Header(alias="Last-Event-ID", max_length=24)] = None,
) -> StreamingResponse:
    """text/event-stream until the client leaves, the stream's lifetime ends (reconnect
    with ``Last-Event-ID``) or the server stops; 503 when this server holds its limit."""
    try:
        since = last_event_id(last_event)
    except ValueError as error:
        invalid = [{"field": "Last-Event-ID", "message": str(error)}]
        raise Problem(422, str(error), errors=invalid) from None
    try:
        return stream_response(live_hub(request), container, user, since=since)
    except StreamsFull as full:
        raise Problem(
            503,
            f"{full}; try again in {RETRY_AFTER_SECONDS} s",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        ) from None
