"""随手拍 · 影像证明 (DESIGN §8.6): photos and documents on a case.

``POST /cases/{id}/attachments`` judges the upload (``accept_upload``: types from the content,
GPS and device data stripped), stores it by sha256, then records ``AttachmentAdded`` through
the handler; a refusal stores nothing in the log. Reads stream the stored bytes with the media
type recorded in the event, to whoever may see the case.
"""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Header, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from dispatch.api.commands import run_command
from dispatch.api.deps import ContainerDep, CurrentUser
from dispatch.api.deps import require_roles as roles
from dispatch.api.problems import Problem
from dispatch.auth.users import User
from dispatch.bootstrap import Container
from dispatch.domain.case import Attachment, CaseState
from dispatch.handlers import CaseNotFound, Issuer, load_case
from dispatch.handlers.attachments import check_may_attach
from dispatch.handlers.uploads import LOCATION_KEEPERS, Upload, store_upload
from dispatch.handlers.wording import language_of, title_for
from dispatch.media import (
    THUMBNAIL_MEDIA_TYPE,
    MediaNotFound,
    MediaRefused,
    MediaSettings,
    upload_limit_bytes,
)
from dispatch.queries.scope import can_view_case

router = APIRouter(tags=["attachments"])

UPLOADERS = ("operator", "dispatcher", "street", "liaison", "grid")
# The body-size middleware lets this path carry an upload (plus the multipart framing).
UPLOAD_PATH = r"/api/v1/cases/[^/]+/attachments"
MULTIPART_ALLOWANCE = 64 * 1024


def upload_body_limit(settings: MediaSettings) -> int:
    return upload_limit_bytes(settings) + MULTIPART_ALLOWANCE


def _case(container: Container, case_id: str) -> CaseState:
    try:
        state, _version = load_case(container.store, case_id)
    except CaseNotFound:
        raise Problem(404, f"no case with id {case_id!r}") from None
    return state


def _visible_case(container: Container, case_id: str, user: User) -> CaseState:
    state = _case(container, case_id)
    seen = {
        "tasks": [{"department": t.department} for t in state.tasks.values()],
        "location": {"street": state.location.street, "grid": state.location.grid},
    }
    if not can_view_case(seen, user):
        raise Problem(403, "this case is outside your department's or street's scope")
    return state


def _present(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.attachment_id,
        "sha256": a.sha256,
        "size": a.size,
        "media_type": a.media_type,
        "stage": a.stage,
        "task_id": a.task_id,
        "filename": a.filename,
        "by": a.by,
        "at": a.at.isoformat(),
        "erased_at": a.erased_at.isoformat() if a.erased_at else None,
        "location": {"lat": a.location.lat, "lon": a.location.lon} if a.location else None,
    }


@router.post("/cases/{case_id}/attachments", status_code=201)
def upload_attachment(
    case_id: str,
    container: ContainerDep,
    user: Annotated[User, Depends(roles(*UPLOADERS))],
    file: Annotated[UploadFile, File()],
    stage: Annotated[Literal["intake", "progress", "reply"], Form()],
    task_id: Annotated[str | None, Form(min_length=1, max_length=64)] = None,
    keep_location: Annotated[bool, Form()] = False,
    accept_language: Annotated[str, Header()] = "zh",
) -> JSONResponse:
    """Add a photo or document (JPEG, PNG, WebP, PDF) to the case (sync: runs in a thread).

    ``keep_location=true`` (operator, dispatcher): the photo's EXIF position is kept as the
    attachment's ``location``; the stored file is stripped either way."""
    role = str(user.role_for(*UPLOADERS))
    if keep_location and role not in LOCATION_KEEPERS:
        raise Problem(
            403,
            "只有话务员或派单员可以保留照片的拍摄位置；请不带 keep_location 重新上传。"
            if language_of(accept_language) == "zh"
            else "keep_location: only an operator or a dispatcher may keep where a photo was "
            "taken; send the photo without keep_location",
            code="keep_location_not_allowed",
        )
    issuer = Issuer(actor=user, role=role)
    # A NotInScope goes to the problem handlers, worded without naming who holds the case.
    check_may_attach(_case(container, case_id), issuer)
    limit = upload_limit_bytes(container.settings)
    upload = Upload(file.file.read(limit + 1), file.filename, file.content_type)
    try:
        stored = store_upload(
            container.media_store,
            upload,
            max_bytes=limit,
            stage=stage,
            by=user.username,
            task_id=task_id,
            keep_location=keep_location,
        )
    except MediaRefused as refused:
        language = language_of(accept_language)
        raise Problem(
            refused.status,
            refused.message(language),
            title=title_for(refused.status, language),
            code=refused.code,
        ) from None
    command = stored.command
    run_command(container, lambda: container.handle(case_id, command, issuer))
    body: dict[str, Any] = {
        "id": command.attachment_id,
        "sha256": command.sha256,
        "size": command.size,
        "media_type": command.media_type,
        "stage": command.stage,
    }
    if command.location is not None:
        body["location"] = {"lat": command.location.lat, "lon": command.location.lon}
    return JSONResponse(body, status_code=201)


@router.get("/cases/{case_id}/attachments")
def attachments(case_id: str, container: ContainerDep, user: CurrentUser) -> dict[str, Any]:
    """The case's attachments, oldest first."""
    state = _visible_case(container, case_id, user)
    return {"items": [_present(a) for a in state.attachments]}


@router.get("/cases/{case_id}/attachments/{attachment_id}")
def attachment(
    case_id: str,
    attachment_id: str,
    container: ContainerDep,
    user: CurrentUser,
    thumbnail: bool = False,
) -> StreamingResponse:
    """The stored bytes (``?thumbnail=1``: the small JPEG of a photo); PDFs as a download."""
    state = _visible_case(container, case_id, user)
    found = next((a for a in state.attachments if a.attachment_id == attachment_id), None)
    if found is None:
        raise Problem(404, f"case {state.case_no} has no attachment {attachment_id!r}")
    if found.erased_at is not None:
        raise Problem(
            410,
            f"attachment {attachment_id} of case {state.case_no} was erased on "
            f"{found.erased_at:%Y-%m-%d} at the reporter's request (privacy erase); its record "
            "and sha256 stay in the case history, the file is gone for good",
            code="attachment_erased",
        )
    try:
        chunks = container.media_store.open(found.sha256, thumbnail=thumbnail)
    except MediaNotFound:
        what = "thumbnail" if thumbnail else "file"
        raise Problem(404, f"the {what} of attachment {attachment_id} is not stored") from None
    media_type = THUMBNAIL_MEDIA_TYPE if thumbnail else found.media_type
    headers = {"X-Content-Type-Options": "nosniff"}
    if media_type == "application/pdf":
        headers["Content-Disposition"] = f'attachment; filename="{attachment_id}.pdf"'
    return StreamingResponse(chunks, media_type=media_type, headers=headers)
