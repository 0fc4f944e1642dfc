"""``/users``: who am I, and (for admins) the users and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from dispatch.api.deps import AdminUser, ContainerDep, CurrentUser
from dispatch.api.problems import Problem
from dispatch.auth.passwords import MAX_LENGTH, MIN_LENGTH
from dispatch.auth.roles import Role, ordered
from dispatch.auth.users import (
    CODE_MAX,
    DISPLAY_NAME_MAX,
    USERNAME_MAX,
    DuplicateUsername,
    InvalidUser,
    User,
    add_user,
    count_users,
    get_user,
    list_users,
)
from dispatch.text import check_plain_text

router = APIRouter(prefix="/users", tags=["users"])


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    roles: list[Role]
    department: str | None
    street: str | None
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

    @field_validator("display_name", "department", "street")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        check_plain_text(value)
        return value


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
    _admin: AdminUser,
    container: ContainerDep,
    request: Request,
    response: Response,
) -> UserOut:
    try:
        with container.store.transaction() as conn:
            user = add_user(
                conn,
                username=body.username,
                password=body.password,
                roles=body.roles,
                display_name=body.display_name,
                department=body.department,
                street=body.street,
                now=container.clock(),
            )
    except InvalidUser as error:
        raise Problem(
            422,
            f"the request is invalid: {error.field}: {error.message}",
            title="Invalid request",
            errors=[{"field": error.field, "message": error.message}],
        ) from None
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
