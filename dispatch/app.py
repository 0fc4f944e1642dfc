"""The one web application: the API, the console and Open311 side by side."""

from __future__ import annotations

from fastapi import FastAPI

from dispatch.api.app import create_api
from dispatch.bootstrap import Container
from dispatch.console import install_console
from dispatch.open311 import OPEN311, create_open311_app


def create_app(container: Container) -> FastAPI:
    app = create_api(container)
    install_console(app)
    app.mount(OPEN311, create_open311_app(container))
    return app
