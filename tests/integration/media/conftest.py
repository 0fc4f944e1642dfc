"""The stores under test: a local folder, and S3 spoken over HTTP to moto in server mode."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from dispatch.media import LocalMediaStore, MediaStore, S3MediaStore, media_store_from_settings
from dispatch.settings import Settings

REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real HTTP endpoint speaking the S3 protocol, on a free port, for the whole session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _new_bucket(endpoint: str) -> str:
    """A bucket per test, so no test sees another's files."""
    bucket = f"media-{uuid.uuid4().hex[:12]}"
    _client(endpoint).create_bucket(Bucket=bucket)
    return bucket


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )


@pytest.fixture(params=["local", "s3"])
def media_store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    if request.param == "local":
        return LocalMediaStore(tmp_path / "media")
    endpoint = request.getfixturevalue("s3_endpoint")
    return S3MediaStore.connect(
        _new_bucket(endpoint),
        endpoint_url=endpoint,
        access_key="testing",
        secret_key="testing",
        region=REGION,
        prefix="attachments/",
    )


@pytest.fixture
def s3_store(s3_endpoint: str) -> S3MediaStore:
    """An S3 store as an installation configures one: from ``DISPATCH_MEDIA_S3_*`` settings."""
    settings = Settings(
        secret_key="s" * 48,
        media_s3_bucket=_new_bucket(s3_endpoint),
        media_s3_endpoint=s3_endpoint,
        media_s3_access_key="testing",
        media_s3_secret_key="testing",
        media_s3_region=REGION,
    )
    store = media_store_from_settings(settings)
    assert isinstance(store, S3MediaStore)
    return store
