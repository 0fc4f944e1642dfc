"""The departments' actions on their tasks, and the dispatchers' rulings (DESIGN.md §4)."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, Field

from dispatch.api.commands import Body, IfMatch, run_command
from dispatch.api.deps import ContainerDep
from dispatch.api.deps import require_roles as roles
from dispatch.auth.users import User
from dispatch.domain import commands as c
from dispatch.domain.events import ReturnReason

router = APIRouter(tags=["tasks"])


class Empty(Body):
    pass


class ReturnIn(Body):
    reason: ReturnReason
    basis: str = Field(min_length=1, max_length=2000)


class NoteRequired(Body):
    note: str = Field(min_length=1, max_length=2000)


class ExtensionIn(Body):
    reply_by: AwareDatetime
    reason: str = Field(min_length=1, max_length=2000)


class ReplyIn(Body):
    resolution: str = Field(min_length=1, max_length=4000)


class RulingIn(Body):
    note: str | None = Field(None, max_length=2000)


def _task_route(
    path: str, body_type: type[Body], build: object, summary: str, *, role: str
) -> None:
    """Register one task command. A liaison acts only on its own department's tasks
    (checked by the handler against the folded case); a dispatcher rules on any task."""

    def endpoint(
        task_id: str,
        body: body_type,  # type: ignore[valid-type]
        container: ContainerDep,
        if_match: IfMatch,
        user: Annotated[User, Depends(roles(role))],
    ) -> JSONResponse:
        return run_command(
            container,
            lambda: container.cases.task_command(
                task_id,
                build(task_id, body),  # type: ignore[operator]
                actor=user,
                role=role,
                liaison_action=role == "liaison",
                if_match=if_match,
            ),
        )

    endpoint.__name__ = f"task_{path.replace('/', '_')}"
    router.add_api_route(f"/tasks/{{task_id}}/{path}", endpoint, methods=["POST"], summary=summary)


def _liaison_action(path: str, body_type: type[Body], build: object, summary: str) -> None:
    _task_route(path, body_type, build, summary, role="liaison")


def _ruling(path: str, build: object, summary: str) -> None:
    _task_route(path, RulingIn, build, summary, role="dispatcher")


_liaison_action("sign", Empty, lambda t, b: c.SignTask(task_id=t), "签收 sign for the task")
_liaison_action(
    "return",
    ReturnIn,
    lambda t, b: c.RequestReturn(task_id=t, reason=b.reason, basis=b.basis),
    "退单 ask to return a misrouted task",
)
_liaison_action(
    "contact", NoteRequired, lambda t, b: c.ContactCitizen(task_id=t, note=b.note), "联系 contact"
)
_liaison_action(
    "progress", NoteRequired, lambda t, b: c.NoteProgress(task_id=t, note=b.note), "进展 progress"
)
_liaison_action(
    "reply",
    ReplyIn,
    lambda t, b: c.ReplyTask(task_id=t, resolution=b.resolution),
    "办结 reply with the resolution",
)
_ruling("return/approve", lambda t, b: c.ApproveReturn(task_id=t, note=b.note), "approve a return")
_ruling("return/reject", lambda t, b: c.RejectReturn(task_id=t, note=b.note), "reject a return")
_ruling("extension/deny", lambda t, b: c.DenyExtension(task_id=t, note=b.note), "deny an extension")


@router.post("/tasks/{task_id}/extension", summary="延期 ask for a later reply_by")
def request_extension(
    task_id: str,
    body: ExtensionIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles("liaison"))],
) -> JSONResponse:
    reply_by: datetime = body.reply_by
    return run_command(
        container,
        lambda: container.cases.request_extension(
            task_id, reply_by, body.reason, actor=user, role="liaison", if_match=if_match
        ),
    )


@router.post("/tasks/{task_id}/extension/approve", summary="approve an extension")
def approve_extension(
    task_id: str,
    body: RulingIn,
    container: ContainerDep,
    if_match: IfMatch,
    user: Annotated[User, Depends(roles("dispatcher"))],
) -> JSONResponse:
    return run_command(
        container,
        lambda: container.cases.approve_extension(
            task_id, body.note, actor=user, role="dispatcher", if_match=if_match
        ),
    )
