# ruff: noqa: F811 (the module_app fixtures are, to ruff, names redefined by arguments)
"""Refused commands over HTTP speak the caller's language (DESIGN §8.3).

problem+json carries a stable ``code`` and ``allowed_next`` for machines, and a ``title`` and
``detail`` people read: Simplified Chinese by default, English with ``Accept-Language: en``,
naming the case number and the department, never a task id or a raw state name.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401

from worlds.scenarios import API, DEPARTMENT, Scene, Scenes, assert_problem

pytestmark = pytest.mark.usefixtures("sample_catalogue")

DEPARTMENT_NAME = "市生态环境局新城分局"  # DEPARTMENT in the sample catalogue
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"}
RAW_STATES = re.compile(r"\b(in_progress|return_requested|dispatched|signed|replied)\b")


def case_no(client: TestClient, scenes: Scenes, scene: Scene) -> str:
    case = client.get(f"{API}/cases/{scene.case_id}", headers=scenes.dispatcher).json()
    return str(case["case_no"])


def refused(response: Any, code: str, scene: Scene) -> dict[str, Any]:
    problem = assert_problem(response, 409)
    assert problem["code"] == code, problem
    assert scene.task_id not in problem["detail"] and scene.case_id not in problem["detail"]
    return problem


def test_signing_twice_is_refused_in_chinese_naming_the_case_and_department(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.signed_task()

    again = client.post(f"{API}/tasks/{scene.task_id}/sign", json={}, headers=scenes.liaison)

    problem = refused(again, "task_already_signed", scene)
    assert case_no(client, scenes, scene) in problem["detail"]
    assert DEPARTMENT_NAME in problem["detail"] and "已经签收" in problem["detail"]
    assert problem["title"] == "当前状态下无法办理"
    assert "contact" in problem["allowed_next"] and "联系诉求人" in problem["detail"]
    assert not RAW_STATES.search(problem["detail"])


def test_the_same_refusal_reads_in_english_when_english_is_preferred(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.signed_task()
    headers = {**scenes.liaison, **ENGLISH}

    again = client.post(f"{API}/tasks/{scene.task_id}/sign", json={}, headers=headers)

    problem = refused(again, "task_already_signed", scene)
    assert problem["title"] == "Not allowed in the current state"
    assert problem["detail"].startswith(f"On case {case_no(client, scenes, scene)}, the ")
    assert DEPARTMENT_NAME in problem["detail"] and "contact the citizen" in problem["detail"]
    assert not re.search(r"[\u4e00-\u9fff]{5,}", problem["detail"].replace(DEPARTMENT_NAME, ""))


def test_a_reply_before_signing_says_sign_first(client: TestClient, scenes: Scenes) -> None:
    scene = scenes.dispatched_case()

    reply = client.post(
        f"{API}/tasks/{scene.task_id}/reply", json={"resolution": "已处理"}, headers=scenes.liaison
    )

    problem = refused(reply, "task_not_signed", scene)
    assert "尚未签收" in problem["detail"] and DEPARTMENT_NAME in problem["detail"]
    assert problem["allowed_next"] == ["return", "sign"]
    assert problem["detail"].endswith("现在可以：退单、签收。")


def test_dispatching_to_a_department_that_already_holds_a_task_names_it(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    body = {"departments": [{"code": DEPARTMENT, "role": "assist"}]}

    path = f"{API}/cases/{scene.case_id}/dispatch"

    again = client.post(path, json=body, headers=scenes.dispatcher)

    problem = refused(again, "department_already_holds_task", scene)
    assert problem["detail"].startswith(DEPARTMENT_NAME)
    assert case_no(client, scenes, scene) in problem["detail"]
    english = client.post(path, json=body, headers={**scenes.dispatcher, **ENGLISH})
    assert refused(english, "department_already_holds_task", scene)["detail"].startswith(
        f"{DEPARTMENT_NAME} already holds an open task on case "
    )


def test_closing_a_case_not_yet_replied_is_refused_with_the_next_steps(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.signed_task()

    close = client.post(f"{API}/cases/{scene.case_id}/close", json={}, headers=scenes.dispatcher)

    problem = refused(close, "case_not_replied", scene)
    assert "不能结案" in problem["detail"] and "办理中" in problem["detail"]
    assert "in_progress" not in problem["detail"]
    assert "dispatch" in problem["allowed_next"] and "派单" in problem["detail"]


def test_application_errors_and_bad_bodies_have_codes_and_chinese_titles(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    stale = client.post(
        f"{API}/tasks/{scene.task_id}/sign",
        json={},
        headers={**scenes.liaison, "If-Match": '"1"'},
    )
    missing = client.post(f"{API}/tasks/{scene.case_id}-99/sign", json={}, headers=scenes.liaison)
    park = f"{API}/cases/{scene.case_id}/park"
    bad = client.post(park, json={"plan": 3}, headers=scenes.dispatcher)
    other = scenes.login("liaison", department="gas")
    outsider = client.post(f"{API}/tasks/{scene.task_id}/sign", json={}, headers=other)

    assert assert_problem(stale, 412)["code"] == "stale_version"
    assert "已被他人更新" in stale.json()["detail"] and stale.json()["current_version"] >= 2
    assert assert_problem(missing, 404)["code"] == "task_not_found"
    assert (bad.json()["code"], bad.json()["title"]) == ("invalid_body", "请求内容有误")
    assert assert_problem(bad, 422)["errors"]
    assert assert_problem(outsider, 403)["code"] == "not_in_scope"
    assert DEPARTMENT not in outsider.json()["detail"]
