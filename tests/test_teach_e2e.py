"""Teaching by corrections end to end: real PTB stack, tiny random CLIP, SQLite, the fake Bot API.

With random weights no picture looks like anything in particular, but the same
picture has the same embedding: once corrected, it gets the taught label.
"""

from helpers.bot import (
    guessed_labels,
    in_chat,
    running_bot,
    sent_message_id,
    settings_for,
    with_quick_budgets,
)
from helpers.pictures import png_bytes

from bot import teach_handlers
from bot.replies import get_emoji
from bot.store import Store
from classifier.prompts import DEFAULT_LABELS

MENTION = "@toonzoo_test_bot"


def buttons(params) -> list[tuple[str, str]]:
    """(text, callback data) of every inline button in a call's reply_markup."""
    rows = (params.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


async def guess(fake, chat, user, picture: bytes, caption: str | None = None) -> tuple[list[str], int, dict]:
    """Send ``picture``; the guessed labels, the reply's message id and its parameters."""
    fake.send_photo(chat, user, picture, caption=caption)
    reply = await fake.wait_for("sendMessage", lambda p: in_chat(chat)(p) and "%" in p["text"])
    return guessed_labels(reply["text"]), sent_message_id(fake, reply), reply


async def open_picker(fake, chat, user, reply_id: int) -> list[tuple[str, str]]:
    fake.press_button(chat, user, reply_id, "teach:fix")
    picker = await fake.wait_for("editMessageReplyMarkup", lambda p: p["message_id"] == reply_id)
    await fake.wait_for("answerCallbackQuery")
    return buttons(picker)


def label_button(picker, label: str) -> str:
    return next(data for text, data in picker if text.endswith(f" {label}"))


def taught_rows(db_path, chat_id) -> list[tuple]:
    with Store(db_path) as store:
        return store.db.execute("SELECT label, user_id FROM taught WHERE chat_id = ?", [chat_id]).fetchall()


async def test_a_corrected_picture_is_guessed_right_after_and_across_restarts_until_forgotten(
    fake, db_path, tiny_classifier
):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    chat, other_chat = fake.add_private_chat(ada), fake.add_private_chat(bob)
    picture = png_bytes(colour=(30, 160, 90))
    settings = settings_for(fake, db_path)
    async with running_bot(fake, settings, tiny_classifier):
        before, reply_id, reply = await guess(fake, chat, ada, picture)
        assert buttons(reply) == [("👍", "teach:ok"), ("✏️ Not right", "teach:fix")]
        picker = await open_picker(fake, chat, ada, reply_id)
        assert ("Other…", "teach:other") in picker and ("▶️", "teach:next") in picker
        assert all(data.startswith("teach:") and len(data) <= 64 for _, data in picker)
        right = next(label for label in DEFAULT_LABELS[:8] if label != before[0])  # not the top guess
        fake.press_button(chat, ada, reply_id, label_button(picker, right))
        done = await fake.wait_for("editMessageText", lambda p: p["message_id"] == reply_id)
        assert done["text"] == f"Got it: {right} {get_emoji(right)}. I'll remember this picture."
        assert "reply_markup" not in done  # the buttons are gone
        assert fake.unanswered_callback_queries == []

        after, _, _ = await guess(fake, chat, ada, picture)
        assert after[0] == right
        elsewhere, _, _ = await guess(fake, other_chat, bob, picture)  # another chat taught nothing
        assert elsewhere == before

    async with running_bot(fake, settings, tiny_classifier):  # a restart keeps what was taught
        again, _, _ = await guess(fake, chat, ada, picture)
        assert again[0] == right
        fake.send_text(chat, ada, "/labels")
        assert f"{right}: 1 taught drawing" in (await fake.wait_for("sendMessage", in_chat(chat, "taught")))["text"]

        fake.send_text(chat, ada, "/forget")  # its question and its answer say taught drawings go too
        question = await fake.wait_for("sendMessage", lambda p: in_chat(chat)(p) and "reply_markup" in p)
        assert "taught drawings" in question["text"]
        fake.press_button(chat, ada, sent_message_id(fake, question), "forget:yes")
        done = await fake.wait_for("editMessageText", lambda p: "erased" in p["text"])
        assert "taught drawings" in done["text"]
        assert taught_rows(db_path, chat["id"]) == []
        forgotten, _, _ = await guess(fake, chat, ada, picture)
        assert forgotten == before


async def test_in_a_group_only_the_sender_or_an_admin_may_correct(fake, db_path, tiny_classifier):
    ada, bob, cy = fake.add_user("Ada"), fake.add_user("Bob"), fake.add_user("Cy")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member"), (cy, "member")])
    picture = png_bytes(colour=(200, 120, 10))
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        before, reply_id, reply = await guess(fake, group, bob, picture, caption=MENTION)
        assert buttons(reply)  # answered alone: it has the buttons

        fake.press_button(group, cy, reply_id, "teach:fix")  # not the sender, not an admin
        refusal = await fake.wait_for("answerCallbackQuery")
        assert refusal["show_alert"] is True and "sent the picture" in refusal["text"]
        await fake.expect_no_call("editMessageReplyMarkup")

        picker = await open_picker(fake, group, bob, reply_id)  # the sender may
        right = next(label for label in DEFAULT_LABELS[:8] if label != before[0])
        fake.press_button(group, cy, reply_id, label_button(picker, right))
        assert (await fake.wait_for("answerCallbackQuery"))["show_alert"] is True
        fake.press_button(group, ada, reply_id, label_button(picker, right))  # an admin may
        assert "Got it" in (await fake.wait_for("editMessageText"))["text"]
        assert taught_rows(db_path, group["id"]) == [(right, ada["id"])]

        after, _, _ = await guess(fake, group, cy, picture, caption=MENTION)
        assert after[0] == right
        fake.send_text(group, cy, f"/labels untrain {right}")
        assert "Only the group's admins" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        fake.send_text(group, ada, f"/labels untrain {right}")
        assert "1 taught drawing forgotten" in (await fake.wait_for("sendMessage", in_chat(group)))["text"]
        assert taught_rows(db_path, group["id"]) == []
        assert fake.unanswered_callback_queries == []


async def test_a_press_after_a_restart_asks_for_the_picture_again(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    settings = settings_for(fake, db_path)
    async with running_bot(fake, settings, tiny_classifier):
        _, reply_id, _ = await guess(fake, chat, ada, png_bytes())
    async with running_bot(fake, settings, tiny_classifier):
        fake.press_button(chat, ada, reply_id, "teach:fix")
        answer = await fake.wait_for("answerCallbackQuery")
        assert "send it again" in answer["text"] and answer["show_alert"] is True
        await fake.expect_no_call("sendMessage")  # no "something went wrong"
    assert taught_rows(db_path, chat["id"]) == []


async def test_other_label_typed_by_an_admin_is_offered_added_and_taught(fake, db_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    picture = png_bytes(colour=(90, 20, 200))
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier, build=with_quick_budgets):
        _, reply_id, _ = await guess(fake, group, bob, picture, caption=MENTION)
        await open_picker(fake, group, bob, reply_id)
        fake.press_button(group, bob, reply_id, "teach:other")
        asked = await fake.wait_for("editMessageText", lambda p: p["message_id"] == reply_id)
        assert "Reply to this message" in asked["text"]

        fake.send_text(group, bob, "narwhal", reply_to=reply_id)  # not an admin: told how to add it
        refused = await fake.wait_for("sendMessage", in_chat(group, "narwhal"))
        assert "/labels add narwhal" in refused["text"] and not buttons(refused)

        _, reply_id, _ = await guess(fake, group, ada, picture, caption=MENTION)
        await open_picker(fake, group, ada, reply_id)
        fake.press_button(group, ada, reply_id, "teach:other")
        await fake.wait_for("editMessageText", lambda p: p["message_id"] == reply_id)
        fake.send_text(group, ada, "Narwhal", reply_to=reply_id)
        offer = await fake.wait_for("sendMessage", in_chat(group, "Add it"))
        assert buttons(offer) == [("Add it", "teach:add"), ("Cancel", "teach:no")]
        fake.press_button(group, ada, sent_message_id(fake, offer), "teach:add")
        assert "Got it" in (await fake.wait_for("editMessageText"))["text"]
        assert taught_rows(db_path, group["id"]) == [("Narwhal", ada["id"])]
        with Store(db_path) as store:
            assert store.get_labels(group["id"])[-1] == "Narwhal"

        after, _, _ = await guess(fake, group, bob, picture, caption=MENTION)
        assert after[0] == "Narwhal"


async def test_one_person_cannot_flood_a_chats_memory(fake, db_path, tiny_classifier, monkeypatch):
    monkeypatch.setattr(teach_handlers, "PER_USER_HOUR", 1)
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        for n, colour in enumerate([(10, 10, 10), (250, 250, 250)]):
            before, reply_id, _ = await guess(fake, chat, ada, png_bytes(colour=colour))
            picker = await open_picker(fake, chat, ada, reply_id)
            right = next(label for label in DEFAULT_LABELS[:8] if label != before[0])
            fake.press_button(chat, ada, reply_id, label_button(picker, right))
            if n == 0:
                assert "Got it" in (await fake.wait_for("editMessageText"))["text"]
        refusal = await fake.wait_for("answerCallbackQuery", lambda p: p.get("show_alert"))
        assert "this hour" in refusal["text"]
        await fake.expect_no_call("editMessageText")
        await fake.expect_no_call("sendMessage")  # no "something went wrong": the picker stays as it was
        assert len(taught_rows(db_path, chat["id"])) == 1


async def correct(fake, chat, user, colour, label: str, caption: str | None = None) -> dict:
    """Send a picture, correct its guess to ``label``; the press's answer."""
    _, reply_id, _ = await guess(fake, chat, user, png_bytes(colour=colour), caption=caption)
    picker = await open_picker(fake, chat, user, reply_id)
    fake.press_button(chat, user, reply_id, label_button(picker, label))
    answer = await fake.wait_for("answerCallbackQuery")
    if not answer.get("show_alert"):
        assert "Got it" in (await fake.wait_for("editMessageText", lambda p: p["message_id"] == reply_id))["text"]
    else:  # refused: the picker is shown again
        await fake.wait_for("editMessageReplyMarkup", lambda p: p["message_id"] == reply_id)
    return answer


async def test_the_hourly_limit_counts_corrections_not_the_pictures_kept(fake, db_path, tiny_classifier, monkeypatch):
    """Correcting to one label keeps few pictures, but every correction counts towards the hour's limit."""
    monkeypatch.setattr(teach_handlers, "PER_USER_HOUR", 3)
    monkeypatch.setattr(teach_handlers, "PER_LABEL", 1)
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    owl = DEFAULT_LABELS[1]
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        answers = [await correct(fake, chat, ada, (40 * n, 10, 10), owl) for n in range(4)]
        assert [bool(a.get("show_alert")) for a in answers] == [False, False, False, True]
        assert "this hour" in answers[-1]["text"]
        assert taught_rows(db_path, chat["id"]) == [(owl, ada["id"])]


async def test_a_members_corrections_never_evict_an_admins(fake, db_path, tiny_classifier, monkeypatch):
    monkeypatch.setattr(teach_handlers, "PER_LABEL", 2)
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    owl = DEFAULT_LABELS[1]
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        await correct(fake, group, ada, (200, 10, 10), owl, caption=MENTION)
        for n in range(3):  # Bob's own oldest go: Ada's stays
            assert not (await correct(fake, group, bob, (10, 60 * n, 10), owl, caption=MENTION)).get("show_alert")
        assert sorted(taught_rows(db_path, group["id"])) == sorted([(owl, ada["id"]), (owl, bob["id"])])

        monkeypatch.setattr(teach_handlers, "PER_LABEL", 1)
        with Store(db_path) as store:
            store.db.execute("DELETE FROM taught WHERE user_id = ?", [bob["id"]])
            store.db.conn.commit()
        refused = await correct(fake, group, bob, (10, 10, 200), owl, caption=MENTION)
        assert refused["show_alert"] and "taught by admins" in refused["text"]
        assert taught_rows(db_path, group["id"]) == [(owl, ada["id"])]


async def test_other_in_a_spanish_chat_shows_the_typed_name_in_spanish(fake, db_path, tiny_classifier):
    """A default animal typed in Spanish is kept by its identity ("horse") but shown as typed ("caballo")."""
    ana, bea = fake.add_user("Ana", language_code="es"), fake.add_user("Bea", language_code="es")
    group = fake.add_group("Zoo", [(ana, "creator"), (bea, "member")])
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(group, ana, "/labels gato, perro")
        await fake.wait_for("sendMessage", in_chat(group))
        said_to = {}
        for user, colour in ((bea, (10, 200, 10)), (ana, (200, 10, 200))):
            _, reply_id, _ = await guess(fake, group, user, png_bytes(colour=colour), caption=MENTION)
            await open_picker(fake, group, user, reply_id)
            fake.press_button(group, user, reply_id, "teach:other")
            await fake.wait_for("editMessageText", lambda p, r=reply_id: p["message_id"] == r)
            fake.send_text(group, user, "caballo", reply_to=reply_id)
            said = said_to[user["id"]] = await fake.wait_for("sendMessage", in_chat(group, "caballo"))
            assert "horse" not in said["text"]
        assert "/labels add caballo" in said_to[bea["id"]]["text"]  # a member: told how an admin adds it
        assert buttons(said_to[ana["id"]])  # an admin: offered to add it
        fake.press_button(group, ana, sent_message_id(fake, said), "teach:add")
        done = await fake.wait_for("editMessageText", lambda p: "caballo" in p["text"])
        assert "horse" not in done["text"]
        assert taught_rows(db_path, group["id"]) == [("horse", ana["id"])]
