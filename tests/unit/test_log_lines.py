"""Logs are one JSON object a line, Chinese as written, with the request's correlation id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from dispatch.correlation import correlated
from dispatch.ops.logs import configure_logging, logger


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_log_line_is_one_json_object_with_the_correlation_id(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(format="json")  # its handler writes to the captured stderr
    with correlated("req-42"):
        logger("dispatch.test").info("request", route="/api/v1/cases", 说明="工单", odd=object())
        logging.getLogger("uvicorn.error").warning("plain %s", "record")

    lines = capsys.readouterr().err.splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["event"] == "request" and first["说明"] == "工单"
    assert "工单" in lines[0]  # written as UTF-8, not \\u escapes
    assert first["correlation_id"] == second["correlation_id"] == "req-42"
    assert first["odd"].startswith("<object object")  # what JSON cannot hold, as its repr
    assert second["event"] == "plain record" and second["logger"] == "uvicorn.error"
