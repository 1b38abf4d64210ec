"""Token buckets in this process, one per customer or client address: a guard against floods,
not an accounting."""

import ipaddress
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

MAX_TRACKED_BUCKETS = 50_000


class RateLimiter:
    """Buckets kept in order of last use. When the table is full, the least recently used
    bucket goes only if it has refilled (it then equals a new one): a flood of new clients
    never hands an exhausted client a fresh burst; instead the newcomers wait for room."""

    def __init__(
        self,
        per_second: int,
        burst: int,
        *,
        max_buckets: int = MAX_TRACKED_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.burst = max(burst, per_second)
        self.max_buckets = max_buckets
        self.clock = clock
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def allow(self, client: Hashable) -> bool:
        if self.per_second <= 0:
            return True
        now = self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if not self._make_room(now):
                return False
            tokens = float(self.burst)
        else:
            tokens = self._refilled(bucket, now)
            self._buckets.move_to_end(client)
        allowed = tokens >= 1
        self._buckets[client] = (tokens - 1 if allowed else tokens, now)
        return allowed

    def _refilled(self, bucket: tuple[float, float], now: float) -> float:
        tokens, last = bucket
        return min(self.burst, tokens + (now - last) * self.per_second)

    def _make_room(self, now: float) -> bool:
        if len(self._buckets) < self.max_buckets:
            return True
        oldest = next(iter(self._buckets.values()))
        if self._refilled(oldest, now) < self.burst:
            return False
        self._buckets.popitem(last=False)
        return True


@dataclass(frozen=True)
class ApiLimits:
    """A request with a valid key counts against its customer, whichever of the customer's
    keys it carries; one without a key, or with an invalid one, against its client address."""

    customers: RateLimiter
    addresses: RateLimiter

    def allow(self, customer_id: int | None, client_host: str | None) -> bool:
        if customer_id is not None:
            return self.customers.allow(customer_id)
        return self.addresses.allow(address_bucket(client_host or "unknown"))


def address_bucket(host: str) -> str:
    """An IPv6 client counts as its /64, which is one site's: it cannot spread over it."""
    if ":" not in host:
        return host
    try:
        return str(ipaddress.IPv6Network((host, 64), strict=False))
    except ValueError:
        return host
