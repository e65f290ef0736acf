"""Where the bot's state lives: one typed ``Services`` object per running bot.

``bot.app`` builds it in ``post_init`` (once the store is open and the engine
started) and sets it as ``bot_data.services``; handlers and jobs reach it as
``context.services`` through ``bot.context.BotContext`` (PTB's
``examples/contexttypesbot.py``). Nothing is kept under string keys in
``bot_data``, ``chat_data`` or ``user_data``.

This module sits below everything that uses it: it imports no handler, no
service built on it (the game, the canvas), and no web server. Those that keep
per-chat state in memory register as ``ChatFollower`` s, so that
``Services.forget_chat`` and ``Services.move_chat`` are the one place that
fans out (store, prompts, answers, taught pictures, albums, outbox, game, canvas).
"""

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from telegram import Message

from classifier.prompts import DEFAULT_LABELS
from classifier.types import Classified, Guess

from .budget import Budgets
from .config import Settings
from .game import GameRules
from .i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, get_translator, resolve_language
from .outbox import Outbox
from .prompts import PendingPrompts
from .recent import RecentKeys
from .store import Store
from .teaching import RecentAnswers, TaughtCache

if TYPE_CHECKING:
    from classifier.few_shot import Examples  # loads torch: the engine builds them (build_examples)

logger = logging.getLogger(__name__)

ANSWERED_REMEMBERED = 4096  # messages remembered as answered, so that their edits get nothing new
GREETING_DEDUP_S = 60.0  # joining a group sends two updates: greet once within this time


