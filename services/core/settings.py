"""One settings object for API, worker and CLI, validated at start-up.

Every variable is prefixed `SEAWALL_` except `DATABASE_URL`, the conventional name operators expect.
A bad value stops the process with a message naming the variable (pydantic's ValidationError).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Dev-only secret: a real deployment must set SEAWALL_SECRET_KEY (enforced below).
_DEV_SECRET = "seawall-development-secret-key-do-not-use-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SEAWALL_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"

    # Owner connection: runs migrations and owns the tables. Unset = embedded PostgreSQL (pgserver).
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "SEAWALL_DATABASE_URL")
    )
    # The application role's connection (NOSUPERUSER, NOBYPASSRLS). Unset = derived from the
    # owner URL with user `app_db_user` / `app_db_password`.
    app_database_url: str | None = None
    app_db_user: str = "seawall_app"
    app_db_password: SecretStr = SecretStr("seawall_app_dev_password")
    db_pool_size: int = Field(default=10, ge=1, le=200)

    data_dir: Path = PROJECT_ROOT / "var"

    secret_key: SecretStr = SecretStr(_DEV_SECRET)
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"

    cookie_secure: bool = True
    session_idle_minutes: int = Field(default=15, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    login_rate_limit: str = "10/minute"  # per email address
    login_ip_rate_limit: str = "60/minute"  # per client IP
    # Rate limits: in-memory unless a Redis URL is given (shared across API replicas).
    redis_url: str | None = None
    # Telemetry in: per agent for POST /api/v1/ingest, per ping key for /ping/… (`limits` syntax).
    ingest_rate_limit: str = "20/second"
    ping_rate_limit: str = "10/second"
    # How long a rotated-out agent credential keeps working.
    agent_credential_overlap_hours: int = Field(default=24, ge=0, le=24 * 30)
    # What the enrollment command installs with pip (a package name, a wheel URL or a path).
    agent_package: str = "seawall-agent"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    mail_from: str = "Seawall <no-reply@seawall.local>"

    log_json: bool = False
    log_level: str = "INFO"
    # The worker's Prometheus /metrics on 127.0.0.1 at this port; unset: not served.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    frontend_dist: Path = PROJECT_ROOT / "frontend" / "dist"

    @model_validator(mode="after")
    def _production_needs_real_secrets(self) -> "Settings":
        if self.environment == "production":
            if self.secret_key.get_secret_value() == _DEV_SECRET or len(self.secret_key.get_secret_value()) < 32:
                raise ValueError("SEAWALL_SECRET_KEY must be set to a random value of at least 32 characters in production")
            if not self.database_url:
                raise ValueError("DATABASE_URL must be set in production (the embedded server is for development)")
            if self.app_db_password.get_secret_value() == "seawall_app_dev_password" and not self.app_database_url:
                raise ValueError("SEAWALL_APP_DB_PASSWORD or SEAWALL_APP_DATABASE_URL must be set in production")
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache
def get_settings() -> Settings:
    return Settings()
