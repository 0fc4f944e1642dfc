"""``/users``: who am I and my password; for admins, the users, their roles and status.

Every change that takes authority away (roles, scope, disabling, a new password) ends the
user's existing tokens and console sessions at once (``dispatch.auth.staff``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.api.deps import AdminUser, ContainerDep, CurrentUser
from dispatch.api.problems import Problem
from dispatch.api.routes.auth import AccessToken, gate_refusals
from dispatch.auth.gate import SignInGateDep
from dispatch.auth.passwords import MAX_LENGTH, MIN_LENGTH
from dispatch.auth.roles import Role, ordered
from dispatch.auth.signin import password_matches, through_gate
from dispatch.auth.staff import (
    add_staff,
    change_staff,
    new_password_hash,
    reset_staff_password,
    set_password_hash,
)
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import (
    CODE_MAX,
    DISPLAY_NAME_MAX,
    USERNAME_MAX,
    DuplicateUsername,
    InvalidUser,
    UnknownUser,
    User,
    count_users,
    get_user,
    list_users,
)
from dispatch.bootstrap import Container
from dispatch.handlers.text import check_plain_text

router = APIRouter(prefix="/users", tags=["users"])


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[Role]
    department: str | None
    street: str | None
    grid: str | None = None
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=ordered(user.roles),
            department=user.department,
            street=user.street,
            grid=user.grid,
            active=user.active,
            created_at=user.created_at,
        )


class UserPage(BaseModel):
    items: list[UserOut]
    total: int


class NewUser(BaseModel):
    # A misspelt field ("role" for "roles") is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=USERNAME_MAX)
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)
    display_name: str | None = Field(None, max_length=DISPLAY_NAME_MAX)
    roles: list[Role] = Field(min_length=1, max_length=len(Role))
    department: str | None = Field(None, max_length=CODE_MAX, description="required for liaison")
    street: str | None = Field(None, max_length=CODE_MAX, description="required for street")
    grid: str | None = Field(None, max_length=CODE_MAX, description="required for grid")

    @field_validator("display_name", "department", "street", "grid")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        check_plain_text(value)
        return value


class UserChange(BaseModel):
    """What an admin may change; a field left out stays as it is, ``null`` clears a binding."""

    model_config = ConfigDict(extra="forbid")

    roles: list[Role] | None = Field(None, min_length=1, max_length=len(Role))
    department: str | None = Field(None, max_length=CODE_MAX, description="required for liaison")
    street: str | None = Field(None, max_length=CODE_MAX, description="required for street")
    grid: str | None = Field(None, max_length=CODE_MAX, description="required for grid")
    active: bool | None = Field(None, description="false: the user can no longer sign in")
    display_name: str | None = Field(None, max_length=DISPLAY_NAME_MAX)

    @field_validator("display_name", "department", "street", "grid")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        check_plain_text(value)
        return value


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=MAX_LENGTH)
    new_password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


@contextmanager
def user_problems() -> Iterator[None]:
    """``InvalidUser`` → 422 naming the field; ``UnknownUser`` → 404."""
    try:
        yield
    except InvalidUser as error:
        raise Problem(
            422,
            f"the request is invalid: {error.field}: {error.message}",
            title="Invalid request",
            errors=[{"field": error.field, "message": error.message}],
        ) from None
    except UnknownUser as error:
        raise Problem(
            404, f"there is no user {error.user!r}; GET /api/v1/users lists them"
        ) from None


@router.get("/me", response_model=UserOut)
def me(user: CurrentUser) -> UserOut:
    return UserOut.of(user)


@router.get("", response_model=UserPage)
def users(
    _admin: AdminUser,
    container: ContainerDep,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> UserPage:
    with container.store.reading() as conn:
        total = count_users(conn)
        found = list_users(conn, offset=(page - 1) * page_size, limit=page_size)
    return UserPage(items=[UserOut.of(user) for user in found], total=total)


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(
    body: NewUser,
    admin: AdminUser,
    container: ContainerDep,
    request: Request,
    response: Response,
) -> UserOut:
    try:
        with user_problems(), container.store.transaction() as conn:
            user = add_staff(
                conn,
                actor=admin.username,
                username=body.username,
                password=body.password,
                roles=body.roles,
                display_name=body.display_name,
                department=body.department,
                street=body.street,
                grid=body.grid,
                now=container.clock(),
            )
    except DuplicateUsername as error:
        raise Problem(409, str(error)) from None
    response.headers["Location"] = str(request.url_for("user_by_id", user_id=user.id))
    return UserOut.of(user)


@router.get("/{user_id}", response_model=UserOut)
def user_by_id(user_id: str, _admin: AdminUser, container: ContainerDep) -> UserOut:
    with container.store.reading() as conn:
        user = get_user(conn, user_id)
    if user is None:
        raise Problem(404, f"there is no user {user_id!r}; GET /api/v1/users lists them")
    return UserOut.of(user)


@router.patch("/{user_id}", response_model=UserOut)
def change_user(
    user_id: str, body: UserChange, admin: AdminUser, container: ContainerDep
) -> UserOut:
    """Roles, department or street scope, ``active`` and the display name; a change of the
    first three ends the user's sessions at once."""
    given = body.model_fields_set
    if user_id == admin.id and (
        body.active is False or (body.roles is not None and Role.ADMIN not in body.roles)
    ):
        raise Problem(
            409,
            "you cannot disable yourself or give up your own admin role; "
            "ask another admin to do it",
        )
    changes: dict[str, Any] = {
        "roles": body.roles,
        "active": body.active,
        "display_name": body.display_name,
    }
    changes |= {
        field: getattr(body, field) for field in ("department", "street", "grid") if field in given
    }
    with user_problems(), container.store.transaction() as conn:
        user = change_staff(conn, user_id, actor=admin.username, now=container.clock(), **changes)
    return UserOut.of(user)


