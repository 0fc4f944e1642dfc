"""Logs as one JSON object a line (structlog), each carrying the correlation id.

Every process (API, worker, scheduler) calls ``configure_logging`` once at start. The code
logs through the standard ``logging`` module (so do uvicorn and RQ); structlog's formatter on
the root handler renders those records, adding the time, the level, the logger and the
``correlation_id`` of the request or job being served. ``DISPATCH_LOG_FORMAT=text`` gives a
human-readable line instead, for a terminal.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from dispatch.correlation import current_correlation_id

FORMATS = ("json", "text")


def add_correlation_id(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    correlation_id = current_correlation_id()
    if correlation_id is not None:
        event.setdefault("correlation_id", correlation_id)
    return event


def drop_color_message(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    event.pop("color_message", None)  # uvicorn's copy of the message with terminal colours
    return event


def _json_line(event: EventDict, **options: Any) -> str:
    """One log line's JSON, UTF-8 as it stands (Chinese unescaped): orjson, a third of the
    standard library's time for the request line the API writes on every answer."""
    return orjson.dumps(
        event, default=options.get("default"), option=orjson.OPT_NON_STR_KEYS
    ).decode()


def configure_logging(*, format: str = "json", level: int | str = logging.INFO) -> None:
    """Route every log record through structlog's renderer on stderr."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_correlation_id,
    ]
    renderer: Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if format == "text"
        else structlog.processors.JSONRenderer(serializer=_json_line)
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(), drop_color_message],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's and RQ's own handlers would print each line a second time, unformatted.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "rq", "rq.worker"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # Alembic says which dialect it uses at every start: noise, not news.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logger(name: str) -> Any:
    """A structlog logger: ``logger(__name__).info("request", route=..., status=...)``."""
    return structlog.stdlib.get_logger(name)
