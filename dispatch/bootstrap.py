"""The composition root: the API, the workers, the CLI and the tests all build from here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.engine import Engine

from dispatch.catalogue import Catalogue
from dispatch.catalogue.versions import active_catalogue
from dispatch.handlers import CaseService, CommandResult
from dispatch.projections import default_projections
from dispatch.projections.runner import ProjectionRunner
from dispatch.settings import Settings
from events import EventStore
from events.database import make_engine

Clock = Callable[[], datetime]

# The projection a command's caller reads back at once (the case, the list, the inbox).
WRITES_READ_BACK = "case_list"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    settings: Settings
    engine: Engine
    store: EventStore
    cases: CaseService
    projector: ProjectionRunner
    catalogue_source: Callable[[], tuple[int, Catalogue] | None]
    clock: Clock = system_clock
    redis_url: str | None = None
    extras: dict[str, object] = field(default_factory=dict)

    def after_command(self, result: CommandResult) -> None:
        """Route in-process when configured; bring the case list up to date.

        Catching the case list (and inbox) up here gives the caller read-your-writes on the
        next GET; the scheduler's projector keeps every projection current for everything
        else. Only the case list: catching every projection up on every command cost the API
        more than the command itself under load; reads of the others call ``fresh`` instead.
        """
        if self.settings.inline_routing and any(e.type == "CaseReceived" for e in result.events):
            self.cases.route_case(result.case_id)
        self.projector.catch_up(WRITES_READ_BACK)

    def fresh(self, projection: str) -> None:
        """Before reading ``projection``: fold in what was appended since it last caught up,
        so a supervisor sees a command's effect at once even when no scheduler runs."""
        self.projector.catch_up(projection)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(
    settings: Settings, *, clock: Clock = system_clock, redis_url: str | None = None
) -> Container:
    engine = make_engine(settings.database_url)
    store = EventStore(engine)
    catalogue_source = partial(active_catalogue, engine)
    projector = ProjectionRunner(engine, default_projections())
    return Container(
        settings=settings,
        engine=engine,
        store=store,
        cases=CaseService(store=store, clock=clock, catalogue_source=catalogue_source),
        projector=projector,
        catalogue_source=catalogue_source,
        clock=clock,
        redis_url=redis_url or settings.redis_url,
    )
