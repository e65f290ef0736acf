"""The bot in Spanish and Russian, end to end: Telegram's language_code, /language, the game, command menus."""

import re

from helpers.bot import (
    ScriptedEngine,
    drawing,
    game_bot,
    guessed_labels,
    in_chat,
    replying_to,
    running_bot,
    settings_for,
)
from helpers.pictures import png_bytes

from bot.i18n import get_translator
from bot.label_names import LABEL_NAMES
from bot.store import Store
from classifier.prompts import DEFAULT_LABELS

SPANISH_ROUND = re.compile(r"Ronda (\d+)/(\d+)\. Dibuja: (.+?) \S+\.")
RUSSIAN_ROUND = re.compile(r"Раунд (\d+)/(\d+)\. Рисуйте: (.+?) \S+!")


def starts(prefix):
    return lambda p: p["text"].startswith(prefix)


async def test_a_spanish_user_gets_spanish_and_language_en_switches_back(fake, db_path, tiny_classifier):
    ana = fake.add_user("Ana", language_code="es-419")
    chat = fake.add_private_chat(ana)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ana, "/start")
        assert (await fake.wait_for("sendMessage"))["text"].startswith("¡Hola, Ana! 👋\nEnvíame un dibujo")
        fake.send_text(chat, ana, "/help")
        help_text = (await fake.wait_for("sendMessage"))["text"]
        assert "/language – Ver o cambiar el idioma en que hablo aquí" in help_text and "Comandos:" in help_text

        fake.send_photo(chat, ana, png_bytes())
        guesses = guessed_labels((await fake.wait_for("sendMessage", lambda p: "%" in p["text"]))["text"])
        assert len(guesses) == 3 and set(guesses) <= set(LABEL_NAMES["es"].values())

        fake.send_text(chat, ana, "/labels")
        shown = (await fake.wait_for("sendMessage", starts("Elijo entre")))["text"]
        assert shown.startswith("Elijo entre 32 etiquetas (las predeterminadas):\ngato, perro, zorro,")
        fake.send_text(chat, ana, "/labels remove jirafa, búho")
        done = (await fake.wait_for("sendMessage", starts("Hecho.")))["text"]
        assert done.startswith("Hecho. Elijo entre 30 etiquetas (elegidas para este chat):")
        assert "jirafa" not in done and "búho" not in done and "cebra" in done
        fake.send_text(chat, ana, "/labels remove jirafa")
        assert (await fake.wait_for("sendMessage"))["text"] == 'Esto no está en la lista: "jirafa".'

        fake.send_text(chat, ana, "/language en")
        assert (await fake.wait_for("sendMessage"))["text"] == "Done: this chat's language is now English."
        fake.send_text(chat, ana, "/labels")
        shown = (await fake.wait_for("sendMessage", starts("I choose")))["text"]
        assert shown.startswith("I choose between 30 labels (set for this chat):\ncat, dog, fox,")
        assert "zebra" in shown and "giraffe" not in shown and "owl" not in shown
        fake.send_text(chat, ana, "/language")
        assert (await fake.wait_for("sendMessage"))["text"].startswith(
            "Language in this chat: English (chosen with /language)."
        )
        fake.send_text(chat, ana, "/language auto")
        assert (await fake.wait_for("sendMessage"))["text"] == (
            "Hecho: aquí respondo a cada persona en el idioma de su Telegram."
        )
        fake.send_text(chat, ana, "/language de")
        assert (await fake.wait_for("sendMessage"))["text"].startswith("Uso: /language en")

    with Store(db_path) as store:  # one identity: the English names, whatever language they were typed in
        labels = store.get_labels(chat["id"])
        assert labels == [x for x in DEFAULT_LABELS if x not in ("giraffe", "owl")]
        assert store.get_language(chat["id"]) is None


async def test_a_russian_user_gets_russian(fake, db_path, tiny_classifier):
    ivan = fake.add_user("Иван", language_code="ru")
    chat = fake.add_private_chat(ivan)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ivan, "/start")
        assert (await fake.wait_for("sendMessage"))["text"].startswith("Привет, Иван! 👋\nПришлите мне рисунок")
        fake.send_text(chat, ivan, "/help")
        assert "/game – Начать игру в рисование в этом чате" in (await fake.wait_for("sendMessage"))["text"]
        fake.send_photo(chat, ivan, png_bytes(colour=(200, 30, 30)))
        guesses = guessed_labels((await fake.wait_for("sendMessage", lambda p: "%" in p["text"]))["text"])
        assert len(guesses) == 3 and set(guesses) <= set(LABEL_NAMES["ru"].values())
        fake.send_text(chat, ivan, "/labels cat, робот")
        await fake.wait_for("sendMessage", starts("Знакомлюсь с новыми метками"))
        done = (await fake.wait_for("sendMessage", starts("Готово.")))["text"]
        assert done.startswith("Готово. Я выбираю из 2 меток (заданы для этого чата):\nкошка, робот")
        fake.send_text(chat, ivan, "/labels add кошка")
        assert (await fake.wait_for("sendMessage", starts("Уже")))["text"] == 'Уже в списке: "кошка".'
        fake.send_text(chat, ivan, "/hello")
        assert (await fake.wait_for("sendMessage", starts("Я не")))["text"].startswith("Я не знаю такой команды.")


