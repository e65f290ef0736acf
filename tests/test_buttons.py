"""Inline buttons are client input: forged, replayed, late or malformed presses change nothing.

The real PTB stack against the fake Bot API, whose ``press_button`` lets a
test press any data on any message, as a modified client can.
"""

import os

from test_game_e2e import ScriptedEngine, drawing, game_bot, in_chat, replying_to, start

from bot.store import Store


def sent_message_id(fake, params) -> int:
    """The message_id Telegram gave the sendMessage call whose parameters are ``params``."""
    return next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is params).result["message_id"]


async def ask_forget(fake, group, user) -> int:
    fake.send_text(group, user, "/forget")
    question = await fake.wait_for("sendMessage", lambda p: in_chat(group)(p) and "reply_markup" in p)
    data = [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert data == ["forget:yes", "forget:no"], "buttons carry the action only, never who may press"
    return sent_message_id(fake, question)


def stored(db_path, chat_id):
    with Store(db_path) as store:
        games = store.db.execute("SELECT COUNT(*) FROM games WHERE chat_id = ?", [chat_id]).fetchone()[0]
        return store.get_labels(chat_id), games, [(p.name, p.points) for p in store.leaderboard(chat_id)]


async def play_one_round(fake, engine, group, starter, winner) -> None:
    _, target = await start(fake, group, starter, "1 30")
    hit = fake.send_photo(group, winner, engine.sees(drawing(), target, 0.9))
    await fake.wait_for("sendMessage", replying_to(hit))
    await fake.wait_for("sendPhoto", in_chat(group, "🏁"))  # the gallery, captioned


async def test_forged_and_malformed_presses_erase_and_edit_nothing(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        await play_one_round(fake, engine, group, ada, bob)
        fake.send_text(group, ada, "/labels kite, boat")
        done = await fake.wait_for("sendMessage", in_chat(group, "Done"))
        before = stored(db_path, group["id"])
        assert before == (["kite", "boat"], 1, [("Bob", 1)])

        prompt = await ask_forget(fake, group, ada)
        unrelated = sent_message_id(fake, done)
        presses = [
            (prompt, f"forget:yes:{bob['id']}"),  # the old format, naming the presser
            (prompt, "forget:yes"),  # a member on the creator's prompt
            (prompt, "forget:no"),
            (unrelated, f"forget:no:{ada['id']}"),  # any bot message, no prompt on it
            (unrelated, f"forget:yes:{ada['id']}"),
            (unrelated, "forget:yes"),
            (unrelated, "forget"),
            (unrelated, "zzz"),
            (unrelated, os.urandom(64)),
        ]
        for message_id, data in presses:
            fake.press_button(group, bob, message_id, data)
        answers = [await fake.wait_for("answerCallbackQuery") for _ in presses]
        assert all(answer.get("show_alert") is True and answer.get("text") for answer in answers)
        await fake.expect_no_call("editMessageText", within=0.5)
        await fake.expect_no_call("sendMessage", within=0.1)  # no "something went wrong" in the group
        assert fake.unanswered_callback_queries == []
        assert stored(db_path, group["id"]) == before

        fake.press_button(group, ada, prompt, "forget:no")  # the asker may answer
        assert (await fake.wait_for("editMessageText"))["text"] == "Nothing was erased."
        fake.press_button(group, ada, prompt, "forget:yes")  # but only once
        assert (await fake.wait_for("answerCallbackQuery", lambda p: p.get("show_alert")))["text"]
        await fake.expect_no_call("editMessageText", within=0.5)
        assert stored(db_path, group["id"]) == before
        assert fake.unanswered_callback_queries == []


async def test_an_admin_at_press_time_may_answer_and_late_presses_are_refused(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    async with game_bot(fake, db_path, ScriptedEngine()) as application:
        fake.send_text(group, ada, "/labels kite, boat")
        await fake.wait_for("sendMessage", in_chat(group, "Done"))

        application.bot_data.services.prompts.ttl_s = 0.3
        late = await ask_forget(fake, group, ada)
        await fake.expect_no_call("editMessageText", within=0.5)
        fake.press_button(group, ada, late, "forget:yes")  # the asker, after the prompt expired
        assert "expired" in (await fake.wait_for("answerCallbackQuery"))["text"]
        await fake.expect_no_call("editMessageText", within=0.3)
        assert Store(db_path).get_labels(group["id"]) == ["kite", "boat"]

        application.bot_data.services.prompts.ttl_s = 600
        prompt = await ask_forget(fake, group, ada)
        fake.press_button(group, cy, prompt, "forget:yes")  # not an admin (yet)
        assert (await fake.wait_for("answerCallbackQuery"))["show_alert"] is True
        fake.set_member(group, cy, "administrator")  # promoted after the prompt was sent
        fake.press_button(group, cy, prompt, "forget:yes")
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
        assert fake.unanswered_callback_queries == []
    assert Store(db_path).get_labels(group["id"]) is None
