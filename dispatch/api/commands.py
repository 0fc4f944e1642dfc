"""What every command route shares: If-Match, the reply, the error mapping, and the one way
an action of the table (``dispatch.handlers.actions``) becomes a route."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.domain.case import DomainError
from dispatch.handlers import (
    Action,
    ApplicationError,
    CommandResult,
    InvalidInput,
    Issuer,
    NotInScope,
    Requested,
    StaleVersion,
)

SCOPE_REFUSAL = (
    "this case or task is outside your scope: only the liaisons of the department that holds "
    "it, or the officers of its street, may act on it"
)


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


def add_case_action(router: APIRouter, action: Action[Any]) -> None:
    """``POST /cases/{case_id}/<path>`` for a case action of the table."""
    body_type = action.body
    allowed = action.roles

    def endpoint(
        case_id: str,
        body: body_type,  # type: ignore[valid-type]
        container: ContainerDep,
        if_match: IfMatch,
        user: Annotated[User, Depends(roles(*allowed))],
    ) -> JSONResponse:
        return take(container, case_id, Requested(action, body), user, if_match)

    endpoint.__name__ = action.path.replace("/", "_") + "_case"
    router.add_api_route(
        f"/cases/{{case_id}}/{action.path}", endpoint, methods=["POST"], summary=action.summary
    )


def add_task_action(router: APIRouter, action: Action[Any]) -> None:
    """``POST /tasks/{task_id}/<path>``. A liaison acts only on its own department's tasks
    (checked by the handler against the folded case); a dispatcher rules on any task."""
    body_type = action.body
    allowed = action.roles

    def endpoint(
        task_id: str,
        body: body_type,  # type: ignore[valid-type]
        container: ContainerDep,
        if_match: IfMatch,
        user: Annotated[User, Depends(roles(*allowed))],
    ) -> JSONResponse:
        return take(container, task_id, Requested(action, body), user, if_match)

    endpoint.__name__ = "task_" + action.path.replace("/", "_")
    router.add_api_route(
        f"/tasks/{{task_id}}/{action.path}", endpoint, methods=["POST"], summary=action.summary
    )


def take(
    container: Container,
    target: str,
    command: Requested[Any],
    user: User,
    if_match: int | None,
) -> JSONResponse:
    issuer = Issuer(actor=user, role=str(user.role_for(*command.action.roles)), if_match=if_match)
    return run_command(container, lambda: container.handle(target, command, issuer))


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
        code = getattr(error, "code", None)
        raise Problem(
            422,
            str(error),
            errors=[{"field": error.field, "message": str(error)}],
            **({"code": code} if code else {}),
        ) from None
    except NotInScope:
        # The handler's message names who holds the case; an outsider learns nothing of it.
        raise Problem(403, SCOPE_REFUSAL) from None
    except ApplicationError as error:
        raise Problem(error.status, str(error)) from None
    except DomainError as error:
        coded: dict[str, Any] = {"code": error.code} if error.code else {}
        raise Problem(
            409,
            str(error),
            title="Not allowed in the current state",
            allowed_next=list(getattr(error, "allowed_next", []) or []),
            **coded,
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
