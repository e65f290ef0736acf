"""Who the group sees named: players' names made safe, anonymous admins, the labels' source."""

from helpers.bot import ScriptedEngine, drawing, game_bot, in_chat, replying_to, start

BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


async def test_a_name_with_direction_controls_cannot_reverse_the_standings(fake, db_path):
    ada, eve = fake.add_user("Ada"), fake.add_user("\u202eEve\u2066\u200d")
    group = fake.add_group("Zoo", [(ada, "creator"), (eve, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "1 30")
        hit = fake.send_photo(group, eve, engine.sees(drawing(), target, 0.9))
        win = await fake.wait_for("sendMessage", replying_to(hit))
        assert win["text"].startswith("🎉 Eve wins the round") and not BIDI_CONTROLS & set(win["text"])
        over = await fake.wait_for("sendPhoto", in_chat(group, "🏁"))
        assert "🥇 Eve: 1 point" in over["caption"] and not BIDI_CONTROLS & set(over["caption"])
        fake.send_text(group, ada, "/score")
        board = await fake.wait_for("sendMessage", in_chat(group, "All-time"))
        assert "🥇 Eve: 1 point" in board["text"] and not BIDI_CONTROLS & set(board["text"])


async def test_an_anonymous_admin_is_not_named_after_the_group(fake, db_path):
    ada = fake.add_user("Ada")
    group = fake.add_group("cooldown", [(ada, "administrator")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        fake.send_text(group, ada, "/game 2 30", anonymous=True)
        await fake.wait_for("sendMessage", in_chat(group, "Round 1/2"))
        fake.send_text(group, ada, "/stop", anonymous=True)
        stopped = await fake.wait_for("sendMessage", in_chat(group, "🛑"))
        assert stopped["text"].startswith("🛑 Game stopped by Anonymous admin.")


async def test_labels_reset_says_they_are_the_defaults(fake, db_path):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with game_bot(fake, db_path, ScriptedEngine()):
        fake.send_text(chat, ada, "/labels kite, boat")
        assert "(set for this chat)" in (await fake.wait_for("sendMessage", in_chat(chat, "Done")))["text"]
        fake.send_text(chat, ada, "/labels reset")
        reset = await fake.wait_for("sendMessage", in_chat(chat, "Done"))
        assert "(the default ones)" in reset["text"] and "set for this chat" not in reset["text"]


async def test_game_counts_take_ascii_digits_only(fake, db_path):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")])
    async with game_bot(fake, db_path, ScriptedEngine()):
        for args in ("1_0", "٣", "+3", "3 ٤٥"):
            fake.send_text(group, ada, f"/game {args}")
            assert "Usage: /game" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
