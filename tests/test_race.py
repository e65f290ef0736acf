"""The live drawing race: a game's canvas judges every live guess, through the real bot, its canvas
server and the fake Bot API; a scripted engine decides what each drawing shows."""

import asyncio
import dataclasses

import aiohttp
from helpers.bot import FAST, in_chat, other_than, running_bot, settings_for
from helpers.canvas import call, canvas_options, init_data_for, start_param_of

from bot.app import build_application
from bot.context import services_of
from bot.game import RoundState, RoundView, round_view, start_game
from bot.store import Store
from toonzoo_tools.scripted_engine import ScriptedEngine, drawing, target_of


def race_bot(fake, db_path, engine, **rules):
    def build(settings, _classifier):
        return build_application(settings, engine=engine, game_rules=dataclasses.replace(FAST, **rules))

    return running_bot(fake, settings_for(fake, db_path, **canvas_options()), None, build=build)


async def get_round(app, init_data):
    base = f"http://127.0.0.1:{services_of(app).webapp.port}"
    headers = {"Authorization": f"tma {init_data}"}
    async with aiohttp.ClientSession() as session, session.get(base + "/api/round", headers=headers) as response:
        return response.status, await response.json()


async def test_a_live_guess_wins_the_round_and_every_page_follows_the_game(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with race_bot(fake, db_path, engine, pause_s=1.0) as app:
        fake.send_text(group, ada, "/game 2 15")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/2"))
        _, target = target_of(announcement["text"])
        link = announcement["reply_markup"]["inline_keyboard"][0][0]["url"]
        bob_data = init_data_for(fake.token, bob, start_param_of(link))
        cy_data = init_data_for(fake.token, cy, start_param_of(link))

        status, state = await get_round(app, cy_data)
        assert status == 200 and state["state"] == "drawing" and (state["round"], state["rounds"]) == (1, 2)
        assert state["target"] == target and state["winner"] is None and 13 < state["ends_in_s"] <= 15

        miss = engine.sees(drawing(), other_than(target), 0.7, **{target: 0.2})
        status, body, _ = await call(app, "/api/guess", miss, bob_data)
        assert status == 200 and body["won"] is False and len(body["guesses"]) == 3
        assert body["guesses"][0]["label"] == other_than(target) and body["round"]["state"] == "drawing"
        await fake.expect_no_call("sendMessage", in_chat(group))  # a live miss says nothing in the group

        hit = engine.sees(drawing(), target, 0.8)
        status, body, _ = await call(app, "/api/guess", hit, cy_data)
        assert status == 200 and body["won"] is True and body["round"]["winner"] == {"name": "Cy"}
        posted = await fake.wait_for("sendPhoto", lambda p: p["chat_id"] == group["id"])
        assert posted["photo"] == hit and posted["caption"].startswith(f"🎉 Cy wins the round: {target}")

        status, state = await get_round(app, bob_data)  # Bob's page learns who won
        assert state["state"] == "between" and state["winner"] == {"name": "Cy"}
        assert state["results"] == [
            {"round": 1, "target": target, "emoji": state["results"][0]["emoji"], "winner": "Cy"}
        ]
        assert state["standings"][0] == {"name": "Cy", "points": 1}

        second = await fake.wait_for("sendMessage", in_chat(group, "Round 2/2"), timeout=5)
        _, target2 = target_of(second["text"])
        assert second["reply_markup"]["inline_keyboard"][0][0]["url"] == link, "one link serves the whole game"
        status, state = await get_round(app, bob_data)
        assert state["state"] == "drawing" and state["round"] == 2 and state["target"] == target2

        fake.send_text(group, ada, "/stop")
        await fake.wait_for("sendPhoto", in_chat(group, "Game stopped"))  # with the gallery
        status, state = await get_round(app, cy_data)  # the same link after the game: the standings
        assert state["state"] == "over" and state["standings"][0] == {"name": "Cy", "points": 1}
        status, body, _ = await call(app, "/api/guess", engine.sees(drawing(), target2, 0.9), bob_data)
        assert status == 200 and body["won"] is False and body["round"]["state"] == "over"


async def test_two_winning_drawings_at_once_give_one_winner(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with race_bot(fake, db_path, engine) as app:
        fake.send_text(group, ada, "/game 1 15")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/1"))
        _, target = target_of(announcement["text"])
        token = start_param_of(announcement["reply_markup"]["inline_keyboard"][0][0]["url"])
        answers = await asyncio.gather(
            call(app, "/api/guess", engine.sees(drawing(), target, 0.8), init_data_for(fake.token, bob, token)),
            call(app, "/api/guess", engine.sees(drawing(), target, 0.9), init_data_for(fake.token, cy, token)),
        )
        assert [status for status, _, _ in answers] == [200, 200]
        assert sorted(body["won"] for _, body, _ in answers) == [False, True]
        winner = "Bob" if answers[0][1]["won"] else "Cy"
        assert all(body["round"]["winner"] == {"name": winner} for _, body, _ in answers)
        photos = [c for c in fake.all_calls if c.method == "sendPhoto" and c.params["chat_id"] == group["id"]]
        wins = [c for c in photos if c.params["caption"].startswith("🎉")]  # (the gallery comes at the end)
        assert len(wins) == 1 and wins[0].params["caption"].startswith(f"🎉 {winner} wins")
        await fake.wait_for("sendPhoto")
        await fake.wait_for("sendPhoto", in_chat(group, "Game over"))


async def test_a_player_who_left_the_group_cannot_win(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with race_bot(fake, db_path, engine) as app:
        fake.send_text(group, ada, "/game 1 15")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/1"))
        _, target = target_of(announcement["text"])
        bob_data = init_data_for(
            fake.token, bob, start_param_of(announcement["reply_markup"]["inline_keyboard"][0][0]["url"])
        )
        status, _ = await get_round(app, bob_data)  # a member now: confirmed (and remembered for a minute)
        assert status == 200
        fake.set_member(group, bob, "left")
        status, body, _ = await call(app, "/api/guess", engine.sees(drawing(), target, 0.9), bob_data)
        assert status == 200 and body["won"] is False and body["round"]["winner"] is None
        await fake.expect_no_call("sendPhoto")
        fake.send_text(group, ada, "/stop")
        await fake.wait_for("sendMessage", in_chat(group, "Game stopped"))


def test_the_page_sees_the_servers_clock():
    import random

    from bot.game import Player

    game, _ = start_game(-1, Player(1, "Ada"), ["cat", "dog", "owl", "fox"], 2, 20, 1000.0, random.Random(1))
    game.id = 7
    view = round_view(game, 1005.0)
    assert isinstance(view, RoundView) and view.state is RoundState.DRAWING and view.ends_in_s == 15.0
    game.rounds[-1].started_at, game.rounds[-1].ends_at = 1010.0, 1030.0  # its announcement is not out yet
    assert round_view(game, 1005.0).state is RoundState.BETWEEN and round_view(game, 1005.0).target is None
    assert round_view(game, 1031.0).state is RoundState.BETWEEN, "a round past its deadline is not drawn in"


async def test_play_is_a_solo_race_on_the_canvas_of_a_private_chat(fake, db_path):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    group = fake.add_group("Zoo", [(ada, "creator")])
    engine = ScriptedEngine()
    async with race_bot(fake, db_path, engine) as app:
        fake.send_text(group, ada, "/play")
        assert "private chat" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        fake.send_text(private, ada, "/play")
        announcement = await fake.wait_for("sendMessage", in_chat(private, "Round 1/6"))
        assert "20 s" in announcement["text"]
        button = announcement["reply_markup"]["inline_keyboard"][0][0]
        assert button["web_app"]["url"].endswith("/draw"), "a web-app button: private chats have them"
        _, target = target_of(announcement["text"])
        mine = init_data_for(fake.token, ada)  # opened from the button: no start_param, the private chat
        status, state = await get_round(app, mine)
        assert status == 200 and state["state"] == "drawing" and state["solo"] is True and state["target"] == target
        status, body, _ = await call(app, "/api/guess", engine.sees(drawing(), target, 0.9), mine)
        assert body["won"] is True
        posted = await fake.wait_for("sendPhoto", lambda p: p["chat_id"] == private["id"])
        assert posted["caption"].startswith(f"🎉 Ada wins the round: {target}")
        fake.send_text(private, ada, "/stop")
        over = await fake.wait_for("sendPhoto", in_chat(private, "Game stopped"))
        assert "🥇 Ada: 1 point" in over["caption"] and "🏅 A new personal best: 1 of 6!" in over["caption"]
        status, state = await get_round(app, mine)
        assert state["state"] == "over" and state["results"][0]["winner"] == "Ada"
        fake.send_text(private, ada, "/play")  # a second race, stopped at once: the best stands
        await fake.wait_for("sendMessage", in_chat(private, "Round 1/6"))
        fake.send_text(private, ada, "/stop")
        again = await fake.wait_for("sendMessage", in_chat(private, "Game stopped"))
        assert "Your personal best: 1 of 6. Beat it with /play!" in again["text"]
    with Store(db_path) as store:
        assert [(r["user_id"], r["won"]) for r in store.db["solo_bests"].rows] == [(ada["id"], 1)]
