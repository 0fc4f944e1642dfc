"""One ``Settings`` object, read from ``DISPATCH_*`` environment variables."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./dispatch.db", description="sqlite:///path or postgresql://user@host/db"
    )
    redis_url: str | None = Field(None, description="unset: an embedded Redis is started")
    secret_key: str = Field(
        "", description="signs tokens and console sessions; unset: a random key kept in a file"
    )
    secret_key_file: str = Field(
        ".dispatch-secret", description="where the generated key is kept when none is set"
    )
    seal_key: str | None = Field(
        None, description="signs the log's seals (HMAC); never stored in the database"
    )
    seal_minutes: float = Field(5.0, gt=0, description="how often the scheduler seals the log")
    timezone: str = Field("Asia/Shanghai", description="default when no catalogue is loaded")
    token_minutes: int = Field(480, description="lifetime of an access token")
    ranking_min_due: int = Field(
        5, ge=0, description="tasks due for signing before a department is ranked (样本不足)"
    )
    inline_routing: bool = Field(
        False, description="route new cases in the API process too (tests, tiny installs)"
    )
    console_secure_cookie: bool | None = Field(
        None, description="Secure flag on the console's cookies; unset: when the request is https"
    )
    metrics_token: str | None = Field(
        None, description="bearer token for /metrics and /readyz details; unset: loopback only"
    )
    log_format: Literal["json", "text"] = Field(
        "json", description="json: one JSON object a line (structlog); text: for a terminal"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO")
    ready_max_relay_lag: int = Field(
        10_000, ge=0, description="/readyz fails above this many events not relayed; 0: off"
    )
    ready_max_projection_lag: int = Field(
        10_000, ge=0, description="/readyz fails when a projection is this many events behind"
    )
    ready_max_queue_depth: int = Field(
        50_000, ge=0, description="/readyz fails when an RQ queue holds more jobs; 0: off"
    )
    embedded_redis_dir: str = Field(
        ".redis", description="where the embedded Redis keeps its socket"
    )
    # 4 and 35 ms, measured with bench/overload.py on 2 cores at twice capacity: 8 / 50 ms
    # kept accepted/s at 65 % of capacity and the shed 503 at p99 325 ms (the command threads
    # hold the GIL the event loop needs to say no); 4 / 35 ms kept 66–80 % and p99 57–58 ms.
    admission_concurrency: int = Field(
        4, gt=0, description="commands (POST/PUT/PATCH/DELETE) one API process runs at once"
    )
    admission_queue_ms: int = Field(
        35, ge=0, description="how long a command may wait for a slot before a 503 sheds it"
    )
    http_threads: int = Field(
        40, gt=0, description="threads for sync routes; above admission_concurrency, for reads"
    )
    database_connect_timeout: int = Field(
        2, ge=2, description="seconds to reach PostgreSQL before a 503 (libpq's minimum is 2)"
    )
    database_pool_timeout: float = Field(
        1.0, gt=0, description="seconds to wait for a pooled connection before a 503"
    )
    scheduler_lease_seconds: float = Field(
        6.0, gt=0, description="scheduler leadership lease; a standby takes over within it"
    )
    media_dir: str = Field("./media", description="where uploaded photos and documents are kept")
    max_upload_mb: int = Field(10, gt=0, description="largest upload accepted, in MiB")
    media_s3_bucket: str | None = Field(None, description="set: keep uploads in this S3 bucket")
    media_s3_endpoint: str | None = Field(None, description="S3-compatible endpoint URL")
    media_s3_region: str | None = None
    media_s3_access_key: str | None = None
    media_s3_secret_key: str | None = None
    stream_connections: int = Field(
        200, gt=0, description="live streams (GET /api/v1/stream) one process holds; 503 beyond"
    )
    stream_lifetime_seconds: float = Field(
        600.0, gt=0, description="a live stream then ends; the browser reconnects with its place"
    )

    @model_validator(mode="after")
    def _keys(self) -> Settings:
        """No built-in default key: a known default would let anyone forge sessions. Unset,
        a random key is generated once and kept (mode 0600) in ``secret_key_file``, so every
        process of one installation shares it. A key too short to resist guessing, set or
        found in the file, refuses to start; so does a short seal key."""
        if not self.secret_key:
            path = Path(self.secret_key_file)
            self.secret_key = _generated_secret(path)
            where = f"the key in {path}"
        else:
            where = "DISPATCH_SECRET_KEY"
        _check_length(where, self.secret_key)
        if self.seal_key is not None:
            self.seal_key = self.seal_key.strip() or None  # set but empty: no key
        if self.seal_key is not None:
            _check_length("DISPATCH_SEAL_KEY", self.seal_key)
        if self.http_threads <= self.admission_concurrency:
            raise ValueError(
                f"DISPATCH_HTTP_THREADS ({self.http_threads}) must exceed "
                f"DISPATCH_ADMISSION_CONCURRENCY ({self.admission_concurrency}), "
                "or reads wait behind commands"
            )
        return self

    def phone_index_key(self) -> bytes:
        """The key of the reporters' phone index (``events.vault.phone_index``), derived from
        the secret key so that it never sits in the database. A new secret key means
        re-indexing: clear ``personal_data.phone_index`` and run ``dispatch db upgrade``."""
        return hmac.new(
            self.secret_key.encode(), b"street-whistle/phone-index/v1", hashlib.sha256
        ).digest()


def _check_length(where: str, key: str) -> None:
    size = len(key.encode())
    if size < SECRET_KEY_MIN_BYTES:
        raise ValueError(
            f"{where} has {size} bytes; it needs at least {SECRET_KEY_MIN_BYTES} "
            "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )


# HS256 and itsdangerous sign with HMAC-SHA256: a key shorter than the hash is guessable.
SECRET_KEY_MIN_BYTES = 32


def _generated_secret(path: Path) -> str:
    """The key in ``path``, made first if there is none. Written whole or not at all: a temp
    file (0600) in the same directory is linked into place, so a reader never sees half a
    key, and of two processes starting at once the second reads the first one's key."""
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
    try:
        with os.fdopen(handle, "w") as file:
            file.write(key)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # fails if another process got there first
        except FileExistsError:
            return path.read_text().strip()
        except OSError:  # a filesystem without hard links
            os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
