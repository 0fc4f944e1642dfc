"""Posted forms → the validated command bodies → a handler, with the outcome as a flash note.

The console validates with the same pydantic bodies as the JSON API, so a form accepts
exactly what the API accepts, and runs the same handlers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from dispatch.console.i18n import N_
from dispatch.console.web import (
    ConsoleError,
    catalogue_of,
    container_of,
    gettext,
    language_of,
    session_of,
)
from dispatch.domain.case import DomainError
from dispatch.domain.wording import Language
from dispatch.handlers import ApplicationError, CommandResult, InvalidInput, StaleVersion
from dispatch.handlers.errors import CaseNotFound, NotInScope, TaskNotFound
from dispatch.handlers.wording import word_error

Body = TypeVar("Body", bound=BaseModel)


class FormInvalid(Exception):
    """The form did not validate: ``errors`` maps a field name to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {text}" for name, text in errors.items()))
        self.errors = errors


def text_fields(form: FormData | Mapping[str, Any], *names: str) -> dict[str, str | None]:
    """The named fields as stripped text; an empty field is None (absent, for optional ones)."""
    values: dict[str, str | None] = {}
    for name in names:
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        values[name] = text or None
    return values


def validate(body_type: type[Body], data: Mapping[str, Any]) -> Body:
    """``body_type`` from ``data`` with None values dropped, or ``FormInvalid``."""
    try:
        return body_type.model_validate(_without_none(data))
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            field = ".".join(str(part) for part in item.get("loc", ())) or "form"
            errors.setdefault(field, str(item.get("msg", "")))
        raise FormInvalid(errors) from None


def _without_none(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            value = _without_none(value)
        if value is not None:
            cleaned[key] = value
    return cleaned


def perform(
    request: Request, action: Callable[[], CommandResult], *, done: str | None
) -> CommandResult | None:
    """Run a command; flash ``done`` (a msgid; None: no note, a step of a larger action) or
    why it was refused.

    Another department's task or a case out of scope is the 403 page, an unknown id the
    404 page; a refusal by the rules (the case moved on, an illegal step) is a note on the
    page the user comes back to, worded as the API words it (``dispatch.handlers.wording``).
    """
    session = session_of(request)
    try:
        result = action()
    except NotInScope:
        # Not the handler's message: it names who holds the case.
        raise ConsoleError(403, N_("This is not yours to act on.")) from None
    except (CaseNotFound, TaskNotFound) as error:
        raise ConsoleError(404, N_("No such case or task."), str(error)) from None
    except (StaleVersion, InvalidInput, ApplicationError, DomainError) as error:
        session.flash("error", worded(request, error))
        return None
    container_of(request).after_command(result)
    if done is not None:
        session.flash("ok", gettext(request, done))
    return result


def refuse_form(request: Request, problem: FormInvalid) -> None:
    session_of(request).flash("error", _refusal(request, N_("Please check the form."), problem))


def worded(request: Request, error: DomainError | ApplicationError) -> str:
    """The refusal in the console's language, with department names from the catalogue."""
    language: Language = "en" if language_of(request) == "en" else "zh"
    return word_error(error, language, catalogue_of(request)).detail


def _refusal(request: Request, message: str, error: Exception) -> str:
    return f"{gettext(request, message)} {error}"
