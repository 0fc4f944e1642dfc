"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import redis
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep
from dispatch.ops.backlog import measure

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(container: ContainerDep) -> JSONResponse:
    checks: dict[str, object] = {}
    try:
        with container.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # any failure means "not ready", reported, never a 500
        checks["database"] = f"unreachable: {type(error).__name__}"
    if container.redis_url:
        try:
            redis.Redis.from_url(container.redis_url, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except Exception as error:
            checks["redis"] = f"unreachable: {type(error).__name__}"
    else:
        checks["redis"] = "not configured"
    ready = all(value == "ok" for value in checks.values())
    # Queue depths, relay and projection lag, dead letters: detail, not part of readiness.
    backlog = measure(container.engine, container.redis_url).as_json()
    return JSONResponse(
        {"ready": ready, "checks": checks, "backlog": backlog}, status_code=200 if ready else 503
    )
