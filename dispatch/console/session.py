"""The console's session: a signed cookie holding the user id, a CSRF token and flash notes.

Signed (not encrypted) with the service's secret key by itsdangerous: the browser can read
but not forge it, and nothing secret is inside. HttpOnly and SameSite=Lax always; Secure when
``console_secure_cookie`` says so, or, left unset, when the request itself came over https.
The user is re-read from the users table on every request, so a disabled account or a
changed role takes effect at once, as in the API; the session also keeps the user's session
counter from sign-in, and one the user has since moved past (disabled, re-roled, new
password) is signed out.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from dispatch.settings import Settings

COOKIE = "sw_console"
LANGUAGE_COOKIE = "sw_lang"
MAX_AGE = 12 * 3600  # one long shift
SALT = "street-whistle.console.session"
MAX_FLASHES = 5


@dataclass
class Session:
    user_id: str | None = None
    session_version: int = 0  # the user's ``users.session_version`` at sign-in
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    flashes: list[tuple[str, str]] = field(default_factory=list)
    modified: bool = False

    def sign_in(self, user_id: str, session_version: int) -> None:
        """A new CSRF token at sign-in, so a token seen before it is worth nothing after."""
        self.user_id = user_id
        self.session_version = session_version
        self.csrf = secrets.token_urlsafe(32)
        self.modified = True

    def sign_out(self) -> None:
        self.user_id = None
        self.session_version = 0
        self.csrf = secrets.token_urlsafe(32)
        self.flashes = []
        self.modified = True

    def flash(self, kind: str, text: str) -> None:
        """A note for the next page shown: ``kind`` is ``ok`` or ``error``."""
        self.flashes = [*self.flashes, (kind, text)][-MAX_FLASHES:]
        self.modified = True

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        if taken:
            self.modified = True
        return taken

    def csrf_matches(self, token: object) -> bool:
        return isinstance(token, str) and hmac.compare_digest(token, self.csrf)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def load_session(request: Request, settings: Settings) -> Session:
    """The request's session (one per request, cached on ``request.state``)."""
    cached = getattr(request.state, "console_session", None)
    if isinstance(cached, Session):
        return cached
    session = _decode(request.cookies.get(COOKIE), settings)
    request.state.console_session = session
    return session


def _decode(cookie: str | None, settings: Settings) -> Session:
    if not cookie:
        return Session(modified=True)
    try:
        data: Any = _serializer(settings).loads(cookie, max_age=MAX_AGE)
        flashes = [(str(kind), str(text)) for kind, text in data.get("f", [])]
        return Session(
            user_id=data.get("u"),
            session_version=int(data.get("s", 0)),
            csrf=str(data["c"]),
            flashes=flashes,
        )
    except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return Session(modified=True)


def secure_cookies(request: Request, settings: Settings) -> bool:
    if settings.console_secure_cookie is not None:
        return settings.console_secure_cookie
    return request.url.scheme == "https"


def save_session(
    response: Response, session: Session, request: Request, settings: Settings
) -> None:
    """Write the cookie back when the session changed (sign-in, a flash, a new token)."""
    if not session.modified:
        return
    value = _serializer(settings).dumps(
        {
            "u": session.user_id,
            "s": session.session_version,
            "c": session.csrf,
            "f": session.flashes,
        }
    )
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        path="/console",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request, settings),
    )
    session.modified = False
