"""The FastAPI application: a table of contents of routers."""

from __future__ import annotations

from fastapi import FastAPI

from dispatch.api.problems import install_problem_handlers
from dispatch.api.routes import health
from dispatch.bootstrap import Container

API = "/api/v1"


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Street Whistle",
        summary="12345 hotline case dispatch: 街乡吹哨、部门报到",
        version="0.1.0",
    )
    app.state.container = container
    install_problem_handlers(app)
    app.include_router(health.router)
    return app
