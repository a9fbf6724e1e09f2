"""Configuration from the environment (and an optional .env file)."""

import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

_FILE_SECRETS: dict[Path, str] = {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    data_dir: Path = Path(".data")
    secret_key: str | None = None
    # Fernet keys sealing denouncers' identities, comma-separated, newest first (rotation).
    identity_keys: str | None = None
    jwt_issuer: str = "tiepdan-laocai"
    jwt_audience: str = "tiepdan-api"
    access_token_minutes: int = 60
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: str | None = None
    max_body_bytes: int = 1_048_576
    received_floor: date = date(2000, 1, 1)  # no letter is recorded as received before this day
    metrics_token: str | None = None  # /metrics for this bearer token (and from this machine)
    webhook_allow_private: bool = False  # allow webhook URLs on loopback / private / link-local addresses
    statement_timeout_ms: int = 15_000  # no statement of a request runs longer (0: no limit)
    db_pool_size: int = 10  # per API process, for each of its two pools (ORM, hot statements)
    # Sign-in throttle: this many failures for one username within the window → 429 until it passes.
    login_max_failures: int = 10
    login_window_minutes: int = 15
    cors_origins: list[str] = []
    log_level: str = "INFO"
    timezone: str = "Asia/Ho_Chi_Minh"
    # Deadlines: the processing period's day type is unconfirmed in law (LEGAL.md), so it is a setting.
    processing_days: int = 10
    processing_basis: str = "working"
    due_soon_working_days: int = 3
    # Background jobs (deadline sweep, webhook delivery); every process may run them safely.
    jobs_enabled: bool = True
    jobs_interval_seconds: float = 60.0
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_backoff_seconds: float = 30.0
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    def jwt_secret(self) -> str:
        """SECRET_KEY, or a random key kept in the data folder so that every local process shares it."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path not in _FILE_SECRETS:  # read once per process (it is asked for on every request)
            if not path.exists():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(secrets.token_urlsafe(48))
                path.chmod(0o600)
            _FILE_SECRETS[path] = path.read_text().strip()
        return _FILE_SECRETS[path]

    def identity_key_list(self) -> list[str]:
        """IDENTITY_KEYS, or one key generated into the data folder (development only)."""
        if self.identity_keys:
            return [k.strip() for k in self.identity_keys.split(",") if k.strip()]
        path = self.data_dir / "identity_key"
        if not path.exists():
            from cryptography.fernet import Fernet

            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        return [path.read_text().strip()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
