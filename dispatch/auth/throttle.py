"""Sign-in throttling (DESIGN.md §8.9): a guessed password costs the guesser, not the service.

After ``per_username`` failures for one username, or ``per_address`` from one address, within
``window``, further attempts are refused with the time to wait, before any password is
checked. Failures are counted in Redis, so every ``serve`` process of one installation shares
them (an in-process count stands in when there is no Redis, or while it is unreachable). A
success clears the username's count, not the address's.

Independently, at most ``slots`` password checks run at once (4, or half the cores if there
are fewer than 8): argon2 takes tens of milliseconds of CPU and 64 MiB by design, and a burst
of sign-ins must not take every core (and the thread pool) from intake. A sign-in that finds
no free slot within ``wait`` seconds is told to come back (``Busy``).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import anyio
import redis

log = logging.getLogger(__name__)


def default_slots() -> int:
    """Up to 4 password checks at once, and never more than half the cores: the other half
    stays with intake however many sign-ins arrive."""
    return max(1, min(4, (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class Limits:
    per_username: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)
    slots: int = field(default_factory=default_slots)  # password checks at once, per process
    wait: float = 1.0  # seconds a sign-in waits for a slot before it is told to retry


class Throttled(Exception):
    """Too many failed sign-ins: refused without a password check."""

    def __init__(self, retry_after: int, *, by_address: bool) -> None:
        whom = "from your address" if by_address else "for this username"
        super().__init__(f"too many failed sign-ins {whom}; try again in {retry_after} seconds")
        self.retry_after = retry_after


class Busy(Exception):
    """Every password-check slot stayed taken; the client should retry shortly."""

    retry_after = 1

    def __init__(self) -> None:
        super().__init__("too many sign-ins at once; try again in a second")


class FailureLog(Protocol):
    """When the recent failures under ``key`` happened (epoch seconds, oldest first)."""

    def failures(self, key: str, since: float) -> list[float]: ...

    def record(self, keys: list[str], at: float, keep: float) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryFailures:
    """This process's own count: for a container without Redis, and while Redis is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._times: dict[str, list[float]] = defaultdict(list)

    def failures(self, key: str, since: float) -> list[float]:
        with self._lock:
            kept = [moment for moment in self._times.get(key, []) if moment > since]
            if kept:
                self._times[key] = kept
            else:
                self._times.pop(key, None)
            return kept

    def record(self, keys: list[str], at: float, keep: float) -> None:
        with self._lock:
            for key in keys:
                self._times[key] = [m for m in self._times[key] if m > at - keep] + [at]

    def clear(self, key: str) -> None:
        with self._lock:
            self._times.pop(key, None)


class RedisFailures:
    """A sorted set per key (score: when), trimmed to the window on every read."""

    def __init__(self, connection: redis.Redis, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix
        self.fallback = MemoryFailures()

    def failures(self, key: str, since: float) -> list[float]:
        name = self.prefix + key
        try:
            pipe = self.connection.pipeline(transaction=False)
            pipe.zremrangebyscore(name, "-inf", since)
            pipe.zrange(name, 0, -1, withscores=True)
            _removed, members = pipe.execute()
        except redis.RedisError as error:
            self._unreachable(error)
            return self.fallback.failures(key, since)
        return [float(score) for _member, score in members]

    def record(self, keys: list[str], at: float, keep: float) -> None:
        try:
            pipe = self.connection.pipeline(transaction=False)
            for key in keys:
                pipe.zadd(self.prefix + key, {f"{at:.6f}:{uuid.uuid4().hex[:8]}": at})
                pipe.expire(self.prefix + key, math.ceil(keep) + 60)
            pipe.execute()
        except redis.RedisError as error:
            self._unreachable(error)
            self.fallback.record(keys, at, keep)

    def clear(self, key: str) -> None:
        try:
            self.connection.delete(self.prefix + key)
        except redis.RedisError as error:
            self._unreachable(error)
        self.fallback.clear(key)

    @staticmethod
    def _unreachable(error: redis.RedisError) -> None:
        log.warning("sign-in throttle: Redis unreachable (%s); counting in this process", error)


class SignInGate:
    def __init__(self, failures: FailureLog, *, limits: Limits = Limits()) -> None:
        self.failures = failures
        self.limits = limits
        self._slots = threading.BoundedSemaphore(limits.slots)

    def check(self, username: str, address: str | None, now: datetime) -> None:
        """Raise ``Throttled`` when this username or address has failed too often lately."""
        moment = now.timestamp()
        since = moment - self.limits.window.total_seconds()
        wait = self._wait(_username_key(username), self.limits.per_username, moment, since)
        if wait:
            raise Throttled(wait, by_address=False)
        if address:
            wait = self._wait(_address_key(address), self.limits.per_address, moment, since)
            if wait:
                raise Throttled(wait, by_address=True)

    def failed(self, username: str, address: str | None, now: datetime) -> None:
        keys = [_username_key(username)] + ([_address_key(address)] if address else [])
        self.failures.record(keys, now.timestamp(), self.limits.window.total_seconds())

    def succeeded(self, username: str) -> None:
        self.failures.clear(_username_key(username))

    @asynccontextmanager
    async def hashing(self) -> AsyncIterator[None]:
        """Hold one password-check slot; ``Busy`` if none frees up within ``wait``.

        A thread semaphore polled from the event loop: a sign-in waiting for a slot holds
        neither a worker thread nor a loop-bound primitive (the gate outlives test loops).
        """
        deadline = time.monotonic() + self.limits.wait
        while not self._slots.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise Busy()
            await anyio.sleep(0.01)
        try:
            yield
        finally:
            self._slots.release()

    def _wait(self, key: str, limit: int, moment: float, since: float) -> int:
        """Seconds until fewer than ``limit`` failures remain in the window; 0: go ahead."""
        times = sorted(self.failures.failures(key, since))
        if len(times) < limit:
            return 0
        frees_at = times[len(times) - limit] + self.limits.window.total_seconds()
        return max(1, math.ceil(frees_at - moment))


def _username_key(username: str) -> str:
    # Digested: a username typed at the form may be anything, of any length.
    name = username.strip().lower().encode()
    return "user:" + hashlib.sha256(name).hexdigest()[:32]


def _address_key(address: str) -> str:
    return "address:" + address


def redis_prefix(database_url: str) -> str:
    """One installation's counters: a Redis shared by several (staging and production, or
    test sessions) must not let one lock out the other's users."""
    return "street-whistle:sign-in:" + hashlib.sha256(database_url.encode()).hexdigest()[:12] + ":"


def sign_in_gate(
    *, redis_url: str | None, database_url: str, limits: Limits = Limits()
) -> SignInGate:
    """Counters in the installation's Redis when it has one, else in this process."""
    if not redis_url:
        return SignInGate(MemoryFailures(), limits=limits)
    # Its own client with short timeouts: a Redis outage slows a sign-in by a second at
    # most before the in-process count takes over.
    connection = redis.Redis.from_url(redis_url, socket_timeout=1, socket_connect_timeout=1)
    return SignInGate(RedisFailures(connection, redis_prefix(database_url)), limits=limits)
