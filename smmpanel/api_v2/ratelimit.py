"""A token bucket per API key, in this process: a guard against floods, not an accounting."""

import time

MAX_TRACKED_KEYS = 50_000


class RateLimiter:
    def __init__(self, per_second: int, burst: int) -> None:
        self.per_second = per_second
        self.burst = max(burst, per_second)
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        if self.per_second <= 0:
            return True
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.per_second)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        if len(self._buckets) >= MAX_TRACKED_KEYS and key not in self._buckets:
            self._buckets.clear()
        self._buckets[key] = (tokens - 1, now)
        return True
