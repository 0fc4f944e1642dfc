"""The correlation id: one id for everything a request (or a job it caused) sets in motion.

An HTTP request takes it from ``X-Request-ID`` or gets a new one (``dispatch.api.correlation``);
the executor writes it into the meta of the events it appends; the relay copies it from an
event's meta into the meta of the job the event causes, and the worker sets it again while
that job runs. The JSON logs carry it on every line (``dispatch.ops.logs``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# Short and safe: it goes into logs, headers, event meta and job meta verbatim.
_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_current: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def acceptable(candidate: str | None) -> str | None:
    """``candidate`` when it is a safe id (1-64 of ``A-Z a-z 0-9 . _ : -``), else None."""
    if candidate and _SAFE.fullmatch(candidate):
        return candidate
    return None


def current_correlation_id() -> str | None:
    return _current.get()


@contextmanager
def correlated(correlation_id: str | None) -> Iterator[str | None]:
    """Within the block, ``current_correlation_id()`` is ``correlation_id``."""
    token = _current.set(correlation_id)
    try:
        yield correlation_id
    finally:
        _current.reset(token)
