"""Languages: catalogues complete and compiled, language resolution, plurals, default labels by language."""

import re

import pytest

from bot import replies
from bot.i18n import (
    DEFAULT_LANGUAGE,
    ENGLISH,
    LANGUAGES,
    get_translator,
    language_from_tag,
    resolve_language,
)
from bot.label_names import LABEL_NAMES
from bot.store import Store
from classifier import errors
from classifier.prompts import DEFAULT_LABELS
from toonzoo_tools import catalogues

SPANISH, RUSSIAN = get_translator("es"), get_translator("ru")
_FIELD = re.compile(r"\{(\w*)\}")


def test_every_message_in_the_code_is_translated_and_compiled():
    assert catalogues.problems() == []


def test_a_missing_translation_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogues, "LOCALE_DIR", tmp_path)
    for language in catalogues.translated_languages():
        catalogues.po_path(language).parent.mkdir(parents=True)
        text = (catalogues.BOT_DIR / "locale" / language / "LC_MESSAGES" / "toonzoo.po").read_text()
        text = text.replace('msgstr "Cancelar"', 'msgstr ""').replace('msgstr "Отмена"', 'msgstr ""')
        catalogues.po_path(language).write_text(text)
    assert {"es: no translation for 'Cancel'", "ru: no translation for 'Cancel'"} <= set(catalogues.problems())


@pytest.mark.parametrize("language", ["es", "ru"])
def test_translations_keep_every_placeholder(language):
    for message in catalogues.read_catalogue(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(_FIELD.findall(ids[-1]))
        for string in strings:
            assert set(_FIELD.findall(string)) == wanted, (ids[0], string)


@pytest.mark.parametrize(
    ("tag", "language"),
    [("es", "es"), ("es-419", "es"), ("ES_mx", "es"), ("ru-RU", "ru"), ("en-GB", "en"), ("pt-br", None), ("", None)],
)
def test_language_from_an_ietf_tag(tag, language):
    assert language_from_tag(tag) == language


def test_resolution_prefers_the_chat_then_the_user_then_english():
    assert resolve_language("ru", "es-419") == "ru"
    assert resolve_language(None, "es-419") == "es"
    assert resolve_language(None, "de") == DEFAULT_LANGUAGE
    assert resolve_language(None, None) == DEFAULT_LANGUAGE
    assert resolve_language("xx", "ru") == "ru"  # an unknown stored value is ignored
    assert get_translator("de") is ENGLISH


@pytest.mark.parametrize(
    ("points", "russian", "spanish"),
    [
        (1, "1 очко", "1 punto"),
        (2, "2 очка", "2 puntos"),
        (4, "4 очка", "4 puntos"),
        (5, "5 очков", "5 puntos"),
        (11, "11 очков", "11 puntos"),
        (21, "21 очко", "21 puntos"),
        (22, "22 очка", "22 puntos"),
        (111, "111 очков", "111 puntos"),
    ],
)
def test_plural_forms(points, russian, spanish):
    assert replies._points(RUSSIAN, points) == russian
    assert replies._points(SPANISH, points) == spanish
    assert replies._points(ENGLISH, points) == f"{points} point{'s' * (points != 1)}"


def test_every_default_label_has_one_name_per_language():
    for language in LANGUAGES[1:]:
        names = LABEL_NAMES[language]
        assert set(names) == set(DEFAULT_LABELS), language
        assert len({name.casefold() for name in names.values()}) == len(names), f"{language}: a name twice"
        for label, name in names.items():
            assert name == name.strip().casefold()
            assert name not in DEFAULT_LABELS or name == label, f"{language}: {name} is another default's name"
            assert replies.get_emoji(name) == replies.get_emoji(label) != replies.GENERIC_EMOJI


def test_default_labels_are_shown_and_typed_in_the_language_but_stored_in_english():
    assert SPANISH.label("giraffe") == "jirafa" and RUSSIAN.label("giraffe") == "жираф"
    assert SPANISH.identity("Jirafa") == "giraffe" and RUSSIAN.identity("ЖИРАФ") == "giraffe"
    assert SPANISH.label("robot") == "robot" and SPANISH.identity("robot") == "robot"
    assert RUSSIAN.identity("jirafa") == "jirafa"  # another language's name is just a label
    assert ENGLISH.label("giraffe") == "giraffe" and ENGLISH.identity("jirafa") == "jirafa"


def test_game_sentences_fit_any_label_in_every_language():
    from bot.game import RoundStarted, TimeWarning

    assert replies.format_game_event(SPANISH, RoundStarted(1, 3, "giraffe", 60)) == (
        "Ronda 1/3. Dibuja: jirafa 🦒. Tienes 60 s."
    )
    assert replies.format_game_event(RUSSIAN, RoundStarted(1, 3, "giraffe", 60)) == (
        "Раунд 1/3. Рисуйте: жираф 🦒! У вас 60 с."
    )
    assert replies.format_game_event(RUSSIAN, TimeWarning(1, "космонавт", 10.0)) == (
        "⏳ Осталось времени: 10 с. Рисуйте: космонавт!"
    )


def test_every_classifier_error_message_is_in_the_catalogue_and_translated():
    from toonzoo_tools.catalogues import classifier_messages

    messages = classifier_messages()
    kinds = [getattr(errors, name) for name in dir(errors)]
    for kind in kinds:
        if isinstance(kind, type) and issubclass(kind, errors.UserError):
            assert kind in (errors.ImageTooLarge, errors.ImageTooManyPixels) or kind.user_message in messages, kind
    for message in messages:
        assert SPANISH.gettext(message) != message and RUSSIAN.gettext(message) != message, message
    busy = replies.error_text(RUSSIAN, errors.EngineBusy())
    assert busy != errors.EngineBusy.user_message and "Попробуйте" in busy
    assert "MB" in replies.error_text(SPANISH, errors.ImageTooLarge())


def test_labels_errors_speak_the_users_language():
    from bot.labels import LabelsError, apply_labels_command, parse_labels_command

    with pytest.raises(LabelsError) as caught:
        apply_labels_command(["giraffe", "cat", "dog"], [], parse_labels_command("remove giraffe, cat"))
    assert caught.value.user_message == "Keep at least 2 labels: that would leave 1."
    assert replies.error_text(RUSSIAN, caught.value) == "Оставьте хотя бы 2 метки: осталось бы 1."
    with pytest.raises(LabelsError) as caught:
        apply_labels_command(["giraffe", "cat"], [], parse_labels_command("remove owl"))
    assert replies.error_text(SPANISH, caught.value) == 'Esto no está en la lista: "búho".'


def test_store_keeps_forgets_and_moves_a_chats_language():
    with Store(":memory:") as store:
        store.migrate()
        assert store.get_language(1) is None
        store.set_language(1, None)
        assert store.db["chats"].count == 0  # "auto" for a chat we know nothing of stores nothing
        store.set_language(1, "ru", chat_type="group")
        store.set_labels(1, ["a", "b"])
        assert store.get_language(1) == "ru" and store.get_labels(1) == ["a", "b"]
        store.set_language(1, None)
        assert store.get_language(1) is None and store.get_labels(1) == ["a", "b"]
        store.set_language(1, "es")
        store.move_chat(1, -1001)
        assert store.get_language(-1001) == "es" and store.get_language(1) is None
        store.set_labels(-1002, ["c", "d"])
        store.set_language(-1003, "ru")
        store.move_chat(-1003, -1002)  # the new chat's row wins, and takes the old language
        assert store.get_language(-1002) == "ru" and store.get_labels(-1002) == ["c", "d"]
        store.forget_chat(-1001)
        assert store.get_language(-1001) is None
