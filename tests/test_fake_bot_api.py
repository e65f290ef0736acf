"""The fake Bot API, driven by python-telegram-bot's real HTTP stack.

If these pass, end-to-end bot tests against FakeBotApi exercise the same
requests and responses the bot would exchange with Telegram.
"""

import asyncio
import io
import json
import time
from pathlib import Path

import aiohttp
import pytest
from helpers.pictures import png_bytes
from PIL import Image
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultCachedPhoto,
    InlineQueryResultsButton,
    Update,
)
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.i18n import ENGLISH, get_translator
from bot.replies import COMMANDS
from toonzoo_tools.fake_bot_api import BOT_USERNAME, DEFAULT_TOKEN, FakeBotApi


def _seconds(value) -> float:
    """RetryAfter.retry_after: an int in PTB 22, a timedelta later."""
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


def _make_bot(fake: FakeBotApi, token: str | None = None, **request_kwargs) -> Bot:
    return Bot(
        token or fake.token,
        base_url=f"{fake.base_url}/bot",
        base_file_url=f"{fake.base_url}/file/bot",
        request=HTTPXRequest(**request_kwargs) if request_kwargs else None,
    )


@pytest.fixture
async def fake():
    """The fake alone: here the test itself is the client and sees every answer, so nothing is checked at teardown."""
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake):
    async with _make_bot(fake) as bot:  # initialize() calls getMe
        yield bot


@pytest.fixture
def ada(fake):
    return fake.add_user("Ada", username="ada")


@pytest.fixture
def private(fake, ada):
    return fake.add_private_chat(ada)


async def test_get_me_is_recorded(fake, bot):
    me = await bot.get_me()
    assert me.username == BOT_USERNAME and me.is_bot and me.id == 123456789
    assert bot.username == BOT_USERNAME  # from initialize()
    assert len(fake.calls("getMe")) == 2
    assert fake.all_calls[0].method == "getMe" and fake.all_calls[0].status == 200


async def test_wrong_and_malformed_tokens_are_refused(fake):
    wrong = DEFAULT_TOKEN.replace("AAFake", "AAEvil")
    for token in (wrong, "123:short"):
        with pytest.raises(InvalidToken):
            async with _make_bot(fake, token):  # initialize() calls getMe
                pass
    assert [call.status for call in fake.all_calls] == [401, 404]


async def test_unknown_method_is_404(fake):
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}/bot{fake.token}/sendTelepathy") as response,
    ):
        assert response.status == 404
        body = await response.json()
    assert body["ok"] is False and body["error_code"] == 404
    assert body["description"].startswith("Not Found")
    assert fake.all_calls[-1].method == "sendTelepathy" and fake.all_calls[-1].status == 404


async def test_form_fields_decode_like_telegram_and_json_bodies_work(fake, private):
    url = f"{fake.base_url}/bot{fake.token}/sendMessage"
    async with aiohttp.ClientSession() as session:
        form = {
            "chat_id": str(private["id"]),
            "text": "123",
            "reply_markup": json.dumps({"inline_keyboard": [[{"text": "ok", "callback_data": "x"}]]}),
        }
        async with session.post(url, data=form) as response:
            body = await response.json()
        async with session.post(url, json={"chat_id": private["id"], "text": "true"}) as response:
            assert (await response.json())["result"]["text"] == "true"
    assert body["ok"] is True and body["result"]["text"] == "123"
    params = await fake.wait_for("sendMessage")
    assert params["chat_id"] == private["id"] and params["text"] == "123"
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "x"
    assert (await fake.wait_for("sendMessage"))["text"] == "true"


async def test_get_updates_offset_limit_and_entities(fake, bot, ada, private):
    fake.send_text(private, ada, "/labels@toonzoo_test_bot cat, dog")
    fake.send_text(private, ada, "hello")
    first, second = await bot.get_updates()
    assert first.message.text.startswith("/labels@")
    command = first.message.entities[0]
    assert (command.type, command.offset, command.length) == ("bot_command", 0, 24)
    assert first.message.parse_entity(command) == "/labels@toonzoo_test_bot"
    assert second.message.entities == ()
    assert second.update_id == first.update_id + 1

    assert [u.update_id for u in await bot.get_updates(limit=1)] == [first.update_id]
    assert [u.update_id for u in await bot.get_updates(offset=second.update_id)] == [second.update_id]
    assert await bot.get_updates(offset=second.update_id + 1) == ()
    assert fake.pending_updates == []


