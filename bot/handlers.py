"""Thin update callbacks: extract what the user sent, call a service, reply.

Every failure a user can cause gets a short reply here; anything unexpected
goes to ``on_error``, which logs it and apologises without a traceback.
State (store, engine, prompts, answered messages, albums) lives in
``context.services`` (``bot.services``); a chat's picture is classified through
``bot.classifying``; buttons are claimed through ``bot.feedback``. Nothing
imports this module but ``bot.app``.
"""

import asyncio
import logging
import time
from dataclasses import replace

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, WebAppInfo
from telegram.constants import ChatAction, ChatType
from telegram.error import NetworkError, TelegramError

from classifier.errors import UserError
from classifier.prompts import DEFAULT_LABELS, looks_english

from . import cards, replies
from .classifying import Refused, Seen, classify_for_chat, labels_ready, prepare
from .context import BotContext, is_chat_admin, job_queue_of, translator_of
from .feedback import FORGET, claim_press, feedback_keyboard, remember_answer
from .i18n import ENGLISH, LANGUAGES, Translator, get_translator
from .labels import LabelsCommand, apply_labels_command, command_args, parse_labels_command
from .outbox import Pending, StaleReply
from .pictures import MAX_DOWNLOAD_BYTES, NoPicture, PictureRef, find_picture, is_addressed_to_bot
from .prompts import callback_data
from .services import ChatView
from .telegram_io import is_member_status, message_of, player_of, query_of

logger = logging.getLogger(__name__)

ALBUM_WAIT_S = 1.0  # an album's messages arrive as separate updates within moments

NO_PICTURE_TEXT = {
    "unsupported-sticker": replies.UNSUPPORTED_STICKER_TEXT,
    "unsupported-animation": replies.UNSUPPORTED_ANIMATION_TEXT,
    "not-an-image": replies.UNSUPPORTED_FILE_TEXT,
}


async def start(update: Update, context: BotContext) -> None:
    """Greet and say what to send."""
    user, t = update.effective_user, translator_of(update, context)
    await message_of(update).reply_text(replies.build_start_text(t, user.first_name if user else None))


async def help_command(update: Update, context: BotContext) -> None:
    """List what the bot does and its commands."""
    await message_of(update).reply_text(replies.build_help_text(translator_of(update, context)))


async def draw_command(update: Update, context: BotContext) -> None:
    """/draw: a button that opens the drawing canvas (a Mini App) for this chat."""
    message = message_of(update)
    chat = message.chat
    server, t = context.services.webapp, translator_of(update, context)
    if server is None:
        await message.reply_text(replies.DRAW_OFF_TEXT(t))
        return
    if chat.type == ChatType.PRIVATE:
        if not server.page_url.startswith("https://"):  # development: Telegram opens only https Mini Apps
            await message.reply_text(f"{replies.DRAW_TEXT(t)}\n{server.page_url}")
            return
        button = InlineKeyboardButton(replies.DRAW_BUTTON(t), web_app=WebAppInfo(server.page_url))
        await message.reply_text(replies.DRAW_TEXT(t), reply_markup=InlineKeyboardMarkup([[button]]))
        return
    link = server.group_link
    if link is None:  # web-app buttons work only in private chats; groups need the app's t.me link
        await message.reply_text(replies.DRAW_GROUP_TEXT(t))
        return
    button = InlineKeyboardButton(replies.DRAW_HERE_BUTTON(t), url=link(chat.id))
    await message.reply_text(replies.DRAW_TEXT(t), reply_markup=InlineKeyboardMarkup([[button]]))


async def card_query(update: Update, context: BotContext) -> None:
    """Inline mode (@bot in any chat): the user's last race card to send, or a button to race first."""
    query = update.inline_query
    if query is None:
        return
    answer = cards.inline_answer(context.services, query.from_user, context.bot.username)
    await query.answer(answer.results, cache_time=cards.INLINE_CACHE_S, is_personal=True, button=answer.button)


async def private_text(update: Update, context: BotContext) -> None:
    """A plain text in a private chat: explain what to send."""
    await message_of(update).reply_text(replies.NOTHING_TO_GUESS_TEXT(translator_of(update, context)))


async def private_other(update: Update, context: BotContext) -> None:
    """A voice message, video, location, poll… in a private chat: say what we look at."""
    await message_of(update).reply_text(replies.NOT_A_PICTURE_TEXT(translator_of(update, context)))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command we don't have, in a private chat: point at /help."""
    await message_of(update).reply_text(replies.UNKNOWN_COMMAND_TEXT(translator_of(update, context)))


async def bot_membership(update: Update, context: BotContext) -> None:
    """The bot's own membership changed: greet a group that just added it."""
    change = update.my_chat_member
    if change is None:
        return
    if not is_member_status(change.old_chat_member) and is_member_status(change.new_chat_member):
        await _greet_group(change.chat, context, change.from_user.language_code)


