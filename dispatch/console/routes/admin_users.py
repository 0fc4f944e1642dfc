"""用户管理: the users, adding one, its roles with their scope (a liaison's department, a
street officer's street, a grid worker's grid), disabling and enabling, and resetting a
password. The same functions as ``/api/v1/users`` (``dispatch.auth.staff``), so every change
that takes authority away ends the user's sessions at once, and each one has its row in the
admin log."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from dispatch.auth.roles import ALL_ROLES, Role
from dispatch.auth.staff import add_staff, change_staff, new_password_hash, reset_staff_password
from dispatch.auth.users import (
    DuplicateUsername,
    InvalidUser,
    UnknownUser,
    User,
    count_users,
    get_user,
    list_users,
)
from dispatch.console.i18n import N_
from dispatch.console.routes.admin import Admin
from dispatch.console.web import (
    ConsoleError,
    PostedForm,
    catalogue_of,
    container_of,
    gettext,
    redirect,
    render,
    session_of,
)
from dispatch.handlers.text import has_control_characters

router = APIRouter()

PAGE_SIZE = 50
# Which role binds which scope: the form's scope fields count only for the role that needs them.
SCOPES = (("department", Role.LIAISON), ("street", Role.STREET), ("grid", Role.GRID))


@router.get("/admin/users")
def users_page(request: Request, page: int = 1, user: User = Admin) -> Response:
    with container_of(request).store.reading() as conn:
        total = count_users(conn)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        page = min(max(page, 1), pages)
        shown = list_users(conn, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    context = {"staff": shown, "total": total, "page": page, "page_count": pages}
    context |= _choices(request)
    return render(request, "admin_users.html", context)


@router.post("/admin/users")
async def add_user_form(request: Request, form: PostedForm, user: User = Admin) -> Response:
    fields = _text(form, "username", "display_name", "password")
    roles = _roles(form)
    with _refusals(request):
        await run_in_threadpool(_add, request, user, fields, roles, _scope(form, roles))
        session_of(request).flash(
            "ok", gettext(request, N_("User %(name)s added.")) % {"name": fields["username"]}
        )
    return redirect(request, "/admin/users")


@router.get("/admin/users/{user_id}")
def user_page(request: Request, user_id: str, user: User = Admin) -> Response:
    with container_of(request).store.reading() as conn:
        shown = get_user(conn, user_id)
    if shown is None:
        raise ConsoleError(404, N_("There is no such user."))
    return render(request, "admin_user.html", {"shown": shown, **_choices(request)})


@router.post("/admin/users/{user_id}")
def change_user_form(
    request: Request, user_id: str, form: PostedForm, user: User = Admin
) -> Response:
    """Roles with their scope, and the display name."""
    roles = _roles(form)
    if user_id == user.id and Role.ADMIN not in roles:
        return _refuse(request, user_id, N_("You cannot give up your own admin role."))
    name = _text(form, "display_name")["display_name"]
    changes: dict[str, Any] = {"roles": roles, "display_name": name}
    changes |= _scope(form, roles)
    return _change(request, user, user_id, N_("Roles and scope saved."), **changes)


@router.post("/admin/users/{user_id}/active")
def set_active_form(
    request: Request, user_id: str, form: PostedForm, user: User = Admin
) -> Response:
    """Disable (the user is signed out everywhere at once and can no longer sign in) or enable."""
    active = form.get("active") == "yes"
    if user_id == user.id and not active:
        return _refuse(request, user_id, N_("You cannot disable yourself."))
    done = N_("User enabled.") if active else N_("User disabled: signed out everywhere.")
    return _change(request, user, user_id, done, active=active)


@router.post("/admin/users/{user_id}/password")
async def reset_password_form(
    request: Request, user_id: str, form: PostedForm, user: User = Admin
) -> Response:
    password = str(form.get("password") or "")
    with _refusals(request):
        await run_in_threadpool(_reset, request, user, user_id, password)
        session_of(request).flash(
            "ok", gettext(request, N_("Password reset: the user is signed out everywhere."))
        )
    return redirect(request, f"/admin/users/{user_id}")


# -- the work, in short transactions (argon2 outside them) -------------------------------------


def _add(
    request: Request,
    admin: User,
    fields: dict[str, str],
    roles: list[Role],
    scope: dict[str, str | None],
) -> None:
    container = container_of(request)
    with container.store.transaction() as conn:
        add_staff(
            conn,
            actor=admin.username,
            now=container.clock(),
            username=fields["username"],
            password=fields["password"],
            display_name=fields["display_name"] or None,
            roles=roles,
            hasher=container.password_hasher,
            **scope,
        )


def _reset(request: Request, admin: User, user_id: str, password: str) -> None:
    container = container_of(request)
    password_hash = new_password_hash(password, hasher=container.password_hasher)
    with container.store.transaction() as conn:
        if not reset_staff_password(
            conn, user_id, password_hash, actor=admin.username, now=container.clock()
        ):
            raise UnknownUser(user_id)


def _change(request: Request, admin: User, user_id: str, done: str, **changes: Any) -> Response:
    container = container_of(request)
    with _refusals(request):
        with container.store.transaction() as conn:
            change_staff(conn, user_id, actor=admin.username, now=container.clock(), **changes)
        session_of(request).flash("ok", gettext(request, done))
    return redirect(request, f"/admin/users/{user_id}")


@contextmanager
def _refusals(request: Request) -> Iterator[None]:
    """A refused change is a flash naming the field; nothing was stored."""
    session = session_of(request)
    try:
        yield
    except InvalidUser as error:
        session.flash("error", f"{_field_name(request, error.field)}: {error}")
    except DuplicateUsername:
        session.flash("error", gettext(request, N_("That username is taken.")))
    except UnknownUser:
        raise ConsoleError(404, N_("There is no such user.")) from None


def _refuse(request: Request, user_id: str, message: str) -> Response:
    session_of(request).flash("error", gettext(request, message))
    return redirect(request, f"/admin/users/{user_id}")


FIELD_NAMES = {
    "username": N_("Username"),
    "display_name": N_("Name"),
    "password": N_("Password"),
    "roles": N_("Roles"),
    "department": N_("Department"),
    "street": N_("Street"),
    "grid": N_("Grid"),
}


def _field_name(request: Request, field: str) -> str:
    return gettext(request, FIELD_NAMES[field]) if field in FIELD_NAMES else field


# -- reading the form ----------------------------------------------------------------------------


def _text(form: FormData, *names: str) -> dict[str, str]:
    values = {}
    for name in names:
        raw = form.get(name)
        text = raw if isinstance(raw, str) else ""
        values[name] = text if name == "password" else text.strip()
        if has_control_characters(values[name]):
            raise ConsoleError(400, N_("The form holds characters that cannot be stored."))
    return values


def _roles(form: FormData) -> list[Role]:
    """The ticked roles; an unknown value is a form that did not come from this page."""
    try:
        return [Role(str(value)) for value in form.getlist("roles")]
    except ValueError:
        raise ConsoleError(400, N_("The form holds characters that cannot be stored.")) from None


def _scope(form: FormData, roles: list[Role]) -> dict[str, str | None]:
    """Each scope only for the role bound to it: ticking off the liaison role clears the
    department rather than refusing the form."""
    scope: dict[str, str | None] = {}
    for field, role in SCOPES:
        raw = form.get(field)
        scope[field] = raw.strip() or None if isinstance(raw, str) and role in roles else None
    return scope


def _choices(request: Request) -> dict[str, Any]:
    catalogue = catalogue_of(request)
    return {
        "all_roles": ALL_ROLES,
        "departments": catalogue.departments if catalogue else [],
        "streets": catalogue.streets if catalogue else [],
        "grids": catalogue.grids if catalogue else [],
    }
