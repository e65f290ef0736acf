"""The drawing game end to end: real PTB stack, JobQueue timers and SQLite against the fake Bot API.

A scripted engine (the serving engine's interface) decides what the model
"sees" in each picture, so each test chooses who wins. Rounds last a second or
two; groups here stay far below Telegram's 20 messages a minute per group,
which the fake enforces (tests/test_budget_e2e.py plays busy groups).
"""

import asyncio
import re
import time

import pytest
from helpers.bot import (
    ScriptedEngine,
    drawing,
    game_bot,
    in_chat,
    other_than,
    replying_to,
    start,
    target_of,
    text_of,
)

from bot.context import games_of
from bot.game_service import RETRY_MAX_S
from classifier.prompts import DEFAULT_LABELS


@pytest.mark.slow  # rounds run at their real length
async def test_a_full_game_in_a_group_of_three(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "2 2")

        # a miss, even when the caption addresses the bot: the game judges it, no guesses
        seen = other_than(target)
        miss = fake.send_photo(
            group, bob, engine.sees(drawing(), seen, 0.7, **{target: 0.1}), caption="@toonzoo_test_bot"
        )
        reply = await fake.wait_for("sendMessage", replying_to(miss))
        assert reply["text"].startswith(f"I see: {seen}") and f"{target}: 10%" in reply["text"]
        assert engine.classified[-1][2] == len(DEFAULT_LABELS), "the target's score needs every label"

        hit = fake.send_photo(group, cy, engine.sees(drawing(), target, 0.8))
        win = await fake.wait_for("sendMessage", replying_to(hit))
        assert win["text"].startswith(f"🎉 Cy wins the round: {target}") and "(1 point)" in win["text"]

        number, target2 = target_of((await fake.wait_for("sendMessage", in_chat(group, "Round 2/2")))["text"])
        assert number == 2 and target2 != target
        warning = await fake.wait_for("sendMessage", in_chat(group, "⏳"))
        assert warning["text"] == f"⏳ Time left: 1 s. Draw: {target2}!"
        close = fake.send_photo(group, bob, engine.sees(drawing(), other_than(target2), 0.5, **{target2: 0.45}))
        await fake.wait_for("sendMessage", replying_to(close))
        end = await fake.wait_for("sendPhoto", in_chat(group, "Time's up"), timeout=5)  # with the gallery
        assert "Bob came closest (45%)" in end["caption"] and "🏁 Game over!" in end["caption"]
        lines = end["caption"].splitlines()
        assert any(line.startswith("🥇 Cy: 1 point") for line in lines), "Cy won faster than Bob"
        assert any(line.startswith("🥈 Bob: 1 point") for line in lines)

        # the game is over: pictures are not judged any more, /score remembers
        fake.send_photo(group, bob, engine.sees(drawing(), target2, 0.9))
        # nothing unexpected: no guesses for the addressed picture, no word after the end (warnings aside)
        await fake.expect_no_call("sendMessage", lambda p: in_chat(group)(p) and "⏳" not in p["text"])
        fake.send_text(group, ada, "/score")
        board = await fake.wait_for("sendMessage", in_chat(group, "All-time"))
        assert [line.split(" (")[0] for line in board["text"].splitlines()[1:]] == ["🥇 Cy: 1 point", "🥈 Bob: 1 point"]
        assert not fake.calls("sendChatAction"), "game pictures save the group's message budget"
        assert len([c for c in fake.all_calls if c.params.get("chat_id") == group["id"]]) < 20


async def test_commands_outside_a_game(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    private = fake.add_private_chat(ada)
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        fake.send_text(private, ada, "/game")
        assert "played in groups" in (await fake.wait_for("sendMessage", in_chat(private)))["text"]
        fake.send_text(group, bob, "/stop")
        assert "No game is running" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        fake.send_text(group, bob, "/score")
        assert "No scores here yet" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        fake.send_text(group, bob, "/game 3 seconds")
        assert "Usage: /game [rounds] [seconds]" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        fake.send_text(group, bob, "/game 99")
        assert "1 to 20 rounds" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        await start(fake, group, bob, "1 30")
        fake.send_text(group, ada, "/game")
        assert "already running" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]


