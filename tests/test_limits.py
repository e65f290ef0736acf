"""Telegram's text limits, end to end: the fake Bot API refuses what Telegram refuses."""

from helpers.bot import ScriptedEngine, game_bot, in_chat

from bot.replies import MESSAGE_LIMIT, text_length
from bot.store import Store


async def test_labels_reply_with_100_long_labels_fits_one_message(fake, db_path):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    labels = [f"{i:03d} " + "🐈" * 36 for i in range(50)] + [f"{i:03d}" + "x" * 37 for i in range(50)]
    async with game_bot(fake, db_path, ScriptedEngine()):
        fake.send_text(chat, ada, "/labels " + "\n".join(labels))
        done = await fake.wait_for("sendMessage", in_chat(chat, "Done"))
        assert text_length(done["text"]) <= MESSAGE_LIMIT and " more" in done["text"]
        assert done["text"].endswith("/labels add, remove, reset.")
        fake.send_text(chat, ada, "/labels")
        shown = await fake.wait_for("sendMessage", in_chat(chat, "I choose between 100 labels"))
        assert text_length(shown["text"]) <= MESSAGE_LIMIT
    assert Store(db_path).get_labels(chat["id"]) == labels


async def test_every_text_the_bot_sends_is_fitted_in_one_place(fake, db_path):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with game_bot(fake, db_path, ScriptedEngine()) as application:
        sent = await application.bot.send_message(chat["id"], "word " * 1000)
        assert text_length(sent.text) <= MESSAGE_LIMIT and sent.text.endswith("word…")
        edited = await application.bot.edit_message_text("🐈" * 3000, chat_id=chat["id"], message_id=sent.message_id)
        assert text_length(edited.text) <= MESSAGE_LIMIT
        assert not [call for call in fake.all_calls if call.method == "sendMessage" and call.status != 200]
        assert [p["text"] for p in fake.calls("sendMessage")] == [sent.text]
        assert [p["text"] for p in fake.calls("editMessageText")] == [edited.text]
