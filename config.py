"""Configuration classes, read from the environment when the app is created.

`COMANDA_ENV` picks the class: development (default), testing or production.
Nothing here runs at import time; `load_config()` builds an instance on demand.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a valid configuration."""


# libpq's target_session_attrs values (libpq >= 14).
TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
WRITABLE_SESSION_ATTRS = ("read-write", "primary")


def normalize_database_url(url: str, name: str = "DATABASE_URL", *, writes: bool = True) -> str:
    """Map postgres:// and postgresql:// to the psycopg2 driver we ship.

    A libpq multi-host URL (`postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write`)
    becomes SQLAlchemy's form of it (`...@/db?host=h1:5432&host=h2:5433&...`); psycopg2 hands
    libpq the same host and port lists, and libpq tries them in order. Malformed host lists or
    an unknown target_session_attrs raise ConfigError naming `name`. A URL that takes writes
    (`writes`) and names several hosts must say target_session_attrs=read-write (or primary).
    """
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return check_postgres_url("postgresql+psycopg2://" + url[len(prefix) :], name, writes)
    return url


def check_postgres_url(url: str, name: str, writes: bool) -> str:
    """Validate a postgresql+psycopg2 URL's hosts and target_session_attrs; rewrite several hosts."""
    from urllib.parse import parse_qsl, urlencode

    scheme, _, rest = url.partition("://")
    netloc, slash, path_query = rest.partition("/")
    path, _, query = path_query.partition("?")
    userinfo, at, hostlist = netloc.rpartition("@")
    try:
        params = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise ConfigError(f"{name} has a malformed query string: {query!r}") from None
    attrs = [value for key, value in params if key == "target_session_attrs"]
    for value in attrs:
        if value not in TARGET_SESSION_ATTRS:
            raise ConfigError(
                f"{name}: target_session_attrs must be one of {', '.join(TARGET_SESSION_ATTRS)}, got {value!r}"
            )
    query_hosts = [value for key, value in params if key == "host"]
    hosts = hostlist.split(",") if hostlist else []
    if len(hosts) > 1 or query_hosts:
        for host in hosts + query_hosts:
            _check_host_port(host, name)
    if writes and len(hosts) + len(query_hosts) > 1 and not any(v in WRITABLE_SESSION_ATTRS for v in attrs):
        raise ConfigError(
            f"{name} names several hosts: add target_session_attrs=read-write so writes reach only the primary"
        )
    if len(hosts) <= 1:
        return url
    query = urlencode([("host", host) for host in hosts] + params)
    return f"{scheme}://{userinfo}{at}{slash}{path}?{query}"


def _check_host_port(host: str, name: str) -> None:
    hostname, colon, port = host.rpartition(":") if ":" in host and not host.endswith("]") else (host, "", "")
    if not hostname or (colon and not (port.isdigit() and 0 < int(port) < 65536)):
        raise ConfigError(f"{name} has a malformed host in its host list: {host!r} (expected host or host:port)")


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


DEFAULT_RETRY_SCHEDULE = (5, 30, 120, 600, 3600, 21600, 86400)


def _retry_schedule(raw: str) -> tuple[float, ...]:
    """WEBHOOK_RETRY_SCHEDULE: comma-separated seconds between a webhook's attempts (empty: the default)."""
    if not raw.strip():
        return DEFAULT_RETRY_SCHEDULE
    try:
        delays = tuple(float(part) for part in raw.split(","))
    except ValueError:
        raise ConfigError(f"WEBHOOK_RETRY_SCHEDULE must be comma-separated seconds, got {raw!r}") from None
    if any(d < 0 or d != d for d in delays):
        raise ConfigError("WEBHOOK_RETRY_SCHEDULE delays must be >= 0")
    return delays


