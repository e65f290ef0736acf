"""Privacy: no images on disk, chats see only their own data, the token never reaches logs."""

import io
import logging
import os

import pytest

from bot.cli import install_redaction
from bot_harness import png_bytes, running_bot, settings_for
from fake_bot_api import DEFAULT_TOKEN, FakeBotApi


@pytest.fixture
async def fake():
    async with FakeBotApi() as server:
        yield server


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
        content = open(path, "rb").read()
        assert picture not in content and picture[8:64] not in content


async def test_labels_are_per_chat(fake, tmp_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    ada_chat, bob_chat = fake.add_private_chat(ada), fake.add_private_chat(bob)
    async with running_bot(fake, settings_for(fake, tmp_path / "toonzoo.db"), tiny_classifier):
        fake.send_text(ada_chat, ada, "/labels secret one, secret two")
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
