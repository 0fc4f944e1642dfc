"""Where stored files live: a small interface, content-addressed by the sha256 of the bytes.

The address of a file is the sha256 of the bytes as stored (after stripping), the same hash the
``AttachmentAdded`` event carries in the hash chain; so storing is idempotent, a file can be
checked against the log by hashing it, and no path ever comes from a client. A thumbnail lives
beside its original under the original's sha256 and goes when the original goes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from dispatch.media.errors import MediaNotFound

CHUNK_SIZE: Final = 64 * 1024
THUMBNAIL_SUFFIX: Final = ".thumb"
_SHA256: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str


class MediaStore(Protocol):
    """What the API, verify and privacy erase need from a store of files."""

    def put(self, data: bytes, media_type: str) -> StoredFile:
        """Store the bytes under their sha256; storing the same bytes again changes nothing."""
        ...

    def put_thumbnail(self, sha256: str, data: bytes) -> None:
        """Store the thumbnail (a JPEG) of the stored file ``sha256``."""
        ...

    def open(
        self, sha256: str, *, thumbnail: bool = False, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        """The bytes in chunks, for streaming; MediaNotFound at once if there is no such file."""
        ...

    def read(self, sha256: str, *, thumbnail: bool = False) -> bytes: ...

    def exists(self, sha256: str, *, thumbnail: bool = False) -> bool: ...

    def delete(self, sha256: str) -> bool:
        """Remove the file and its thumbnail; True if the file was there."""
        ...

    def iter_all(self) -> Iterator[str]:
        """The sha256 of every stored file (thumbnails excluded), in sorted order."""
        ...


class FileState(StrEnum):
    OK = "ok"
    CHANGED = "changed"
    MISSING = "missing"


def file_state(store: MediaStore, sha256: str) -> FileState:
    """Whether the stored bytes still hash to their address, for ``dispatch verify``."""
    digest = hashlib.sha256()
    try:
        for chunk in store.open(sha256):
            digest.update(chunk)
    except MediaNotFound:
        return FileState.MISSING
    return FileState.OK if digest.hexdigest() == sha256 else FileState.CHANGED


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checked_sha256(sha256: str) -> str:
    """The address itself, refused unless it is 64 lowercase hex digits: keys derive from it."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError(f"a media address is 64 lowercase hex digits, not {sha256!r}")
    return sha256


def fan_out_key(sha256: str, *, thumbnail: bool = False) -> str:
    """``ab/cd/abcd…`` (``….thumb`` for the thumbnail): a few hundred entries per folder."""
    sha256 = checked_sha256(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}{THUMBNAIL_SUFFIX if thumbnail else ''}"


def sha256_of_key(key: str) -> str | None:
    """The sha256 a key from ``fan_out_key`` stores, or None for anything else (thumbnails,
    temporary files, strays)."""
    parts = key.split("/")
    if len(parts) != 3 or not _SHA256.fullmatch(parts[2]):
        return None
    sha256 = parts[2]
    return sha256 if parts[:2] == [sha256[:2], sha256[2:4]] else None
