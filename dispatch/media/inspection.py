"""What an upload is, judged from its bytes; the name and the declared type may only agree.

A client's file name and ``Content-Type`` are claims, not facts: a phone may send any name, and
an attacker may call an executable ``photo.jpg``. The magic bytes decide the type; a label that
names another type is refused as mislabelled, so a user learns their file is not what they
think before it becomes evidence on a case. Names are never used as paths (storage is addressed
by sha256), but a name with separators or ``..`` is refused so no later code is tempted.
"""

from __future__ import annotations

import mimetypes
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Final

from dispatch.media.errors import MediaRefused
from dispatch.media.heic import heic_available


@dataclass(frozen=True)
class MediaKind:
    """One accepted type: its canonical media type, file extensions and other spellings."""

    name: str
    media_type: str
    extensions: frozenset[str]
    aliases: frozenset[str] = frozenset()
    is_image: bool = True

    def answers_to(self, media_type: str) -> bool:
        return media_type == self.media_type or media_type in self.aliases


JPEG: Final = MediaKind(
    "JPEG",
    "image/jpeg",
    frozenset({".jpg", ".jpeg", ".jpe", ".jfif"}),
    frozenset({"image/jpg", "image/pjpeg"}),
)
PNG: Final = MediaKind("PNG", "image/png", frozenset({".png"}), frozenset({"image/x-png"}))
WEBP: Final = MediaKind("WebP", "image/webp", frozenset({".webp"}))
HEIC: Final = MediaKind(
    "HEIC",
    "image/heic",
    frozenset({".heic", ".heif"}),
    frozenset({"image/heif", "image/heic-sequence", "image/heif-sequence"}),
)
PDF: Final = MediaKind(
    "PDF", "application/pdf", frozenset({".pdf"}), frozenset({"application/x-pdf"}), False
)
KINDS: Final = (JPEG, PNG, WEBP, HEIC, PDF)
# Stands for any type we do not accept, named by an extension or a declared type.
_OTHER: Final = MediaKind("another type", "application/x-other", frozenset(), is_image=False)

# Browsers send these when they do not know a file's type: no claim either way.
_NO_CLAIM: Final = frozenset({"", "application/octet-stream", "binary/octet-stream"})
# ISO-BMFF major brands of HEIF still images (an HEVC-coded HEIF is what iPhones write).
_HEIF_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1"})
# Python's built-in table only (no /etc/mime.types), so the verdict is the same on every host.
_BUILTIN_TYPES: Final = mimetypes.MimeTypes()
_MAX_NAME_LENGTH: Final = 255
_MIB: Final = 1024 * 1024