def _instance_secrets() -> dict[str, str]:
    """Secrets generated once for development and kept in instance/ (git-ignored)."""
    path = INSTANCE_DIR / "secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    values = {"SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48)}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    DEBUG = False
    TESTING = False

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY")
        self.JWT_SECRET_KEY = env.get("JWT_SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = normalize_database_url(env.get("DATABASE_URL", ""))
        # `flask db upgrade` connects as the schema's owner; the app's role (DATABASE_URL) may only
        # read and write rows (deploy/roles.sql, docs/security.md). Unset: DATABASE_URL itself.
        self.MIGRATION_DATABASE_URL = normalize_database_url(
            env.get("MIGRATION_DATABASE_URL", ""), "MIGRATION_DATABASE_URL"
        ) or None
        # Optional replica for report reads (app/replicas.py); unset, reports read DATABASE_URL.
        self.REPORTS_DATABASE_URL = normalize_database_url(
            env.get("REPORTS_DATABASE_URL", ""), "REPORTS_DATABASE_URL", writes=False
        )
        self.REPORTS_MAX_LAG_SECONDS = _env_int("REPORTS_MAX_LAG_SECONDS", 30)
        # Patroni: each node's REST API, in DATABASE_URL's host order; writes then go only to the node
        # holding the leader lock (app/leader.py). Unset: libpq's target_session_attrs alone decides.
        self.DATABASE_PATRONI_URLS = [
            u.strip() for u in env.get("DATABASE_PATRONI_URLS", "").split(",") if u.strip()
        ]

        # Webhooks (API.md v1.2): private destinations only for development and tests; the retry delays.
        self.WEBHOOK_ALLOW_PRIVATE_URLS = _env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
        self.WEBHOOK_RETRY_SCHEDULE = _retry_schedule(env.get("WEBHOOK_RETRY_SCHEDULE", ""))
        self.REDIS_URL = env.get("REDIS_URL") or None

        # Database pool (PostgreSQL only; SQLite uses its own defaults).
        self.DB_POOL_SIZE = _env_int("DB_POOL_SIZE", 5)
        self.DB_MAX_OVERFLOW = _env_int("DB_MAX_OVERFLOW", 10)
        self.DB_POOL_TIMEOUT = _env_int("DB_POOL_TIMEOUT", 10)
        self.DB_CONNECT_TIMEOUT = _env_int("DB_CONNECT_TIMEOUT", 3)
        self.DB_STATEMENT_TIMEOUT_MS = _env_int("DB_STATEMENT_TIMEOUT_MS", 15000)
        # A database that hangs (stopped, not refusing) must not hold requests: inside a request,
        # psycopg2 waits at most this long for any answer within a transaction (COMMIT included),
        # and DB_CONNECT_TIMEOUT for a connection, the pool's pre-ping or BEGIN (app/database.py).
        # Longer than the statement timeout, so a slow statement gets the server's own error.
        self.DB_RESPONSE_TIMEOUT_MS = _env_int("DB_RESPONSE_TIMEOUT_MS", self.DB_STATEMENT_TIMEOUT_MS + 2000)
        # A frozen server (not merely a slow statement): a wait with no answer after DB_FREEZE_CHECK_MS
        # asks the server for a new session; no answer within DB_PROBE_TIMEOUT_MS ends the wait at once
        # (503, or 504 after COMMIT), and the process fails further waits fast until the server answers
        # again. A long report on a live server is never cut short (app/database.py).
        self.DB_FREEZE_CHECK_MS = _env_int("DB_FREEZE_CHECK_MS", 1000)
        self.DB_PROBE_TIMEOUT_MS = _env_int("DB_PROBE_TIMEOUT_MS", 1000)
        # The pool pings a connection at checkout only when it sat idle longer than this (0: always);
        # a busy worker's connection goes straight to work, and a request whose first statement meets
        # a connection that died meanwhile is re-run once on a new one (app/database.py, "pre-ping").
        self.DB_PING_AFTER_IDLE_MS = _env_int("DB_PING_AFTER_IDLE_MS", 1000)
        # /health's whole database check (pool, ping, reconnect) answers within this.
        self.HEALTH_TIMEOUT_MS = _env_int("HEALTH_TIMEOUT_MS", 1000)

        # HTTP
        self.MAX_CONTENT_LENGTH = 1024 * 1024
        self.PROXY_FIX_X_FOR = _env_int("PROXY_FIX_X_FOR", 0)
        self.LOG_FORMAT = env.get("LOG_FORMAT", self.default_log_format())
        self.LOG_LEVEL = env.get("LOG_LEVEL", "INFO")

        # Auth
        self.JWT_ALGORITHM = "HS256"
        self.JWT_DECODE_ALGORITHMS = ["HS256"]
        self.JWT_ACCESS_TOKEN_EXPIRES = timedelta(seconds=_env_int("JWT_ACCESS_TOKEN_EXPIRES", 15 * 60))
        self.JWT_REFRESH_TOKEN_EXPIRES = timedelta(seconds=_env_int("JWT_REFRESH_TOKEN_EXPIRES", 12 * 3600))
        self.JWT_TOKEN_LOCATION = ["headers"]
        self.ARGON2_TIME_COST = _env_int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST = _env_int("ARGON2_MEMORY_COST", 65536)
        self.ARGON2_PARALLELISM = _env_int("ARGON2_PARALLELISM", 4)
        self.LOGIN_FAILURES_PER_EMAIL = env.get("LOGIN_FAILURES_PER_EMAIL", "5 per minute")
        self.LOGIN_FAILURES_PER_ADDRESS = env.get("LOGIN_FAILURES_PER_ADDRESS", "100 per minute")
        # Every /api/ request, per client address and (signed in) per user (app/web/ratelimit.py).
        self.RATELIMIT_PER_ADDRESS = env.get("RATELIMIT_PER_ADDRESS", "6000 per minute")
        self.RATELIMIT_PER_USER = env.get("RATELIMIT_PER_USER", "1200 per minute")
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        # Without Redis: limits' memory storage minus its expiry thread (app/extensions.py).
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "comanda-memory://"
        self.RATELIMIT_KEY_PREFIX = env.get("RATELIMIT_KEY_PREFIX", "comanda")
        self.RATELIMIT_HEADERS_ENABLED = False
        # Redis down must not mean logins down: count in process memory until it is back.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True

        # Business rules
        self.BUSINESS_TIMEZONE = env.get("BUSINESS_TIMEZONE", "UTC")
        self.BUSINESS_DAY_STARTS_AT = env.get("BUSINESS_DAY_STARTS_AT", "00:00")
        self.CURRENCY = env.get("CURRENCY", "MXN")
        self.IDEMPOTENCY_TTL_HOURS = _env_int("IDEMPOTENCY_TTL_HOURS", 48)
        self.IDEMPOTENCY_WAIT_MS = _env_int("IDEMPOTENCY_WAIT_MS", 10000)

        # First admin (make run / flask users ensure-admin)
        self.ADMIN_EMAIL = env.get("ADMIN_EMAIL") or None
        self.ADMIN_PASSWORD = env.get("ADMIN_PASSWORD") or None

        # OpenAPI / Swagger UI (assets served locally, see app/ops)
        self.API_TITLE = "Comanda POS API"
        self.API_VERSION = "v1"
        self.OPENAPI_VERSION = "3.0.3"
        self.OPENAPI_URL_PREFIX = "/"
        self.OPENAPI_JSON_PATH = "openapi.json"
        self.OPENAPI_SWAGGER_UI_PATH = "docs"
        self.OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
        self.OPENAPI_SWAGGER_UI_CONFIG = {"persistAuthorization": True}
        # Paths start with /api/v1; a client's base URL is the deployment's origin (generated clients take
        # it as base_url). Relative, so the document is right on every host that serves it.
        self.API_SPEC_OPTIONS = {"servers": [{
            "url": env.get("OPENAPI_SERVER_URL", "/"),
            "description": "This deployment, production or local: the origin serving this document, e.g. "
            "https://pos.example.com behind nginx, or http://127.0.0.1:5000 under `make run`.",
            "x-internal": False,
        }]}

    @staticmethod
    def default_log_format() -> str:
        return "text"

    @property
    def SQLALCHEMY_ENGINE_OPTIONS(self) -> dict:  # noqa: N802 - Flask config key
        return engine_options(self)

    @property
    def RATELIMIT_STORAGE_OPTIONS(self) -> dict:  # noqa: N802 - Flask-Limiter config key
        """Redis keys live under RATELIMIT_KEY_PREFIX, so limiter.reset() clears only ours.

        (limits' Redis storage otherwise deletes every `LIMITS:*` key of the database on reset.)
        """
        return {"key_prefix": self.RATELIMIT_KEY_PREFIX} if self.RATELIMIT_STORAGE_URI.startswith("redis") else {}

    def validate(self) -> None:
        """Raise ConfigError if the settings cannot run this environment."""
        from limits import parse

        for name in ("RATELIMIT_PER_ADDRESS", "RATELIMIT_PER_USER", "LOGIN_FAILURES_PER_EMAIL",
                     "LOGIN_FAILURES_PER_ADDRESS"):
            try:
                parse(getattr(self, name))
            except ValueError as exc:
                raise ConfigError(f"{name} must read like '1200 per minute', got {getattr(self, name)!r}") from exc
        from app.business_time import is_iana_zone

        if not is_iana_zone(self.BUSINESS_TIMEZONE):
            raise ConfigError(f"BUSINESS_TIMEZONE {self.BUSINESS_TIMEZONE!r} is not an IANA time zone")
        hh, _, mm = self.BUSINESS_DAY_STARTS_AT.partition(":")
        if not (hh.isdigit() and mm.isdigit() and int(hh) < 24 and int(mm) < 60):
            raise ConfigError(f"BUSINESS_DAY_STARTS_AT must be HH:MM, got {self.BUSINESS_DAY_STARTS_AT!r}")
        from app.money import CURRENCIES

        if self.CURRENCY not in CURRENCIES:
            raise ConfigError(f"CURRENCY must be an ISO 4217 code of app/money.py CURRENCIES, got {self.CURRENCY!r}")


def engine_options(cfg: Config) -> dict:
    """SQLAlchemy engine options: timeouts and pool for PostgreSQL, a busy wait for SQLite."""
    url = cfg.SQLALCHEMY_DATABASE_URI
    if url.startswith("postgresql"):
        return {
            "pool_pre_ping": True,
            "pool_size": cfg.DB_POOL_SIZE,
            "max_overflow": cfg.DB_MAX_OVERFLOW,
            "pool_timeout": cfg.DB_POOL_TIMEOUT,
            "connect_args": {
                "connect_timeout": cfg.DB_CONNECT_TIMEOUT,
                # A dead host or a cut network (no RST, no answer) is noticed by TCP itself:
                # keepalive probes on an idle connection, and unacknowledged data given up
                # after the response timeout.
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 3,
                "keepalives_count": 3,
                "tcp_user_timeout": cfg.DB_RESPONSE_TIMEOUT_MS,
                "options": f"-c statement_timeout={cfg.DB_STATEMENT_TIMEOUT_MS} -c timezone=UTC",
                "application_name": "comanda",
            },
        }
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    return {}


class DevelopmentConfig(Config):
    """Zero-configuration local development on a SQLite file under instance/."""

    ENV_NAME = "development"
    DEBUG = True

    def __init__(self) -> None:
        super().__init__()
        generated = _instance_secrets()
        self.SECRET_KEY = self.SECRET_KEY or generated["SECRET_KEY"]
        self.JWT_SECRET_KEY = self.JWT_SECRET_KEY or generated["JWT_SECRET_KEY"]
        if not self.SQLALCHEMY_DATABASE_URI:
            self.SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'comanda.db'}"


