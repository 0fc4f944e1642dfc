"""The read side: list filters, who sees what, one case as clients get it, the inbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dispatch.auth.principal import Principal
from dispatch.auth.roles import Role
from dispatch.domain import events as ev
from dispatch.projections import ProjectionRunner
from dispatch.projections.case_list import live_tables
from dispatch.queries import cases as cases_module
from dispatch.queries.cases import capped_total, get_case, list_cases, unroutable_cases
from dispatch.queries.masking import mask_phone, present_case
from dispatch.queries.scope import can_view_case
from dispatch.queries.tasks import get_task, list_tasks
from events.vault import erase_personal_data, store_personal_data

from worlds.projection_story import T0, Story


@dataclass(frozen=True)
class Viewer:
    roles: frozenset[str]
    department: str | None = None
    street: str | None = None


SUPERVISOR = Viewer(frozenset({"supervisor"}))


def liaison(department: str) -> Viewer:
    return Viewer(frozenset({"liaison"}), department=department)


@pytest.fixture
def town(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> dict[str, Any]:
    """Three cases of one category: water's (signed, red), roads' (dispatched), unroutable."""
    water, roads = f"water-{unique}", f"roads-{unique}"
    category = f"water.{unique}"
    with engine.begin() as conn:
        ref = store_personal_data(conn, {"name": "张三", "phone": "13800138000"})
    first = (
        story(f"a-{unique}")
        .received(category=category, street=f"S{unique}", grid=f"G{unique}", reporter_ref=ref,
                  address="西一路 12 号", description="停水三天", lat=34.27, lon=108.95)
        .dispatched(f"ta-{unique}", water)
        .then(ev.TaskSigned(task_id=f"ta-{unique}"))
        .then(ev.SlaWarningRaised(task_id=f"ta-{unique}", stage="reply", level="red",
                                  deadline=T0))
    )  # fmt: skip
    second = (
        story(f"b-{unique}")
        .received(category=category, street=f"T{unique}", description="路面塌陷",
                  address="东二路 3 号", lat=34.30, lon=108.99)
        .dispatched(f"tb-{unique}", roads)
    )  # fmt: skip
    third = story(f"c-{unique}").received(category=category, street=f"T{unique}", address="南三路")
    third.then(ev.CaseUnroutable(reason="no rule matched"))
    live_runner.catch_up()
    return {
        "water": water, "roads": roads, "category": category, "ref": ref,
        "ids": (first.case_id, second.case_id, third.case_id), "street": f"S{unique}",
    }  # fmt: skip


def ids(items: list[dict[str, Any]]) -> list[str]:
    return sorted(item["id"] for item in items)


def test_filters_narrow_the_case_list(engine: Engine, town: dict[str, Any]) -> None:
    a, b, c = town["ids"]
    cat = town["category"]
    with engine.connect() as conn:
        assert ids(list_cases(conn, SUPERVISOR, category=cat)[0]) == sorted([a, b, c])
        assert ids(list_cases(conn, SUPERVISOR, category=f"{cat[:-3]}*")[0]) >= sorted([a, b, c])
        assert ids(list_cases(conn, SUPERVISOR, category=cat, status="in_progress")[0]) == [a]
        assert ids(
            list_cases(conn, SUPERVISOR, category=cat, status="dispatched,received")[0]
        ) == sorted([b, c])
        roads, total = list_cases(conn, SUPERVISOR, department=town["roads"])
        assert (ids(roads), total) == ([b], 1)
        assert ids(list_cases(conn, SUPERVISOR, category=cat, street=town["street"])[0]) == [a]
        assert ids(list_cases(conn, SUPERVISOR, category=cat, overdue=True)[0]) == [a]
        assert ids(list_cases(conn, SUPERVISOR, category=cat, q="塌陷")[0]) == [b]
        assert ids(list_cases(conn, SUPERVISOR, category=cat, q="西一路")[0]) == [a]
        assert list_cases(conn, SUPERVISOR, category=cat, q="13800138000") == ([], 0)
        assert list_cases(conn, SUPERVISOR, category=cat, q="1_ 号") == ([], 0)  # _ is literal
        assert list_cases(conn, SUPERVISOR, q="x'); DROP TABLE case_list; --%") == ([], 0)
        assert ids(list_cases(conn, SUPERVISOR, category=cat, q="12 号")[0]) == [a]
        near, _ = list_cases(conn, SUPERVISOR, category=cat, near=(34.2701, 108.9501))
        assert ids(near) == [a]
        page, total = list_cases(conn, SUPERVISOR, category=cat, page=2, page_size=2)
        assert (len(page), total) == (1, 3)


def test_the_total_of_the_whole_list_or_of_some_statuses_counts_every_such_case(
    engine: Engine, town: dict[str, Any]
) -> None:
    cases = live_tables()["case_list"]
    count = sa.select(sa.func.count()).select_from(cases)
    with engine.connect() as conn:
        everything = conn.execute(count).scalar_one()
        waiting = conn.execute(count.where(cases.c.status.in_(["received", "dispatched"])))
        waiting_total = waiting.scalar_one()

        assert list_cases(conn, SUPERVISOR, page_size=1)[1] == everything >= 3
        assert list_cases(conn, SUPERVISOR, status="received, dispatched")[1] == waiting_total
        assert list_cases(conn, SUPERVISOR, status="no_such_status") == ([], 0)
        assert list_cases(conn, liaison(town["water"]))[1] == 1  # its own cases, not all


def test_a_search_matching_more_than_the_cap_says_so_instead_of_counting_on(
    engine: Engine, town: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = town["category"]
    with engine.connect() as conn:
        items, total = list_cases(conn, SUPERVISOR, category=cat, q="路")  # all three
        assert (len(items), capped_total(total, "路")) == (3, (3, False))

        monkeypatch.setattr(cases_module, "SEARCH_COUNT_CAP", 2)
        items, total = list_cases(conn, SUPERVISOR, category=cat, q="路")

        assert len(items) == 3  # the page is whole; only the count stopped
        assert cases_module.capped_total(total, "路") == (2, True)
        assert list_cases(conn, SUPERVISOR, category=cat, q="塌陷")[1] == 1
        unsearched = list_cases(conn, SUPERVISOR, category=cat)[1]  # not a search: exact
        assert cases_module.capped_total(unsearched, None) == (3, False)


def test_a_search_in_few_cases_and_in_many_gives_the_same_pages_in_the_same_order(
    engine: Engine,
    story: Callable[[str], Story],
    live_runner: ProjectionRunner,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Few matches are found through the text index and sorted after, many by walking the
    list newest first (``list_cases``); the reader sees no difference."""
    category = f"water.{unique}"
    hours = {"a": 3, "b": 0, "c": 2, "d": 1}  # newest first: a, c, d, b
    for name, hour in hours.items():
        story(f"{name}-{unique}").received(
            category=category, received_at=T0 + timedelta(hours=hour), address=f"西{hour}路",
            lat=34.27 + hour / 100, lon=108.95,
        )  # fmt: skip
    live_runner.catch_up()
    asked: list[dict[str, Any]] = [
        {"q": "路"},
        {"q": "路", "page": 2, "page_size": 2},
        {"q": "路", "near": (34.30, 108.95), "radius_m": 50_000.0},
    ]

    def pages() -> list[list[str]]:
        with engine.connect() as conn:
            found = [list_cases(conn, SUPERVISOR, category=category, **each) for each in asked]
        return [[item["id"].split("-")[0] for item in items] for items, _total in found]

    few = pages()  # under the cap: the index, then a sort
    monkeypatch.setattr(cases_module, "SEARCH_COUNT_CAP", 0)
    many = pages()  # over the cap: the walk newest first

    assert few == many == [["a", "c", "d", "b"], ["d", "b"], ["a", "c", "d", "b"]]