async def test_get_updates_long_polls_and_wakes_on_new_update(fake, bot, ada, private):
    started = time.monotonic()
    assert await bot.get_updates(timeout=0.3) == ()
    assert 0.25 <= time.monotonic() - started < 2

    async def later():
        await asyncio.sleep(0.2)
        fake.send_text(private, ada, "hi")

    task = asyncio.create_task(later())
    started = time.monotonic()
    (update,) = await bot.get_updates(timeout=10)
    await task
    assert update.message.text == "hi"
    assert time.monotonic() - started < 2


async def test_allowed_updates_filters_kinds(fake, bot, ada, private):
    sent = await bot.send_message(
        private["id"], "pick", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    )
    fake.send_text(private, ada, "ignored")
    fake.press_button(private, ada, sent.message_id, "a")
    (update,) = await bot.get_updates(allowed_updates=["callback_query"])
    assert update.callback_query.data == "a"
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(update.callback_query.id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(update.callback_query.id)


async def test_send_message_reply_shape(fake, bot, ada, private):
    asked = fake.send_text(private, ada, "what is this?")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    sent = await bot.send_message(private["id"], "123", reply_to_message_id=asked["message_id"], reply_markup=markup)
    assert sent.message_id == asked["message_id"] + 1
    assert sent.text == "123" and sent.from_user.id == bot.id and sent.chat.id == private["id"]
    assert sent.reply_to_message.message_id == asked["message_id"]
    assert sent.reply_to_message.text == "what is this?"
    assert sent.reply_markup == markup
    params = await fake.wait_for("sendMessage")
    assert params["text"] == "123"
    assert params["reply_parameters"]["message_id"] == asked["message_id"]

    plain = await bot.send_message(private["id"], "again", reply_markup=None)
    assert plain.message_id == sent.message_id + 1 and plain.reply_to_message is None


@pytest.mark.parametrize(
    ("kwargs", "error"),  # PTB drops "Bad Request: " and capitalises
    [
        ({"chat_id": 424242, "text": "x"}, "chat not found"),
        ({"text": "   "}, "message text is empty"),
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "x", "reply_to_message_id": 999}, "message to be replied not found"),
        (
            {"text": "x", "reply_markup": InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="d" * 65)]])},
            "BUTTON_DATA_INVALID",
        ),
    ],
)
async def test_send_message_refusals_match_telegram(fake, bot, private, kwargs, error):
    with pytest.raises(BadRequest, match=f"(?i){error}"):
        await bot.send_message(**{"chat_id": private["id"], **kwargs})
    assert fake.all_calls[-1].status == 400


