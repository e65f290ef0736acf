"""Word packs: the words a drawing game's targets come from, and every word's names (pure data and lookups).

Packs (``/game [rounds] [seconds] [pack]``):

- ``animals``: the 32 default labels (``classifier.prompts.DEFAULT_LABELS``);
- ``quickdraw``: the 345 categories of Google Creative Lab's Quick, Draw! dataset (CC BY 4.0), read once
  from ``bot/data/quickdraw/categories.txt``, a verbatim copy of the dataset's ``categories.txt``;
- ``chat``: the chat's own labels (the defaults while it has none).

A chat whose labels were changed plays its own labels unless asked for a pack; any other chat plays the
animals (``default_pack``).

A word's identity is its English name (what the store, the classifier and the game keep); people see and
type it in their language: ``WORD_NAMES`` holds the names of every pack word (the animals' from
``bot.label_names``, Quick, Draw!'s from ``bot.pack_names``), ``find_identity`` turns a typed name, in any
case, with or without accents (Spanish acute accents, Russian "ё" written without its dots), back into the
identity.

Usage::

    words = pack_words(Pack.QUICKDRAW, chat_labels=None)   # the 345 identities, in the dataset's order
    words = pack_words(None, ["robot", "rocket"])          # the chat's default pack: its own labels
    find_identity("Jirafa", "es")                          # "giraffe"
    find_pack("QuickDraw")                                 # Pack.QUICKDRAW
"""

import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum
from importlib.resources import files
from types import MappingProxyType

from classifier.prompts import DEFAULT_LABELS

from .label_names import LABEL_NAMES
from .pack_names import QUICKDRAW_NAMES, TYPED_ALIASES


class Pack(StrEnum):
    """A word pack, named as /game takes it."""

    ANIMALS = "animals"
    QUICKDRAW = "quickdraw"
    CHAT = "chat"


PACKS: tuple[Pack, ...] = tuple(Pack)  # in the order the usage line lists them

QUICKDRAW_SOURCE = "https://github.com/googlecreativelab/quickdraw-dataset"
QUICKDRAW_WORDS: tuple[str, ...] = tuple(
    line
    for line in files(__package__).joinpath("data/quickdraw/categories.txt").read_text(encoding="utf-8").splitlines()
    if line
)

_NAMED_LANGUAGES = ("es", "ru")  # the languages with names of their own; English names are the identities
# U+0300 grave, U+0301 acute, U+0308 diaeresis (also the dots of Russian "ё"): "á" → "a", "ü" → "u";
# "ñ" (tilde) and "й" (breve) keep their marks.
_IGNORED_MARKS = frozenset("\u0300\u0301\u0308")

WORD_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        language: MappingProxyType(
            {
                **LABEL_NAMES[language],
                **{word: names[index] for word, names in QUICKDRAW_NAMES.items()},
            }
        )
        for index, language in enumerate(_NAMED_LANGUAGES)
    }
)
"""Language → identity → name, for every word of the fixed packs (animals and quickdraw)."""

WORD_EMOJI: Mapping[str, str] = MappingProxyType(
    {word: names[2] for word, names in QUICKDRAW_NAMES.items() if names[2]}
)
"""Identity → emoji for the Quick, Draw! words that have a fitting one (the animals': ``bot.replies``)."""


def name_key(text: str) -> str:
    """How a typed name is compared: trimmed, single spaces, case-folded, without accents ("Ёж " → "еж")."""
    decomposed = unicodedata.normalize("NFD", " ".join(text.split()).casefold())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _IGNORED_MARKS))


def _typed_names(language: str) -> dict[str, str]:
    """Name key → identity: every word's English identity, then its name and other names in ``language``."""
    found = {name_key(word): word for word in (*DEFAULT_LABELS, *QUICKDRAW_WORDS)}
    found.update((name_key(name), word) for word, name in WORD_NAMES.get(language, {}).items())
    found.update((name_key(alias), word) for alias, word in TYPED_ALIASES.get(language, {}).items())
    return found


_TYPED: dict[str | None, dict[str, str]] = {language: _typed_names(language) for language in ("en", *_NAMED_LANGUAGES)}
_TYPED[None] = {key: word for language in _NAMED_LANGUAGES for key, word in _TYPED[language].items()}


def find_identity(typed: str, language: str | None = None) -> str | None:
    """The identity of a pack word typed in ``language`` or in English ("jirafa", "Giraffe" → "giraffe"), or None.

    Without a language, a name in any language counts ("жираф" → "giraffe").
    """
    return _TYPED.get(language, _TYPED["en"]).get(name_key(typed))


def find_pack(text: str) -> Pack | None:
    """The pack named ``text`` (any case), or None."""
    name = text.strip().casefold()
    return next((pack for pack in PACKS if pack.value == name), None)


def default_pack(chat_labels: Sequence[str] | None) -> Pack:
    """The pack a game plays when none is asked for: the chat's own labels if it has them, else the animals."""
    return Pack.CHAT if chat_labels else Pack.ANIMALS


def pack_words(name: str | None, chat_labels: Sequence[str] | None) -> tuple[str, ...]:
    """The identities a game with pack ``name`` draws its targets from (None: the chat's default pack).

    ``chat_labels`` are the chat's own labels (None or empty: it uses the defaults). A ``ValueError`` for a
    name that is not a pack (``find_pack`` checks typed names first).
    """
    pack = default_pack(chat_labels) if name is None else Pack(name)
    if pack is Pack.QUICKDRAW:
        return QUICKDRAW_WORDS
    if pack is Pack.CHAT and chat_labels:
        return tuple(chat_labels)
    return DEFAULT_LABELS
