"""Signing in and out, and the console's front door."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.auth.users import User, authenticate
from dispatch.console.i18n import N_
from dispatch.console.web import (
    PREFIX,
    ConsoleUser,
    PostedForm,
    container_of,
    redirect,
    render,
    session_of,
)
from dispatch.text import has_control_characters

router = APIRouter()


# Where each role starts its day, the most specific desk first.
HOMES = (
    ("dispatcher", "/desk"),
    ("liaison", "/inbox"),
    ("street", "/street"),
    ("supervisor", "/dashboard"),
    ("operator", "/intake"),
)


def home_path(user: User) -> str:
    """The desk of the user's most specific role; case search for anyone else."""
    for role, path in HOMES:
        if user.has(role):
            return path
    return "/cases"


def safe_next(value: object) -> str:
    """Only a path inside the console: never another site (``//evil``) or a scheme."""
    if (
        isinstance(value, str)
        and value.startswith(PREFIX + "/")
        and not any(bad in value for bad in ("\\", "\n", "\r", "//"))
    ):
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
    container = container_of(request)
    if username and not has_control_characters(username):
        # A write transaction: a hash made with older argon2 parameters is upgraded.
        with container.store.transaction() as conn:
            user = authenticate(conn, username, password, hasher=container.password_hasher)
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
