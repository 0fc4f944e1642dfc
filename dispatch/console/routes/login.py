"""Signing in and out, and the console's front door."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.api.text import has_control_characters
from dispatch.auth.users import authenticate
from dispatch.console.i18n import N_
from dispatch.console.web import (
    PAGES,
    PREFIX,
    ConsoleUser,
    PostedForm,
    container_of,
    redirect,
    render,
    session_of,
)

router = APIRouter()


def home_path(user: ConsoleUser) -> str:
    """The first page of the navigation bar this user may open."""
    for path, _label, roles in PAGES:
        if user.has_any(*roles):
            return path
    return "/cases"


def safe_next(value: object) -> str:
    """Only a path inside the console: never another site (``//evil``) or a scheme."""
    if isinstance(value, str) and value.startswith(PREFIX + "/") and not value.startswith("//"):
        if "\\" not in value and "\n" not in value and "\r" not in value:
            return value
    return PREFIX + "/"


@router.get("/")
def home(request: Request, user: ConsoleUser) -> Response:
    return redirect(request, home_path(user))


@router.get("/login")
def login_page(request: Request, next: str = "") -> Response:
    return render(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login")
def login(request: Request, form: PostedForm) -> Response:
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(form.get("next"))
    user = None
    if username and not has_control_characters(username):
        # A write transaction: a hash made with older argon2 parameters is upgraded.
        with container_of(request).store.transaction() as conn:
            user = authenticate(conn, username, password)
    if user is None:
        context = {
            "next": target,
            "error": N_("The username or password is wrong, or the account is disabled."),
            "username": username,
        }
        return render(request, "login.html", context, status=401)
    session_of(request).sign_in(user.id)
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, _form: PostedForm) -> Response:
    session_of(request).sign_out()
    return redirect(request, "/login")
