"""One ``Settings`` object, read from ``DISPATCH_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DISPATCH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite:///./dispatch.db", description="sqlite:///path or postgresql://user@host/db"
    )
    redis_url: str | None = Field(None, description="unset: an embedded Redis is started")
    secret_key: str = Field(
        "dev-insecure-change-me", description="signs tokens and console sessions"
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


@lru_cache
def get_settings() -> Settings:
    return Settings()
