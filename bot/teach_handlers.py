"""Corrections: the feedback buttons under a guess, the label picker, a typed label, and teaching.

Under each guess sent alone (``bot.feedback.feedback_keyboard``): ``👍`` thanks and
removes the buttons; ``✏️ Not right`` turns them into the labels the picture
was ranked over (paged) and "Other…". Picking a label stores the picture's
embedding with it (``Store.add_taught``) and says so; "Other…" asks for a reply
with the name; a name the chat doesn't have is offered to admins for adding
(others are told how an admin can add it).

Who may press: the picture's sender, or an admin of the chat at press time.
Every step is a pending prompt on the server (``bot.prompts``), consumed by the
press and set again for the next step; callback data only names the action,
and a label button's data is an index into the labels kept on the server.
"""

import logging
import time

from telegram import CallbackQuery, Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop

from . import replies
from .classifying import prepare
from .context import BotContext, translator_of
from .feedback import TEACH, claim_press
from .i18n import Translator
from .labels import LabelsCommand, LabelsError, apply_labels_command, clean_text, parse_labels_command
from .prompts import Decision, callback_data
from .teaching import (
    PER_CHAT,
    PER_LABEL,
    PER_USER_HOUR,
    PICKER_COLUMNS,
    RECENT_MAX_AGE_S,
    Answered,
    Taught,
    find_label,
    picker_page,
)
from .telegram_io import is_admin_now, message_of, query_of

logger = logging.getLogger(__name__)

REFUSALS = {Decision.NOT_YOURS: replies.TEACH_NOT_YOURS_TEXT, Decision.STALE: replies.TEACH_GONE_TEXT}
NOT_TAUGHT = {Taught.HOURLY_LIMIT: replies.TEACH_TOO_MANY_TEXT, Taught.FULL: replies.TEACH_FULL_TEXT}


async def teach_button(update: Update, context: BotContext) -> None:
    """A press on a guess's buttons, the picker, or the offer to add a typed label."""
    query, t = query_of(update), translator_of(update, context)
    action = await claim_press(context.services, context.bot, query, t, REFUSALS)
    if action is None:
        return
    message = query.message  # claim_press honoured it: there is a message
    answered = context.services.recent_answers.get(message.chat.id, message.message_id) if message else None
    if answered is None or not isinstance(message, Message):  # forgotten (too old, too many since, /forget)
        await query.answer(replies.TEACH_GONE_TEXT(t), show_alert=True)
        return
    if action == "ok":
        context.services.recent_answers.pop(message.chat.id, message.message_id)
        await query.answer(replies.TEACH_THANKS_TEXT(t))
        await _drop_keyboard(message)
    elif action in ("fix", "prev", "next"):
        page = {"fix": 0, "prev": answered.page - 1, "next": answered.page + 1}[action]
        await query.answer()
        await _show_picker(context, message, answered, page, t)
    elif action == "other":
        answered.typing_user = query.from_user.id
        await query.answer()
        await _say(message, f"{_words_of(message)}\n\n{replies.TEACH_TYPE_TEXT(t)}".strip())
    elif action.startswith("l") and action[1:].isdigit() and int(action[1:]) < len(answered.labels):
        await _teach_and_say(context, query, message, answered, answered.labels[int(action[1:])], t)
    elif action == "add" and answered.new_label:
        await _add_label_and_teach(context, query, message, answered, answered.new_label, t)
    else:  # "no": the offer to add a typed label, declined
        context.services.recent_answers.pop(message.chat.id, message.message_id)
        await query.answer()
        await _say(message, replies.TEACH_OFFER_DECLINED_TEXT(t))


async def typed_label(update: Update, context: BotContext) -> None:
    """A reply to a guess after "Other…", from the person who pressed it: the right label."""
    message, user = message_of(update), update.effective_user
    chat, t = message.chat, translator_of(update, context)
    target = message.reply_to_message
    if target is None or user is None or target.from_user is None or target.from_user.id != context.bot.id:
        return
    answered = context.services.recent_answers.get(chat.id, target.message_id)
    if answered is None or answered.typing_user != user.id:
        return
    try:
        command = parse_labels_command(f"add {message.text}")
    except LabelsError as exc:
        await message.reply_text(replies.error_text(t, exc))
        raise ApplicationHandlerStop from None
    typed = t.identity(command.labels[0]) if command.labels else clean_text(message.text or "")
    known = find_label(context.services.chat_labels(chat.id), typed)
    if known is not None:
        answered.typing_user = None
        outcome = await _teach(context, answered, known, user.id, chat)
        await message.reply_text(replies.format_taught(t, known) if outcome is Taught.KEPT else NOT_TAUGHT[outcome](t))
        raise ApplicationHandlerStop
    if chat.type != ChatType.PRIVATE and not await is_admin_now(context.bot, chat.id, user.id):
        await message.reply_text(replies.format_new_label_refused(t, typed))
        raise ApplicationHandlerStop
    answered.typing_user, answered.new_label = None, typed
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(replies.OFFER_ADD(t), callback_data=callback_data(TEACH, "add")),
                InlineKeyboardButton(replies.OFFER_CANCEL(t), callback_data=callback_data(TEACH, "no")),
            ]
        ]
    )
    offer = await message.reply_text(replies.format_new_label_offer(t, typed), reply_markup=keyboard)
    context.services.recent_answers.add(answered, offer.message_id)
    context.services.prompts.add(TEACH, chat.id, offer.message_id, user.id, ("add", "no"), time.time())
    raise ApplicationHandlerStop


