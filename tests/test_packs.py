"""Word packs: the words, their names in every language, typed names back to identities, emoji."""

import hashlib
from pathlib import Path

import pytest

from bot import replies
from bot.i18n import ENGLISH, LANGUAGES, get_translator
from bot.label_names import LABEL_NAMES
from bot.pack_names import QUICKDRAW_NAMES, TYPED_ALIASES
from bot.packs import (
    PACKS,
    QUICKDRAW_WORDS,
    WORD_EMOJI,
    WORD_NAMES,
    Pack,
    default_pack,
    find_identity,
    find_pack,
    name_key,
    pack_words,
)
from classifier.prompts import DEFAULT_LABELS

CATEGORIES = Path(__file__).resolve().parent.parent / "bot" / "data" / "quickdraw" / "categories.txt"
# sha256 of the dataset's categories.txt as of commit ea7fd227 (googlecreativelab/quickdraw-dataset)
UPSTREAM_SHA256 = "6326fde883ce71b53153bdf50b3671dc6652c8c14e67c7d07d23c1af6d103f4b"
NAMED = [language for language in LANGUAGES if language != "en"]
ALL_WORDS = tuple(dict.fromkeys((*DEFAULT_LABELS, *QUICKDRAW_WORDS)))


def test_the_quickdraw_list_is_the_datasets_verbatim():
    data = CATEGORIES.read_bytes()
    assert hashlib.sha256(data).hexdigest() == UPSTREAM_SHA256
    assert tuple(data.decode().splitlines()) == QUICKDRAW_WORDS
    assert len(QUICKDRAW_WORDS) == len(set(QUICKDRAW_WORDS)) == 345
    assert {"aircraft carrier", "The Eiffel Tower", "teddy-bear", "zigzag"} <= set(QUICKDRAW_WORDS)


def test_every_quickdraw_word_has_a_spanish_and_a_russian_name_and_nothing_else():
    assert list(QUICKDRAW_NAMES) == list(QUICKDRAW_WORDS)
    for word, (spanish, russian, emoji) in QUICKDRAW_NAMES.items():
        for name in (spanish, russian):
            assert name and name == " ".join(name.split()), (word, name)
        assert all(not "a" <= c.lower() <= "z" for c in russian), (word, russian)  # Cyrillic only
        assert emoji == "" or not emoji.isascii(), (word, emoji)


@pytest.mark.parametrize("language", NAMED)
def test_names_are_unique_within_a_language_even_as_typed(language):
    names = WORD_NAMES[language]
    assert set(names) == set(ALL_WORDS)
    keys = [name_key(name) for name in names.values()]
    assert len(set(keys)) == len(keys), sorted(k for k in keys if keys.count(k) > 1)
    aliases = TYPED_ALIASES[language]
    assert set(aliases.values()) <= set(ALL_WORDS)
    for alias, word in aliases.items():
        taken = find_identity(alias, language)
        assert taken == word, f"{language}: {alias!r} is {taken!r}'s name too"


@pytest.mark.parametrize("language", NAMED)
def test_no_name_is_another_words_english_identity(language):
    english = {name_key(word): word for word in ALL_WORDS}
    for word, name in WORD_NAMES[language].items():
        assert english.get(name_key(name), word) == word, f"{language}: {name!r} is also {english[name_key(name)]!r}"


def test_the_animals_keep_their_names_in_the_quickdraw_pack():
    for index, language in enumerate(NAMED):
        for word, name in LABEL_NAMES[language].items():
            if word in QUICKDRAW_NAMES:
                assert QUICKDRAW_NAMES[word][index] == name, (language, word)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_word_is_shown_and_typed_back_in_every_language(language):
    t = get_translator(language)
    for word in ALL_WORDS:
        shown = t.label(word)
        if language == "en":
            assert shown == word
        else:
            assert shown == WORD_NAMES[language][word]
        for typed in (shown, shown.upper(), f"  {shown.casefold()} ", word, word.upper()):
            assert t.identity(typed) == word, (language, typed)
            assert find_identity(typed, language) == word


