"""Departments hear everything that concerns them (DESIGN.md §8.4), through real receivers
started in the test on 127.0.0.1: a 企业微信 robot, a 钉钉 robot that checks its signature as
DingTalk does, an SMS gateway, a department's signed webhook, and the built-in inbox.

The catalogue's ``quick`` policy: sign 1h, contact 2h, reply 4h, warn_at 0.5. ``road.*`` goes
to ``roads`` (lead, on the channel under test) with ``water`` (assist, the inbox).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from dispatch.app import create_app
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.delivery.notice_state import notice_deliveries
from dispatch.delivery.policy import DeliveryPolicy
from dispatch.delivery.queues import department_queue
from dispatch.delivery.replay import replay
from dispatch.domain.commands import ApproveReturn, RequestReturn, UrgeCase
from dispatch.handlers import Issuer
from dispatch.handlers.actor import SystemActor
from dispatch.handlers.intake import Complaint, new_case_id
from workers import timers

from worlds.routing import WEBHOOK_SECRET, Clock, World, claimed_redis, fresh_database

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
SUPERVISOR = Issuer(
    actor=SystemActor(username="supervisor-test", roles=frozenset({"supervisor"})),
    role="supervisor",
)
DISPATCHER = Issuer(
    actor=SystemActor(username="dispatcher-test", roles=frozenset({"dispatcher"})),
    role="dispatcher",
)
ROADS_LIAISON = Issuer(
    actor=SystemActor(username="liaison-roads", department="roads", roles=frozenset({"liaison"})),
    role="liaison",
)
OPERATOR_ISSUER = Issuer(
    actor=SystemActor(username="operator-test", roles=frozenset({"operator"})), role="operator"
)
DING_SECRET = "SEC0123456789abcdef-test-secret"
REPORTER_PHONE = "13800138000"

CATALOGUE = """
version: "notices-{label}"
timezone: Asia/Shanghai
departments:
  - {{code: water, name: 自来水公司, delivery: {{type: inbox}}}}
  - {{code: roads, name: 市政道路, delivery: {roads}}}
  - {{code: city, name: 城管执法, delivery: {{type: inbox}}}}
categories:
  - {{code: road.pothole, name: 道路坑洼, sla: quick}}
routing:
  - {{id: R-road, category: "road.*", lead: roads, assist: [water]}}
sla:
  quick: {{sign: 1h, contact: 2h, reply: 4h, warn_at: 0.5}}
"""


def catalogue(roads: dict[str, Any]) -> str:
    return CATALOGUE.format(label=uuid.uuid4().hex[:8], roads=json.dumps(roads))


# -- receivers ----------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server; ``answer`` turns each request into (status, JSON body)."""

    answer: Callable[[Request], tuple[int, dict[str, Any]]]
    received: list[Request] = field(default_factory=list)
    url: str = ""

    def bodies(self) -> list[Any]:
        return [r.json() for r in self.received]


@contextlib.contextmanager
def serving(answer: Callable[[Request], tuple[int, dict[str, Any]]]) -> Iterator[Receiver]:
    receiver = Receiver(answer)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            parts = urlsplit(self.path)
            request = Request(
                self.command,
                parts.path,
                parse_qs(parts.query),
                dict(self.headers),
                self.rfile.read(length),
            )
            receiver.received.append(request)
            status, reply = receiver.answer(request)
            body = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_PUT = do_GET = _serve

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def wecom_robot(
    request: Request, *, failing: list[int] | None = None
) -> tuple[int, dict[str, Any]]:
    """企业微信: the key in the URL, a markdown message with content; errcode 0 or a refusal."""
    if request.query.get("key") != ["robot-key"]:
        return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
    body = request.json()
    if body.get("msgtype") != "markdown" or not isinstance(body["markdown"].get("content"), str):
        return 200, {"errcode": 40008, "errmsg": "invalid message type"}
    if failing:
        return 200, {"errcode": failing.pop(0), "errmsg": "api freq out of limit"}
    return 200, {"errcode": 0, "errmsg": "ok"}


