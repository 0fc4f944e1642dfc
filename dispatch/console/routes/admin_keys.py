"""API 密钥: the keys of Open311 clients (a city app, a WeChat mini-program): issuing one,
shown once and never again (only its digest is stored), and revoking a client's keys."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.auth.apikeys import NAME_MAX, issue_api_key, list_api_keys, revoke_client_keys
from dispatch.auth.users import User
from dispatch.console.i18n import N_
from dispatch.console.routes.admin import Admin
from dispatch.console.web import PostedForm, container_of, gettext, redirect, render, session_of
from dispatch.handlers.text import has_control_characters

router = APIRouter()


@router.get("/admin/keys")
def keys_page(request: Request, user: User = Admin) -> Response:
    return _page(request)


@router.post("/admin/keys")
def issue_form(request: Request, form: PostedForm, user: User = Admin) -> Response:
    """The new key is on this answer only: never in a flash (the session is a cookie) nor a
    redirect, so it cannot be shown again."""
    raw = form.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    if not name or len(name) > NAME_MAX or has_control_characters(name):
        refused = gettext(request, N_("Give the client a name of 1 to %(max)d characters."))
        return _page(request, refused=refused % {"max": NAME_MAX}, status=422)
    container = container_of(request)
    with container.store.transaction() as conn:
        key = issue_api_key(conn, name, actor=user.username, now=container.clock())
    return _page(request, issued=(name, key))


@router.post("/admin/keys/revoke")
def revoke_form(request: Request, form: PostedForm, user: User = Admin) -> Response:
    raw = form.get("name")
    name = raw.strip() if isinstance(raw, str) else ""
    container = container_of(request)
    with container.store.transaction() as conn:
        revoked = revoke_client_keys(conn, name, actor=user.username, now=container.clock())
    session = session_of(request)
    if revoked:
        done = gettext(request, N_("Revoked %(count)d key(s) of %(name)s."))
        session.flash("ok", done % {"count": revoked, "name": name})
    else:
        session.flash("error", gettext(request, N_("That client holds no live key.")))
    return redirect(request, "/admin/keys")


def _page(
    request: Request,
    *,
    issued: tuple[str, str] | None = None,
    refused: str | None = None,
    status: int = 200,
) -> Response:
    with container_of(request).store.reading() as conn:
        keys = list_api_keys(conn)
    live = sorted({key.name for key in keys if key.revoked_at is None})
    context = {"keys": keys, "live": live, "issued": issued, "refused": refused}
    return render(request, "admin_keys.html", context, status=status)
