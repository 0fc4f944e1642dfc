"""Photos on the console's case page (随手拍 · 影像证明): thumbnails and full images, streamed
from the media store to whoever may see the case, with the type recorded in the event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse

from dispatch.auth.users import User
from dispatch.console.i18n import N_
from dispatch.console.web import ConsoleError, container_of, require
from dispatch.domain.case import Attachment, CaseState
from dispatch.handlers import CaseNotFound
from dispatch.handlers.executor import load_case
from dispatch.media import THUMBNAIL_MEDIA_TYPE, MediaNotFound
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
