"""Photos and evidence (随手拍 · 影像证明): judging, cleaning and storing uploaded files.

DESIGN §8.6. The HTTP layer reads the body (stopping at the limit), then::

    store = media_store_from_settings(settings)
    try:
        accepted = accept_upload(body, filename=upload.filename,
                                 declared_type=upload.content_type,
                                 max_bytes=upload_limit_bytes(settings))
    except MediaRefused as refused:
        ... problem+json: refused.status, refused.code, refused.message(language)
    stored = store.put(accepted.data, accepted.media_type)      # idempotent, by sha256
    if accepted.thumbnail is not None:
        store.put_thumbnail(stored.sha256, accepted.thumbnail)
    ... append AttachmentAdded(sha256=stored.sha256, size=stored.size, ...)

``accept_upload`` decodes and re-encodes photos (about 0.3 s for 12 megapixels): call it from a
worker thread (``run_in_threadpool``), not on the event loop.

Reads stream ``store.open(sha256)`` (``thumbnail=True`` for the small JPEG) with the media type
recorded in the event, never a client's name or path. ``dispatch verify`` calls
``file_state(store, sha256)`` for every attachment and may list strays with ``iter_all()``;
privacy erase calls ``store.delete(sha256)`` (a file other attachments still name must stay).

Accepted types: JPEG, PNG, WebP, PDF, and HEIC when pillow-heif is installed (stored as JPEG).
Refusal codes: ``empty_file``, ``file_too_large`` (413), ``bad_file_name``, ``unsupported_type``
(415), ``type_mismatch``, ``unreadable_file``, ``image_too_large`` (413); the rest are 422.
"""

from dispatch.media.configuration import (
    MediaSettings,
    media_store_from_settings,
    upload_limit_bytes,
)
from dispatch.media.errors import REFUSAL_STATUS, MediaNotFound, MediaRefused
from dispatch.media.heic import heic_available
from dispatch.media.images import (
    DEFAULT_MAX_PIXELS,
    THUMBNAIL_MEDIA_TYPE,
    THUMBNAIL_SIDE,
    CleanImage,
    GeoPoint,
    clean_image,
)
from dispatch.media.inspection import KINDS, MediaKind, check_file_name, inspect_upload, kind_of
from dispatch.media.intake import Accepted, accept_upload
from dispatch.media.local_store import LocalMediaStore
from dispatch.media.s3_store import S3MediaStore
from dispatch.media.storage import FileState, MediaStore, StoredFile, file_state, sha256_of

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "KINDS",
    "REFUSAL_STATUS",
    "THUMBNAIL_MEDIA_TYPE",
    "THUMBNAIL_SIDE",
    "Accepted",
    "CleanImage",
    "FileState",
    "GeoPoint",
    "LocalMediaStore",
    "MediaKind",
    "MediaNotFound",
    "MediaRefused",
    "MediaSettings",
    "MediaStore",
    "S3MediaStore",
    "StoredFile",
    "accept_upload",
    "check_file_name",
    "clean_image",
    "file_state",
    "heic_available",
    "inspect_upload",
    "kind_of",
    "media_store_from_settings",
    "sha256_of",
    "upload_limit_bytes",
]