@router.post("/me/password", response_model=AccessToken)
async def change_own_password(
    body: PasswordChange,
    user: CurrentUser,
    container: ContainerDep,
    gate: SignInGateDep,
    request: Request,
    response: Response,
) -> AccessToken:
    """Change your own password with the current one (throttled as a sign-in is). Every
    other session of yours ends; the answer is a fresh token for this one."""
    check = partial(password_matches, container.engine, user.id, body.current_password)
    with gate_refusals():
        matched = await through_gate(
            gate,
            lambda: check() or None,
            username=user.username,
            address=request.client.host if request.client else None,
            now=container.clock(),
        )
    if not matched:
        raise Problem(403, "the current password is wrong; nothing was changed")
    with user_problems():
        await run_in_threadpool(_store_password, container, user.id, body.new_password)
    with container.store.reading() as conn:
        changed = get_user(conn, user.id)
    assert changed is not None
    token, expires_in = issue_token(changed, container.settings, container.clock())
    response.headers["Cache-Control"] = "no-store"
    return AccessToken(access_token=token, expires_in=expires_in)


@router.post("/{user_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def set_password(
    user_id: str, body: NewPassword, admin: AdminUser, container: ContainerDep
) -> Response:
    """Set or reset a user's password; their existing sessions end at once."""
    with user_problems():
        _reset_password(container, user_id, body.password, actor=admin.username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _store_password(container: Container, user_id: str, password: str) -> None:
    """Hash first, then write in a short transaction: never argon2 inside one."""
    password_hash = new_password_hash(password)
    with container.store.transaction() as conn:
        if not set_password_hash(conn, user_id, password_hash):
            raise UnknownUser(user_id)


def _reset_password(container: Container, user_id: str, password: str, *, actor: str) -> None:
    """As ``_store_password``, with the reset's row in the admin log."""
    password_hash = new_password_hash(password)
    with container.store.transaction() as conn:
        if not reset_staff_password(
            conn, user_id, password_hash, actor=actor, now=container.clock()
        ):
            raise UnknownUser(user_id)
