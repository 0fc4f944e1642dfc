"""Access tokens: HS256 JWTs (PyJWT) signed with a key derived from ``settings.secret_key``.

The clock is an argument on both sides, so a service running on a test clock issues and
accepts its own tokens consistently; expiry is therefore checked here, not by PyJWT.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from dispatch.auth.principal import Principal
from dispatch.auth.roles import Role, ordered, parse_roles
from dispatch.auth.users import User
from dispatch.settings import Settings

ALGORITHM = "HS256"
# Several ``serve`` processes on different hosts may disagree on the time by a few seconds.
LEEWAY = timedelta(seconds=30)
REQUIRED_CLAIMS = ("sub", "username", "roles", "exp", "iat", "jti")


class TokenError(Exception):
    """The token cannot be accepted; the message says why and what to do."""


class TokenExpired(TokenError):
    pass


@dataclass(frozen=True, slots=True)
class Claims:
    subject: str  # the user id
    username: str
    roles: frozenset[Role]
    department: str | None
    street: str | None
    issued_at: datetime
    expires_at: datetime
    token_id: str
    # The user's session counter when the token was issued: a token whose counter is behind
    # the stored one was ended (disabled, re-roled, new password) and is refused.
    session_version: int = 0
    grid: str | None = None

    @property
    def principal(self) -> Principal:
        return Principal(
            id=self.subject,
            username=self.username,
            roles=self.roles,
            department=self.department,
            street=self.street,
            grid=self.grid,
        )


def signing_key(settings: Settings) -> bytes:
    """A key for access tokens only, derived from the secret the console sessions also use,
    so that neither signature can ever be replayed as the other."""
    return _derived_key(settings.secret_key)


@lru_cache(maxsize=8)
def _derived_key(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"street-whistle/access-token/v1", hashlib.sha256).digest()


def issue_token(user: Principal, settings: Settings, now: datetime) -> tuple[str, int]:
    """A signed token for ``user`` and its lifetime in seconds; a stored ``User`` also
    stamps it with its session counter (``sv``)."""
    lifetime = timedelta(minutes=settings.token_minutes)
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "sub": user.id,
        "username": user.username,
        "roles": [role.value for role in ordered(user.roles)],
        "department": user.department,
        "street": user.street,
        "grid": user.grid,
        "iat": issued,
        "exp": issued + int(lifetime.total_seconds()),
        "jti": uuid.uuid4().hex,
        "sv": user.session_version if isinstance(user, User) else 0,
    }
    token = jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_token(token: str, settings: Settings, *, now: datetime | None = None) -> Claims:
    """The claims of a token this service signed and that has not expired at ``now``."""
    claims = _verified(token, signing_key(settings))
    moment = now or datetime.now(UTC)
    if moment > claims.expires_at + LEEWAY:
        raise TokenExpired(
            f"the token expired at {claims.expires_at.isoformat()}; "
            "sign in again at /api/v1/auth/token"
        )
    return claims


# A client sends the same token with every request: its signature is checked and its claims
# parsed once (a twentieth of an API request's CPU), its expiry on every use. A refused token
# raises, and is not remembered.
@lru_cache(maxsize=4096)
def _verified(token: str, key: bytes) -> Claims:
    try:
        raw = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidSignatureError:
        raise TokenError(
            "the token's signature does not match: it was not issued by this service, "
            "or the secret key changed since; sign in again"
        ) from None
    except jwt.InvalidAlgorithmError:
        raise TokenError(f"the token is not signed with {ALGORITHM}; sign in again") from None
    except jwt.MissingRequiredClaimError as error:
        raise TokenError(f"the token lacks the {error.claim!r} claim; sign in again") from None
    except jwt.InvalidTokenError:
        raise TokenError("the token is malformed; send the access_token from /auth/token") from None
    return _claims(raw)


def _claims(raw: dict[str, Any]) -> Claims:
    try:
        if not isinstance(raw["roles"], list):
            raise ValueError("roles is not a list")
        return Claims(
            subject=str(raw["sub"]),
            username=str(raw["username"]),
            roles=parse_roles(raw["roles"]),
            department=_optional_str(raw.get("department")),
            street=_optional_str(raw.get("street")),
            issued_at=datetime.fromtimestamp(int(raw["iat"]), UTC),
            expires_at=datetime.fromtimestamp(int(raw["exp"]), UTC),
            token_id=str(raw["jti"]),
            session_version=int(raw.get("sv", 0)),
            grid=_optional_str(raw.get("grid")),
        )
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise TokenError(f"the token's claims are not valid ({error}); sign in again") from None


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)