async def test_edit_and_delete_messages(fake, bot, private):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(private["id"], "one", reply_markup=markup)
    edited = await bot.edit_message_text("two", private["id"], sent.message_id, reply_markup=markup)
    assert edited.text == "two" and edited.edit_date is not None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("two", private["id"], sent.message_id, reply_markup=markup)
    bare = await bot.edit_message_reply_markup(private["id"], sent.message_id)
    assert bare.reply_markup is None
    assert fake.chat_messages(private)[-1]["text"] == "two"
    assert await bot.delete_message(private["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("three", private["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(private["id"], sent.message_id)


async def test_users_messages_cannot_be_edited(fake, bot, ada, private):
    message = fake.send_text(private, ada, "mine")
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("yours", private["id"], message["message_id"])


async def test_photo_sizes_get_file_and_download(fake, bot, ada, private):
    data = png_bytes((1000, 500))
    fake.send_photo(private, ada, data, caption="/guess")
    (update,) = await bot.get_updates()
    photo = update.message.photo
    assert [p.width for p in photo] == [90, 320, 800, 1000]
    assert (photo[-1].width, photo[-1].height, photo[-1].file_size) == (1000, 500, len(data))
    assert update.message.caption_entities[0].type == "bot_command"

    file = await bot.get_file(photo[-1].file_id)
    assert file.file_size == len(data) and "/photos/" in file.file_path
    assert bytes(await file.download_as_bytearray()) == data
    small = await (await bot.get_file(photo[0].file_id)).download_as_bytearray()
    assert Image.open(io.BytesIO(small)).size == (90, 45)
    assert (await fake.wait_for("getFile"))["file_id"] == photo[-1].file_id
    assert (await fake.wait_for("download"))["file_id"] == photo[-1].file_id


async def test_get_file_refuses_unknown_and_too_big_files(fake, bot):
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")
    big = fake.add_file(b"x", file_size=21 * 1024 * 1024)
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(big)


async def test_documents_stickers_and_animations_parse_in_ptb(fake, bot, ada, private):
    thumb = png_bytes((128, 128))
    fake.send_document(private, ada, b"%PDF", "application/pdf", "drawing.pdf", caption="hm")
    fake.send_sticker(private, ada, b"gz", is_animated=True, thumbnail=thumb)
    fake.send_animation(private, ada, b"mp4", thumbnail=thumb)
    document, sticker, animation = (u.message for u in await bot.get_updates())
    assert (document.document.mime_type, document.document.file_name, document.caption) == (
        "application/pdf",
        "drawing.pdf",
        "hm",
    )
    assert sticker.sticker.is_animated and not sticker.sticker.is_video
    assert sticker.sticker.thumbnail.width == 128
    file = await bot.get_file(sticker.sticker.thumbnail.file_id)
    assert bytes(await file.download_as_bytearray()) == thumb
    assert animation.animation.mime_type == "video/mp4"
    assert animation.document.file_id == animation.animation.file_id
    assert animation.animation.thumbnail is not None


async def test_get_chat_member_statuses(fake, bot, ada):
    bob, cy, dee = (fake.add_user(name) for name in ("Bob", "Cy", "Dee"))
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "administrator"), (cy, "member")])
    members = [await bot.get_chat_member(group["id"], user["id"]) for user in (ada, bob, cy, dee)]
    assert [type(m) for m in members] == [ChatMemberOwner, ChatMemberAdministrator, ChatMemberMember, ChatMemberLeft]
    assert members[1].user.first_name == "Bob"
    assert group["type"] == "supergroup" and str(group["id"]).startswith("-100")
    with pytest.raises(BadRequest, match=r"(?i)user not found"):
        await bot.get_chat_member(group["id"], 555)


async def test_commands_round_trip(fake, bot):
    commands = [BotCommand(name, description(ENGLISH)) for name, description in COMMANDS]
    assert await bot.set_my_commands(commands)
    assert tuple(await bot.get_my_commands()) == tuple(commands)
    spanish = [BotCommand(name, description(get_translator("es"))) for name, description in COMMANDS]
    assert await bot.set_my_commands(spanish, language_code="es")
    assert tuple(await bot.get_my_commands(language_code="es")) == tuple(spanish)
    assert tuple(await bot.get_my_commands()) == tuple(commands)  # each language keeps its own menu
    assert await bot.delete_my_commands(language_code="es")
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()


async def test_send_chat_action(fake, bot, private):
    assert await bot.send_chat_action(private["id"], "typing")
    assert (await fake.wait_for("sendChatAction"))["action"] == "typing"
    with pytest.raises(BadRequest):
        await bot.send_chat_action(private["id"], "dancing")


@pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")  # PTB reads it in RetryAfter()
async def test_groups_get_at_most_20_messages_a_minute_like_telegram(fake, bot, ada, private):
    group = fake.add_group("Zoo", [(ada, "member")])
    small = fake.add_group("Small", [(ada, "member")], supergroup=False)
    start = time.time()
    for i in range(19):
        await bot.send_message(group["id"], f"m{i}")
    await bot.send_chat_action(group["id"], "typing")  # counts too
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(group["id"], "one too many")
    assert 58 <= _seconds(flood.value.retry_after) <= 60
    refused = fake.all_calls[-1]
    assert refused.status == 429 and refused.params["text"] == "one too many"
    for i in range(25):  # other chats have budgets of their own; private chats no minute limit
        await bot.send_message(private["id"], f"p{i}")
    for i in range(20):
        await bot.send_message(small["id"], f"s{i}")
    with pytest.raises(RetryAfter):
        await bot.send_message(small["id"], "too many")
    accepted = [c.at for c in fake.all_calls if c.params.get("chat_id") == group["id"] and c.status == 200]
    assert len(accepted) == 20 and start <= accepted[0] <= accepted[-1] <= time.time()


@pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")
async def test_group_limit_is_a_sliding_window_and_configurable():
    async with FakeBotApi(group_limit=3, group_window_s=0.5) as fake, _make_bot(fake) as bot:
        group = fake.add_group("Zoo", [(fake.add_user("Ada"), "member")])
        for text in "abc":
            await bot.send_message(group["id"], text)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(group["id"], "d")
        assert _seconds(flood.value.retry_after) == 1  # whole seconds, at least 1
        await asyncio.sleep(0.55)
        assert (await bot.send_message(group["id"], "e")).text == "e"
    async with FakeBotApi(group_limit=None) as fake, _make_bot(fake) as bot:
        group = fake.add_group("Zoo", [(fake.add_user("Ada"), "member")])
        for i in range(25):
            await bot.send_message(group["id"], f"m{i}")


@pytest.mark.filterwarnings("ignore:.*retry_after:DeprecationWarning")  # PTB reads it in RetryAfter()
async def test_injected_errors_surface_as_telegram_errors(fake, bot, private):
    fake.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
        await bot.send_message(private["id"], "a")
    fake.fail_next("sendmessage", 429, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(private["id"], "b")
    fake.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(private["id"], "c")
    sent = await bot.send_message(private["id"], "d")  # faults are used up
    assert sent.text == "d" and sent.message_id == 1  # failed calls sent nothing
    statuses = [call.status for call in fake.all_calls if call.method == "sendMessage"]
    assert statuses == [500, 429, 403, 200]


async def test_dropped_connection_and_timeout(fake, private):
    async with _make_bot(fake, read_timeout=0.3) as bot:
        fake.fail_next("sendMessage", "drop")
        with pytest.raises(NetworkError):
            await bot.send_message(private["id"], "a")
        fake.fail_next("sendMessage", "timeout")
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await bot.send_message(private["id"], "b")
        assert time.monotonic() - started < 2
        assert (await bot.send_message(private["id"], "c")).text == "c"
        fake.fail_next("sendMessage", "slow", delay=0.2)  # a slow Telegram: held, then sent as usual
        started = time.monotonic()
        assert (await bot.send_message(private["id"], "d")).text == "d"
        assert time.monotonic() - started >= 0.2
        assert [c.status for c in fake.all_calls if c.method == "sendMessage"][-1] == 200


async def test_file_faults(fake, bot):
    file_id = fake.add_file(b"0123456789", ext="png")
    file = await bot.get_file(file_id)
    fake.set_file_fault(file_id, 500)
    with pytest.raises(NetworkError):
        await file.download_as_bytearray()
    fake.set_file_fault(file_id, "truncate")
    assert bytes(await file.download_as_bytearray()) == b"01234"
    assert bytes(await file.download_as_bytearray()) == b"0123456789"


async def test_wait_for_consumes_and_times_out_helpfully(fake, bot, private):
    await bot.send_message(private["id"], "one")
    await bot.send_message(private["id"], "two")
    assert (await fake.wait_for("sendMessage", lambda p: p["text"] == "two"))["text"] == "two"
    assert (await fake.wait_for("sendMessage"))["text"] == "one"
    with pytest.raises(AssertionError, match=r"(?i)no sendMessage call within 0.1s"):
        await fake.wait_for("sendMessage", timeout=0.1)
    await fake.expect_no_call("sendMessage", within=0.05)
    await bot.send_message(private["id"], "three")
    with pytest.raises(AssertionError, match=r"(?i)unexpected sendMessage"):
        await fake.expect_no_call("sendMessage")


async def test_privacy_mode_hides_group_chatter(ada):
    async with FakeBotApi(privacy_mode=True) as fake:
        fake.add_user("Ada", user_id=ada["id"])
        group = fake.add_group("Zoo", [(ada, "member")])
        fake.send_text(group, ada, "just chatting")
        command = fake.send_text(group, ada, "/guess")
        assert [u["message"]["message_id"] for u in fake.pending_updates] == [command["message_id"]]


async def test_polling_application_echoes(fake, ada, private):
    """PTB's Application polls the fake, runs handlers, and replies through it."""

    async def echo(update: Update, context) -> None:
        await update.message.reply_text(update.message.text.upper(), do_quote=True)

    async def pressed(update: Update, context) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"you chose {update.callback_query.data}")

    app = (
        Application.builder()
        .token(fake.token)
        .base_url(f"{fake.base_url}/bot")
        .base_file_url(f"{fake.base_url}/file/bot")
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    async with app:
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=5)
        try:
            asked = fake.send_text(private, ada, "hello zoo")
            reply = await fake.wait_for("sendMessage")
            assert reply["text"] == "HELLO ZOO"
            assert reply["reply_parameters"]["message_id"] == asked["message_id"]

            sent = await app.bot.send_message(
                private["id"],
                "pick",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Lion", callback_data="lion")]]),
            )
            await fake.wait_for("sendMessage")
            fake.press_button(private, ada, sent.message_id, "lion")
            assert (await fake.wait_for("editMessageText"))["text"] == "you chose lion"
            await fake.wait_for("answerCallbackQuery")
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.pending_updates == []  # the updater confirmed what it handled


