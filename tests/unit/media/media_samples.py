"""Files to upload, made in memory: photos with and without EXIF, bombs, impostors."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import ExifTags, Image

# Tian'anmen, as a phone writes it: degrees, minutes, seconds.
BEIJING_GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (39.0, 54.0, 15.12),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (116.0, 23.0, 51.0),
}
BEIJING = (39.9042, 116.3975)
MAKE, MODEL = "Xiaomi", "Redmi Note 12 Turbo"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


def phone_exif(*, gps: bool = True, orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif[ExifTags.IFD.GPSInfo] = dict(BEIJING_GPS)
    return exif


def photo(
    format: str = "JPEG",
    *,
    size: tuple[int, int] = (64, 48),
    mode: str = "RGB",
    exif: Image.Exif | None = None,
) -> bytes:
    image = Image.new(mode, size, "red" if mode != "RGBA" else (255, 0, 0, 128))
    buffer = io.BytesIO()
    options = {"exif": exif.tobytes()} if exif is not None else {}
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG signature and header claiming ``width``×``height``, with one tiny IDAT: a
    few dozen bytes that would decode to gigabytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def exif_of(data: bytes) -> Image.Exif:
    return Image.open(io.BytesIO(data)).getexif()
