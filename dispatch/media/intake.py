"""One upload, judged and cleaned in one call: what the HTTP layer does before storing.

    accepted = accept_upload(body, filename=..., declared_type=..., max_bytes=limit)
    stored = store.put(accepted.data, accepted.media_type)
    if accepted.thumbnail: store.put_thumbnail(stored.sha256, accepted.thumbnail)
    ... append AttachmentAdded(sha256=stored.sha256, ...)

Every refusal is a MediaRefused raised before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.media.images import DEFAULT_MAX_PIXELS, GeoPoint, clean_image
from dispatch.media.inspection import check_file_name, inspect_upload
from dispatch.media.storage import sha256_of


@dataclass(frozen=True)
class Accepted:
    """An upload fit to store.

    ``data`` is what to store (re-encoded without metadata unless kept); ``sha256`` is its
    address; ``gps`` is where the original photo said it was taken, never in ``data`` unless
    metadata was kept on purpose; ``thumbnail`` is a small JPEG, None for documents.
    """

    data: bytes
    media_type: str
    sha256: str
    filename: str | None
    gps: GeoPoint | None
    thumbnail: bytes | None
    original_size: int
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> int:
        return len(self.data)


def accept_upload(
    data: bytes,
    *,
    filename: str | None,
    declared_type: str | None,
    max_bytes: int,
    keep_metadata: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Accepted:
    """Judge the type from the content, refuse what should not be stored, strip photos."""
    kind = inspect_upload(data, filename=filename, declared_type=declared_type, max_bytes=max_bytes)
    name = check_file_name(filename)
    if not kind.is_image:
        # PDFs are kept as they are: they are documents, and re-writing one changes what it says.
        return Accepted(
            data=data,
            media_type=kind.media_type,
            sha256=sha256_of(data),
            filename=name,
            gps=None,
            thumbnail=None,
            original_size=len(data),
        )
    image = clean_image(
        data, kind, keep_metadata=keep_metadata, max_pixels=max_pixels, filename=name
    )
    return Accepted(
        data=image.data,
        media_type=image.media_type,
        sha256=sha256_of(image.data),
        filename=name,
        gps=image.gps,
        thumbnail=image.thumbnail,
        width=image.width,
        height=image.height,
        original_size=len(data),
    )