async def test_expect_no_call_checks_once_a_running_bot_has_settled(fake, ada, private, tmp_path):
    """Without ``within``, "the bot said nothing" waits for the bot to settle, not for a fixed time:
    an answer a handler sends late, or a job it scheduled soon sends, still fails it."""
    from toonzoo_tools.harness import SETTLE_HORIZON_S, running_bot, settings_for

    async def slow(update: Update, context) -> None:
        await asyncio.sleep(0.5)
        await update.message.reply_text("late")

    async def say_later(context) -> None:
        await context.bot.send_message(private["id"], "later")

    async def later(update: Update, context) -> None:
        context.job_queue.run_once(say_later, SETTLE_HORIZON_S / 2)

    async def quiet(update: Update, context) -> None:
        context.job_queue.run_once(say_later, SETTLE_HORIZON_S + 5)  # a timer beyond the horizon

    async def nothing(application) -> None:
        pass

    def build(settings, _classifier):
        app = (
            Application.builder()
            .token(settings.token)
            .base_url(f"{settings.api_url}/bot")
            .base_file_url(f"{settings.api_url}/file/bot")
            .post_init(nothing)
            .post_shutdown(nothing)
            .concurrent_updates(True)
            .build()
        )
        app.add_handler(CommandHandler("slow", slow))
        app.add_handler(CommandHandler("later", later))
        app.add_handler(CommandHandler("quiet", quiet))
        return app

    async with running_bot(fake, settings_for(fake, tmp_path / "unused.db"), None, build=build):
        fake.send_text(private, ada, "/slow")
        with pytest.raises(AssertionError, match="unexpected sendMessage"):
            await fake.expect_no_call("sendMessage")
        assert (await fake.wait_for("sendMessage"))["text"] == "late"

        fake.send_text(private, ada, "/later")
        with pytest.raises(AssertionError, match="unexpected sendMessage"):
            await fake.expect_no_call("sendMessage")
        assert (await fake.wait_for("sendMessage"))["text"] == "later"

        fake.send_text(private, ada, "/quiet")
        started = time.monotonic()
        await fake.expect_no_call("sendMessage")
        assert time.monotonic() - started < 1.0, "silence is known when the bot has settled, not after a wait"
    await fake.expect_no_call("sendMessage", within=0.05)  # no bot: a plain watch


async def test_group_upgrade_posts_both_service_messages_and_retires_the_old_id(fake, bot, ada):
    group = fake.add_group("Zoo", [(ada, "creator")], supergroup=False)
    supergroup = fake.migrate_group(group, ada)
    assert supergroup["type"] == "supergroup" and supergroup["title"] == "Zoo"
    to_update, from_update = await bot.get_updates()
    assert to_update.message.chat.id == group["id"] and to_update.message.migrate_to_chat_id == supergroup["id"]
    assert from_update.message.chat.id == supergroup["id"]
    assert from_update.message.migrate_from_chat_id == group["id"]
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group["id"], "hello?")
    assert caught.value.new_chat_id == supergroup["id"]
    assert (await bot.get_chat_member(supergroup["id"], ada["id"])).status == "creator"
    assert (await bot.send_message(supergroup["id"], "hello")).chat.id == supergroup["id"]


