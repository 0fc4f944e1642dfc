"""The composition root: the API, the workers, the CLI and the tests all build from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from dispatch.auth.passwords import DEFAULT_HASHER
from dispatch.auth.recent_users import RecentUsers
from dispatch.catalogue import Catalogue
from dispatch.catalogue.versions import active_catalogue
from dispatch.delivery.policy import DEFAULT_POLICY, DeliveryPolicy
from dispatch.handlers import CommandResult, Handling, Issuer, handle, routed_tasks
from dispatch.handlers.case_numbers import StoredIntake
from dispatch.media import MediaStore, media_store_from_settings
from dispatch.projections import default_projections
from dispatch.projections.runner import ProjectionRunner
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
    handling: Handling
    projector: ProjectionRunner
    catalogue_source: Callable[[], tuple[int, Catalogue] | None]
    media_store: MediaStore
    clock: Clock = system_clock
    redis_url: str | None = None
    password_hasher: PasswordHasher = DEFAULT_HASHER  # tests use cheap argon2 parameters
    delivery_policy: DeliveryPolicy = DEFAULT_POLICY
    # Signed-in users read in the last moment (``dispatch.auth.recent_users``).
    recent_users: RecentUsers = field(default_factory=RecentUsers)

    def handle(self, target: str, command: object, issuer: Issuer) -> CommandResult:
        """Run a command (``dispatch.handlers.handle``) with this container's log and clock."""
        return handle(self.handling, target, command, issuer)

    def after_command(self, result: CommandResult) -> None:
        """Route in-process when configured.

        Commands do not catch the projections up: the scheduler's projector keeps them
        current, and every read of a projection calls ``fresh`` first (read-your-writes).
        Catching up after every command cost the API a third of its CPU at 100 complaints/s
        and did the same work per case that the scheduler does per batch.
        """
        if self.settings.inline_routing and any(e.type == "CaseReceived" for e in result.events):
            routed_tasks(self.handling, result.case_id)

    def fresh(self, projection: str) -> None:
        """Before reading ``projection``: fold in what was appended since it last caught up,
        so a reader sees every command answered before, with or without a scheduler (one
        query when nothing is new)."""
        self.projector.catch_up(projection, wait=True)

    def close(self) -> None:
        self.engine.dispose()


def outage_bounds(settings: Settings) -> dict[str, Any]:
    """How long a request waits on PostgreSQL before it is a 503 (DESIGN.md §8.10): a
    server that does not answer, or a pool with no connection free, fails fast instead of
    holding the request (and its admission slot) for SQLAlchemy's default 30 s."""
    if settings.database_url.startswith("sqlite"):
        return {}
    return {
        "pool_timeout": settings.database_pool_timeout,
        "connect_args": {"connect_timeout": settings.database_connect_timeout},
    }


def bootstrap(
    settings: Settings, *, clock: Clock = system_clock, redis_url: str | None = None
) -> Container:
    engine = make_engine(settings.database_url, **outage_bounds(settings))
    store = EventStore(engine)
    catalogue_source = partial(active_catalogue, engine)
    projector = ProjectionRunner(engine, default_projections())
    return Container(
        settings=settings,
        engine=engine,
        store=store,
        handling=Handling(
            log=store,
            clock=clock,
            catalogue_source=catalogue_source,
            intake=StoredIntake(store, phone_key=settings.phone_index_key()),
        ),
        projector=projector,
        catalogue_source=catalogue_source,
        media_store=media_store_from_settings(settings),
        clock=clock,
        redis_url=redis_url or settings.redis_url,
    )
