"""Messages beyond a single new picture, end to end: edits, albums, files Telegram
no longer knows, untyped files, and everything else people send (voice, unknown
commands, adding the bot to a group)."""

import pytest
from helpers.bot import (
    ScriptedEngine,
    drawing,
    game_bot,
    guessed_labels,
    in_chat,
    replying_to,
    running_bot,
    settings_for,
    start,
)
from helpers.pictures import png_bytes

from bot import replies
from bot.i18n import ENGLISH as EN

BOT = "@toonzoo_test_bot"


def is_guess(params: dict) -> bool:
    return "%" in params["text"]


# -- edits ---------------------------------------------------------------------------


async def test_editing_an_answered_caption_gets_no_new_guesses(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "member")])
    private = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        photo = fake.send_photo(group, ada, png_bytes(), caption=f"what is it {BOT}?")
        for n in range(3):  # edited before and after the answer
            fake.edit_message(group, ada, photo["message_id"], caption=f"what is it {BOT}? (edit {n})")
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert len(guessed_labels(reply["text"])) == 3
        assert reply["reply_parameters"]["message_id"] == photo["message_id"]
        fake.edit_message(group, ada, photo["message_id"], caption=f"{BOT} again?")
        await fake.expect_no_call("sendMessage")

        mine = fake.send_photo(private, ada, png_bytes(), caption="my cat")
        await fake.wait_for("sendMessage", is_guess, timeout=20)
        for n in range(3):
            fake.edit_message(private, ada, mine["message_id"], caption=f"my cat {n}")
        text = fake.send_text(private, ada, "hello")
        await fake.wait_for("sendMessage", lambda p: p["text"] == replies.NOTHING_TO_GUESS_TEXT(EN))
        fake.edit_message(private, ada, text["message_id"], text="hello there")
        await fake.expect_no_call("sendMessage")