async def test_only_the_starter_or_an_admin_can_stop(fake, db_path):
    ada, bob, dee = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Dee")
    group = fake.add_group("Zoo", [(ada, "administrator"), (bob, "member"), (dee, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, bob, "3 30")
        fake.send_text(group, dee, "/stop")
        refusal = await fake.wait_for("sendMessage", in_chat(group))
        assert refusal["text"] == "Only Bob or a group admin can stop this game."
        hit = fake.send_photo(group, dee, engine.sees(drawing(), target, 0.9))
        assert "🎉 Dee wins the round" in (await fake.wait_for("sendMessage", replying_to(hit)))["text"]
        await fake.wait_for("sendMessage", in_chat(group, "Round 2/3"))
        fake.send_text(group, ada, "/stop")
        stopped = await fake.wait_for("sendPhoto", in_chat(group, "🛑"))
        assert stopped["caption"].startswith("🛑 Game stopped by Ada.") and "🥇 Dee: 1 point" in stopped["caption"]
        await fake.expect_no_call("sendMessage", in_chat(group))  # no timer outlives the game
        await start(fake, group, bob, "1 30")  # the chat is free again
        fake.send_text(group, bob, "/stop")
        assert "stopped by Bob" in (await fake.wait_for("sendMessage", in_chat(group, "🛑")))["text"]


async def test_one_judged_picture_per_player_per_cooldown(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine, cooldown_s=30):
        _, target = await start(fake, group, ada, "1 30")
        first = fake.send_photo(group, bob, engine.sees(drawing(), other_than(target), 0.6))
        await fake.wait_for("sendMessage", replying_to(first))
        spam = fake.send_photo(group, bob, engine.sees(drawing(), target, 0.9))
        await fake.expect_no_call("sendMessage", replying_to(spam))
        assert len(engine.classified) == 1, "the ignored picture was not even classified"
        hit = fake.send_photo(group, ada, engine.sees(drawing(), target, 0.9))  # others aren't slowed down
        assert "🎉 Ada wins the round" in (await fake.wait_for("sendMessage", replying_to(hit)))["text"]
        assert "🥇 Ada: 1 point" in (await fake.wait_for("sendPhoto", in_chat(group, "🏁 Game over!")))["caption"]


@pytest.mark.slow  # rounds run at their real length
async def test_two_groups_play_at_once_without_interfering(fake, db_path):
    ada, bob, cy, dee = (fake.add_user(name) for name in ("Ada", "Bob", "Cy", "Dee"))
    zoo = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    club = fake.add_group("Club", [(cy, "creator"), (dee, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, zoo_target = await start(fake, zoo, ada, "1 2")
        _, club_target = await start(fake, club, cy, "1 2")
        hit = fake.send_photo(zoo, bob, engine.sees(drawing(), zoo_target, 0.9))
        win = await fake.wait_for("sendMessage", replying_to(hit))
        assert win["chat_id"] == zoo["id"] and zoo_target in win["text"]
        assert "🏁 Game over!" in (await fake.wait_for("sendPhoto", in_chat(zoo, "🏁")))["caption"]
        # Club's round still runs, with its own target and timer
        miss = fake.send_photo(club, dee, engine.sees(drawing(), other_than(club_target), 0.9, **{club_target: 0.05}))
        assert (await fake.wait_for("sendMessage", replying_to(miss)))["chat_id"] == club["id"]
        end = await fake.wait_for("sendPhoto", in_chat(club, "Time's up"), timeout=5)  # Dee's try in the gallery
        assert "Nobody drew" in end["caption"] and "Nobody scored" in end["caption"]
        fake.send_text(zoo, ada, "/score")
        assert "Bob: 1 point" in (await fake.wait_for("sendMessage", in_chat(zoo)))["text"]
        fake.send_text(club, cy, "/score")
        await fake.wait_for("sendMessage", in_chat(club, "No scores here yet"))
        zoo_texts = [p["text"] for p in fake.calls("sendMessage") if p["chat_id"] == zoo["id"]]
        assert not any("Time's up" in text or "Nobody" in text for text in zoo_texts)


async def test_restart_mid_round_resumes_with_the_time_left(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "2 6")
        miss = fake.send_photo(group, bob, engine.sees(drawing(), other_than(target), 0.6, **{target: 0.2}))
        await fake.wait_for("sendMessage", replying_to(miss))

    async with game_bot(fake, db_path, engine):
        back = await fake.wait_for("sendMessage", in_chat(group, "I'm back"))
        number, resumed = target_of(back["text"])
        assert (number, resumed) == (1, target) and "Round 1/2 goes on" in back["text"]
        left = int(re.search(r"Time left: (\d+) s", back["text"])[1])
        assert 3 <= left <= 6
        hit = fake.send_photo(group, cy, engine.sees(drawing(), target, 0.9))
        assert "🎉 Cy wins the round" in (await fake.wait_for("sendMessage", replying_to(hit)))["text"]
        await fake.wait_for("sendMessage", in_chat(group, "Round 2/2"))
        fake.send_text(group, ada, "/stop")
        stopped = await fake.wait_for("sendPhoto", in_chat(group, "🛑"))
        assert "🥇 Cy: 1 point" in stopped["caption"] and "Bob: 0 points" in stopped["caption"]


async def test_restart_after_the_round_ran_out_closes_the_game_and_keeps_scores(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "3 5")
        hit = fake.send_photo(group, bob, engine.sees(drawing(), target, 0.9))
        await fake.wait_for("sendMessage", replying_to(hit))
        _, target2 = target_of((await fake.wait_for("sendMessage", in_chat(group, "Round 2/3")))["text"])
        close = fake.send_photo(group, cy, engine.sees(drawing(), other_than(target2), 0.5, **{target2: 0.4}))
        await fake.wait_for("sendMessage", replying_to(close))

    # back up, but (as if much later) with too little of the round left to go on
    async with game_bot(fake, db_path, engine, resume_min_s=60):
        closed = await fake.wait_for("sendMessage", in_chat(group, "I'm back"))
        assert "Cy came closest (40%)" in closed["text"] and "away too long" in closed["text"]
        assert "Bob: 1 point" in closed["text"] and "Cy: 1 point" in closed["text"]
        await fake.expect_no_call("sendMessage", in_chat(group))
        fake.send_text(group, ada, "/score")
        board = (await fake.wait_for("sendMessage", in_chat(group, "All-time")))["text"]
        assert "Bob: 1 point" in board and "Cy: 1 point" in board
        await start(fake, group, ada, "1 30")  # not stuck: a new game can start


async def test_pictures_between_rounds_and_in_private_get_the_usual_treatment(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    private = fake.add_private_chat(bob)
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine, pause_s=3):
        _, target = await start(fake, group, ada, "2 30")
        fake.send_photo(private, bob, engine.sees(drawing(), target, 0.9))
        guesses = await fake.wait_for("sendMessage", in_chat(private))
        assert guesses["text"].count("%") == 3 and "🎉" not in guesses["text"]
        hit = fake.send_photo(group, ada, engine.sees(drawing(), target, 0.9))
        await fake.wait_for("sendMessage", replying_to(hit))
        fake.send_photo(group, bob, engine.sees(drawing(), target, 0.9))  # in the pause: not judged
        await fake.expect_no_call("sendMessage", in_chat(group))
        asked = fake.send_photo(group, bob, engine.sees(drawing(), "owl", 0.9), caption="/guess")
        assert "owl" in (await fake.wait_for("sendMessage", replying_to(asked)))["text"]


@pytest.mark.slow  # rounds run at their real length
async def test_forget_drops_the_running_game_and_its_scores(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine) as app:
        _, target = await start(fake, group, ada, "2 2")
        hit = fake.send_photo(group, bob, engine.sees(drawing(), target, 0.9))
        await fake.wait_for("sendMessage", replying_to(hit))
        await fake.wait_for("sendMessage", in_chat(group, "Round 2/2"))
        assert games_of(app).drawings.games(), "Bob's drawing is held for the gallery"
        fake.send_text(group, ada, "/forget")
        question = await fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        sent = next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is question)
        fake.press_button(group, ada, sent.result["message_id"], "forget:yes")
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
        assert games_of(app).drawings.games() == [], "the drawings went with the game"
        # round 2 would have ended within 2 s: its timer is gone with the game
        await fake.expect_no_call("sendMessage", in_chat(group, "Time's up"), within=2.5)
        fake.send_text(group, ada, "/score")
        await fake.wait_for("sendMessage", in_chat(group, "No scores here yet"))
        await start(fake, group, ada, "1 30")


async def test_a_game_the_bot_can_no_longer_post_to_is_closed(fake, db_path):
    from bot.store import Store

    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        await start(fake, group, ada, "3 1")
        fake.fail_next("sendMessage", 403)  # removed from the group: the end of round 1 can't be posted
        refused = await fake.wait_for_call("sendMessage", in_chat(group), timeout=5)
        assert refused.status == 403 and "Time's up" in refused.params["text"]
        await fake.expect_no_call("sendMessage", in_chat(group))  # no round 2
        with Store(db_path) as store:
            assert store.playing_games() == []


@pytest.mark.slow  # rounds run at their real length
async def test_a_canvas_player_and_a_photo_player(fake, db_path):
    """A drawing from the canvas is judged exactly like a photo (cooldown, scoring) and posted into the group."""
    from helpers.canvas import call, canvas_options, init_data_for, start_param_of

    from bot.context import services_of

    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()

    async with game_bot(fake, db_path, engine, options=canvas_options(), cooldown_s=1) as app:
        fake.send_text(group, ada, "/game 1 30")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/"))
        _, target = target_of(announcement["text"])
        button = announcement["reply_markup"]["inline_keyboard"][0][0]
        assert button["text"] == "🎨 Draw here" and button["url"].startswith("https://t.me/toonzoo_test_bot/draw?")
        init_data = init_data_for(fake.token, cy, start_param_of(button["url"]))

        miss = fake.send_photo(group, bob, engine.sees(drawing(), other_than(target), 0.7, **{target: 0.1}))
        first = engine.sees(drawing(), other_than(target), 0.6, **{target: 0.3})
        status, body, _ = await call(app, "/api/send", first, init_data)
        assert (status, body) == (200, {"sent": True, "in_game": True})
        posted = await fake.wait_for("sendPhoto")
        assert posted["chat_id"] == group["id"] and posted["photo"] == first
        assert posted["caption"] == "🎨 Cy drew this on the canvas."
        assert engine.classified[-1] == (first, tuple(engine.classified[0][1]), len(DEFAULT_LABELS)), "as a photo"

        # the same cooldown as a photo: too soon, refused, and nothing posted
        hit = engine.sees(drawing(), target, 0.8)
        status, body, headers = await call(app, "/api/send", hit, init_data)
        assert status == 429 and int(headers["Retry-After"]) == 1
        await asyncio.sleep(1.1)
        status, _, _ = await call(app, "/api/send", hit, init_data)
        assert status == 200
        winning = await fake.wait_for("sendPhoto")
        posted_win = next(c for c in fake.all_calls if c.method == "sendPhoto" and c.params["photo"] == hit)
        win = await fake.wait_for("sendMessage", lambda p: in_chat(group, "🎉")(p))
        assert win["text"].startswith(f"🎉 Cy wins the round: {target}") and "(1 point)" in win["text"]
        assert win["reply_parameters"]["message_id"] == posted_win.result["message_id"], "the win replies to it"
        assert winning["photo"] == hit
        sent = [c.params for c in fake.all_calls if c.method in ("sendMessage", "sendPhoto")]
        assert any("Bob" in text_of(params) for params in sent), miss
        for_bob = await fake.wait_for(
            "sendMessage",
            lambda p: replying_to(miss)(p) or any(line.startswith("Bob: ") for line in p["text"].splitlines()),
        )
        assert "I see" in for_bob["text"] and f"({target}: 10%)" in for_bob["text"], "Bob's miss got its verdict"

        over = await fake.wait_for("sendPhoto", in_chat(group, "Game over"), timeout=5)
        assert "🥇 Cy: 1 point" in over["caption"]
        await asyncio.sleep(2.1)  # the API's own pace for sends
        status, body, _ = await call(app, "/api/send", engine.sees(drawing(), target, 0.9), init_data)
        assert status == 409 and "round is over" in body["error"]
        assert len(fake.calls("getFile")) == 1, "only Bob's photo is downloaded; canvas drawings come with their bytes"
        sent_to_group = [c for c in fake.all_calls if c.params.get("chat_id") == group["id"] and c.status == 200]
        counted = [c for c in sent_to_group if c.method in ("sendMessage", "sendPhoto")]
        assert len(services_of(app).budgets.for_chat(group["id"]).sent) == len(counted), "photos count in the budget"


async def test_game_messages_lost_in_an_outage_are_delivered_and_the_next_round_waits_for_them(fake, db_path):
    """Telegram refuses every message for a stretch mid-game: round 1's result and round 2's announcement
    are retried until delivered (folded into one message), and round 2's clock starts only then."""
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    async with game_bot(fake, db_path, ScriptedEngine(), warning_s=0.5):
        fake.send_text(group, ada, "/game 2 2")
        first = await fake.wait_for_call("sendMessage", in_chat(group, "Round 1/2"))
        fake.fail_next("sendMessage", "drop", count=None)  # the outage: from round 1's middle past its end
        await asyncio.sleep(4.0)
        failed = [c for c in fake.all_calls if c.method == "sendMessage" and c.status == "drop"]
        assert failed, "the bot tried to speak during the outage"
        fake.clear_faults()
        back = time.time()
        delivered = await fake.wait_for_call("sendMessage", in_chat(group, "Round 2/2"), timeout=20)
        while delivered.status != 200:  # attempts made during the outage come first
            delivered = await fake.wait_for_call("sendMessage", in_chat(group, "Round 2/2"), timeout=20)
        assert delivered.at - back < RETRY_MAX_S + 1
        assert "Time's up" in delivered.params["text"] or "Nobody" in delivered.params["text"], "round 1's result"
        assert delivered.params["text"].index("Round 2/2") > 0, "the result comes first, the announcement after"
        end = await fake.wait_for_call("sendMessage", in_chat(group, "Game over"), timeout=10)
        assert end.at - delivered.at >= 2.0, "round 2 ran its full time after its announcement was seen"
        fake.ignore(
            "sendMessage", in_chat(group, "⏳")
        )  # warnings are never retried: whether one came depends on timing
        assert first.at < back


async def test_a_round_ends_even_when_the_bot_was_stalled_past_its_deadline(fake, db_path):
    """A busy machine holds the event loop past a round's end by more than a second: the round still ends
    (APScheduler's default would drop a job that late, leaving the game open for good)."""
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        await start(fake, group, ada, "1 2")
        await asyncio.sleep(0.5)  # the round's end is scheduled once its announcement is out
        time.sleep(3.5)  # noqa: ASYNC251 - the stall under test: nothing on the loop runs meanwhile
        await fake.wait_for("sendMessage", in_chat(group, "Time's up"), timeout=5)
