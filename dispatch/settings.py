"""One ``Settings`` object, read from ``DISPATCH_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

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
    timezone: str = Field("Asia/Shanghai", description="default when no catalogue is loaded")
    token_minutes: int = Field(480, description="lifetime of an access token")
    inline_routing: bool = Field(
        False, description="route new cases in the API process too (tests, tiny installs)"
    )
    console_secure_cookie: bool | None = Field(
        None, description="Secure flag on the console's cookies; unset: when the request is https"
    )
    embedded_redis_dir: str = Field(
        ".redis", description="where the embedded Redis keeps its socket"
    )
    media_dir: str = Field("./media", description="where uploaded photos and documents are kept")
    max_upload_mb: int = Field(10, gt=0, description="largest upload accepted, in MiB")
    media_s3_bucket: str | None = Field(None, description="set: keep uploads in this S3 bucket")
    media_s3_endpoint: str | None = Field(None, description="S3-compatible endpoint URL")
    media_s3_region: str | None = None
    media_s3_access_key: str | None = None
    media_s3_secret_key: str | None = None

    @model_validator(mode="after")
    def _secret_from_file(self) -> Settings:
        """No built-in default key: a known default would let anyone forge sessions. Unset,
        a random key is generated once and kept (mode 0600) beside the working directory,
        so every process of one installation shares it."""
        if not self.secret_key:
            self.secret_key = _generated_secret(Path(self.secret_key_file))
        return self


def _generated_secret(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(key)
    return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
