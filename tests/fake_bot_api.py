"""A local fake of the Telegram Bot API, for end-to-end tests of the bot.

Shaped like aiohttp's ``examples/fake_server.py``: a class owning a
``web.Application``; ``start()`` binds 127.0.0.1 on a free port and returns
it, ``stop()`` cleans up. Point python-telegram-bot at it with::

    fake = FakeBotApi()
    await fake.start()
    app = (
        Application.builder().token(fake.token)
        .base_url(f"{fake.base_url}/bot").base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )

The test side registers users, chats and files, then enqueues updates the way
Telegram would deliver them (``send_text``, ``send_photo``, ``send_album``,
``edit_message``, ``press_button``, ``add_bot_to_group``, …); each returns
the Message (or CallbackQuery) dict it created. Every API call the bot makes
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
method; ``set_file_fault(file_id, …)`` does the same for downloads (plus
``"truncate"``, which serves half the bytes).

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
"""

import asyncio
import io
import itertools
import json
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_TOKEN = "123456789:AAFakeTokenForToonzooTests_0123456789"
BOT_USERNAME = "toonzoo_test_bot"
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # bots may download files up to 20 MB
MAX_MESSAGE_LENGTH = 4096  # UTF-16 code units, as Telegram counts
MAX_CALLBACK_DATA = 64  # bytes
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
GROUP_LIMIT = 20  # messages into one group per window
GROUP_WINDOW_S = 60.0
# Methods Telegram counts against a group's messages (of those the fake implements).
FLOOD_COUNTED = frozenset({"sendMessage", "sendChatAction", "sendPhoto"})
MAX_CAPTION_LENGTH = 1024
MAX_PHOTO_UPLOAD = 10 * 1024 * 1024  # bots may upload photos up to 10 MB

METHODS = (
    "getMe",
    "logOut",
    "close",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "sendChatAction",
    "sendPhoto",
    "setChatMenuButton",
    "getChatMenuButton",
    "getFile",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "getChatMember",
    "editMessageText",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
# Update kinds delivered when allowed_updates is unset or empty.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Parameters that are strings even when they look like JSON ("123", "true").
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "file_id",
        "url",
        "language_code",
        "action",
        "parse_mode",
        "secret_token",
        "title",
        "description",
        "inline_message_id",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "query",
        "name",
    }
)
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?(?=\s|$)")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")
_SERVICE_FIELDS = frozenset({"migrate_to_chat_id", "migrate_from_chat_id"})
_PHOTO_SIDES = (90, 320, 800)  # Telegram's s, m and x sizes; the original comes last


@dataclass
class Call:
    """One request the bot made: ``status`` is the HTTP status sent, or "timeout"/"drop"."""

    method: str
    params: dict[str, Any]
    status: int | str = 200
    result: Any = None
    at: float = field(default_factory=time.time)  # when the fake answered it


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int


@dataclass
class _Fault:
    status: int | str
    remaining: int | None  # None: every time until cleared
    retry_after: int = 1
    description: str | None = None
    delay: float | None = None


@dataclass
class _State:
    users: dict[int, dict] = field(default_factory=dict)
    chats: dict[int, dict] = field(default_factory=dict)
    members: dict[int, dict[int, str]] = field(default_factory=dict)
    messages: dict[tuple[int, int], dict] = field(default_factory=dict)
    last_message_id: dict[int, int] = field(default_factory=dict)
    files: dict[str, _File] = field(default_factory=dict)
    updates: list[dict] = field(default_factory=list)
    callback_queries: dict[str, dict] = field(default_factory=dict)
    commands: dict[tuple[str, str], list] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict] = field(default_factory=dict)  # chat id (None: the default) -> button


class ApiError(Exception):
    """Raised by a method to answer ``{"ok": false, …}``."""

    def __init__(self, description: str, code: int = 400, parameters: dict | None = None):
        super().__init__(description)
        self.description = description
        self.code = code
        self.parameters = parameters


def _bad_request(what: str) -> ApiError:
    return ApiError(f"Bad Request: {what}")


