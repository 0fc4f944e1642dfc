"""One uploaded file, judged, stripped and stored: what the API, the console and Open311 share.

``store_upload`` refuses (``MediaRefused``) before anything is written, stores the cleaned
bytes and thumbnail by sha256, and returns the ``AddAttachment`` to record. The caller records
it, on an existing case (``handle``) or with a new one (``Complaint.attachments``); if that
fails, the stored file is a stray until ``dispatch verify --remove-strays`` (content-addressed
files are never deleted on the spot: another attachment may name the same bytes).

A photo's EXIF position is never stored in the file. Staff who ask to keep it
(``keep_location``) get it in the attachment's ``location`` instead.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from dispatch.domain.commands import AddAttachment
from dispatch.domain.events import AttachmentStage, Location
from dispatch.media import GeoPoint, MediaStore, accept_upload

# Who may keep where a photo was taken: the centre's own staff, not a department or a citizen.
LOCATION_KEEPERS = frozenset({"operator", "dispatcher"})


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: bytes (read up to the limit plus one), the client's name and type."""

    data: bytes
    filename: str | None
    declared_type: str | None


@dataclass(frozen=True)
class StoredUpload:
    command: AddAttachment
    gps: GeoPoint | None  # what the original said, whether kept or not


def new_attachment_id() -> str:
    return "att_" + uuid.uuid4().hex[:16]


def store_upload(
    store: MediaStore,
    upload: Upload,
    *,
    max_bytes: int,
    stage: AttachmentStage,
    by: str,
    task_id: str | None = None,
    keep_location: bool = False,
) -> StoredUpload:
    """Judge, store and describe one file; ``MediaRefused`` with nothing stored if unfit."""
    accepted = accept_upload(
        upload.data,
        filename=upload.filename,
        declared_type=upload.declared_type,
        max_bytes=max_bytes,
    )
    stored = store.put(accepted.data, accepted.media_type)
    if accepted.thumbnail is not None:
        store.put_thumbnail(stored.sha256, accepted.thumbnail)
    gps = accepted.gps
    command = AddAttachment(
        attachment_id=new_attachment_id(),
        sha256=stored.sha256,
        size=stored.size,
        media_type=accepted.media_type,
        stage=stage,
        task_id=task_id,
        filename=accepted.filename,
        by=by,
        location=Location(lat=gps.lat, lon=gps.lon) if keep_location and gps else None,
    )
    return StoredUpload(command=command, gps=gps)
