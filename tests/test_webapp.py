"""The canvas's HTTP API end to end: the real bot, its aiohttp server on 127.0.0.1, the fake Bot API.

Every status the API promises, through a real server: 200, 401 (missing,
malformed, forged, stale, other bot's), 403 (foreign start_param, not a
member), 413, 415, 429, and what /api/send posts where.
"""

import io

import aiohttp
from helpers.bot import running_bot, settings_for
from helpers.canvas import PUBLIC_URL, base_url, call, canvas_options, init_data_for, start_param_of
from helpers.pictures import png_bytes
from PIL import Image

from bot.context import services_of
from bot.i18n import ENGLISH, LANGUAGES, get_translator
from bot.label_names import LABEL_NAMES
from bot.replies import DRAW_TEXT, PREPARING_TEXT
from bot.webapp.texts import page_texts
from bot.webapp.tokens import CanvasTarget, derive_key, issue_token
from classifier.prompts import DEFAULT_LABELS

OTHER_TOKEN = "987654321:AAOtherBotsTokenForToonzooTests_012345"


def canvas_bot(fake, db_path, classifier, **options):
    return running_bot(fake, settings_for(fake, db_path, **{**canvas_options(), **options}), classifier)


async def test_page_and_menu_button(fake, db_path, tiny_classifier):
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        async with aiohttp.ClientSession() as session, session.get(base_url(app) + "/draw") as response:
            assert response.status == 200 and response.content_type == "text/html"
            page = await response.text()
            assert "telegram-web-app.js" in page and "<canvas" in page
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        menu = fake.calls("setChatMenuButton")
        assert menu and menu[0]["menu_button"] == {
            "type": "web_app",
            "text": "🎨 Draw",
            "web_app": {"url": f"{PUBLIC_URL}/draw"},
        }


