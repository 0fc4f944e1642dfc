"""The web application under uvicorn, against a Redis that runs elsewhere (production).

On SIGTERM uvicorn stops accepting connections and lets the requests in flight finish, for up
to ``GRACEFUL_SECONDS``; a service manager should wait a little longer before SIGKILL
(systemd ``TimeoutStopSec=35``, compose ``stop_grace_period: 35s``).
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from dispatch.app import create_app
from dispatch.bootstrap import bootstrap
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings

GRACEFUL_SECONDS = 30


def serve_http(config: Settings, *, host: str, port: int) -> None:
    """API, console and Open311 in this process; workers and scheduler run on their own."""
    container = bootstrap(config)
    try:
        if container.engine.dialect.name == "sqlite":
            prepare_database(container.engine)
        print(f"Street Whistle on http://{host}:{port}  (API docs: /docs)", flush=True)
        run_uvicorn(create_app(container), host=host, port=port)
    finally:
        container.close()


def run_uvicorn(app: FastAPI, *, host: str, port: int) -> None:
    """Our logging (JSON, one line per request from ``dispatch.api.request_metrics``) instead
    of uvicorn's, and a graceful shutdown."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