def dingtalk_robot(secret: str) -> Callable[[Request], tuple[int, dict[str, Any]]]:
    """钉钉 加签: timestamp within an hour, sign = base64(HMAC-SHA256(secret, "ts\\nsecret"))."""

    def answer(request: Request) -> tuple[int, dict[str, Any]]:
        if request.query.get("access_token") != ["ding-token"]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        [stamp] = request.query.get("timestamp", ["0"])
        [sign] = request.query.get("sign", [""])  # parse_qs has url-decoded it
        if abs(time.time() * 1000 - int(stamp)) > 3600 * 1000:
            return 200, {"errcode": 310000, "errmsg": "timestamp expired"}
        mac = hmac.new(secret.encode(), f"{stamp}\n{secret}".encode(), hashlib.sha256)
        if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), sign):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        body = request.json()
        markdown = body.get("markdown", {})
        if (
            body.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return 200, {"errcode": 40035, "errmsg": "missing parameter"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    return answer


# -- worlds -------------------------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(tmp_path: Path, redis_url: str, clock: Clock) -> Iterator[World]:
    """A world whose jobs read the test's clock; three attempts, no wait between them."""
    with fresh_database(tmp_path) as database_url, claimed_redis(redis_url) as own_redis:
        world = World.build(database_url, own_redis, clock=clock)
        world.container.delivery_policy = DeliveryPolicy(attempts=3, backoff=(0,), timeout=5)
        try:
            yield world
        finally:
            world.close()


def wecom_catalogue(robot: Receiver) -> str:
    return catalogue(
        {"type": "wecom", "url": f"{robot.url}/send?key=robot-key", "allow_http": True}
    )


def submit_road_case(world: World) -> str:
    case_id = world.submit("road.pothole", description=f"路面塌陷，联系电话{REPORTER_PHONE}")
    world.settle()
    return case_id


def notice_rows(world: World) -> list[dict[str, Any]]:
    with world.container.engine.connect() as conn:
        rows = conn.execute(notice_deliveries.select().order_by(notice_deliveries.c.notice_id))
        return [dict(row._mapping) for row in rows]


def headers_for(world: World, *roles: str, department: str | None = None) -> dict[str, str]:
    with world.container.engine.begin() as conn:
        user = add_user(
            conn,
            username=f"{roles[0]}-{uuid.uuid4().hex[:8]}",
            password="correct horse battery staple",
            roles=roles,
            department=department,
            now=world.container.clock(),
            hasher=FAST_HASHER,
        )
    token, _ = issue_token(user, world.container.settings, world.container.clock())
    return {"Authorization": f"Bearer {token}"}


# -- the rules ----------------------------------------------------------------------------


def test_a_wecom_robot_gets_markdown_for_the_dispatch_and_for_an_urge(world: World):
    with serving(wecom_robot) as robot:
        world.load_catalogue(
            catalogue({"type": "wecom", "url": f"{robot.url}/cgi-bin/webhook/send?key=robot-key",
                       "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)
        case_no = world.events_of(case_id, "CaseReceived")[0]["case_no"]
        world.container.handle(case_id, UrgeCase(level="reminder", note="请今天处理"), SUPERVISOR)
        world.settle()

    first, second = (body["markdown"]["content"] for body in robot.bodies())
    assert "12345派单" in first and str(case_no) in first and "市政道路" in first
    assert "12345催办" in second and "请今天处理" in second
    assert all(REPORTER_PHONE not in r.body.decode() for r in robot.received)
    assert world.delivery_states() == {f"{case_id}-1": "delivered", f"{case_id}-2": "delivered"}
    kinds = {
        (row["department"], row["kind"], row["channel"], row["state"]) for row in notice_rows(world)
    }
    assert kinds == {
        ("roads", "case.urged", "wecom", "delivered"),
        ("water", "case.urged", "inbox", "delivered"),
    }


def test_a_dingtalk_robot_accepts_messages_signed_with_its_secret_from_the_environment(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("ROADS_DINGTALK_SECRET", DING_SECRET)
    with serving(dingtalk_robot(DING_SECRET)) as robot:
        world.load_catalogue(
            catalogue({"type": "dingtalk", "url": f"{robot.url}/robot/send?access_token=ding-token",
                       "secret_env": "ROADS_DINGTALK_SECRET", "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)
        world.container.handle(
            case_id,
            UrgeCase(level="supervision", note="市领导督办", department="roads"),
            SUPERVISOR,
        )
        world.settle()

    assert len(robot.received) == 2
    assert all(set(r.query) == {"access_token", "timestamp", "sign"} for r in robot.received)
    urge = robot.bodies()[1]["markdown"]
    assert urge["title"].startswith("12345督办") and "市领导督办" in urge["text"]
    assert world.delivery_states()[f"{case_id}-1"] == "delivered"
    assert [(r["department"], r["state"]) for r in notice_rows(world)] == [("roads", "delivered")]


def test_a_wrong_dingtalk_secret_is_refused_retried_and_dead_lettered(world: World):
    with serving(dingtalk_robot(DING_SECRET)) as robot:
        world.load_catalogue(
            catalogue({"type": "dingtalk", "url": f"{robot.url}/robot/send?access_token=ding-token",
                       "secret": "SECnot-the-robots-secret", "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)

    assert len(robot.received) == 3  # every attempt refused with 310000
    assert world.delivery_states()[f"{case_id}-1"] == "failed"
    with TestClient(create_app(world.container)) as client:
        letters = client.get(
            "/api/v1/deliveries/dead-letters", headers=headers_for(world, "dispatcher")
        )
    [letter] = letters.json()["items"]
    assert letter["kind"] == "deliver_task"
    assert (letter["delivery_kind"], letter["type"]) == ("task.dispatched", "dingtalk")
    assert "errcode 310000" in letter["error"]
    assert "ding-token" not in letters.text  # the robot's token is a secret too


def test_the_sms_gateway_gets_the_templated_body_and_the_auth_header_for_each_duty_phone(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SMS_GATEWAY_TOKEN", "Bearer gateway-token")

    def gateway(request: Request) -> tuple[int, dict[str, Any]]:
        if request.headers.get("X-Auth") != "Bearer gateway-token":
            return 401, {"code": "unauthorized"}
        return 200, {"code": "OK"}

    with serving(gateway) as sms:
        world.load_catalogue(
            catalogue({"type": "sms", "url": f"{sms.url}/sms/send", "allow_http": True,
                       "body": '{"to": "{phone}", "content": "{text}", "ref": "{case_no}"}',
                       "auth_header": "X-Auth", "auth_value_env": "SMS_GATEWAY_TOKEN",
                       "phones": ["13900000001", "13900000002"]})
        )  # fmt: skip
        case_id = submit_road_case(world)

    case_no = world.events_of(case_id, "CaseReceived")[0]["case_no"]
    bodies = sms.bodies()
    assert [b["to"] for b in bodies] == ["13900000001", "13900000002"]
    assert all(b["ref"] == case_no and b["content"].startswith("【12345派单】") for b in bodies)
    assert all(len(b["content"]) <= 140 and REPORTER_PHONE not in b["content"] for b in bodies)
    assert world.delivery_states()[f"{case_id}-1"] == "delivered"


def test_an_urge_reaches_the_webhook_department_signed_and_shows_on_the_inbox_departments_task(
    world: World,
):
    with serving(lambda _request: (200, {})) as system:
        world.load_catalogue(
            catalogue({"type": "webhook", "url": f"{system.url}/12345", "secret": WEBHOOK_SECRET,
                       "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)
        world.container.handle(case_id, UrgeCase(level="reminder", note="群众再次来电"), SUPERVISOR)
        world.settle()

    dispatched, urged = system.received
    assert dispatched.json()["kind"] == "task.dispatched"
    body = urged.json()
    assert body["kind"] == body["event"] == "case.urged"
    assert body["task_id"] == f"{case_id}-1" and body["department"] == "roads"
    assert body["what"] == {"level": "reminder", "note": "群众再次来电"}
    assert set(body["deadlines"]) == {"sign_by", "contact_by", "reply_by"}
    expected = hmac.new(WEBHOOK_SECRET.encode(), urged.body, hashlib.sha256).hexdigest()
    assert urged.headers["X-Street-Whistle-Signature"] == f"sha256={expected}"
    assert REPORTER_PHONE not in urged.body.decode()

    with TestClient(create_app(world.container)) as client:
        inbox = client.get(
            "/api/v1/tasks", headers=headers_for(world, "liaison", department="water")
        )
    [task] = inbox.json()["items"]
    assert task["id"] == f"{case_id}-2"
    assert task["urged"]["level"] == "reminder" and task["urged"]["note"] == "群众再次来电"
    assert task["urged"]["at"] is not None


def test_an_urge_naming_a_department_shows_only_on_that_departments_task(world: World):
    world.load_catalogue(catalogue({"type": "inbox"}))
    case_id = submit_road_case(world)
    world.container.handle(
        case_id, UrgeCase(level="supervision", note="督办", department="water"), SUPERVISOR
    )
    world.settle()

    with TestClient(create_app(world.container)) as client:
        items = client.get("/api/v1/tasks", headers=headers_for(world, "dispatcher")).json()[
            "items"
        ]
    urged = {item["department"]: item["urged"] for item in items}
    assert urged["roads"] is None
    assert urged["water"]["level"] == "supervision"
    assert [r["department"] for r in notice_rows(world)] == ["water"]


def test_a_return_ruling_and_an_sla_warning_are_delivered_to_the_tasks_department(
    world: World, clock: Clock
):
    with serving(lambda _request: (200, {})) as system:
        world.load_catalogue(
            catalogue({"type": "webhook", "url": f"{system.url}/12345", "secret": WEBHOOK_SECRET,
                       "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)
        clock.advance(timedelta(minutes=31))  # past warn_at of the 1h sign stage
        timers.raise_due_warnings(world.container)
        world.settle()
        lead = f"{case_id}-1"
        world.container.handle(
            lead, RequestReturn(task_id=lead, reason="remit", basis="非本单位职责"), ROADS_LIAISON
        )
        world.container.handle(lead, ApproveReturn(task_id=lead, note="同意"), DISPATCHER)
        world.settle()

    kinds = [body["kind"] for body in system.bodies()]
    assert kinds == ["task.dispatched", "sla.warning", "task.return_ruled"]
    warning, ruling = system.bodies()[1:]
    assert warning["what"]["stage"] == "sign" and warning["what"]["level"] == "yellow"
    assert "12345预警" in warning["text"]
    assert ruling["what"] == {"decision": "approved", "note": "同意"}
    # The assist's yellow warning went to water's inbox, not to the roads webhook.
    inbox = {(r["department"], r["kind"]) for r in notice_rows(world) if r["channel"] == "inbox"}
    assert ("water", "sla.warning") in inbox


def test_a_failing_robot_is_retried_then_dead_lettered_and_a_replay_delivers_it(world: World):
    failing = [45009] * 3

    with serving(lambda request: wecom_robot(request, failing=failing)) as robot:
        world.load_catalogue(
            catalogue(
                {"type": "wecom", "url": f"{robot.url}/send?key=robot-key", "allow_http": True}
            )
        )
        case_id = submit_road_case(world)  # the dispatch: refused three times
        assert world.delivery_states()[f"{case_id}-1"] == "failed"

        failing.extend([45009] * 3)
        world.container.handle(case_id, UrgeCase(level="reminder", note="再催"), SUPERVISOR)
        world.settle()
        [roads] = [r for r in notice_rows(world) if r["department"] == "roads"]
        assert (roads["state"], roads["attempts"]) == ("failed", 3)

        with TestClient(create_app(world.container)) as client:
            listed = client.get(
                "/api/v1/deliveries/dead-letters", headers=headers_for(world, "dispatcher")
            ).json()["items"]
        urge_letter = next(item for item in listed if item["delivery_kind"] == "case.urged")
        assert urge_letter["kind"] == "deliver_notice" and urge_letter["type"] == "wecom"
        assert "errcode 45009" in urge_letter["error"]

        replay(
            world.container.store,
            urge_letter["id"],
            by="dispatcher-test",
            clock=world.container.clock,
            redis_url=world.redis_url,
        )
        world.work()

    [roads] = [r for r in notice_rows(world) if r["department"] == "roads"]
    assert roads["state"] == "delivered"
    assert len(robot.received) == 3 + 3 + 1


def test_relaying_an_urge_again_sends_it_once(world: World):
    with serving(wecom_robot) as robot:
        world.load_catalogue(
            catalogue(
                {"type": "wecom", "url": f"{robot.url}/send?key=robot-key", "allow_http": True}
            )
        )
        case_id = submit_road_case(world)
        world.container.handle(case_id, UrgeCase(level="reminder", note="一次"), SUPERVISOR)
        world.settle()
        with world.container.engine.begin() as conn:  # the relay forgets how far it got
            conn.exec_driver_sql("DELETE FROM checkpoints WHERE name = 'relay'")
        world.settle()

    assert len(robot.received) == 2  # the dispatch and the urge, once each


def test_the_console_inbox_card_shows_the_urge_badge_and_its_note(world: World):
    world.load_catalogue(catalogue({"type": "inbox"}))
    case_id = submit_road_case(world)
    world.container.handle(case_id, UrgeCase(level="supervision", note="今日必须回复"), SUPERVISOR)
    world.settle()
    username, password = f"liaison-{uuid.uuid4().hex[:8]}", "correct horse battery staple"
    with world.container.engine.begin() as conn:
        add_user(conn, username=username, password=password, roles=("liaison",),
                 department="water", now=world.container.clock(), hasher=FAST_HASHER)  # fmt: skip

    app = create_app(world.container)
    with TestClient(app, base_url="https://testserver") as client:
        login = client.get("/console/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
        form = {"username": username, "password": password, "csrf_token": token, "next": ""}
        client.post("/console/login", data=form, follow_redirects=False)
        page = client.get("/console/inbox").text

    card = page[page.index(f'data-task="{case_id}-2"') :]
    assert '<span class="badge urge supervision">督办</span> 今日必须回复' in card
    assert 'title="中心催办"' in card


def test_the_deliveries_list_shows_each_deliverys_kind_and_type(world: World):
    with serving(wecom_robot) as robot:
        world.load_catalogue(
            catalogue(
                {"type": "wecom", "url": f"{robot.url}/send?key=robot-key", "allow_http": True}
            )
        )
        case_id = submit_road_case(world)
        world.container.handle(case_id, UrgeCase(level="reminder", note="请处理"), SUPERVISOR)
        world.settle()

    with TestClient(create_app(world.container)) as client:
        headers = headers_for(world, "dispatcher")
        listed = client.get("/api/v1/deliveries", params={"case_id": case_id}, headers=headers)
        urges = client.get("/api/v1/deliveries", params={"kind": "case.urged"}, headers=headers)
        refused = client.get("/api/v1/deliveries", headers=headers_for(world, "operator"))
    seen = {(i["department"], i["kind"], i["type"], i["state"]) for i in listed.json()["items"]}
    assert seen == {
        ("roads", "task.dispatched", "wecom", "delivered"),
        ("water", "task.dispatched", "inbox", "delivered"),
        ("roads", "case.urged", "wecom", "delivered"),
        ("water", "case.urged", "inbox", "delivered"),
    }
    assert urges.json()["total"] == 2
    assert refused.status_code == 403


def test_an_urge_lost_in_a_redis_flush_is_sent_again_by_the_reconciler_once(world: World):
    with serving(lambda _request: (200, {})) as system:
        world.load_catalogue(
            catalogue({"type": "webhook", "url": f"{system.url}/12345", "secret": WEBHOOK_SECRET,
                       "allow_http": True})
        )  # fmt: skip
        case_id = submit_road_case(world)
        world.container.handle(case_id, UrgeCase(level="reminder", note="丢了再发"), SUPERVISOR)
        assert world.relay() == 1  # the urge's notice jobs are in Redis ...
        # ... and Redis forgets them: FLUSHDB on the world's own database (its FLUSHALL).
        world.connection.flushdb()
        assert notice_rows(world) == []

        report = world.reconcile()
        world.work()
        again = world.reconcile()
        world.work()

    urges = [body for body in system.bodies() if body["kind"] == "case.urged"]
    assert len(urges) == 1 and urges[0]["what"]["note"] == "丢了再发"
    assert len(report.requeued) == 2  # roads (the webhook) and water (the inbox)
    assert again.requeued == []
    states = {(r["department"], r["channel"], r["state"]) for r in notice_rows(world)}
    assert states == {("roads", "webhook", "delivered"), ("water", "inbox", "delivered")}


HOTSPOT_CATALOGUE = """
version: "hotspot-{label}"
timezone: Asia/Shanghai
streets:
  - {{code: XYL, name: 西一路街道, office: xyl-office}}
  - {{code: CLZ, name: 长乐中路街道, office: clz-office}}
departments:
  - {{code: xyl-office, name: 西一路街道办事处, delivery: {office}}}
  - {{code: clz-office, name: 长乐中路街道办事处, delivery: {{type: inbox}}}}
  - {{code: roads, name: 市政道路, delivery: {{type: inbox}}}}
grids:
  - {{code: XYL-01, name: 西一路第1网格, street: XYL}}
  - {{code: CLZ-01, name: 长乐中路第1网格, street: CLZ}}
categories:
  - {{code: road.pothole, name: 道路坑洼, sla: quick}}
routing:
  - {{id: R-road, category: "road.*", lead: roads}}
sla:
  quick: {{sign: 1h, contact: 2h, reply: 4h, warn_at: 0.5}}
hotspots: {{window_days: 7, min_cases: 2}}
"""


def test_a_hotspot_reaches_the_street_offices_webhook_once_and_no_other_department(
    world: World,
):
    with serving(lambda _request: (200, {})) as office:
        delivery = {"type": "webhook", "url": f"{office.url}/12345", "secret": WEBHOOK_SECRET,
                    "allow_http": True}  # fmt: skip
        world.load_catalogue(
            HOTSPOT_CATALOGUE.format(label=uuid.uuid4().hex[:8], office=json.dumps(delivery))
        )
        for _ in range(2):
            complaint = Complaint(
                channel="phone", category="road.pothole", description="井盖缺失", urgency="normal",
                grid="XYL-01", reporter_phone=REPORTER_PHONE,
            )  # fmt: skip
            world.container.handle(new_case_id(), complaint, OPERATOR_ISSUER)
        offices = [department_queue("xyl-office"), department_queue("clz-office")]
        world.settle()
        assert timers.raise_due_warnings(world.container)["hotspots"] == 1
        world.relay()
        world.work(offices)
        assert timers.raise_due_warnings(world.container)["hotspots"] == 0
        world.relay()  # nothing new: the notice is not sent again
        world.work(offices)

    [told] = office.received
    body = told.json()
    assert body["kind"] == "hotspot.detected" and body["department"] == "xyl-office"
    assert body["what"]["grid"] == "XYL-01" and body["what"]["category"] == "road.pothole"
    assert body["what"]["count"] == 2 and len(body["what"]["cases"]) == 2
    assert "主动治理" in body["text"] and "道路坑洼" in body["text"]
    assert REPORTER_PHONE not in told.body.decode()
    expected = hmac.new(WEBHOOK_SECRET.encode(), told.body, hashlib.sha256).hexdigest()
    assert told.headers["X-Street-Whistle-Signature"] == f"sha256={expected}"
    hotspot_rows = [r for r in notice_rows(world) if r["kind"] == "hotspot.detected"]
    assert [(r["department"], r["state"]) for r in hotspot_rows] == [("xyl-office", "delivered")]


def test_a_hotspot_notice_lost_in_a_redis_flush_is_sent_again_by_the_reconciler_once(
    world: World,
):
    with serving(lambda _request: (200, {})) as office:
        delivery = {"type": "webhook", "url": f"{office.url}/12345", "secret": WEBHOOK_SECRET,
                    "allow_http": True}  # fmt: skip
        world.load_catalogue(
            HOTSPOT_CATALOGUE.format(label=uuid.uuid4().hex[:8], office=json.dumps(delivery))
        )
        for _ in range(2):
            complaint = Complaint(
                channel="phone", category="road.pothole", description="井盖缺失", urgency="normal",
                grid="XYL-01",
            )  # fmt: skip
            world.container.handle(new_case_id(), complaint, OPERATOR_ISSUER)
        offices = [department_queue("xyl-office"), department_queue("clz-office")]
        world.settle()
        assert timers.raise_due_warnings(world.container)["hotspots"] == 1
        world.relay()  # the hotspot's notice job is in Redis ...
        world.connection.flushdb()  # ... and Redis forgets it
        assert [r for r in notice_rows(world) if r["kind"] == "hotspot.detected"] == []

        report = world.reconcile()
        world.work(offices)
        again = world.reconcile()
        world.work(offices)

    [told] = office.received
    assert told.json()["kind"] == "hotspot.detected"
    assert told.json()["what"]["grid"] == "XYL-01"
    assert len(report.requeued) == 1  # the office's notice; the cases were done already
    assert again.requeued == []
    hotspot_rows = [r for r in notice_rows(world) if r["kind"] == "hotspot.detected"]
    assert [(r["department"], r["state"]) for r in hotspot_rows] == [("xyl-office", "delivered")]
