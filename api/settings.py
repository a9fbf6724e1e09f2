"""Configuration from the environment (and an optional .env file)."""

import base64
import hashlib
import secrets
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_FILE_SECRETS: dict[Path, str] = {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    data_dir: Path = Path(".data")
    # Development keys are generated here, away from the data folder, so that a copy of the database (or of
    # .data/) is not also a copy of the keys that open it. Production sets SECRET_KEY and IDENTITY_KEYS.
    keys_dir: Path = Path.home() / ".config" / "tiepdan" / "keys"
    secret_key: str | None = None
    # Fernet keys sealing denouncers' identities, comma-separated, newest first (rotation).
    identity_keys: str | None = None
    # HMAC key of the case event chain (kept out of the database). Default: derived from SECRET_KEY; set it
    # separately if SECRET_KEY may be rotated, or chains written before the rotation stop verifying.
    chain_key: str | None = None
    # The role the service assumes on every connection (created by the migrations; owns no table).
    db_app_role: str = "tiepdan_app"
    jwt_issuer: str = "tiepdan-laocai"
    jwt_audience: str = "tiepdan-api"
    access_token_minutes: int = 60
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: str | None = None
    # A second administrator made at start (two-person grants need one), only if that username does not exist.
    bootstrap_approver_username: str | None = None
    bootstrap_approver_password: str | None = None
    max_body_bytes: int = 1_048_576
    received_floor: date = date(2000, 1, 1)  # no letter is recorded as received before this day
    metrics_token: str | None = None  # /metrics for this bearer token (and from this machine)
    webhook_allow_private: bool = False  # allow webhook URLs on loopback / private / link-local addresses
    statement_timeout_ms: int = 15_000  # no statement of a request runs longer (0: no limit)
    db_pool_size: int = 10  # per API process, for each of its two pools (ORM, hot statements)
    # Intake statements in flight at once per API process; the letters arriving meanwhile go in the next one
    # (group commit: api/services/cases/writer.py). At most db_pool_size.
    intake_lanes: int = Field(default=2, ge=1, le=64)
    # The lean lane (api/lean.py): the common request of the two hot write routes served before routing. Off
    # (LEAN_LANE=false), FastAPI serves them alone, with the same answers (tests/test_lean_lane.py), only slower.
    lean_lane: bool = True
    # The garbage collector's young-generation threshold once the app has started (0: Python's default, 700);
    # what was built at startup is frozen out of collections either way (api/app.py, tune_gc).
    gc_threshold: int = Field(default=20_000, ge=0, le=1_000_000)
    # Sign-in throttle, per window: this many attempts at one username from one address, and this many at any
    # usernames from one address (spraying); beyond them 429 with Retry-After until the window passes.
    login_max_failures: int = 10
    login_max_per_address: int = 30
    # Per officer: expensive requests (text search, duplicate suggestions) per minute, and the burst.
    expensive_per_minute: int = 60
    expensive_burst: int = 10
    # Per officer: statistics computed (forms and their exports, the summary, a report's diff) per minute, and the
    # burst — a whole year of every form in every format (5 forms x 19 periods x 4 formats) fits in it; answers
    # served from the cache are not counted. Computations run STATS_CONCURRENCY at once per process (others wait).
    stats_per_minute: int = Field(default=120, ge=1)
    stats_burst: int = Field(default=400, ge=1)
    stats_concurrency: int = Field(default=2, ge=1, le=64)
    # The citizen channel (public and Open311 endpoints): per client address and per device id, shared between
    # processes through Redis when REDIS_URL is set (in memory otherwise).
    redis_url: str | None = None
    public_per_minute: int = 30
    public_burst: int = 10
    lookup_failures_per_hour: int = 20  # wrong tracking code / access key pairs per client address
    idempotency_hours: int = 24  # an Idempotency-Key of the citizen channel is honoured this long
    attachments_dir: str | None = None  # default: <data dir>/attachments
    attachment_max_bytes: int = 10 * 1024 * 1024
    # Anonymous (citizen channel) uploads: bytes per case in all, per device and per client address a day, and
    # of all anonymous callers together a day; beyond them 413 (the case's) or 429 until the next day.
    upload_bytes_per_case: int = 50 * 1024 * 1024
    upload_bytes_per_device_day: int = 50 * 1024 * 1024
    upload_bytes_per_address_day: int = 100 * 1024 * 1024
    upload_bytes_total_day: int = 5 * 1024 * 1024 * 1024
    # Officers' uploads to one case in all (counted apart from the citizen's, each side with its own file cap);
    # beyond: 413 upload_quota_case.
    officer_upload_bytes_per_case: int = 100 * 1024 * 1024
    # Peers whose X-Forwarded-For is believed (addresses or networks, comma-separated; "*": any): the reverse
    # proxies in front of the service. Given to uvicorn by `python -m api serve` and used by the app's limits.
    forwarded_allow_ips: str = "127.0.0.1,::1"
    login_window_minutes: int = 15
    cors_origins: list[str] = []
    log_level: str = "INFO"
    timezone: str = "Asia/Ho_Chi_Minh"
    # Deadlines: the processing period's day type is unconfirmed in law (LEGAL.md), so it is a setting.
    processing_days: int = 10
    processing_basis: str = "working"
    due_soon_working_days: int = 3
    # The unit whose officers read Thanh tra tỉnh's submitted six-month and annual reports (Sở Nội vụ; plan 13/KH-UBND
    # section IV.5), by its code.
    inspectorate_report_recipient: str = Field(default="15-SNV", max_length=32)
    # Background jobs (deadline sweep, webhook delivery); every process may run them safely.
    jobs_enabled: bool = True
    jobs_interval_seconds: float = 60.0
    checkpoint_hours: float = 24.0  # a signed checkpoint of all chain heads this often (0: never)
    # Where each scheduled checkpoint (its signed header and every case's head) is also sent, off the database
    # server: appended to this file (a path on other storage) and/or POSTed to this URL (checked like webhooks').
    checkpoint_file: Path | None = None
    checkpoint_webhook_url: str | None = None
    webhook_timeout_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_backoff_seconds: float = 30.0
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    # Where attachment bytes are kept (issue 26): `postgres` (each file sealed in chunks in the database, shared by
    # every replica and its backups) or `local` (ATTACHMENTS_DIR, one process's disk). S3 is not shipped.
    attachment_storage: Literal["postgres", "local"] = "postgres"
    # On SIGTERM `serve` keeps serving this long with /readyz answering 503 (the balancer takes it out), then stops
    # taking connections and lets the requests in flight finish (at most drain_timeout_seconds more).
    drain_seconds: float = Field(default=3.0, ge=0, le=300)
    drain_timeout_seconds: float = Field(default=30.0, ge=1, le=3600)
    # A streaming replica for the heavy reads (statistics, forms, the dashboard's overview and exports, Open311
    # listings: api/deps.py get_read_session); unset, they run on the primary. Its answers say how fresh they are.
    database_read_url: str | None = None
    # `python -m api backup` / `restore` (api/backup.py): base backups in <dir>/base, archived WAL in <dir>/wal — on
    # other storage than the database in production. Default: <DATA_DIR>/backups. Keys are never written there.
    backup_dir: Path | None = None
    archive_timeout_seconds: int = Field(default=60, ge=0, le=86_400)  # a WAL segment archived at least this often

    @property
    def production(self) -> bool:
        """Production mode: a deployment sets its keys (DESIGN.md, operations contract). Development defaults
        (generated keys, demo seed) apply only when both are unset."""
        return bool(self.secret_key or self.identity_keys)

    def _generated(self, name: str, make: Callable[[], str]) -> str:
        path = self.keys_dir / name
        if path not in _FILE_SECRETS:  # read once per process (asked for on every request)
            legacy = self.data_dir / name  # where versions before 0.2 kept it
            if not path.exists():
                self.keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.write_text(legacy.read_text() if legacy.exists() else make())
                path.chmod(0o600)
                legacy.unlink(missing_ok=True)
            _FILE_SECRETS[path] = path.read_text().strip()
        return _FILE_SECRETS[path]

    def jwt_secret(self) -> str:
        """SECRET_KEY, or (development) a random key in the keys folder, shared by every local process."""
        return self.secret_key or self._generated("secret_key", lambda: secrets.token_urlsafe(48))

    def identity_key_list(self) -> list[str]:
        """IDENTITY_KEYS, or (development) one key generated into the keys folder."""
        if self.identity_keys:
            return [k.strip() for k in self.identity_keys.split(",") if k.strip()]

        def fernet_key() -> str:
            from cryptography.fernet import Fernet

            return Fernet.generate_key().decode()

        return [self._generated("identity_key", fernet_key)]

    def chain_secret(self) -> bytes:
        if self.chain_key:
            return self.chain_key.encode()
        return hashlib.sha256(b"tiepdan-event-chain:" + self.jwt_secret().encode()).digest()

    def key_problems(self) -> list[str]:
        """Why these keys may not run a production service (empty when they may)."""
        if not self.production:
            return []
        problems = []
        if not self.secret_key:
            problems.append("SECRET_KEY is not set")
        elif _weak(self.secret_key):
            problems.append("SECRET_KEY is shorter than 32 characters or a placeholder")
        if not self.identity_keys:
            problems.append("IDENTITY_KEYS is not set")
        else:
            from cryptography.fernet import Fernet

            for n, key in enumerate(self.identity_key_list(), start=1):
                try:
                    Fernet(key.encode())
                except ValueError:
                    problems.append(f"IDENTITY_KEYS key {n} is not a Fernet key (32 url-safe base64 bytes)")
                    continue
                if _weak(base64.urlsafe_b64decode(key).hex(), min_length=0) or _placeholder(key):
                    problems.append(f"IDENTITY_KEYS key {n} is a placeholder")
        if self.chain_key is not None and _weak(self.chain_key):
            problems.append("CHAIN_KEY is shorter than 32 characters or a placeholder")
        return problems


_PLACEHOLDERS = ("change", "placeholder", "example", "your-", "your_", "xxxx", "todo", "replace", "default")


def _placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _PLACEHOLDERS)


def _weak(value: str, *, min_length: int = 32) -> bool:
    """Too short, a placeholder, or too few distinct characters to be random ("aaaa…", "0000…")."""
    return len(value) < min_length or _placeholder(value) or len(set(value)) < 10


@lru_cache
def get_settings() -> Settings:
    return Settings()