def test_a_liaison_sees_only_cases_its_department_works_on(
    engine: Engine, town: dict[str, Any], unique: str
) -> None:
    a, b, _ = town["ids"]
    cat = town["category"]
    with engine.connect() as conn:
        assert ids(list_cases(conn, liaison(town["water"]), category=cat)[0]) == [a]
        assert list_cases(conn, liaison(f"other-{unique}"), category=cat) == ([], 0)
        case = get_case(conn, b)
    assert case is not None
    assert can_view_case(case, liaison(town["roads"]))
    assert not can_view_case(case, liaison(town["water"]))


def test_a_street_officer_sees_its_streets_cases(engine: Engine, town: dict[str, Any]) -> None:
    a, _, _ = town["ids"]
    officer = Principal(id="u", username="u", roles=frozenset({Role.STREET}), street=town["street"])
    with engine.connect() as conn:
        assert ids(list_cases(conn, officer, category=town["category"])[0]) == [a]
        both = Viewer(
            frozenset({"street", "liaison"}), department=town["roads"], street=town["street"]
        )
        assert len(list_cases(conn, both, category=town["category"])[0]) == 2
        case = get_case(conn, a)
    assert case is not None and can_view_case(case, officer)


def test_one_case_carries_tasks_warnings_and_a_masked_phone(
    engine: Engine, town: dict[str, Any]
) -> None:
    a, _, _ = town["ids"]
    with engine.connect() as conn:
        case = get_case(conn, a)
    assert case is not None
    contract = {"id", "case_no", "status", "version", "channel", "category", "urgency"}
    contract |= {"description", "location", "reporter", "received_at", "tasks", "warnings"}
    assert contract <= set(case)
    assert case["status"] == "in_progress" and case["version"] == 4
    assert case["location"]["street"] == town["street"]
    assert case["received_at"].endswith("+00:00")
    (task,) = case["tasks"]
    assert task["department"] == town["water"] and task["state"] == "signed"
    assert task["delivery"] == "pending" and task["signed_at"] is not None
    assert set(task["deadlines"]) >= {"sign_by", "contact_by", "reply_by"}
    assert case["warnings"] == [
        {"task_id": task["id"], "department": town["water"], "stage": "reply", "level": "red",
         "deadline": case["warnings"][0]["deadline"], "raised_at": case["warnings"][0]["raised_at"]}
    ]  # fmt: skip
    assert case["reporter"] == {"name": "张三", "phone": "13800138000", "confidential": False}
    assert present_case(case, liaison(town["roads"]))["reporter"]["phone"] == "138****8000"
    assert present_case(case, SUPERVISOR)["reporter"]["phone"] == "138****8000"
    # Water's task is live (signed): its liaison must call the reporter (§8.2).
    assert present_case(case, liaison(town["water"]))["reporter"]["phone"] == "13800138000"
    assert present_case(case, Viewer(frozenset({"operator"})))["reporter"]["phone"] == "13800138000"
    assert case["reporter"]["phone"] == "13800138000"  # present_case copies, never mutates

    with engine.begin() as conn:
        erase_personal_data(conn, town["ref"])
    with engine.connect() as conn:
        erased = get_case(conn, a)
    assert erased is not None
    assert erased["reporter"] == {"name": None, "phone": None, "confidential": False}


