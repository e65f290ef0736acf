"""A local fake of the Telegram Bot API, for end-to-end tests of the bot and the load tools.

Shaped like aiohttp's ``examples/fake_server.py``: a class owning a
``web.Application``; ``start()`` binds 127.0.0.1 on a free port and returns
it, ``stop()`` cleans up. Point python-telegram-bot at it with::

    from toonzoo_tools.fake_bot_api import FakeBotApi

    fake = FakeBotApi()
    await fake.start()
    app = (
        Application.builder().token(fake.token)
        .base_url(f"{fake.base_url}/bot").base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )

The test side registers users, chats and files, then enqueues updates the way
Telegram would deliver them (``send_text``, ``send_photo``, ``send_album``,
``edit_message``, ``press_button``, ``send_inline_query``, ``add_bot_to_group``,
…); each returns the Message (or CallbackQuery, InlineQuery) dict it created.
Inline mode is on: answerInlineQuery answers an injected query, and
savePreparedInlineMessage keeps what the bot prepared (``prepared_message``). Every API call the bot makes
is recorded; ``await fake.wait_for("sendMessage")`` returns
the parameters of the next matching call not returned before.

Parameters arrive the way PTB sends them: form or multipart fields whose
non-string values are JSON-encoded (a JSON body works too). Responses follow
Telegram's shapes: ``{"ok": true, "result": …}`` or ``{"ok": false,
"error_code": 400, "description": "Bad Request: …"}``. A malformed token gets
404 and a well-formed wrong one 401, as with Telegram.

Fault injection: ``fail_next(method, status)`` answers the next call(s) of a
method with an HTTP error (429 carries ``retry_after``), a hang
(``"timeout"``) or a dropped connection (``"drop"``), without running the
method, or holds them a while and then runs the method (``"slow"``);
``set_file_fault(file_id, …)`` does the same for downloads (plus
``"truncate"``, which serves half the bytes; no ``"slow"``).

Flood limit: like Telegram, the fake lets at most ``group_limit`` messages
(``sendMessage``, ``sendChatAction``, ``sendPhoto``) into one group or supergroup in any
``group_window_s`` seconds (20 a minute by default); the next one gets ``429
Too Many Requests: retry after N`` with ``parameters.retry_after``. Private
chats have no such limit here (Telegram asks for about one message a second
there but tolerates bursts). ``group_limit=None`` turns the limit off. Every
recorded call carries ``at``, the time (``time.time()``) it was answered, so a
test can tell when each message was accepted.

Helpers that enqueue updates are plain (not async) methods; waiting is async.
Call everything from the test's event loop thread.

Modules: ``server`` (the aiohttp app, HTTP handling), ``world`` (users, chats,
members, messages, files and the updates they cause), ``methods`` (the Bot API
methods), ``calls`` (the recorded calls and the waits on them), ``faults``
(scripted faults and the flood limit), ``base`` (limits, Call, ApiError, text
helpers).
"""

from .base import (
    BOT_USERNAME,
    DEFAULT_TOKEN,
    GROUP_ANONYMOUS_BOT,
    MAX_CALLBACK_DATA,
    MAX_DOWNLOAD_SIZE,
    MAX_MESSAGE_LENGTH,
    ApiError,
    Call,
)
from .faults import FLOOD_COUNTED, GROUP_LIMIT, GROUP_WINDOW_S
from .methods import CHAT_ACTIONS, METHODS
from .server import FakeBotApi
from .world import MEMBER_STATUSES

__all__ = [
    "BOT_USERNAME",
    "CHAT_ACTIONS",
    "DEFAULT_TOKEN",
    "FLOOD_COUNTED",
    "GROUP_ANONYMOUS_BOT",
    "GROUP_LIMIT",
    "GROUP_WINDOW_S",
    "MAX_CALLBACK_DATA",
    "MAX_DOWNLOAD_SIZE",
    "MAX_MESSAGE_LENGTH",
    "MEMBER_STATUSES",
    "METHODS",
    "ApiError",
    "Call",
    "FakeBotApi",
]
