"""Signing in and out, and the console's front door."""

from __future__ import annotations

import math
from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from dispatch.auth.gate import SignInGateDep
from dispatch.auth.roles import Role
from dispatch.auth.signin import authenticate, through_gate
from dispatch.auth.throttle import Busy, Throttled
from dispatch.auth.users import User
from dispatch.console.i18n import N_
from dispatch.console.web import (
    PREFIX,
    ConsoleUser,
    PostedForm,
    container_of,
    gettext,
    redirect,
    render,
    session_of,
)
from dispatch.handlers.text import has_control_characters
from dispatch.queries.worklist_keys import visible_worklists

router = APIRouter()


# Where each role starts its day, the most specific desk first.
HOMES = (
    ("dispatcher", "/desk"),
    ("liaison", "/inbox"),
    ("street", "/street"),
    ("grid", "/patrol"),
    ("supervisor", "/dashboard"),
    ("operator", "/intake"),
)


def home_path(user: User) -> str:
    """The admin menu for a user who only administers; the worklists (工作台) for every role
    that has some; else the desk of the user's most specific role; case search for anyone else."""
    if user.roles == {Role.ADMIN}:
        return "/admin"
    if visible_worklists(user):
        return "/worklists"
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
async def login(request: Request, form: PostedForm, gate: SignInGateDep) -> Response:
    """Throttled as the API's sign-in is, with the same counters (``dispatch.auth.throttle``)."""
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(form.get("next"))
    user = None
    container = container_of(request)
    context = {"next": target, "username": username}
    if username and not has_control_characters(username):
        check = partial(
            authenticate, container.engine, username, password, hasher=container.password_hasher
        )
        address = request.client.host if request.client else None
        try:
            user = await through_gate(
                gate, check, username=username, address=address, now=container.clock()
            )
        except Throttled as error:
            minutes = math.ceil(error.retry_after / 60)
            text = gettext(request, N_("Too many failed sign-ins. Try again in %(minutes)d min."))
            context["error"] = text % {"minutes": minutes}
            page = render(request, "login.html", context, status=429)
            page.headers["Retry-After"] = str(error.retry_after)
            return page
        except Busy as error:
            context["error"] = N_("Too many sign-ins at once. Try again in a moment.")
            page = render(request, "login.html", context, status=503)
            page.headers["Retry-After"] = str(error.retry_after)
            return page
    if user is None:
        context["error"] = N_("The username or password is wrong, or the account is disabled.")
        return render(request, "login.html", context, status=401)
    session_of(request).sign_in(user.id, user.session_version)
    return redirect(request, target)


@router.post("/logout")
def logout(request: Request, _form: PostedForm) -> Response:
    session_of(request).sign_out()
    return redirect(request, "/login")
