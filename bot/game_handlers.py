"""The drawing game's callbacks: /game, /stop, /score and pictures during a round.

A thin PTB shell around ``bot.game_service.GameService`` (``context.games``),
which judges, stores, plans the group's messages, announces and keeps the
timers. During an open round, group pictures come here first (handler group -1)
and stop there (``ApplicationHandlerStop``); at any other time the usual picture
handler answers them. Nothing imports this module but ``bot.app``.
"""

import logging
import time

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from classifier.errors import UserError

from . import replies
from .context import BotContext, is_chat_admin, translator_of
from .game import can_stop
from .periods import Board, parse_score_args, period_start, utc_day
from .pictures import PictureRef, find_picture
from .telegram_io import message_of, player_of

logger = logging.getLogger(__name__)


async def game_command(update: Update, context: BotContext) -> None:
    """/game [rounds] [seconds]: start a drawing game in this group."""
    message, user = message_of(update), update.effective_user
    chat = context.services.chat(message.chat_id, user.language_code if user else None)
    t = chat.t
    if message.chat.type == ChatType.PRIVATE:
        await message.reply_text(replies.GAME_PRIVATE_TEXT(t))
        return
    if context.games.get(chat.chat_id) is not None:
        await message.reply_text(replies.GAME_RUNNING_TEXT(t))
        return
    try:
        await context.games.start(chat, player_of(t, message), context.args or [])
    except UserError as exc:
        await message.reply_text(replies.error_text(t, exc))


async def play_command(update: Update, context: BotContext) -> None:
    """/play [pack]: a solo race against the AI in a private chat, drawn on the canvas (6 rounds of 20 s)."""
    message, user = message_of(update), update.effective_user
    chat = context.services.chat(message.chat_id, user.language_code if user else None)
    t = chat.t
    if message.chat.type != ChatType.PRIVATE:
        await message.reply_text(replies.PLAY_IN_PRIVATE_TEXT(t))
        return
    pack = context.args[0] if context.args else None
    try:
        game = await context.games.start_solo(chat, player_of(t, message), pack)
    except UserError as exc:  # an unknown pack (a chat with fewer labels than rounds plays fewer rounds)
        await message.reply_text(replies.error_text(t, exc))
        return
    if game is None:
        await message.reply_text(replies.GAME_RUNNING_TEXT(t))


async def stop_command(update: Update, context: BotContext) -> None:
    """/stop: end the game (the player who started it, or an admin)."""
    message = message_of(update)
    t = translator_of(update, context)
    game = context.games.get(message.chat_id)
    if game is None:
        await message.reply_text(replies.NO_GAME_TEXT(t))
        return
    player = player_of(t, message)
    is_admin = player.user_id != game.starter_id and await is_chat_admin(update, context)
    if not can_stop(game, player.user_id, is_admin):
        await message.reply_text(replies.format_stop_refused(t, game.starter_name))
        return
    await context.games.stop(game, by=player.name)


async def score_command(update: Update, context: BotContext) -> None:
    """/score [week|today|me]: the chat's leaderboard, of all time or of the period (UTC), or your own record."""
    message = message_of(update)
    t = translator_of(update, context)
    try:
        board = parse_score_args(context.args or [])
    except UserError as exc:
        logger.info("chat %s: /score with unknown arguments", message.chat_id)
        await message.reply_text(replies.error_text(t, exc))
        return
    store, now = context.services.store, time.time()
    if board is Board.ME:
        player = player_of(t, message)
        mine = store.my_score(message.chat_id, player.user_id)
        await message.reply_text(replies.format_my_score(t, player.name, mine, utc_day(now)))
        return
    players = store.leaderboard(message.chat_id, since=period_start(board, now))
    await message.reply_text(replies.format_leaderboard(t, players, board))


async def game_picture(update: Update, context: BotContext) -> None:
    """A picture in a group: while a round is open, judge it for the game and nothing else."""
    message = message_of(update)
    game = context.games.get(message.chat_id)
    if game is None or game.current is None:
        return  # no round running: the usual picture handler decides
    found = find_picture(message)
    if not isinstance(found, PictureRef) or not found.is_typed:
        return  # not something we can judge (a PDF, a video sticker, an untyped file): not a drawing
    t = context.games.translator(message.chat_id)  # the game speaks one language
    await context.games.judge_photo(game, player_of(t, message), found, message)
    raise ApplicationHandlerStop
