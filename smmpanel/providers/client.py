"""Calls to an upstream panel's API v2, sorted by what they mean for our orders.

The distinction that keeps orders at most once: `Unreachable` means the request never got
there (safe to send again), `NoAnswer` means it may have (the order is in doubt), `Rejected`
means the upstream answered with an error.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
from yarl import URL

FUNDS_WORDS = ("fund", "balance")
# Connections the process keeps to all upstreams together; a call waits for a free one.
MAX_CONNECTIONS = 64
# Idle connections are closed before the upstream's own keep-alive (uvicorn's: 5 s) runs out, so
# a call rarely meets one closed under it: that is a `NoAnswer`, an order in doubt.
KEEP_ALIVE_SECONDS = 4.0
# The largest reply read (a catalogue of many thousands of services fits): more is `NoAnswer`.
MAX_REPLY_BYTES = 64 * 1024 * 1024
# Failures before any byte of the request left: no connection (refused, no route, no such
# host, TLS handshake), none free in time (the connect timeout covers waiting for the pool),
# an address aiohttp cannot use (`_address` turns away most before aiohttp sees them).
NEVER_SENT = (
    aiohttp.ClientConnectorError,
    aiohttp.ConnectionTimeoutError,
    aiohttp.InvalidURL,
    aiohttp.NonHttpUrlClientError,
)
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


class UpstreamError(Exception):
    """Anything but a usable answer from the upstream."""


class Unreachable(UpstreamError):
    """The request did not reach the upstream: sending again is safe."""


class NoAnswer(UpstreamError):
    """The request may have reached the upstream, but no usable answer came back."""


class Rejected(UpstreamError):
    """The upstream answered {"error": ...}."""

    @property
    def short_of_funds(self) -> bool:
        message = str(self).lower()
        return any(word in message for word in FUNDS_WORDS)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to reach one provider."""

    provider_id: int
    api_url: str
    api_key: str
    timeout_seconds: float


def upstream_session(max_connections: int = MAX_CONNECTIONS) -> aiohttp.ClientSession:
    """The session of a process's upstream calls (aiohttp: a fifth of httpx's CPU per call or
    less, measured in docs/forwarding.md's "Speed"). No cookies kept, no redirects followed (each
    call says so), no proxy or netrc taken from the environment."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=max_connections, limit_per_host=0, keepalive_timeout=KEEP_ALIVE_SECONDS
        ),
        headers={"User-Agent": "smmpanel"},
        cookie_jar=aiohttp.DummyCookieJar(),
    )


@lru_cache(maxsize=64)
def call_timeouts(seconds: float) -> aiohttp.ClientTimeout:
    """A call's bounds from its provider's timeout T: T to get a connection (waiting for a free
    one included: `Unreachable` when it runs out), then never T without a byte of the answer
    and 2T in all (`NoAnswer`). The total is twice T so that it never runs out while connecting,
    where the connect timeout (which says "never sent") must be the one to end the call."""
    return aiohttp.ClientTimeout(total=2 * seconds, connect=seconds, sock_read=seconds)


class UpstreamClient:
    """Calls over the process's one session (`upstream_session`), each with its provider's
    timeouts."""

    def __init__(self, http: aiohttp.ClientSession) -> None:
        self.http = http

    async def call(self, endpoint: Endpoint, action: str, **fields: object) -> Any:
        form = {"key": endpoint.api_key, "action": action}
        form.update({name: str(value) for name, value in fields.items() if value is not None})
        try:
            async with self.http.post(
                _address(endpoint.api_url),
                data=urlencode(form).encode(),
                headers=FORM_HEADERS,
                allow_redirects=False,
                timeout=call_timeouts(endpoint.timeout_seconds),
            ) as response:
                body = await _read_body(response)
        except NEVER_SENT as exc:
            raise Unreachable(_describe(exc)) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise NoAnswer(_describe(exc)) from None
        return _decode(response.status, body)

    async def add(self, endpoint: Endpoint, fields: dict[str, object]) -> str:
        reply = await self.call(endpoint, "add", **fields)
        order = reply.get("order") if isinstance(reply, dict) else None
        if isinstance(order, bool) or not isinstance(order, int | str) or not str(order).strip():
            raise NoAnswer(f"the reply names no order: {_excerpt(reply)}")
        return str(order).strip()

    async def statuses(self, endpoint: Endpoint, upstream_ids: list[str]) -> dict[str, Any]:
        reply = await self.call(endpoint, "status", orders=",".join(upstream_ids))
        if not isinstance(reply, dict):
            raise NoAnswer(f"multi-status reply is not an object: {_excerpt(reply)}")
        return reply

    async def balance(self, endpoint: Endpoint) -> tuple[Decimal, str]:
        reply = await self.call(endpoint, "balance")
        try:
            return Decimal(str(reply["balance"])), str(reply.get("currency", ""))
        except (KeyError, TypeError, InvalidOperation):
            raise NoAnswer(f"balance reply without a balance: {_excerpt(reply)}") from None

    async def services(self, endpoint: Endpoint) -> list[dict[str, Any]]:
        reply = await self.call(endpoint, "services")
        if not isinstance(reply, list):
            raise NoAnswer(f"services reply is not a list: {_excerpt(reply)}")
        return [entry for entry in reply if isinstance(entry, dict)]


@lru_cache(maxsize=256)
def _address(api_url: str) -> URL:
    """A provider's address, parsed once; one that is no http(s) URL is never sent."""
    try:
        url = URL(api_url)
    except (ValueError, TypeError):
        raise Unreachable(f"not a usable address: {api_url!r}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise Unreachable(f"not an http(s) address: {api_url!r}")
    return url


async def _read_body(response: aiohttp.ClientResponse) -> bytes:
    if (response.content_length or 0) > MAX_REPLY_BYTES:
        raise NoAnswer(f"a reply of {response.content_length} bytes, over {MAX_REPLY_BYTES}")
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise NoAnswer(f"a reply of over {MAX_REPLY_BYTES} bytes")
    return bytes(body)


def _decode(status: int, body: bytes) -> Any:
    """A usable reply; `{"error"}` is a definite answer only with HTTP 200 (API v2 answers its
    errors so). Elsewhere it is a failure: our own panel says 503 "Temporary error" when it may
    or may not have done the work."""
    try:
        reply = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body[:480].decode("utf-8", "replace")[:120]
        raise _unusable(status, f"not JSON: {text!r}") from None
    if status != 200:
        raise _unusable(status, _excerpt(reply))
    if isinstance(reply, dict) and "error" in reply:
        raise Rejected(str(reply["error"]))
    return reply


def _unusable(status: int, detail: str) -> UpstreamError:
    if status == 429:
        return Unreachable(f"rate limited (HTTP 429): {detail}")
    return NoAnswer(f"HTTP {status}, {detail}")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _excerpt(reply: object) -> str:
    return orjson.dumps(reply).decode()[:200]