async def test_guesses_over_the_chats_labels(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        status, body, _ = await call(app, "/api/guess", png_bytes((512, 512)), init_data_for(fake.token, ada))
        assert status == 200 and len(body["guesses"]) == 3
        assert {g["label"] for g in body["guesses"]} <= set(DEFAULT_LABELS)
        assert all(0 <= g["score"] <= 1 for g in body["guesses"])
        fake.ignore(
            "sendMessage", lambda p: p["text"] == PREPARING_TEXT(ENGLISH)
        )  # whether it comes depends on the cache
        fake.send_text(private, ada, "/labels set cat, dog, bird, fish")
        done = await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        assert "cat, dog, bird, fish" in done["text"]
        status, body, _ = await call(app, "/api/guess", png_bytes((512, 512)), init_data_for(fake.token, ada))
        assert status == 200 and {g["label"] for g in body["guesses"]} <= {"cat", "dog", "bird", "fish"}
        assert not fake.calls("getFile"), "canvas pictures need no Telegram download"


async def test_init_data_is_checked_on_every_call(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    fake.add_private_chat(ada)
    picture = png_bytes((64, 64))
    good = init_data_for(fake.token, ada)
    refused = {
        "missing": None,
        "malformed": "%%%",
        "forged": good.replace(str(ada["id"]), str(ada["id"] + 1)),
        "no hash": good.split("&hash=")[0],
        "stale": init_data_for(fake.token, ada, auth_date=0),
        "another bot's": init_data_for(OTHER_TOKEN, ada),
        "oversized": good + "&pad=" + "A" * 20_000,  # over aiohttp's default header limit: not its plain 400
        "far oversized": good + "&pad=" + "A" * 60_000,
    }
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        for path in ("/api/guess", "/api/send"):
            for what, init_data in refused.items():
                status, body, _ = await call(app, path, picture, init_data)
                assert status == 401, (path, what)
                assert "Telegram" in body["error"]
        assert not fake.calls("sendPhoto")


async def test_size_type_and_pace(fake, db_path, tiny_classifier):
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    init_data = init_data_for(fake.token, ada)
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        status, body, _ = await call(app, "/api/guess", b"\x89PNG\r\n\x1a\n" + b"0" * (1024 * 1024), init_data)
        assert status == 413 and "1 MB" in body["error"]
        status, body, _ = await call(app, "/api/guess", b"GIF89a not for us", init_data, "image/gif")
        assert status == 415
        status, body, _ = await call(app, "/api/guess", b"\x89PNG\r\n\x1a\nbroken", init_data)
        assert status == 415, "a PNG that doesn't decode"
        statuses = []
        for _ in range(8):
            status, _, headers = await call(app, "/api/guess", png_bytes((32, 32)), init_data)
            statuses.append(status)
        assert 429 in statuses and statuses[0] == 200
        assert int(headers["Retry-After"]) >= 1
        status, _, _ = await call(app, "/api/guess", png_bytes((32, 32)), init_data_for(fake.token, bob))
        assert status == 200, "one user's pace doesn't hold back another"


def image_bytes(size, kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (250, 250, 250)).save(buffer, kind)
    return buffer.getvalue()


async def test_pictures_larger_than_the_canvas_sends_are_refused_by_their_header(fake, db_path, tiny_classifier):
    """The page never sends more than 512 px a side: larger is refused from the header, before any decoding."""
    ada = fake.add_user("Ada")
    fake.add_private_chat(ada)
    init_data = init_data_for(fake.token, ada)
    huge = image_bytes((6300, 6300), "PNG")
    header_only = huge[: huge.index(b"IDAT") + 4]  # signature, IHDR, the first chunk's start: no pixel data
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        for size, kind in [((513, 16), "PNG"), ((600, 600), "JPEG"), ((16, 2000), "WEBP")]:
            for path in ("/api/guess", "/api/send"):
                status, body, _ = await call(app, path, image_bytes(size, kind), init_data)
                assert status == 413 and "512×512" in body["error"], (size, kind, path)
        status, body, _ = await call(app, "/api/guess", header_only, init_data)
        assert status == 413 and "512×512" in body["error"], "refused from its header: it would not even decode"
        status, body, _ = await call(app, "/api/guess", image_bytes((512, 512), "PNG"), init_data)
        assert status == 200
        assert not fake.calls("sendPhoto")


async def test_one_picture_at_a_time_per_user(fake, db_path, tiny_classifier):
    """While one of a user's pictures is being looked at, their next one is refused (429); others go on."""
    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    fake.add_private_chat(ada)
    fake.add_private_chat(bob)
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        canvas = services_of(app).webapp.canvas
        with canvas.working.hold(ada["id"]):  # as if one of Ada's pictures were decoding now
            for path in ("/api/guess", "/api/send"):
                status, body, headers = await call(app, path, png_bytes((64, 64)), init_data_for(fake.token, ada))
                assert status == 429 and "One drawing at a time" in body["error"] and int(headers["Retry-After"]) >= 1
            status, _, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, bob))
            assert status == 200
        status, _, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, ada))
        assert status == 200 and len(canvas.working) == 0
        assert not fake.calls("sendPhoto")