def test_names_may_be_typed_without_accents_or_in_another_spelling():
    spanish, russian = get_translator("es"), get_translator("ru")
    assert spanish.identity("leon") == "lion" and spanish.identity("AVION") == "airplane"
    assert russian.identity("самолет") == "airplane" and russian.identity("еж") == "hedgehog"
    assert spanish.identity("ordenador") == "computer" == spanish.identity("computadora")
    assert russian.identity("автомобиль") == "car" == russian.identity("Машина")
    assert spanish.label("car") == "coche"  # an alias is typed, never shown
    assert spanish.identity("piñata") == "piñata" and spanish.identity("pina") == "pina"  # "ñ" is its own letter
    assert russian.identity("муравеи") == "муравеи"  # "й" keeps its breve: "муравей" is not "муравеи"


def test_other_labels_and_other_languages_names_stay_as_typed():
    spanish, russian = get_translator("es"), get_translator("ru")
    assert spanish.label("robot") == "robot" == spanish.identity("robot")
    assert russian.identity("jirafa") == "jirafa" and ENGLISH.identity("жираф") == "жираф"
    assert find_identity("robot") is None and find_identity("жираф") == "giraffe" == find_identity("jirafa")


def test_every_word_has_its_emoji_or_the_generic_one_in_every_language():
    for word in ALL_WORDS:
        expected = replies.LABEL_EMOJI.get(word) or WORD_EMOJI.get(word, replies.GENERIC_EMOJI)
        assert replies.get_emoji(word) == expected, word
        for language in NAMED:
            assert replies.get_emoji(WORD_NAMES[language][word]) == expected, (language, word)
    for word, emoji in WORD_EMOJI.items():
        assert replies.LABEL_EMOJI.get(word, emoji) == emoji, word  # an animal's emoji is the same in both tables
    assert replies.get_emoji("Эйфелева башня") == replies.get_emoji("torre eiffel") == "🗼"
    assert replies.get_emoji("cars") == "🚗" and replies.get_emoji("a koala") == "🐨"
    assert replies.get_emoji("anvil") == replies.get_emoji("robot") == replies.GENERIC_EMOJI


def test_a_round_names_a_quickdraw_word_in_the_chats_language():
    from bot.game import RoundStarted

    spanish, russian = get_translator("es"), get_translator("ru")
    assert replies.format_game_event(spanish, RoundStarted(2, 6, "The Eiffel Tower", 20)) == (
        "Ronda 2/6. Dibuja: torre Eiffel 🗼. Tienes 20 s."
    )
    assert replies.format_game_event(russian, RoundStarted(1, 6, "hedgehog", 20)) == (
        "Раунд 1/6. Рисуйте: ёж 🦔! У вас 20 с."
    )


# -- packs ----------------------------------------------------------------------------------


def test_the_packs_words():
    assert PACKS == (Pack.ANIMALS, Pack.QUICKDRAW, Pack.CHAT)
    assert pack_words(Pack.ANIMALS, ["robot", "rocket"]) == DEFAULT_LABELS
    assert pack_words("animals", None) == DEFAULT_LABELS
    assert pack_words(Pack.QUICKDRAW, None) == QUICKDRAW_WORDS
    assert pack_words(Pack.CHAT, ["robot", "rocket"]) == ("robot", "rocket")
    assert pack_words(Pack.CHAT, None) == DEFAULT_LABELS  # a chat without labels of its own has the defaults
    with pytest.raises(ValueError, match="fruit"):
        pack_words("fruit", None)


def test_a_chat_with_its_own_labels_plays_them_unless_asked():
    assert default_pack(["robot", "rocket"]) is Pack.CHAT
    assert default_pack(None) is default_pack([]) is Pack.ANIMALS
    assert pack_words(None, ["robot", "rocket"]) == ("robot", "rocket")
    assert pack_words(None, None) == DEFAULT_LABELS


@pytest.mark.parametrize(
    ("text", "pack"),
    [("quickdraw", Pack.QUICKDRAW), ("QuickDraw", Pack.QUICKDRAW), ("animals", Pack.ANIMALS), ("chat", Pack.CHAT)],
)
def test_packs_are_found_by_name_in_any_case(text, pack):
    assert find_pack(text) is pack


@pytest.mark.parametrize("text", ["quick draw", "animal", "", "животные", "quickdraw2"])
def test_other_words_are_no_pack(text):
    assert find_pack(text) is None
