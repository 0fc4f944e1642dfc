"""``POST /auth/token``: the OAuth2 password flow."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from dispatch.api.deps import ContainerDep
from dispatch.api.problems import Problem
from dispatch.auth.tokens import issue_token
from dispatch.auth.users import authenticate
from dispatch.text import REFUSAL, has_control_characters

router = APIRouter(prefix="/auth", tags=["auth"])


class AccessToken(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int  # seconds


@router.post("/token", response_model=AccessToken)
def sign_in(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    container: ContainerDep,
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
    # A write transaction: a hash made with older argon2 parameters is upgraded on sign-in.
    with container.store.transaction() as conn:
        user = authenticate(conn, form.username, form.password)
    if user is None:
        raise Problem(
            401,
            "the username or password is wrong, or the account is disabled",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, expires_in = issue_token(user, container.settings, container.clock())
    response.headers["Cache-Control"] = "no-store"  # RFC 6749 §5.1
    return AccessToken(access_token=token, expires_in=expires_in)
