"""三巡一查零报告 over HTTP (DESIGN §8.7): grid workers report rounds, zero or with findings;
``GET /patrols`` shows reported / zero / missing; coverage matches a hand count.

Each test runs on its own far-off local day (a random date), so patrol streams of the shared
session database never collide; the app's clock is a ``Clock`` the test moves.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.bootstrap import Container, bootstrap
from dispatch.domain.patrol import patrol_stream
from dispatch.settings import Settings

from worlds.routing import Clock
from worlds.scenarios import API, assert_problem, tiny_png

pytestmark = pytest.mark.usefixtures("sample_catalogue")

SHANGHAI = ZoneInfo("Asia/Shanghai")
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
LOGIN_PASSWORD = "correct horse battery staple"
GRID, OTHER_GRID, CLZ_GRID = "XYL-01", "XYL-02", "CLZ-01"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def day() -> date:
    return date(2031, 1, 1) + timedelta(days=random.randrange(20000))


@pytest.fixture
def clock(day: date) -> Clock:
    return Clock(local(day, 8).astimezone(UTC))


@pytest.fixture
def container(database_url: str, redis_url: str, clock: Clock) -> Iterator[Container]:
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        secret_key="test-secret-of-at-least-32-bytes-long",
        inline_routing=True,
    )
    app_container = bootstrap(settings, clock=clock)
    yield app_container
    app_container.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container)) as test_client:
        yield test_client


class People:
    def __init__(self, container: Container) -> None:
        self.container = container

    def __call__(self, *roles: str, **scope: str) -> dict[str, str]:
        with self.container.engine.begin() as conn:
            user = add_user(
                conn,
                username=f"{roles[0]}-{uuid.uuid4().hex[:10]}",
                password=LOGIN_PASSWORD,
                roles=roles,
                now=self.container.clock(),
                hasher=FAST_HASHER,
                **scope,
            )
        # Tokens outlive the test's clock moves: issued at the far future's day start.
        token, _ = issue_token(user, self.container.settings, self.container.clock())
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def people(container: Container) -> People:
    return People(container)


def report(
    client: TestClient, headers: dict[str, str], round_: str, grid: str = GRID, **more: Any
) -> Any:
    return client.post(
        f"{API}/patrols", json={"grid": grid, "round": round_, **more}, headers=headers
    )


def rounds_of(client: TestClient, headers: dict[str, str], day: date, **params: str) -> Any:
    answer = client.get(
        f"{API}/patrols", params={"date": day.isoformat(), **params}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    return {(i["grid"], i["round"]): i for i in answer.json()["items"]}


POTHOLE = {
    "category": "road.pothole",
    "description": "西一路口人行道塌陷约半米",
    "location": {"address": "西一路12号门前"},
}


def test_a_zero_report_records_the_round_and_files_no_case(
    client: TestClient, people: People, day: date
) -> None:
    worker = people("grid", grid=GRID)

    answer = report(client, worker, "早巡", note="巡查无异常")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["cases"] == [] and body["zero"] is True and body["id"]
    item = rounds_of(client, worker, day)[(GRID, "早巡")]
    assert (item["reported"], item["zero"], item["findings"], item["missing"]) == (
        True,
        True,
        [],
        False,
    )
    assert item["note"] == "巡查无异常"


def test_each_finding_becomes_a_patrol_case_in_the_grid(
    client: TestClient, people: People, day: date
) -> None:
    worker = people("grid", grid=GRID)
    urgent = {**POTHOLE, "description": "井盖缺失", "urgency": "urgent"}

    answer = report(client, worker, "早巡", findings=[POTHOLE, urgent])

    assert answer.status_code == 201, answer.text
    cases = answer.json()["cases"]
    assert len(cases) == 2 and answer.json()["zero"] is False
    for filed in cases:
        case = client.get(f"{API}/cases/{filed['id']}", headers=worker)
        assert case.status_code == 200, case.text
        assert case.json()["channel"] == "patrol"
        assert case.json()["location"]["grid"] == GRID
        assert case.json()["case_no"] == filed["case_no"]
        assert case.json()["tasks"], "routed like any case"
    item = rounds_of(client, worker, day)[(GRID, "早巡")]
    assert item["findings"] == [c["case_no"] for c in cases] and item["zero"] is False


def test_a_grid_worker_cannot_report_for_another_grid(
    client: TestClient, people: People, day: date, container: Container
) -> None:
    worker = people("grid", grid=GRID)

    answer = report(client, worker, "早巡", grid=OTHER_GRID, findings=[POTHOLE])

    assert assert_problem(answer, 403)["code"] == "outside_own_grid"
    assert container.store.read_stream(patrol_stream(OTHER_GRID, day)) == []
    assert rounds_of(client, people("supervisor"), day)[(OTHER_GRID, "早巡")]["reported"] is False


def test_a_street_officer_reports_for_its_own_streets_grids_only(
    client: TestClient, people: People
) -> None:
    officer = people("street", street="XYL")

    assert report(client, officer, "早巡", grid=OTHER_GRID).status_code == 201
    refused = report(client, officer, "早巡", grid=CLZ_GRID)
    assert assert_problem(refused, 403)["code"] == "outside_own_street"


def test_the_same_round_twice_is_409_and_files_no_second_case(
    client: TestClient, people: People, container: Container, day: date
) -> None:
    worker = people("grid", grid=GRID)
    assert report(client, worker, "午巡").status_code == 201

    again = report(client, worker, "午巡", findings=[POTHOLE])

    body = assert_problem(again, 409)
    assert body["code"] == "patrol_round_already_reported"
    assert "午巡" in body["detail"]
    stream = container.store.read_stream(patrol_stream(GRID, day))
    assert [e.type for e in stream] == ["PatrolReported"]


def test_a_refused_finding_leaves_nothing_behind(
    client: TestClient, people: People, container: Container, day: date
) -> None:
    worker = people("grid", grid=GRID)
    unknown = {**POTHOLE, "category": "no.such.thing"}
    elsewhere = {**POTHOLE, "location": {"grid": OTHER_GRID}}

    for findings in ([POTHOLE, unknown], [POTHOLE, elsewhere]):
        answer = report(client, worker, "早巡", findings=findings)
        assert assert_problem(answer, 422)["code"] in {
            "unknown_category",
            "finding_outside_patrol_grid",
        }
    assert assert_problem(report(client, worker, "夜巡"), 422)["code"] == "unknown_patrol_round"
    assert container.store.read_stream(patrol_stream(GRID, day)) == []
    listed = client.get(f"{API}/cases", params={"grid": GRID}, headers=worker).json()
    assert not [c for c in listed["items"] if c["received_at"].startswith(day.isoformat())]


def test_get_patrols_shows_reported_zero_and_missing_rounds(
    client: TestClient, people: People, clock: Clock, day: date
) -> None:
    worker = people("grid", grid=GRID)
    report(client, worker, "早巡")
    clock.now = local(day, 16).astimezone(UTC)  # 午巡 (15:00) has passed unreported
    report(client, worker, "晚巡", findings=[POTHOLE])  # early, and fine

    rounds = rounds_of(client, worker, day)

    assert set(rounds) == {(GRID, r) for r in ("早巡", "午巡", "晚巡")}, "own grid only"
    shown = {r: (i["reported"], i["zero"], i["missing"]) for (_, r), i in rounds.items()}
    assert shown == {
        "早巡": (True, True, False),
        "午巡": (False, False, True),
        "晚巡": (True, False, False),
    }
    street = rounds_of(client, people("street", street="XYL"), day)
    assert {g for g, _ in street} == {"XYL-01", "XYL-02", "XYL-03"}
    assert street[(OTHER_GRID, "早巡")]["missing"] is True


def test_a_grid_worker_sees_its_own_grid_only(
    client: TestClient, people: People, day: date
) -> None:
    worker = people("grid", grid=GRID)
    officer = people("street", street="XYL")

    for headers, params in ((worker, {"grid": OTHER_GRID}), (officer, {"street": "CLZ"})):
        answer = client.get(
            f"{API}/patrols", params={"date": day.isoformat(), **params}, headers=headers
        )
        assert answer.status_code == 403, answer.text
    operator = people("operator")
    elsewhere = client.post(
        f"{API}/cases",
        json={**POTHOLE, "channel": "phone", "location": {"grid": OTHER_GRID}},
        headers=operator,
    ).json()
    assert client.get(f"{API}/cases/{elsewhere['id']}", headers=worker).status_code == 403
    listed = client.get(f"{API}/cases", headers=worker).json()["items"]
    assert {c["location"]["grid"] for c in listed} <= {GRID}


def test_a_grid_worker_files_only_patrol_cases_in_its_grid(
    client: TestClient, people: People
) -> None:
    worker = people("grid", grid=GRID)
    own = {**POTHOLE, "channel": "patrol", "location": {"grid": GRID}}

    assert client.post(f"{API}/cases", json=own, headers=worker).status_code == 201
    phone = client.post(f"{API}/cases", json={**own, "channel": "phone"}, headers=worker)
    assert assert_problem(phone, 422)["code"] == "grid_files_patrol_only"
    other = {**own, "location": {"grid": OTHER_GRID}}
    refused = client.post(f"{API}/cases", json=other, headers=worker)
    assert assert_problem(refused, 403)["code"] == "outside_own_grid"


def test_a_grid_worker_adds_photos_to_its_own_grids_cases_only(
    client: TestClient, people: People
) -> None:
    worker = people("grid", grid=GRID)
    found = report(client, worker, "早巡", findings=[POTHOLE]).json()["cases"][0]
    operator = people("operator")
    elsewhere = client.post(
        f"{API}/cases", json={**POTHOLE, "location": {"grid": OTHER_GRID}}, headers=operator
    ).json()

    def upload(case_id: str) -> Any:
        return client.post(
            f"{API}/cases/{case_id}/attachments",
            files={"file": ("pothole.png", tiny_png(), "image/png")},
            data={"stage": "intake"},
            headers=worker,
        )

    assert upload(found["id"]).status_code == 201
    assert upload(elsewhere["id"]).status_code == 403


def test_coverage_matches_a_hand_count(
    client: TestClient, people: People, clock: Clock, day: date
) -> None:
    """Day 1: XYL-01 reports all three rounds (晚巡 late, at 22:00); XYL-02 reports 早巡 only.
    Day 2 at 16:00: 早巡 and 午巡 are due; XYL-01 reports 早巡 (zero, late) only.
    XYL-01: due 5, reported 4, late 2, zero 3 → 0.8; XYL-02: due 5, reported 1 → 0.2."""

    def worker() -> dict[str, str]:  # signed in anew after each clock move
        return people("grid", grid=GRID)

    report(client, worker(), "早巡")
    report(client, worker(), "午巡", findings=[POTHOLE])
    report(client, people("grid", grid=OTHER_GRID), "早巡", grid=OTHER_GRID)
    clock.now = local(day, 22).astimezone(UTC)
    report(client, worker(), "晚巡")
    clock.now = local(day + timedelta(days=1), 16).astimezone(UTC)
    report(client, worker(), "早巡")
    supervisor = people("supervisor")
    period = {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}

    by_grid = client.get(f"{API}/stats/patrols", params=period, headers=supervisor)
    by_street = client.get(
        f"{API}/stats/patrols", params={**period, "group_by": "street"}, headers=supervisor
    )

    rows = {row["key"]: row for row in by_grid.json()["items"]}
    assert {k: rows[GRID][k] for k in ("due", "reported", "zero", "late", "missed")} == {
        "due": 5,
        "reported": 4,
        "zero": 3,
        "late": 2,
        "missed": 1,
    }
    assert rows[GRID]["coverage_rate"] == pytest.approx(0.8)
    assert rows[OTHER_GRID]["coverage_rate"] == pytest.approx(0.2)
    assert rows["XYL-03"]["coverage_rate"] == 0.0
    street = {row["key"]: row for row in by_street.json()["items"]}["XYL"]
    assert (street["due"], street["reported"]) == (15, 5)
    assert street["coverage_rate"] == pytest.approx(5 / 15)


def test_the_grid_role_needs_a_grid_and_only_it_has_one(client: TestClient, people: People) -> None:
    admin = people("admin")
    base = {"password": "long enough 1"}

    no_grid = client.post(
        f"{API}/users",
        json={**base, "username": f"g-{uuid.uuid4().hex[:8]}", "roles": ["grid"]},
        headers=admin,
    )
    misplaced = client.post(
        f"{API}/users",
        json={**base, "username": f"o-{uuid.uuid4().hex[:8]}", "roles": ["operator"], "grid": GRID},
        headers=admin,
    )
    made = client.post(
        f"{API}/users",
        json={**base, "username": f"g-{uuid.uuid4().hex[:8]}", "roles": ["grid"], "grid": GRID},
        headers=admin,
    )

    assert no_grid.status_code == 422 and misplaced.status_code == 422
    assert made.status_code == 201 and made.json()["grid"] == GRID
