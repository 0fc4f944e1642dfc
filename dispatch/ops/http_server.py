"""The web application under uvicorn, against a Redis that runs elsewhere (production)."""

from __future__ import annotations

import uvicorn

from dispatch.app import create_app
from dispatch.bootstrap import bootstrap
from dispatch.ops.migrations import prepare_database
from dispatch.settings import Settings


def serve_http(config: Settings, *, host: str, port: int) -> None:
    """API, console and Open311 in this process; workers and scheduler run on their own."""
    container = bootstrap(config)
    try:
        if container.engine.dialect.name == "sqlite":
            prepare_database(container.engine, phone_key=config.phone_index_key())
        print(f"Street Whistle on http://{host}:{port}  (API docs: /docs)", flush=True)
        uvicorn.run(create_app(container), host=host, port=port, log_level="info")
    finally:
        container.close()
