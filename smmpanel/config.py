"""Settings from the environment (prefix SMMPANEL_) or a .env file."""

import ipaddress
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
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
    # Connections per process for transactions, plus half as many (at least 1) for the
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
    # The SMTP server the worker sends e-mail through: smtp://user:password@host:587?starttls=true
    # or smtps://... (TLS from the start); empty: no e-mail is sent, messages wait in the outbox.
    smtp_url: str = ""
    # The From address of every e-mail; required with smtp_url.
    mail_from: str = ""
    # Where operator alerts go by e-mail: addresses, comma-separated; empty: not by e-mail.
    alert_email: str = ""
    # Operator alerts by Telegram (the Bot API's sendMessage): both empty means not by Telegram.
    telegram_bot_token: str = ""
    telegram_chat_id: str = ""
    telegram_api_url: str = "https://api.telegram.org"
    # Attempts at one message before it is given up as failed; waits double from the first.
    outbox_max_attempts: int = 8
    outbox_first_retry_seconds: int = 30
    # Days a sent message stays in the outbox (a failed one three times as long).
    outbox_keep_days: int = Field(default=30, ge=1)
    # Operator alerts sent per minute at most; the rest wait their turn.
    alerts_per_minute: int = 20

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

    @field_validator("smtp_url")
    @classmethod
    def check_smtp_url(cls, url: str) -> str:
        if url:
            smtp_server(url)  # its ValueError says what is wrong
        return url

    @field_validator("outbox_max_attempts", "outbox_first_retry_seconds", "alerts_per_minute")
    @classmethod
    def check_at_least_one(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"must be 1 or more, not {value}")
        return value

    @field_validator("alert_email")
    @classmethod
    def check_alert_addresses(cls, addresses: str) -> str:
        for address in address_list(addresses):
            if "@" not in address or any(char.isspace() for char in address):
                raise ValueError(f"not an e-mail address: {address!r}")
        return addresses

    @field_validator("telegram_api_url")
    @classmethod
    def check_telegram_api_url(cls, url: str) -> str:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        return url.rstrip("/")

    @model_validator(mode="after")
    def refuse_half_mail_settings(self) -> "Settings":
        if self.smtp_url and "@" not in self.mail_from:
            raise ValueError(
                "SMMPANEL_MAIL_FROM must be an e-mail address when SMMPANEL_SMTP_URL is set"
            )
        if bool(self.telegram_bot_token) != bool(self.telegram_chat_id):
            raise ValueError(
                "SMMPANEL_TELEGRAM_BOT_TOKEN and SMMPANEL_TELEGRAM_CHAT_ID go together:"
                " set both or neither"
            )
        return self

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

    @property
    def smtp(self) -> "SmtpServer | None":
        return smtp_server(self.smtp_url) if self.smtp_url else None

    @property
    def alert_addresses(self) -> list[str]:
        return address_list(self.alert_email)

    @property
    def telegram_configured(self) -> bool:
        return bool(self.telegram_bot_token and self.telegram_chat_id)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    # TLS from the first byte (smtps://), or upgraded by STARTTLS after the greeting: always
    # (true), never (false) or when the server offers it (None: starttls not given).
    use_tls: bool
    start_tls: bool | None


def smtp_server(url: str) -> SmtpServer:
    """An SMTP URL read: smtp://[user:password@]host[:port][?starttls=true|false] or
    smtps://...; the port is 587 (smtp) or 465 (smtps) unless given."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"not an SMTP URL (smtp://... or smtps://...): scheme {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("the SMTP URL names no host (smtp://user:password@host:587)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the SMTP URL's port is not a number from 1 to 65535") from None
    options = parse_qs(parts.query)
    unknown = set(options) - {"starttls"}
    if unknown:
        raise ValueError(f"unknown SMTP URL options: {', '.join(sorted(unknown))} (only starttls)")
    start_tls = _flag(options["starttls"][-1]) if "starttls" in options else None
    implicit_tls = parts.scheme == "smtps"
    if implicit_tls and start_tls:
        raise ValueError("smtps:// is TLS already: starttls=true goes with smtp:// only")
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if implicit_tls else 587),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        use_tls=implicit_tls,
        start_tls=start_tls,
    )


def _flag(value: str) -> bool:
    if value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ValueError(f"starttls must be true or false, not {value!r}")


def address_list(addresses: str) -> list[str]:
    return [address.strip() for address in addresses.split(",") if address.strip()]


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
