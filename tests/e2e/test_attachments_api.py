"""随手拍 · 影像证明 (DESIGN §8.6): photos and documents on a case, over HTTP."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from module_app import app_container, client, people, scenes, signed_in  # noqa: F401
from PIL import ExifTags, Image
from sqlalchemy.engine import Engine

from worlds.scenarios import (
    API,
    DEPARTMENT,
    OTHER_DEPARTMENT,
    Login,
    Scenes,
    assert_problem,
    tiny_png,
)

pytestmark = pytest.mark.usefixtures("sample_catalogue")

SAMPLE_YAML = Path(__file__).parents[2] / "dispatch/catalogue/samples/sample.yaml"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00" + bytes(200)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def jpeg_with_gps() -> bytes:
    """A phone photo: EXIF with the camera and where it was taken (Tian'anmen)."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (39.0, 54.0, 15.12),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (116.0, 23.0, 51.0),
    }
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buffer, format="JPEG", exif=exif.tobytes())
    return buffer.getvalue()


def upload(
    client: TestClient,
    case_id: str,
    headers: dict[str, str],
    data: bytes,
    *,
    name: str = "photo.png",
    media_type: str = "image/png",
    **form: str,
) -> Any:
    return client.post(
        f"{API}/cases/{case_id}/attachments",
        files={"file": (name, data, media_type)},
        data={"stage": "intake", **form},
        headers=headers,
    )


def event_types(client: TestClient, scenes: Scenes, case_id: str) -> list[str]:
    events = client.get(f"{API}/cases/{case_id}/events", headers=scenes.dispatcher)
    assert events.status_code == 200, events.text
    return [item["type"] for item in events.json()["items"]]


def test_an_operator_uploads_lists_and_downloads_a_photo(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()
    png = tiny_png()

    created = upload(client, scene.case_id, scenes.operator, png)

    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "sha256", "size", "media_type", "stage"}
    assert body["media_type"] == "image/png" and body["stage"] == "intake"
    listed = client.get(f"{API}/cases/{scene.case_id}/attachments", headers=scenes.operator)
    assert [item["id"] for item in listed.json()["items"]] == [body["id"]]
    served = client.get(
        f"{API}/cases/{scene.case_id}/attachments/{body['id']}", headers=scenes.operator
    )
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert len(served.content) == body["size"]
    thumb = client.get(
        f"{API}/cases/{scene.case_id}/attachments/{body['id']}",
        params={"thumbnail": "1"},
        headers=scenes.operator,
    )
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert "AttachmentAdded" in event_types(client, scenes, scene.case_id)


def test_the_liaison_of_the_tasks_department_uploads_lists_and_downloads(
    client: TestClient, scenes: Scenes, people: Login
) -> None:
    scene = scenes.signed_task()
    liaison = people("liaison", department=DEPARTMENT)

    created = upload(
        client, scene.case_id, liaison, tiny_png(), stage="progress", task_id=scene.task_id
    )

    assert created.status_code == 201, created.text
    att = created.json()["id"]
    listed = client.get(f"{API}/cases/{scene.case_id}/attachments", headers=liaison).json()
    assert listed["items"][0]["task_id"] == scene.task_id
    served = client.get(f"{API}/cases/{scene.case_id}/attachments/{att}", headers=liaison)
    assert served.status_code == 200 and served.content[:4] == b"\x89PNG"


def test_another_departments_liaison_is_refused_403_and_nothing_is_recorded(
    client: TestClient, scenes: Scenes, people: Login
) -> None:
    scene = scenes.attached_case()
    other = people("liaison", department=OTHER_DEPARTMENT)
    before = event_types(client, scenes, scene.case_id)

    refused = upload(client, scene.case_id, other, tiny_png())

    assert_problem(refused, 403)
    assert event_types(client, scenes, scene.case_id) == before
    for path in ("attachments", f"attachments/{scene.attachment_id}"):
        assert_problem(client.get(f"{API}/cases/{scene.case_id}/{path}", headers=other), 403)


@pytest.mark.parametrize(
    ("label", "data", "name", "media_type", "code"),
    [
        ("an ELF named .jpg", ELF, "photo.jpg", "image/jpeg", None),
        ("a zero-byte file", b"", "photo.jpg", "image/jpeg", "empty_file"),
    ],
)
def test_a_bad_file_is_refused_4xx_and_no_attachment_is_recorded(
    label: str,
    data: bytes,
    name: str,
    media_type: str,
    code: str | None,
    client: TestClient,
    scenes: Scenes,
) -> None:
    scene = scenes.dispatched_case()

    refused = upload(client, scene.case_id, scenes.operator, data, name=name, media_type=media_type)

    assert 400 <= refused.status_code < 500, refused.text
    problem = assert_problem(refused, refused.status_code)
    assert problem["code"] == code if code else problem["code"]
    assert "AttachmentAdded" not in event_types(client, scenes, scene.case_id)


def test_an_unknown_stage_or_task_is_refused(client: TestClient, scenes: Scenes) -> None:
    scene = scenes.dispatched_case()

    assert_problem(upload(client, scene.case_id, scenes.operator, tiny_png(), stage="x"), 422)
    unknown_task = upload(client, scene.case_id, scenes.operator, tiny_png(), task_id="t_none")
    assert_problem(unknown_task, 409)
    assert "AttachmentAdded" not in event_types(client, scenes, scene.case_id)


