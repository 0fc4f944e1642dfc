"""Files in an S3-compatible object store (AWS S3, MinIO, Ceph, Aliyun OSS, …), via boto3."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from dispatch.media.errors import MediaNotFound
from dispatch.media.storage import (
    CHUNK_SIZE,
    StoredFile,
    fan_out_key,
    sha256_of_key,
)

_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class S3MediaStore:
    """``<prefix>ab/cd/<sha256>`` in one bucket; the bucket must exist and stay private."""

    def __init__(self, client: Any, bucket: str, *, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def connect(
        cls,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        prefix: str = "",
    ) -> S3MediaStore:
        """A store on a client built from settings; unset keys fall back to boto3's own chain."""
        client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region or None,
            # Path-style addressing works on every S3-compatible server behind any host name.
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard"}),
        )
        return cls(client, bucket, prefix=prefix)

    def put(self, data: bytes, media_type: str) -> StoredFile:
        digest = hashlib.sha256(data)
        sha256 = digest.hexdigest()
        key = self._key(sha256)
        if not self._head(key):
            # The store checks the checksum on arrival, so a damaged upload is never kept.
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=media_type,
                ChecksumSHA256=base64.b64encode(digest.digest()).decode("ascii"),
            )
        return StoredFile(sha256=sha256, size=len(data), media_type=media_type)

    def put_thumbnail(self, sha256: str, data: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(sha256, thumbnail=True),
            Body=data,
            ContentType="image/jpeg",
        )

    def open(
        self, sha256: str, *, thumbnail: bool = False, chunk_size: int = CHUNK_SIZE
    ) -> Iterator[bytes]:
        body = self._body(sha256, thumbnail=thumbnail)
        return _chunks(body, chunk_size)

    def read(self, sha256: str, *, thumbnail: bool = False) -> bytes:
        body = self._body(sha256, thumbnail=thumbnail)
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def exists(self, sha256: str, *, thumbnail: bool = False) -> bool:
        return self._head(self._key(sha256, thumbnail=thumbnail))

    def delete(self, sha256: str) -> bool:
        key = self._key(sha256)
        existed = self._head(key)
        # S3 deletes are idempotent: deleting a missing thumbnail is not an error.
        self.client.delete_object(Bucket=self.bucket, Key=self._key(sha256, thumbnail=True))
        self.client.delete_object(Bucket=self.bucket, Key=key)
        return existed

    def iter_all(self) -> Iterator[str]:
        # list_objects_v2 returns keys in UTF-8 binary order, so the output is already sorted.
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                sha256 = sha256_of_key(str(item["Key"])[len(self.prefix) :])
                if sha256 is not None:
                    yield sha256

    def _key(self, sha256: str, *, thumbnail: bool = False) -> str:
        return self.prefix + fan_out_key(sha256, thumbnail=thumbnail)

    def _head(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _error_code(error) in _MISSING:
                return False
            raise
        return True

    def _body(self, sha256: str, *, thumbnail: bool) -> Any:
        try:
            answer = self.client.get_object(
                Bucket=self.bucket, Key=self._key(sha256, thumbnail=thumbnail)
            )
        except ClientError as error:
            if _error_code(error) in _MISSING:
                raise MediaNotFound(sha256) from None
            raise
        return answer["Body"]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _chunks(body: Any, chunk_size: int) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(chunk_size)
    finally:
        body.close()