def kind_of(data: bytes) -> MediaKind | None:
    """The accepted type these bytes start like, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"%PDF-"):
        return PDF
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return HEIC
    return None


def check_file_name(filename: str | None) -> str | None:
    """The client's file name, cleaned for display, or None when none was sent.

    Refuses path separators, ``..``, control characters and over-long names.
    """
    if filename is None or not filename.strip():
        return None
    name = unicodedata.normalize("NFC", filename.strip())
    if (
        "/" in name
        or "\\" in name
        or ".." in name
        or len(name) > _MAX_NAME_LENGTH
        or any(unicodedata.category(char) == "Cc" for char in name)
    ):
        raise MediaRefused(
            "bad_file_name",
            zh="文件名不能包含路径（/、\\ 或 ..）或控制字符，且不超过 255 个字符。"
            "请重命名后重新上传。",
            en="A file name may not contain a path (/, \\ or ..) or control characters and may "
            "be at most 255 characters; rename the file and upload it again.",
        )
    return name


def inspect_upload(
    data: bytes, *, filename: str | None, declared_type: str | None, max_bytes: int
) -> MediaKind:
    """The type of an upload, or MediaRefused: bad name, empty, too large, unknown, mislabelled.

    ``max_bytes`` is checked here too, but the HTTP layer should stop reading at the limit
    rather than hold an oversized body in memory first.
    """
    name = check_file_name(filename)
    if not data:
        raise MediaRefused(
            "empty_file",
            zh=f"{_quoted(name)}是空文件（0 字节），请重新选择照片或文件。",
            en=f"{name or 'The file'} is empty (0 bytes); choose the photo or document again.",
        )
    if len(data) > max_bytes:
        raise MediaRefused(
            "file_too_large",
            zh=f"{_quoted(name)}大小为 {_mib(len(data))}，超过上限 {_mib(max_bytes)}。"
            "请压缩或缩小后重新上传。",
            en=f"{name or 'The file'} is {_mib(len(data))}, over the {_mib(max_bytes)} limit; "
            "compress or resize it and upload it again.",
        )
    claims = _claims(name, declared_type)
    kind = kind_of(data)
    if kind is HEIC and not heic_available():
        raise _unsupported(name)
    if kind is None:
        named = next((claim for claim in claims if claim is not _OTHER), None)
        if named is not None:
            raise _mismatch(name, named.name, actual=None)
        raise _unsupported(name)
    for claim in claims:
        if claim is not kind:
            raise _mismatch(name, claim.name, actual=kind.name)
    return kind


def _claims(name: str | None, declared_type: str | None) -> list[MediaKind]:
    """The kinds the extension and the declared type name; ``_OTHER`` for any other type."""
    claims: list[MediaKind] = []
    if name is not None and (suffix := PurePosixPath(name).suffix.lower()):
        by_extension = _kind_named_by_extension(suffix)
        if by_extension is not None:
            claims.append(by_extension)
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _NO_CLAIM:
        claims.append(next((kind for kind in KINDS if kind.answers_to(declared)), _OTHER))
    return claims


def _kind_named_by_extension(suffix: str) -> MediaKind | None:
    for kind in KINDS:
        if suffix in kind.extensions:
            return kind
    guessed, _ = _BUILTIN_TYPES.guess_type(f"x{suffix}", strict=False)
    # An extension nobody knows (``scan.2024``) says nothing; ``.exe`` or ``.html`` does.
    return _OTHER if guessed else None


def _unsupported(name: str | None) -> MediaRefused:
    heic_zh, heic_en = ("、HEIC", ", HEIC") if heic_available() else ("", "")
    return MediaRefused(
        "unsupported_type",
        zh=f"不支持{_quoted(name)}的文件类型。只接受 JPEG、PNG、WebP{heic_zh} 照片和 PDF 文件；"
        "iPhone 照片可在“设置 → 相机 → 格式”中选择“兼容性最佳”。",
        en=f"{name or 'The file'} is not a supported type. Only JPEG, PNG, WebP{heic_en} "
        "photos and PDF documents are accepted; on an iPhone choose Settings → Camera → "
        "Formats → Most Compatible.",
    )


def _mismatch(name: str | None, claimed: str, *, actual: str | None) -> MediaRefused:
    if actual is None:
        zh_actual, en_actual = (
            "内容并不是受支持的照片或 PDF",
            "its content is not a supported photo or PDF",
        )
    else:
        zh_actual, en_actual = f"内容实际是 {actual}", f"its content is {actual}"
    zh_claimed = "其他类型" if claimed == _OTHER.name else claimed
    return MediaRefused(
        "type_mismatch",
        zh=f"{_quoted(name)}的文件名或类型标为{zh_claimed}，但{zh_actual}。请确认选择了正确的文件，"
        "或改正扩展名后重新上传。",
        en=f"{name or 'The file'} is labelled as {claimed} but {en_actual}; check that this is "
        "the right file, or correct its extension, and upload it again.",
    )


def _quoted(name: str | None) -> str:
    return f"文件“{name}”" if name else "该文件"


def _mib(size: int) -> str:
    value = size / _MIB
    return f"{value:.0f} MB" if value == int(value) else f"{value:.1f} MB"
