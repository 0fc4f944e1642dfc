"""``POST /auth/token``: the OAuth2 password flow, throttled (DESIGN.md §8.9)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from dispatch.api.deps import ContainerDep
from dispatch.api.problems import Problem
from dispatch.auth.gate import SignInGateDep
from dispatch.auth.signin import authenticate, through_gate
from dispatch.auth.throttle import Busy, Throttled
from dispatch.auth.tokens import issue_token
from dispatch.handlers.text import REFUSAL, has_control_characters

router = APIRouter(prefix="/auth", tags=["auth"])


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds


@contextmanager
def gate_refusals() -> Iterator[None]:
    """The sign-in gate's refusals as problem+json, each with ``Retry-After``: 429 after
    too many failures, 503 while every password-check slot is taken."""
    try:
        yield
    except Throttled as error:
        raise Problem(429, str(error), headers={"Retry-After": str(error.retry_after)}) from None
    except Busy as error:
        raise Problem(503, str(error), headers={"Retry-After": str(error.retry_after)}) from None


@router.post(
    "/token",
    response_model=AccessToken,
    responses={429: {"description": "too many failed sign-ins"}, 503: {"description": "busy"}},
)
async def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    container: ContainerDep,
    gate: SignInGateDep,
    request: Request,
    response: Response,
) -> AccessToken:
    """Exchange a username and password for a bearer token."""
    if has_control_characters(form.username):
        # No username holds one (users.add_user refuses them), and PostgreSQL cannot even
        # compare a text with a NUL in it.
        raise Problem(
            422,
            f"the request is invalid: username: {REFUSAL}",
            title="Invalid request",
            errors=[{"field": "username", "message": REFUSAL}],
        )
    # The default argon2 parameters, always: a hash made with weaker ones is upgraded.
    check = partial(authenticate, container.engine, form.username, form.password)
    with gate_refusals():
        user = await through_gate(
            gate,
            check,
            username=form.username,
            address=request.client.host if request.client else None,
            now=container.clock(),
        )
    if user is None:
        raise Problem(
            401,
            "the username or password is wrong, or the account is disabled",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, expires_in = issue_token(user, container.settings, container.clock())
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return AccessToken(access_token=token, expires_in=expires_in)
