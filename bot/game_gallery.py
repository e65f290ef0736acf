"""The game's side of the gallery: which drawing each round keeps, held in memory until the game's end.

``GameService`` offers every judged picture to ``KeptDrawings`` (a member's
photo by its Telegram file id, a canvas drawing by the bytes the bot posted);
each round keeps one: the winning drawing, or the best attempt
(``gallery.better``). At the game's end ``build_gallery`` takes them (they are
dropped from memory then, posted or not), fetches the photos again through the
bot, and renders the picture off the event loop. ``/forget`` drops a chat's
drawings at once (``forget_chat``). Nothing of a drawing is ever stored on disk.
"""

import asyncio
import logging
from dataclasses import dataclass, field

from telegram import Bot

from .classifying import Refused, fetch_picture
from .gallery import HeldDrawing, better, render_gallery, tiles_of
from .game import Game, GameOver, Judged
from .pictures import PictureRef
from .replies import format_game_over_head
from .services import ChatView

logger = logging.getLogger(__name__)


@dataclass
class _GameDrawings:
    chat_id: int
    rounds: dict[int, HeldDrawing] = field(default_factory=dict)  # round number -> its drawing


class KeptDrawings:
    """Each running game's drawings, one per round, by game id; nothing is kept after the game."""

    def __init__(self) -> None:
        self._games: dict[int, _GameDrawings] = {}

    def offer(self, game: Game, judged: Judged, seen_score: float, picture: str | bytes) -> None:
        """A judged picture (``picture``: its Telegram file id, or the bytes the bot posted)."""
        if game.id is None:
            return
        drawing = HeldDrawing(
            judged.number,
            judged.user_id,
            judged.name,
            judged.seen,
            seen_score,
            judged.target_score,
            judged.won,
            file_id=picture if isinstance(picture, str) else None,
            data=picture if isinstance(picture, bytes) else None,
        )
        kept = self._games.setdefault(game.id, _GameDrawings(game.chat_id))
        if better(drawing, kept.rounds.get(judged.number)):
            kept.rounds[judged.number] = drawing

    def take(self, game_id: int | None) -> dict[int, HeldDrawing]:
        """The game's drawings by round number, no longer kept here."""
        kept = self._games.pop(game_id, None) if game_id is not None else None
        return kept.rounds if kept is not None else {}

    def games(self) -> list[int]:
        """Ids of the games that have drawings kept."""
        return list(self._games)

    def forget_chat(self, chat_id: int) -> None:
        for game_id in [game_id for game_id, kept in self._games.items() if kept.chat_id == chat_id]:
            del self._games[game_id]

    def move_chat(self, old_id: int, new_id: int) -> None:
        for kept in self._games.values():
            if kept.chat_id == old_id:
                kept.chat_id = new_id


async def build_gallery(
    bot: Bot, chat: ChatView, game: Game, over: GameOver, drawings: dict[int, HeldDrawing]
) -> bytes | None:
    """The game's gallery picture in the chat's language, or None when there is nothing to show
    (nobody drew) or it could not be made (logged: the game's end is then said in text alone)."""
    if not drawings:
        return None
    numbers = sorted(drawings)
    fetched = await asyncio.gather(*(_bytes_of(bot, chat, drawings[number]) for number in numbers))
    pictures = {number: data for number, data in zip(numbers, fetched) if data is not None}
    tiles = tiles_of(game, drawings, pictures)
    title = format_game_over_head(chat.t, over)
    try:
        return await asyncio.to_thread(render_gallery, chat.t, title, tiles, over.standings)
    except (OSError, ValueError) as exc:  # Pillow's failures; the text still says how the game ended
        logger.warning("chat %s: game %s: gallery not rendered: %s", chat.chat_id, game.id, exc)
        return None


async def _bytes_of(bot: Bot, chat: ChatView, drawing: HeldDrawing) -> bytes | None:
    if drawing.data is not None:
        return drawing.data
    if drawing.file_id is None:
        return None
    fetched = await fetch_picture(bot, PictureRef(drawing.file_id, None, "photo"), chat)
    if isinstance(fetched, Refused):
        logger.info("chat %s: round %d's drawing not fetched again: %s", chat.chat_id, drawing.round, fetched.reason)
        return None
    return fetched
