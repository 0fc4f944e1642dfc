"""Users read in the last moment: the signed-in user of a request without a database read.

Every API request and console page checks its user against the users table (a disabled
account or ended session must stop working). At a hundred requests a second that read was a
connection checkout, a query and a rollback per request — a tenth of the API's CPU. A user
read less than ``TTL`` seconds ago is taken from here instead.

What it costs: a change made by *another process* (a second API process, the CLI) reaches
this process's requests up to ``TTL`` seconds later. A change made in this process is seen at
once, because every write to the users table (``dispatch.auth.staff``) calls
``users_changed``, which empties the cache.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from dispatch.auth.users import User

TTL = 2.0  # seconds a read user is trusted: how late another process's change may be seen
LIMIT = 10_000  # users held at most (a centre has a few thousand staff)

_generation = 0
_generation_lock = threading.Lock()


def users_changed() -> None:
    """Forget every cached user in this process (called by each write to the users table)."""
    global _generation
    with _generation_lock:
        _generation += 1


class RecentUsers:
    """User id → (user, when read, generation); thread-safe."""

    def __init__(self, ttl: float = TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._held: dict[str, tuple[User, float, int]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str) -> User | None:
        """The user if read less than ``ttl`` ago and no write happened here since."""
        with self._lock:
            held = self._held.get(user_id)
        if held is None:
            return None
        user, read_at, generation = held
        if generation != _generation or self.clock() - read_at >= self.ttl:
            return None
        return user

    def put(self, user: User, *, generation: int) -> None:
        """Remember ``user`` as read now; ``generation`` is ``current_generation()`` taken
        *before* the read, so a write that raced the read leaves the entry already stale."""
        with self._lock:
            if len(self._held) >= LIMIT:
                self._held.clear()
            self._held[user.id] = (user, self.clock(), generation)


def current_generation() -> int:
    return _generation