async def test_command_menus_in_every_language(fake, db_path, tiny_classifier):
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        menus = {call.get("language_code"): call["commands"] for call in fake.calls("setMyCommands")}
    assert set(menus) == {None, "es", "ru"}
    for code, t in ((None, get_translator("en")), ("es", get_translator("es")), ("ru", get_translator("ru"))):
        descriptions = {c["command"]: c["description"] for c in menus[code]}
        assert "language" in descriptions
        assert descriptions["game"] == t.gettext("Start a drawing game in this chat")
    assert {c["description"] for c in menus["es"]}.isdisjoint({c["description"] for c in menus[None]})


async def test_a_game_in_spanish_then_russian_for_the_whole_group(fake, db_path):
    bea, bob, cy = fake.add_user("Bea", language_code="es"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(bea, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        fake.send_text(group, bea, "/game 1 2")  # no chat setting: the starter's language
        announcement = (await fake.wait_for("sendMessage", in_chat(group, "Ronda 1/1")))["text"]
        assert announcement.startswith("🎨 ¡Juego de dibujo! 1 ronda de 2 s.")
        target = get_translator("es").identity(SPANISH_ROUND.search(announcement)[3])
        assert target in DEFAULT_LABELS
        other = next(x for x in DEFAULT_LABELS if x != target)
        miss = fake.send_photo(group, bob, engine.sees(drawing(), other, 0.7, **{target: 0.1}))
        reply = (await fake.wait_for("sendMessage", replying_to(miss)))["text"]  # Bob's Telegram is English
        es = get_translator("es")
        assert reply.startswith(f"Veo: {es.label(other)} ") and f"({es.label(target)}: 10%)" in reply
        hit = fake.send_photo(group, cy, engine.sees(drawing(), target, 0.9))
        win = (await fake.wait_for("sendMessage", replying_to(hit)))["text"]
        assert win.startswith(f"🎉 ¡Cy gana la ronda: {es.label(target)} ") and "(1 punto)" in win
        over = (await fake.wait_for("sendPhoto", in_chat(group, "🏁")))["caption"]
        assert over.startswith("🏁 ¡Fin del juego!\n🥇 Cy: 1 punto")

        fake.send_text(group, bob, "/language ru")  # not an admin
        refused = await fake.wait_for("sendMessage", in_chat(group, "admin"))
        assert refused["text"] == "Only the group's admins can change my language here."
        fake.send_text(group, bea, "/language ru")
        assert (await fake.wait_for("sendMessage", in_chat(group, "Готово")))["text"] == (
            "Готово: теперь язык этого чата — Русский."
        )
        fake.send_text(group, bob, "/game 1 1")  # the chat's setting wins over Bob's English
        announcement = (await fake.wait_for("sendMessage", in_chat(group, "Раунд 1/1")))["text"]
        assert announcement.startswith("🎨 Игра в рисование! 1 раунд по 1 с.")
        target = get_translator("ru").identity(RUSSIAN_ROUND.search(announcement)[3])
        assert target in DEFAULT_LABELS
        end = (await fake.wait_for("sendMessage", in_chat(group, "Время вышло"), timeout=5))["text"]
        assert "Ни в одном рисунке не удалось узнать" in end and "В этот раз никто не набрал очков." in end
        fake.send_text(group, cy, "/score")
        board = (await fake.wait_for("sendMessage", in_chat(group, "🏆")))["text"]
        assert board == "🏆 Лучшие результаты этого чата за всё время:\n🥇 Cy: 1 очко (0 с)"


async def test_labels_not_in_english_get_one_warning_with_an_english_only_model(fake, db_path, tiny_classifier):
    ana = fake.add_user("Ana", language_code="es")
    chat = fake.add_private_chat(ana)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ana, "/labels gato, perro, ñandú, búho real")
        await fake.wait_for("sendMessage", starts("Conociendo las nuevas etiquetas"))
        done = (await fake.wait_for("sendMessage", starts("Hecho.")))["text"]
        assert done.endswith(
            "⚠️ Este modelo lee mejor las etiquetas en inglés; puede que «ñandú», «búho real» se adivinen mal. "
            "El dueño del bot puede cambiar al modelo multilingüe."
        )
        assert done.count("⚠️") == 1
        fake.send_text(chat, ana, "/labels add zorro, robot")  # a default animal and an English word
        await fake.wait_for("sendMessage", starts("Conociendo las nuevas etiquetas"))
        added = (await fake.wait_for("sendMessage", starts("Hecho.")))["text"]
        assert "⚠️" not in added and "zorro" in added
    with Store(db_path) as store:
        assert store.get_labels(chat["id"]) == ["cat", "dog", "ñandú", "búho real", "fox", "robot"]


async def test_a_spanish_chat_with_a_multilingual_model_is_prompted_in_spanish(fake, db_path, tiny_multilingual_loaded):
    """Spanish labels (not default animals, which keep their English identity) set in a Spanish chat are
    prompted with the Spanish templates, cached under that key, and guessed over in Spanish."""
    from classifier.database import open_database
    from classifier.pipeline import ZeroShotClassifier
    from classifier.prompts import DRAWING_TEMPLATES_ES, templates_key
    from classifier.text_cache import TABLE

    ana = fake.add_user("Ana", language_code="es")
    chat = fake.add_private_chat(ana)
    cache_db = open_database(db_path.with_name("labels.db"))
    classifier = ZeroShotClassifier(tiny_multilingual_loaded, db=cache_db)
    async with running_bot(fake, settings_for(fake, db_path), classifier):
        fake.send_text(chat, ana, "/labels cohete, castillo, barco, tren")
        fake.ignore("sendMessage", starts("Conociendo las nuevas etiquetas"))  # sent only when encoding is slow
        done = (await fake.wait_for("sendMessage", starts("Hecho.")))["text"]
        assert "cohete, castillo, barco, tren" in done
        assert "inglés" not in done  # no English-only warning: this model reads Spanish
        fake.send_photo(chat, ana, png_bytes())
        reply = (await fake.wait_for("sendMessage", lambda p: "%" in p["text"]))["text"]
        guesses = guessed_labels(reply)
        assert len(guesses) == 3 and set(guesses) <= {"cohete", "castillo", "barco", "tren"}
    rows = cache_db.execute(f"select distinct templates from {TABLE} where label = 'cohete'").fetchall()
    assert [key for (key,) in rows] == [templates_key(DRAWING_TEMPLATES_ES)]
    cache_db.close()


async def test_a_photo_and_a_canvas_drawing_are_ranked_alike_in_a_spanish_chat(fake, db_path, tiny_multilingual_loaded):
    """The same picture sent as a photo and drawn on the canvas, in a Spanish chat with a multilingual model,
    gets the same guesses: both go through one seam with the chat's language (the canvas used to rank with
    the English templates). The label cache holds only the Spanish templates' rows for the chat's labels."""
    from helpers.canvas import call, canvas_options, init_data_for

    from classifier.database import open_database
    from classifier.pipeline import ZeroShotClassifier
    from classifier.prompts import DRAWING_TEMPLATES_ES, templates_key
    from classifier.text_cache import TABLE

    ana = fake.add_user("Ana", language_code="es")
    chat = fake.add_private_chat(ana)
    cache_db = open_database(db_path.with_name("labels.db"))
    classifier = ZeroShotClassifier(tiny_multilingual_loaded, db=cache_db)
    labels = ["cohete", "castillo", "barco", "tren"]
    picture = png_bytes((96, 96), colour=(30, 160, 40))
    async with running_bot(fake, settings_for(fake, db_path, **canvas_options()), classifier) as app:
        fake.send_text(chat, ana, "/labels " + ", ".join(labels))
        fake.ignore("sendMessage", starts("Conociendo las nuevas etiquetas"))  # sent only when encoding is slow
        assert "cohete, castillo, barco, tren" in (await fake.wait_for("sendMessage", starts("Hecho.")))["text"]
        fake.send_photo(chat, ana, picture)
        reply = (await fake.wait_for("sendMessage", lambda p: "%" in p["text"]))["text"]
        status, body, _ = await call(app, "/api/guess", picture, init_data_for(fake.token, ana))
    assert status == 200
    from_canvas = [(g["label"], round(g["score"] * 100)) for g in body["guesses"]]
    from_photo = [(label, int(percent)) for label, percent in re.findall(r"^\S+ (.+?)\s+(\d{1,3})% ", reply, re.M)]
    assert [label for label, _ in from_canvas] == [label for label, _ in from_photo]
    assert all(abs(a - b) <= 1 for (_, a), (_, b) in zip(from_canvas, from_photo))  # the reply rounds to whole %
    placeholders = ", ".join("?" for _ in labels)
    rows = cache_db.execute(f"select distinct templates from {TABLE} where label in ({placeholders})", labels)
    assert [key for (key,) in rows.fetchall()] == [templates_key(DRAWING_TEMPLATES_ES)]
    cache_db.close()
