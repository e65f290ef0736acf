"""The gallery and the leaderboards by period, end to end: real PTB stack and SQLite against the fake Bot API.

A scripted engine decides what the model sees in each picture, so the test
chooses which drawing each round keeps.
"""

import io

from PIL import Image
from test_gallery import held_by_tile, pattern, tile_pictures
from test_game_e2e import ScriptedEngine, game_bot, in_chat, other_than, replying_to, start, target_of

from bot.context import games_of
from bot.gallery import plan_layout


async def test_a_game_ends_with_one_photo_showing_each_round(fake, db_path):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Сергей")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    engine = ScriptedEngine()
    drawings = [pattern(seed) for seed in range(4)]
    async with game_bot(fake, db_path, engine) as app:
        fake.ignore("sendMessage", lambda p: p["chat_id"] == group["id"] and "Round " not in p["text"])
        _, target = await start(fake, group, ada, "3 2")

        # round 1: a miss, then Сергей's winning drawing
        miss = fake.send_photo(group, bob, engine.sees(drawings[0], other_than(target), 0.7, **{target: 0.1}))
        await fake.wait_for("sendMessage", replying_to(miss))
        hit = fake.send_photo(group, cy, engine.sees(drawings[1], target, 0.8))
        await fake.wait_for("sendMessage", replying_to(hit))
        assert games_of(app).drawings.games(), "held while the game runs"

        # round 2: nobody wins; Bob's try came closest (but not close enough)
        _, target2 = target_of((await fake.wait_for("sendMessage", in_chat(group, "Round 2/3")))["text"])
        fake.send_photo(group, cy, engine.sees(drawings[2], other_than(target2), 0.7, **{target2: 0.05}))
        fake.send_photo(group, bob, engine.sees(drawings[3], other_than(target2), 0.7, **{target2: 0.2}))
        # (their verdicts go out as replies, or folded into the next message, as the group's budget allows)

        # round 3: nobody draws
        await fake.wait_for("sendMessage", in_chat(group, "Round 3/3"))
        end = await fake.wait_for("sendPhoto", in_chat(group, "🏁 Game over!"), timeout=10)
        assert "🥇 Сергей: 1 point" in end["caption"] and "Time's up" in end["caption"]
        assert len([c for c in fake.calls("sendPhoto") if c["chat_id"] == group["id"]]) == 1, "one photo, one message"
        assert games_of(app).drawings.games() == [], "the drawings are dropped once the gallery is posted"

        image = Image.open(io.BytesIO(end["photo"]))
        layout = plan_layout(3, 2)  # three rounds; Сергей and Bob played
        assert image.size == layout.size == (1280, layout.size[1])
        shown = held_by_tile(tile_pictures(end["photo"], layout), [*drawings, None])
        assert shown == [1, 3, None], "the winner, the best try, nothing"
        assert len(fake.calls("getFile")) == 4 + 2, "four judged, then the two kept fetched again"
        await fake.expect_no_call("sendPhoto", within=0.5)


async def test_a_game_nobody_drew_in_ends_in_text(fake, db_path):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        await start(fake, group, ada, "1 30")
        fake.send_text(group, ada, "/stop")
        stopped = await fake.wait_for("sendMessage", in_chat(group, "🛑"))
        assert stopped["text"].startswith("🛑 Game stopped by Ada.") and "Nobody scored" in stopped["text"]
        await fake.expect_no_call("sendPhoto", within=0.5)


async def test_score_by_period_and_my_own(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob", language_code="ru")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "1 30")
        hit = fake.send_photo(group, bob, engine.sees(pattern(9), target, 0.9))
        await fake.wait_for("sendMessage", replying_to(hit))
        await fake.wait_for("sendPhoto", in_chat(group, "🏁"))

        for args, head in (
            ("week", "🏆 This week's scores (since Monday, UTC):"),
            ("today", "🏆 Today's scores (UTC):"),
        ):
            fake.send_text(group, ada, f"/score {args}")
            board = (await fake.wait_for("sendMessage", in_chat(group, head)))["text"]
            assert board.splitlines()[1].startswith("🥇 Bob: 1 point")
        fake.send_text(group, bob, "/score me")  # in Bob's language
        mine = (await fake.wait_for("sendMessage", in_chat(group, "📊")))["text"]
        assert mine.splitlines()[:2] == ["📊 Bob в этом чате:", "🏆 1 выигранный раунд"]
        assert mine.splitlines()[-1] == "🔥 1 день подряд с победой"
        fake.send_text(group, ada, "/score me")
        assert (await fake.wait_for("sendMessage", in_chat(group, "Ada:")))["text"].startswith(
            "Ada: no wins in this chat yet."
        )
        fake.send_text(group, ada, "/score month")
        usage = await fake.wait_for("sendMessage", in_chat(group, "Usage"))
        assert usage["text"] == "Usage: /score, /score week, /score today, /score me"
        fake.send_text(group, ada, "/help")
        assert (
            "Days and weeks follow UTC" in (await fake.wait_for("sendMessage", in_chat(group, "/score week")))["text"]
        )
