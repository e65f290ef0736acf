"""What every part of the fake shares: Telegram's limits, the recorded Call, ApiError and text helpers."""

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "123456789:AAFakeTokenForToonzooTests_0123456789"
BOT_USERNAME = "toonzoo_test_bot"
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # bots may download files up to 20 MB
MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, as Telegram counts
MAX_CALLBACK_DATA = 64  # bytes
MAX_CAPTION_LENGTH = 1024
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024  # bots may upload photos up to 10 MB
GROUP_ANONYMOUS_BOT: dict[str, Any] = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?(?=\s|$)")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")


@dataclass
class Call:
    """One request the bot made: ``status`` is the HTTP status sent, or "timeout"/"drop"."""

    method: str
    params: dict[str, Any]
    status: int | str = 200
    result: Any = None
    at: float = field(default_factory=time.time)  # when the fake answered it


class ApiError(Exception):
    """Raised by a method to answer ``{"ok": false, …}``."""

    def __init__(self, description: str, code: int = 400, parameters: dict | None = None):
        super().__init__(description)
        self.description = description
        self.code = code
        self.parameters = parameters


def _bad_request(what: str) -> ApiError:
    return ApiError(f"Bad Request: {what}")


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


def _update_kind(update: dict) -> str:
    return next(key for key in update if key != "update_id")


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _command_entities(text: str) -> list[dict]:
    """The entities Telegram derives from plain text: a leading /command and @mentions."""
    entities = []
    match = _COMMAND.match(text)
    if match:
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_length(match.group())})
    for mention in _MENTION.finditer(text):
        if match and mention.start() < match.end():
            continue
        entities.append(
            {
                "type": "mention",
                "offset": _utf16_length(text[: mention.start()]),
                "length": _utf16_length(mention.group()),
            }
        )
    return entities


class Core:
    """The bot's identity, the calls it made and the change signal that wakes every waiter."""

    token: str
    bot: dict[str, Any]
    _canonical: dict[str, str]  # lower-case method name -> Telegram's spelling
    _calls: list[Call]
    _examined: set[int]  # indexes of calls a wait or a lookup showed the test
    _changed: asyncio.Event
    _closing: bool

    def _examine(self, shown: Callable[[Call], bool]) -> None:
        """Count the calls ``shown`` picks as looked at by the test."""
        self._examined.update(index for index, call in enumerate(self._calls) if shown(call))

    def _notify(self) -> None:
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    async def _wait_until(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds (True) or the server stops (False).

        Raises TimeoutError after ``timeout`` seconds. Every change of state
        (a call, an update, stop) swaps in a fresh Event and sets the old one,
        so waiters re-check without polling.
        """
        async with asyncio.timeout(timeout):
            while True:
                if condition():
                    return True
                if self._closing:
                    return False
                await self._changed.wait()