class TestingConfig(Config):
    """Used by the test suite; the tests pass the database URL explicitly."""

    ENV_NAME = "testing"
    TESTING = True

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "test-secret-key-" + "x" * 32
        self.JWT_SECRET_KEY = "test-jwt-secret-key-" + "y" * 32
        self.SQLALCHEMY_DATABASE_URI = self.SQLALCHEMY_DATABASE_URI or "sqlite://"
        # The suite makes thousands of requests a minute from one address as one user; tests of the
        # limits set their own allowances.
        self.RATELIMIT_PER_ADDRESS = os.environ.get("RATELIMIT_PER_ADDRESS", "1000000 per minute")
        self.RATELIMIT_PER_USER = os.environ.get("RATELIMIT_PER_USER", "1000000 per minute")
        # Cheap hashes keep the suite fast; production uses the argon2 defaults.
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST = 1024
        self.ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    """Refuses to start without real secrets and a real database."""

    ENV_NAME = "production"

    @staticmethod
    def default_log_format() -> str:
        return "json"

    def validate(self) -> None:
        missing = [name for name in ("SECRET_KEY", "JWT_SECRET_KEY") if not getattr(self, name)]
        if not os.environ.get("DATABASE_URL"):
            missing.append("DATABASE_URL")
        if missing:
            raise ConfigError(f"production needs {', '.join(missing)} in the environment")
        if len((self.JWT_SECRET_KEY or "").encode()) < 32:
            raise ConfigError("JWT_SECRET_KEY must be at least 32 bytes")
        super().validate()


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def load_config(name: str | None = None) -> Config:
    """Build the configuration named by `name` or `COMANDA_ENV` and validate it."""
    name = name or os.environ.get("COMANDA_ENV", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigError(f"COMANDA_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from None
    cfg = cls()
    cfg.validate()
    return cfg
