"""Bot API faults injected by the fake server: the bot retries what is safe, never
answers twice, never loses a labels change, and recovers when the server does."""

import pytest
from helpers.bot import running_bot, settings_for
from helpers.pictures import png_bytes

from bot.i18n import ENGLISH
from bot.replies import DOWNLOAD_FAILED_TEXT
from bot.store import Store
from toonzoo_tools.fake_bot_api import FakeBotApi


def guess_replies(fake: FakeBotApi) -> list:
    return [c for c in fake.all_calls if c.method == "sendMessage" and c.status == 200 and "%" in c.params["text"]]


@pytest.mark.slow
async def test_polling_survives_server_errors_and_dropped_connections(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        fake.fail_next("getUpdates", 500, count=2)
        fake.fail_next("getUpdates", "drop")
        fake.fail_next("getUpdates", 502)
        fake.send_photo(chat, ada, png_bytes())
        reply = await fake.wait_for("sendMessage", timeout=30)
        assert reply["text"].count("%") == 3
        statuses = [c.status for c in fake.all_calls if c.method == "getUpdates"]
        assert 500 in statuses and "drop" in statuses and 502 in statuses
        assert len(guess_replies(fake)) == 1


async def test_download_faults_are_retried_once_answered_once(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        # The fault is set before the bot reads the update: the first download fails.
        fake.set_file_fault(photo["photo"][-1]["file_id"], 500, count=1)
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert reply["text"].count("%") == 3
        downloads = [c.status for c in fake.all_calls if c.method == "download"]
        assert downloads == [500, 200]
        await fake.expect_no_call("sendMessage")


async def test_download_that_keeps_failing_gets_a_clear_reply(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        fake.set_file_fault(photo["photo"][-1]["file_id"], "drop", count=None)
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert reply["text"] == DOWNLOAD_FAILED_TEXT(ENGLISH)
        assert [c.status for c in fake.all_calls if c.method == "download"] == ["drop"] * 3
        fake.clear_faults()
        fake.send_photo(chat, ada, png_bytes())
        assert (await fake.wait_for("sendMessage", timeout=20))["text"].count("%") == 3


async def test_flood_limit_429_is_waited_out_and_sent_once(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        fake.fail_next("sendMessage", 429, retry_after=1)
        fake.send_photo(chat, ada, png_bytes())
        reply = await fake.wait_for_call("sendMessage", lambda p: "%" in p["text"], timeout=20)
        assert reply.status == 429
        second = await fake.wait_for_call("sendMessage", lambda p: "%" in p["text"], timeout=20)
        assert second.status == 200
        await fake.expect_no_call("sendMessage")
        assert len(guess_replies(fake)) == 1


async def test_labels_change_is_kept_when_the_confirmation_fails(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    db_path = tmp_path / "db"
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.fail_next("sendMessage", 500, count=2)  # "preparing…" and the confirmation both fail
        fake.send_text(chat, ada, "/labels kite, boat, tree")
        await fake.wait_for_call("sendMessage", timeout=20)
        fake.send_text(chat, ada, "/labels")
        shown = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("I choose"), timeout=20)
        assert "kite, boat, tree" in shown["text"]
    with Store(db_path) as store:
        assert store.get_labels(chat["id"]) == ["kite", "boat", "tree"]


async def test_reply_to_a_deleted_message_is_sent_without_the_reply(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        fake.delete_message(chat, photo["message_id"])  # deleted while the bot is still working
        reply = await fake.wait_for_call("sendMessage", timeout=20)
        assert reply.status == 200 and reply.params["text"].count("%") == 3
        assert reply.params["reply_parameters"]["message_id"] == photo["message_id"]
        assert "reply_to_message" not in reply.result


async def test_truncated_download_is_noticed_and_fetched_again(fake, tmp_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, tmp_path / "db"), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        fake.set_file_fault(photo["photo"][-1]["file_id"], "truncate", count=1)
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert reply["text"].count("%") == 3
        assert [c.status for c in fake.all_calls if c.method == "download"] == ["truncate", 200]
