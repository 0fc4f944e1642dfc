"""One call judges and cleans an upload; what it returns is what to store."""

from __future__ import annotations

import hashlib

import pytest
from media_samples import ELF, PDF, exif_of, phone_exif, photo
from PIL import ExifTags

from dispatch.media import MediaRefused, accept_upload, heic_available

TEN_MB = 10 * 1024 * 1024


def test_a_photo_is_accepted_stripped_with_its_position_and_thumbnail() -> None:
    upload = photo(exif=phone_exif())
    accepted = accept_upload(
        upload, filename="现场.jpg", declared_type="image/jpeg", max_bytes=TEN_MB
    )
    assert accepted.media_type == "image/jpeg"
    assert accepted.sha256 == hashlib.sha256(accepted.data).hexdigest()
    assert accepted.size == len(accepted.data) and accepted.original_size == len(upload)
    assert accepted.gps is not None and accepted.thumbnail is not None
    assert accepted.filename == "现场.jpg"
    assert not exif_of(accepted.data).get_ifd(ExifTags.IFD.GPSInfo)


def test_a_pdf_is_kept_as_it_is_without_a_thumbnail() -> None:
    accepted = accept_upload(PDF, filename="回复函.pdf", declared_type=None, max_bytes=TEN_MB)
    assert (accepted.data, accepted.media_type) == (PDF, "application/pdf")
    assert accepted.thumbnail is None and accepted.gps is None


def test_keeping_metadata_is_the_callers_choice() -> None:
    upload = photo(exif=phone_exif())
    accepted = accept_upload(
        upload, filename=None, declared_type=None, max_bytes=TEN_MB, keep_metadata=True
    )
    assert accepted.data == upload


def test_the_same_photo_twice_has_the_same_address() -> None:
    upload = photo(exif=phone_exif())
    first = accept_upload(upload, filename="a.jpg", declared_type=None, max_bytes=TEN_MB)
    second = accept_upload(upload, filename="b.jpg", declared_type=None, max_bytes=TEN_MB)
    assert first.sha256 == second.sha256


@pytest.mark.parametrize(
    ("data", "filename", "code"),
    [
        (ELF, "photo.jpg", "type_mismatch"),
        (b"", "a.jpg", "empty_file"),
        (photo(), "../../etc/passwd", "bad_file_name"),
    ],
)
def test_every_refusal_comes_from_the_one_call(data: bytes, filename: str, code: str) -> None:
    with pytest.raises(MediaRefused) as raised:
        accept_upload(data, filename=filename, declared_type=None, max_bytes=TEN_MB)
    assert raised.value.code == code


@pytest.mark.skipif(not heic_available(), reason="pillow-heif is not installed")
def test_an_iphone_photo_is_accepted_as_a_jpeg() -> None:
    accepted = accept_upload(
        photo("HEIF", exif=phone_exif()),
        filename="IMG_1234.HEIC",
        declared_type="image/heic",
        max_bytes=TEN_MB,
    )
    assert accepted.media_type == "image/jpeg" and accepted.gps is not None
