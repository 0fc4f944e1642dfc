"""The HTTP API (``/api/v1``): a table of contents of routers."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from dispatch.api.deps import CaseListRead, refuse_control_characters_in_url
from dispatch.api.problems import install_problem_handlers
from dispatch.api.routes import (
    alerts,
    attachments,
    auth,
    case_commands,
    case_reads,
    catalogue,
    deliveries,
    event_feed,
    exports,
    grid_stats,
    health,
    metrics,
    patrols,
    phone_views,
    similar,
    stats,
    stream,
    task_commands,
    timeline,
    users,
    worklists,
)
from dispatch.bootstrap import Container
from dispatch.ops.api_pages import install_offline_pages

API = "/api/v1"


def create_api(container: Container) -> FastAPI:
    """The API's routes on a new application; ``dispatch.app`` adds the console and Open311."""
    app = FastAPI(
        title="Street Whistle",
        summary="12345 hotline case dispatch: 街乡吹哨、部门报到",
        version="0.1.0",
        dependencies=[Depends(refuse_control_characters_in_url)],
        docs_url=None,  # offline pages below: no CDN
        redoc_url=None,
    )
    install_offline_pages(app)
    app.state.container = container
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(auth.router, prefix=API)
    app.include_router(users.router, prefix=API)
    app.include_router(catalogue.router, prefix=API)
    app.include_router(similar.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(case_reads.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(phone_views.router, prefix=API)
    app.include_router(case_commands.router, prefix=API)
    app.include_router(attachments.router, prefix=API)
    app.include_router(task_commands.router, prefix=API)
    app.include_router(event_feed.router, prefix=API)
    app.include_router(deliveries.router, prefix=API)
    app.include_router(stats.router, prefix=API)
    app.include_router(grid_stats.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(alerts.router, prefix=API)
    app.include_router(exports.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(timeline.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(worklists.router, prefix=API, dependencies=[CaseListRead])
    app.include_router(stream.router, prefix=API)
    app.include_router(patrols.router, prefix=API)
    return app