async def _show_picker(context: BotContext, message: Message, answered: Answered, page: int, t: Translator) -> None:
    """Turn the buttons into one page of labels (in ``t``'s language) and wait for the next press."""
    shown = picker_page(answered.labels, page)
    answered.page = shown.page
    buttons = [
        InlineKeyboardButton(
            f"{replies.get_emoji(label)} {t.label(label)}", callback_data=callback_data(TEACH, f"l{index}")
        )
        for index, label in shown.buttons
    ]
    rows = [buttons[i : i + PICKER_COLUMNS] for i in range(0, len(buttons), PICKER_COLUMNS)]
    actions = [f"l{index}" for index, _ in shown.buttons] + ["other"]
    nav = []
    if shown.has_prev:
        nav.append(InlineKeyboardButton(replies.PICK_PREV, callback_data=callback_data(TEACH, "prev")))
        actions.append("prev")
    if shown.has_next:
        nav.append(InlineKeyboardButton(replies.PICK_NEXT, callback_data=callback_data(TEACH, "next")))
        actions.append("next")
    rows += [nav] if nav else []
    rows.append([InlineKeyboardButton(replies.PICK_OTHER(t), callback_data=callback_data(TEACH, "other"))])
    context.services.prompts.add(
        TEACH, answered.chat_id, message.message_id, answered.sender_id, actions, time.time(), ttl_s=RECENT_MAX_AGE_S
    )
    try:
        await message.edit_reply_markup(InlineKeyboardMarkup(rows))
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise
        # the same page again (after a refused press): it is already shown, and its buttons work again


async def _teach_and_say(
    context: BotContext, query: CallbackQuery, message: Message, answered: Answered, label: str, t: Translator
) -> None:
    outcome = await _teach(context, answered, label, query.from_user.id, message.chat)
    if outcome is not Taught.KEPT:
        await query.answer(NOT_TAUGHT[outcome](t), show_alert=True)
        await _show_picker(context, message, answered, answered.page, t)  # the prompt was consumed
        return
    await query.answer()
    await _say(message, replies.format_taught(t, label))


async def _add_label_and_teach(
    context: BotContext, query: CallbackQuery, message: Message, answered: Answered, typed: str, t: Translator
) -> None:
    """An admin agreed to add the label they typed: add it, then teach it."""
    chat = message.chat
    services = context.services
    current = list(services.chat(chat.id, t.language).labels)
    label = find_label(current, typed)
    if label is None:
        try:
            labels = apply_labels_command(current, current, LabelsCommand("add", (typed,)))
        except LabelsError as exc:  # the list is full
            await query.answer(replies.error_text(t, exc), show_alert=True)
            return
        services.store.set_labels(chat.id, labels, chat_type=chat.type, title=chat.title)
        logger.info("chat %s: label added by a correction -> %d labels", chat.id, len(labels))
        await prepare(services, services.chat(chat.id, t.language))  # a failure: computed on first use
        label = typed
    await _teach_and_say(context, query, message, answered, label, t)


async def _teach(context: BotContext, answered: Answered, label: str, user_id: int, chat: Chat) -> Taught:
    """Store the picture's embedding as ``label``, within the hourly limit and the eviction rules (``bot.teaching``).

    Whether the teacher is an admin is asked now and kept with the picture: a
    member's corrections never drop an admin's pictures.
    """
    chat_id = answered.chat_id
    by_admin = chat.type == ChatType.PRIVATE or await is_admin_now(context.bot, chat_id, user_id)
    outcome, dropped = context.services.store.add_taught(
        chat_id,
        answered.model,
        label,
        answered.embedding,
        user_id=user_id,
        by_admin=by_admin,
        at=time.time(),
        per_label=PER_LABEL,
        per_chat=PER_CHAT,
        per_user_hour=PER_USER_HOUR,
    )
    if outcome is not Taught.KEPT:
        logger.info("chat %s: a correction by %s not kept: %s", chat_id, user_id, outcome.value)
        return outcome
    context.services.taught.drop(chat_id)
    context.services.recent_answers.pop(chat_id, answered.message_id)
    logger.info("chat %s: taught a picture (%d older dropped)", chat_id, dropped)
    return outcome


def _words_of(message: Message) -> str:
    """The guess's words: a message's text, or a posted drawing's caption."""
    return message.text or message.caption or ""


async def _say(message: Message, text: str) -> None:
    """Replace the guess's words (and its keyboard): the text of a message, the caption of a drawing."""
    if message.photo:
        await message.edit_caption(text)
    else:
        await message.edit_text(text)


async def _drop_keyboard(message: Message) -> None:
    """Remove a message's buttons; a message that can't be edited any more keeps them."""
    try:
        await message.edit_reply_markup(None)
    except BadRequest as exc:
        logger.info("couldn't remove the buttons: %s", exc)
