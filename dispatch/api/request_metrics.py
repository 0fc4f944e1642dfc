"""Counts every answer by route template and status, times it, and logs one line for it.

The label is the template the request matched (``/api/v1/cases/{case_id}``), never the raw
path: a case id in a label would make a new time series per case (and put ids where anyone
with the metrics token reads them). A request no route matched is ``<unmatched>``.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatch.ops.logs import logger
from dispatch.ops.metrics import LATENCY, REQUESTS, UNMATCHED

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes every few seconds would drown the access log; they are still counted.
QUIET = frozenset({"/healthz", "/readyz", "/metrics"})

log = logger("dispatch.access")


def route_template(scope: Scope) -> str:
    """The path with each path parameter put back as ``{name}``: the route's template.

    Read from what routing left in the scope (``endpoint``, ``path_params``), which every
    Starlette router, mount and FastAPI version sets, rather than from a route object whose
    prefixes are kept differently from one FastAPI version to the next.
    """
    if scope.get("endpoint") is None:
        return UNMATCHED
    path = str(scope.get("path", ""))
    params = {str(v): k for k, v in dict(scope.get("path_params") or {}).items() if v != ""}
    segments = [f"{{{params[s]}}}" if s in params else s for s in path.split("/")]
    template = "/".join(segments)
    for value, name in params.items():
        if "/" in value:  # a ``{name:path}`` parameter spans segments
            template = template.replace(value, f"{{{name}}}")
    return template


class RequestMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before starting a response

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, watching)
        finally:
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in METHODS else "OTHER"
            route = route_template(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            if route not in QUIET:
                log.info(
                    "request",
                    method=method,
                    route=route,
                    status=status,
                    ms=round(elapsed * 1000, 1),
                )