def test_masking_keeps_the_prefix_and_the_last_four() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone(None) is None
    assert mask_phone("12345") == "***45"


def test_the_inbox_is_forced_to_the_liaisons_department(
    engine: Engine, town: dict[str, Any]
) -> None:
    water, roads = town["water"], town["roads"]
    with engine.connect() as conn:
        mine, total = list_tasks(conn, liaison(water), department=roads)
        assert [t["department"] for t in mine] == [water] and total == 1
        assert mine[0]["case"]["category"] == town["category"]
        dispatcher = Viewer(frozenset({"dispatcher"}))
        assert [t["department"] for t in list_tasks(conn, dispatcher, department=roads)[0]] == [
            roads
        ]
        assert list_tasks(conn, dispatcher, department=roads, state="signed")[1] == 0
        assert list_tasks(conn, dispatcher, department=roads, state="open")[1] == 1
        assert list_tasks(conn, dispatcher, department=water, overdue=True)[1] == 1
        assert list_tasks(conn, dispatcher, department=roads, overdue=True)[1] == 0
        assert list_tasks(conn, liaison(""), department=water) == ([], 0)
        task = get_task(conn, mine[0]["id"])
    assert task is not None and task["case_id"] == town["ids"][0]


def test_unroutable_cases_wait_for_a_dispatcher(engine: Engine, town: dict[str, Any]) -> None:
    _, _, c = town["ids"]
    with engine.connect() as conn:
        queue = unroutable_cases(conn, limit=10_000)
    assert c in {item["id"] for item in queue}
    assert not {town["ids"][0], town["ids"][1]} & {item["id"] for item in queue}


def test_a_departments_cases_count_each_case_once_and_not_for_a_returned_task(
    engine: Engine, story: Callable[[str], Story], live_runner: ProjectionRunner, unique: str
) -> None:
    works, other = f"works-{unique}", f"other-{unique}"
    twice = story(f"twice-{unique}").received(category=f"cat.{unique}")
    twice.dispatched(f"t1-{unique}", works).then(
        ev.TaskSigned(task_id=f"t1-{unique}"),
        ev.TaskReplied(task_id=f"t1-{unique}", resolution="已修复"),
    )
    twice.dispatched(f"t2-{unique}", works)  # the same department again, in play too
    returned = story(f"returned-{unique}").received(category=f"cat.{unique}")
    returned.dispatched(f"t3-{unique}", other).then(ev.TaskReturnApproved(task_id=f"t3-{unique}"))
    live_runner.catch_up()
    with engine.connect() as conn:
        assert list_cases(conn, SUPERVISOR, department=works)[1] == 1
        assert list_cases(conn, SUPERVISOR, department=other) == ([], 0)
