"""Open311 pictures (DESIGN §8.6): ``media_url`` kept as a link and shown again; a ``media``
file upload judged like any other and recorded with the case, or refused with no case."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from open311_conformance import OPEN311, check_json
from PIL import ExifTags, Image

API = "/api/v1"
POTHOLE = {"service_code": "road.pothole", "address_string": "西一路12号", "description": "大坑"}
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)

pytestmark = pytest.mark.usefixtures("sample_catalogue")


def phone_photo() -> bytes:
    """A JPEG as a phone makes it: with where it was taken."""
    exif = Image.Exif()
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (34.0, 16.0, 12.0),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (108.0, 57.0, 7.0),
    }
    buffer = io.BytesIO()
    colour = tuple(random.randrange(256) for _ in range(3))
    Image.new("RGB", (48, 32), colour).save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def catch_up(client: TestClient) -> None:
    client.app.state.container.projector.catch_up("case_list")  # type: ignore[attr-defined]


def shown(client: TestClient, number: str, fmt: str = "json") -> Any:
    catch_up(client)
    answer = client.get(f"{OPEN311}/requests/{number}.{fmt}")
    assert answer.status_code == 200, answer.text
    return answer


def head(client: TestClient) -> int:
    return client.app.state.container.store.head_position()  # type: ignore[attr-defined]


def test_a_media_url_is_kept_as_a_link_and_shown_again(client: TestClient, api_key: str):
    link = "https://img.example.cn/reports/2026/pothole.jpg?size=large"
    posted = client.post(
        f"{OPEN311}/requests.json", data={"api_key": api_key, **POTHOLE, "media_url": link}
    )
    assert posted.status_code == 201, posted.text
    number = posted.json()[0]["service_request_id"]

    request = shown(client, number).json()[0]

    assert request["media_url"] == link
    check_json("requests", [request])
    assert shown(client, number, "xml").text.count(link.replace("&", "&amp;")) == 1
    catch_up(client)
    listed = client.get(f"{OPEN311}/requests.json", params={"service_request_id": number})
    assert listed.json()[0]["media_url"] == link


@pytest.mark.parametrize(
    "link",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "ftp://example.cn/a.jpg",
        "https://",
        "https://user:secret@example.cn/a.jpg",
        "https://example.cn/a b.jpg",
        "https://example.cn/" + "a" * 2100,
    ],
)
def test_a_media_url_that_is_no_web_link_is_refused_400_and_no_case_is_made(
    client: TestClient, api_key: str, link: str
):
    before = head(client)

    refused = client.post(
        f"{OPEN311}/requests.json", data={"api_key": api_key, **POTHOLE, "media_url": link}
    )

    assert refused.status_code == 400, refused.text
    assert "media_url" in refused.json()[0]["description"]
    assert head(client) == before


def test_a_photo_uploaded_as_media_becomes_an_intake_attachment_of_the_new_case(
    client: TestClient, api_key: str, login
):
    photo = phone_photo()

    posted = client.post(
        f"{OPEN311}/requests.json",
        data={"api_key": api_key, **POTHOLE},
        files={"media": ("IMG_0001.jpg", photo, "image/jpeg")},
    )

    assert posted.status_code == 201, posted.text
    case_id = posted.json()[0]["token"]
    dispatcher = login("dispatcher")
    events = client.get(f"{API}/cases/{case_id}/events", headers=dispatcher).json()["items"]
    assert [e["type"] for e in events[:2]] == ["CaseReceived", "AttachmentAdded"]
    assert events[0]["version"] + 1 == events[1]["version"]
    (attachment,) = client.get(f"{API}/cases/{case_id}/attachments", headers=dispatcher).json()[
        "items"
    ]
    assert attachment["stage"] == "intake"
    assert attachment["filename"] == "IMG_0001.jpg"
    assert attachment["by"].startswith("open311:city-app-")
    assert attachment["location"] is None  # a citizen's upload keeps no position
    served = client.get(f"{API}/cases/{case_id}/attachments/{attachment['id']}", headers=dispatcher)
    assert served.status_code == 200
    assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    # The uploaded photo is not published: only a link the citizen gave would be.
    assert shown(client, posted.json()[0]["service_request_id"]).json()[0]["media_url"] == ""


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("photo.jpg", ELF, "image/jpeg"),
        ("photo.jpg", b"", "image/jpeg"),
        ("photo.jpg", b"\xff\xd8" + b"0" * 1000, "image/jpeg"),
        ("../../etc/passwd", phone_photo(), "image/jpeg"),
    ],
    ids=["executable named .jpg", "zero bytes", "broken jpeg", "path in the name"],
)
def test_a_refused_media_file_is_a_4xx_and_no_case_is_made(
    client: TestClient, api_key: str, name: str, data: bytes, media_type: str
):
    before = head(client)

    refused = client.post(
        f"{OPEN311}/requests.json",
        data={"api_key": api_key, **POTHOLE},
        files={"media": (name, data, media_type)},
    )

    assert 400 <= refused.status_code < 500, refused.text
    assert refused.json()[0]["description"].startswith("media: ")
    assert head(client) == before


def test_a_file_under_another_name_or_a_second_file_is_refused(client: TestClient, api_key: str):
    before = head(client)
    form = {"api_key": api_key, **POTHOLE}

    other = client.post(
        f"{OPEN311}/requests.json",
        data=form,
        files={"picture": ("a.jpg", phone_photo(), "image/jpeg")},
    )
    two = client.post(
        f"{OPEN311}/requests.json",
        data=form,
        files=[
            ("media", ("a.jpg", phone_photo(), "image/jpeg")),
            ("media", ("b.jpg", phone_photo(), "image/jpeg")),
        ],
    )

    assert other.status_code == 400 and "media" in other.json()[0]["description"]
    assert two.status_code == 400 and "one file" in two.json()[0]["description"]
    assert head(client) == before


def test_an_invalid_form_stores_no_file(client: TestClient, api_key: str, app_container):
    photo = phone_photo()
    stored_before = set(app_container.media_store.iter_all())

    refused = client.post(
        f"{OPEN311}/requests.json",
        data={"api_key": api_key, "service_code": "no.such.service", "address_string": "x"},
        files={"media": ("a.jpg", photo, "image/jpeg")},
    )

    assert refused.status_code == 400
    assert set(app_container.media_store.iter_all()) == stored_before
