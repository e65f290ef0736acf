"""The one wait for a condition: checked every few milliseconds, failing with a message after ``timeout``."""

import asyncio
import time
from collections.abc import Callable

POLL_S = 0.002


async def until(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Wait (without blocking the event loop) until ``condition()`` is true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not reached within {timeout} s"
        await asyncio.sleep(POLL_S)


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """``until`` for a test without an event loop (one that drives threads or processes)."""
    asyncio.run(until(condition, timeout, what))
