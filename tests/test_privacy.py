"""Privacy: no images on disk, chats see only their own data, the token never reaches logs."""

import io
import logging
import os
from pathlib import Path

from helpers.bot import running_bot, settings_for
from helpers.pictures import png_bytes

from bot.cli import install_redaction
from bot.i18n import ENGLISH
from bot.replies import PREPARING_TEXT
from toonzoo_tools.fake_bot_api import DEFAULT_TOKEN


def all_files(root):
    return {os.path.join(d, f) for d, _, files in os.walk(root) for f in files}


async def test_pictures_are_never_written_to_disk_or_database(fake, tmp_path, tiny_classifier, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    picture = png_bytes(size=(97, 61), colour=(1, 2, 3))
    before = all_files(tmp_path)
    async with running_bot(fake, settings_for(fake, tmp_path / "toonzoo.db"), tiny_classifier):
        fake.send_photo(chat, ada, picture)
        assert (await fake.wait_for("sendMessage"))["text"].count("%") == 3
    created = all_files(tmp_path) - before
    assert {os.path.basename(p) for p in created} <= {"toonzoo.db", "toonzoo.db-wal", "toonzoo.db-shm"}
    for path in created:
        content = Path(path).read_bytes()  # noqa: ASYNC240 - the bot has stopped: nothing else runs on the loop
        assert picture not in content and picture[8:64] not in content


async def test_labels_are_per_chat(fake, tmp_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    ada_chat, bob_chat = fake.add_private_chat(ada), fake.add_private_chat(bob)
    async with running_bot(fake, settings_for(fake, tmp_path / "toonzoo.db"), tiny_classifier):
        fake.send_text(ada_chat, ada, "/labels secret one, secret two")
        assert (await fake.wait_for("sendMessage"))["text"] == PREPARING_TEXT(ENGLISH)
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        fake.send_text(bob_chat, bob, "/labels")
        shown = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == bob_chat["id"])
        assert "secret" not in shown["text"] and "default" in shown["text"]
        fake.send_photo(bob_chat, bob, png_bytes())
        guesses = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == bob_chat["id"])
        assert "secret" not in guesses["text"]


def test_token_is_redacted_from_every_log_record():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        install_redaction(DEFAULT_TOKEN)
        url = f"https://api.telegram.org/bot{DEFAULT_TOKEN}/getUpdates"
        logging.getLogger("httpx").warning("HTTP Request: POST %s", url)
        try:
            raise RuntimeError(f"request to {url} failed")
        except RuntimeError:
            logging.getLogger("telegram.ext").exception("polling failed")
    finally:
        root.removeHandler(handler)
        for existing in root.handlers:
            existing.filters = [f for f in existing.filters if type(f).__name__ != "RedactSecrets"]
    text = stream.getvalue()
    assert "getUpdates" in text and "polling failed" in text and "RuntimeError" in text
    assert DEFAULT_TOKEN not in text and DEFAULT_TOKEN.split(":")[1] not in text


def buttons(params):
    return [b for row in params["reply_markup"]["inline_keyboard"] for b in row]


async def test_forget_erases_the_chat_after_confirmation(fake, tmp_path, tiny_classifier):
    from bot.store import Store

    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    ada_chat, bob_chat = fake.add_private_chat(ada), fake.add_private_chat(bob)
    db_path = tmp_path / "toonzoo.db"
    fake.ignore("sendMessage", lambda p: p["text"] == PREPARING_TEXT(ENGLISH))  # setting up: the labels' progress note
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        for chat, user in ((ada_chat, ada), (bob_chat, bob)):
            fake.send_text(chat, user, "/labels kite, boat")
            await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        fake.send_text(ada_chat, ada, "/forget")
        question = await fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        no = next(b for b in buttons(question) if b["text"] == "Cancel")
        sent = next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is question)
        fake.press_button(ada_chat, ada, sent.result["message_id"], no["callback_data"])
        assert (await fake.wait_for("editMessageText"))["text"] == "Nothing was erased."
        assert Store(db_path).get_labels(ada_chat["id"]) == ["kite", "boat"]

        fake.send_text(ada_chat, ada, "/forget")
        question = await fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        sent = next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is question)
        yes = next(b for b in buttons(question) if b["text"] == "Yes, erase")
        fake.press_button(ada_chat, ada, sent.result["message_id"], yes["callback_data"])
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
    with Store(db_path) as store:
        assert store.get_labels(ada_chat["id"]) is None
        assert store.get_labels(bob_chat["id"]) == ["kite", "boat"]


async def test_forget_in_a_group_is_for_admins_and_the_asker(fake, tmp_path, tiny_classifier):
    from bot.store import Store

    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "administrator"), (bob, "member"), (cy, "member")])
    db_path = tmp_path / "toonzoo.db"
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(group, ada, "/labels kite, boat")
        assert (await fake.wait_for("sendMessage"))["text"] == PREPARING_TEXT(ENGLISH)
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        fake.send_text(group, bob, "/forget")
        assert await fake.wait_for("sendMessage", lambda p: "admins" in p["text"])
        fake.send_text(group, ada, "/forget")
        question = await fake.wait_for("sendMessage", lambda p: "reply_markup" in p)
        sent = next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is question)
        yes = next(b for b in buttons(question) if b["text"] == "Yes, erase")
        fake.press_button(group, cy, sent.result["message_id"], yes["callback_data"])
        refused = await fake.wait_for("answerCallbackQuery")
        assert refused.get("show_alert") is True
        assert Store(db_path).get_labels(group["id"]) == ["kite", "boat"]
        fake.press_button(group, ada, sent.result["message_id"], yes["callback_data"])
        assert "erased" in (await fake.wait_for("editMessageText"))["text"]
    assert Store(db_path).get_labels(group["id"]) is None