async def test_press_button_sends_any_data_on_any_message_like_a_modified_client(fake, bot, ada, private):
    sent = await bot.send_message(private["id"], "no buttons here")
    fake.press_button(private, ada, sent.message_id, "forget:yes:1")
    fake.press_button(private, ada, sent.message_id, b"\xff" * 64)
    with pytest.raises(ValueError, match="1 to 64 bytes, not 65"):
        fake.press_button(private, ada, sent.message_id, "x" * 65)
    first, second = await bot.get_updates()
    assert first.callback_query.data == "forget:yes:1" and first.callback_query.message.message_id == sent.message_id
    assert second.callback_query.data == "\ufffd" * 64
    assert len(fake.unanswered_callback_queries) == 2


async def test_inline_queries_are_answered_once_and_prepared_messages_kept(fake, bot, ada, private):
    sent = await bot.send_photo(private["id"], png_bytes((64, 64)))
    photo_id = sent.photo[-1].file_id
    asked = fake.send_inline_query(ada, "cat", chat_type="supergroup")
    (update,) = await bot.get_updates()
    query = update.inline_query
    assert (query.id, query.from_user.id, query.query, query.chat_type) == (asked["id"], ada["id"], "cat", "supergroup")
    card = InlineQueryResultCachedPhoto("card-1", photo_id, caption="Can you beat 5/6?")
    assert await bot.answer_inline_query(query.id, [card], cache_time=5, is_personal=True) is True
    answered = await fake.wait_for("answerInlineQuery")
    assert answered["results"][0]["photo_file_id"] == photo_id and answered["is_personal"] is True
    with pytest.raises(BadRequest, match=r"(?i)query id is invalid"):  # each query is answered once
        await bot.answer_inline_query(query.id, [])
    fake.send_inline_query(ada)
    (update,) = await bot.get_updates(offset=update.update_id + 1)
    with pytest.raises(BadRequest, match=r"(?i)start_param_invalid"):
        await bot.answer_inline_query(
            update.inline_query.id, [], button=InlineQueryResultsButton("Go", start_parameter="a b")
        )
    assert len(fake.unanswered_inline_queries) == 1, "a refused answer leaves the query to answer"
    assert await bot.answer_inline_query(
        update.inline_query.id, [], button=InlineQueryResultsButton("Go", start_parameter="go")
    )
    assert fake.unanswered_inline_queries == []

    prepared = await bot.save_prepared_inline_message(ada["id"], card, allow_user_chats=True)
    assert prepared.id and prepared.expiration_date.timestamp() > time.time()
    assert fake.prepared_message(prepared.id) == {"user_id": ada["id"], "result": card.to_dict()}
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.save_prepared_inline_message(
            ada["id"], InlineQueryResultCachedPhoto("x", "nope"), allow_user_chats=True
        )
    with pytest.raises(BadRequest, match=r"(?i)at least one chat type"):
        await bot.save_prepared_inline_message(ada["id"], card)
    with pytest.raises(BadRequest, match=r"(?i)user_id_invalid"):
        await bot.save_prepared_inline_message(999, card, allow_user_chats=True)
    assert [c.status for c in fake.all_calls if c.method == "savePreparedInlineMessage"] == [200, 400, 400, 400]


async def test_edits_albums_and_other_messages_parse_in_ptb(fake, bot, ada, private):
    photo = fake.send_photo(private, ada, png_bytes((64, 64)), caption="first")
    fake.edit_message(private, ada, photo["message_id"], caption="second @toonzoo_test_bot")
    album = fake.send_album(private, ada, [png_bytes((64, 64)), png_bytes((32, 32))], caption="trip")
    for kind in ("voice", "audio", "video", "video_note"):
        fake.send_media(private, ada, kind)
    fake.send_location(private, ada)
    fake.send_contact(private, ada)
    fake.send_poll(private, ada)
    fake.send_document(private, ada, png_bytes((64, 64)), None, "drawing")
    updates = await bot.get_updates()
    edited = updates[1].edited_message
    assert updates[1].message is None and edited.message_id == photo["message_id"]
    assert edited.caption == "second @toonzoo_test_bot" and edited.edit_date is not None
    assert [e.type for e in edited.caption_entities] == ["mention"]
    first, second = (u.message for u in updates[2:4])
    assert first.media_group_id == second.media_group_id == album[0]["media_group_id"]
    assert (first.caption, second.caption) == ("trip", None)
    others = [u.message for u in updates[4:11]]
    assert others[0].voice and others[1].audio and others[2].video and others[3].video_note
    assert others[4].location and others[5].contact and others[6].poll.options[1].text == "dogs"
    assert updates[11].message.document.mime_type is None
    fake.forget_file(first.photo[-1].file_id)
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file(first.photo[-1].file_id)


