"""Per-user limits of the canvas's API (pure, clock passed in): a token bucket per user, one picture at a time,
and the largest picture the page ever sends."""

from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

MAX_TRACKED = 10_000  # users remembered at once; the longest idle are forgotten first
MAX_SIDE = 512  # the page sends at most 512×512 (draw.html's OUT_SIDE): anything larger is refused unread
# The HTTP server's header limits (aiohttp ``RequestHandler`` arguments). aiohttp's own default field limit,
# 8190 bytes, answers a longer header itself with a plain-text 400 quoting it; up to 64 KiB the request
# reaches the routes instead, where init data over ``initdata.MAX_INIT_DATA_LENGTH`` gets the JSON 401 the
# page understands. Fewer headers than aiohttp's 128 keep the most one request may hold at 4 MiB.
MAX_HEADER_FIELD_BYTES, MAX_HEADERS = 64 * 1024, 64


def oversized(size: tuple[int, int], max_side: int = MAX_SIDE) -> bool:
    """Whether a picture of ``size`` (width, height, from its header) is larger than the canvas ever sends."""
    return max(size) > max_side


@dataclass
class OneAtATime:
    """At most one picture in progress per key (a user): a second one at the same time is refused."""

    _busy: set[int] = field(default_factory=set)

    def busy(self, key: int) -> bool:
        return key in self._busy

    @contextmanager
    def hold(self, key: int) -> Iterator[None]:
        """Hold ``key``'s slot for the block (check ``busy`` first: a taken slot is a bug)."""
        if key in self._busy:
            raise RuntimeError(f"{key} already holds a picture slot")
        self._busy.add(key)
        try:
            yield
        finally:
            self._busy.discard(key)

    def __len__(self) -> int:
        return len(self._busy)


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
