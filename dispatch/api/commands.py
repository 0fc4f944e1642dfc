"""What every command route shares: If-Match, Idempotency-Key, the reply, the error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, field_validator

from dispatch.api.problems import Problem
from dispatch.api.text import check_plain_text
from dispatch.bootstrap import Container
from dispatch.domain.case import DomainError
from dispatch.handlers import (
    ApplicationError,
    CommandResult,
    InvalidInput,
    NotInScope,
    StaleVersion,
)

SCOPE_REFUSAL = (
    "this case or task is outside your scope: only the liaisons of the department that holds "
    "it, or the officers of its street, may act on it"
)


class Body(BaseModel):
    """Command bodies refuse unknown fields, so a typo is a 422 that names it, and text with
    control characters, which the store cannot keep (``dispatch.api.text``)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        return check_plain_text(value)


def parse_if_match(
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise Problem(
            422,
            'If-Match must be the case version from its ETag, e.g. If-Match: "3"',
            errors=[{"field": "If-Match", "message": "not a version"}],
        )
    return int(text)


IfMatch = Annotated[int | None, Depends(parse_if_match)]


def run_command(
    container: Container,
    action: Callable[[], CommandResult],
    *,
    status: int = 200,
    created: bool = False,
) -> JSONResponse:
    """Run a handler and turn its outcome (or its error) into the HTTP answer."""
    try:
        result = action()
    except StaleVersion as error:
        raise Problem(412, str(error), current_version=error.actual) from None
    except InvalidInput as error:
        raise Problem(
            422, str(error), errors=[{"field": error.field, "message": str(error)}]
        ) from None
    except NotInScope:
        # The handler's message names who holds the case; an outsider learns nothing of it.
        raise Problem(403, SCOPE_REFUSAL) from None
    except ApplicationError as error:
        raise Problem(error.status, str(error)) from None
    except DomainError as error:
        raise Problem(
            409,
            str(error),
            title="Not allowed in the current state",
            allowed_next=list(getattr(error, "allowed_next", []) or []),
        ) from None
    after_command(container, result)
    response = command_reply(result, status=status)
    if created:
        response.headers["Location"] = f"/api/v1/cases/{result.case_id}"
    return response


def after_command(container: Container, result: CommandResult) -> None:
    container.after_command(result)


def command_reply(result: CommandResult, *, status: int = 200) -> JSONResponse:
    state = result.state
    body: dict[str, Any] = {
        "id": result.case_id,
        "case_no": state.case_no,
        "status": str(getattr(state.status, "value", state.status)),
        "version": result.version,
        "events": [event.type for event in result.events],
    }
    if result.duplicate:
        body["replayed"] = True
    return JSONResponse(body, status_code=status, headers={"ETag": f'"{result.version}"'})
