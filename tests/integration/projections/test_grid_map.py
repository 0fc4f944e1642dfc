"""The grid map's numbers (DESIGN.md §8.7) match a hand count of the case list: open cases and
overdue tasks per grid, every grid of the catalogue in view (0 where nothing counts), a street
officer its own street's grids only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from dispatch.catalogue import Catalogue
from dispatch.domain import events as ev
from dispatch.projections import ProjectionRunner
from dispatch.queries.grid_map import MEASURES, NotYourStreet, grid_values

from worlds.projection_story import T0, Story

SQUARE = [(113.30, 30.50), (113.31, 30.50), (113.31, 30.51), (113.30, 30.51), (113.30, 30.50)]
LATE_FOR_SIGNING = T0 + timedelta(hours=30)  # sign_by is T0 + 24 h, contact_by T0 + 2 days


@dataclass(frozen=True)
class Viewer:
    roles: frozenset[str]
    department: str | None = None
    street: str | None = None


def catalogue_of(unique: str) -> Catalogue:
    """Two streets; grid C has no polygon; grid D is the other street's."""
    grids = [
        {"code": f"A{unique}", "name": "甲网格", "street": f"S{unique}", "polygon": SQUARE},
        {"code": f"B{unique}", "name": "乙网格", "street": f"S{unique}", "polygon": SQUARE},
        {"code": f"C{unique}", "name": "丙网格", "street": f"S{unique}"},
        {"code": f"D{unique}", "name": "丁网格", "street": f"T{unique}", "polygon": SQUARE},
    ]
    return Catalogue.model_validate(
        {
            "version": f"grid-map-{unique}",
            "streets": [
                {"code": f"S{unique}", "name": "甲街道", "office": "office"},
                {"code": f"T{unique}", "name": "乙街道", "office": "office"},
            ],
            "departments": [{"code": "office", "name": "街道办"}],
            "grids": grids,
            "categories": [{"code": "road.pothole", "name": "道路坑洼", "sla": "general"}],
            "routing": [{"id": "R-any", "category": "*", "lead": "office"}],
            "sla": {"general": {"sign": "24h", "contact": "2wd", "reply": "7wd"}},
        }
    )


@pytest.fixture
def city(story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str) -> Catalogue:
    """By hand: A holds 3 open cases (one parked) and 1 answered, 2 tasks late for signing
    and 1 signed in time; B holds 1 open case whose task signed; C nothing; D 1 late task."""
    street, other = f"S{unique}", f"T{unique}"
    counter = iter(range(100))

    def uuid_part() -> str:
        return f"{unique}-{next(counter)}"

    def case(grid: str, at_street: str = street) -> Story:
        return story(f"gm-{uuid_part()}").received(grid=f"{grid}{unique}", street=at_street)

    case("A").dispatched(f"t-{uuid_part()}", "office")
    case("A").dispatched(f"t-{uuid_part()}", "office")
    parked = case("A")
    parked.then(ev.CaseParked(plan="等待改造", review_on=date(2026, 6, 1)))
    case("A").then(ev.CaseAnswered(answer="已解释政策"))
    signed_in_time = f"t-{uuid_part()}"
    case("A").dispatched(signed_in_time, "office").then(
        ev.TaskSigned(task_id=signed_in_time), role="liaison"
    )
    signed_b = f"t-{uuid_part()}"
    case("B").dispatched(signed_b, "office").then(ev.TaskSigned(task_id=signed_b), role="liaison")
    case("D", other).dispatched(f"t-{uuid_part()}", "office")
    live_runner.catch_up()
    return catalogue_of(unique)


SUPERVISOR = Viewer(frozenset({"supervisor"}))


def values(
    engine: Engine, viewer: Viewer, catalogue: Catalogue, measure: str, **kw: str
) -> dict[str, int]:
    with engine.connect() as conn:
        found = grid_values(conn, viewer, catalogue, measure=measure, now=LATE_FOR_SIGNING, **kw)
    return {item.grid: item.value for item in found}


def test_open_cases_per_grid_match_a_hand_count(engine: Engine, city: Catalogue, unique: str):
    counted = values(engine, SUPERVISOR, city, "open")
    assert counted == {f"A{unique}": 4, f"B{unique}": 1, f"C{unique}": 0, f"D{unique}": 1}


def test_overdue_tasks_per_grid_count_the_tasks_late_now(
    engine: Engine, city: Catalogue, unique: str
):
    counted = values(engine, SUPERVISOR, city, "overdue")
    assert counted == {f"A{unique}": 2, f"B{unique}": 0, f"C{unique}": 0, f"D{unique}": 1}


def test_a_street_officer_sees_its_own_streets_grids_only(
    engine: Engine, city: Catalogue, unique: str
):
    officer = Viewer(frozenset({"street"}), street=f"S{unique}")
    assert set(values(engine, officer, city, "open")) == {f"A{unique}", f"B{unique}", f"C{unique}"}
    with pytest.raises(NotYourStreet):
        values(engine, officer, city, "open", street=f"T{unique}")


def test_a_street_officer_without_a_street_sees_no_grid(engine: Engine, city: Catalogue):
    assert values(engine, Viewer(frozenset({"street"})), city, "open") == {}


def test_a_supervisor_may_ask_for_one_street(engine: Engine, city: Catalogue, unique: str):
    assert set(values(engine, SUPERVISOR, city, "open", street=f"T{unique}")) == {f"D{unique}"}


def test_grids_keep_catalogue_order_and_say_whether_they_can_be_drawn(
    engine: Engine, city: Catalogue, unique: str
):
    with engine.connect() as conn:
        found = grid_values(conn, SUPERVISOR, city, measure="open", now=LATE_FOR_SIGNING)
    assert [(item.grid, item.has_polygon) for item in found] == [
        (f"A{unique}", True),
        (f"B{unique}", True),
        (f"C{unique}", False),
        (f"D{unique}", True),
    ]
    assert found[0].item()["name"] == "甲网格"


def test_every_measure_answers_for_an_empty_catalogue(engine: Engine):
    empty = catalogue_of("x").model_copy(update={"grids": []})
    for measure in MEASURES:
        assert values(engine, SUPERVISOR, empty, measure) == {}
