"""RFC 9457 problem+json for every error the API answers."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

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


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(_request: Request, error: Problem) -> JSONResponse:
        return problem_response(
            error.status,
            error.detail,
            title=error.title,
            type=error.type,
            headers=error.headers,
            **error.extra,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [_field_error(item) for item in error.errors()]
        fields = ", ".join(sorted({item["field"] for item in errors}))
        return problem_response(
            422,
            f"the request is invalid: {fields}",
            title="Invalid request",
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = (
            error.detail if isinstance(error.detail, str) else HTTPStatus(error.status_code).phrase
        )
        return problem_response(error.status_code, detail, headers=getattr(error, "headers", None))

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
        )
