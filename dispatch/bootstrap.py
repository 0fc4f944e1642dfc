"""The composition root: the API, the workers, the CLI and the tests all build from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from dispatch.settings import Settings
from events import EventStore
from events.database import make_engine

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    store: EventStore
    clock: Clock = system_clock
    redis_url: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(
    settings: Settings, *, clock: Clock = system_clock, redis_url: str | None = None
) -> Container:
    engine = make_engine(settings.database_url)
    return Container(
        settings=settings,
        engine=engine,
        store=EventStore(engine),
        clock=clock,
        redis_url=redis_url or settings.redis_url,
    )
