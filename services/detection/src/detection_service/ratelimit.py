"""A token bucket per integration, on injected time (so tests never sleep).

PagerDuty documents a per-routing-key limit and answers 429 beyond it; clients retry
on 429, so refusing early costs nothing but a delay. Kept in memory: a restart refills
every bucket, which only ever admits more.
"""

from __future__ import annotations

import threading
from datetime import datetime


class TokenBuckets:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, now: datetime, cost: float = 1.0) -> bool:
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            elapsed = max(0.0, (now - last).total_seconds())
            tokens = min(self.burst, tokens + elapsed * self.rate)
            if tokens < cost:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - cost, now)
            return True
