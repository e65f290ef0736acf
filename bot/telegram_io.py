"""Telegram I/O shared by the bot's handlers and the game's: downloads, admin checks, names,
and the one step that classifies a picture and answers a user's error.

No state of its own: what it needs comes from ``context.services`` (``bot.services``).
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from telegram import CallbackQuery, ChatMember, Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from classifier.errors import UserError
from classifier.types import Classified, Guess

from . import replies
from .i18n import DEFAULT_LANGUAGE, Translator
from .labels import clean_text
from .pictures import MAX_DOWNLOAD_BYTES, PictureRef
from .services import BotContext, ClassifierEngine

if TYPE_CHECKING:
    from classifier.few_shot import Examples  # loads torch

logger = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_BACKOFF_S = 0.5


def message_of(update: Update) -> Message:
    """The update's message (every callback that asks is registered for updates that carry one)."""
    message = update.effective_message
    if message is None:
        raise ValueError(f"update {update.update_id} carries no message")
    return message


def translator_of(update: Update, context: BotContext) -> Translator:
    """The language to answer this update in: the chat's (/language), else the sender's Telegram one."""
    chat, user = update.effective_chat, update.effective_user
    language_code = user.language_code if user is not None else None
    if chat is None:
        return context.services.translator(0, language_code)
    return context.services.translator(chat.id, language_code)


def query_of(update: Update) -> CallbackQuery:
    """The update's button press (asked by callbacks registered for presses only)."""
    query = update.callback_query
    if query is None:
        raise ValueError(f"update {update.update_id} carries no button press")
    return query


async def classify_picture(
    found: PictureRef,
    message: Message,
    labels: Sequence[str],
    top_k: int,
    context: BotContext,
    t: Translator,
    *,
    show_typing: bool = True,
) -> Classified | None:
    """Download the picture and rank ``labels`` for it, with what the chat taught; ``None`` after
    telling the user why not (in ``t``'s language). The picture's embedding comes along, to teach from."""
    data = await download_picture(found, message, context, t, show_typing=show_typing)
    if data is None:
        return None
    services = context.services
    examples, language = services.taught_examples(message.chat_id), services.prompt_language(message.chat_id, t)
    try:
        return await services.engine.classify_embedded(data, labels, top_k, language, examples=examples)
    except UserError as exc:
        logger.info("chat %s: %s: %s", message.chat_id, type(exc).__name__, exc)
        await message.reply_text(replies.error_text(t, exc))
        return None


async def classify_bytes(
    engine: ClassifierEngine,
    data: bytes,
    labels: Sequence[str],
    top_k: int,
    chat_id: int,
    t: Translator,
    examples: "Examples | None" = None,
    language: str = DEFAULT_LANGUAGE,
) -> list[Guess] | str:
    """The top guesses over ``labels`` (with the chat's taught ``examples``), or the user's message
    for an error they caused (logged)."""
    try:
        return await engine.classify(data, labels, top_k, language, examples=examples)
    except UserError as exc:
        logger.info("chat %s: %s: %s", chat_id, type(exc).__name__, exc)
        return replies.error_text(t, exc)


async def download_picture(
    found: PictureRef, reply_to: Message, context: BotContext, t: Translator, *, show_typing: bool = True
) -> bytes | None:
    """The file's bytes, or ``None`` after telling the user why not.

    "typing…" is shown in private chats only (unless ``show_typing=False``):
    in a group it would cost one of its 20 messages a minute.
    """
    too_big = found.file_size and found.file_size > MAX_DOWNLOAD_BYTES
    if show_typing and not too_big and reply_to.chat.type == ChatType.PRIVATE:
        await context.bot.send_chat_action(reply_to.chat_id, ChatAction.TYPING)
    data = await fetch_picture(found, reply_to.chat_id, context, t)
    if isinstance(data, str):
        await reply_to.reply_text(data)
        return None
    return data


async def fetch_picture(found: PictureRef, chat_id: int, context: BotContext, t: Translator) -> bytes | str:
    """The file's bytes, or the text telling the user why not.

    Downloads are idempotent, so network failures and flood waits are retried
    a few times before the user is asked to send the picture again. A file
    Telegram refuses (an unknown or expired ``file_id``) is not retried.
    """
    if found.file_size and found.file_size > MAX_DOWNLOAD_BYTES:
        return replies.too_big_text(t)
    error: TelegramError
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            file = await context.bot.get_file(found.file_id)
            if file.file_size and file.file_size > MAX_DOWNLOAD_BYTES:
                return replies.too_big_text(t)
            data = bytes(await file.download_as_bytearray())
            if file.file_size and len(data) != file.file_size:
                raise NetworkError(f"incomplete download: {len(data)} of {file.file_size} bytes")
            return data
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                return replies.too_big_text(t)
            logger.warning("chat %s: Telegram refused the file: %s", chat_id, exc.message)
            return replies.DOWNLOAD_FAILED_TEXT(t)
        except RetryAfter as exc:
            delay, error = _seconds(exc.retry_after), exc
        except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
            delay, error = DOWNLOAD_BACKOFF_S * attempt, exc
        logger.warning("chat %s: download attempt %d failed: %s", chat_id, attempt, error)
        if attempt < DOWNLOAD_ATTEMPTS:
            await asyncio.sleep(delay)
    return replies.DOWNLOAD_FAILED_TEXT(t)


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def is_chat_admin(update: Update, context: BotContext) -> bool:
    """Private chats: always. Groups: the creator and administrators (also posting anonymously)."""
    message, user = message_of(update), update.effective_user
    chat = message.chat
    if chat.type == ChatType.PRIVATE:
        return True
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group admin
    if user is None:
        return False
    return await is_admin_now(context, chat.id, user.id)


async def is_admin_now(context: BotContext, chat_id: int, user_id: int) -> bool:
    """Whether the user is the chat's creator or an administrator, asking Telegram now."""
    member = await context.bot.get_chat_member(chat_id, user_id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


def sender_name(t: Translator, message: Message, limit: int = 32) -> str:
    """Who sent it, cleaned like players' names: the user, an anonymous admin, or the channel."""
    chat = message.sender_chat
    if chat is not None and chat.id == message.chat_id:
        return replies.ANONYMOUS_ADMIN_NAME(t)
    if chat is not None:
        name = clean_text(chat.title or "") or t.gettext("Channel")
    else:
        name = clean_text(message.from_user.first_name if message.from_user else "") or t.gettext("Someone")
    return name if len(name) <= limit else name[: limit - 1] + "…"
