"""A solo race's card, to share: the race's gallery, "Can you beat 5/6?" and a button that opens the bot.

``GameService`` keeps each player's last card when Telegram took their solo
race's gallery (``Store.keep_card``: the photo's file id and the score; no
picture is stored). Two ways out, both through Telegram's inline messages, so
the card is sent by the player (with "via @bot") into the chat they choose:

- the canvas's "Share" button (Bot API 8.0): ``prepare_card`` has Telegram
  keep the card as a prepared inline message for that user
  (``savePreparedInlineMessage``) and returns its id, which the page hands to
  ``Telegram.WebApp.shareMessage``;
- inline mode (``@bot`` in any chat): ``inline_answer`` is the card as the one
  result, or no result and a button to a private chat with the bot.

The card is said in the player's language: their private chat's
``/language``, else their Telegram one. ``/forget`` in the private chat
erases it (``Store.forget_chat``).
"""

import logging
from dataclasses import dataclass

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    User,
)

from . import replies
from .game_service import GameService
from .i18n import Translator
from .services import Services
from .store import Card

logger = logging.getLogger(__name__)

START_PARAMETER = "card"  # /start's payload from a card's button (the bot greets as for any /start)
ENDING_WAIT_S = 10.0  # a Share pressed as the race ends waits this long at most for the race's card
INLINE_CACHE_S = 10  # Telegram keeps an inline answer this long (per user: is_personal): a new card shows soon


@dataclass(frozen=True)
class InlineAnswer:
    """What an inline query gets: the card as the one result, or none and a button to race first."""

    results: tuple[InlineQueryResultCachedPhoto, ...]
    button: InlineQueryResultsButton | None = None


def bot_link(bot_username: str) -> str:
    """The t.me link that opens a private chat with the bot."""
    return f"https://t.me/{bot_username}?start={START_PARAMETER}"


def card_result(t: Translator, card: Card, bot_username: str) -> InlineQueryResultCachedPhoto:
    """The card as an inline result: the gallery Telegram keeps, the score as its caption, a button to the bot."""
    caption = replies.format_card_caption(t, card.won, card.rounds)
    button = InlineKeyboardButton(replies.CARD_BUTTON(t), url=bot_link(bot_username))
    return InlineQueryResultCachedPhoto(
        id=f"card-{int(card.made_at)}",
        photo_file_id=card.file_id,
        title=caption,
        caption=caption,
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


def inline_answer(services: Services, user: User, bot_username: str) -> InlineAnswer:
    """The user's last card, or no result and a button that opens a private chat with the bot."""
    t = services.translator(user.id, user.language_code)
    card = services.store.card(user.id)
    if card is None:
        return InlineAnswer((), InlineQueryResultsButton(replies.NO_CARD_BUTTON(t), start_parameter=START_PARAMETER))
    return InlineAnswer((card_result(t, card, bot_username),))


async def prepare_card(
    services: Services, games: GameService, bot: Bot, user_id: int, language_code: str | None
) -> str | None:
    """The id of the user's last card prepared for sharing (``savePreparedInlineMessage``), None without a
    card. A race whose end is being posted now is waited for: its card is the one shared. TelegramError
    when Telegram refuses."""
    await games.solo_posted(user_id, ENDING_WAIT_S)
    card = services.store.card(user_id)
    if card is None:
        return None
    t = services.translator(user_id, language_code)
    prepared = await bot.save_prepared_inline_message(
        user_id=user_id,
        result=card_result(t, card, bot.username),
        allow_user_chats=True,
        allow_group_chats=True,
        allow_channel_chats=True,
    )
    logger.info("chat %s: card prepared for sharing (%d of %d)", user_id, card.won, card.rounds)
    return prepared.id
