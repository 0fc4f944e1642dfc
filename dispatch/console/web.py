"""What every console page shares: templates, the signed-in user, CSRF, errors and replies."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse, Response

from dispatch.auth.users import User, get_user
from dispatch.bootstrap import Container
from dispatch.catalogue import Catalogue
from dispatch.console import display, labels
from dispatch.console.i18n import (
    DEFAULT_LANGUAGE,
    HTML_LANG,
    LANGUAGES,
    N_,
    normalise_language,
    translations,
)
from dispatch.console.session import LANGUAGE_COOKIE, Session, load_session, save_session

TEMPLATES = Path(__file__).parent / "templates"
PREFIX = "/console"

# (path, label, roles that see it), in the order of the navigation bar.
PAGES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "/worklists",
        N_("Worklists"),
        ("operator", "dispatcher", "supervisor", "liaison", "street", "admin"),
    ),
    ("/intake", N_("Intake"), ("operator", "dispatcher")),
    ("/callbacks", N_("Awaiting callback"), ("operator", "dispatcher")),
    ("/inbox", N_("Department inbox"), ("liaison",)),
    ("/desk", N_("Dispatch desk"), ("dispatcher",)),
    ("/street", N_("Street"), ("street",)),
    ("/patrol", N_("Patrol"), ("grid",)),
    ("/dashboard", N_("Supervision"), ("supervisor", "dispatcher")),
    ("/cases", N_("Case search"), ("operator", "dispatcher", "supervisor", "liaison", "street")),
    ("/admin", N_("Administration"), ("admin",)),
)


class ConsoleError(Exception):
    """Answer with the console's error page: ``message`` is a msgid, ``detail`` plain text."""

    def __init__(self, status: int, message: str, detail: str | None = None) -> None:
        super().__init__(detail or message)
        self.status, self.message, self.detail = status, message, detail


class LoginRequired(Exception):
    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def container_of(request: Request) -> Container:
    return request.app.state.container


def session_of(request: Request) -> Session:
    return load_session(request, container_of(request).settings)


def catalogue_of(request: Request) -> Catalogue | None:
    active = container_of(request).catalogue_source()
    return active[1] if active else None


def zone_of(request: Request) -> ZoneInfo:
    catalogue = catalogue_of(request)
    return catalogue.zone if catalogue else ZoneInfo(container_of(request).settings.timezone)


def language_of(request: Request) -> str:
    """``?lang=`` first (it also sets the cookie), then the cookie, then Simplified Chinese."""
    asked = normalise_language(request.query_params.get("lang"))
    return asked or normalise_language(request.cookies.get(LANGUAGE_COOKIE)) or DEFAULT_LANGUAGE


@cache
def environment(language: str) -> Environment:
    """One Jinja environment per language: autoescaped, strict, gettext from the catalogue."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    t = translations(language)
    env.install_gettext_translations(t, newstyle=True)  # type: ignore[attr-defined]
    env.filters["local"] = pass_context(lambda c, v: display.local_time(v, c["zone"]))
    env.filters["local_s"] = pass_context(
        lambda c, v: display.local_time(v, c["zone"], seconds=True)
    )
    env.filters["duration"] = lambda v: display.duration(v, t)
    env.filters["pretty_json"] = display.pretty_json
    env.filters["percent"] = display.percent
    env.filters["score"] = display.score
    env.filters["countdown"] = pass_context(_countdown(t))
    env.filters["label"] = lambda code, kind: _label(t, kind, code)
    env.globals["task_clock"] = pass_context(lambda c, task: display.task_clock(task, c["now"]))
    env.globals["deadline_marks"] = pass_context(
        lambda c, task: display.deadline_marks(task, c["now"])
    )
    env.globals["new_id"] = lambda: secrets.token_urlsafe(12)
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["language"] = language
    env.globals["html_lang"] = HTML_LANG[language]
    return env


def _label(t: Any, kind: str, code: Any) -> str:
    """A code's words; the code itself when it has none (gettext("") is the catalogue header)."""
    message = labels.ALL[kind].get(code)
    return str(t.gettext(message)) if message else str(code)


