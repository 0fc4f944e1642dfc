"""The web application under uvicorn, against a Redis that runs elsewhere (production).

On SIGTERM uvicorn stops accepting connections and lets the requests in flight finish, for up
to ``GRACEFUL_SECONDS``; a service manager should wait a little longer before SIGKILL
(systemd ``TimeoutStopSec=35``, compose ``stop_grace_period: 35s``).
"""

from __future__ import annotations

import signal
from types import FrameType

import uvicorn
from fastapi import FastAPI

from dispatch.app import create_app
from dispatch.bootstrap import bootstrap
from dispatch.live import stop_live_streams
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings

GRACEFUL_SECONDS = 30


def serve_http(config: Settings, *, host: str, port: int) -> None:
    """API, console and Open311 in this process; workers and scheduler run on their own."""
    container = bootstrap(config)
    try:
        if container.engine.dialect.name == "sqlite":
            prepare_database(container.engine, phone_key=config.phone_index_key())
        print(f"Street Whistle on http://{host}:{port}  (API docs: /docs)", flush=True)
        run_uvicorn(create_app(container), host=host, port=port)
    finally:
        container.close()


class Stopped(Exception):
    pass


class StreamEndingServer(uvicorn.Server):
    """uvicorn's server, which on Ctrl-C or SIGTERM also ends the live streams (§8.8) at
    once: they never finish on their own, and uvicorn waits for what is in flight."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stop_live_streams(self.app)
        super().handle_exit(sig, frame)


def run_uvicorn(app: FastAPI, *, host: str, port: int) -> None:
    """Serve until Ctrl-C or SIGTERM, then return normally, so the caller's ``finally``
    closes what it opened and the process exits 0.

    uvicorn handles the signal itself (stops listening, lets requests in flight finish for
    up to ``GRACEFUL_SECONDS``), then re-raises it to the handler installed before: ours.
    Logging is ours too (JSON, one line per request from ``dispatch.api.request_metrics``).
    """

    def stop(_signum: int, _frame: object) -> None:
        raise Stopped()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    try:
        StreamEndingServer(config, app).run()
    except Stopped:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
