"""Every /api/v1 route × every kind of caller → the status DESIGN.md §4 promises.

The table ``ROUTES`` is DESIGN.md §4's route table, one row per route, naming the callers that
may use it; everyone else signed in gets 403, and a caller without a valid token 401. Where
§4 lists several commands on one line (``answer · callback · … | operator / dispatcher /
supervisor``) the row names who does each one, as DESIGN.md's list of users has it: the hotline
(operators, dispatchers) answers, calls back, merges and closes; dispatchers and supervisors
park, unpark, reopen and urge. Each allowed caller finds a fresh case in the state where the
route is legal, so it gets 2xx, never a 409; ``test_every_api_route_is_in_the_matrix`` makes
a new route add its row.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from module_app import (  # noqa: F401
    app_container,
    client,
    people,
    scenes,
    short_live_streams,
    signed_in,
)

from dispatch.app import create_app
from dispatch.bootstrap import Container

from worlds.scenarios import (
    API,
    COMPLAINT,
    DEPARTMENT,
    MASKED_PHONE,
    OTHER_DEPARTMENT,
    OTHER_STREET,
    PHONE,
    STREET,
    Login,
    Scene,
    Scenes,
    assert_problem,
    extension_body,
    park_body,
    tiny_png,
)

pytestmark = pytest.mark.usefixtures("sample_catalogue", "short_live_streams")


# -- one app and one user per kind of caller for the whole module (see worlds.scenarios) -----------


# One app and one user per kind of caller for the whole module (see module_app).


SAMPLE_YAML = Path(__file__).parents[2] / "dispatch/catalogue/samples/sample.yaml"

# -- who is calling ----------------------------------------------------------------------------

OPERATOR = "operator"
DISPATCHER = "dispatcher"
OWN_LIAISON = "liaison_own_department"  # the liaison of the scene's task's department
OTHER_LIAISON = "liaison_other_department"
OWN_STREET = "street_own_street"  # an officer of the scene's case's street
OTHER_STREET_OFFICER = "street_other_street"
SUPERVISOR = "supervisor"
ADMIN = "admin"
NO_TOKEN = "no_token"
BAD_TOKEN = "bad_token"

SIGNED_IN = (
    OPERATOR,
    DISPATCHER,
    OWN_LIAISON,
    OTHER_LIAISON,
    OWN_STREET,
    OTHER_STREET_OFFICER,
    SUPERVISOR,
    ADMIN,
)
CALLERS = (*SIGNED_IN, NO_TOKEN, BAD_TOKEN)

ANYONE = frozenset(SIGNED_IN)
IN_SCOPE = ANYONE - {OTHER_LIAISON, OTHER_STREET_OFFICER}
CENTRE = frozenset({OPERATOR, DISPATCHER})
RULING = frozenset({DISPATCHER, SUPERVISOR})
DEPARTMENT_LIAISON = frozenset({OWN_LIAISON})


def headers_of(caller: str, login: Login) -> dict[str, str]:
    match caller:
        case "no_token":
            return {}
        case "bad_token":
            return {"Authorization": "Bearer not.a.token"}
        case "liaison_own_department":
            return login("liaison", department=DEPARTMENT)
        case "liaison_other_department":
            return login("liaison", department=OTHER_DEPARTMENT)
        case "street_own_street":
            return login("street", street=STREET)
        case "street_other_street":
            return login("street", street=OTHER_STREET)
        case _:
            return login(caller)


# -- the routes --------------------------------------------------------------------------------

Body = Callable[[Scene], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as DESIGN.md §4 writes it, under /api/v1; {id} is the case, task or user
    allowed: frozenset[str]
    scene: Callable[[Scenes], Scene] = Scenes.nothing
    body: Body | None = None
    params: dict[str, str] = field(default_factory=dict)
    upload: bool = False  # a multipart form with a small photo, not JSON
    ok: int = 200
    unknown_id: str = "0000nosuchthing"
    key: str | None = None  # the {id} when it names no record (a worklist's key)

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, scene: Scene, *, unknown: str | None = None) -> str:
        if "{id}" not in self.path:
            return API + self.path
        if unknown is not None:
            identity = unknown
        elif self.key is not None:
            identity = self.key
        elif self.path.startswith("/tasks/"):
            identity = scene.task_id
        elif self.path.startswith("/users/"):
            identity = scene.user_id
        elif self.path.startswith("/deliveries/"):
            identity = str(scene.letter_id)
        else:
            identity = scene.case_id
        if self.path.endswith("/attachments/{id}"):  # the case's, then the attachment's
            attachment = identity if unknown is not None else scene.attachment_id
            path = self.path.replace("{id}", identity, 1).replace("{id}", attachment)
            return API + path
        return API + self.path.replace("{id}", identity)

    def send(
        self, client: TestClient, scene: Scene, headers: dict[str, str], **url: Any
    ) -> Response:
        if self.method == "PUT":  # the catalogue, as YAML
            yaml = {"Content-Type": "application/yaml", **headers}
            return client.put(
                self.url(scene, **url), content=SAMPLE_YAML.read_bytes(), headers=yaml
            )
        if self.upload:
            return client.post(
                self.url(scene, **url),
                files={"file": ("photo.png", tiny_png(), "image/png")},
                data={"stage": "progress"},
                headers=headers,
            )
        body = self.body(scene) if self.body else None
        return client.request(
            self.method, self.url(scene, **url), json=body, params=self.params, headers=headers
        )


def fixed(body: dict[str, Any]) -> Body:
    return lambda _scene: body


def new_user(_scene: Scene) -> dict[str, Any]:
    return {
        "username": f"clerk-{uuid.uuid4().hex[:10]}",
        "password": "long enough 1",
        "roles": ["operator"],
    }


NOTE = fixed({"note": "请尽快处理"})
EMPTY = fixed({})

ROUTES: tuple[Route, ...] = (
    # users and the catalogue
    Route("GET", "/users/me", ANYONE),
    Route("GET", "/users", frozenset({ADMIN})),
    Route("POST", "/users", frozenset({ADMIN}), body=new_user, ok=201),
    Route("GET", "/users/{id}", frozenset({ADMIN}), scene=Scenes.a_user),
    Route(
        "PATCH",
        "/users/{id}",
        frozenset({ADMIN}),
        scene=Scenes.a_spare_user,
        body=fixed({"roles": ["operator", "supervisor"]}),
    ),
    Route(
        "POST",
        "/users/{id}/password",
        frozenset({ADMIN}),
        scene=Scenes.a_spare_user,
        body=fixed({"password": "a new long password"}),
        ok=204,
    ),
    Route("GET", "/catalogue", ANYONE),
    Route("GET", "/catalogue/versions", ANYONE),
    Route("PUT", "/catalogue", frozenset({ADMIN})),
    Route(
        "GET",
        "/catalogue/route",
        frozenset({DISPATCHER, SUPERVISOR, ADMIN}),
        params={"category": "env.smoke", "grid": "XYL-01"},
    ),
    # cases: intake and reads
    Route(
        "POST",
        "/cases",
        frozenset({OPERATOR, DISPATCHER, OWN_STREET}),
        body=fixed(COMPLAINT),
        ok=201,
    ),
    Route("GET", "/cases", ANYONE),
    Route(
        "GET",
        "/cases/similar",
        CENTRE,
        params={"category": "env.smoke", "grid": "XYL-01", "phone": PHONE},
    ),
    Route("GET", "/cases/{id}", IN_SCOPE, scene=Scenes.dispatched_case),
    Route(
        "GET",
        "/cases/{id}/access-log",
        frozenset({SUPERVISOR, ADMIN}),
        scene=Scenes.dispatched_case,
    ),
    Route("GET", "/cases/{id}/events", RULING, scene=Scenes.dispatched_case),
    Route("GET", "/cases/{id}/timeline", IN_SCOPE, scene=Scenes.dispatched_case),
    # photos and evidence (§8.6)
    Route(
        "POST",
        "/cases/{id}/attachments",
        frozenset({OPERATOR, DISPATCHER, OWN_LIAISON, OWN_STREET}),
        scene=Scenes.dispatched_case,
        upload=True,
        ok=201,
    ),
    Route("GET", "/cases/{id}/attachments", IN_SCOPE, scene=Scenes.attached_case),
    Route("GET", "/cases/{id}/attachments/{id}", IN_SCOPE, scene=Scenes.attached_case),
    # the centre's commands
    Route(
        "POST",
        "/cases/{id}/dispatch",
        frozenset({DISPATCHER}),
        scene=Scenes.dispatched_case,
        body=fixed({"departments": [{"code": "city", "role": "lead"}]}),
    ),
    Route(
        "POST",
        "/cases/{id}/whistle",
        frozenset({OWN_STREET}),
        scene=Scenes.dispatched_case,
        body=fixed(
            {
                "departments": ["city", "xyl-office"],
                "reason": "多次反映未解决",
                "report_within": "2h",
            }
        ),
    ),
    Route(
        "POST",
        "/cases/{id}/answer",
        CENTRE,
        scene=Scenes.received_case,
        body=fixed({"answer": "已告知办理流程"}),
    ),
    Route(
        "POST",
        "/cases/{id}/callback",
        CENTRE,
        scene=Scenes.replied_case,
        body=fixed({"solved": "solved", "satisfaction": "satisfied"}),
    ),
    Route(
        "POST",
        "/cases/{id}/reopen",
        RULING,
        scene=Scenes.replied_case,
        body=fixed({"reason": "市民反映油烟依旧"}),
    ),
    Route("POST", "/cases/{id}/park", RULING, scene=Scenes.dispatched_case, body=park_body),
    Route("POST", "/cases/{id}/unpark", RULING, scene=Scenes.parked_case, body=EMPTY),
    Route(
        "POST",
        "/cases/{id}/merge",
        CENTRE,
        scene=Scenes.two_cases,
        body=lambda scene: {"into": scene.other_case_id},
    ),
    Route(
        "POST",
        "/cases/{id}/recall",
        frozenset({DISPATCHER}),
        scene=Scenes.dispatched_case,
        body=fixed({"reason": "派错部门"}),
    ),
    Route("POST", "/cases/{id}/close", CENTRE, scene=Scenes.replied_case, body=EMPTY),
    Route(
        "POST",
        "/cases/{id}/urge",
        RULING,
        scene=Scenes.dispatched_case,
        body=fixed({"level": "reminder", "note": "请今日内签收"}),
    ),
    # the departments' inbox and actions
    Route("GET", "/tasks", frozenset({OWN_LIAISON, OTHER_LIAISON, DISPATCHER, SUPERVISOR})),
    Route("POST", "/tasks/{id}/sign", DEPARTMENT_LIAISON, scene=Scenes.dispatched_case, body=EMPTY),
    Route(
        "POST",
        "/tasks/{id}/return",
        DEPARTMENT_LIAISON,
        scene=Scenes.dispatched_case,
        body=fixed({"reason": "territory", "basis": "属长乐中路街道"}),
    ),
    Route("POST", "/tasks/{id}/contact", DEPARTMENT_LIAISON, scene=Scenes.signed_task, body=NOTE),
    Route(
        "POST",
        "/tasks/{id}/extension",
        DEPARTMENT_LIAISON,
        scene=Scenes.signed_task,
        body=extension_body,
    ),
    Route("POST", "/tasks/{id}/progress", DEPARTMENT_LIAISON, scene=Scenes.signed_task, body=NOTE),
    Route(
        "POST",
        "/tasks/{id}/reply",
        DEPARTMENT_LIAISON,
        scene=Scenes.signed_task,
        body=fixed({"resolution": "已责令安装油烟净化器"}),
    ),
    # 双考核: the street that blew the whistle rates the summoned department's reply
    Route(
        "POST",
        "/tasks/{id}/evaluation",
        frozenset({OWN_STREET}),
        scene=Scenes.replied_summoned_task,
        body=fixed({"rating": "satisfied", "note": "报到及时"}),
    ),
    # the dispatchers' rulings
    Route(
        "POST",
        "/tasks/{id}/return/approve",
        frozenset({DISPATCHER}),
        scene=Scenes.return_requested,
        body=EMPTY,
    ),
    Route(
        "POST",
        "/tasks/{id}/return/reject",
        frozenset({DISPATCHER}),
        scene=Scenes.return_requested,
        body=NOTE,
    ),
    Route(
        "POST",
        "/tasks/{id}/extension/approve",
        frozenset({DISPATCHER}),
        scene=Scenes.extension_requested,
        body=EMPTY,
    ),
    Route(
        "POST",
        "/tasks/{id}/extension/deny",
        frozenset({DISPATCHER}),
        scene=Scenes.extension_requested,
        body=NOTE,
    ),
    # supervision: KPIs, alerts, the ledger, the global feed
    Route("GET", "/stats/kpis", RULING),
    Route("GET", "/stats/ranking", RULING),
    # 主动治理: a street sees its own grids' hotspots
    Route("GET", "/stats/hotspots", RULING | {OWN_STREET, OTHER_STREET_OFFICER}),
    # the grid map (§8.7): a street officer gets its own grids, whichever street it is
    Route("GET", "/stats/grids", RULING | {OWN_STREET, OTHER_STREET_OFFICER}),
    Route(
        "GET", "/alerts/overdue", frozenset({SUPERVISOR, DISPATCHER, OWN_LIAISON, OTHER_LIAISON})
    ),
    # worklists (§8.1): every caller has some; each key × caller is in test_worklists_api.py
    Route("GET", "/worklists", ANYONE),
    Route(
        "GET",
        "/worklists/{id}",
        frozenset({SUPERVISOR, DISPATCHER, OWN_LIAISON, OTHER_LIAISON}),
        key="overdue",
        unknown_id="nosuchlist",
    ),
    # live (§8.8): a stream here lasts a moment (``short_live_streams``); its scope is in
    # test_stream_api.py
    Route("GET", "/stream", ANYONE),
    # patrols (三巡一查零报告, §8.7): the grid role's own rows are in test_patrols_api.py
    Route(
        "POST",
        "/patrols",
        frozenset({OWN_STREET}),
        body=fixed({"grid": "XYL-02", "round": "午巡", "findings": []}),
        ok=201,
    ),
    Route("GET", "/patrols", frozenset({OWN_STREET, OTHER_STREET_OFFICER, *RULING})),
    Route("GET", "/stats/patrols", frozenset({OWN_STREET, OTHER_STREET_OFFICER, *RULING})),
    Route("GET", "/exports/cases.csv", frozenset({SUPERVISOR})),
    Route("GET", "/exports/cases.xlsx", frozenset({SUPERVISOR})),
    Route("GET", "/events", frozenset({SUPERVISOR, ADMIN})),
    # the routing pipeline's deliveries and dead letters
    Route("GET", "/deliveries", frozenset({DISPATCHER})),
    Route("GET", "/deliveries/dead-letters", frozenset({DISPATCHER})),
    Route(
        "POST",
        "/deliveries/dead-letters/{id}/replay",
        frozenset({DISPATCHER}),
        scene=Scenes.dead_letter,
        ok=202,
        unknown_id="999999999",
    ),
)


def expected_status(route: Route, caller: str) -> int:
    if caller in (NO_TOKEN, BAD_TOKEN):
        return 401
    return route.ok if caller in route.allowed else 403


MATRIX = [
    pytest.param(
        route,
        caller,
        expected_status(route, caller),
        id=f"{route.name}-{caller}-{expected_status(route, caller)}",
    )
    for route in ROUTES
    for caller in CALLERS
]


@pytest.fixture(scope="module")
def refused_scenes() -> dict[str, Scene]:
    """One prepared case per route for the callers it refuses. A refusal changes nothing (each
    test checks that no event was appended), so those callers can share it."""
    return {}


@pytest.mark.parametrize(("route", "caller", "expected"), MATRIX)
def test_route_answers_role(
    route: Route,
    caller: str,
    expected: int,
    client: TestClient,
    people: Login,
    scenes: Scenes,
    app_container: Container,
    refused_scenes: dict[str, Scene],
) -> None:
    if expected < 300:
        scene = route.scene(scenes)
    elif route.name not in refused_scenes:
        scene = refused_scenes[route.name] = route.scene(scenes)
    else:
        scene = refused_scenes[route.name]
    headers = headers_of(caller, people)
    head = app_container.store.head_position()

    response = route.send(client, scene, headers)

    assert response.status_code == expected, response.text
    if expected < 300 and route.method == "POST" and route.path.startswith(("/cases", "/tasks")):
        assert app_container.store.head_position() > head, "a command answered 2xx but did nothing"
    if expected >= 400:
        assert_problem(response, expected)
        assert app_container.store.head_position() == head, "a refused request appended events"
    if expected == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


UNKNOWN_IDS = [
    pytest.param(route, unknown, id=f"{route.name}-{label}")
    for route in ROUTES
    if "{id}" in route.path
    for label, unknown in (
        [("unknown_case", "0000nosuchcase"), ("unknown_task_of_a_known_case", None)]
        if route.path.startswith("/tasks/")
        else [("unknown_id", route.unknown_id)]
    )
]


@pytest.mark.parametrize(("route", "unknown"), UNKNOWN_IDS)
def test_an_unknown_id_is_404_for_a_caller_who_may_use_the_route(
    route: Route,
    unknown: str | None,
    client: TestClient,
    people: Login,
    scenes: Scenes,
    app_container: Container,
) -> None:
    scene = route.scene(scenes)  # a real one, so that the body is valid
    if unknown is None:
        unknown = f"{scene.case_id}-99"
    caller = next(caller for caller in SIGNED_IN if caller in route.allowed)
    head = app_container.store.head_position()

    response = route.send(client, scene, headers_of(caller, people), unknown=unknown)

    assert_problem(response, 404)
    assert app_container.store.head_position() == head


def test_every_api_route_is_in_the_matrix(app_container: Container) -> None:
    """A new route needs a row in ROUTES: who may call it is part of the contract."""
    paths = create_app(app_container).openapi()["paths"]
    served = {
        (method.upper(), re.sub(r"\{\w+\}", "{id}", path.removeprefix(API)))
        for path, operations in paths.items()
        if path.startswith(API)
        for method in operations
    }
    served.discard(("POST", "/auth/token"))  # takes no token; see test_auth_api.py
    # Ends the caller's own sessions, and this module shares one user per caller.
    served.discard(("POST", "/users/me/password"))  # see test_staff_api.py
    assert served == {(route.method, route.path) for route in ROUTES}


# -- what a caller sees of a case it may read ---------------------------------------------------

PHONE_CALLERS = {OPERATOR, DISPATCHER}
# §8.2: the liaison of a live task must call the reporter (the case only, never a list).
CALLS_BACK = {OWN_LIAISON}


@pytest.mark.parametrize("caller", sorted(IN_SCOPE))
def test_the_reporter_phone_is_shown_in_full_only_to_the_hotline_and_the_liaison_who_calls(
    caller: str, client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    headers = headers_of(caller, people)

    case = client.get(f"{API}/cases/{scene.case_id}", headers=headers)
    listed = client.get(f"{API}/cases", params={"q": case.json()["case_no"]}, headers=headers)

    assert case.status_code == 200 and listed.status_code == 200
    shown = PHONE if caller in PHONE_CALLERS | CALLS_BACK else MASKED_PHONE
    assert case.json()["reporter"]["phone"] == shown
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [scene.case_id]
    for item in items:
        assert (item.get("reporter") or {}).get("phone") in (None, shown)
    if caller not in PHONE_CALLERS:
        assert PHONE not in listed.text
    if caller not in PHONE_CALLERS | CALLS_BACK:
        assert PHONE not in case.text


def test_a_liaison_never_lists_another_departments_case_or_task(
    client: TestClient, people: Login, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    case_no = client.get(f"{API}/cases/{scene.case_id}", headers=scenes.dispatcher).json()[
        "case_no"
    ]
    other = people("liaison", department=OTHER_DEPARTMENT)

    for params in (
        {"page_size": "200"},
        {"q": case_no},
        {"department": DEPARTMENT},
        {"street": STREET, "category": "env.smoke"},
    ):
        listed = client.get(f"{API}/cases", params=params, headers=other).json()
        assert scene.case_id not in {item["id"] for item in listed["items"]}, params
    assert client.get(f"{API}/cases", params={"q": case_no}, headers=other).json()["total"] == 0

    for params in ({"page_size": "200"}, {"department": DEPARTMENT}, {"state": "dispatched"}):
        inbox = client.get(f"{API}/tasks", params=params, headers=other).json()
        assert {item["department"] for item in inbox["items"]} <= {OTHER_DEPARTMENT}, params
        assert scene.task_id not in {item["id"] for item in inbox["items"]}

    own = people("liaison", department=DEPARTMENT)
    mine = client.get(f"{API}/cases", params={"q": case_no}, headers=own).json()
    assert [item["id"] for item in mine["items"]] == [scene.case_id]
    inbox = client.get(f"{API}/tasks", params={"page_size": "200"}, headers=own).json()
    assert scene.task_id in {item["id"] for item in inbox["items"]}
