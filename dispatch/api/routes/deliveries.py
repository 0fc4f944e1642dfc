"""Dead letters (死信): deliveries and jobs that gave up, for a dispatcher to see and replay."""

from __future__ import annotations

from typing import Annotated, Literal

import redis
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.paging import Page, PageSize
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.delivery.queues import KINDS, enqueue, redis_connection, spec_for
from dispatch.delivery.state import (
    get_dead_letter,
    list_dead_letters,
    mark_replayed,
    reopen_dead_letter,
)

router = APIRouter(prefix="/deliveries", tags=["deliveries"])
Dispatcher = Annotated[User, Depends(roles("dispatcher"))]


@router.get("/dead-letters")
def dead_letters(
    container: ContainerDep,
    _user: Dispatcher,
    state: Literal["open", "replayed", "all"] = "open",
    page: Page = 1,
    page_size: PageSize = 50,
) -> dict[str, object]:
    """Jobs that gave up, newest first: ``open`` ones wait for a replay."""
    with container.store.reading() as conn:
        items, total = list_dead_letters(
            conn, state=state, limit=page_size, offset=(page - 1) * page_size
        )
    return {"items": items, "total": total}


@router.post("/dead-letters/{letter_id}/replay", status_code=202)
def replay(letter_id: int, container: ContainerDep, user: Dispatcher) -> JSONResponse:
    """Run the job again: the delivery starts over with a fresh count of attempts."""
    with container.store.transaction() as conn:
        letter = get_dead_letter(conn, letter_id)
        if letter is None:
            raise Problem(404, f"no dead letter with id {letter_id}")
        if letter["kind"] not in KINDS:
            raise Problem(
                409,
                f"dead letter {letter_id} is a {letter['kind']!r} job, which cannot be run "
                f"again; only {', '.join(KINDS)} jobs can be replayed",
            )
        if letter["replayed_at"] is not None:
            raise Problem(
                409,
                f"dead letter {letter_id} was already replayed at {letter['replayed_at']} "
                f"by {letter['replayed_by']}; a new failure makes a new dead letter",
            )
        mark_replayed(conn, letter_id, by=user.username, now=container.clock())
    # Enqueued after the commit, so the job sees the reset delivery; undone if Redis is down.
    spec = spec_for(letter["kind"], letter["queue"], letter["payload"].get("args", []))
    try:
        if container.redis_url is None:
            raise redis.ConnectionError("no Redis is configured")
        enqueue(redis_connection(container.redis_url), spec, replace_settled=True)
    except redis.RedisError as error:
        with container.store.transaction() as conn:
            reopen_dead_letter(conn, letter_id, now=container.clock())
        raise Problem(
            503,
            f"the job queue is unreachable ({type(error).__name__}); the dead letter stays "
            "open: replay it again shortly",
            headers={"Retry-After": "5"},
        ) from None
    with container.store.reading() as conn:
        body = get_dead_letter(conn, letter_id)
    return JSONResponse({**(body or letter), "job_id": spec.id}, status_code=202)
