"""Buttons under the bot's messages, the service part shared by the handlers and the canvas.

Claiming a press (``claim_press``: authority from the pending prompt kept on
the server and an admin check at press time, never from callback data), the
👍 / ✏️ keyboard under a guess, and remembering an answered picture's embedding
so that a correction can teach from it.
"""

import logging
import time
from dataclasses import replace

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from . import replies
from .i18n import Text, Translator
from .prompts import Decision, callback_data
from .services import Services
from .teaching import RECENT_MAX_AGE_S, Answered
from .telegram_io import is_admin_now

logger = logging.getLogger(__name__)

FORGET = "forget"  # the /forget question's kind, in its buttons' data
TEACH = "teach"  # the feedback buttons' kind, in their data
FEEDBACK_ACTIONS = ("ok", "fix")

BUTTON_REFUSALS = {
    Decision.NOT_YOURS: replies.FORGET_NOT_YOURS_TEXT,
    Decision.STALE: replies.BUTTON_STALE_TEXT,
    Decision.MALFORMED: replies.BUTTON_UNKNOWN_TEXT,
}


async def claim_press(
    services: Services, bot: Bot, query: CallbackQuery, t: Translator, refusals: dict[Decision, Text] | None = None
) -> str | None:
    """The action of a press to honour now (its prompt is consumed), or None after an alert (in ``t``'s language).

    Honoured: a press on a pending prompt's own message, with one of its
    buttons' data, by the person who asked or by someone who is an admin of
    the chat right now. Nothing in the callback data counts as identity.
    ``refusals`` replaces some of the alerts (``BUTTON_REFUSALS``).
    """
    message = query.message  # may be an InaccessibleMessage (too old): it still has chat and id
    if message is None:  # a message sent in inline mode: we never ask anything there
        await query.answer(replies.BUTTON_STALE_TEXT(t), show_alert=True)
        return None
    chat_id, message_id = message.chat.id, message.message_id
    prompts = services.prompts
    verdict = prompts.check(chat_id, message_id, query.from_user.id, query.data, time.time())
    if verdict.decision is Decision.NOT_YOURS and await is_admin_now(bot, chat_id, query.from_user.id):
        verdict = replace(verdict, decision=Decision.HONOUR)
    if verdict.decision is Decision.HONOUR and prompts.consume(chat_id, message_id, time.time()) is None:
        verdict = replace(verdict, decision=Decision.STALE)  # answered or expired while we asked
    if verdict.decision is not Decision.HONOUR:
        logger.info("chat %s: button press by %s refused (%s)", chat_id, query.from_user.id, verdict.decision.value)
        refused = {**BUTTON_REFUSALS, **(refusals or {})}[verdict.decision]
        await query.answer(refused(t), show_alert=True)
        return None
    return verdict.action


def feedback_keyboard(t: Translator) -> InlineKeyboardMarkup:
    """👍 and ✏️ under a guess: the data names the action only."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(replies.FEEDBACK_GOOD, callback_data=callback_data(TEACH, "ok")),
                InlineKeyboardButton(replies.FEEDBACK_FIX(t), callback_data=callback_data(TEACH, "fix")),
            ]
        ]
    )


def remember_answer(
    services: Services, sent: Message, sender: int, embedding: bytes, labels: tuple[str, ...] | list[str]
) -> None:
    """Keep the answered picture's embedding and who may correct it (``sender``; 0: admins only), for the
    feedback buttons under ``sent``."""
    answered = Answered(sent.chat_id, sent.message_id, sender, services.engine.identity, embedding, tuple(labels))
    services.recent_answers.add(answered)
    services.prompts.add(
        TEACH, sent.chat_id, sent.message_id, sender, FEEDBACK_ACTIONS, time.time(), ttl_s=RECENT_MAX_AGE_S
    )
