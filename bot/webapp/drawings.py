"""What a drawing from the canvas does in the bot: guesses over its chat's labels, posting it, judging it in a game.

The HTTP handlers (``bot.webapp.routes``) call these with the bot's services,
its games and its bot; the engine, the store and the running games are the
same ones the Telegram handlers use, and every picture is classified through
the same seam (``bot.classifying``), in the chat's language with its taught
pictures. Canvas pictures need no Telegram download: their bytes go straight
to the engine.
"""

import logging
import time
from dataclasses import dataclass
from enum import Enum

from telegram import Bot

from .. import replies
from ..classifying import Refused, Seen, classify_for_chat
from ..feedback import feedback_keyboard, remember_answer
from ..game import RoundView, round_view
from ..game_service import GameService, Judgement, Live
from ..services import Services
from ..telegram_io import is_member_status, named_player
from .tokens import CanvasTarget

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Drawer:
    """Who is drawing (from the signed init data) and where the drawing goes."""

    user_id: int
    first_name: str
    target: CanvasTarget
    language_code: str | None = None  # from the signed init data

    @property
    def chat_id(self) -> int:
        return self.target.chat_id


class SendRefusal(Enum):
    """Why ``send_drawing`` did not post a drawing."""

    NO_ROUND = "no-round"  # the link's round is over
    COOLDOWN = "cooldown"  # the player's previous drawing counted a moment ago
    CLASSIFIER = "classifier"  # the classifier refused it: ``Sent.error`` says why


class SoloRefusal(Enum):
    """Why ``start_solo`` started no race."""

    NOT_PRIVATE = "not-private"  # the canvas was opened for a group (its link), not the private chat
    RUNNING = "running"  # a game is already running in the private chat
    UNDELIVERED = "undelivered"  # Telegram would not take the announcement (the user blocked the bot)


@dataclass(frozen=True)
class Sent:
    """What ``send_drawing`` did: ``refused`` is None when it posted."""

    refused: SendRefusal | None = None
    retry_after_s: float = 0.0
    message_id: int | None = None
    error: Refused | None = None


@dataclass(frozen=True)
class Backend:
    """What the canvas's routes need of the bot: its services, its games, and the bot to post with."""

    services: Services
    games: GameService
    bot: Bot


async def guess_drawing(backend: Backend, drawer: Drawer, data: bytes) -> Seen | Refused:
    """The top guesses over the chat's labels, through the one seam."""
    chat = backend.services.chat(drawer.chat_id, _language(backend, drawer))
    return await classify_for_chat(backend.services, backend.bot, chat, data)


def round_of(backend: Backend, drawer: Drawer) -> RoundView | None:
    """The game the drawer's link names (or, in a private chat, its solo game), as the page shows it."""
    return backend.games.view(drawer.chat_id, drawer.target.game_id)


async def live_guess(backend: Backend, drawer: Drawer, data: bytes) -> Live | None:
    """In a game: the live guess, judged at once (``GameService.judge_live``); None outside a game."""
    if backend.games.game_of(drawer.chat_id, drawer.target.game_id) is None:
        return None
    t = backend.games.translator(drawer.chat_id)
    player = named_player(t, drawer.user_id, drawer.first_name)

    async def still_member() -> bool:  # asked at the moment of a win, not from the minute-long cache
        return await is_member(backend.bot, drawer.chat_id, drawer.user_id)

    return await backend.games.judge_live(drawer.chat_id, drawer.target.game_id, player, data, still_member)


async def start_solo(backend: Backend, drawer: Drawer) -> RoundView | SoloRefusal:
    """The page's Play solo button: ``/play``'s race (``GameService.start_solo``, announced in the chat as
    ``/play`` does) in the drawer's own private chat, never a group's; the race as the page shows it."""
    if drawer.target.in_game or drawer.chat_id != drawer.user_id:
        return SoloRefusal.NOT_PRIVATE
    chat = backend.services.chat(drawer.user_id, drawer.language_code)
    player = named_player(chat.t, drawer.user_id, drawer.first_name)
    game = await backend.games.start_solo(chat, player)
    if game is None:
        return SoloRefusal.RUNNING
    if not game.playing:  # closed at once: nobody to play with
        return SoloRefusal.UNDELIVERED
    logger.info("chat %s: solo race %s started from the canvas", drawer.chat_id, game.id)
    return round_view(game, time.time())


async def is_member(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether the user belongs to the chat now, asking Telegram."""
    return is_member_status(await bot.get_chat_member(chat_id, user_id))


async def send_drawing(backend: Backend, drawer: Drawer, data: bytes) -> Sent:
    """Post the drawing into its chat: in a game round, judged as the drawer's picture; else with its guesses."""
    target, services = drawer.target, backend.services
    if target.game_id is not None:  # a game's link: judged in its open round
        t = backend.games.translator(target.chat_id)
        player = named_player(t, drawer.user_id, drawer.first_name)
        caption = replies.format_canvas_caption(t, player.name)
        outcome = await backend.games.judge_canvas(
            target.chat_id, target.game_id, target.round_number, player, data, caption
        )
        if outcome.judgement is Judgement.COOLDOWN:
            return Sent(SendRefusal.COOLDOWN, backend.games.cooldown_left(target.chat_id, drawer.user_id))
        if outcome.judgement is Judgement.NO_ROUND:
            return Sent(SendRefusal.NO_ROUND)
        if outcome.refused is not None:
            return Sent(SendRefusal.CLASSIFIER, error=outcome.refused)
        logger.info("chat %s: canvas drawing by %s judged", target.chat_id, drawer.user_id)
        return Sent()
    chat = services.chat(target.chat_id, _language(backend, drawer))
    seen = await classify_for_chat(services, backend.bot, chat, data)
    if isinstance(seen, Refused):
        return Sent(SendRefusal.CLASSIFIER, error=seen)
    in_private = target.chat_id == drawer.user_id
    name = None if in_private else named_player(chat.t, drawer.user_id, drawer.first_name).name
    message = await backend.bot.send_photo(
        target.chat_id,
        data,
        caption=replies.format_canvas_caption(chat.t, name, seen.guesses),
        reply_markup=feedback_keyboard(chat.t),
    )
    remember_answer(services, message, drawer.user_id, seen.embedding, seen.labels)  # the drawer may correct it
    logger.info("chat %s: canvas drawing by %s posted", target.chat_id, drawer.user_id)
    return Sent(message_id=message.message_id)


def _language(backend: Backend, drawer: Drawer) -> str | None:
    """The language to classify and answer in when the chat chose none (``/language``): a game's
    link speaks the game's language (its starter's, as for photos in the game); else the drawer's."""
    game = backend.games.get(drawer.chat_id) if drawer.target.in_game else None
    return game.language if game is not None else drawer.language_code
