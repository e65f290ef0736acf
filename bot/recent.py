"""A small bounded memory of recently seen keys (which messages were answered, which
groups were greeted): pure, no telegram import, kept in ``bot.services.Services``."""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable


class RecentKeys:
    """The last ``max_size`` keys added, each forgotten after ``max_age_s`` (if given)."""

    def __init__(
        self,
        max_size: int = 4096,
        max_age_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_size = max_size
        self.max_age_s = max_age_s
        self._clock = clock
        self._added: OrderedDict[Hashable, float] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True when it was not remembered already (check and set in one step)."""
        now = self._clock()
        self._forget_old(now)
        is_new = key not in self._added
        self._added[key] = now
        self._added.move_to_end(key)
        while len(self._added) > self.max_size:
            self._added.popitem(last=False)
        return is_new

    def __contains__(self, key: Hashable) -> bool:
        self._forget_old(self._clock())
        return key in self._added

    def __len__(self) -> int:
        return len(self._added)

    def _forget_old(self, now: float) -> None:
        if self.max_age_s is None:
            return
        while self._added:
            key, added = next(iter(self._added.items()))
            if now - added < self.max_age_s:
                break
            del self._added[key]
