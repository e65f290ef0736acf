"""Per-user request pacing for the canvas's API: a token bucket per user (pure, clock passed in)."""

from collections import OrderedDict
from dataclasses import dataclass

MAX_TRACKED = 10_000  # users remembered at once; the longest idle are forgotten first


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """At most ``burst`` requests at once, refilled at ``rate_per_s``, per key."""

    def __init__(self, rate_per_s: float, burst: int):
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    def check(self, key: int, now: float) -> float:
        """0 when a request may go now (and it is counted); else the seconds to wait."""
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate_per_s)
        bucket.at = now
        self._buckets[key] = bucket
        while len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate_per_s
