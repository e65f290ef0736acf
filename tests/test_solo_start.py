"""The canvas's Play solo button's endpoint (``POST /api/play``) through the real bot, its canvas server and
the fake Bot API: /play's race, started from the page in the user's own private chat, and every refusal."""

from helpers.bot import ScriptedEngine, game_bot, in_chat, target_of
from helpers.canvas import call, canvas_options, get_round, init_data_for, start_param_of


async def test_the_page_starts_a_solo_race_in_the_private_chat(fake, db_path):
    ada = fake.add_user("Ada", language_code="es")
    private = fake.add_private_chat(ada)
    async with game_bot(fake, db_path, ScriptedEngine(), options=canvas_options()) as app:
        mine = init_data_for(fake.token, ada)  # opened from the menu button: no start_param
        status, state = await get_round(app, mine)
        assert status == 200 and state == {"state": "none", "language": "es", "solo": True}

        status, body, _ = await call(app, "/api/play", b"", mine)
        assert status == 200, body
        assert body["state"] == "drawing" and (body["round"], body["rounds"]) == (1, 6) and body["solo"] is True
        assert 18 < body["ends_in_s"] <= 20 and body["language"] == "es"
        announcement = await fake.wait_for("sendMessage", in_chat(private, "1/6"))  # said as /play says it
        assert announcement["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"].endswith("/draw")
        status, state = await get_round(app, mine)
        assert state["state"] == "drawing" and state["target"] == body["target"]

        status, again, _ = await call(app, "/api/play", b"", mine)
        assert status == 409 and again == {"error": "A game is already running in this chat."}
        fake.send_text(private, ada, "/play")  # /play and the button are one way in
        assert "/stop" in (await fake.wait_for("sendMessage", in_chat(private)))["text"]
        fake.send_text(private, ada, "/stop")
        await fake.wait_for("sendMessage", in_chat(private, "🛑 Ada"))  # stopped


async def test_play_is_refused_from_a_groups_link_and_when_paced(fake, db_path):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    group = fake.add_group("Zoo", [(ada, "creator")])
    async with game_bot(fake, db_path, ScriptedEngine(), options=canvas_options()) as app:
        fake.send_text(group, ada, "/game 1 30")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/1"))
        token = start_param_of(announcement["reply_markup"]["inline_keyboard"][0][0]["url"])
        from_group = init_data_for(fake.token, ada, token)
        status, body, _ = await call(app, "/api/play", b"", from_group)
        assert status == 403 and "private chat" in body["error"]
        status, body, _ = await call(app, "/api/play", b"", None)
        assert status == 401
        await fake.expect_no_call("sendMessage", in_chat(private))  # nothing started anywhere

        mine = init_data_for(fake.token, ada)
        answers = [await call(app, "/api/play", b"", mine) for _ in range(2)]  # the refused one counted too
        assert [status for status, _, _ in answers] == [200, 429]
        assert int(answers[1][2]["Retry-After"]) >= 1
        _, target = target_of((await fake.wait_for("sendMessage", in_chat(private, "Round 1/6")))["text"])
        assert answers[0][1]["target"] == target
        fake.send_text(private, ada, "/stop")
        await fake.wait_for("sendMessage", in_chat(private, "Game stopped"))
        fake.send_text(group, ada, "/stop")
        await fake.wait_for("sendMessage", in_chat(group, "Game stopped"))


async def test_a_user_who_blocked_the_bot_is_told_so(fake, db_path):
    ada = fake.add_user("Ada")
    fake.add_private_chat(ada)
    async with game_bot(fake, db_path, ScriptedEngine(), options=canvas_options()) as app:
        fake.fail_next("sendMessage", 403)
        status, body, _ = await call(app, "/api/play", b"", init_data_for(fake.token, ada))
        assert status == 502 and "press Start" in body["error"]
        status, state = await get_round(app, init_data_for(fake.token, ada))
        assert state["state"] == "over"  # closed at once; the button may try again
