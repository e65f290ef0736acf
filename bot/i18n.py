"""The languages the bot speaks: gettext catalogues, translators, and which language a chat gets.

Pure: the standard library's ``gettext`` reads the compiled catalogues in
``bot/locale/<lang>/LC_MESSAGES/toonzoo.mo`` (shipped with the package, built
from the ``.po`` files beside them by ``python -m toonzoo_tools.catalogues``).

A chat's language is its own setting (``/language``) if it has one, else the
language of the Telegram user it answers (``language_code``, an IETF tag such
as ``es-419``), else English. Default labels keep their English name as their
identity everywhere (store, classifier, scores); a ``Translator`` shows them,
and every word of the game's packs, in its language (``bot.packs``).
"""

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from classifier.errors import UserError

from .packs import WORD_NAMES, find_identity

DOMAIN = "toonzoo"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "en"
LANGUAGES: tuple[str, ...] = ("en", "es", "ru")  # English first: the messages' own language
LANGUAGE_NAMES = {"en": "English", "es": "Español", "ru": "Русский"}  # each in its own language
_PRIMARY_SUBTAG = re.compile(r"[A-Za-z]{2,3}(?=$|[-_])")


class Translator:
    """The bot's sentences and the packs' words (default labels included) in one language."""

    def __init__(self, language: str, catalogue: gettext.NullTranslations):
        self.language = language
        self._catalogue = catalogue
        self._names = WORD_NAMES.get(language, {})

    def gettext(self, message: str) -> str:
        """``message`` (an English msgid) in this language."""
        return self._catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``singular``/``plural`` for ``n`` in this language (Russian has three)."""
        return self._catalogue.ngettext(singular, plural, n)

    def label(self, label: str) -> str:
        """A label as shown: a pack word (default animals included) in this language, any other label as typed."""
        return self._names.get(label, label)

    def identity(self, label: str) -> str:
        """The stored name of a pack word typed in this language or in English ("Jirafa", "jirafa", "GIRAFFE" →
        "giraffe"); other labels unchanged."""
        return find_identity(label, self.language) or label


@dataclass(frozen=True)
class Text:
    """A fixed sentence of the catalogue; ``text(t)`` says it in ``t``'s language."""

    msgid: str

    def __call__(self, t: Translator) -> str:
        return t.gettext(self.msgid)


def get_translator(language: str) -> Translator:
    """The translator for one of ``LANGUAGES`` (English for anything else), loaded once."""
    return _load(language if language in LANGUAGES else DEFAULT_LANGUAGE)


@cache
def _load(language: str) -> Translator:
    if language == DEFAULT_LANGUAGE:
        return Translator(language, gettext.NullTranslations())
    catalogue = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[language])
    return Translator(language, catalogue)


ENGLISH = get_translator(DEFAULT_LANGUAGE)


def language_from_tag(tag: str | None) -> str | None:
    """The language we speak for an IETF tag ("es-419" → "es", "ru" → "ru"), or None."""
    match = _PRIMARY_SUBTAG.match((tag or "").strip())
    language = match[0].lower() if match else None
    return language if language in LANGUAGES else None


def resolve_language(chat_setting: str | None, user_tag: str | None) -> str:
    """The chat's setting, else the user's Telegram language, else English."""
    if chat_setting is not None and chat_setting in LANGUAGES:
        return chat_setting
    return language_from_tag(user_tag) or DEFAULT_LANGUAGE


class LocalizedError(UserError):
    """A ``UserError`` whose message is said in the user's language: ``say(t)``."""

    def __init__(self, say: "Callable[[Translator], str]"):
        self.say = say
        message = say(ENGLISH)
        super().__init__(message, user_message=message)
