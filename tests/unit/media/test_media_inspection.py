"""An upload's type comes from its bytes; names and declared types may only agree with them."""

from __future__ import annotations

import pytest
from media_samples import ELF, GIF, PDF, photo

from dispatch.media import MediaRefused, check_file_name, inspect_upload, kind_of
from dispatch.media.inspection import JPEG, PNG, WEBP
from dispatch.media.inspection import PDF as PDF_KIND

TEN_MB = 10 * 1024 * 1024


def refusal(data: bytes, filename: str | None = None, declared: str | None = None) -> MediaRefused:
    with pytest.raises(MediaRefused) as raised:
        inspect_upload(data, filename=filename, declared_type=declared, max_bytes=TEN_MB)
    return raised.value


@pytest.mark.parametrize(
    ("data", "kind"),
    [(photo("JPEG"), JPEG), (photo("PNG"), PNG), (photo("WEBP"), WEBP), (PDF, PDF_KIND)],
)
def test_each_accepted_type_is_judged_from_its_bytes(data: bytes, kind: object) -> None:
    assert kind_of(data) is kind
    assert inspect_upload(data, filename=None, declared_type=None, max_bytes=TEN_MB) is kind


def test_a_label_that_agrees_with_the_content_is_accepted() -> None:
    kind = inspect_upload(
        photo("JPEG"), filename="IMG_0001.JPG", declared_type="image/jpg", max_bytes=TEN_MB
    )
    assert kind is JPEG


@pytest.mark.parametrize("declared", ["application/octet-stream", "", None])
def test_a_browser_that_does_not_know_the_type_makes_no_claim(declared: str | None) -> None:
    kind = inspect_upload(PDF, filename="证明.pdf", declared_type=declared, max_bytes=TEN_MB)
    assert kind is PDF_KIND


def test_an_extension_nobody_knows_makes_no_claim() -> None:
    assert inspect_upload(photo(), filename="scan.2024", declared_type=None, max_bytes=TEN_MB)


def test_an_executable_named_jpg_is_refused_as_mislabelled() -> None:
    refused = refusal(ELF, "photo.jpg", "image/jpeg")
    assert (refused.code, refused.status) == ("type_mismatch", 422)
    assert "photo.jpg" in refused.message_zh and "JPEG" in refused.message_en


def test_a_pdf_named_jpg_is_refused_as_mislabelled() -> None:
    refused = refusal(PDF, "photo.jpg")
    assert refused.code == "type_mismatch"
    assert "PDF" in refused.message_en


def test_a_jpeg_declared_as_pdf_is_refused_as_mislabelled() -> None:
    assert refusal(photo(), "photo", "application/pdf").code == "type_mismatch"


def test_a_jpeg_named_exe_is_refused_as_mislabelled() -> None:
    assert refusal(photo(), "photo.exe").code == "type_mismatch"


def test_a_jpeg_declared_as_html_is_refused_as_mislabelled() -> None:
    assert refusal(photo(), "photo.jpg", "text/html").code == "type_mismatch"


@pytest.mark.parametrize(("data", "name"), [(ELF, "tool"), (GIF, "funny.gif"), (b"hello", None)])
def test_content_of_another_type_is_unsupported(data: bytes, name: str | None) -> None:
    refused = refusal(data, name)
    assert (refused.code, refused.status) == ("unsupported_type", 415)
    assert "JPEG" in refused.message_zh


def test_a_zero_byte_file_is_refused() -> None:
    refused = refusal(b"", "photo.jpg", "image/jpeg")
    assert (refused.code, refused.status) == ("empty_file", 422)
    assert "0 字节" in refused.message_zh


def test_a_50_mb_file_is_refused_against_a_10_mb_limit() -> None:
    refused = refusal(photo() + bytes(50 * 1024 * 1024), "big.jpg")
    assert (refused.code, refused.status) == ("file_too_large", 413)
    assert "10 MB" in refused.message_zh and "50.0 MB" in refused.message_en


def test_a_file_of_exactly_the_limit_is_accepted() -> None:
    data = photo()
    assert inspect_upload(data, filename=None, declared_type=None, max_bytes=len(data))


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "cases/photo.jpg",
        "/etc/passwd",
        "..",
        "photo\x00.jpg",
        "a\nb.jpg",
        "x" * 256 + ".jpg",
    ],
)
def test_a_name_with_a_path_or_controls_is_refused(name: str) -> None:
    refused = refusal(photo(), name)
    assert (refused.code, refused.status) == ("bad_file_name", 422)
    assert "/" in refused.message_en and ".." in refused.message_zh


def test_the_name_is_checked_before_the_content() -> None:
    assert refusal(b"", "../../etc/passwd").code == "bad_file_name"


def test_a_name_is_cleaned_for_display() -> None:
    assert check_file_name("  现场照片.jpg ") == "现场照片.jpg"
    assert check_file_name("e\u0301.jpg") == "\u00e9.jpg"
    assert check_file_name("   ") is None
    assert check_file_name(None) is None


def test_refusals_speak_chinese_by_default_and_english_when_asked() -> None:
    refused = refusal(b"", "photo.jpg")
    assert refused.message() == refused.message_zh
    assert refused.message("en-GB") == refused.message_en
    assert refused.message("zh-CN,zh;q=0.9") == refused.message_zh


def test_a_refusal_code_must_be_known() -> None:
    with pytest.raises(ValueError, match="unknown refusal code"):
        MediaRefused("nope", zh="", en="")
