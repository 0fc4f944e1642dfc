"""The web console (Jinja2, server-rendered, Chinese first) on the same app as the API.

``install_console(app)`` mounts the pages under ``/console``, its static files under
``/console/static``, and sends ``/`` there.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import RedirectResponse, Response

from dispatch.console.i18n import N_
from dispatch.console.routes import (
    admin,
    admin_catalogue,
    admin_keys,
    admin_users,
    attachments,
    audit,
    callbacks,
    case_actions,
    cases,
    dashboard,
    desk,
    intake,
    login,
    patrol,
    street,
    tasks,
    worklists,
)
from dispatch.console.web import (
    PREFIX,
    ConsoleError,
    LoginRequired,
    fresh_case_list,
    login_redirect,
    render,
)

STATIC = Path(__file__).parent / "static"
# The intake forms and the reply form carry photos: the body limit allows a few uploads' worth.
CONSOLE_UPLOAD_PATH = r"/console/(intake|street/report|tasks/[^/]+/reply|patrol/finding)"
CONSOLE_PHOTOS = 4


def install_console(app: FastAPI) -> None:
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    # Specific paths before the catch-all case actions (/cases/{id}/{action}).
    for module in (login, dashboard, admin, admin_users, admin_catalogue, admin_keys):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    routed = (intake, callbacks, cases, tasks, desk, street, patrol, worklists, audit, attachments)
    for module in (*routed, case_actions):
        app.include_router(
            module.router,
            prefix=PREFIX,
            include_in_schema=False,
            dependencies=[Depends(fresh_case_list)],
        )
    app.include_router(_front_door, include_in_schema=False)
    app.include_router(_not_found, prefix=PREFIX, include_in_schema=False)
    app.add_exception_handler(ConsoleError, _error_page)  # type: ignore[arg-type]
    app.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]


_front_door = APIRouter()


@_front_door.get("/")
def front_door() -> Response:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


_not_found = APIRouter()


@_not_found.get("/{anything:path}")
def unknown_page(anything: str) -> Response:
    """Any other console path: the console's own 404 page, not the API's JSON."""
    raise ConsoleError(404, N_("There is no such page."))


async def _error_page(request: Request, error: ConsoleError) -> Response:
    context = {"status": error.status, "message": error.message, "detail": error.detail}
    return render(request, "error.html", context, status=error.status)


async def _to_login(request: Request, error: LoginRequired) -> Response:
    return login_redirect(request, error.next_path)
