"""Photos are stored without where they were taken or what took them, and bombs never decode."""

from __future__ import annotations

import io
import time

import pytest
from media_samples import BEIJING, MAKE, MODEL, exif_of, phone_exif, photo, png_declaring
from PIL import ExifTags, Image

from dispatch.media import GeoPoint, MediaRefused, clean_image, heic_available
from dispatch.media.inspection import HEIC, JPEG, PNG, WEBP, MediaKind

KINDS_AND_FORMATS = [(JPEG, "JPEG"), (PNG, "PNG"), (WEBP, "WEBP")]


@pytest.mark.parametrize(("kind", "format"), KINDS_AND_FORMATS)
def test_gps_is_handed_back_and_absent_from_what_is_stored(kind: MediaKind, format: str) -> None:
    upload = photo(format, exif=phone_exif())
    assert exif_of(upload).get_ifd(ExifTags.IFD.GPSInfo)  # the sample really carries GPS

    clean = clean_image(upload, kind)

    assert clean.gps == GeoPoint(
        lat=pytest.approx(BEIJING[0], abs=1e-3), lon=pytest.approx(BEIJING[1], abs=1e-3)
    )
    assert clean.media_type == kind.media_type
    assert not exif_of(clean.data).get_ifd(ExifTags.IFD.GPSInfo)


@pytest.mark.parametrize(("kind", "format"), KINDS_AND_FORMATS)
def test_the_device_is_absent_from_what_is_stored(kind: MediaKind, format: str) -> None:
    clean = clean_image(photo(format, exif=phone_exif()), kind)
    assert len(exif_of(clean.data)) == 0
    assert MAKE.encode() not in clean.data and MODEL.encode() not in clean.data


def test_southern_and_western_positions_are_negative() -> None:
    exif = phone_exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "S",
        ExifTags.GPS.GPSLatitude: (33.0, 52.0, 0.0),
        ExifTags.GPS.GPSLongitudeRef: "W",
        ExifTags.GPS.GPSLongitude: (70.0, 30.0, 0.0),
    }
    gps = clean_image(photo(exif=exif), JPEG).gps
    assert gps is not None and gps.lat < 0 and gps.lon < 0


def test_a_photo_without_gps_has_no_position() -> None:
    assert clean_image(photo(exif=phone_exif(gps=False)), JPEG).gps is None
    assert clean_image(photo(), JPEG).gps is None


def test_a_malformed_gps_tag_is_no_position_rather_than_an_error() -> None:
    exif = phone_exif()
    exif[ExifTags.IFD.GPSInfo] = {ExifTags.GPS.GPSLatitude: (1.0,), ExifTags.GPS.GPSLongitude: 5}
    assert clean_image(photo(exif=exif), JPEG).gps is None


def test_orientation_is_applied_to_the_pixels_before_the_tags_go() -> None:
    # Orientation 6: the camera was turned; a viewer must rotate 90° to show it upright.
    clean = clean_image(photo(size=(64, 48), exif=phone_exif(orientation=6)), JPEG)
    stored = Image.open(io.BytesIO(clean.data))
    assert stored.size == (48, 64) == (clean.width, clean.height)
    assert ExifTags.Base.Orientation not in stored.getexif()


def test_staff_may_keep_the_metadata_byte_for_byte() -> None:
    upload = photo(exif=phone_exif())
    clean = clean_image(upload, JPEG, keep_metadata=True)
    assert clean.data == upload
    assert clean.gps is not None


def test_transparency_survives_re_encoding() -> None:
    clean = clean_image(photo("PNG", mode="RGBA"), PNG)
    assert Image.open(io.BytesIO(clean.data)).mode == "RGBA"


def test_a_thumbnail_is_a_small_jpeg_the_right_way_up() -> None:
    clean = clean_image(photo(size=(1600, 1200), exif=phone_exif(orientation=6)), JPEG)
    thumbnail = Image.open(io.BytesIO(clean.thumbnail))
    assert thumbnail.format == "JPEG"
    assert thumbnail.size == (240, 320)
    assert len(thumbnail.getexif()) == 0


def test_a_transparent_png_has_a_thumbnail_too() -> None:
    thumbnail = Image.open(io.BytesIO(clean_image(photo("PNG", mode="RGBA"), PNG).thumbnail))
    assert (thumbnail.format, thumbnail.mode) == ("JPEG", "RGB")


def test_a_decompression_bomb_is_refused_quickly() -> None:
    bomb = png_declaring(30_000, 30_000)  # 900 megapixels in under a hundred bytes
    assert len(bomb) < 200
    started = time.perf_counter()
    with pytest.raises(MediaRefused) as raised:
        clean_image(bomb, PNG)
    assert time.perf_counter() - started < 1.0
    assert (raised.value.code, raised.value.status) == ("image_too_large", 413)


def test_an_image_over_the_pixel_limit_is_refused_before_its_pixels_are_decoded() -> None:
    # 49 megapixels: under Pillow's own guard, over ours; the IDAT is far too short to decode,
    # so a refusal other than image_too_large would mean decoding was attempted.
    with pytest.raises(MediaRefused) as raised:
        clean_image(png_declaring(7_000, 7_000), PNG)
    assert raised.value.code == "image_too_large"
    assert "7000×7000" in raised.value.message_zh


def test_the_pixel_limit_is_the_callers_to_choose() -> None:
    with pytest.raises(MediaRefused, match="million pixels"):
        clean_image(photo(size=(200, 100)), JPEG, max_pixels=10_000)


def test_a_damaged_photo_is_refused_as_unreadable() -> None:
    truncated = photo(size=(400, 300))[:300]
    with pytest.raises(MediaRefused) as raised:
        clean_image(truncated, JPEG, filename="现场.jpg")
    assert (raised.value.code, raised.value.status) == ("unreadable_file", 422)
    assert "现场.jpg" in raised.value.message_zh


@pytest.mark.skipif(not heic_available(), reason="pillow-heif is not installed")
def test_an_iphone_heic_is_stored_as_a_jpeg_without_gps() -> None:
    upload = photo("HEIF", exif=phone_exif())
    clean = clean_image(upload, HEIC)
    assert clean.media_type == "image/jpeg"
    assert Image.open(io.BytesIO(clean.data)).format == "JPEG"
    assert clean.gps is not None
    assert len(exif_of(clean.data)) == 0


@pytest.mark.skipif(not heic_available(), reason="pillow-heif is not installed")
def test_a_kept_heic_is_a_jpeg_that_keeps_its_gps() -> None:
    clean = clean_image(photo("HEIF", exif=phone_exif()), HEIC, keep_metadata=True)
    assert clean.media_type == "image/jpeg"
    assert exif_of(clean.data).get_ifd(ExifTags.IFD.GPSInfo)
