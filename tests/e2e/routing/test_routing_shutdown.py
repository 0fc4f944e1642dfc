"""SIGTERM lets work in hand finish (DESIGN.md §8.10): the API answers the request it is
reading, a worker completes its job, the scheduler finishes its batch and gives up its lease
at once so that a standby takes over. Real processes, as a service manager runs them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from rq import Queue
from rq.job import Job, JobStatus

from dispatch.auth.tokens import issue_token
from dispatch.auth.users import add_user
from dispatch.delivery.queues import SERIALIZER
from workers.scheduler import LEADER_KEY

from worlds.routing import World

SECRET = "shutdown-test-secret-of-at-least-32-bytes"
COMPLAINT = {
    "channel": "phone",
    "category": "water.outage",
    "description": "停水两天",
    "urgency": "normal",
}


def environment(world: World, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DISPATCH_DATABASE_URL": world.database_url,
        "DISPATCH_REDIS_URL": world.redis_url,
        "DISPATCH_SECRET_KEY": SECRET,
        "DISPATCH_MEDIA_DIR": str(tmp_path / "media"),
    }


def start(world: World, tmp_path: Path, *arguments: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen(
        [sys.executable, "-m", "workers", *arguments],
        env=environment(world, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    world.children.append(child)
    return child


def stopped(child: subprocess.Popen[bytes], *, within: float) -> int:
    try:
        return child.wait(timeout=within)
    except subprocess.TimeoutExpired:
        child.kill()
        _, stderr = child.communicate()
        pytest.fail(f"still running {within}s after SIGTERM:\n{stderr.decode()[-3000:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition, *, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting until {what}")
        time.sleep(0.05)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def operator_token(world: World) -> str:
    with world.container.engine.begin() as conn:
        user = add_user(
            conn,
            username=f"operator-{uuid.uuid4().hex[:10]}",
            password="correct horse battery staple",
            roles=("operator",),
            now=world.container.clock(),
        )
    settings = world.container.settings.model_copy(update={"secret_key": SECRET})
    token, _ = issue_token(user, settings, world.container.clock())
    return token


def test_the_api_answers_a_request_in_flight_when_sigterm_arrives(world: World, tmp_path: Path):
    port = free_port()
    api = start(world, tmp_path, "serve", "--port", str(port))
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), timeout=60, what="it serves")
    body = json.dumps(COMPLAINT).encode()
    head = (
        f"POST /api/v1/cases HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {operator_token(world)}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    with socket.create_connection(("127.0.0.1", port), timeout=15) as conn:
        conn.sendall(head + body[:10])  # the request has begun; its body is still coming
        time.sleep(0.3)
        api.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        conn.sendall(body[10:])
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 201"), answer[:500]
    case_id = json.loads(rest.split(b"\r\n\r\n", 1)[1])["id"]
    assert world.container.store.read_stream(case_id)  # the 201 is a stored case
    assert stopped(api, within=10) == 0
    assert not answers(f"http://127.0.0.1:{port}/healthz")


def test_a_worker_finishes_its_job_before_it_stops(world: World, tmp_path: Path):
    name = f"shutdown-{uuid.uuid4().hex[:8]}"
    job = Queue(name, connection=world.connection, serializer=SERIALIZER).enqueue_call(
        "time.sleep", args=(2,), result_ttl=600
    )
    worker = start(world, tmp_path, "worker", name)
    wait_for(
        lambda: job.get_status(refresh=True) == JobStatus.STARTED, timeout=60, what="job starts"
    )
    worker.send_signal(signal.SIGTERM)

    assert stopped(worker, within=10) == 0
    assert Job.fetch(job.id, connection=world.connection, serializer=SERIALIZER).get_status() == (
        JobStatus.FINISHED
    )


def test_the_scheduler_gives_up_its_lease_at_once_on_sigterm(world: World, tmp_path: Path):
    scheduler = start(world, tmp_path, "scheduler")
    wait_for(lambda: world.connection.get(LEADER_KEY) is not None, timeout=60, what="it leads")

    scheduler.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert stopped(scheduler, within=10) == 0
    assert time.monotonic() - started < 5
    assert world.connection.get(LEADER_KEY) is None  # a standby need not wait out the lease
