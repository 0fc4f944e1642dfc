"""The caller's side (DESIGN.md §8.2): similar cases at intake, and the liaison who must call
the reporter back seeing the full number — logged, and only while the task is live."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from dispatch.bootstrap import Container
from dispatch.projections.case_list import live_tables
from events import personal_data_table

from worlds.scenarios import (
    API,
    COMPLAINT,
    DEPARTMENT,
    OTHER_DEPARTMENT,
    Login,
    Scenes,
    assert_problem,
    expect_ok,
)

pytestmark = pytest.mark.usefixtures("sample_catalogue")

OTHER_GRID = {"address": "西一路88号", "lat": 34.27, "lon": 108.957}  # XYL-02


def random_phone() -> str:
    return f"139{random.randrange(10**8):08d}"


def masked(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def complaint(phone: str, **changes: Any) -> dict[str, Any]:
    return {**COMPLAINT, "reporter": {"name": "赵先生", "phone": phone}, **changes}


def similar(client: TestClient, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    return expect_ok(client.get(f"{API}/cases/similar", params=params, headers=headers))["items"]


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


# -- similar cases -----------------------------------------------------------------------------


def test_similar_lists_cases_at_the_same_place_and_the_callers_earlier_cases(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone, stranger = random_phone(), random_phone()
    # A word of this test's own keeps other tests' cases in the same grid out of the list.
    mark = f"油烟{random.randrange(10**9)}"
    words = f"{mark} 回电 {phone}"  # a number typed into the text is masked in the list
    here_same_caller = scenes.file(complaint(phone, description=words))
    here_stranger = scenes.file(complaint(stranger, description=mark))
    elsewhere_same_caller = scenes.file(complaint(phone, location=OTHER_GRID, description=mark))
    elsewhere_stranger = scenes.file(complaint(stranger, location=OTHER_GRID, description=mark))

    found = by_id(
        similar(client, scenes.operator, category="env.smoke", grid="XYL-01", phone=phone, q=mark)
    )

    assert found[here_same_caller]["reasons"] == ["same_place", "same_caller"]
    assert found[here_stranger]["reason"] == "same_place"
    assert found[elsewhere_same_caller]["reasons"] == ["same_caller"]
    assert elsewhere_stranger not in found
    item = found[here_same_caller]
    assert {"case_no", "category", "status", "received_at", "address"} <= set(item)
    assert phone not in str(list(found.values()))
    assert masked(phone) in item["description"]


def test_similar_finds_the_caller_however_the_number_is_typed(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    earlier = scenes.file(complaint(phone))
    typed = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    assert earlier in by_id(similar(client, scenes.dispatcher, phone=typed))
    assert similar(client, scenes.dispatcher, phone=random_phone()) == []


def test_similar_by_coordinates_lists_cases_within_a_few_hundred_metres(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    near = scenes.file(complaint(random_phone()))
    found = by_id(similar(client, scenes.operator, category="env.smoke", lat=34.2702, lon=108.9522))
    assert found[near]["reason"] == "same_place"


def test_q_narrows_similar_cases_to_those_whose_text_holds_it(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    smoke = scenes.file(complaint(phone, description="饭店油烟熏人"))
    noise = scenes.file(complaint(phone, description="夜间施工噪音"))
    found = by_id(similar(client, scenes.operator, phone=phone, q="油烟"))
    assert smoke in found and noise not in found


def test_liaison_cannot_ask_for_similar_cases(client: TestClient, login: Login) -> None:
    liaison = login("liaison", department=DEPARTMENT)
    response = client.get(f"{API}/cases/similar", params={"phone": random_phone()}, headers=liaison)
    assert_problem(response, 403)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "油烟"},
        {"grid": "XYL-01"},
        {"category": "env.smoke"},
        {"category": "env.smoke", "lat": "34.27"},
        {"category": "env.smoke", "lat": "91", "lon": "108.95"},
        {"category": "env.smoke", "lat": "34.27", "lon": "nan"},
        {"category": "env.smoke", "lat": "north", "lon": "108.95"},
        {"phone": "13800138000", "q": "a"},
        {"phone": "call me"},
    ],
    ids=repr,
)
def test_similar_refuses_missing_or_bad_criteria(
    client: TestClient, login: Login, params: dict[str, str]
) -> None:
    response = client.get(f"{API}/cases/similar", params=params, headers=login("operator"))
    assert_problem(response, 422)


# -- the liaison who must call ---------------------------------------------------------------------


def reporter_of(client: TestClient, case_id: str, headers: dict[str, str]) -> dict[str, Any]:
    return expect_ok(client.get(f"{API}/cases/{case_id}", headers=headers))["reporter"]


def access_log(client: TestClient, case_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    return expect_ok(client.get(f"{API}/cases/{case_id}/access-log", headers=headers))["items"]


def test_liaison_of_a_live_task_sees_the_full_phone_and_the_view_is_logged(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    scene = scenes.scene(scenes.file(complaint(phone)))
    supervisor = login("supervisor")
    assert access_log(client, scene.case_id, supervisor) == []

    liaison = login("liaison", department=DEPARTMENT)
    assert reporter_of(client, scene.case_id, liaison)["phone"] == phone  # dispatched
    scenes.post(f"/tasks/{scene.task_id}/sign", liaison)
    assert reporter_of(client, scene.case_id, liaison)["phone"] == phone  # signed

    views = access_log(client, scene.case_id, supervisor)
    assert len(views) == 2
    assert views[0]["username"] == liaison.user.username  # type: ignore[attr-defined]
    assert views[0]["department"] == DEPARTMENT
    assert views[0]["route"] == "GET /api/v1/cases/{id}"
    assert views[0]["viewed_at"] and views[0]["case_id"] == scene.case_id
    assert len(access_log(client, scene.case_id, login("admin"))) == 2

    # The hotline and the supervisor seeing the number is not a liaison's view: not logged.
    reporter_of(client, scene.case_id, scenes.operator)
    assert reporter_of(client, scene.case_id, supervisor)["phone"] == masked(phone)
    assert len(access_log(client, scene.case_id, supervisor)) == 2


def test_the_phone_is_masked_again_once_the_task_is_replied(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    scene = scenes.sign(scenes.scene(scenes.file(complaint(phone))))
    scenes.post(f"/tasks/{scene.task_id}/reply", scenes.liaison, {"resolution": "已处理"})
    assert reporter_of(client, scene.case_id, scenes.liaison)["phone"] == masked(phone)
    assert access_log(client, scene.case_id, login("supervisor")) == []


def test_another_departments_liaison_whose_task_is_done_sees_the_phone_masked(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    scene = scenes.scene(scenes.file(complaint(phone)))
    assist = {"departments": [{"code": OTHER_DEPARTMENT, "role": "assist"}]}
    scenes.post(f"/cases/{scene.case_id}/dispatch", scenes.dispatcher, assist)
    other = login("liaison", department=OTHER_DEPARTMENT)
    case = expect_ok(client.get(f"{API}/cases/{scene.case_id}", headers=scenes.dispatcher))
    (assist_task,) = [t for t in case["tasks"] if t["department"] == OTHER_DEPARTMENT]
    scenes.post(f"/tasks/{assist_task['id']}/sign", other)
    scenes.post(f"/tasks/{assist_task['id']}/reply", other, {"resolution": "已配合"})

    assert reporter_of(client, scene.case_id, other)["phone"] == masked(phone)
    assert reporter_of(client, scene.case_id, scenes.liaison)["phone"] == phone
    views = access_log(client, scene.case_id, login("supervisor"))
    assert [view["department"] for view in views] == [DEPARTMENT]


def test_liaison_sees_a_confidential_reporters_phone_masked(
    client: TestClient, login: Login, app_container: Container
) -> None:
    scenes = Scenes(client, login, app_container)
    phone = random_phone()
    scene = scenes.scene(scenes.file(complaint(phone)))
    make_confidential(app_container, scene.case_id)
    assert reporter_of(client, scene.case_id, scenes.liaison)["phone"] == masked(phone)
    assert access_log(client, scene.case_id, login("supervisor")) == []


def make_confidential(container: Container, case_id: str) -> None:
    """保密, set on the vault record itself (what intake's ``reporter.confidential`` keeps)."""
    cases = live_tables()["case_list"]
    vault = personal_data_table
    with container.engine.begin() as conn:
        ref = conn.execute(sa.select(cases.c.reporter_ref).where(cases.c.id == case_id)).scalar()
        data = conn.execute(sa.select(vault.c.data).where(vault.c.ref == ref)).scalar()
        conn.execute(
            vault.update().where(vault.c.ref == ref).values(data={**data, "confidential": True})
        )


@pytest.mark.parametrize("role", ["liaison", "operator", "dispatcher", "street"])
def test_only_supervisors_and_admins_read_the_access_log(
    client: TestClient, login: Login, app_container: Container, role: str
) -> None:
    scene = Scenes(client, login, app_container).dispatched_case()
    headers = login(role, department=DEPARTMENT if role == "liaison" else None,
                    street="XYL" if role == "street" else None)  # fmt: skip
    response = client.get(f"{API}/cases/{scene.case_id}/access-log", headers=headers)
    assert_problem(response, 403)


def test_the_access_log_of_an_unknown_case_is_404(client: TestClient, login: Login) -> None:
    response = client.get(f"{API}/cases/nosuchcase/access-log", headers=login("supervisor"))
    assert_problem(response, 404)