async def new_chat_members(update: Update, context: BotContext) -> None:
    """Someone joined a group: greet it when it is the bot."""
    message = message_of(update)
    if any(user.id == context.bot.id for user in message.new_chat_members):
        await _greet_group(message.chat, context, message.from_user.language_code if message.from_user else None)


async def _greet_group(chat: Chat, context: BotContext, language_code: str | None) -> None:
    """Say hello to a group once, whichever of the two join updates comes first."""
    if chat.type not in (ChatType.GROUP, ChatType.SUPERGROUP):
        return
    if not context.services.greeted.add(chat.id):
        return
    logger.info("chat %s: added to the group", chat.id)
    t = context.services.translator(chat.id, language_code)  # the language of whoever added the bot
    await context.bot.send_message(chat.id, replies.build_group_greeting(t, context.bot.username))


async def labels_command(update: Update, context: BotContext) -> None:
    """/labels [set|add|remove|reset] …: show or change the chat's labels (default ones in the chat's language)."""
    message, user = message_of(update), update.effective_user
    chat = message.chat
    services = context.services
    store, engine = services.store, services.engine
    view = services.chat(chat.id, user.language_code if user else None)
    t = view.t
    try:
        command = _identities(t, parse_labels_command(command_args(message.text or "")))
    except UserError as exc:
        await message.reply_text(replies.error_text(t, exc))
        return
    current = list(view.labels)
    if command.kind == "show":
        text = replies.format_labels(t, current, is_default=not view.own_labels)
        counts = store.taught_counts(chat.id, engine.identity)
        if counts:
            text = replies.fit_text(f"{text}\n\n{replies.format_taught_counts(t, counts)}")
        await message.reply_text(text)
        return
    if not await is_chat_admin(update, context):
        logger.info("chat %s: non-admin tried /labels %s", chat.id, command.kind)
        refusal = replies.NOT_ADMIN_UNTRAIN_TEXT if command.kind == "untrain" else replies.NOT_ADMIN_TEXT
        await message.reply_text(refusal(t))
        return
    if command.kind == "untrain":
        untrained = {label: n for label in command.labels if (n := store.untrain(chat.id, label))}
        services.taught.drop(chat.id)
        logger.info("chat %s: untrained %s", chat.id, untrained)
        await message.reply_text(replies.format_untrained(t, untrained))
        return
    try:
        new = apply_labels_command(current, list(DEFAULT_LABELS), command)
    except UserError as exc:
        await message.reply_text(replies.error_text(t, exc))
        return
    if command.kind == "reset":
        store.reset_labels(chat.id)
    else:
        store.set_labels(chat.id, new, chat_type=chat.type, title=chat.title)
    logger.info("chat %s: labels %s -> %d labels", chat.id, command.kind, len(new))
    view = services.chat(chat.id, user.language_code if user else None)  # changed: read again
    if not labels_ready(services, view):
        await message.reply_text(replies.PREPARING_TEXT(t))
        await prepare(services, view)  # stored anyway: a failure means they are computed on first use
    text = replies.format_labels_changed(t, new, is_default=command.kind == "reset")
    foreign = [label for label in command.labels if not looks_english(label)] if command.kind in ("set", "add") else []
    if foreign and services.english_only():
        logger.info("chat %s: labels that may not be English for an English-only model: %s", chat.id, foreign)
        text = replies.fit_text(f"{text}\n\n⚠️ {replies.format_english_only_warning(t, foreign)}")
    await message.reply_text(text)


def _identities(t: Translator, command: LabelsCommand) -> LabelsCommand:
    """Default labels typed in the chat's language become their one identity ("jirafa" → "giraffe")."""
    return replace(command, labels=tuple(t.identity(label) for label in command.labels))


async def language_command(update: Update, context: BotContext) -> None:
    """/language [en|es|ru|auto]: show or set the language the bot speaks in this chat (admins in groups)."""
    message = message_of(update)
    chat = message.chat
    t = translator_of(update, context)
    args = [arg.casefold() for arg in context.args or []]
    if not args:
        chosen = context.services.store.get_language(chat.id) is not None
        await message.reply_text(replies.format_language(t, chosen))
        return
    if len(args) > 1 or args[0] not in (*LANGUAGES, "auto"):
        await message.reply_text(replies.LANGUAGE_USAGE_TEXT(t))
        return
    if not await is_chat_admin(update, context):
        logger.info("chat %s: non-admin tried /language %s", chat.id, args[0])
        await message.reply_text(replies.NOT_ADMIN_LANGUAGE_TEXT(t))
        return
    language = None if args[0] == "auto" else args[0]
    context.services.store.set_language(chat.id, language, chat_type=chat.type)
    logger.info("chat %s: language set to %s", chat.id, language or "auto")
    said_in = get_translator(language) if language else translator_of(update, context)
    await message.reply_text(replies.format_language_set(said_in, language is not None))


