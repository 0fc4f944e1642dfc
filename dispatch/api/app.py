"""The FastAPI application: a table of contents of routers."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from dispatch.api.deps import CaseListRead, refuse_control_characters_in_url
from dispatch.api.problems import install_problem_handlers
from dispatch.api.routes import (
    alerts,
    auth,
    case_commands,
    case_reads,
    catalogue,
    deliveries,
    event_feed,
    exports,
    health,
    metrics,
    stats,
    task_commands,
    timeline,
    users,
)
from dispatch.bootstrap import Container
from dispatch.console import install_console
from dispatch.open311 import OPEN311, create_open311_app

API = "/api/v1"


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Street Whistle",
        summary="12345 hotline case dispatch: 街乡吹哨、部门报到",
        version="0.1.0",
        dependencies=[Depends(refuse_control_characters_in_url)],
    )
    app.state.container = container
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router, prefix=API)
    app.include_router(users.router, prefix=API)
    app.include_router(catalogue.router, prefix=API)
    app.include_router(case_reads.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(case_commands.router, prefix=API)
    app.include_router(task_commands.router, prefix=API)
    app.include_router(event_feed.router, prefix=API)
    app.include_router(deliveries.router, prefix=API)
    app.include_router(stats.router, prefix=API)
    app.include_router(alerts.router, prefix=API)
    app.include_router(exports.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(timeline.router, prefix=API, dependencies=[CaseListRead])
    install_console(app)
    app.mount(OPEN311, create_open311_app(container))
    return app
