"""Photos on the console's case page (随手拍 · 影像证明): thumbnails and full images, streamed
from the media store to whoever may see the case, with the type recorded in the event; and the
liaison's after-photos, sent with the reply form."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response, StreamingResponse

from dispatch.auth.users import User
from dispatch.console.forms import perform
from dispatch.console.i18n import N_
from dispatch.console.web import ConsoleError, container_of, language_of, require, session_of
from dispatch.domain.case import Attachment, CaseState
from dispatch.domain.ids import case_id_of
from dispatch.handlers import CaseNotFound, Issuer
from dispatch.handlers.executor import load_case
from dispatch.handlers.uploads import Upload, store_upload
from dispatch.media import THUMBNAIL_MEDIA_TYPE, MediaNotFound, MediaRefused, upload_limit_bytes
from dispatch.queries.scope import can_view_case

router = APIRouter()

VIEW_ROLES = ("operator", "dispatcher", "supervisor", "liaison", "street", "admin")


def photo_columns(state: CaseState) -> dict[str, list[Attachment]]:
    """Before (intake) and after (reply) side by side; progress photos between them."""
    columns: dict[str, list[Attachment]] = {"intake": [], "progress": [], "reply": []}
    for attachment in state.attachments:
        columns.setdefault(attachment.stage, []).append(attachment)
    return columns


def _visible_state(request: Request, case_id: str, user: User) -> CaseState:
    try:
        state, _version = load_case(container_of(request).store, case_id[:64])
    except CaseNotFound:
        raise ConsoleError(404, N_("No such case.")) from None
    seen: dict[str, Any] = {
        "tasks": [{"department": t.department} for t in state.tasks.values()],
        "location": {"street": state.location.street, "grid": state.location.grid},
    }
    if not can_view_case(seen, user):
        raise ConsoleError(403, N_("This case is outside your department's or street's scope."))
    return state


@router.get("/cases/{case_id}/photos/{attachment_id}")
def photo(
    request: Request,
    case_id: str,
    attachment_id: str,
    thumbnail: int = 0,
    user: User = Depends(require(*VIEW_ROLES)),
) -> Response:
    state = _visible_state(request, case_id, user)
    found = next((a for a in state.attachments if a.attachment_id == attachment_id), None)
    if found is None:
        raise ConsoleError(404, N_("No such photo on this case."))
    if found.erased_at is not None:
        raise ConsoleError(410, N_("This photo was erased at the reporter's request."))
    try:
        chunks = container_of(request).media_store.open(found.sha256, thumbnail=bool(thumbnail))
    except MediaNotFound:
        raise ConsoleError(404, N_("The file of this photo is not stored.")) from None
    media_type = THUMBNAIL_MEDIA_TYPE if thumbnail else found.media_type
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    if media_type == "application/pdf":
        headers["Content-Disposition"] = f'attachment; filename="{attachment_id}.pdf"'
    return StreamingResponse(chunks, media_type=media_type, headers=headers)


def add_reply_photos(
    request: Request, user: User, task_id: str, form: FormData, issuer: Issuer
) -> bool:
    """The reply form's photos, judged, stored and recorded as ``reply`` attachments of the
    liaison's own task before the reply is sent, so that a category with
    ``reply_requires_photo`` is replied in one go. False (the reason flashed, the reply not to
    be sent) when a photo is refused; photos recorded before a later refusal stay on the case
    as evidence."""
    files = [f for f in form.getlist("photos") if isinstance(f, UploadFile) and f.filename]
    if not files:
        return True
    container = container_of(request)
    case_id = case_id_of(task_id[:80])
    try:
        state, _version = load_case(container.store, case_id)
    except CaseNotFound:
        raise ConsoleError(404, N_("No such case or task.")) from None
    task = state.tasks.get(task_id)
    if task is None:
        raise ConsoleError(404, N_("No such case or task."))
    if not user.is_liaison_of(task.department):
        raise ConsoleError(403, N_("This is not yours to act on."))
    limit = upload_limit_bytes(container.settings)
    try:
        stored = [
            store_upload(
                container.media_store,
                Upload(f.file.read(limit + 1), f.filename, f.content_type),
                max_bytes=limit,
                stage="reply",
                by=user.username,
                task_id=task_id,
            )
            for f in files
        ]
    except MediaRefused as refused:
        session_of(request).flash("error", refused.message(language_of(request)))
        return False
    for number, upload in enumerate(stored):
        # One command id per photo, derived from the form's: a double-clicked reply adds each once.
        command_id = f"{issuer.command_id}:photo{number}" if issuer.command_id else None
        one = replace(issuer, command_id=command_id)
        record = partial(container.handle, case_id, upload.command, one)
        if perform(request, record, done=None) is None:
            return False
    return True
