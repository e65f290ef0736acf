"""The fake's world: users, chats, members, messages and files, and the updates users cause."""

import io
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .base import GROUP_ANONYMOUS_BOT, MAX_CALLBACK_DATA, Core, _command_entities

MEMBER_STATUSES = frozenset({"creator", "administrator", "member", "restricted", "left", "kicked"})
_SERVICE_FIELDS = frozenset({"migrate_to_chat_id", "migrate_from_chat_id"})
_PHOTO_SIDES = (90, 320, 800)  # Telegram's s, m and x sizes; the original comes last


@dataclass
class _File:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    file_size: int


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
    inline_queries: dict[str, dict] = field(default_factory=dict)  # id -> an inline query not answered yet
    prepared: dict[str, dict] = field(default_factory=dict)  # id -> a prepared inline message (user_id, result)


class World(Core):
    """Users, chats and files the test registers, and the updates they cause (``send_text``, ``press_button``, …)."""

    privacy_mode: bool
    _state: _State
    _migrated: dict[int, int]  # old group id -> its supergroup's id
    _ids: Iterator[int]
    _next_update_id: int

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
        fields: dict[str, dict[str, Any]] = {
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
        query: dict[str, Any] = {
            "id": str(4_000_000_000 + next(self._ids)),
            "from": user,
            "message": message,
            "chat_instance": str(abs(chat["id"]) * 7919),
            "data": data,
        }
        self._state.callback_queries[query["id"]] = query
        self.add_update({"callback_query": query})
        return query

    def send_inline_query(self, user: dict, query: str = "", chat_type: str = "sender") -> dict:
        """``user`` types ``@bot query`` in a chat (``chat_type``: sender, private, group, supergroup,
        channel); returns the InlineQuery, answered with answerInlineQuery."""
        if user["id"] not in self._state.users:
            raise ValueError(f"unknown user {user['id']}: add it with add_user")
        query_id = str(6_000_000_000 + next(self._ids))
        inline_query = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        }
        self._state.inline_queries[query_id] = inline_query
        self.add_update({"inline_query": inline_query})
        return inline_query

    def prepared_message(self, prepared_id: str) -> dict:
        """A message the bot prepared with savePreparedInlineMessage: ``{"user_id": …, "result": …}``, as
        ``Telegram.WebApp.shareMessage(prepared_id)`` would offer it to that user."""
        return self._state.prepared[prepared_id]

    @property
    def unanswered_inline_queries(self) -> list[dict]:
        """Inline queries the bot has not answered with answerInlineQuery yet."""
        return list(self._state.inline_queries.values())

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
        """The chat as it stands now (after edits and deletions), oldest first; the bot's
        messages and edits in it count as examined."""
        self._examine(lambda call: call.params.get("chat_id") == chat["id"])
        return [message for (chat_id, _), message in sorted(self._state.messages.items()) if chat_id == chat["id"]]

    @property
    def unanswered_callback_queries(self) -> list[dict]:
        """Button presses the bot has not answered with answerCallbackQuery yet."""
        return list(self._state.callback_queries.values())

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed by the bot (via getUpdates offset)."""
        return list(self._state.updates)

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
    except Exception:  # noqa: BLE001 - not a picture Pillow reads (a test's placeholder bytes): made-up sizes
        width, height = 800, 600
        return width, height, [((side, side * height // width), data) for side in sides if side < width]
