"""Liveness and readiness for load balancers and orchestrators.

Ready means: the database answers, Redis answers, and the relay, the projections and the RQ
queues are within ``DISPATCH_READY_MAX_*`` (``dispatch.ops.readiness``).

``/readyz`` tells everyone whether the service is ready, and nothing else; which check
failed and the backlog (queue depths, relay and projection lag, dead letters) are for the
metrics reader (``dispatch.api.observers``) and a signed-in supervisor or admin.
"""

from __future__ import annotations

import redis
import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep, user_for_token
from dispatch.api.observers import may_observe
from dispatch.api.problems import Problem
from dispatch.bootstrap import Container
from dispatch.ops.backlog import measure
from dispatch.ops.readiness import OK, lag_checks

router = APIRouter(tags=["health"])
DETAIL_ROLES = ("supervisor", "admin")


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request, container: ContainerDep) -> JSONResponse:
    detailed = may_observe(request, container) or _staff_reader(request, container)
    return _checked(container, detailed=detailed)


def _staff_reader(request: Request, container: Container) -> bool:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        user = user_for_token(container, token.strip())
    except Problem:
        return False
    return user.has_any(*DETAIL_ROLES)


def _checked(container: Container, *, detailed: bool) -> JSONResponse:
    checks: dict[str, object] = {}
    try:
        with container.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", reported, never a 500
        checks["database"] = f"unreachable: {type(error).__name__}"
    if container.redis_url:
        try:
            with redis.Redis.from_url(
                container.redis_url, socket_timeout=2, socket_connect_timeout=2
            ) as client:
                client.ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
    else:
        checks["redis"] = "not configured"
    backlog = measure(container.engine, container.redis_url) if checks["database"] == OK else None
    if backlog is not None:
        checks.update(lag_checks(backlog, container.settings))
    ready = all(value == OK for value in checks.values())
    body: dict[str, object] = {"ready": ready}
    if detailed:
        body["checks"] = checks
        if backlog is not None:
            body["backlog"] = backlog.as_json()
    return JSONResponse(body, status_code=200 if ready else 503)
