"""Settings from the environment (prefix SMMPANEL_) or a .env file."""

from functools import lru_cache

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMMPANEL_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = "sqlite:///./smmpanel.db"
    secret_key: str = DEVELOPMENT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "WARNING"
    # Requests per key per second on /api/v2; 0 turns the limit off.
    api_rate_limit: int = 50
    api_rate_burst: int = 200
    # Connections per process; below the number of requests in flight, the pool churns.
    db_pool_size: int = 20
    # Whether `smmpanel serve` runs the background worker in the same process.
    run_worker: bool = True
    worker_tick_seconds: float = 1.0
    forward_batch: int = 100
    poll_batch: int = 1000
    # A forwarded order is polled after this, then less often while nothing changes.
    poll_fastest_seconds: int = 60
    poll_slowest_seconds: int = 3600
    retry_unreachable_seconds: int = 30
    pause_short_of_funds_seconds: int = 300
    # An order still `sending` this long past its provider's timeout is put in doubt.
    sending_grace_seconds: int = 60
    # How old a provider's balance may get before the worker asks for it again.
    balance_check_seconds: int = 900
    # Session cookies carry the Secure flag: on by default only for requests made over https.
    cookie_secure: bool | None = None

    @field_validator("database_url")
    @classmethod
    def use_async_driver(cls, url: str) -> str:
        return async_database_url(url)

    @model_validator(mode="after")
    def refuse_default_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                "SMMPANEL_SECRET_KEY must be set outside development "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def async_database_url(url: str) -> str:
    """Accept plain and driver-qualified URLs; return the async driver's form."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(
            f"not a database URL: {url!r} (expected sqlite:///path or postgresql://...)"
        )
    base = scheme.split("+", 1)[0]
    if base == "sqlite":
        return f"sqlite+aiosqlite://{rest}"
    if base in ("postgresql", "postgres"):
        return f"postgresql+asyncpg://{rest}"
    raise ValueError(f"unsupported database {base!r}: use sqlite:///path or postgresql://...")


@lru_cache
def get_settings() -> Settings:
    return Settings()
