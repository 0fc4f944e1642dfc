"""HEIC, the format iPhones save photos in, read through pillow-heif when it is installed.

pillow-heif is a maintained binding of libheif shipped as wheels; without it HEIC uploads are
refused as unsupported and the message tells the user how to send a JPEG instead.
"""

from __future__ import annotations

from functools import cache


@cache
def heic_available() -> bool:
    """Register the HEIC opener with Pillow once; False when pillow-heif is not installed."""
    try:
        import pillow_heif  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True