class FakeBotApi:
    """A Telegram Bot API server on 127.0.0.1 for one test."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = BOT_USERNAME,
        first_name: str = "Toonzoo Test",
        privacy_mode: bool = False,
        hang_seconds: float = 30.0,
        group_limit: int | None = GROUP_LIMIT,
        group_window_s: float = GROUP_WINDOW_S,
    ):
        self.token = token
        self.group_limit = group_limit
        self.group_window_s = group_window_s
        self._accepted: dict[int, deque[float]] = {}  # group id -> when its counted messages were accepted
        self.privacy_mode = privacy_mode
        self.hang_seconds = hang_seconds
        self.bot = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": first_name,
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": not privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.webhook_url = ""
        self.app = web.Application(client_max_size=64 * 1024 * 1024)
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        self.app.router.add_route("GET", "/file/bot{token}/{file_path:.+}", self._handle_file)
        self.port: int | None = None
        self._runner: web.AppRunner | None = None
        self._state = _State()
        self._migrated: dict[int, int] = {}  # old group id -> its supergroup's id
        self._state.users[GROUP_ANONYMOUS_BOT["id"]] = GROUP_ANONYMOUS_BOT
        self._ids = itertools.count(1)
        self._next_update_id = 1
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._calls: list[Call] = []
        self._consumed: set[int] = set()
        self._faults: dict[str, list[_Fault]] = {}
        self._file_faults: dict[str, _Fault] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._handlers: dict[str, Callable[[dict], Any]] = {
            name: getattr(self, "_api_" + re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()) for name in METHODS
        }
        self._canonical = {name.lower(): name for name in METHODS}

    # -- server ---------------------------------------------------------------

    async def start(self) -> int:
        """Bind 127.0.0.1 on a free port and serve; return the port."""
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        """Wake every waiting request and shut the server down."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeBotApi":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``: PTB takes ``{base_url}/bot`` and ``{base_url}/file/bot``."""
        if self.port is None:
            raise RuntimeError("FakeBotApi is not started")
        return f"http://127.0.0.1:{self.port}"

    # -- users, chats, files -----------------------------------------------------

    def add_user(
        self,
        first_name: str = "Ada",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        user_id: int | None = None,
    ) -> dict:
        """A Telegram User dict; ids start at 1001."""
        user_id = user_id if user_id is not None else 1000 + next(self._ids)
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self._state.users[user_id] = user
        return user

    def add_private_chat(self, user: dict) -> dict:
        """The private chat between ``user`` and the bot (its id is the user's id)."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._state.chats[chat["id"]] = chat
        self._state.members[chat["id"]] = {user["id"]: "member", self.bot["id"]: "member"}
        return chat

    def add_group(
        self,
        title: str = "Drawing club",
        members: Iterable[tuple[dict, str]] = (),
        *,
        supergroup: bool = True,
        bot_status: str = "member",
    ) -> dict:
        """A group or supergroup; ``members`` are (user, status) with status
        creator, administrator, member, restricted, left or kicked."""
        n = next(self._ids)
        chat_id = -1_001_000_000_000 - n if supergroup else -1000 - n
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        self._state.chats[chat_id] = chat
        self._state.members[chat_id] = {}
        self.set_member(chat, self.bot, bot_status)
        for user, status in members:
            self.set_member(chat, user, status)
        return chat

    def migrate_group(self, group: dict, by: dict, *, notify: tuple[str, ...] = ("to", "from")) -> dict:
        """Upgrade a basic group to a supergroup, as ``by`` (an admin) does; returns the new chat.

        Members keep their statuses. Telegram posts a service message in each
        chat: ``migrate_to_chat_id`` in the old one ("to"), then
        ``migrate_from_chat_id`` in the new one ("from"); ``notify`` picks which
        to deliver. From then on, calls naming the old chat fail with
        "group chat was upgraded to a supergroup chat" and ``migrate_to_chat_id``.
        """
        old = self._state.chats[group["id"]]
        if old["type"] != "group":
            raise ValueError("only basic groups are upgraded to supergroups")
        n = next(self._ids)
        new = {"id": -1_001_000_000_000 - n, "type": "supergroup", "title": old["title"]}
        self._state.chats[new["id"]] = new
        self._state.members[new["id"]] = dict(self._state.members[old["id"]])
        if "to" in notify:
            self._deliver(self._new_message(old, by, {"migrate_to_chat_id": new["id"]}))
        self._migrated[old["id"]] = new["id"]
        if "from" in notify:
            self._deliver(self._new_message(new, by, {"migrate_from_chat_id": old["id"]}))
        return new

    def set_member(self, chat: dict, user: dict, status: str) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown member status {status!r}")
        self._state.members[chat["id"]][user["id"]] = status

    def add_file(
        self,
        data: bytes,
        *,
        kind: str = "documents",
        ext: str = "bin",
        file_size: int | None = None,
    ) -> str:
        """Register bytes for download and return their file_id. ``file_size``
        overrides the reported size (to test the 20 MB limit cheaply)."""
        n = next(self._ids)
        file_id = f"AgACAgIAAx0Fake{n:06d}_{kind}"
        self._state.files[file_id] = _File(
            file_id=file_id,
            file_unique_id=f"AQADFake{n:06d}",
            file_path=f"{kind}/file_{n}.{ext}",
            data=bytes(data),
            file_size=len(data) if file_size is None else file_size,
        )
        return file_id

    def file_fields(self, file_id: str) -> dict:
        """The file_id, file_unique_id and file_size fields Telegram puts in messages."""
        f = self._state.files[file_id]
        return {"file_id": f.file_id, "file_unique_id": f.file_unique_id, "file_size": f.file_size}

    # -- updates -------------------------------------------------------------------

    def send_text(
        self, chat: dict, user: dict, text: str, reply_to: dict | int | None = None, *, anonymous: bool = False
    ) -> dict:
        """A user sends a text message; /commands get bot_command entities.

        ``anonymous``: a group admin posting as the group, which Telegram
        delivers from @GroupAnonymousBot with ``sender_chat`` set to the group.
        """
        content: dict[str, Any] = {"text": text}
        entities = _command_entities(text)
        if entities:
            content["entities"] = entities
        if anonymous:
            if self._state.members[chat["id"]].get(user["id"]) not in ("creator", "administrator"):
                raise ValueError("only a group's admins can post anonymously")
            content["sender_chat"] = self._state.chats[chat["id"]]
            user = GROUP_ANONYMOUS_BOT
        return self._user_message(chat, user, content, reply_to)

    def send_photo(
        self,
        chat: dict,
        user: dict,
        data: bytes,
        caption: str | None = None,
        reply_to: dict | int | None = None,
    ) -> dict:
        """A photo: several PhotoSize entries, largest (``data`` itself) last.

        Smaller sizes are real downscaled JPEGs when Pillow can read ``data``,
        otherwise the same bytes under other file_ids.
        """
        content: dict[str, Any] = {"photo": self._photo_sizes(data)}
        self._add_caption(content, caption)
        return self._user_message(chat, user, content, reply_to)

    def send_document(
        self,
        chat: dict,
        user: dict,
        data: bytes,
        mime_type: str | None,
        file_name: str,
        caption: str | None = None,
        reply_to: dict | int | None = None,
        *,
        file_size: int | None = None,
    ) -> dict:
        """A file sent as a document (uncompressed); ``mime_type`` None leaves the field out."""
        ext = file_name.rsplit(".", 1)[-1] if "." in file_name else "bin"
        file_id = self.add_file(data, kind="documents", ext=ext, file_size=file_size)
        document = {"file_name": file_name, **self.file_fields(file_id)}
        if mime_type is not None:
            document["mime_type"] = mime_type
        content: dict[str, Any] = {"document": document}
        self._add_caption(content, caption)
        return self._user_message(chat, user, content, reply_to)

    def send_sticker(
        self,
        chat: dict,
        user: dict,
        data: bytes,
        is_animated: bool = False,
        is_video: bool = False,
        thumbnail: bytes | None = None,
        reply_to: dict | int | None = None,
        *,
        emoji: str = "🎨",
    ) -> dict:
        """A sticker: static WEBP, animated TGS or video WEBM, with an optional thumbnail."""
        ext = "tgs" if is_animated else "webm" if is_video else "webp"
        file_id = self.add_file(data, kind="stickers", ext=ext)
        sticker: dict[str, Any] = {
            **self.file_fields(file_id),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": is_animated,
            "is_video": is_video,
            "emoji": emoji,
            "set_name": "toonzoo_test_pack",
        }
        if thumbnail is not None:
            sticker["thumbnail"] = self._thumbnail(thumbnail)
        return self._user_message(chat, user, {"sticker": sticker}, reply_to)

    def send_animation(
        self,
        chat: dict,
        user: dict,
        data: bytes,
        thumbnail: bytes | None = None,
        caption: str | None = None,
        reply_to: dict | int | None = None,
        *,
        mime_type: str = "video/mp4",
        file_name: str = "animation.gif.mp4",
    ) -> dict:
        """A GIF as Telegram delivers it: an MP4 "animation", also set as "document"."""
        file_id = self.add_file(data, kind="animations", ext="mp4")
        animation: dict[str, Any] = {
            **self.file_fields(file_id),
            "width": 320,
            "height": 240,
            "duration": 2,
            "file_name": file_name,
            "mime_type": mime_type,
        }
        if thumbnail is not None:
            animation["thumbnail"] = self._thumbnail(thumbnail)
        content: dict[str, Any] = {"animation": animation, "document": dict(animation)}
        self._add_caption(content, caption)
        return self._user_message(chat, user, content, reply_to)

    def send_album(
        self,
        chat: dict,
        user: dict,
        pictures: Iterable[bytes],
        caption: str | None = None,
        reply_to: dict | int | None = None,
    ) -> list[dict]:
        """An album: one photo message per picture (2–10), all with the same
        media_group_id; the caption goes on the first, as Telegram's apps send it."""
        pictures = list(pictures)
        if not 2 <= len(pictures) <= 10:
            raise ValueError("an album holds 2 to 10 items")
        group_id = str(13_000_000_000_000_000 + next(self._ids))
        messages = []
        for index, data in enumerate(pictures):
            content: dict[str, Any] = {"media_group_id": group_id, "photo": self._photo_sizes(data)}
            self._add_caption(content, caption if index == 0 else None)
            messages.append(self._user_message(chat, user, content, reply_to))
        return messages

    def send_media(self, chat: dict, user: dict, kind: str, data: bytes = b"media") -> dict:
        """A voice message, video, video note or audio file (``kind``)."""
        fields = {
            "voice": {"duration": 3, "mime_type": "audio/ogg"},
            "audio": {"duration": 180, "mime_type": "audio/mpeg", "file_name": "song.mp3"},
            "video": {"width": 640, "height": 360, "duration": 5, "mime_type": "video/mp4"},
            "video_note": {"length": 240, "duration": 5},
        }
        if kind not in fields:
            raise ValueError(f"kind must be one of {sorted(fields)}, not {kind!r}")
        file_id = self.add_file(data, kind=kind + "s", ext="bin")
        return self._user_message(chat, user, {kind: {**self.file_fields(file_id), **fields[kind]}}, None)

    def send_location(self, chat: dict, user: dict, latitude: float = 48.85, longitude: float = 2.35) -> dict:
        return self._user_message(chat, user, {"location": {"latitude": latitude, "longitude": longitude}}, None)

    def send_contact(self, chat: dict, user: dict, phone_number: str = "+15550100", first_name: str = "Bob") -> dict:
        return self._user_message(
            chat, user, {"contact": {"phone_number": phone_number, "first_name": first_name}}, None
        )

    def send_poll(
        self, chat: dict, user: dict, question: str = "Cats or dogs?", options: Iterable[str] = ("cats", "dogs")
    ) -> dict:
        poll = {
            "id": str(5_000_000_000 + next(self._ids)),
            "question": question,
            "options": [{"persistent_id": str(n), "text": text, "voter_count": 0} for n, text in enumerate(options)],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
            "allows_revoting": False,
            "members_only": False,
        }
        return self._user_message(chat, user, {"poll": poll}, None)

    def edit_message(
        self, chat: dict, user: dict, message_id: int, *, text: str | None = None, caption: str | None = None
    ) -> dict:
        """A user edits their message's text or caption: an ``edited_message`` update."""
        message = self._state.messages.get((chat["id"], message_id))
        if message is None or message["from"]["id"] != user["id"]:
            raise ValueError(f"{user['first_name']} has no message {message_id} in chat {chat['id']}")
        edited = dict(message, edit_date=int(time.time()))
        if text is not None:
            edited.pop("entities", None)
            edited["text"] = text
            entities = _command_entities(text)
            if entities:
                edited["entities"] = entities
        if caption is not None:
            edited.pop("caption_entities", None)
            self._add_caption(edited, caption)
        self._state.messages[(chat["id"], message_id)] = edited
        if self._delivered(edited):
            self.add_update({"edited_message": edited})
        return edited

    def add_bot_to_group(
        self,
        chat: dict,
        by: dict,
        status: str = "member",
        updates: Iterable[str] = ("my_chat_member", "message"),
    ) -> None:
        """``by`` adds the bot to the group. Telegram sends a ``my_chat_member`` update and a
        service message with ``new_chat_members`` (in either order: ``updates``)."""
        old = self._state.members[chat["id"]].get(self.bot["id"], "left")
        self.set_member(chat, self.bot, status)
        bot_user = {key: self.bot[key] for key in ("id", "is_bot", "first_name", "username")}
        for kind in updates:
            if kind == "my_chat_member":
                self.add_update(
                    {
                        "my_chat_member": {
                            "chat": self._state.chats[chat["id"]],
                            "from": by,
                            "date": int(time.time()),
                            "old_chat_member": _chat_member(bot_user, old),
                            "new_chat_member": _chat_member(bot_user, status),
                        }
                    }
                )
            elif kind == "message":
                message = self._new_message(chat, by, {"new_chat_members": [bot_user]})
                self.add_update({"message": message})
            else:
                raise ValueError(f"unknown update kind {kind!r}")

    def forget_file(self, file_id: str) -> None:
        """Telegram no longer knows ``file_id`` (expired or never valid): getFile answers 400."""
        self._state.files.pop(file_id, None)

    def press_button(self, chat: dict, user: dict, message_id: int, data: str | bytes) -> dict:
        """A user presses an inline button with callback_data ``data``; returns the CallbackQuery.

        Like a modified client, this may press any data (up to 64 bytes) on any
        message of the chat, whether or not the message has such a button.
        Bytes that are not UTF-8 arrive with replacement characters.
        """
        message = self._state.messages.get((chat["id"], message_id))
        if message is None:
            raise ValueError(f"no message {message_id} in chat {chat['id']}")
        raw = data if isinstance(data, bytes) else data.encode()
        if not 1 <= len(raw) <= MAX_CALLBACK_DATA:
            raise ValueError(f"callback data must be 1 to {MAX_CALLBACK_DATA} bytes, not {len(raw)}")
        data = raw.decode("utf-8", "replace")
        query = {
            "id": str(4_000_000_000 + next(self._ids)),
            "from": user,
            "message": message,
            "chat_instance": str(abs(chat["id"]) * 7919),
            "data": data,
        }
        self._state.callback_queries[query["id"]] = query
        self.add_update({"callback_query": query})
        return query

    def add_update(self, update: dict) -> dict:
        """Queue any update (without update_id); returns it with its update_id."""
        update = {"update_id": self._next_update_id, **update}
        self._next_update_id += 1
        self._state.updates.append(update)
        self._notify()
        return update

    def delete_message(self, chat: dict, message_id: int) -> None:
        """A user deletes a message: replies to it now fail unless sent without the reply."""
        self._state.messages.pop((chat["id"], message_id), None)

    def chat_messages(self, chat: dict) -> list[dict]:
        """The chat as it stands now (after edits and deletions), oldest first."""
        return [message for (chat_id, _), message in sorted(self._state.messages.items()) if chat_id == chat["id"]]

    @property
    def unanswered_callback_queries(self) -> list[dict]:
        """Button presses the bot has not answered with answerCallbackQuery yet."""
        return list(self._state.callback_queries.values())

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot (via getUpdates offset)."""
        return list(self._state.updates)

    # -- recorded calls ----------------------------------------------------------------

    def calls(self, method: str) -> list[dict]:
        """Parameters of every call of ``method`` so far, in order."""
        method = self._canonical.get(method.lower(), method)
        return [call.params for call in self._calls if call.method == method]

    @property
    def all_calls(self) -> list[Call]:
        return list(self._calls)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict:
        """Parameters of the next call of ``method`` (matching ``predicate``) not returned before."""
        return (await self.wait_for_call(method, predicate, timeout)).params

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
    ) -> Call:
        """Like ``wait_for`` but returns the whole Call (status, result)."""
        method = self._canonical.get(method.lower(), method)
        try:
            index = await self._wait_for_index(method, predicate, timeout)
        except TimeoutError:
            made = ", ".join(call.method for call in self._calls if call.method != "getUpdates")
            raise AssertionError(
                f"no {method} call{' matching' if predicate else ''} within {timeout}s; "
                f"unmatched {method} calls: {self._unconsumed(method)}; calls made: {made or 'none'}"
            ) from None
        if index is None:
            raise AssertionError(f"FakeBotApi stopped while waiting for {method}")
        self._consumed.add(index)
        return self._calls[index]

    async def expect_no_call(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        within: float = 0.3,
    ) -> None:
        """Fail if the bot makes a (matching) ``method`` call not returned before, within ``within`` s."""
        method = self._canonical.get(method.lower(), method)
        try:
            index = await self._wait_for_index(method, predicate, within)
        except TimeoutError:
            return
        if index is not None:
            raise AssertionError(f"unexpected {method} call: {self._calls[index].params}")

    # -- faults -------------------------------------------------------------------------------

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
        504) or "drop" (close the connection). The method itself does not run."""
        _check_fault(status)
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

    # -- HTTP handlers ----------------------------------------------------------------------------

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        method = self._canonical.get(request.match_info["method"].lower())
        name = method or request.match_info["method"]
        try:
            params = await _read_params(request)
        except ApiError as error:
            self._record(Call(name, {}, error.code))
            return _error_response(error)
        if not _TOKEN_SHAPE.fullmatch(token):
            error = ApiError("Not Found", 404)
        elif token != self.token:
            error = ApiError("Unauthorized", 401)
        elif method is None:  # Telegram says just "Not Found"; say more to the test author
            error = ApiError(f"Not Found: FakeBotApi does not implement {name}", 404)
        else:
            error = None
        if error is not None:
            self._record(Call(name, params, error.code))
            return _error_response(error)
        fault = _take(self._faults.get(method))
        if fault is not None:
            self._record(Call(method, params, fault.status))
            return await self._serve_fault(request, fault)
        try:
            self._check_flood(method, params)
            result = self._handlers[method](params)
            if asyncio.iscoroutine(result):
                result = await result
        except ApiError as error:
            self._record(Call(method, params, error.code))
            return _error_response(error)
        self._count_flood(method, params)
        self._record(Call(method, params, 200, result))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token != self.token:
            return _error_response(ApiError("Unauthorized", 401))
        file_path = request.match_info["file_path"]
        found = next((f for f in self._state.files.values() if f.file_path == file_path), None)
        if found is None:
            self._record(Call("download", {"file_path": file_path}, 404))
            return _error_response(ApiError("Not Found", 404))
        params = {"file_path": file_path, "file_id": found.file_id}
        fault = self._file_faults.get(found.file_id)
        if fault is not None and fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                del self._file_faults[found.file_id]
        if fault is not None:
            self._record(Call("download", params, fault.status))
            if fault.status == "truncate":
                return web.Response(body=found.data[: len(found.data) // 2])
            return await self._serve_fault(request, fault)
        self._record(Call("download", params, 200))
        return web.Response(body=found.data, content_type="application/octet-stream")

    async def _serve_fault(self, request: web.Request, fault: _Fault) -> web.StreamResponse:
        if fault.status == "drop":
            if request.transport is not None:
                request.transport.abort()
            # Nothing reaches the client; aiohttp discards this response.
            return web.Response(status=500)
        if fault.status == "timeout":
            delay = self.hang_seconds if fault.delay is None else fault.delay
            try:
                await self._wait_until(lambda: self._closing, delay)
            except TimeoutError:
                pass
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

    # -- Bot API methods -----------------------------------------------------------------------------

    def _api_get_me(self, params: dict) -> dict:
        return dict(self.bot)

    def _api_log_out(self, params: dict) -> bool:
        return True

    def _api_close(self, params: dict) -> bool:
        return True

    def _api_set_webhook(self, params: dict) -> bool:
        url = params.get("url")
        if not isinstance(url, str) or (url and not url.startswith("https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url
        return True

    def _api_delete_webhook(self, params: dict) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._state.updates.clear()
        return True

    def _api_get_webhook_info(self, params: dict) -> dict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._state.updates),
        }

    async def _api_get_updates(self, params: dict) -> list[dict]:
        if self.webhook_url:
            raise ApiError(
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
                409,
            )
        offset = int(_number(params, "offset", 0))
        limit = min(100, max(1, int(_number(params, "limit", 100))))
        timeout = max(0.0, _number(params, "timeout", 0))  # fractions allowed, for quick tests
        allowed = params.get("allowed_updates")
        if allowed is not None:
            if not isinstance(allowed, list) or not all(isinstance(x, str) for x in allowed):
                raise _bad_request("can't parse allowed updates")
            self._allowed_updates = frozenset(allowed) or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # an older long poll still waiting is now superseded
        updates = self._state.updates
        if offset > 0:
            updates[:] = [u for u in updates if u["update_id"] >= offset]
        elif offset < 0:
            updates[:] = updates[offset:]
        if timeout and not self._deliverable():
            try:
                await self._wait_until(
                    lambda: self._deliverable() or self._closing or generation != self._poll_generation,
                    timeout,
                )
            except TimeoutError:
                pass
        if generation != self._poll_generation:
            raise ApiError(
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                409,
            )
        return self._deliverable()[:limit]

    def _api_send_message(self, params: dict) -> dict:
        chat = self._chat(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        reply_to = self._reply_target(chat, params)
        content: dict[str, Any] = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        markup = _inline_markup(params.get("reply_markup"), chat)
        if markup:
            content["reply_markup"] = markup
        sender = {key: self.bot[key] for key in ("id", "is_bot", "first_name", "username")}
        return self._new_message(chat, sender, content, reply_to)

    def _api_send_photo(self, params: dict) -> dict:
        chat = self._chat(params)
        photo = params.get("photo")
        if isinstance(photo, str) and photo in self._state.files:
            sizes = [{**self.file_fields(photo), "width": 800, "height": 600}]
        elif isinstance(photo, bytes):
            if len(photo) > MAX_PHOTO_UPLOAD:
                raise _bad_request("PHOTO_INVALID_DIMENSIONS")
            if not _is_image(photo):
                raise _bad_request("IMAGE_PROCESS_FAILED")
            sizes = self._photo_sizes(photo)
        else:
            raise _bad_request("wrong remote file identifier specified: Wrong string length")
        content: dict[str, Any] = {"photo": sizes}
        caption = params.get("caption")
        if caption is not None:
            if _utf16_length(caption) > MAX_CAPTION_LENGTH:
                raise _bad_request("message caption is too long")
            content["caption"] = caption
        markup = _inline_markup(params.get("reply_markup"), chat)
        if markup:
            content["reply_markup"] = markup
        reply_to = self._reply_target(chat, params)
        sender = {key: self.bot[key] for key in ("id", "is_bot", "first_name", "username")}
        return self._new_message(chat, sender, content, reply_to)

    def _api_set_chat_menu_button(self, params: dict) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None and self._chat(params)["type"] != "private":
            raise _bad_request("chat not found")
        button = params.get("menu_button") or {"type": "default"}
        if button.get("type") == "web_app":
            url = (button.get("web_app") or {}).get("url", "")
            if not button.get("text") or not url.startswith("https://"):
                raise _bad_request("BUTTON_URL_INVALID")
        elif button.get("type") not in ("default", "commands"):
            raise _bad_request("can't parse menu button")
        self._state.menu_buttons[chat_id] = button
        return True

    def _api_get_chat_menu_button(self, params: dict) -> dict:
        chat_id = params.get("chat_id")
        return self._state.menu_buttons.get(chat_id) or self._state.menu_buttons.get(None) or {"type": "default"}

    def _api_send_chat_action(self, params: dict) -> bool:
        self._chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    def _api_get_file(self, params: dict) -> dict:
        found = self._state.files.get(params.get("file_id"))
        if found is None:
            raise _bad_request("invalid file_id")
        if found.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad_request("file is too big")
        return {
            "file_id": found.file_id,
            "file_unique_id": found.file_unique_id,
            "file_size": found.file_size,
            "file_path": found.file_path,
        }

    def _api_set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "").strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._state.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_get_my_commands(self, params: dict) -> list[dict]:
        return list(self._state.commands.get(self._commands_key(params), []))

    def _api_delete_my_commands(self, params: dict) -> bool:
        self._state.commands.pop(self._commands_key(params), None)
        return True

    def _api_get_chat_member(self, params: dict) -> dict:
        chat = self._chat(params)
        user_id = params.get("user_id")
        user = self.bot if user_id == self.bot["id"] else self._state.users.get(user_id)
        if user is None:
            raise _bad_request("user not found")
        if chat["type"] == "private" and user_id not in (chat["id"], self.bot["id"]):
            raise _bad_request("user not found")
        status = self._state.members[chat["id"]].get(user_id, "left")
        return _chat_member(user, status)

    def _api_edit_message_text(self, params: dict) -> dict:
        message = self._editable(params)
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("MESSAGE_TOO_LONG")
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        return self._edit(message, text, _inline_markup(params.get("reply_markup")))

    def _api_edit_message_reply_markup(self, params: dict) -> dict:
        message = self._editable(params)
        return self._edit(message, message.get("text"), _inline_markup(params.get("reply_markup")))

    def _api_answer_callback_query(self, params: dict) -> bool:
        if self._state.callback_queries.pop(params.get("callback_query_id"), None) is None:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if _utf16_length(params.get("text") or "") > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        return True

    def _api_delete_message(self, params: dict) -> bool:
        chat = self._chat(params)
        if self._state.messages.pop((chat["id"], params.get("message_id")), None) is None:
            raise _bad_request("message to delete not found")
        return True

    # -- internals ---------------------------------------------------------------------------------

    def _flood_window(self, method: str, params: dict) -> deque[float] | None:
        """The accepted times that count against this call's group, or None when none do."""
        chat = self._state.chats.get(params.get("chat_id"))
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
        if window is not None and len(window) >= self.group_limit:
            retry_after = max(1, math.ceil(window[0] + self.group_window_s - time.time()))
            raise ApiError(f"Too Many Requests: retry after {retry_after}", 429, {"retry_after": retry_after})

    def _count_flood(self, method: str, params: dict) -> None:
        window = self._flood_window(method, params)
        if window is not None:
            window.append(time.time())

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

    async def _wait_for_index(self, method: str, predicate, timeout: float) -> int | None:
        found: list[int] = []

        def condition() -> bool:
            index = self._find_call(method, predicate)
            if index is not None:
                found.append(index)
            return index is not None

        await self._wait_until(condition, timeout)
        return found[0] if found else None

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._notify()

    def _find_call(self, method: str, predicate) -> int | None:
        for index, call in enumerate(self._calls):
            if index in self._consumed or call.method != method:
                continue
            if predicate is None or predicate(call.params):
                return index
        return None

    def _unconsumed(self, method: str) -> list[dict]:
        return [
            call.params
            for index, call in enumerate(self._calls)
            if call.method == method and index not in self._consumed
        ]

    def _deliverable(self) -> list[dict]:
        """Pending updates, after dropping kinds allowed_updates excludes (Telegram never stores them)."""
        allowed = self._allowed_updates

        def wanted(update: dict) -> bool:
            kind = _update_kind(update)
            return kind in allowed if allowed is not None else kind not in _NOT_BY_DEFAULT

        self._state.updates[:] = [u for u in self._state.updates if wanted(u)]
        return list(self._state.updates)

    def _chat(self, params: dict) -> dict:
        if params.get("chat_id") in self._migrated:
            raise ApiError(
                "Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": self._migrated[params["chat_id"]]},
            )
        chat = self._state.chats.get(params.get("chat_id"))
        if chat is None:
            raise _bad_request("chat not found")
        return chat

    def _reply_target(self, chat: dict, params: dict) -> dict | None:
        reply = params.get("reply_parameters")
        if reply is None and params.get("reply_to_message_id") is not None:
            reply = {"message_id": params["reply_to_message_id"]}
        if not reply:
            return None
        target_chat = reply.get("chat_id", chat["id"])
        message = self._state.messages.get((target_chat, reply.get("message_id")))
        if message is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise _bad_request("message to be replied not found")
        return message

    def _editable(self, params: dict) -> dict:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by FakeBotApi")
        chat = self._chat(params)
        message = self._state.messages.get((chat["id"], params.get("message_id")))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot["id"]:
            raise _bad_request("message can't be edited")
        return message

    def _edit(self, message: dict, text: str | None, markup: dict | None) -> dict:
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message"
            )
        edited = {k: v for k, v in message.items() if k != "reply_markup"}
        if text is not None:
            edited["text"] = text
            edited.pop("entities", None)
        if markup:
            edited["reply_markup"] = markup
        edited["edit_date"] = int(time.time())
        self._state.messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    def _commands_key(self, params: dict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    def _new_message(self, chat: dict, sender: dict, content: dict, reply_to: dict | int | None = None) -> dict:
        if chat["id"] not in self._state.chats:
            raise ValueError(f"unknown chat {chat['id']}: add it with add_private_chat/add_group")
        chat = self._state.chats[chat["id"]]
        message_id = self._state.last_message_id.get(chat["id"], 0) + 1
        self._state.last_message_id[chat["id"]] = message_id
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
            **content,
        }
        if reply_to is not None:
            reply_id = reply_to if isinstance(reply_to, int) else reply_to["message_id"]
            replied = self._state.messages.get((chat["id"], reply_id))
            if replied is None:
                raise ValueError(f"no message {reply_id} in chat {chat['id']} to reply to")
            message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
        self._state.messages[(chat["id"], message_id)] = message
        return message

    def _user_message(self, chat: dict, user: dict, content: dict, reply_to) -> dict:
        if user["id"] not in self._state.users:
            raise ValueError(f"unknown user {user['id']}: add it with add_user")
        if chat["id"] in self._migrated:
            raise ValueError(f"chat {chat['id']} became a supergroup: use the chat migrate_group returned")
        return self._deliver(self._new_message(chat, user, content, reply_to))

    def _deliver(self, message: dict) -> dict:
        if self._delivered(message):
            self.add_update({"message": message})
        return message

    def _delivered(self, message: dict) -> bool:
        """Privacy mode: in groups the bot gets only commands, replies to itself and service messages."""
        if not self.privacy_mode or message["chat"]["type"] == "private":
            return True
        if _SERVICE_FIELDS & message.keys():
            return True
        entities = message.get("entities") or message.get("caption_entities") or []
        if any(e["type"] == "bot_command" and e["offset"] == 0 for e in entities):
            return True
        replied = message.get("reply_to_message")
        return bool(replied and replied["from"]["id"] == self.bot["id"])

    def _add_caption(self, content: dict, caption: str | None) -> None:
        if caption is not None:
            content["caption"] = caption
            entities = _command_entities(caption)
            if entities:
                content["caption_entities"] = entities

    def _photo_sizes(self, data: bytes) -> list[dict]:
        width, height, smaller = _downscale(data, _PHOTO_SIDES)
        sizes = []
        for (w, h), blob in smaller:
            file_id = self.add_file(blob, kind="photos", ext="jpg")
            sizes.append({**self.file_fields(file_id), "width": w, "height": h})
        file_id = self.add_file(data, kind="photos", ext="jpg")
        sizes.append({**self.file_fields(file_id), "width": width, "height": height})
        return sizes

    def _thumbnail(self, data: bytes) -> dict:
        width, height, _ = _downscale(data, ())
        file_id = self.add_file(data, kind="thumbnails", ext="jpg")
        return {**self.file_fields(file_id), "width": width, "height": height}


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


def _error_response(error: ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error.code, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.code)


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query and body parameters; form fields are decoded like Telegram does (JSON if it parses)."""
    fields: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad_request("can't parse JSON") from None
            if not isinstance(body, dict):
                raise _bad_request("JSON body must be an object")
            return {**{k: _decode(k, v) for k, v in fields.items()}, **body}
        form = await request.post()
        for key, value in form.items():
            fields[key] = value.file.read() if isinstance(value, web.FileField) else value
    return {key: _decode(key, value) for key, value in fields.items()}


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str) or name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _number(params: dict, name: str, default: int) -> int | float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad_request(f"wrong parameter {name}")
    return value


def _take(faults: list[_Fault] | None) -> _Fault | None:
    if not faults:
        return None
    fault = faults[0]
    if fault.remaining is not None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            faults.pop(0)
    return fault


def _check_fault(status: int | str, *, allow_truncate: bool = False) -> None:
    words = {"timeout", "drop"} | ({"truncate"} if allow_truncate else set())
    if isinstance(status, str) and status not in words:
        raise ValueError(f"fault must be an HTTP status or one of {sorted(words)}, not {status!r}")
    if isinstance(status, int) and not 400 <= status <= 599:
        raise ValueError(f"fault status must be 4xx or 5xx, not {status}")


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


def _is_image(data: bytes) -> bool:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except Exception:
        return False


def _inline_markup(markup: Any, chat: dict | None = None) -> dict | None:
    """The markup Telegram echoes back (inline keyboards only), after its checks.

    Web-app buttons need an https URL and work only in private chats; URL buttons need an http(s) or tg URL.
    """
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    keyboard = markup["inline_keyboard"]
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise _bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                raise _bad_request("BUTTON_DATA_INVALID")
            if "web_app" in button:
                if chat is not None and chat["type"] != "private":
                    raise _bad_request("BUTTON_TYPE_INVALID")
                if not str((button["web_app"] or {}).get("url", "")).startswith("https://"):
                    raise _bad_request("BUTTON_URL_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                raise _bad_request("BUTTON_URL_INVALID")
    return {"inline_keyboard": keyboard}


def _chat_member(user: dict, status: str) -> dict:
    member: dict[str, Any] = {"user": user, "status": status}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    elif status == "restricted":
        member.update(
            is_member=True,
            can_change_info=False,
            can_invite_users=False,
            can_pin_messages=False,
            can_send_messages=True,
            can_send_polls=False,
            can_send_other_messages=False,
            can_add_web_page_previews=False,
            can_manage_topics=False,
            can_send_audios=False,
            can_send_documents=False,
            can_send_photos=True,
            can_send_videos=False,
            can_send_video_notes=False,
            can_send_voice_notes=False,
            can_edit_tag=False,
            until_date=0,
        )
    elif status == "kicked":
        member["until_date"] = 0
    return member


def _downscale(data: bytes, sides: Iterable[int]) -> tuple[int, int, list]:
    """(width, height, [((w, h), jpeg bytes) for each side smaller than the image]).

    Falls back to 800×600 and the same bytes when Pillow can't read ``data``.
    """
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
            smaller = []
            for side in sides:
                if side >= max(width, height):
                    continue
                copy = image.convert("RGB")
                copy.thumbnail((side, side))
                out = io.BytesIO()
                copy.save(out, format="JPEG", quality=80)
                smaller.append((copy.size, out.getvalue()))
            return width, height, smaller
    except Exception:
        width, height = 800, 600
        return width, height, [((side, side * height // width), data) for side in sides if side < width]
