"""The live race in a real browser against the real bot: two players' pages opened from the round's link,
player A wins live with no Send, the group gets the drawing, B's page learns it, and both pages move on to
round 2 without being reopened (Debian's Chromium through Playwright; a scripted engine)."""

import asyncio

import pytest
from helpers.bot import FAST, in_chat, running_bot, settings_for, target_of
from helpers.browser import CHROMIUM_ARGS, PHONE, chromium_or_skip, stub_telegram
from helpers.canvas import base_url, canvas_options, init_data_for, start_param_of

from bot.app import build_application
from toonzoo_tools.scripted_engine import ScriptedEngine

pytestmark = pytest.mark.slow  # a real browser and a real round


class SeesItOnTheThirdStroke(ScriptedEngine):
    """Canvas drawings look like nothing in particular until the third live guess of a round: the target."""

    def __init__(self):
        super().__init__()
        self.target: str | None = None
        self.guesses = 0

    async def classify(self, image, labels, top_k=3, language="en", *, examples=None):
        if self.target is not None and self.target in labels:
            self.guesses += 1
            if self.guesses >= 3:
                self.verdicts[image] = {self.target: 0.9}
        return await super().classify(image, labels, top_k, language, examples=examples)


async def shows(page, selector: str, text: str, timeout: float = 5.0) -> None:
    """Wait until ``selector``'s text holds ``text`` (polling: the page's CSP allows no eval)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while text not in await page.locator(selector).inner_text():
        assert loop.time() < deadline, f"{selector} never showed {text!r}"
        await asyncio.sleep(0.1)


async def called(page, name: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while name not in await page.evaluate("window.__calls"):
        assert loop.time() < deadline, f"the page never called {name}"
        await asyncio.sleep(0.1)


async def stroke(page, offset: int) -> None:
    box = await page.locator("#canvas").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    await page.mouse.move(x - 60 + offset, y - 40)
    await page.mouse.down()
    await page.mouse.move(x + 60 - offset, y + 40, steps=6)
    await page.mouse.up()


async def test_a_group_round_won_live_on_the_canvas(fake, db_path):
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    ada, bob = fake.add_user("Ada"), fake.add_user("Bob")
    group = fake.add_group("Zoo", [(ada, "creator"), (bob, "member")])
    engine = SeesItOnTheThirdStroke()

    def build(settings, _classifier):
        return build_application(
            settings, engine=engine, game_rules=FAST.__class__(**{**FAST.__dict__, "pause_s": 2.0})
        )

    async with running_bot(fake, settings_for(fake, db_path, **canvas_options()), None, build=build) as app:
        fake.send_text(group, ada, "/game 2 30")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/2"))
        _, engine.target = target_of(announcement["text"])
        token = start_param_of(announcement["reply_markup"]["inline_keyboard"][0][0]["url"])
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            try:
                pages = []
                for user in (ada, bob):
                    page = await browser.new_page(viewport=PHONE)
                    await page.add_init_script(stub_telegram(init_data_for(fake.token, user, token)))
                    await page.goto(base_url(app) + "/draw")
                    pages.append(page)
                a_page, b_page = pages
                for page in pages:
                    await shows(page, "#target", engine.target)
                    assert not await page.locator("#send").is_visible(), "no Send in a round"
                for offset in (0, 20, 40):
                    await stroke(a_page, offset)
                    await asyncio.sleep(0.7)  # the page asks at most twice a second
                posted = await fake.wait_for("sendPhoto", lambda q: q["chat_id"] == group["id"], timeout=10)
                assert posted["caption"].startswith(f"🎉 Ada wins the round: {engine.target}")
                await called(a_page, "haptic:success")
                await shows(b_page, "#banner", "Ada")
                second = await fake.wait_for("sendMessage", in_chat(group, "Round 2/2"), timeout=10)
                _, target2 = target_of(second["text"])
                for page in pages:  # the same pages, not reopened
                    await shows(page, "#target", target2)
            finally:
                await browser.close()
        fake.send_text(group, ada, "/stop")
        await fake.wait_for("sendPhoto", in_chat(group, "Game stopped"))  # with the gallery
