"""Where the bot's state lives: one typed ``Services`` object per running bot.

``bot.app`` builds it in ``post_init`` (once the store is open and the engine
started) and sets it as ``bot_data.services``; handlers and jobs reach it as
``context.services`` through ``BotContext``, the custom context that
``CONTEXT_TYPES`` gives PTB (as PTB's ``examples/contexttypesbot.py`` does).
Nothing is kept under string keys in ``bot_data``, ``chat_data`` or ``user_data``.
"""

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from telegram import Message
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from classifier.prompts import DEFAULT_LABELS
from classifier.types import Classified, Guess

from .budget import Budgets
from .config import Settings
from .game import Game, GameRules
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, get_translator, resolve_language
from .outbox import Outbox
from .prompts import PendingPrompts
from .recent import RecentKeys
from .store import Store
from .teaching import RecentAnswers, TaughtCache

if TYPE_CHECKING:
    from classifier.few_shot import Examples  # loads torch: imported where taught pictures are built

    from .webapp.server import WebAppServer

ANSWERED_REMEMBERED = 4096  # messages remembered as answered, so that their edits get nothing new
GREETING_DEDUP_S = 60.0  # joining a group sends two updates: greet once within this time


class ClassifierEngine(Protocol):
    """What the bot needs of the classifier: ``classifier.engine.Engine`` and the tests' engines.

    ``identity`` names the model: taught pictures are kept per model. ``examples``
    are the chat's taught pictures (``Services.taught_examples``).
    """

    @property
    def identity(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def reads(self, language: str) -> bool: ...

    def labels_ready(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> bool: ...

    async def prepare_labels(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> None: ...

    async def classify(
        self,
        image: bytes,
        labels: Sequence[str],
        top_k: int = 3,
        language: str = DEFAULT_LANGUAGE,
        *,
        examples: "Examples | None" = None,
    ) -> list[Guess]: ...

    async def classify_embedded(
        self,
        image: bytes,
        labels: Sequence[str],
        top_k: int = 3,
        language: str = DEFAULT_LANGUAGE,
        *,
        examples: "Examples | None" = None,
    ) -> Classified: ...


@dataclass
class Services:
    """Everything the handlers share, for the life of the process."""

    settings: Settings
    store: Store
    engine: ClassifierEngine
    rules: GameRules
    budgets: Budgets  # every group send is recorded in its chat's budget (shared with the rate limiter)
    outbox: Outbox
    rng: random.Random = field(default_factory=random.Random)  # the game's draws
    games: dict[int, Game] = field(default_factory=dict)  # chat id -> the game being played there
    prompts: PendingPrompts = field(default_factory=PendingPrompts)  # questions asked with inline buttons
    answered: RecentKeys = field(default_factory=lambda: RecentKeys(ANSWERED_REMEMBERED))  # (chat id, message id)
    greeted: RecentKeys = field(default_factory=lambda: RecentKeys(max_age_s=GREETING_DEDUP_S))  # group ids
    albums: dict[tuple[int, str], list[Message]] = field(default_factory=dict)  # (chat id, media_group_id) -> items
    webapp: "WebAppServer | None" = None  # the drawing canvas's server (bot.webapp), when TOONZOO_WEBAPP_URL is set
    recent_answers: RecentAnswers = field(default_factory=RecentAnswers)  # embeddings of pictures with buttons
    taught: TaughtCache = field(init=False)  # each chat's taught pictures, ready for the engine

    def __post_init__(self) -> None:
        from classifier.few_shot import Examples

        identity = self.engine.identity  # taught pictures of other models are never mixed in
        self.taught = TaughtCache(lambda chat_id: Examples.from_rows(self.store.taught(chat_id, identity)))

    def chat_labels(self, chat_id: int) -> list[str]:
        """The chat's labels, or the defaults."""
        return self.store.get_labels(chat_id) or list(DEFAULT_LABELS)

    def taught_examples(self, chat_id: int) -> "Examples | None":
        """The chat's taught pictures for this model (None when it taught nothing)."""
        return self.taught.get(chat_id)

    def translator(self, chat_id: int, language_code: str | None = None) -> Translator:
        """The chat's language (/language), else ``language_code`` (the user's Telegram one), else English."""
        return get_translator(resolve_language(self.store.get_language(chat_id), language_code))

    def prompt_language(self, chat_id: int, t: Translator) -> str:
        """The language the chat's labels are prompted in: ``t``'s for a chat's own labels when the model
        reads it (a multilingual preset), else English (the default animals' names are English)."""
        if t.language != DEFAULT_LANGUAGE and self.store.get_labels(chat_id) and self.engine.reads(t.language):
            return t.language
        return DEFAULT_LANGUAGE

    def english_only(self) -> bool:
        """Whether the model reads none of our other languages (labels in them are guessed poorly)."""
        return not any(self.engine.reads(language) for language in LANGUAGES if language != DEFAULT_LANGUAGE)

    def chat_translator(self, chat_id: int) -> Translator:
        """For what the bot says unasked: the chat's language, else that of its game's starter, else English."""
        game = self.games.get(chat_id)
        return self.translator(chat_id, game.language if game is not None else None)


class BotData(dict):
    """PTB's ``bot_data``: no keys, only the ``Services`` (``None`` until ``post_init`` has run)."""

    services: "Services | None" = None


BotApplication = Application[Any, Any, Any, Any, BotData, Any]  # built with CONTEXT_TYPES


def services_of(application: BotApplication) -> Services:
    """The running bot's ``Services``."""
    services = application.bot_data.services
    if services is None:
        raise RuntimeError("the bot's services are set up in post_init")
    return services


def job_queue_of(application: BotApplication) -> "JobQueue[BotContext]":
    """PTB's JobQueue (never ``None``: the bot is built with one)."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the bot needs PTB's JobQueue: install python-telegram-bot[job-queue]")
    return job_queue


class BotContext(CallbackContext[ExtBot, dict, dict, BotData]):
    """The context every handler and job gets: PTB's, plus ``services``."""

    @property
    def services(self) -> Services:
        """The bot's store, engine, settings and game state."""
        return services_of(self.application)


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
