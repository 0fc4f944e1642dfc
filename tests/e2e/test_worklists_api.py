"""GET /worklists and /worklists/{key} over HTTP (DESIGN.md §8.1): who sees which list, what
lands on it, its counts and its pages."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401

from worlds.scenarios import (
    API,
    DEPARTMENT,
    OTHER_DEPARTMENT,
    OTHER_STREET,
    STREET,
    UNROUTABLE,
    Login,
    Scenes,
    assert_problem,
)

pytestmark = pytest.mark.usefixtures("sample_catalogue")

KEYS = (
    "dispatch",
    "rulings",
    "callbacks",
    "closing",
    "sign",
    "handle",
    "overdue",
    "park_review",
    "summoned",
)
# Who sees which worklist: DESIGN.md §8.1's table, plus supervision for supervisors and the
# unroutable cases (gaps in the catalogue) for admins.
SEES = {
    "operator": ("callbacks", "closing"),
    "dispatcher": ("dispatch", "rulings", "callbacks", "closing", "overdue", "park_review"),
    "liaison": ("sign", "handle", "overdue"),
    "street": ("summoned", "patrol_missed", "hotspots"),
    "supervisor": (
        "dispatch",
        "rulings",
        "callbacks",
        "closing",
        "overdue",
        "park_review",
        "patrol_missed",
        "hotspots",
    ),
    "admin": ("dispatch",),
}


def caller(people: Login, role: str) -> dict[str, str]:
    if role == "liaison":
        return people("liaison", department=DEPARTMENT)
    if role == "street":
        return people("street", street=STREET)
    return people(role)


def listed(client: TestClient, key: str, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = client.get(
        f"{API}/worklists/{key}", params={"page_size": 500, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


@pytest.mark.parametrize("role", sorted(SEES))
def test_each_role_gets_its_own_worklists_with_chinese_titles(
    role: str, client: TestClient, people: Login
) -> None:
    response = client.get(f"{API}/worklists", headers=caller(people, role))

    assert response.status_code == 200, response.text
    lists = response.json()["lists"]
    assert tuple(item["key"] for item in lists) == SEES[role]
    assert all(item["title"] and not item["title"].isascii() for item in lists)
    assert all(isinstance(item["count"], int) and item["count"] >= 0 for item in lists)


@pytest.mark.parametrize(("role", "key"), [(role, key) for role in sorted(SEES) for key in KEYS])
def test_a_worklist_answers_its_roles_and_refuses_the_others(
    role: str, key: str, client: TestClient, people: Login
) -> None:
    response = client.get(f"{API}/worklists/{key}", headers=caller(people, role))

    if key in SEES[role]:
        assert response.status_code == 200, response.text
        assert set(response.json()) >= {"items", "total", "page", "page_size"}
    else:
        assert_problem(response, 403)


def test_an_unknown_worklist_is_a_404_problem(client: TestClient, people: Login) -> None:
    problem = assert_problem(
        client.get(f"{API}/worklists/nosuchlist", headers=people("dispatcher")), 404
    )
    assert "dispatch" in problem["detail"]


def test_without_a_token_the_worklists_are_401(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/worklists"), 401)
    assert_problem(client.get(f"{API}/worklists/dispatch"), 401)


@pytest.mark.parametrize("role", sorted(SEES))
def test_every_count_equals_the_total_of_its_list(
    role: str, client: TestClient, people: Login, scenes: Scenes
) -> None:
    scenes.return_requested()
    scenes.replied_case()
    headers = caller(people, role)

    lists = client.get(f"{API}/worklists", headers=headers).json()["lists"]

    for item in lists:
        assert item["count"] == listed(client, item["key"], headers)["total"], item


def test_pages_cover_the_list_once_in_the_same_order(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    for _ in range(5):
        scenes.file(UNROUTABLE)
    headers = people("dispatcher")
    whole = listed(client, "dispatch", headers, category="other.consult")
    assert whole["total"] >= 5

    pages = [
        listed(client, "dispatch", headers, category="other.consult", page=n, page_size=2)
        for n in range(1, (whole["total"] + 1) // 2 + 1)
    ]

    assert [item for page in pages for item in ids(page)] == ids(whole)
    assert all(page["total"] == whole["total"] and page["page_size"] == 2 for page in pages)


def test_an_approved_return_of_the_only_task_puts_the_case_on_dispatch_with_the_reason(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.return_requested()
    dispatcher = people("dispatcher")
    assert scene.task_id in ids(listed(client, "rulings", dispatcher))
    assert scene.case_id not in ids(listed(client, "dispatch", dispatcher))

    scenes.post(f"/tasks/{scene.task_id}/return/approve", dispatcher)

    item = next(
        i for i in listed(client, "dispatch", dispatcher)["items"] if i["id"] == scene.case_id
    )
    assert item["why"]["reason"] == "returned"
    assert item["why"]["department"] == DEPARTMENT
    assert item["why"]["return_reason"] == "territory"
    assert item["why"]["detail"] == "该餐馆属长乐中路街道管辖"
    assert scene.task_id not in ids(listed(client, "rulings", dispatcher))


def test_an_unroutable_case_on_dispatch_says_which_rules_were_weighed_and_why_none_matched(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    case_id = scenes.file(UNROUTABLE)
    dispatcher = people("dispatcher")

    item = next(i for i in listed(client, "dispatch", dispatcher)["items"] if i["id"] == case_id)

    why = item["why"]
    assert why["reason"] == "unroutable"
    assert why["candidates"] and not any(c["matched"] for c in why["candidates"])
    for candidate in why["candidates"]:
        assert f"{candidate['rule_id']}: {candidate['reason']}" in why["routing"]


def test_an_unroutable_case_says_why_in_one_line_of_chinese_and_offers_departments(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    case_id = scenes.received_case().case_id  # 其他咨询求助, no place: no street office
    dispatcher = people("dispatcher")

    item = next(i for i in listed(client, "dispatch", dispatcher)["items"] if i["id"] == case_id)
    why = item["why"]
    assert why["reason"] == "unroutable"
    assert why["detail"] == (
        "本案未定位到网格或街道，适用于「其他咨询求助」的规则要按所在街道派单，请人工派单。"
    )
    assert "no routing rule" in why["routing"]  # the router's own words, for the record
    assert set(why["suggested"]) == {"xyl-office", "clz-office"}


def test_a_reopened_answered_case_is_back_on_dispatch(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    case_id = scenes.received_case().case_id
    dispatcher = people("dispatcher")
    scenes.post(f"/cases/{case_id}/answer", dispatcher, {"answer": "已告知办理流程"})
    assert case_id not in ids(listed(client, "dispatch", dispatcher))

    scenes.post(f"/cases/{case_id}/reopen", dispatcher, {"reason": "市民不认可答复"})

    item = next(i for i in listed(client, "dispatch", dispatcher)["items"] if i["id"] == case_id)
    assert item["why"]["reason"] == "reopened"


def test_a_liaisons_sign_list_holds_only_its_own_departments_tasks(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    own = people("liaison", department=DEPARTMENT)
    other = people("liaison", department=OTHER_DEPARTMENT)

    mine = listed(client, "sign", own)
    theirs = listed(client, "sign", other)

    assert scene.task_id in ids(mine)
    assert {item["department"] for item in mine["items"]} == {DEPARTMENT}
    assert scene.task_id not in ids(theirs)
    assert {item["department"] for item in theirs["items"]} <= {OTHER_DEPARTMENT}
    refused = client.get(f"{API}/worklists/sign", params={"department": DEPARTMENT}, headers=other)
    assert_problem(refused, 403)


def test_a_signed_task_moves_from_sign_to_handle_and_a_reply_to_callbacks_then_closing(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.signed_task()
    liaison = people("liaison", department=DEPARTMENT)
    operator = people("operator")
    assert scene.task_id not in ids(listed(client, "sign", liaison))
    item = next(i for i in listed(client, "handle", liaison)["items"] if i["id"] == scene.task_id)
    assert item["due"]["stage"] == "contact" and item["due"]["overdue"] is False

    scenes.post(f"/tasks/{scene.task_id}/reply", liaison, {"resolution": "已加装净化器"})
    assert scene.task_id not in ids(listed(client, "handle", liaison))
    assert scene.case_id in ids(listed(client, "callbacks", operator))

    callback = {"solved": "solved", "satisfaction": "satisfied"}
    scenes.post(f"/cases/{scene.case_id}/callback", operator, callback)
    assert scene.case_id not in ids(listed(client, "callbacks", operator))
    assert scene.case_id in ids(listed(client, "closing", operator))

    scenes.post(f"/cases/{scene.case_id}/close", operator, {})
    assert scene.case_id not in ids(listed(client, "closing", operator))


def test_a_parked_case_is_on_park_review_once_its_review_date_has_come(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    dispatcher = people("dispatcher")
    due = scenes.dispatched_case()
    later = scenes.dispatched_case()
    scenes.post(
        f"/cases/{due.case_id}/park", dispatcher, {"plan": "列入改造", "review_on": "2020-01-01"}
    )
    scenes.post(
        f"/cases/{later.case_id}/park", dispatcher, {"plan": "列入改造", "review_on": "2999-01-01"}
    )

    reviews = ids(listed(client, "park_review", dispatcher))

    assert due.case_id in reviews and later.case_id not in reviews
    liaison = people("liaison", department=DEPARTMENT)
    assert due.task_id not in ids(listed(client, "sign", liaison)), "a parked case is frozen"


def test_a_street_sees_the_tasks_its_whistle_summoned_and_no_other_street_does(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    own = people("street", street=STREET)
    whistle = {"departments": ["city", "xyl-office"], "reason": "多次反映未解决"}
    scenes.post(f"/cases/{scene.case_id}/whistle", own, whistle)

    summoned = [
        i for i in listed(client, "summoned", own)["items"] if i["case_id"] == scene.case_id
    ]
    elsewhere = listed(client, "summoned", people("street", street=OTHER_STREET))

    assert {item["department"] for item in summoned} == {"city", "xyl-office"}
    assert all(item["role"] == "summoned" for item in summoned)
    assert scene.case_id not in {item["case_id"] for item in elsewhere["items"]}
    refused = client.get(f"{API}/worklists/summoned", params={"street": OTHER_STREET}, headers=own)
    assert_problem(refused, 403)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "yesterday"},
        {"to": "2026-13-01"},
        {"from": "0001-01-01T00:00:00+14:00"},
        {"page": "0"},
        {"page_size": "100000"},
        {"category": ""},
        {"department": "d" * 65},
        {"overdue": "maybe"},
        {"channel": ""},
    ],
)
def test_bad_parameters_are_a_422_problem_naming_them(
    params: dict[str, str], client: TestClient, people: Login
) -> None:
    response = client.get(f"{API}/worklists/dispatch", params=params, headers=people("dispatcher"))
    assert_problem(response, 422)


def test_from_and_to_bound_when_the_case_was_received(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    case_id = scenes.received_case().case_id
    dispatcher = people("dispatcher")

    assert case_id in ids(listed(client, "dispatch", dispatcher, **{"from": "2020-01-01"}))
    assert case_id not in ids(listed(client, "dispatch", dispatcher, to="2020-01-01"))
    assert case_id not in ids(listed(client, "dispatch", dispatcher, **{"from": "2999-01-01"}))


def test_channel_and_nature_narrow_a_worklist_to_the_cases_that_match(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    phoned = scenes.file({**UNROUTABLE, "channel": "phone", "nature": "help"})
    wechat = scenes.file({**UNROUTABLE, "channel": "wechat", "nature": "help"})
    dispatcher = people("dispatcher")

    by_channel = ids(listed(client, "dispatch", dispatcher, channel="wechat"))
    by_nature = ids(listed(client, "dispatch", dispatcher, nature="help", channel="phone"))

    assert wechat in by_channel and phoned not in by_channel
    assert phoned in by_nature and wechat not in by_nature


def test_urged_and_state_narrow_a_liaisons_task_list(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    urged = scenes.dispatched_case()
    quiet = scenes.dispatched_case()
    scenes.post(
        f"/cases/{urged.case_id}/urge",
        people("dispatcher"),
        {"level": "reminder", "note": "请尽快处理"},
    )
    liaison = people("liaison", department=DEPARTMENT)

    only_urged = listed(client, "sign", liaison, urged="true")
    not_urged = ids(listed(client, "sign", liaison, urged="false"))

    assert urged.task_id in ids(only_urged) and quiet.task_id not in ids(only_urged)
    assert only_urged["total"] == len(only_urged["items"])
    assert quiet.task_id in not_urged and urged.task_id not in not_urged
    assert ids(listed(client, "sign", liaison, state="signed")) == []
    assert quiet.task_id in ids(listed(client, "sign", liaison, state="dispatched"))


def test_overdue_narrows_a_task_list_to_the_tasks_past_their_current_deadline(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    liaison = people("liaison", department=DEPARTMENT)

    on_time = listed(client, "sign", liaison, overdue="false")
    late = listed(client, "sign", liaison, overdue="true")

    assert scene.task_id in ids(on_time) and scene.task_id not in ids(late)
    assert all(item["due"]["overdue"] for item in late["items"])
    assert not any(item["due"]["overdue"] for item in on_time["items"])


def test_a_task_item_tells_the_channel_and_nature_of_its_case(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    liaison = people("liaison", department=DEPARTMENT)

    item = next(i for i in listed(client, "sign", liaison)["items"] if i["id"] == scene.task_id)

    assert item["case"]["channel"] == "phone" and item["case"]["nature"] == "complaint"
    assert item["case"]["received_at"]
