"""A solo race's card: kept when its gallery is posted, shared from the canvas (``POST /api/share`` →
``savePreparedInlineMessage``) and offered inline (``@bot``), erased by ``/forget``; through the real bot,
its canvas server and the fake Bot API, with a scripted engine deciding what each drawing shows."""

import dataclasses

from helpers.bot import FAST, ask_forget, in_chat, running_bot, settings_for
from helpers.canvas import call, canvas_options, init_data_for
from helpers.waiting import until

from bot.app import build_application
from bot.cards import card_result
from bot.context import games_of
from bot.i18n import get_translator
from bot.store import Card, Store
from toonzoo_tools.fake_bot_api import BOT_USERNAME
from toonzoo_tools.scripted_engine import ScriptedEngine, drawing, target_of

GALLERY_ON_ITS_WAY_S = 0.5
CARD_BUTTON = {"text": "🎨 Race the AI", "url": f"https://t.me/{BOT_USERNAME}?start=card"}


def race_bot(fake, db_path, engine):
    def build(settings, _classifier):
        return build_application(settings, engine=engine, game_rules=dataclasses.replace(FAST))

    return running_bot(fake, settings_for(fake, db_path, **canvas_options()), None, build=build)


async def share(app, init_data):
    """POST /api/share as the page does (no body); (status, JSON)."""
    status, body, _ = await call(app, "/api/share", b"", init_data, content_type="application/octet-stream")
    return status, body


async def inline_answer_to(fake, user, query: str = "") -> dict:
    """``user`` types ``@bot query``; the bot's answerInlineQuery."""
    asked = fake.send_inline_query(user, query)
    return await fake.wait_for("answerInlineQuery", lambda p: p["inline_query_id"] == asked["id"])


async def test_a_solo_race_leaves_a_card_shared_from_the_canvas_and_inline_until_forget(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob", language_code="es")
    private = fake.add_private_chat(ada)
    engine = ScriptedEngine()
    async with race_bot(fake, db_path, engine) as app:
        mine = init_data_for(fake.token, ada)
        status, body = await share(app, mine)
        assert status == 404 and "/play" in body["error"], "no race yet: nothing to share"

        fake.send_text(private, ada, "/play")
        announcement = await fake.wait_for("sendMessage", in_chat(private, "Round 1/6"))
        _, target = target_of(announcement["text"])
        status, body, _ = await call(app, "/api/guess", engine.sees(drawing(), target, 0.9), mine)
        assert status == 200 and body["won"] is True
        await fake.wait_for("sendPhoto", in_chat(private, "Ada wins the round"))
        await fake.wait_for("sendMessage", in_chat(private, "Round 2/6"))
        fake.fail_next("sendPhoto", "slow", delay=GALLERY_ON_ITS_WAY_S)  # Telegram takes its time with the gallery
        fake.send_text(private, ada, "/stop")
        await until(lambda: ada["id"] in games_of(app).endings, what="the race's end being posted")

        # Share on the canvas, pressed as the race ends: it waits for this race's card, prepared for Ada
        status, body = await share(app, mine)
        gallery = await fake.wait_for_call("sendPhoto", in_chat(private, "Game stopped"))
        file_id = gallery.result["photo"][-1]["file_id"]  # the gallery as Telegram keeps it
        prepared = await fake.wait_for_call("savePreparedInlineMessage")
        assert prepared.at >= gallery.at
        assert status == 200 and body == {"id": prepared.result["id"]}
        params = prepared.params
        assert params["user_id"] == ada["id"]
        assert params["allow_user_chats"] is True and params["allow_group_chats"] is True
        card = params["result"]
        assert (card["type"], card["photo_file_id"], card["caption"]) == ("photo", file_id, "Can you beat 1/6?")
        assert card["reply_markup"] == {"inline_keyboard": [[CARD_BUTTON]]}
        assert fake.prepared_message(body["id"]) == {"user_id": ada["id"], "result": card}

        # refused: someone with no card (a clear JSON error), no init data, forged or tampered init data
        status, body = await share(app, init_data_for(fake.token, bob))
        assert status == 404 and body["error"] == "No race card to share yet: finish a race with /play first."
        for init_data in (
            None,
            init_data_for("987654321:AAAnotherBotsTokenThatSignsNothing_012", ada),
            mine.replace(str(ada["id"]), str(bob["id"])),
        ):
            status, body = await share(app, init_data)
            assert status == 401 and body == {"error": "Open the canvas from Telegram again."}
        await fake.expect_no_call("savePreparedInlineMessage")

        # inline mode: Ada's card as the one result; Bob (in Spanish) gets none and a way to race first
        answer = await inline_answer_to(fake, ada, "anything")
        assert answer["is_personal"] is True and 0 < answer["cache_time"] <= 60
        assert [(r["type"], r["photo_file_id"], r["caption"]) for r in answer["results"]] == [
            ("photo", file_id, "Can you beat 1/6?")
        ]
        assert answer["results"][0]["reply_markup"] == {"inline_keyboard": [[CARD_BUTTON]]}
        assert "button" not in answer
        answer = await inline_answer_to(fake, bob)
        assert answer["results"] == [] and answer["is_personal"] is True
        assert answer["button"] == {
            "text": "Aún no tienes tarjeta: compite conmigo con /play",
            "start_parameter": "card",
        }

        # /forget in the private chat erases the card
        question = await ask_forget(fake, private, ada)
        fake.press_button(private, ada, question, "forget:yes")
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
        answer = await inline_answer_to(fake, ada)
        assert answer["results"] == [] and answer["button"]["start_parameter"] == "card"
        status, _ = await share(app, mine)
        assert status == 404
        assert fake.unanswered_inline_queries == []
    with Store(db_path) as store:
        assert store.card(ada["id"]) is None and store.db["cards"].count == 0


def test_the_card_speaks_the_players_language_and_links_to_the_bot():
    card = Card(7, "AgACAgIAAx0Fake000001_photos", 5, 6, 1_700_000_000.5)
    for language, caption, button in (
        ("en", "Can you beat 5/6?", "🎨 Race the AI"),
        ("es", "¿Puedes superar 5/6?", "🎨 Compite con la IA"),
        ("ru", "Сможете побить 5/6?", "🎨 Сразиться с ИИ"),
    ):
        result = card_result(get_translator(language), card, "zoo_bot")
        assert (result.photo_file_id, result.caption) == (card.file_id, caption)
        assert result.reply_markup is not None
        [[link]] = result.reply_markup.inline_keyboard
        assert (link.text, link.url) == (button, "https://t.me/zoo_bot?start=card")
