"""``/docs`` (Swagger UI) and ``/redoc`` from packaged assets: the API's pages work offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so on a centre's closed network
(no internet, which is usual for a 12345 hall) they are blank. The ``fastapi-offline`` wheel
ships the same bundles; they are served from ``/docs/assets`` and no page names another host.
The API and Open311 each get the two pages; Open311's, mounted under ``/open311/v2``, reach
the one asset mount of the outer application by absolute path.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

ASSETS = "/docs/assets"
ASSET_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_JS = f"{ASSETS}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS}/swagger-ui.css"
REDOC_JS = f"{ASSETS}/redoc.standalone.js"
FAVICON = f"{ASSETS}/favicon.png"


def install_offline_pages(app: FastAPI) -> None:
    """Swagger UI and ReDoc on an application made with ``docs_url=None, redoc_url=None``.

    FastAPI's CDN pages are turned off at construction, not replaced afterwards, so no route
    ever answers with a CDN address.
    """
    assert app.docs_url is None and app.redoc_url is None, "turn off FastAPI's CDN pages"
    title = app.title
    oauth2_redirect = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    def openapi_url(request: Request) -> str:
        # A mounted application (Open311) has its prefix in root_path.
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{title} — API",
            swagger_js_url=SWAGGER_JS,
            swagger_css_url=SWAGGER_CSS,
            swagger_favicon_url=FAVICON,
            oauth2_redirect_url=f"{request.scope.get('root_path', '')}{oauth2_redirect}",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{title} — ReDoc",
            redoc_js_url=REDOC_JS,
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )


def mount_offline_assets(app: FastAPI) -> None:
    """The bundles themselves, once, on the outermost application."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_DIRECTORY), name="docs-assets")
