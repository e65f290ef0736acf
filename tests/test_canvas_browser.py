"""The canvas page in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

The page gets a stub ``window.Telegram.WebApp`` carrying init data signed with
the test token (Telegram's own script is blocked: no network here). Strokes are
drawn with the mouse and with touch events (through the DevTools protocol, as
a finger would), live guesses must appear, Send must post the drawing into the
right chat. The page's own Content-Security-Policy stays on (so waits use
locators, not evaluated strings). A phone-sized screenshot is saved to ``tests/output/canvas-phone.png``.

Without Chromium the test skips, saying so, unless ``CI`` is set: there it fails.
"""

import itertools
import math
import time
from pathlib import Path

import pytest
from helpers.bot import running_bot, settings_for
from helpers.browser import CHROMIUM_ARGS, PHONE, chromium_or_skip, stub_telegram
from helpers.canvas import base_url, canvas_options, init_data_for

from bot.label_names import LABEL_NAMES

pytestmark = pytest.mark.slow  # a real browser

OUTPUT = Path(__file__).parent / "output"


async def touch_stroke(cdp, points) -> None:
    """A finger drawing through ``points`` (page coordinates)."""
    (x, y), rest = points[0], points[1:]
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    for x, y in rest:
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


async def test_drawing_in_a_browser_gets_live_guesses_and_sends(fake, db_path, tiny_classifier):
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    OUTPUT.mkdir(exist_ok=True)
    settings = settings_for(fake, db_path, **canvas_options())
    async with running_bot(fake, settings, tiny_classifier) as app, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            page = await context.new_page()
            await page.route("https://telegram.org/**", lambda route: route.abort())
            await page.add_init_script(stub_telegram(init_data_for(fake.token, ada)))
            asked: list[float] = []
            page.on("request", lambda r: asked.append(time.monotonic()) if r.url.endswith("/api/guess") else None)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            await page.goto(base_url(app) + "/draw")
            calls = await page.evaluate("window.__calls")
            assert {"ready", "expand", "disableVerticalSwipes"} <= set(calls)
            box = await page.locator("#canvas").bounding_box()
            assert box["width"] >= PHONE["width"] - 20 and box["height"] > PHONE["height"] / 2, "fills the screen"
            assert await page.locator("#send").is_disabled()

            # a circle with the mouse
            cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, box["width"] / 4
            await page.mouse.move(cx + r, cy)
            await page.mouse.down()
            for step in range(1, 33):
                angle = 2 * math.pi * step / 32
                await page.mouse.move(cx + r * math.cos(angle), cy + r * math.sin(angle))
            await page.mouse.up()
            await page.locator("#guesses .guess").nth(2).wait_for(timeout=10_000)
            assert await page.locator("#guesses .guess").count() == 3

            # two ears with a finger, quickly one after the other
            cdp = await context.new_cdp_session(page)
            before = len(asked)
            for side in (-1, 1):
                ear = [(0.7, -0.7), (0.9, -1.4), (0.3, -1.0)]
                await touch_stroke(cdp, [(cx + side * r * dx, cy + r * dy) for dx, dy in ear])
            deadline = time.monotonic() + 5
            while len(asked) == before and time.monotonic() < deadline:
                await page.wait_for_timeout(50)
            assert len(asked) > before, "touch strokes ask for new guesses"
            assert all(b - a >= 0.4 for a, b in itertools.pairwise(asked)), "at most about 2 a second"
            pixels = await page.evaluate(
                "(() => { const c = document.getElementById('canvas');"
                " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; })()"
            )
            assert pixels > 1000, "the strokes were drawn"

            await page.wait_for_timeout(300)  # let the last guesses settle for the picture
            await page.screenshot(path=str(OUTPUT / "canvas-phone.png"))

            await page.locator("#send").click()
            photo = await fake.wait_for("sendPhoto", timeout=10)
            assert photo["chat_id"] == private["id"] and photo["photo"].startswith(b"\x89PNG")
            await expect(page.locator("#status")).to_contain_text("Sent to the chat")
            assert "haptic:success" in await page.evaluate("window.__calls")
            assert not errors, errors

            # a plain browser, without Telegram's script: the page still works, and says where guesses come from
            plain = await context.new_page()
            await plain.route("https://telegram.org/**", lambda route: route.abort())
            plain.on("pageerror", lambda e: errors.append(str(e)))
            await plain.goto(base_url(app) + "/draw")
            await expect(plain.locator("#status")).to_contain_text("Open this page from Telegram")
            await plain.mouse.move(cx - r, cy)
            await plain.mouse.down()
            await plain.mouse.move(cx + r, cy + r, steps=8)
            await plain.mouse.up()
            await expect(plain.locator("#send")).to_be_enabled()
            await expect(plain.locator("#status")).to_contain_text("from Telegram")  # the API said 401
            assert not errors, errors
        finally:
            await browser.close()


async def test_the_page_speaks_the_users_language(fake, db_path, tiny_classifier):
    """A Spanish user's canvas: its buttons, titles and guessed animals in Spanish, from the bot's catalogues."""
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    ana = fake.add_user("Ana", language_code="es")
    fake.add_private_chat(ana)
    settings = settings_for(fake, db_path, **canvas_options())
    async with running_bot(fake, settings, tiny_classifier) as app, async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport=PHONE)
            await page.route("https://telegram.org/**", lambda route: route.abort())
            await page.add_init_script(stub_telegram(init_data_for(fake.token, ana)))
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            await page.goto(base_url(app) + "/draw")
            await expect(page.locator("#send")).to_have_text("Enviar")
            await expect(page.locator("#clear")).to_have_text("Borrar")
            assert await page.evaluate("document.documentElement.lang") == "es"
            assert await page.locator("#hint").text_content() == "Dibuja algo ✏️"
            box = await page.locator("#canvas").bounding_box()
            cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
            await page.mouse.move(cx - 60, cy)
            await page.mouse.down()
            await page.mouse.move(cx + 60, cy + 60, steps=8)
            await page.mouse.up()
            await page.locator("#guesses .guess").nth(2).wait_for(timeout=10_000)
            assert await page.locator("#guesses .title").text_content() == "Veo…"
            shown = await page.locator("#guesses .guess .label").all_text_contents()
            assert set(shown) <= set(LABEL_NAMES["es"].values()), shown
            assert not errors, errors
        finally:
            await browser.close()