def test_exif_gps_is_absent_from_what_is_served(client: TestClient, scenes: Scenes) -> None:
    scene = scenes.dispatched_case()

    created = upload(
        client,
        scene.case_id,
        scenes.operator,
        jpeg_with_gps(),
        name="p.jpg",
        media_type="image/jpeg",
    )

    assert created.status_code == 201, created.text
    served = client.get(
        f"{API}/cases/{scene.case_id}/attachments/{created.json()['id']}",
        headers=scenes.operator,
    )
    exif = Image.open(io.BytesIO(served.content)).getexif()
    assert ExifTags.IFD.GPSInfo not in exif
    assert not exif.get_ifd(ExifTags.IFD.GPSInfo)
    assert b"Xiaomi" not in served.content


def test_an_operator_keeps_a_photos_location_on_the_attachment_never_in_the_file(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()

    created = upload(
        client,
        scene.case_id,
        scenes.operator,
        jpeg_with_gps(),
        name="p.jpg",
        media_type="image/jpeg",
        keep_location="true",
    )

    assert created.status_code == 201, created.text
    kept = created.json()["location"]
    assert kept == pytest.approx({"lat": 39.9042, "lon": 116.3975}, abs=1e-4)
    listed = client.get(f"{API}/cases/{scene.case_id}/attachments", headers=scenes.operator)
    assert listed.json()["items"][0]["location"] == kept
    served = client.get(
        f"{API}/cases/{scene.case_id}/attachments/{created.json()['id']}",
        headers=scenes.operator,
    )
    assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_without_keep_location_the_photos_location_is_not_kept(
    client: TestClient, scenes: Scenes
) -> None:
    scene = scenes.dispatched_case()

    created = upload(
        client,
        scene.case_id,
        scenes.operator,
        jpeg_with_gps(),
        name="p.jpg",
        media_type="image/jpeg",
    )

    assert "location" not in created.json()
    listed = client.get(f"{API}/cases/{scene.case_id}/attachments", headers=scenes.operator)
    assert listed.json()["items"][0]["location"] is None


def test_a_liaison_may_not_keep_a_photos_location(
    client: TestClient, scenes: Scenes, people: Login
) -> None:
    scene = scenes.signed_task()
    liaison = people("liaison", department=DEPARTMENT)
    before = event_types(client, scenes, scene.case_id)

    refused = upload(
        client,
        scene.case_id,
        liaison,
        jpeg_with_gps(),
        name="p.jpg",
        media_type="image/jpeg",
        stage="progress",
        keep_location="true",
    )

    assert "keep_location" in assert_problem(refused, 403)["detail"]
    assert event_types(client, scenes, scene.case_id) == before


def test_a_pdf_is_served_as_a_download(client: TestClient, scenes: Scenes) -> None:
    scene = scenes.dispatched_case()
    created = upload(
        client, scene.case_id, scenes.operator, PDF, name="a.pdf", media_type="application/pdf"
    )
    assert created.status_code == 201, created.text

    served = client.get(
        f"{API}/cases/{scene.case_id}/attachments/{created.json()['id']}",
        headers=scenes.operator,
    )

    assert served.headers["content-type"] == "application/pdf"
    assert served.headers["content-disposition"].startswith("attachment")
    assert served.content == PDF


@pytest.fixture
def photo_required(engine: Engine, sample_catalogue: int) -> Iterator[None]:
    """The sample catalogue with ``env.smoke`` asking for a reply photo, then the sample again."""
    from dispatch.catalogue.versions import load_catalogue

    text = SAMPLE_YAML.read_text(encoding="utf-8")
    strict = text.replace('version: "2026-11-sample"', 'version: "2026-11-photo"').replace(
        "{code: env.smoke, name: 餐饮油烟扰民, sla: general}",
        "{code: env.smoke, name: 餐饮油烟扰民, sla: general, reply_requires_photo: true}",
    )
    assert strict != text
    load_catalogue(engine, strict, loaded_by="tests")
    yield
    load_catalogue(engine, text, loaded_by="tests")


@pytest.mark.usefixtures("photo_required")
def test_a_category_requiring_a_photo_refuses_a_reply_without_one_409_and_accepts_it_with(
    client: TestClient, scenes: Scenes, people: Login
) -> None:
    scene = scenes.sign(scenes.dispatched_case())
    liaison = people("liaison", department=DEPARTMENT)
    reply = {"resolution": "已责令安装油烟净化器"}

    refused = client.post(f"{API}/tasks/{scene.task_id}/reply", json=reply, headers=liaison)

    problem = assert_problem(refused, 409)
    assert problem["code"] == "photo_required"
    assert "办结照片" in problem["detail"] and scene.task_id not in problem["detail"]
    progress = upload(
        client, scene.case_id, liaison, tiny_png(), stage="progress", task_id=scene.task_id
    )
    assert progress.status_code == 201
    still = client.post(f"{API}/tasks/{scene.task_id}/reply", json=reply, headers=liaison)
    assert_problem(still, 409)
    photo = upload(client, scene.case_id, liaison, tiny_png(), stage="reply", task_id=scene.task_id)
    assert photo.status_code == 201, photo.text
    accepted = client.post(f"{API}/tasks/{scene.task_id}/reply", json=reply, headers=liaison)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["events"] == ["TaskReplied"]


def test_an_upload_over_one_mib_passes_the_body_limit(client: TestClient, scenes: Scenes) -> None:
    scene = scenes.dispatched_case()
    noisy = Image.frombytes("RGB", (700, 700), os.urandom(700 * 700 * 3))
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    big = buffer.getvalue()
    assert len(big) > 1024 * 1024

    created = upload(client, scene.case_id, scenes.operator, big)

    assert created.status_code == 201, created.text
