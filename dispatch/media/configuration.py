"""The store and the upload limit an installation's settings ask for."""

from __future__ import annotations

from typing import Protocol

from dispatch.media.local_store import LocalMediaStore
from dispatch.media.s3_store import S3MediaStore
from dispatch.media.storage import MediaStore


class MediaSettings(Protocol):
    """The fields of ``dispatch.settings.Settings`` this package reads (tests pass anything
    shaped like it)."""

    media_dir: str
    max_upload_mb: int
    media_s3_bucket: str | None
    media_s3_endpoint: str | None
    media_s3_region: str | None
    media_s3_access_key: str | None
    media_s3_secret_key: str | None


def media_store_from_settings(settings: MediaSettings) -> MediaStore:
    """An S3 store when ``DISPATCH_MEDIA_S3_BUCKET`` is set, else ``DISPATCH_MEDIA_DIR``."""
    if settings.media_s3_bucket:
        return S3MediaStore.connect(
            settings.media_s3_bucket,
            endpoint_url=settings.media_s3_endpoint,
            access_key=settings.media_s3_access_key,
            secret_key=settings.media_s3_secret_key,
            region=settings.media_s3_region,
        )
    return LocalMediaStore(settings.media_dir)


def upload_limit_bytes(settings: MediaSettings) -> int:
    """``DISPATCH_MAX_UPLOAD_MB`` in bytes (MiB, as a phone or a file manager counts them)."""
    return settings.max_upload_mb * 1024 * 1024
