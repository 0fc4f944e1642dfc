"""Dependencies that read as English: ``ContainerDep``, ``StoreDep``, ``CurrentUser``, roles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from dispatch.api.problems import Problem
from dispatch.auth.recent_users import current_generation
from dispatch.auth.roles import Role, listed_roles, parse_role
from dispatch.auth.tokens import Claims, TokenError, decode_token
from dispatch.auth.users import User, get_user
from dispatch.bootstrap import Container
from dispatch.handlers.text import REFUSAL, has_control_characters
from events import EventStore

# The dependencies that do no I/O are ``async``: FastAPI runs a plain ``def`` dependency in
# the thread pool, and each such hop cost more CPU than the dependency itself.


async def get_container(request: Request) -> Container:
    return request.app.state.container


async def get_store(request: Request) -> EventStore:
    return request.app.state.container.store


ContainerDep = Annotated[Container, Depends(get_container)]
StoreDep = Annotated[EventStore, Depends(get_store)]


TOKEN_URL = "/api/v1/auth/token"
# auto_error=False: a missing token gets our problem+json 401, not FastAPI's plain one.
bearer_token = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _unauthorized(detail: str, *, invalid: bool) -> Problem:
    # RFC 6750 §3: name the scheme, and say "invalid_token" when one was sent but refused.
    challenge = 'Bearer error="invalid_token"' if invalid else "Bearer"
    return Problem(401, detail, headers={"WWW-Authenticate": challenge})


async def current_user(
    container: ContainerDep, token: Annotated[str | None, Depends(bearer_token)]
) -> User:
    """The signed-in user, checked against the users table.

    Tokens live for hours; checking the stored user means a disabled user or a changed role
    takes effect at once instead of when the token runs out (within
    ``dispatch.auth.recent_users.TTL`` seconds when the change was made by another process).
    The roles and scope are the stored ones, not the token's, and a token issued before the
    user's sessions were ended (``session_version``) is refused.
    """
    claims = _claims(container, token)
    user = container.recent_users.get(claims.subject)
    if user is None:
        user = await run_in_threadpool(_read_user, container, claims.subject)
    return _still_valid(claims, user)


def user_for_token(container: Container, token: str | None) -> User:
    """``current_user`` for code already on a worker thread (a plain ``def`` route)."""
    claims = _claims(container, token)
    user = container.recent_users.get(claims.subject) or _read_user(container, claims.subject)
    return _still_valid(claims, user)


def _claims(container: Container, token: str | None) -> Claims:
    if not token:
        raise _unauthorized(
            f"sign in first: POST {TOKEN_URL}, then send 'Authorization: Bearer <token>'",
            invalid=False,
        )
    try:
        return decode_token(token, container.settings, now=container.clock())
    except TokenError as error:
        raise _unauthorized(str(error), invalid=True) from None


def _read_user(container: Container, user_id: str) -> User | None:
    generation = current_generation()
    with container.store.reading() as conn:
        user = get_user(conn, user_id)
    if user is not None:
        container.recent_users.put(user, generation=generation)
    return user


def _still_valid(claims: Claims, user: User | None) -> User:
    if user is None or not user.active:
        raise _unauthorized(
            "this account no longer exists or has been disabled; ask an admin", invalid=True
        )
    if claims.session_version != user.session_version:
        raise _unauthorized(
            "this session was ended (the account's roles, scope or password changed); "
            f"sign in again at {TOKEN_URL}",
            invalid=True,
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role | str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through a user holding any one of ``roles``, else 403.

    Use as ``Annotated[User, Depends(require_roles(Role.DISPATCHER))]`` or in a route's
    ``dependencies=[...]``. Role names are checked here, so a typo fails at import time.
    """
    allowed = tuple(parse_role(role) for role in roles)
    if not allowed:
        raise ValueError("require_roles needs at least one role")
    needed = listed_roles(allowed)

    async def holds_role(user: CurrentUser) -> User:
        if not user.has_any(*allowed):
            raise Problem(
                403,
                f"this action needs one of the roles: {needed}; "
                f"you hold: {listed_roles(user.roles) or 'none'}",
            )
        return user

    return holds_role


AdminUser = Annotated[User, Depends(require_roles(Role.ADMIN))]


async def refuse_control_characters_in_url(request: Request) -> None:
    """An id or a query with a NUL in it is a 422, not a query PostgreSQL refuses with a 500.

    Installed on the whole app: path and query parameters reach the database as they come.
    """
    parameters = (*request.path_params.items(), *request.query_params.multi_items())
    for name, value in parameters:
        if has_control_characters(name) or has_control_characters(str(value)):
            raise Problem(
                422,
                f"the request is invalid: {name}: {REFUSAL}",
                title="Invalid request",
                errors=[{"field": name, "message": REFUSAL}],
            )


def fresh_case_list(container: ContainerDep, _user: CurrentUser) -> None:
    """For routers that read the case list or inbox: catch it up first (read-your-writes).
    After authentication, so an anonymous request costs the database nothing."""
    container.fresh("case_list")


CaseListRead = Depends(fresh_case_list)
