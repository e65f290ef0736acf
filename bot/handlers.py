"""Thin update callbacks: extract what the user sent, call the engine or store, reply.

Every failure a user can cause gets a short reply here; anything unexpected
goes to ``on_error``, which logs it and apologises without a traceback.
"""

import asyncio
import logging

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from classifier.errors import ClassifierError
from classifier.prompts import DEFAULT_LABELS

from . import replies
from .labels import LabelsError, apply_labels_command, command_args, parse_labels_command
from .pictures import MAX_DOWNLOAD_BYTES, NoPicture, PictureRef, find_picture, is_addressed_to_bot

logger = logging.getLogger(__name__)

ENGINE = "engine"
STORE = "store"
SETTINGS = "settings"
FORGET_HOOK = "forget_hook"  # async (context, chat_id): more to clear, e.g. a running game
DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_BACKOFF_S = 0.5

NO_PICTURE_TEXT = {
    "unsupported-sticker": replies.UNSUPPORTED_STICKER_TEXT,
    "unsupported-animation": replies.UNSUPPORTED_ANIMATION_TEXT,
    "not-an-image": replies.UNSUPPORTED_FILE_TEXT,
}


def chat_labels(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> list[str]:
    """The chat's labels, or the defaults."""
    return context.bot_data[STORE].get_labels(chat_id) or list(DEFAULT_LABELS)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet and say what to send."""
    user = update.effective_user
    await update.effective_message.reply_text(replies.build_start_text(user.first_name if user else None))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List what the bot does and its commands."""
    await update.effective_message.reply_text(replies.HELP_TEXT)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A plain text in a private chat: explain what to send."""
    await update.effective_message.reply_text(replies.NOTHING_TO_GUESS_TEXT)


async def labels_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/labels [set|add|remove|reset] …: show or change the chat's labels."""
    message, chat = update.effective_message, update.effective_chat
    store, engine = context.bot_data[STORE], context.bot_data[ENGINE]
    try:
        command = parse_labels_command(command_args(message.text or ""))
    except LabelsError as exc:
        await message.reply_text(exc.user_message)
        return
    own = store.get_labels(chat.id)
    current = own or list(DEFAULT_LABELS)
    if command.kind == "show":
        await message.reply_text(replies.format_labels(current, is_default=own is None))
        return
    if not await is_chat_admin(update, context):
        logger.info("chat %s: non-admin tried /labels %s", chat.id, command.kind)
        await message.reply_text(replies.NOT_ADMIN_TEXT)
        return
    try:
        new = apply_labels_command(current, list(DEFAULT_LABELS), command)
    except LabelsError as exc:
        await message.reply_text(exc.user_message)
        return
    if command.kind == "reset":
        store.reset_labels(chat.id)
    else:
        store.set_labels(chat.id, new, chat_type=chat.type, title=chat.title)
    logger.info("chat %s: labels %s -> %d labels", chat.id, command.kind, len(new))
    if not engine.labels_ready(new):
        await message.reply_text(replies.PREPARING_TEXT)
        try:
            await engine.prepare_labels(new)
        except ClassifierError as exc:  # stored anyway: computed on first use
            logger.warning("chat %s: preparing labels failed: %s", chat.id, exc)
    await message.reply_text(replies.format_labels_changed(new))


async def is_chat_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Private chats: always. Groups: the creator and administrators (also posting anonymously)."""
    chat, message, user = update.effective_chat, update.effective_message, update.effective_user
    if chat.type == ChatType.PRIVATE:
        return True
    if message.sender_chat is not None and message.sender_chat.id == chat.id:
        return True  # an anonymous group admin
    if user is None:
        return False
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR)


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation before erasing the chat's data."""
    message, user = update.effective_message, update.effective_user
    if not await is_chat_admin(update, context):
        await message.reply_text(replies.NOT_ADMIN_FORGET_TEXT)
        return
    asker = user.id if user else 0
    keyboard = InlineKeyboardMarkup([[
        InlineKeyboardButton(replies.FORGET_YES, callback_data=f"forget:yes:{asker}"),
        InlineKeyboardButton(replies.FORGET_NO, callback_data=f"forget:no:{asker}"),
    ]])
    await message.reply_text(replies.FORGET_CONFIRM_TEXT, reply_markup=keyboard)


async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The answer to /forget's question: only the asker or an admin may give it."""
    query, chat = update.callback_query, update.effective_chat
    _, answer, asker = query.data.split(":", 2)
    if str(query.from_user.id) != asker and not await is_chat_admin(update, context):
        await query.answer(replies.FORGET_NOT_YOURS_TEXT, show_alert=True)
        return
    await query.answer()
    if answer != "yes":
        await query.edit_message_text(replies.FORGET_CANCELLED_TEXT)
        return
    deleted = context.bot_data[STORE].forget_chat(chat.id)
    hook = context.bot_data.get(FORGET_HOOK)
    if hook is not None:
        await hook(context, chat.id)
    logger.info("chat %s: erased on request (%d rows)", chat.id, deleted)
    await query.edit_message_text(replies.FORGOTTEN_TEXT)


async def picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, image document, sticker or GIF: answer with guesses when it is meant for us."""
    message, chat = update.effective_message, update.effective_chat
    if chat.type != ChatType.PRIVATE and not is_addressed_to_bot(message, context.bot.id, context.bot.username):
        return
    await answer_picture(message, context)


async def guess_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/guess as a reply to a picture: guess that picture."""
    message = update.effective_message
    target = message.reply_to_message
    if find_picture(target) is None:
        await message.reply_text(replies.NOTHING_TO_GUESS_TEXT)
        return
    await answer_picture(target, context)


async def answer_picture(message: Message, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Download the picture in ``message``, classify it, reply to it."""
    found = find_picture(message)
    if found is None:
        return
    if isinstance(found, NoPicture):
        await message.reply_text(NO_PICTURE_TEXT[found.reason])
        return
    data = await download_picture(found, message, context)
    if data is None:
        return
    engine = context.bot_data[ENGINE]
    try:
        guesses = await engine.classify(data, chat_labels(context, message.chat_id), top_k=replies.TOP_GUESSES)
    except ClassifierError as exc:
        logger.info("chat %s: %s: %s", message.chat_id, type(exc).__name__, exc)
        await message.reply_text(exc.user_message)
        return
    await message.reply_text(replies.format_guesses(guesses))


async def download_picture(
    found: PictureRef, reply_to: Message, context: ContextTypes.DEFAULT_TYPE, *, show_typing: bool = True
) -> bytes | None:
    """The file's bytes, or ``None`` after telling the user why not.

    Downloads are idempotent, so network failures and flood waits are retried
    a few times before the user is asked to send the picture again.
    ``show_typing=False`` skips the "typing…" action (the game saves its
    group's 20 messages a minute for verdicts).
    """
    if found.file_size and found.file_size > MAX_DOWNLOAD_BYTES:
        await reply_to.reply_text(replies.TOO_BIG_TEXT)
        return None
    if show_typing:
        await context.bot.send_chat_action(reply_to.chat_id, ChatAction.TYPING)
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            file = await context.bot.get_file(found.file_id)
            if file.file_size and file.file_size > MAX_DOWNLOAD_BYTES:
                await reply_to.reply_text(replies.TOO_BIG_TEXT)
                return None
            data = bytes(await file.download_as_bytearray())
            if file.file_size and len(data) != file.file_size:
                raise NetworkError(f"incomplete download: {len(data)} of {file.file_size} bytes")
            return data
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                await reply_to.reply_text(replies.TOO_BIG_TEXT)
                return None
            raise
        except RetryAfter as exc:
            delay, error = _seconds(exc.retry_after), exc
        except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
            delay, error = DOWNLOAD_BACKOFF_S * attempt, exc
        logger.warning("chat %s: download attempt %d failed: %s", reply_to.chat_id, attempt, error)
        if attempt < DOWNLOAD_ATTEMPTS:
            await asyncio.sleep(delay)
    await reply_to.reply_text(replies.DOWNLOAD_FAILED_TEXT)
    return None


def _seconds(value) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the exception; tell the user something went wrong, never how."""
    if update is None and context.job is None and isinstance(context.error, NetworkError):
        # Polling lost Telegram for a moment; PTB's updater retries with growing pauses.
        logger.warning("Telegram unreachable, retrying: %s", context.error)
        return
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(replies.ERROR_TEXT)
        except TelegramError as exc:
            logger.warning("could not send the error reply: %s", exc)
