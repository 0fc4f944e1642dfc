"""Photos made safe to keep: decoded within a pixel budget, re-encoded without EXIF.

A phone photo carries where it was taken (EXIF GPS) and the device that took it; a complaint
photo may be shown to a department or published, so by default neither is stored. The location
is handed back to the caller, who may keep it as the case's coordinates. Orientation is applied
to the pixels before the tags are dropped, so the photo stays the right way up.

A few kilobytes can declare a billion pixels (a decompression bomb): the declared size is
checked before any pixel is decoded, and Pillow's own bomb guard is turned into a refusal.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Final, SupportsFloat, cast

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from dispatch.media.errors import MediaRefused
from dispatch.media.heic import heic_available
from dispatch.media.inspection import HEIC, JPEG, PNG, WEBP, MediaKind

DEFAULT_MAX_PIXELS: Final = 40_000_000
THUMBNAIL_SIDE: Final = 320
THUMBNAIL_MEDIA_TYPE: Final = "image/jpeg"

_PILLOW_FORMAT: Final = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP", HEIC: "HEIF"}
# Pixel data and colour, nothing about the device or the place: what survives re-encoding.
_KEPT_INFO: Final = ("icc_profile", "transparency")
_DECODE_ERRORS: Final = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError)


@dataclass(frozen=True)
class GeoPoint:
    """Where a photo says it was taken, in degrees as the EXIF has them (normally WGS-84)."""

    lat: float
    lon: float


@dataclass(frozen=True)
class CleanImage:
    """A photo ready to store: its bytes, their type, the GPS it carried and a thumbnail."""

    data: bytes
    media_type: str
    width: int
    height: int
    gps: GeoPoint | None
    thumbnail: bytes


def clean_image(
    data: bytes,
    kind: MediaKind,
    *,
    keep_metadata: bool = False,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    filename: str | None = None,
) -> CleanImage:
    """Decode, read GPS, re-encode without metadata (unless kept) and make a thumbnail.

    HEIC is stored as JPEG either way, because browsers cannot show HEIC. With
    ``keep_metadata`` the other types are stored byte for byte as uploaded.
    """
    image = _decode(data, kind, max_pixels=max_pixels, filename=filename)
    gps = gps_of(image)
    upright = ImageOps.exif_transpose(image)
    if keep_metadata and kind is not HEIC:
        stored, media_type = data, kind.media_type
    elif keep_metadata:
        stored = _encode(upright, JPEG, exif=upright.info.get("exif"))
        media_type = JPEG.media_type
    else:
        upright.info = {key: upright.info[key] for key in _KEPT_INFO if key in upright.info}
        target = JPEG if kind is HEIC else kind
        stored, media_type = _encode(upright, target), target.media_type
    return CleanImage(
        data=stored,
        media_type=media_type,
        width=upright.width,
        height=upright.height,
        gps=gps,
        thumbnail=thumbnail_of(upright),
    )


def gps_of(image: Image.Image) -> GeoPoint | None:
    """The EXIF GPS position, or None when absent, malformed or outside the globe."""
    try:
        tags = image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        lat = _degrees(tags[ExifTags.GPS.GPSLatitude], tags.get(ExifTags.GPS.GPSLatitudeRef))
        lon = _degrees(tags[ExifTags.GPS.GPSLongitude], tags.get(ExifTags.GPS.GPSLongitudeRef))
    except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return GeoPoint(lat=round(lat, 7), lon=round(lon, 7))


def thumbnail_of(image: Image.Image, *, side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG no larger than ``side`` on either edge, transparency flattened onto white."""
    small = image.copy()
    small.thumbnail((side, side))
    if small.mode in ("RGBA", "LA", "P", "PA"):
        rgba = small.convert("RGBA")
        small = Image.new("RGBA", rgba.size, "white")
        small.alpha_composite(rgba)
    buffer = io.BytesIO()
    small.convert("RGB").save(buffer, format="JPEG", quality=80, optimize=True)
    return buffer.getvalue()


def _decode(data: bytes, kind: MediaKind, *, max_pixels: int, filename: str | None) -> Image.Image:
    if kind is HEIC:
        heic_available()  # registers the opener; inspection refused HEIC if it is missing
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[kind]])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(filename, None, max_pixels) from None
        except _DECODE_ERRORS:
            raise _unreadable(filename, kind) from None
        # The header is read; the pixels are not yet. Refuse before they are.
        if image.width * image.height > max_pixels:
            raise _too_many_pixels(filename, image.size, max_pixels)
        try:
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(filename, image.size, max_pixels) from None
        except _DECODE_ERRORS:
            raise _unreadable(filename, kind) from None
    return image


def _encode(image: Image.Image, kind: MediaKind, *, exif: bytes | None = None) -> bytes:
    if kind is JPEG and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    options: dict[str, object] = {}
    if kind in (JPEG, WEBP):
        options["quality"] = 90
    if exif:
        options["exif"] = exif
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    buffer = io.BytesIO()
    image.save(buffer, format=_PILLOW_FORMAT[kind], **options)
    return buffer.getvalue()


def _degrees(value: tuple[object, ...], ref: object) -> float:
    degrees, minutes, seconds = (float(cast(SupportsFloat, part)) for part in value)
    total = degrees + minutes / 60 + seconds / 3600
    return -total if str(ref).strip().upper() in ("S", "W") else total


def _too_many_pixels(
    filename: str | None, size: tuple[int, int] | None, max_pixels: int
) -> MediaRefused:
    name = filename or "该图片"
    limit = f"{max_pixels / 1_000_000:g}"
    zh_size = f"（{size[0]}×{size[1]} 像素）" if size else ""
    en_size = f" ({size[0]}×{size[1]} pixels)" if size else ""
    return MediaRefused(
        "image_too_large",
        zh=f"“{name}”的尺寸过大{zh_size}，超过 {limit} 百万像素的上限。请缩小图片后重新上传。",
        en=f"{filename or 'The image'}{en_size} has more than {limit} million pixels; "
        "resize it and upload it again.",
    )


def _unreadable(filename: str | None, kind: MediaKind) -> MediaRefused:
    return MediaRefused(
        "unreadable_file",
        zh=f"“{filename or '该文件'}”看起来是 {kind.name} 图片，但无法读取（可能已损坏或不完整）。"
        "请重新导出或重新拍摄后上传。",
        en=f"{filename or 'The file'} looks like a {kind.name} image but cannot be read (it may "
        "be damaged or incomplete); export or take it again and upload it.",
    )
