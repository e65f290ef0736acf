"""The one seam for classifying a chat's picture: every path that ranks a picture for a chat comes here.

Private photos, albums, ``/guess``, game photos, canvas guesses, canvas sends and
canvas game rounds call ``classify_for_chat`` with the chat as read once
(``Services.chat``: its labels and language) and the picture (bytes, or a
Telegram file to download). It adds the chat's taught pictures and ranks in the
chat's prompt language, so a photo and a canvas drawing of the same chat are
ranked the same way. ``prepare`` warms the label cache the same way.

The result is typed: ``Seen`` (guesses, the picture's embedding to teach from,
and the labels ranked) or ``Refused`` (why, the text for the user in the chat's
language, and the classifier's error when there was one).
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, Protocol

from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from classifier.errors import ClassifierError, UserError
from classifier.types import Guess

from . import replies
from .i18n import DEFAULT_LANGUAGE
from .pictures import MAX_DOWNLOAD_BYTES, PictureRef
from .services import ChatView, ClassifierEngine

if TYPE_CHECKING:
    from .services import Examples  # classifier.few_shot's, which loads torch: the engine builds them

logger = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3
DOWNLOAD_BACKOFF_S = 0.5


class Refusal(Enum):
    """Why a picture got no guesses."""

    TOO_BIG = "too-big"  # over Telegram's download limit
    DOWNLOAD_FAILED = "download-failed"  # Telegram refused the file or the network failed
    CLASSIFIER = "classifier"  # the classifier refused it (unreadable picture, busy, closed)


class Classifying(Protocol):
    """What the seam needs of its caller: the engine and each chat's taught pictures.

    ``bot.services.Services`` (the bot) and ``bot.webapp.local.LocalCanvas`` (``toonzoo try``) are both.
    """

    @property
    def engine(self) -> ClassifierEngine: ...

    def taught_examples(self, chat_id: int) -> "Examples | None": ...


@dataclass(frozen=True)
class Seen:
    """A picture's guesses over ``labels``, best first, and its unit image embedding (to teach from)."""

    guesses: list[Guess]
    embedding: bytes
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    """No guesses: ``text`` tells the user why, in the chat's language; ``error`` is the classifier's."""

    reason: Refusal
    text: str
    error: UserError | None = None


async def classify_for_chat(
    services: Classifying,
    bot: Bot | None,
    chat: ChatView,
    picture: bytes | PictureRef,
    *,
    labels: Sequence[str] | None = None,
    top_k: int = replies.TOP_GUESSES,
) -> Seen | Refused:
    """Rank ``labels`` (default: the chat's) for ``picture`` with what the chat taught, in its language.

    ``bot`` downloads a Telegram file (``PictureRef``); bytes need none (``toonzoo try`` has no bot).
    """
    if isinstance(picture, PictureRef):
        if bot is None:
            raise ValueError("a Telegram file needs the bot to download it")
        fetched = await fetch_picture(bot, picture, chat)
        if isinstance(fetched, Refused):
            return fetched
        picture = fetched
    ranked = chat.labels if labels is None else tuple(labels)
    prompted, identity_of = _prompted(chat, ranked)
    examples = services.taught_examples(chat.chat_id)
    try:
        result = await services.engine.classify_embedded(
            picture, prompted, top_k, chat.prompt_language, examples=examples
        )
    except UserError as exc:
        logger.info("chat %s: %s: %s", chat.chat_id, type(exc).__name__, exc)
        return Refused(Refusal.CLASSIFIER, replies.error_text(chat.t, exc), exc)
    guesses = [Guess(identity_of.get(g.label, g.label), g.score) for g in result.guesses]
    return Seen(guesses, result.embedding, ranked)


def _prompted(chat: ChatView, labels: tuple[str, ...]) -> tuple[list[str], dict[str, str]]:
    """The words the model reads for ``labels`` and the way back to their identities.

    Labels are kept under one identity (a pack word's English name), and a model that
    reads the chat's language is prompted with the names the chat sees ("castillo",
    not "castle", in a Spanish sentence); English prompts use the identities.
    """
    if chat.prompt_language != DEFAULT_LANGUAGE:
        names = [chat.t.label(label) for label in labels]
        if len(set(names)) == len(names):
            return names, dict(zip(names, labels))
    return list(labels), {}


def labels_ready(services: Classifying, chat: ChatView, labels: Sequence[str] | None = None) -> bool:
    """Whether ``labels`` (default: the chat's) are ready to rank in the chat's prompt language."""
    prompted, _ = _prompted(chat, chat.labels if labels is None else tuple(labels))
    return services.engine.labels_ready(prompted, chat.prompt_language)


async def prepare(services: Classifying, chat: ChatView, labels: Sequence[str] | None = None) -> None:
    """Encode ``labels`` (default: the chat's) in the chat's prompt language; a failure is logged
    (the labels are encoded on first use instead)."""
    wanted, _ = _prompted(chat, chat.labels if labels is None else tuple(labels))
    try:
        await services.engine.prepare_labels(wanted, chat.prompt_language)
    except ClassifierError as exc:
        logger.warning("chat %s: preparing labels failed: %s", chat.chat_id, exc)


async def fetch_picture(bot: Bot, found: PictureRef, chat: ChatView) -> bytes | Refused:
    """The file's bytes, or why not.

    Downloads are idempotent, so network failures and flood waits are retried
    a few times before the user is asked to send the picture again. A file
    Telegram refuses (an unknown or expired ``file_id``) is not retried.
    """
    t = chat.t
    if found.file_size and found.file_size > MAX_DOWNLOAD_BYTES:
        return Refused(Refusal.TOO_BIG, replies.too_big_text(t))
    error: TelegramError
    for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
        try:
            file = await bot.get_file(found.file_id)
            if file.file_size and file.file_size > MAX_DOWNLOAD_BYTES:
                return Refused(Refusal.TOO_BIG, replies.too_big_text(t))
            data = bytes(await file.download_as_bytearray())
            if file.file_size and len(data) != file.file_size:
                raise NetworkError(f"incomplete download: {len(data)} of {file.file_size} bytes")
            return data
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                return Refused(Refusal.TOO_BIG, replies.too_big_text(t))
            logger.warning("chat %s: Telegram refused the file: %s", chat.chat_id, exc.message)
            return Refused(Refusal.DOWNLOAD_FAILED, replies.DOWNLOAD_FAILED_TEXT(t))
        except RetryAfter as exc:
            delay, error = _seconds(exc.retry_after), exc
        except NetworkError as exc:  # includes TimedOut; BadRequest is handled above
            delay, error = DOWNLOAD_BACKOFF_S * attempt, exc
        logger.warning("chat %s: download attempt %d failed: %s", chat.chat_id, attempt, error)
        if attempt < DOWNLOAD_ATTEMPTS:
            await asyncio.sleep(delay)
    return Refused(Refusal.DOWNLOAD_FAILED, replies.DOWNLOAD_FAILED_TEXT(t))


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
