"""A corpus of hostile input, generated here, sent through the real bot.

Each case gets its intended friendly reply, the bot stays up, and nothing
else in the database changes.
"""

import io
import os
import sqlite3

from helpers.bot import running_bot, settings_for
from helpers.pictures import png_bytes
from PIL import Image

from bot.i18n import ENGLISH
from bot.replies import PREPARING_TEXT
from bot.store import Store

GUESSES = "guesses"
NOT_PICTURE = "doesn't look like a picture"
DAMAGED = "damaged"
TOO_BIG = "too big"
TOO_MANY_PIXELS = "too many pixels"
TOO_SMALL = "too small"
ONLY_PICTURES = "only look at pictures"


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def noise(size=(256, 256)) -> Image.Image:
    return Image.effect_noise(size, 64).convert("RGB")


def huge_gif() -> bytes:
    frames = [Image.new("P", (400, 400), i % 256) for i in range(300)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=20)


def bad_exif_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 99  # not an orientation
    return encode(noise((120, 80)), "JPEG", exif=exif.tobytes())


def animated_webp() -> bytes:
    frames = [Image.new("RGBA", (96, 96), (i * 40, 0, 0, 128)) for i in range(4)]
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:])


def palette_transparent() -> bytes:
    image = Image.new("P", (64, 64), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * 762)
    return encode(image, "PNG", transparency=0)