async def forget_command(update: Update, context: BotContext) -> None:
    """/forget: ask for confirmation before erasing the chat's data."""
    message, user = message_of(update), update.effective_user
    chat, t = message.chat, translator_of(update, context)
    if not await is_chat_admin(update, context):
        await message.reply_text(replies.NOT_ADMIN_FORGET_TEXT(t))
        return
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(replies.FORGET_YES(t), callback_data=callback_data(FORGET, "yes")),
                InlineKeyboardButton(replies.FORGET_NO(t), callback_data=callback_data(FORGET, "no")),
            ]
        ]
    )
    sent = await message.reply_text(replies.FORGET_CONFIRM_TEXT(t), reply_markup=keyboard)
    asker = user.id if user else 0
    context.services.prompts.add(FORGET, chat.id, sent.message_id, asker, ("yes", "no"), time.time())


async def forget_button(update: Update, context: BotContext) -> None:
    """The answer to /forget's question: only the asker or an admin may give it."""
    query, t = query_of(update), translator_of(update, context)  # asked before the chat's language is erased
    action = await claim_press(context.services, context.bot, query, t)
    if action is None or query.message is None:  # refused (claim_press answered it)
        return
    chat = query.message.chat
    await query.answer()
    if action != "yes":
        await query.edit_message_text(replies.FORGET_CANCELLED_TEXT(t))
        return
    deleted = context.services.forget_chat(chat.id)
    logger.info("chat %s: erased on request (%d rows)", chat.id, deleted)
    await query.edit_message_text(replies.FORGOTTEN_TEXT(t))


async def stray_button(update: Update, context: BotContext) -> None:
    """Any other button press (old keyboards, forged data): answer it and do nothing."""
    query = query_of(update)
    logger.info(
        "chat %s: unknown button data from %s",
        update.effective_chat.id if update.effective_chat else None,
        query.from_user.id,
    )
    await query.answer(replies.BUTTON_UNKNOWN_TEXT(translator_of(update, context)), show_alert=True)


