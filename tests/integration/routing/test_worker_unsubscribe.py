"""A worker told to stop leaves RQ's command channel at once, whatever the thread timing."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import redis

from workers.worker import DispatchWorker


def test_a_stopping_worker_ends_its_listener_even_when_slow_after_unsubscribing(
    redis_url: str,
) -> None:
    """The listener thread wakes on UNSUBSCRIBE's reply. If the worker's own thread is
    descheduled right after sending it (here: held for 0.3 s), the listener must already
    know it is to stop, or it reads again for up to a minute and the worker hangs."""
    connection = redis.Redis.from_url(redis_url)
    worker = DispatchWorker([f"unsubscribe-{uuid.uuid4().hex[:8]}"], connection=connection)
    worker.subscribe()
    time.sleep(0.3)  # the listener is in its long read
    listener = worker.pubsub_thread
    send_unsubscribe = worker.pubsub.unsubscribe

    def slow_after_sending(*args: Any) -> None:
        send_unsubscribe(*args)
        time.sleep(0.3)

    worker.pubsub.unsubscribe = slow_after_sending  # type: ignore[method-assign]

    stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
    started = time.monotonic()
    stopping.start()
    stopping.join(timeout=10)

    assert not stopping.is_alive(), "unsubscribe still waiting after 10 s"
    assert time.monotonic() - started < 3
    assert not listener.is_alive()
    connection.close()
