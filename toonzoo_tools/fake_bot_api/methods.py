"""The Bot API methods the fake implements, with Telegram's checks and answers."""

import contextlib
import io
import json
import re
import time
from typing import Any

from .base import (
    MAX_CALLBACK_DATA,
    MAX_CAPTION_LENGTH,
    MAX_DOWNLOAD_SIZE,
    MAX_MESSAGE_LENGTH,
    MAX_PHOTO_UPLOAD,
    ApiError,
    _bad_request,
    _update_kind,
    _utf16_length,
)
from .world import World, _chat_member

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
    "editMessageCaption",
    "editMessageReplyMarkup",
    "answerCallbackQuery",
    "deleteMessage",
    "answerInlineQuery",
    "savePreparedInlineMessage",
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
MAX_INLINE_RESULTS = 50
PREPARED_TTL_S = 24 * 3600  # a prepared inline message expires after a day
# Update kinds delivered when allowed_updates is unset or empty.
_NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class Methods(World):
    """``_api_<method>(params)`` for each name in METHODS: a result, or ApiError."""

    webhook_url: str
    _allowed_updates: frozenset[str] | None
    _poll_generation: int

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
            with contextlib.suppress(TimeoutError):  # the long poll ends empty, as Telegram's does
                await self._wait_until(
                    lambda: bool(self._deliverable()) or self._closing or generation != self._poll_generation,
                    timeout,
                )
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
        found = self._state.files.get(params.get("file_id", ""))
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
        user_id = params.get("user_id", 0)  # 0: no user has it
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

    def _api_edit_message_caption(self, params: dict) -> dict:
        message = self._editable(params)
        caption = params.get("caption") or ""
        if _utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("MESSAGE_CAPTION_TOO_LONG")
        if "text" in message:
            raise _bad_request("there is no caption in the message to edit")
        markup = _inline_markup(params.get("reply_markup"))
        if caption == message.get("caption", "") and markup == message.get("reply_markup"):
            raise _bad_request("message is not modified")
        edited = {k: v for k, v in message.items() if k not in ("reply_markup", "caption", "caption_entities")}
        if caption:
            edited["caption"] = caption
        if markup:
            edited["reply_markup"] = markup
        edited["edit_date"] = int(time.time())
        self._state.messages[(message["chat"]["id"], message["message_id"])] = edited
        return edited

    def _api_edit_message_reply_markup(self, params: dict) -> dict:
        message = self._editable(params)
        return self._edit(message, message.get("text"), _inline_markup(params.get("reply_markup")))

    def _api_answer_callback_query(self, params: dict) -> bool:
        if self._state.callback_queries.pop(params.get("callback_query_id", ""), None) is None:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        if _utf16_length(params.get("text") or "") > 200:
            raise _bad_request("MESSAGE_TOO_LONG")
        return True

    def _api_answer_inline_query(self, params: dict) -> bool:
        query_id = params.get("inline_query_id", "")
        if query_id not in self._state.inline_queries:
            raise _bad_request("query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list):
            raise _bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise _bad_request("RESULTS_TOO_MUCH")
        for result in results:
            self._inline_result(result)
        if len({result["id"] for result in results}) != len(results):
            raise _bad_request("RESULT_ID_DUPLICATE")
        button = params.get("button")
        if button is not None:
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad_request("can't parse inline query results button")
            start = button.get("start_parameter")
            if "web_app" not in button and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start or "")):
                raise _bad_request("START_PARAM_INVALID")
        del self._state.inline_queries[query_id]  # answered: a query takes one answer
        return True

    def _api_save_prepared_inline_message(self, params: dict) -> dict:
        user_id = params.get("user_id", 0)
        if user_id not in self._state.users:
            raise _bad_request("USER_ID_INVALID")
        chats = ("allow_user_chats", "allow_bot_chats", "allow_group_chats", "allow_channel_chats")
        if not any(params.get(name) for name in chats):
            raise _bad_request("at least one chat type must be allowed")
        result = params.get("result")
        self._inline_result(result)
        prepared_id = f"prep{next(self._ids):06d}"
        self._state.prepared[prepared_id] = {"user_id": user_id, "result": result}
        return {"id": prepared_id, "expiration_date": int(time.time() + PREPARED_TTL_S)}

    def _inline_result(self, result: Any) -> None:
        """Telegram's checks of one InlineQueryResult (the kinds the bot uses: cached photos and articles)."""
        if not isinstance(result, dict) or not isinstance(result.get("type"), str):
            raise _bad_request("can't parse inline query result")
        if not 1 <= len(str(result.get("id", "")).encode()) <= 64:
            raise _bad_request("RESULT_ID_INVALID")
        if result["type"] == "photo" and "photo_file_id" in result:
            if result["photo_file_id"] not in self._state.files:
                raise _bad_request("wrong file identifier/HTTP URL specified")
        elif result["type"] == "article":
            if not result.get("title") or not isinstance(result.get("input_message_content"), dict):
                raise _bad_request("can't parse inline query result: article needs a title and a message")
        else:
            raise _bad_request(f"FakeBotApi does not implement inline results of type {result['type']}")
        if _utf16_length(result.get("caption") or "") > MAX_CAPTION_LENGTH:
            raise _bad_request("MEDIA_CAPTION_TOO_LONG")
        _inline_markup(result.get("reply_markup"))

    def _api_delete_message(self, params: dict) -> bool:
        chat = self._chat(params)
        if self._state.messages.pop((chat["id"], params.get("message_id", 0)), None) is None:
            raise _bad_request("message to delete not found")
        return True

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
        chat = self._state.chats.get(params.get("chat_id", 0))  # 0: no chat has it
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
        message = self._state.messages.get((chat["id"], params.get("message_id", 0)))
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


def _number(params: dict, name: str, default: int) -> int | float:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad_request(f"wrong parameter {name}")
    return value


def _is_image(data: bytes) -> bool:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        return True
    except Exception:  # noqa: BLE001 - whatever Pillow raises, the bytes are not a picture Telegram would take
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
