"""What a drawing from the canvas does in the bot: guesses over its chat's labels, posting it, judging it in a game.

The HTTP handlers (``bot.webapp.routes``) call these with the bot's
``Application``; the engine, the store and the running games are the same ones
the Telegram handlers use. Canvas pictures need no Telegram download: their
bytes go straight to the engine.
"""

import logging
from dataclasses import dataclass

from telegram import ChatMember
from telegram.constants import ChatMemberStatus
from telegram.ext import Application

from classifier.types import Guess

from .. import game_handlers, handlers, replies
from ..services import services_of
from .tokens import CanvasTarget

logger = logging.getLogger(__name__)

MEMBER_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER)


@dataclass(frozen=True)
class Drawer:
    """Who is drawing (from the signed init data) and where the drawing goes."""

    user_id: int
    first_name: str
    target: CanvasTarget
    language_code: str | None = None  # from the init data: the page's language, unless the chat has its own

    @property
    def chat_id(self) -> int:
        return self.target.chat_id


@dataclass(frozen=True)
class Sent:
    """What ``send_drawing`` did: ``refused`` is None when it posted, else "no-round" or "cooldown"."""

    refused: str | None = None
    retry_after_s: float = 0.0
    message_id: int | None = None


async def guess_drawing(application: Application, chat_id: int, data: bytes) -> list[Guess]:
    """The top guesses over the chat's labels; a classifier ``UserError`` reaches the caller."""
    services = services_of(application)
    labels, examples = services.chat_labels(chat_id), services.taught_examples(chat_id)
    return await services.engine.classify(data, labels, top_k=replies.TOP_GUESSES, examples=examples)


async def is_member(application: Application, chat_id: int, user_id: int) -> bool:
    """Whether the user belongs to the chat now, asking Telegram."""
    member = await application.bot.get_chat_member(chat_id, user_id)
    if member.status == ChatMember.RESTRICTED:
        return bool(getattr(member, "is_member", False))
    return member.status in MEMBER_STATUSES


async def send_drawing(application: Application, drawer: Drawer, data: bytes) -> Sent:
    """Post the drawing into its chat: in a game round, judged as the drawer's picture; else with its guesses."""
    target = drawer.target
    if target.game_id is not None and target.round_number is not None:  # a game's round
        player = game_handlers.named_player(drawer.user_id, drawer.first_name)
        caption = replies.format_canvas_caption(services_of(application).chat_translator(target.chat_id), player.name)
        refused = await game_handlers.canvas_picture(
            application, target.chat_id, target.game_id, target.round_number, player, data, caption
        )
        if refused == "cooldown":
            return Sent(refused, game_handlers.cooldown_left(application, target.chat_id, drawer.user_id))
        if refused is None:
            logger.info("chat %s: canvas drawing by %s judged", target.chat_id, drawer.user_id)
        return Sent(refused)
    services = services_of(application)
    labels, examples = services.chat_labels(target.chat_id), services.taught_examples(target.chat_id)
    result = await services.engine.classify_embedded(data, labels, top_k=replies.TOP_GUESSES, examples=examples)
    in_private = target.chat_id == drawer.user_id
    name = None if in_private else game_handlers.named_player(drawer.user_id, drawer.first_name).name
    t = services.chat_translator(target.chat_id)
    message = await application.bot.send_photo(
        target.chat_id,
        data,
        caption=replies.format_canvas_caption(t, name, result.guesses),
        reply_markup=handlers.feedback_keyboard(t),
    )
    handlers.remember_answer(services, message, drawer.user_id, result, labels)  # the drawer may correct it
    logger.info("chat %s: canvas drawing by %s posted", target.chat_id, drawer.user_id)
    return Sent(message_id=message.message_id)
