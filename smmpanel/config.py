"""Settings from the environment (prefix SMMPANEL_) or a .env file."""

import ipaddress
from datetime import timedelta
from functools import lru_cache

from pydantic import ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from smmpanel.errors import refusal

DEVELOPMENT_SECRET = "development-only-secret"
MIN_SECRET_LENGTH = 32
NEW_SECRET_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"

SETTINGS_REFUSED = refusal("settings_refused", "Settings refused: %(problems)s")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMMPANEL_", env_file=".env", extra="ignore")

    environment: str = "development"
    database_url: str = "sqlite:///./smmpanel.db"
    secret_key: str = DEVELOPMENT_SECRET
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "WARNING"
    # Requests per customer (all its keys together) per second on /api/v2; 0: no limit.
    api_rate_limit: int = 50
    api_rate_burst: int = 200
    # Requests per client address per second on /api/v2 with no key or an invalid one; 0: none.
    api_address_rate_limit: int = 5
    api_address_rate_burst: int = 20
    # Proxies whose X-Forwarded-For/-Proto are believed: addresses or networks, comma-separated.
    trusted_proxies: str = ""
    # Seconds a request's head and body may take to arrive; a slower connection is closed.
    request_read_timeout: float = 30.0
    # Connections per process for transactions, plus a quarter as many (at least 1) for the
    # API's hot reads; on PostgreSQL, processes x that total must fit max_connections.
    db_pool_size: int = 10
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
    # How often a refill sent upstream and still open is asked about again.
    refill_poll_seconds: int = 300
    # Bearer token that /metrics asks for; empty: /metrics answers loopback clients only.
    metrics_token: str = ""
    # Accounts one client address may make on /signup per hour, counted in the database.
    sign_ups_per_address_per_hour: int = 10
    # Hours a payment started at a gateway may wait for it to be paid before it expires.
    payment_hours: int = 72
    # The panel's public address (https://panel.example) for the addresses gateways are given;
    # empty: the address of the request that starts the payment.
    public_url: str = ""
    # Session cookies carry the Secure flag: on by default only for requests made over https.
    cookie_secure: bool | None = None

    @field_validator("database_url")
    @classmethod
    def use_async_driver(cls, url: str) -> str:
        return async_database_url(url)

    @field_validator("trusted_proxies")
    @classmethod
    def check_networks(cls, proxies: str) -> str:
        for proxy in proxy_list(proxies):
            ipaddress.ip_network(proxy, strict=False)  # its ValueError names the bad entry
        return proxies

    @model_validator(mode="after")
    def refuse_weak_secret(self) -> "Settings":
        if self.environment == "development":
            return self
        if self.secret_key == DEVELOPMENT_SECRET:
            raise ValueError(
                f"SMMPANEL_SECRET_KEY must be set outside development ({NEW_SECRET_HINT})"
            )
        if len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"SMMPANEL_SECRET_KEY has {len(self.secret_key)} characters; outside development "
                f"it needs at least {MIN_SECRET_LENGTH} ({NEW_SECRET_HINT})"
            )
        return self

    @property
    def trusted_proxy_list(self) -> list[str]:
        return proxy_list(self.trusted_proxies)

    @property
    def payment_lifetime(self) -> timedelta:
        return timedelta(hours=self.payment_hours)

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

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


def proxy_list(proxies: str) -> list[str]:
    return [proxy.strip() for proxy in proxies.split(",") if proxy.strip()]


@lru_cache
def get_settings() -> Settings:
    """The settings, or a refusal saying on one line which are wrong and why."""
    try:
        return Settings()
    except ValidationError as invalid:
        problems = "; ".join(_problem(error) for error in invalid.errors())
        raise SETTINGS_REFUSED(problems=problems) from None


def _problem(error: ErrorDetails) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:  # the whole model's check: its message names the setting
        return message
    return f"SMMPANEL_{str(error['loc'][0]).upper()}: {message}"