async def chat_migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its labels, games, scores and prompts move to the new chat id.

    Telegram tells both chats (``migrate_to_chat_id`` in the old one,
    ``migrate_from_chat_id`` in the new one); whichever comes first moves
    everything, the other finds nothing left to move.
    """
    message = message_of(update)
    if message.migrate_to_chat_id:
        old_id, new_id = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old_id, new_id = message.migrate_from_chat_id, message.chat_id
    else:
        return  # filters.StatusUpdate.MIGRATE lets only the two through
    moved = context.services.move_chat(old_id, new_id)
    if old_id in context.application.chat_data:
        context.application.migrate_chat_data(old_chat_id=old_id, new_chat_id=new_id)
    logger.info("chat %s: moved to %s (%d rows)", old_id, new_id, moved)


async def picture(update: Update, context: BotContext) -> None:
    """A photo, image document, sticker or GIF: answer with guesses when it is meant for us.

    Each message is answered once: an edit gets guesses only when it newly
    addresses the bot in a group (edits in private chats never do).
    """
    message = message_of(update)
    chat = message.chat
    if chat.type == ChatType.PRIVATE:
        if update.edited_message is not None:
            return
    elif not is_addressed_to_bot(message, context.bot.id, context.bot.username):
        return
    if not _first_answer(context, message):
        return
    await answer_picture(message, context, _chat_of(update, context))


async def album_message(update: Update, context: BotContext) -> None:
    """One item of an album: collect them, and answer the album once it is complete."""
    message = message_of(update)
    if message.media_group_id is None:  # ALBUM_ITEMS lets only album items through
        return
    key = (message.chat_id, message.media_group_id)
    context.services.albums.setdefault(key, []).append(message)
    name = f"album:{key[0]}:{key[1]}"
    job_queue = job_queue_of(context.application)
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    job_queue.run_once(_answer_album, ALBUM_WAIT_S, name=name, chat_id=message.chat_id, data=key)


async def _answer_album(context: BotContext) -> None:
    """No new item came for a moment: guess every picture, in one reply, if the album asks us."""
    job = context.job
    if job is None or not isinstance(job.data, tuple):  # album_message sets the album's key
        return
    messages = sorted(context.services.albums.pop(job.data, []), key=lambda m: m.message_id)
    if not messages:
        return
    first = messages[0]
    chat = context.services.chat(first.chat_id, first.from_user.language_code if first.from_user else None)
    t = chat.t
    addressed = any(is_addressed_to_bot(m, context.bot.id, context.bot.username) for m in messages)
    if first.chat.type != ChatType.PRIVATE and not addressed:
        return
    for m in messages:
        _first_answer(context, m)  # so that edits of its captions get nothing new
    if all(find_picture(m) is None for m in messages):  # an album of videos or songs
        if first.chat.type == ChatType.PRIVATE:
            await first.reply_text(replies.NOT_A_PICTURE_TEXT(t))
        return
    logger.info("chat %s: album of %d", first.chat_id, len(messages))
    await context.bot.send_chat_action(first.chat_id, ChatAction.TYPING)
    results = await asyncio.gather(*(_guess_album_item(m, context, chat) for m in messages))
    await first.reply_text(replies.format_album_guesses(t, results))


async def _guess_album_item(message: Message, context: BotContext, chat: ChatView) -> list | str:
    """One album item's guesses, or the text saying why there are none.

    An album is answered in one message for all its pictures, so it carries no
    feedback buttons (a press could not say which picture it is about).
    """
    found = find_picture(message)
    if not isinstance(found, PictureRef):
        return NO_PICTURE_TEXT[found.reason](chat.t) if found else replies.UNSUPPORTED_FILE_TEXT(chat.t)
    seen = await classify_for_chat(context.services, context.bot, chat, found)
    return seen.text if isinstance(seen, Refused) else seen.guesses


def _first_answer(context: BotContext, message: Message) -> bool:
    """True the first time we answer ``message`` (checked and recorded before any await)."""
    return context.services.answered.add((message.chat_id, message.message_id))


async def guess_command(update: Update, context: BotContext) -> None:
    """/guess as a reply to a picture: guess that picture (an edited /guess is not answered again)."""
    message = message_of(update)
    if not _first_answer(context, message):
        return
    target, chat = message.reply_to_message, _chat_of(update, context)
    if target is None or find_picture(target) is None:
        await message.reply_text(replies.NOTHING_TO_GUESS_TEXT(chat.t))
        return
    await answer_picture(target, context, chat)


def _chat_of(update: Update, context: BotContext) -> ChatView:
    """The update's chat as pictures are classified for it, in the sender's language unless the chat chose one."""
    user = update.effective_user
    return context.services.chat(message_of(update).chat_id, user.language_code if user else None)


async def answer_picture(message: Message, context: BotContext, chat: ChatView) -> None:
    """Download the picture in ``message``, classify it, reply to it (in the chat's language) with feedback buttons.

    In a group the answer waits a moment in the outbox: when several pictures'
    answers go out as one message, that message has no buttons (which picture
    would a press be about?); an answer sent alone has them.
    """
    t, found = chat.t, find_picture(message)
    if found is None:
        return
    if isinstance(found, NoPicture):
        await message.reply_text(NO_PICTURE_TEXT[found.reason](t))
        return
    private = message.chat.type == ChatType.PRIVATE
    if private and not (found.file_size and found.file_size > MAX_DOWNLOAD_BYTES):
        await context.bot.send_chat_action(message.chat_id, ChatAction.TYPING)  # in a group it costs a message
    seen = await classify_for_chat(context.services, context.bot, chat, found)
    if isinstance(seen, Refused):
        await message.reply_text(seen.text)
        return
    text = replies.format_guesses(t, seen.guesses)
    sender = message.from_user.id if message.from_user and message.sender_chat is None else 0

    def offer_feedback(sent: Message, seen: Seen = seen) -> None:
        remember_answer(context.services, sent, sender, seen.embedding, seen.labels)

    if private:
        offer_feedback(await message.reply_text(text, reply_markup=feedback_keyboard(t)))
        return
    line = replies.format_guess_line(t, player_of(t, message).name, seen.guesses)
    item = Pending(
        message.message_id, text, line, at=time.time(), reply_markup=feedback_keyboard(t), on_sent=offer_feedback
    )
    context.services.outbox.add(message.chat_id, ("picture", message.message_id), item)


async def on_error(update: object, context: BotContext) -> None:
    """Log the exception; tell the user something went wrong, never how."""
    if update is None and context.job is None and isinstance(context.error, NetworkError):
        # Polling lost Telegram for a moment; PTB's updater retries with growing pauses.
        logger.warning("Telegram unreachable, retrying: %s", context.error)
        return
    if isinstance(context.error, StaleReply):  # held too long for the group's budget: its moment passed
        logger.info("a reply was dropped: %s", context.error)
        return
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(replies.ERROR_TEXT(_error_translator(update, context)))
        except TelegramError as exc:
            logger.warning("could not send the error reply: %s", exc)


def _error_translator(update: Update, context: BotContext) -> Translator:
    """The language for the apology: the usual one, or English when even that can't be read (the store failed)."""
    try:
        return translator_of(update, context)
    except Exception:  # noqa: BLE001 (the error being handled may be the store's or the services')
        logger.warning("no language for the error reply; answering in English")
        return ENGLISH
