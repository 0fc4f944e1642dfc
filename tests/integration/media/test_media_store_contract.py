"""Every store keeps the same promises: a local folder and an S3 bucket are interchangeable."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from dispatch.media import (
    FileState,
    LocalMediaStore,
    MediaNotFound,
    MediaStore,
    S3MediaStore,
    file_state,
    media_store_from_settings,
)
from dispatch.settings import Settings

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 1000  # not a real JPEG: stores do not care
OTHER = b"%PDF-1.4\n%%EOF\n"
THUMB = b"\xff\xd8\xff\xe0thumbnail"
ABSENT = "0" * 64


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_file_is_stored_under_the_sha256_of_its_bytes(media_store: MediaStore) -> None:
    stored = media_store.put(PHOTO, "image/jpeg")
    assert (stored.sha256, stored.size, stored.media_type) == (sha(PHOTO), len(PHOTO), "image/jpeg")
    assert media_store.exists(stored.sha256)
    assert media_store.read(stored.sha256) == PHOTO


def test_a_file_streams_in_chunks(media_store: MediaStore) -> None:
    stored = media_store.put(PHOTO, "image/jpeg")
    chunks = list(media_store.open(stored.sha256, chunk_size=10_000))
    assert len(chunks) > 1
    assert b"".join(chunks) == PHOTO


def test_storing_the_same_bytes_twice_changes_nothing(media_store: MediaStore) -> None:
    first = media_store.put(PHOTO, "image/jpeg")
    second = media_store.put(PHOTO, "image/jpeg")
    assert first == second
    assert list(media_store.iter_all()) == [first.sha256]


def test_a_missing_file_is_not_found(media_store: MediaStore) -> None:
    assert not media_store.exists(ABSENT)
    with pytest.raises(MediaNotFound):
        media_store.read(ABSENT)
    with pytest.raises(MediaNotFound):
        media_store.open(ABSENT)  # at once, before a response has started streaming


def test_delete_removes_the_file_and_its_thumbnail(media_store: MediaStore) -> None:
    stored = media_store.put(PHOTO, "image/jpeg")
    media_store.put_thumbnail(stored.sha256, THUMB)
    assert media_store.delete(stored.sha256) is True
    assert not media_store.exists(stored.sha256)
    assert not media_store.exists(stored.sha256, thumbnail=True)
    assert media_store.delete(stored.sha256) is False


def test_iter_all_lists_every_file_but_no_thumbnail(media_store: MediaStore) -> None:
    photo, document = (
        media_store.put(PHOTO, "image/jpeg"),
        media_store.put(OTHER, "application/pdf"),
    )
    media_store.put_thumbnail(photo.sha256, THUMB)
    assert list(media_store.iter_all()) == sorted([photo.sha256, document.sha256])


def test_a_thumbnail_lives_beside_its_original(media_store: MediaStore) -> None:
    stored = media_store.put(PHOTO, "image/jpeg")
    assert not media_store.exists(stored.sha256, thumbnail=True)
    media_store.put_thumbnail(stored.sha256, THUMB)
    assert media_store.exists(stored.sha256, thumbnail=True)
    assert media_store.read(stored.sha256, thumbnail=True) == THUMB
    assert b"".join(media_store.open(stored.sha256, thumbnail=True)) == THUMB
    assert media_store.read(stored.sha256) == PHOTO


def test_file_state_tells_ok_from_missing(media_store: MediaStore) -> None:
    stored = media_store.put(PHOTO, "image/jpeg")
    assert file_state(media_store, stored.sha256) is FileState.OK
    media_store.delete(stored.sha256)
    assert file_state(media_store, stored.sha256) is FileState.MISSING


@pytest.mark.parametrize("address", ["../../etc/passwd", "ABCD" * 16, "a" * 63, ""])
def test_an_address_that_is_not_a_sha256_is_refused(media_store: MediaStore, address: str) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        media_store.read(address)
    with pytest.raises(ValueError):
        media_store.put_thumbnail(address, THUMB)


# -- the local folder ------------------------------------------------------------------------


def test_a_local_file_sits_in_fan_out_folders(tmp_path: Path) -> None:
    stored = LocalMediaStore(tmp_path).put(PHOTO, "image/jpeg")
    digest = stored.sha256
    assert (tmp_path / digest[:2] / digest[2:4] / digest).read_bytes() == PHOTO
    assert not list(tmp_path.rglob(".tmp-*"))


def test_a_local_file_changed_on_disk_is_named_changed(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    stored = store.put(PHOTO, "image/jpeg")
    path = tmp_path / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    path.write_bytes(PHOTO[:-1] + b"!")
    assert file_state(store, stored.sha256) is FileState.CHANGED


def test_storing_again_repairs_a_damaged_local_file(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    stored = store.put(PHOTO, "image/jpeg")
    path = tmp_path / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    path.write_bytes(b"damaged")
    store.put(PHOTO, "image/jpeg")
    assert file_state(store, stored.sha256) is FileState.OK


def test_strays_in_the_local_folder_are_not_listed(tmp_path: Path) -> None:
    store = LocalMediaStore(tmp_path)
    stored = store.put(PHOTO, "image/jpeg")
    folder = tmp_path / stored.sha256[:2] / stored.sha256[2:4]
    (folder / ".tmp-abandoned").write_bytes(b"half a file")
    (folder / "notes.txt").write_text("hello")
    (tmp_path / "ff" / "ff").mkdir(parents=True)
    (tmp_path / "ff" / "ff" / stored.sha256).write_bytes(PHOTO)  # in the wrong folder
    assert list(store.iter_all()) == [stored.sha256]


def test_an_empty_local_store_lists_nothing(tmp_path: Path) -> None:
    assert list(LocalMediaStore(tmp_path / "not-yet").iter_all()) == []


# -- the S3 bucket ---------------------------------------------------------------------------


def test_settings_with_a_bucket_choose_s3_and_without_the_media_folder(tmp_path: Path) -> None:
    local = media_store_from_settings(Settings(secret_key="s" * 48, media_dir=str(tmp_path)))
    assert isinstance(local, LocalMediaStore) and local.root == tmp_path


def test_an_s3_object_carries_its_media_type(s3_store: S3MediaStore) -> None:
    stored = s3_store.put(OTHER, "application/pdf")
    key = f"{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key=key)
    assert head["ContentType"] == "application/pdf"


def test_an_s3_object_changed_in_the_bucket_is_named_changed(s3_store: S3MediaStore) -> None:
    stored = s3_store.put(PHOTO, "image/jpeg")
    key = f"{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
    s3_store.client.put_object(Bucket=s3_store.bucket, Key=key, Body=b"replaced")
    assert file_state(s3_store, stored.sha256) is FileState.CHANGED


def test_objects_outside_the_store_are_not_listed(s3_store: S3MediaStore) -> None:
    client, bucket = s3_store.client, s3_store.bucket
    store = S3MediaStore(client, bucket, prefix="attachments/")
    stored = store.put(PHOTO, "image/jpeg")
    client.put_object(Bucket=bucket, Key=f"backups/{stored.sha256}", Body=PHOTO)
    client.put_object(Bucket=bucket, Key="attachments/readme.txt", Body=b"hello")
    assert list(store.iter_all()) == [stored.sha256]
