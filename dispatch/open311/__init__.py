"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2``.

A sub-application of its own, mounted by ``dispatch.api.app``, so that its errors are the
spec's ``[{code, description}]`` (``<errors><error>…`` in XML) and never the API's
problem+json or FastAPI's 422: every failure under /open311 is answered in the format the
resource asked for, with 400, 403, 404, 405 or 503.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from sqlalchemy.exc import InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.bootstrap import Container
from dispatch.handlers.text import has_control_characters
from dispatch.open311.errors import Open311Error
from dispatch.open311.formats import Document, format_of_path, render
from dispatch.open311.routes import MEDIA_UPLOAD_PATH, router
from dispatch.ops.api_pages import install_offline_pages
from events import StoreUnavailable

OPEN311 = "/open311/v2"

__all__ = ["MEDIA_UPLOAD_PATH", "OPEN311", "Open311Error", "create_open311_app"]


def create_open311_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Street Whistle — Open311 GeoReport v2",
        summary="Citizen apps file and follow 12345 complaints through the Open311 standard",
        version="v2",
        dependencies=[Depends(refuse_control_characters)],
        docs_url=None,  # offline pages below: no CDN
        redoc_url=None,
    )
    install_offline_pages(app)
    app.state.container = container
    app.include_router(router)
    install_error_handlers(app)
    return app


def refuse_control_characters(request: Request) -> None:
    """Path and query values reach the database as they come; PostgreSQL refuses a NUL."""
    parameters = (*request.path_params.items(), *request.query_params.multi_items())
    for name, value in parameters:
        if has_control_characters(name) or has_control_characters(str(value)):
            raise Open311Error(400, f"{name} may not contain control characters")


def error_response(request: Request, error: Open311Error) -> Response:
    fmt = format_of_path(request.url.path)
    headers = {"Retry-After": "1"} if error.status == 503 else None
    response = render(fmt, Document.ERRORS, error.as_errors(), status=error.status)
    if headers:
        response.headers.update(headers)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Open311Error)
    async def _open311(request: Request, error: Open311Error) -> Response:
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        fields = ", ".join(str(item.get("loc", ("?",))[-1]) for item in error.errors())
        return error_response(request, Open311Error(400, f"invalid request: {fields}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        status = error.status_code
        if status == 404:
            description = "no such resource: see discovery.json for the endpoints"
        elif status == 405:
            description = f"{request.method} is not allowed here"
        else:
            description = HTTPStatus(status).phrase
        return error_response(request, Open311Error(status, description))

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _unavailable(request: Request, _error: Exception) -> Response:
        description = "the case store is unavailable; try again shortly"
        return error_response(request, Open311Error(503, description))
