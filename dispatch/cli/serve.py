"""``dispatch serve``: API and console; with no DISPATCH_REDIS_URL, all in one process."""

from __future__ import annotations

from pathlib import Path

import typer
import uvicorn

from dispatch.api.app import create_app
from dispatch.bootstrap import bootstrap
from dispatch.cli.common import fail, settings
from dispatch.database import prepare_database
from dispatch.embedded_redis import EmbeddedRedis


def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
) -> None:
    """Run the HTTP API (and, on the embedded default, Redis and the workers)."""
    config = settings()
    embedded: EmbeddedRedis | None = None
    redis_url = config.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(Path(config.embedded_redis_dir))
        try:
            embedded.start()
        except (OSError, RuntimeError) as error:
            fail(f"cannot start the embedded Redis: {error}")
        redis_url = embedded.url
    container = bootstrap(config, redis_url=redis_url)
    try:
        if container.engine.dialect.name == "sqlite":
            prepare_database(container.engine)
        app = create_app(container)
        typer.echo(f"Street Whistle on http://{host}:{port}  (API docs: /docs)")
        uvicorn.run(app, host=host, port=port, log_level="info")
    finally:
        container.close()
        if embedded is not None:
            embedded.stop()
