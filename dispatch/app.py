"""The one web application: the API, the console and Open311 side by side."""

from __future__ import annotations

from fastapi import FastAPI

from dispatch.api.admission import Admission
from dispatch.api.app import API, create_api
from dispatch.api.body_limit import BodyLimit
from dispatch.api.correlation import Correlation
from dispatch.api.request_metrics import RequestMetrics
from dispatch.api.routes.attachments import UPLOAD_PATH, upload_body_limit
from dispatch.api.routes.catalogue import MAX_BODY as CATALOGUE_MAX_BODY
from dispatch.api.security_headers import SecurityHeaders
from dispatch.bootstrap import Container
from dispatch.console import CONSOLE_PHOTOS, CONSOLE_UPLOAD_PATH, install_console
from dispatch.console.web import PREFIX as CONSOLE
from dispatch.open311 import MEDIA_UPLOAD_PATH, OPEN311, create_open311_app
from dispatch.ops.api_pages import mount_offline_assets


def create_app(container: Container) -> FastAPI:
    app = create_api(container)
    install_console(app)
    app.mount(OPEN311, create_open311_app(container))
    mount_offline_assets(app)
    # Outermost last: headers go on every answer, the 413 included.
    app.add_middleware(
        BodyLimit,
        # The console's catalogue upload: the same file in a multipart form.
        larger={
            f"{API}/catalogue": CATALOGUE_MAX_BODY,
            f"{CONSOLE}/admin/catalogue": CATALOGUE_MAX_BODY + 64 * 1024,
        },
        larger_matching={
            UPLOAD_PATH: upload_body_limit(container.settings),
            MEDIA_UPLOAD_PATH: upload_body_limit(container.settings),
            CONSOLE_UPLOAD_PATH: upload_body_limit(container.settings) * CONSOLE_PHOTOS,
        },
    )
    # Outside the app and its body limit: a shed command costs no more than its 503.
    settings = container.settings
    app.add_middleware(
        Admission,
        concurrency=settings.admission_concurrency,
        queue_budget=settings.admission_queue_ms / 1000,
        threads=settings.http_threads,
        exempt=frozenset({f"{API}/auth/token", f"{CONSOLE}/login"}),
    )
    app.add_middleware(SecurityHeaders)
    # Outside everything else, so that every answer is counted, timed and correlated.
    app.add_middleware(RequestMetrics)
    app.add_middleware(Correlation)
    return app
