"""What every handler and job gets: PTB's context, plus the bot's ``services`` and its ``games``.

Wired with ``ContextTypes(context=BotContext, bot_data=BotData)`` as in PTB's
``examples/contexttypesbot.py``. Also the two steps handlers share that need
the whole context: the language to answer an update in, and whether its sender
is an admin.
"""

from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from .game_service import GameService
from .i18n import Translator
from .services import Services
from .telegram_io import is_admin_now, message_of


class BotData(dict):
    """PTB's ``bot_data``: no keys, only the ``Services`` and the ``GameService`` (``None`` until ``post_init``)."""

    services: Services | None = None
    games: GameService | None = None


BotApplication = Application[Any, Any, Any, Any, BotData, Any]  # built with CONTEXT_TYPES


def services_of(application: BotApplication) -> Services:
    """The running bot's ``Services``."""
    services = application.bot_data.services
    if services is None:
        raise RuntimeError("the bot's services are set up in post_init")
    return services


def games_of(application: BotApplication) -> GameService:
    """The running bot's games."""
    games = application.bot_data.games
    if games is None:
        raise RuntimeError("the bot's games are set up in post_init")
    return games


def job_queue_of(application: BotApplication) -> "JobQueue[Any]":
    """PTB's JobQueue (never ``None``: the bot is built with one)."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the bot needs PTB's JobQueue: install python-telegram-bot[job-queue]")
    return job_queue


class BotContext(CallbackContext[ExtBot, dict, dict, BotData]):
    """The context every handler and job gets: PTB's, plus ``services`` and ``games``."""

    @property
    def services(self) -> Services:
        """The bot's store, engine, settings and shared state."""
        return services_of(self.application)

    @property
    def games(self) -> GameService:
        """The games being played."""
        return games_of(self.application)


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)


def translator_of(update: Update, context: BotContext) -> Translator:
    """The language to answer this update in: the chat's (/language), else the sender's Telegram one."""
    chat, user = update.effective_chat, update.effective_user
    language_code = user.language_code if user is not None else None
    return context.services.translator(chat.id if chat is not None else 0, language_code)


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
    return await is_admin_now(context.bot, chat.id, user.id)
