"""挂账到期: when a parked case's ``review_on`` comes, the timer scan raises CaseParkReviewDue
once — however many scans (or schedulers) run — and the case list shows ``park_review_due``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from dispatch.domain.commands import ParkCase, UnparkCase
from dispatch.handlers import Issuer
from dispatch.handlers.actor import SystemActor
from dispatch.queries.cases import get_case
from workers import timers

from worlds.routing import Clock, World, claimed_redis, fresh_database

DISPATCHER = SystemActor(username="dispatcher-1", roles=frozenset({"dispatcher"}))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timed(tmp_path: Path, redis_url: str, clock: Clock) -> Iterator[World]:
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        world = World.build(database_url, own_redis, clock=clock)
        world.load_catalogue()
        try:
            yield world
        finally:
            world.close()


def park(world: World, case_id: str, review_on: date) -> None:
    issuer = Issuer(actor=DISPATCHER, role="dispatcher")
    world.container.handle(case_id, ParkCase(plan="纳入明年管网改造", review_on=review_on), issuer)


def reviews_of(world: World, case_id: str) -> list[dict[str, object]]:
    return world.events_of(case_id, "CaseParkReviewDue")


def review_due_shown(world: World, case_id: str) -> bool:
    world.container.projector.catch_up()
    with world.container.store.reading() as conn:
        case = get_case(conn, case_id)
    assert case is not None
    return bool(case["park_review_due"])


def test_a_park_review_is_raised_once_when_its_day_comes_however_often_the_scan_runs(
    timed: World, clock: Clock
) -> None:
    case_id = timed.submit()
    timed.settle()
    today = clock().astimezone(timed.container.handling.catalogue_source()[1].zone).date()
    park(timed, case_id, today + timedelta(days=2))

    timers.raise_due_warnings(timed.container)
    assert reviews_of(timed, case_id) == []
    assert not review_due_shown(timed, case_id)

    clock.advance(timedelta(days=2))
    first = timers.raise_due_warnings(timed.container)
    second = timers.raise_due_warnings(timed.container)

    assert (first["park_reviews"], second["park_reviews"]) == (1, 0)
    assert reviews_of(timed, case_id) == [{"review_on": (today + timedelta(days=2)).isoformat()}]
    assert review_due_shown(timed, case_id)


def test_an_unparked_case_is_never_reviewed(timed: World, clock: Clock) -> None:
    case_id = timed.submit()
    timed.settle()
    park(timed, case_id, clock().date() + timedelta(days=1))
    timed.container.handle(
        case_id, UnparkCase(note="资金已落实"), Issuer(actor=DISPATCHER, role="dispatcher")
    )

    clock.advance(timedelta(days=3))
    timers.raise_due_warnings(timed.container)

    assert reviews_of(timed, case_id) == []
    assert not review_due_shown(timed, case_id)
