"""The bot end to end: real PTB HTTP stack and polling against a local fake Bot API, tiny CLIP."""

from helpers.bot import guessed_labels, running_bot, settings_for
from helpers.pictures import png_bytes, webp_bytes

from bot.i18n import ENGLISH
from bot.replies import PREPARING_TEXT
from classifier.prompts import DEFAULT_LABELS


async def test_start_registers_commands_and_help(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        commands = fake.calls("setMyCommands")
        assert commands and {c["command"] for c in commands[0]["commands"]} >= {"labels", "guess", "help"}
        fake.send_text(chat, ada, "/start")
        greeting = await fake.wait_for("sendMessage")
        assert "Hi Ada" in greeting["text"]
        fake.send_text(chat, ada, "/help")
        help_text = (await fake.wait_for("sendMessage"))["text"]
        assert "/labels" in help_text and "/guess" in help_text


async def test_photo_gets_three_guesses_as_a_reply(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        photo = fake.send_photo(chat, ada, png_bytes())
        reply = await fake.wait_for("sendMessage")
        labels = guessed_labels(reply["text"])
        assert len(labels) == 3 and set(labels) <= set(DEFAULT_LABELS)
        assert reply["reply_parameters"]["message_id"] == photo["message_id"]
        assert fake.calls("sendChatAction")
        downloads = fake.calls("download")
        assert downloads, "the picture was downloaded"


async def test_labels_set_then_used_and_survive_restart(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ada, "/labels robot, rocket, castle, dragon")
        assert (await fake.wait_for("sendMessage"))["text"] == PREPARING_TEXT(ENGLISH)
        done = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        assert "robot" in done["text"]
        fake.send_photo(chat, ada, png_bytes(colour=(10, 10, 240)))
        reply = await fake.wait_for("sendMessage", lambda p: "%" in p["text"])
        assert set(guessed_labels(reply["text"])) <= {"robot", "rocket", "castle", "dragon"}

    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ada, "/labels")
        shown = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("I choose between"))
        assert "robot, rocket, castle, dragon" in shown["text"]
        fake.send_photo(chat, ada, png_bytes())
        reply = await fake.wait_for("sendMessage", lambda p: "%" in p["text"])
        assert set(guessed_labels(reply["text"])) <= {"robot", "rocket", "castle", "dragon"}


async def test_bad_labels_are_explained_and_list_is_kept(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ada, "/labels onlyone")
        refusal = await fake.wait_for("sendMessage")
        assert "at least 2" in refusal["text"]
        fake.send_text(chat, ada, "/labels cat, " + "x" * 60)
        refusal = await fake.wait_for("sendMessage")
        assert "40" in refusal["text"]
        fake.send_text(chat, ada, "/labels")
        shown = await fake.wait_for("sendMessage")
        assert "default" in shown["text"]


async def test_labels_add_remove_reset(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(chat, ada, "/labels cat, dog")
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        fake.send_text(chat, ada, "/labels add owl")
        added = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        assert "cat, dog, owl" in added["text"]
        fake.send_text(chat, ada, "/labels remove dog")
        removed = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        assert "cat, owl" in removed["text"]
        fake.send_text(chat, ada, "/labels reset")
        reset = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        assert f"{len(DEFAULT_LABELS)} labels" in reset["text"]


async def test_image_document_and_static_sticker(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_document(chat, ada, png_bytes(), "image/png", "drawing.png")
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3
        fake.send_sticker(chat, ada, webp_bytes())
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3


async def test_animated_sticker_uses_thumbnail_or_says_it_cannot(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_sticker(chat, ada, b"\x1f\x8b gzipped lottie", is_animated=True, thumbnail=webp_bytes())
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3
        fake.send_sticker(chat, ada, b"webm bytes", is_video=True)
        polite = await fake.wait_for("sendMessage")
        assert "can't" in polite["text"] and "%" not in polite["text"]
        fake.send_animation(chat, ada, b"mp4", thumbnail=png_bytes())
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3


async def test_corrupt_image_gets_friendly_error_and_bot_keeps_serving(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_document(chat, ada, png_bytes()[:60], "image/png", "broken.png")
        error = await fake.wait_for("sendMessage")
        assert "damaged" in error["text"] or "couldn't read" in error["text"]
        assert "Traceback" not in error["text"]
        fake.send_document(chat, ada, b"%PDF-1.4 ...", "application/pdf", "doc.pdf")
        assert "only look at pictures" in (await fake.wait_for("sendMessage"))["text"]
        fake.send_photo(chat, ada, png_bytes())
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3


async def test_too_big_file_is_refused_before_download(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_document(chat, ada, png_bytes(), "image/png", "huge.png", file_size=25 * 1024 * 1024)
        reply = await fake.wait_for("sendMessage")
        assert "too big" in reply["text"]
        assert not fake.calls("download")


async def test_group_non_admin_cannot_change_labels(fake, db_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(group, bob, "/labels@toonzoo_test_bot moon, sun")
        refusal = await fake.wait_for("sendMessage")
        assert "admins" in refusal["text"]
        assert fake.calls("getChatMember")
        fake.send_text(group, bob, "/labels")
        assert "default" in (await fake.wait_for("sendMessage"))["text"]
        fake.send_text(group, ada, "/labels moon, sun")
        assert (await fake.wait_for("sendMessage"))["text"] == PREPARING_TEXT(ENGLISH)
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))


async def test_group_pictures_need_to_address_the_bot(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_photo(group, ada, png_bytes(), caption="look at my holiday")
        await fake.expect_no_call("sendMessage")
        fake.send_photo(group, ada, png_bytes(), caption="what is this @toonzoo_test_bot?")
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3
        fake.send_photo(group, ada, png_bytes(), caption="/guess")
        assert len(guessed_labels((await fake.wait_for("sendMessage"))["text"])) == 3


async def test_guess_as_reply_to_a_picture(fake, db_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "member"), (bob, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        photo = fake.send_photo(group, ada, png_bytes())
        await fake.expect_no_call("sendMessage")
        fake.send_text(group, bob, "/guess", reply_to=photo)
        reply = await fake.wait_for("sendMessage")
        assert len(guessed_labels(reply["text"])) == 3
        assert reply["reply_parameters"]["message_id"] == photo["message_id"]
        fake.send_text(group, bob, "/guess")
        assert "Reply to a picture" in (await fake.wait_for("sendMessage"))["text"]


async def test_a_photo_reads_its_chat_once(fake, db_path, tiny_classifier):
    """A photo's way to its guesses reads the chat's row (labels and language) once, not once per step."""
    from bot.context import services_of

    ada = fake.add_user("Ada", language_code="es")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier) as app:
        fake.send_photo(chat, ada, png_bytes())  # the first picture also loads the taught pictures (none)
        await fake.wait_for("sendMessage", lambda p: "%" in p["text"])
        statements: list[str] = []
        services_of(app).store.db.conn.set_trace_callback(statements.append)
        fake.send_photo(chat, ada, png_bytes(colour=(20, 200, 20)))
        await fake.wait_for("sendMessage", lambda p: "%" in p["text"])
        services_of(app).store.db.conn.set_trace_callback(None)
    reads = [s for s in statements if s.lstrip().lower().startswith("select") and "chats" in s]
    assert len(reads) == 1, statements
