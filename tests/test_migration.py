"""A group upgraded to a supergroup keeps its labels, games, scores and running game under the new id."""

import random

import pytest
from helpers.bot import ScriptedEngine, ask_forget, drawing, game_bot, in_chat, play_one_round, replying_to, start

from bot.game import Player, start_game
from bot.store import Store


def rows_of(db_path, chat_id) -> dict[str, int]:
    with Store(db_path) as store:
        return {
            table.name: store.db.execute(
                f"SELECT COUNT(*) FROM [{table.name}] WHERE chat_id = ?", [chat_id]
            ).fetchone()[0]
            for table in store.db.tables
            if "chat_id" in table.columns_dict
        }


@pytest.mark.parametrize("notify", [("to", "from"), ("from",), ("to",)], ids=["both", "from-only", "to-only"])
async def test_upgrade_to_supergroup_moves_everything(fake, db_path, notify):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")], supergroup=False)
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        await play_one_round(fake, engine, group, ada, bob)
        _, target = await start(fake, group, ada, "2 10")
        fake.send_text(group, ada, "/labels kite, boat")
        await fake.wait_for("sendMessage", in_chat(group, "Done"))

        supergroup = fake.migrate_group(group, ada, notify=notify)
        fake.send_text(supergroup, bob, "/labels")
        assert "kite, boat" in (await fake.wait_for("sendMessage", in_chat(supergroup)))["text"]
        hit = fake.send_photo(supergroup, bob, engine.sees(drawing(), target, 0.9))  # the running round goes on
        assert "🎉 Bob wins the round" in (await fake.wait_for("sendMessage", replying_to(hit)))["text"]
        await fake.wait_for("sendMessage", in_chat(supergroup, "Round 2/2"))  # its timer moved too
        fake.send_text(supergroup, ada, "/score")
        assert "Bob: 2 points" in (await fake.wait_for("sendMessage", in_chat(supergroup, "All-time")))["text"]
        assert rows_of(db_path, group["id"]) == dict.fromkeys(rows_of(db_path, group["id"]), 0)

        prompt = await ask_forget(fake, supergroup, ada)
        fake.press_button(supergroup, ada, prompt, "forget:yes")
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
        await fake.expect_no_call("sendMessage", in_chat(supergroup, "Time's up"), within=0.5)
    assert set(rows_of(db_path, supergroup["id"]).values()) == {0}
    assert set(rows_of(db_path, group["id"]).values()) == {0}
    assert not [c for c in fake.all_calls if c.params.get("chat_id") == group["id"] and c.status != 200]


def test_move_chat_moves_every_table_once(store):
    store.set_labels(1, ["kite", "boat"], chat_type="group", title="Zoo")
    game, events = start_game(1, Player(5, "Ada"), ["kite", "boat"], 1, 30, 100.0, random.Random(1))
    store.save_game(game, events)
    assert store.move_chat(1, 2) == 3  # chats, games, rounds
    assert store.get_labels(1) is None and store.get_labels(2) == ["kite", "boat"]
    assert [g.chat_id for g in store.playing_games()] == [2]
    assert store.move_chat(1, 2) == 0  # the second service message finds nothing left
    assert store.get_labels(2) == ["kite", "boat"]


def test_move_chat_keeps_the_new_chats_own_labels(store):
    store.set_labels(1, ["kite", "boat"])
    store.set_labels(2, ["sun", "moon"])
    store.move_chat(1, 2)
    assert store.get_labels(2) == ["sun", "moon"] and store.get_labels(1) is None
    store.set_labels(3, ["kite", "boat"])
    store.set_labels(4, ["x", "y"])
    store.reset_labels(4)
    store.move_chat(3, 4)
    assert store.get_labels(4) == ["kite", "boat"]
    assert store.db.execute("SELECT COUNT(*) FROM chats").fetchone()[0] == 2