async def test_an_edit_that_newly_addresses_the_bot_gets_one_answer(fake, db_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "member"), (bob, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        photo = fake.send_photo(group, ada, png_bytes(), caption="my holiday")
        await fake.expect_no_call("sendMessage")
        fake.edit_message(group, ada, photo["message_id"], caption=f"my holiday, {BOT} what is it?")
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert len(guessed_labels(reply["text"])) == 3
        assert reply["reply_parameters"]["message_id"] == photo["message_id"]
        fake.edit_message(group, ada, photo["message_id"], caption=f"{BOT} what is it??")
        await fake.expect_no_call("sendMessage")

        # An edited /guess command answers once too.
        other = fake.send_photo(group, ada, png_bytes(colour=(0, 0, 200)))
        command = fake.send_text(group, bob, "/guess", reply_to=other)
        await fake.wait_for("sendMessage", is_guess, timeout=20)
        fake.edit_message(group, bob, command["message_id"], text="/guess please")
        await fake.expect_no_call("sendMessage")


# -- albums --------------------------------------------------------------------------


async def test_group_album_addressed_by_its_caption_gets_one_reply_for_every_photo(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
        album = fake.send_album(group, ada, [png_bytes(colour=c) for c in colours], caption=f"{BOT} guess these")
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert reply["reply_parameters"]["message_id"] == album[0]["message_id"]
        sections = reply["text"].split("\n\n")
        assert [section.split(" ", 1)[0] for section in sections] == ["1.", "2.", "3."]
        assert all(len(guessed_labels(section)) == 3 for section in sections)
        assert len(reply["text"]) <= replies.MESSAGE_LIMIT
        downloads = {call["file_id"] for call in fake.calls("download")}
        assert downloads == {message["photo"][-1]["file_id"] for message in album}
        await fake.expect_no_call("sendMessage")

        fake.send_album(group, ada, [png_bytes(), png_bytes()], caption="our trip")
        await fake.expect_no_call("sendMessage")


async def test_private_album_gets_one_reply(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_album(chat, ada, [png_bytes(), png_bytes(colour=(0, 0, 0)), png_bytes(colour=(9, 9, 9))])
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert len(guessed_labels(reply["text"])) == 9
        assert reply["text"].startswith("1. ")
        await fake.expect_no_call("sendMessage")


async def test_album_photo_that_cannot_be_fetched_is_named_in_the_one_reply(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        album = fake.send_album(chat, ada, [png_bytes(), png_bytes()])
        fake.forget_file(album[1]["photo"][-1]["file_id"])
        reply = await fake.wait_for("sendMessage", timeout=20)
        first, second = reply["text"].split("\n\n")
        assert len(guessed_labels(first)) == 3
        assert second == f"2. {replies.DOWNLOAD_FAILED_TEXT(EN)}"
        await fake.expect_no_call("sendMessage")


# -- files ---------------------------------------------------------------------------


@pytest.mark.parametrize("description", [None, "Bad Request: wrong file_id or the file is temporarily unavailable"])
async def test_unknown_or_expired_file_id_asks_to_send_it_again(fake, db_path, tiny_classifier, description):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        if description is None:
            fake.forget_file(photo["photo"][-1]["file_id"])  # getFile: "Bad Request: invalid file_id"
        else:
            fake.fail_next("getFile", 400, description=description)
        reply = await fake.wait_for("sendMessage", timeout=20)
        assert reply["text"] == replies.DOWNLOAD_FAILED_TEXT(EN)
        assert len(fake.calls("getFile")) == 1, "a refused file_id is not retried"
        assert not fake.calls("download")


@pytest.mark.parametrize("mime_type", ["application/octet-stream", None])
async def test_png_sent_without_an_image_type_is_classified(fake, db_path, tiny_classifier, mime_type):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_document(chat, ada, png_bytes(), mime_type, "drawing")
        assert len(guessed_labels((await fake.wait_for("sendMessage", timeout=20))["text"])) == 3
        fake.send_document(chat, ada, b"\x00\x01 not a picture at all", mime_type, "data.bin")
        refusal = await fake.wait_for("sendMessage", timeout=20)
        assert "doesn't look like a picture" in refusal["text"]


async def test_video_audio_and_pdf_documents_are_declined_without_download(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        for mime_type, name in (("video/mp4", "clip.mp4"), ("audio/mpeg", "song.mp3"), ("application/pdf", "a.pdf")):
            fake.send_document(chat, ada, png_bytes(), mime_type, name)
            assert (await fake.wait_for("sendMessage"))["text"] == replies.UNSUPPORTED_FILE_TEXT(EN)
        assert not fake.calls("getFile")


# -- no more silence -------------------------------------------------------------------


async def test_unknown_command_in_a_private_chat_points_at_help(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    group = fake.add_group("Zoo", [(ada, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ada, "/foo")
        reply = await fake.wait_for("sendMessage")
        assert reply["text"] == replies.UNKNOWN_COMMAND_TEXT(EN) and "/help" in reply["text"]
        fake.send_text(chat, ada, "/help")
        assert (await fake.wait_for("sendMessage"))["text"] == replies.build_help_text(EN)
        fake.send_text(group, ada, "/foo")  # in groups, commands may be for other bots
        await fake.expect_no_call("sendMessage")


@pytest.mark.parametrize("kind", ["voice", "video", "video_note", "audio", "location", "contact", "poll"])
async def test_other_messages_in_a_private_chat_get_a_hint(fake, db_path, tiny_classifier, kind):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    group = fake.add_group("Zoo", [(ada, "member")])

    def send(where):
        if kind in ("location", "contact", "poll"):
            return getattr(fake, f"send_{kind}")(where, ada)
        return fake.send_media(where, ada, kind)

    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        message = send(chat)
        reply = await fake.wait_for("sendMessage")
        assert reply["text"] == replies.NOT_A_PICTURE_TEXT(EN)
        assert reply["reply_parameters"]["message_id"] == message["message_id"]
        send(group)
        await fake.expect_no_call("sendMessage")


@pytest.mark.parametrize(
    "updates", [("my_chat_member", "message"), ("message", "my_chat_member"), ("my_chat_member",), ("message",)]
)
async def test_being_added_to_a_group_greets_it_once(fake, db_path, tiny_classifier, updates):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")], bot_status="left")
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.add_bot_to_group(group, ada, updates=updates)
        greeting = await fake.wait_for("sendMessage")
        assert greeting["chat_id"] == group["id"]
        assert greeting["text"] == replies.build_group_greeting(EN, "toonzoo_test_bot")
        await fake.expect_no_call("sendMessage")
        fake.add_bot_to_group(group, ada, status="administrator", updates=("my_chat_member",))  # promoted
        await fake.expect_no_call("sendMessage")


async def test_the_game_judges_only_files_typed_as_pictures(fake, db_path):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = ScriptedEngine()
    async with game_bot(fake, db_path, engine):
        _, target = await start(fake, group, ada, "1 30")
        fake.send_document(group, bob, engine.sees(drawing(), target, 0.9), "application/octet-stream", "x.bin")
        await fake.expect_no_call("sendMessage", in_chat(group))
        assert not engine.classified
        typed = fake.send_document(group, bob, engine.sees(drawing(), target, 0.9), "image/png", "x.png")
        assert "🎉" in (await fake.wait_for("sendMessage", replying_to(typed)))["text"]
        assert "🥇 Bob: 1 point" in (await fake.wait_for("sendPhoto", in_chat(group, "🏁 Game over!")))["caption"]
