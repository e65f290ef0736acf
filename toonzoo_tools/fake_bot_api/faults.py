"""Scripted faults (HTTP errors, hangs, dropped connections, broken downloads) and Telegram's flood limit."""

import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web

from .base import ApiError, Core, _error_response
from .world import _State

GROUP_LIMIT = 20  # messages into one group per window
GROUP_WINDOW_S = 60.0
# Methods Telegram counts against a group's messages (of those the fake implements).
FLOOD_COUNTED = frozenset({"sendMessage", "sendChatAction", "sendPhoto"})


@dataclass
class _Fault:
    status: int | str
    remaining: int | None  # None: every time until cleared
    retry_after: int = 1
    description: str | None = None
    delay: float | None = None


class Faults(Core):
    """Faults a test scripts (``fail_next``, ``set_file_fault``) and the per-group flood limit."""

    group_limit: int | None
    group_window_s: float
    hang_seconds: float
    _accepted: dict[int, deque[float]]  # group id -> when its counted messages were accepted
    _faults: dict[str, list[_Fault]]
    _file_faults: dict[str, _Fault]
    _state: _State

    def fail_next(
        self,
        method: str,
        status: int | str = 500,
        *,
        count: int | None = 1,
        retry_after: int = 1,
        description: str | None = None,
        delay: float | None = None,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (None: all, until ``clear_faults``)
        with an HTTP error status, "timeout" (hang for ``delay`` or ``hang_seconds``, then
        504) or "drop" (close the connection); the method itself does not run. "slow" is
        a slow Telegram instead: the call waits ``delay`` (or ``hang_seconds``), then the
        method runs and answers as usual."""
        _check_fault(status, allow_slow=True)
        method = self._canonical.get(method.lower(), method)
        self._faults.setdefault(method, []).append(_Fault(status, count, retry_after, description, delay))

    def set_file_fault(
        self,
        file_id: str,
        status: int | str = 500,
        *,
        count: int | None = 1,
        delay: float | None = None,
    ) -> None:
        """Make downloads of ``file_id`` fail: an HTTP status, "timeout", "drop" or
        "truncate" (serve the first half of the bytes)."""
        if file_id not in self._state.files:
            raise ValueError(f"unknown file_id {file_id!r}")
        _check_fault(status, allow_truncate=True)
        self._file_faults[file_id] = _Fault(status, count, delay=delay)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._file_faults.clear()

    async def _hold(self, fault: _Fault) -> None:
        """A "slow" fault: wait its delay (or until the server stops)."""
        delay = self.hang_seconds if fault.delay is None else fault.delay
        with contextlib.suppress(TimeoutError):
            await self._wait_until(lambda: self._closing, delay)

    async def _serve_fault(self, request: web.Request, fault: _Fault) -> web.StreamResponse:
        if fault.status == "drop":
            if request.transport is not None:
                request.transport.abort()
            # Nothing reaches the client; aiohttp discards this response.
            return web.Response(status=500)
        if fault.status == "timeout":
            delay = self.hang_seconds if fault.delay is None else fault.delay
            with contextlib.suppress(TimeoutError):
                await self._wait_until(lambda: self._closing, delay)
            return _error_response(ApiError("Gateway Timeout", 504))
        status = int(fault.status)
        if status == 429:
            return _error_response(
                ApiError(
                    fault.description or f"Too Many Requests: retry after {fault.retry_after}",
                    429,
                    {"retry_after": fault.retry_after},
                )
            )
        return _error_response(
            ApiError(fault.description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}"), status)
        )

    def _flood_window(self, method: str, params: dict) -> deque[float] | None:
        """The accepted times that count against this call's group, or None when none do."""
        chat = self._state.chats.get(params.get("chat_id", 0))  # 0: no chat has it
        if self.group_limit is None or method not in FLOOD_COUNTED or chat is None:
            return None
        if chat["type"] not in ("group", "supergroup"):
            return None
        window = self._accepted.setdefault(chat["id"], deque())
        now = time.time()
        while window and window[0] <= now - self.group_window_s:
            window.popleft()
        return window

    def _check_flood(self, method: str, params: dict) -> None:
        window = self._flood_window(method, params)
        if window is not None and self.group_limit is not None and len(window) >= self.group_limit:
            retry_after = max(1, math.ceil(window[0] + self.group_window_s - time.time()))
            raise ApiError(f"Too Many Requests: retry after {retry_after}", 429, {"retry_after": retry_after})

    def _count_flood(self, method: str, params: dict) -> None:
        window = self._flood_window(method, params)
        if window is not None:
            window.append(time.time())


_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _take(faults: list[_Fault] | None) -> _Fault | None:
    if not faults:
        return None
    fault = faults[0]
    if fault.remaining is not None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
    return fault


def _check_fault(status: int | str, *, allow_truncate: bool = False, allow_slow: bool = False) -> None:
    words = {"timeout", "drop"} | ({"truncate"} if allow_truncate else set()) | ({"slow"} if allow_slow else set())
    if isinstance(status, str) and status not in words:
        raise ValueError(f"fault must be an HTTP status or one of {sorted(words)}, not {status!r}")
    if isinstance(status, int) and not 400 <= status <= 599:
        raise ValueError(f"fault status must be 4xx or 5xx, not {status}")
