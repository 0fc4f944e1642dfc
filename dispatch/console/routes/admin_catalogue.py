"""目录管理: the catalogue's versions (who loaded each, when, with what warnings) and loading a
new one from a YAML or JSON file. A refused file changes nothing and comes back with every
problem on its own row: the line, the field, what is wrong, and the line of the file itself."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from dispatch.auth.admin_log import catalogue_logged
from dispatch.auth.users import User
from dispatch.catalogue import CatalogueError
from dispatch.catalogue.parser import CatalogueProblem
from dispatch.catalogue.versions import list_versions, load_catalogue
from dispatch.console.i18n import N_
from dispatch.console.routes.admin import Admin
from dispatch.console.web import PostedForm, container_of, gettext, redirect, render, session_of

router = APIRouter()

MAX_FILE = 5 * 1024 * 1024  # as PUT /api/v1/catalogue


@router.get("/admin/catalogue")
def catalogue_page(request: Request, user: User = Admin) -> Response:
    return _page(request)


@router.post("/admin/catalogue")
async def load_form(request: Request, form: PostedForm, user: User = Admin) -> Response:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, refused=N_("Choose a YAML or JSON file to load."), status=422)
    raw = await upload.read(MAX_FILE + 1)
    if len(raw) > MAX_FILE:
        return _page(request, refused=N_("The file is larger than 5 MB."), status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _page(request, refused=N_("The file is not UTF-8 text."), status=422)
    container = container_of(request)
    try:
        number, catalogue, warnings = await run_in_threadpool(
            load_catalogue,
            container.engine,
            text,
            loaded_by=user.username,
            now=container.clock(),
            recorded=catalogue_logged(user.username, container.clock()),
        )
    except CatalogueError as error:
        return _page(
            request,
            refused=N_("The catalogue was not loaded; the active version is unchanged."),
            problems=_with_source(error.problems, text),
            filename=upload.filename,
            status=422,
        )
    done = gettext(request, N_("Catalogue %(version)s loaded as version %(number)d."))
    session_of(request).flash("ok", done % {"version": catalogue.version, "number": number})
    for warning in warnings:
        session_of(request).flash("error", warning)
    return redirect(request, "/admin/catalogue")


def _with_source(problems: list[CatalogueProblem], text: str) -> list[dict[str, Any]]:
    """Each problem with the line it points at, as the file has it, in the file's order."""
    lines = text.splitlines()

    def source(line: int | None) -> str:
        return lines[line - 1] if line and line <= len(lines) else ""

    shown = [
        {
            "line": problem.line,
            "field": problem.field,
            "message": problem.message,
            "source": source(problem.line),
        }
        for problem in problems
    ]
    return sorted(shown, key=lambda item: (item["line"] is None, item["line"] or 0))


def _page(
    request: Request,
    *,
    refused: str | None = None,
    problems: list[dict[str, Any]] | None = None,
    filename: str = "",
    status: int = 200,
) -> Response:
    context = {
        "versions": list_versions(container_of(request).engine),
        "refused": refused,
        "problems": problems or [],
        "filename": filename,
    }
    return render(request, "admin_catalogue.html", context, status=status)
