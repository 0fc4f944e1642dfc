"""RFC 9457 problem+json for every error the API answers.

Every problem has a stable ``code``; refusals of the case rules and of the handlers (domain
and application errors) are worded in the request's language (``Accept-Language``: Simplified
Chinese unless English is preferred), by ``dispatch.handlers.wording`` (DESIGN §8.3).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from dispatch.domain.case import DomainError
from dispatch.handlers import ApplicationError, InvalidInput, StaleVersion
from dispatch.handlers.wording import Worded, language_of, title_for, word, word_error
from events import StoreUnavailable

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """Raise from a route or handler to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        type: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = type
        self.headers = headers or {}
        self.extra = extra


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": type, "title": title or HTTPStatus(status).phrase, "status": status}
    body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or ".".join(str(part) for part in location)


def _field_error(item: dict[str, Any]) -> dict[str, str]:
    if item.get("type") == "json_invalid":
        # FastAPI locates a JSON syntax error at ("body", <character offset>): the field at
        # fault is the body itself, and the offset belongs in the message.
        at = item.get("loc", ("body", "?"))[-1]
        reason = (item.get("ctx") or {}).get("error", "invalid JSON")
        return {"field": "body", "message": f"the body is not JSON: {reason} at character {at}"}
    return {"field": _field_name(tuple(item.get("loc", ()))), "message": item.get("msg", "")}


# A problem raised without a code gets the one its status stands for.
STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "stale_version",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_body",
    429: "too_many_requests",
    503: "unavailable",
}


def status_code_name(status: int) -> str:
    return STATUS_CODES.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")


def worded_problem(worded: Worded, **extra: Any) -> Problem:
    if worded.allowed_next is not None:
        extra["allowed_next"] = worded.allowed_next
    return Problem(worded.status, worded.detail, title=worded.title, code=worded.code, **extra)


def refusal_problem(
    error: DomainError | ApplicationError, request: Request | None = None
) -> Problem:
    """The problem for a refused command, worded for ``request`` (Chinese without one)."""
    language = language_of(request.headers.get("accept-language") if request else None)
    container = getattr(request.app.state, "container", None) if request else None
    active = container.catalogue_source() if container is not None else None
    worded = word_error(error, language, active[1] if active else None)
    if isinstance(error, StaleVersion):
        return worded_problem(worded, current_version=error.actual)
    if isinstance(error, InvalidInput):
        return worded_problem(worded, errors=[{"field": error.field, "message": worded.detail}])
    return worded_problem(worded)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, error: Problem) -> JSONResponse:
        extra = {"code": status_code_name(error.status), **error.extra}
        return problem_response(
            error.status,
            error.detail,
            title=error.title,
            type=error.type,
            headers=error.headers,
            **extra,
        )

    @app.exception_handler(DomainError)
    @app.exception_handler(ApplicationError)
    async def _refused(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, DomainError | ApplicationError)
        return await _problem(request, refusal_problem(error, request))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        language = language_of(request.headers.get("accept-language"))
        errors = [_field_error(item) for item in error.errors()]
        fields = ", ".join(sorted({item["field"] for item in errors}))
        return problem_response(
            422,
            word("invalid_body", {"fields": fields}, language),
            title=title_for(422, language),
            code="invalid_body",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = (
            error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        )
        return problem_response(
            error.status_code,
            detail,
            headers=getattr(error, "headers", None),
            code=status_code_name(error.status_code),
        )

    @app.exception_handler(StoreUnavailable)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _unavailable(_request: Request, _error: Exception) -> JSONResponse:
        # The database is down or restarting (or every pooled connection is busy): nothing
        # was written, and the pool reconnects by itself, so the client may retry at once.
        return problem_response(
            503,
            "the case store is unavailable; try again shortly",
            headers={"Retry-After": "1"},
            code="unavailable",
        )