async def test_send_posts_into_the_private_chat(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        picture = png_bytes((300, 200))
        status, body, _ = await call(app, "/api/send", picture, init_data_for(fake.token, ada))
        assert (status, body) == (200, {"sent": True, "in_game": False})
        sent = await fake.wait_for_call("sendPhoto")
        photo = sent.params
        assert photo["chat_id"] == private["id"] and photo["photo"] == picture
        assert photo["caption"].startswith("🎨 Drawn on the canvas.") and "%" in photo["caption"]
        buttons = [b["callback_data"] for row in photo["reply_markup"]["inline_keyboard"] for b in row]
        assert buttons == ["teach:ok", "teach:fix"]  # the drawer teaches from the canvas as from a photo

        fake.press_button(private, ada, sent.result["message_id"], "teach:fix")
        picker = await fake.wait_for("editMessageReplyMarkup")
        first = picker["reply_markup"]["inline_keyboard"][0][0]
        assert first["callback_data"] == "teach:l0" and "cat" in first["text"]
        fake.press_button(private, ada, sent.result["message_id"], "teach:l0")
        said = await fake.wait_for("editMessageCaption")  # a posted drawing's words are its caption
        assert said["caption"].startswith("Got it: cat")
        assert [q.get("text") for q in fake.calls("answerCallbackQuery")] == [None, None]


async def test_group_canvas_needs_our_token_and_membership(fake, db_path, tiny_classifier):
    ada, eve = fake.add_user("Ada"), fake.add_user("Eve")
    group = fake.add_group("Zoo", [(ada, "member")])
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        fake.send_text(group, ada, "/draw")
        reply = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == group["id"])
        button = reply["reply_markup"]["inline_keyboard"][0][0]
        assert button["text"] == "🎨 Draw here" and button["url"].startswith("https://t.me/toonzoo_test_bot/draw?")
        token = start_param_of(button["url"])

        status, body, _ = await call(app, "/api/send", png_bytes((64, 64)), init_data_for(fake.token, ada, token))
        assert status == 200 and body["in_game"] is False
        photo = await fake.wait_for("sendPhoto")
        assert photo["chat_id"] == group["id"] and photo["caption"].startswith("🎨 Ada drew this on the canvas.")

        # Eve is not in the group; a token signed with another key is not ours
        status, body, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, eve, token))
        assert status == 403 and "members" in body["error"]
        forged = issue_token(derive_key(OTHER_TOKEN), CanvasTarget(group["id"]))
        status, _, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, ada, forged))
        assert status == 403
        fake.set_member(group, ada, "left")  # left since: refused once the remembered check runs out
        services_of(app).webapp.canvas.members.clear()
        status, _, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, ada, token))
        assert status == 403
        assert len(fake.calls("sendPhoto")) == 1
        assert fake.calls("getChatMember")


async def test_draw_command(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    async with canvas_bot(fake, db_path, tiny_classifier):
        fake.send_text(private, ada, "/draw")
        reply = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == private["id"])
        button = reply["reply_markup"]["inline_keyboard"][0][0]
        assert button == {"text": "🎨 Draw", "web_app": {"url": f"{PUBLIC_URL}/draw"}}


async def test_without_a_url_there_is_no_canvas(fake, db_path, tiny_classifier):
    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier) as app:
        assert services_of(app).webapp is None and not fake.calls("setChatMenuButton")
        fake.send_text(private, ada, "/draw")
        reply = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == private["id"])
        assert "isn't set up" in reply["text"]


async def get_texts(app, init_data: str) -> tuple[int, dict]:
    headers = {"Authorization": f"tma {init_data}"}
    async with aiohttp.ClientSession() as session, session.get(base_url(app) + "/api/texts", headers=headers) as r:
        return r.status, await r.json()


async def test_the_page_speaks_the_language_of_its_chat(fake, db_path, tiny_classifier):
    """The user's Telegram language in a private chat; the group's /language wins over it."""
    ana, bob = fake.add_user("Ana", language_code="es-419"), fake.add_user("Bob")
    fake.add_private_chat(ana)
    group = fake.add_group("Zoo", [(bob, "creator"), (ana, "member")])
    spanish, russian = get_translator("es"), get_translator("ru")
    async with canvas_bot(fake, db_path, tiny_classifier) as app:
        status, body = await get_texts(app, init_data_for(fake.token, ana))
        assert status == 200 and body == {"language": "es", "texts": page_texts(spanish)}
        assert body["texts"]["send"] == "Enviar" and body["texts"]["seeing"] != "I see…"
        status, body, _ = await call(app, "/api/guess", png_bytes((64, 64)), init_data_for(fake.token, ana))
        assert status == 200 and {g["label"] for g in body["guesses"]} <= set(LABEL_NAMES["es"].values())

        fake.send_text(group, bob, "/language ru")
        await fake.wait_for("sendMessage", lambda p: p["chat_id"] == group["id"])
        token = issue_token(derive_key(fake.token), CanvasTarget(group["id"]))
        status, body = await get_texts(app, init_data_for(fake.token, ana, start_param=token))
        assert status == 200 and body == {"language": "ru", "texts": page_texts(russian)}
        status, _ = await get_texts(app, init_data_for(OTHER_TOKEN, ana))
        assert status == 401


def test_the_help_names_the_pages_send_button_in_each_language():
    for language in LANGUAGES:
        t = get_translator(language)
        assert f"{page_texts(t)['send']}" in DRAW_TEXT(t), language
