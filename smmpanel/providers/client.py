"""Calls to an upstream panel's API v2, sorted by what they mean for our orders.

The distinction that keeps orders at most once: `Unreachable` means the request never got
there (safe to send again), `NoAnswer` means it may have (the order is in doubt), `Rejected`
means the upstream answered with an error.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import orjson

FUNDS_WORDS = ("fund", "balance")
# Failures before any byte of the request left: an address httpx cannot use counts too.
NEVER_SENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.InvalidURL,
    httpx.UnsupportedProtocol,
)


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


class UpstreamClient:
    """One shared httpx client per process; every call has the provider's timeout."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, endpoint: Endpoint, action: str, **fields: object) -> Any:
        form = {"key": endpoint.api_key, "action": action}
        form.update({name: str(value) for name, value in fields.items() if value is not None})
        try:
            response = await self.http.post(
                endpoint.api_url, data=form, timeout=endpoint.timeout_seconds
            )
        except NEVER_SENT as exc:
            raise Unreachable(_describe(exc)) from None
        except httpx.HTTPError as exc:
            raise NoAnswer(_describe(exc)) from None
        return _decode(response)

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


def _decode(response: httpx.Response) -> Any:
    """A usable reply; `{"error"}` is a definite answer only with HTTP 200 (API v2 answers its
    errors so). Elsewhere it is a failure: our own panel says 503 "Temporary error" when it may
    or may not have done the work."""
    try:
        reply = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise _unusable(response, f"not JSON: {response.text[:120]!r}") from None
    if response.status_code != 200:
        raise _unusable(response, _excerpt(reply))
    if isinstance(reply, dict) and "error" in reply:
        raise Rejected(str(reply["error"]))
    return reply


def _unusable(response: httpx.Response, detail: str) -> UpstreamError:
    if response.status_code == 429:
        return Unreachable(f"rate limited (HTTP 429): {detail}")
    return NoAnswer(f"HTTP {response.status_code}, {detail}")


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _excerpt(reply: object) -> str:
    return orjson.dumps(reply).decode()[:200]