# (name, mime type, bytes or a callable, reported size override, expected reply)
DOCUMENT_CASES = [
    ("empty file", "image/png", b"", None, NOT_PICTURE),
    ("random bytes", "image/jpeg", os.urandom(1024), None, NOT_PICTURE),
    ("a megabyte of random bytes", "image/png", os.urandom(1 << 20), None, NOT_PICTURE),
    ("truncated JPEG", "image/jpeg", lambda: encode(noise(), "JPEG")[:3000], None, DAMAGED),
    ("truncated PNG", "image/png", lambda: encode(noise(), "PNG")[:5000], None, DAMAGED),
    ("JPEG header only", "image/jpeg", lambda: encode(noise(), "JPEG")[:200], None, DAMAGED),
    ("1x1 image", "image/png", lambda: encode(Image.new("RGB", (1, 1)), "PNG"), None, TOO_SMALL),
    ("3x500 sliver", "image/png", lambda: encode(Image.new("RGB", (3, 500)), "PNG"), None, TOO_SMALL),
    (
        "20000x20000 decompression bomb",
        "image/png",
        lambda: encode(Image.new("1", (20000, 20000)), "PNG", optimize=True),
        None,
        TOO_MANY_PIXELS,
    ),
    (
        "1 x 50 million pixels",
        "image/png",
        lambda: encode(Image.new("1", (50_000_000, 1)), "PNG"),
        None,
        TOO_MANY_PIXELS,
    ),
    ("huge animated GIF", "image/gif", huge_gif, None, GUESSES),
    ("CMYK JPEG", "image/jpeg", lambda: encode(Image.new("CMYK", (64, 64), (0, 50, 200, 0)), "JPEG"), None, GUESSES),
    ("16-bit greyscale PNG", "image/png", lambda: encode(Image.new("I;16", (64, 64), 40000), "PNG"), None, GUESSES),
    ("palette PNG with transparency", "image/png", palette_transparent, None, GUESSES),
    ("grey+alpha PNG", "image/png", lambda: encode(Image.new("LA", (64, 64), (0, 0)), "PNG"), None, GUESSES),
    ("animated WebP", "image/webp", animated_webp, None, GUESSES),
    ("BMP", "image/bmp", lambda: encode(noise((64, 48)), "BMP"), None, GUESSES),
    ("JPEG with a nonsense EXIF orientation", "image/jpeg", bad_exif_jpeg, None, GUESSES),
    ("very wide strip", "image/png", lambda: encode(Image.new("RGB", (8000, 20), (0, 0, 0)), "PNG"), None, GUESSES),
    (
        "SVG sent as image/svg+xml",
        "image/svg+xml",
        b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='5'/></svg>",
        None,
        NOT_PICTURE,
    ),
    ("PDF sent as image/png", "image/png", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", None, NOT_PICTURE),
    ("HTML sent as image/jpeg", "image/jpeg", b"<!doctype html><script>alert(1)</script>", None, NOT_PICTURE),
    ("TIFF (not supported)", "image/tiff", lambda: encode(noise((64, 64)), "TIFF"), None, NOT_PICTURE),
    ("GIF with a broken body", "image/gif", lambda: encode(Image.new("P", (64, 64), 3), "GIF")[:40], None, DAMAGED),
    ("25 MB document", "image/png", png_bytes(), 25 * 1024 * 1024, TOO_BIG),
    ("zip archive", "application/zip", b"PK\x03\x04" + b"\0" * 100, None, ONLY_PICTURES),
]

# (name, /labels text, the reply must contain, labels afterwards: None = unchanged)
LABEL_CASES = [
    ("control characters", "/labels ca\x00t, d\x07og\x1b", "cat, dog", ["cat", "dog"]),
    ("right-to-left text", "/labels قطة, כלב, \u202ekoala", "قطة", ["قطة", "כלב", "koala"]),
    ("10 000-character label string", "/labels " + "a" * 10_000, "too much text", None),
    ("SQL-looking labels", "/labels x'); DROP TABLE chats;--, dog", "DROP TABLE", ["x'); DROP TABLE chats;--", "dog"]),
    ("500 labels", "/labels " + ", ".join(f"thing{i}" for i in range(500)), "At most 100", None),
    ("a 41-character label", "/labels cat, " + "b" * 41, "40", None),
    ("invisible labels only", "/labels \u200b, \u200b\u200b", "at least 2", None),
    ("emoji labels", "/labels 🐱, 🐶, 🦒", "🦒", ["🐱", "🐶", "🦒"]),
]


def expected_text(kind: str, text: str) -> bool:
    if kind == GUESSES:
        return text.count("%") == 3
    return kind.lower() in text.lower() and "%" not in text


def table_rows(db_path, table):
    with sqlite3.connect(db_path) as connection:
        return connection.execute(f"select * from {table} order by 1").fetchall()


async def test_hostile_corpus(fake, tmp_path, tiny_classifier):
    ada, eve = fake.add_user("Ada"), fake.add_user("Eve")
    ada_chat, eve_chat = fake.add_private_chat(ada), fake.add_private_chat(eve)
    db_path = tmp_path / "toonzoo.db"
    failures, tried = [], 0

    def in_eve_chat(params):
        return params["chat_id"] == eve_chat["id"] and params["text"] != PREPARING_TEXT(ENGLISH)

    # Whether a labels change needs preparing depends on what the engine has cached: not checked here.
    fake.ignore("sendMessage", lambda p: p["text"] == PREPARING_TEXT(ENGLISH))
    async with running_bot(fake, settings_for(fake, db_path), tiny_classifier):
        fake.send_text(ada_chat, ada, "/labels sun, moon, star")
        await fake.wait_for("sendMessage", lambda p: p["text"].startswith("Done"))
        ada_before = table_rows(db_path, "chats")

        for name, mime, data, size, kind in DOCUMENT_CASES:
            tried += 1
            blob = data() if callable(data) else data
            fake.send_document(eve_chat, eve, blob, mime, "upload", file_size=size)
            reply = await fake.wait_for("sendMessage", in_eve_chat, timeout=30)
            if not expected_text(kind, reply["text"]):
                failures.append(f"{name}: expected {kind!r}, got {reply['text']!r}")

        # A caption that is not valid UTF-16 (a lone surrogate), in a group, addressed to the bot.
        group = fake.add_group("Zoo", [(eve, "creator")])
        tried += 1
        fake.send_photo(group, eve, png_bytes(), caption="\ud800 look @toonzoo_test_bot \udfff")
        reply = await fake.wait_for("sendMessage", lambda p: p["chat_id"] == group["id"], timeout=30)
        if not expected_text(GUESSES, reply["text"]):
            failures.append(f"lone-surrogate caption: got {reply['text']!r}")

        for name, text, expect, labels in LABEL_CASES:
            tried += 1
            before = Store(db_path).get_labels(eve_chat["id"])
            fake.send_text(eve_chat, eve, text)
            reply = await fake.wait_for("sendMessage", in_eve_chat, timeout=30)
            after = Store(db_path).get_labels(eve_chat["id"])
            if expect not in reply["text"]:
                failures.append(f"{name}: expected {expect!r} in {reply['text'][:120]!r}")
            if after != (before if labels is None else labels):
                failures.append(f"{name}: labels {before!r} -> {after!r}")

        # Still serving, and the SQL-looking label was only ever data.
        fake.send_photo(eve_chat, eve, png_bytes())
        assert (await fake.wait_for("sendMessage", lambda p: "%" in p["text"], timeout=30))["text"].count("%") == 3
        ada_row = [row for row in table_rows(db_path, "chats") if row[0] == ada["id"]]
        assert ada_row == [row for row in ada_before if row[0] == ada["id"]], "another chat's data changed"

    assert tried >= 30
    assert not failures, "\n".join(failures)
    with sqlite3.connect(db_path) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