async def test_adding_the_bot_to_a_group_sends_both_updates(fake, bot, ada):
    group = fake.add_group("Zoo", [(ada, "creator")], bot_status="left")
    fake.add_bot_to_group(group, ada, status="administrator")
    membership, joined = await bot.get_updates()
    change = membership.my_chat_member
    assert (change.chat.id, change.from_user.id) == (group["id"], ada["id"])
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("left", "administrator")
    assert [user.id for user in joined.message.new_chat_members] == [bot.id]
    assert (await bot.get_chat_member(group["id"], bot.id)).status == "administrator"


async def test_unexamined_messages_are_those_no_wait_or_lookup_returned(fake, bot, ada, private):
    group = fake.add_group("Zoo", [(ada, "creator")])
    first = await bot.send_message(private["id"], "first")
    await bot.send_message(private["id"], "second")
    await bot.send_message(group["id"], "in the group")
    await bot.send_chat_action(private["id"], "typing")  # not a message
    fake.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError):
        await bot.send_message(private["id"], "refused")  # never reached anyone
    assert (await fake.wait_for("sendMessage"))["text"] == "first"
    assert [c.params["text"] for c in fake.unexamined()] == ["second", "in the group"]
    await bot.edit_message_text("first, edited", chat_id=private["id"], message_id=first.message_id)
    assert [c.method for c in fake.unexamined()] == ["sendMessage", "sendMessage", "editMessageText"]
    assert [c.params["text"] for c in fake.sent_messages(group)] == ["in the group"]
    with pytest.raises(AssertionError, match=r"2 message\(s\) no assertion looked at(?s:.*)'second'"):
        fake.check_examined()
    assert len(fake.chat_messages(private)) == 2
    fake.check_examined()

    fake.ignore("sendMessage", lambda p: p["text"].startswith("Preparing"))
    await bot.send_message(private["id"], "Preparing…")
    pressed = fake.press_button(private, ada, first.message_id, "x")
    await bot.answer_callback_query(pressed["id"])  # no text: nothing shown
    pressed = fake.press_button(private, ada, first.message_id, "y")
    await bot.answer_callback_query(pressed["id"], "Not your button", show_alert=True)
    assert [c.params.get("text") for c in fake.unexamined()] == ["Not your button"]
    fake.ignore_rest()
    fake.check_examined()
    await bot.send_message(private["id"], "later")
    assert [c.params["text"] for c in fake.unexamined()] == ["later"]


FIXTURE_TESTS = """
from telegram import Bot


async def say(fake, text):
    ada = fake.add_user("Ada")
    chat = fake.add_private_chat(ada)
    async with Bot(fake.token, base_url=f"{fake.base_url}/bot") as bot:
        await bot.send_message(chat["id"], text)


async def test_a_stray_reply(fake):
    await say(fake, "a late wrong reply")


async def test_a_reply_it_waited_for(fake):
    await say(fake, "hello")
    assert (await fake.wait_for("sendMessage"))["text"] == "hello"


async def test_a_reply_it_does_not_care_about(fake):
    await say(fake, "whatever")
    fake.ignore_rest()


async def test_that_fails_anyway(fake):
    await say(fake, "unseen")
    assert False, "the test's own failure"
"""


def test_the_fake_fixture_fails_a_test_that_left_a_message_unexamined(pytester):
    pytester.makeconftest(Path(__file__).with_name("conftest.py").read_text())
    pytester.makeini("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_fixture=FIXTURE_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_a_stray_reply*",
            "*the bot sent 1 message(s) no assertion looked at*",
            "*sendMessage chat_id=* 'a late wrong reply'*",
        ]
    )
    assert "ERROR at teardown of test_that_fails_anyway" not in result.stdout.str()
