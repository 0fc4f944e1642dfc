"""Replaying a dead letter (死信): the job runs again, its delivery starting over with a
fresh count of attempts. The API's route and the dispatcher's desk both call ``replay``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import redis

from dispatch.delivery.notice_state import fail_notice_again, reset_notice
from dispatch.delivery.queues import KINDS, enqueue, redis_connection, spec_for
from dispatch.delivery.state import get_dead_letter, mark_replayed, reopen_dead_letter
from events import EventStore


class ReplayRefused(Exception):
    """Why a dead letter cannot be replayed now; ``status`` is the HTTP answer that says so."""

    def __init__(self, status: int, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def replay(
    store: EventStore,
    letter_id: int,
    *,
    by: str,
    clock: Callable[[], datetime],
    redis_url: str | None,
) -> dict[str, Any]:
    """Mark the letter replayed and enqueue its job again: the letter, with the ``job_id``."""
    with store.transaction() as conn:
        letter = get_dead_letter(conn, letter_id)
        if letter is None:
            raise ReplayRefused(404, f"no dead letter with id {letter_id}")
        if letter["kind"] not in KINDS:
            raise ReplayRefused(
                409,
                f"dead letter {letter_id} is a {letter['kind']!r} job, which cannot be run "
                f"again; only {', '.join(KINDS)} jobs can be replayed",
            )
        if letter["replayed_at"] is not None:
            raise ReplayRefused(
                409,
                f"dead letter {letter_id} was already replayed at {letter['replayed_at']} "
                f"by {letter['replayed_by']}; a new failure makes a new dead letter",
            )
        mark_replayed(conn, letter_id, by=by, now=clock())
        notice = letter["payload"].get("notice_id")
        if notice:
            reset_notice(conn, notice, now=clock())
    # Enqueued after the commit, so the job sees the reset delivery; undone if Redis is down.
    spec = spec_for(letter["kind"], letter["queue"], letter["payload"].get("args", []))
    try:
        if redis_url is None:
            raise redis.ConnectionError("no Redis is configured")
        enqueue(redis_connection(redis_url), spec, replace_settled=True)
    except redis.RedisError as error:
        with store.transaction() as conn:
            reopen_dead_letter(conn, letter_id, now=clock())
            if notice:
                fail_notice_again(conn, notice, now=clock())
        raise ReplayRefused(
            503,
            f"the job queue is unreachable ({type(error).__name__}); the dead letter stays "
            "open: replay it again shortly",
            retry_after=5,
        ) from None
    with store.reading() as conn:
        body = get_dead_letter(conn, letter_id)
    return {**(body or letter), "job_id": spec.id}
