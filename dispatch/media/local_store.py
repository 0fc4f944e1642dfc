"""Files in a local folder (``DISPATCH_MEDIA_DIR``), the default store."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from dispatch.media.errors import MediaNotFound
from dispatch.media.storage import (
    CHUNK_SIZE,
    StoredFile,
    checked_sha256,
    fan_out_key,
    sha256_of,
    sha256_of_key,
)


class LocalMediaStore:
    """``root/ab/cd/<sha256>``; every path is derived from a checked hex digest only."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def put(self, data: bytes, media_type: str) -> StoredFile:
        sha256 = sha256_of(data)
        path = self._path(sha256)
        # Same name, same bytes: a file already there is only rewritten if it was damaged.
        if not (path.is_file() and sha256_of(path.read_bytes()) == sha256):
            self._write(path, data)
        return StoredFile(sha256=sha256, size=len(data), media_type=media_type)

    def put_thumbnail(self, sha256: str, data: bytes) -> None:
        self._write(self._path(sha256, thumbnail=True), data)

    def open(
        self, sha256: str, *, thumbnail: bool = False, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        try:
            handle = self._path(sha256, thumbnail=thumbnail).open("rb")
        except FileNotFoundError:
            raise MediaNotFound(sha256) from None
        return _chunks(handle, chunk_size)

    def read(self, sha256: str, *, thumbnail: bool = False) -> bytes:
        try:
            return self._path(sha256, thumbnail=thumbnail).read_bytes()
        except FileNotFoundError:
            raise MediaNotFound(sha256) from None

    def exists(self, sha256: str, *, thumbnail: bool = False) -> bool:
        return self._path(sha256, thumbnail=thumbnail).is_file()

    def delete(self, sha256: str) -> bool:
        self._path(sha256, thumbnail=True).unlink(missing_ok=True)
        try:
            self._path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_all(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in sorted(self.root.glob("*/*/*")):
            sha256 = sha256_of_key(path.relative_to(self.root).as_posix())
            if sha256 is not None and path.is_file():
                yield sha256

    def _path(self, sha256: str, *, thumbnail: bool = False) -> Path:
        return self.root / fan_out_key(checked_sha256(sha256), thumbnail=thumbnail)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        """Whole or not at all: a reader never sees half a file, even after a crash."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise


def _chunks(handle: BinaryIO, chunk_size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(chunk_size):
            yield chunk