def _countdown(t: Any) -> Callable[[Context, Any], str]:
    def countdown(context: Context, deadline: Any) -> str:
        return display.countdown(deadline, context["now"], t)

    return countdown


def signed_in_user(request: Request) -> User:
    session = session_of(request)
    user = None
    if session.user_id:
        with container_of(request).store.reading() as conn:
            user = get_user(conn, session.user_id)
    if user is None or not user.active or user.session_version != session.session_version:
        if session.user_id:
            session.sign_out()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    request.state.console_user = user
    return user


ConsoleUser = Annotated[User, Depends(signed_in_user)]


def fresh_case_list(request: Request, _user: ConsoleUser) -> None:
    """Pages that show cases or tasks catch the case list up first (see ``Container.fresh``);
    after the sign-in check, so the login page and strangers cost the database nothing."""
    container_of(request).fresh("case_list")


def require(*roles: str) -> Callable[[User], User]:
    """A dependency: the signed-in user holding one of ``roles``, else the 403 page."""

    def holds(user: ConsoleUser) -> User:
        if not user.has_any(*roles):
            raise ConsoleError(403, N_("This page is not for your role."))
        return user

    return holds


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matched the session's; else the 403 page."""
    form = await request.form()
    if not session_of(request).csrf_matches(form.get("csrf_token")):
        raise ConsoleError(
            403,
            N_(
                "The form has expired or did not come from this console. Reload the page and "
                "try again."
            ),
        )
    return form


PostedForm = Annotated[FormData, Depends(checked_form)]


def names(request: Request) -> dict[str, dict[str, str]]:
    """Catalogue names of categories, departments, grids and streets, by code."""
    catalogue = catalogue_of(request)
    if catalogue is None:
        return {"category": {}, "department": {}, "grid": {}, "street": {}}
    return {
        "category": {c.code: c.name for c in catalogue.categories},
        "department": {d.code: d.name for d in catalogue.departments},
        "grid": {g.code: g.name for g in catalogue.grids},
        "street": {s.code: s.name for s in catalogue.streets},
    }


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    fragment: bool = False,
) -> Response:
    """A page; a ``fragment`` (fetched by a page's script) leaves the flashes for the next page."""
    language = language_of(request)
    session = session_of(request)
    user: User | None = getattr(request.state, "console_user", None)
    values: dict[str, Any] = {
        "request": request,
        "user": user,
        "pages": [
            (PREFIX + path, label) for path, label, roles in PAGES if user and user.has_any(*roles)
        ],
        "csrf_token": session.csrf,
        "flashes": [] if fragment else session.take_flashes(),
        "zone": zone_of(request),
        "now": container_of(request).clock(),
        "names": names(request),
        "path": request.url.path,
        "prefix": PREFIX,
    }
    values.update(context or {})
    body = environment(language).get_template(template).render(values)
    response = HTMLResponse(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return finish(request, response)


def finish(request: Request, response: Response) -> Response:
    """Save the session and remember a language picked with ``?lang=``."""
    save_session(response, session_of(request), request, container_of(request).settings)
    asked = normalise_language(request.query_params.get("lang"))
    if asked:
        response.set_cookie(LANGUAGE_COOKIE, asked, max_age=365 * 86400, samesite="lax")
    return response


def redirect(request: Request, path: str) -> Response:
    """303 See Other to a console path (POST → redirect → GET)."""
    target = path if path.startswith(PREFIX) else PREFIX + path
    return finish(request, RedirectResponse(target, status_code=303))


def login_redirect(request: Request, next_path: str) -> Response:
    return finish(
        request, RedirectResponse(f"{PREFIX}/login?next={quote(next_path)}", status_code=303)
    )


def gettext(request: Request, message: str) -> str:
    return translations(language_of(request)).gettext(message)