class ClassifierEngine(Protocol):
    """What the bot needs of the classifier: ``classifier.engine.Engine`` and the tests' engines.

    ``identity`` names the model: taught pictures are kept per model. ``language`` is
    the language the labels are prompted in; it has no default, so that no caller can
    forget a chat's language (``bot.classifying`` is the one caller that knows it).
    ``examples`` are the chat's taught pictures.
    """

    @property
    def identity(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    def reads(self, language: str) -> bool: ...

    def labels_ready(self, labels: Sequence[str], language: str) -> bool: ...

    async def prepare_labels(self, labels: Sequence[str], language: str) -> None: ...

    async def classify(
        self, image: bytes, labels: Sequence[str], top_k: int, language: str, *, examples: "Examples | None" = None
    ) -> list[Guess]: ...

    async def classify_embedded(
        self, image: bytes, labels: Sequence[str], top_k: int, language: str, *, examples: "Examples | None" = None
    ) -> Classified: ...

    def build_examples(self, rows: Sequence[tuple[str, bytes]]) -> "Examples | None":
        """A chat's taught pictures (label, embedding) made ready for ``classify``; None for none."""
        ...


class ChatFollower(Protocol):
    """A part of the bot that keeps per-chat state in memory (the game, the canvas)."""

    def forget_chat(self, chat_id: int) -> None: ...

    def move_chat(self, old_id: int, new_id: int) -> None: ...


class CanvasLinks(Protocol):
    """What the bot's handlers need of the canvas's server (``bot.webapp.server.WebAppServer``)."""

    @property
    def page_url(self) -> str: ...

    @property
    def group_link(self) -> "Callable[..., str] | None": ...


@dataclass(frozen=True)
class ChatView:
    """A chat as the bot answers it, read once: its labels and the language it is spoken to in.

    ``prompt_language`` is the language its labels are prompted in: the chat's own for
    its own labels when the model reads it (a multilingual preset), else English (the
    default animals' names are English identities).
    """

    chat_id: int
    labels: tuple[str, ...]
    own_labels: bool
    t: Translator
    prompt_language: str


def read_chat(store: Store, engine: ClassifierEngine, chat_id: int, language_code: str | None = None) -> ChatView:
    """A chat as it is answered, from one read of the store: its labels (or the defaults) and its language
    (``/language``, else ``language_code``, else English); its own labels are prompted in that language
    when the model reads it. ``Services.chat`` for the bot; ``toonzoo try``'s local chat too."""
    own, chosen = store.chat_profile(chat_id)
    t = get_translator(resolve_language(chosen, language_code))
    prompt_language = DEFAULT_LANGUAGE
    if own and t.language != DEFAULT_LANGUAGE and engine.reads(t.language):
        prompt_language = t.language
    return ChatView(chat_id, tuple(own or DEFAULT_LABELS), own is not None, t, prompt_language)


def taught_cache(store: Store, engine: ClassifierEngine) -> TaughtCache:
    """Each chat's taught pictures for this engine's model (those of other models are never mixed in)."""
    identity = engine.identity
    return TaughtCache(lambda chat_id: engine.build_examples(store.taught(chat_id, identity)))


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
    prompts: PendingPrompts = field(default_factory=PendingPrompts)  # questions asked with inline buttons
    answered: RecentKeys = field(default_factory=lambda: RecentKeys(ANSWERED_REMEMBERED))  # (chat id, message id)
    greeted: RecentKeys = field(default_factory=lambda: RecentKeys(max_age_s=GREETING_DEDUP_S))  # group ids
    albums: dict[tuple[int, str], list[Message]] = field(default_factory=dict)  # (chat id, media_group_id) -> items
    webapp: CanvasLinks | None = None  # the drawing canvas's server (bot.webapp), when TOONZOO_WEBAPP_URL is set
    recent_answers: RecentAnswers = field(default_factory=RecentAnswers)  # embeddings of pictures with buttons
    followers: list[ChatFollower] = field(default_factory=list)  # told when a chat is erased or moves
    taught: TaughtCache = field(init=False)  # each chat's taught pictures, ready for the engine

    def __post_init__(self) -> None:
        self.taught = taught_cache(self.store, self.engine)

    def chat(self, chat_id: int, language_code: str | None = None) -> ChatView:
        """The chat's labels (or the defaults) and language (``/language``, else ``language_code``,
        else English), from one read of the store."""
        return read_chat(self.store, self.engine, chat_id, language_code)

    def chat_labels(self, chat_id: int) -> list[str]:
        """The chat's labels, or the defaults."""
        return list(self.chat(chat_id).labels)

    def taught_examples(self, chat_id: int) -> "Examples | None":
        """The chat's taught pictures for this model (None when it taught nothing)."""
        return self.taught.get(chat_id)

    def translator(self, chat_id: int, language_code: str | None = None) -> Translator:
        """The chat's language (/language), else ``language_code`` (the user's Telegram one), else English."""
        return get_translator(resolve_language(self.store.get_language(chat_id), language_code))

    def english_only(self) -> bool:
        """Whether the model reads none of our other languages (labels in them are guessed poorly)."""
        return not any(self.engine.reads(language) for language in LANGUAGES if language != DEFAULT_LANGUAGE)

    def forget_chat(self, chat_id: int) -> int:
        """Erase everything kept about the chat, on disk and in memory; the number of rows deleted."""
        deleted = self.store.forget_chat(chat_id)
        self.prompts.forget_chat(chat_id)
        self.recent_answers.forget_chat(chat_id)
        self.taught.drop(chat_id)
        for key in [key for key in self.albums if key[0] == chat_id]:
            del self.albums[key]
        self.outbox.forget_chat(chat_id)
        for follower in self.followers:
            follower.forget_chat(chat_id)
        return deleted

    def move_chat(self, old_id: int, new_id: int) -> int:
        """A group became a supergroup: everything kept about it follows; the number of rows moved."""
        moved = self.store.move_chat(old_id, new_id)
        self.prompts.move_chat(old_id, new_id)
        self.recent_answers.move_chat(old_id, new_id)
        self.taught.drop(old_id, new_id)
        for key in [key for key in self.albums if key[0] == old_id]:
            del self.albums[key]  # sent in the old group a moment before it moved: not answered
        self.outbox.move_chat(old_id, new_id)
        for follower in self.followers:
            follower.move_chat(old_id, new_id)
        return moved
