"""Sharing a solo race's card from the canvas page, in a real browser (headless Chromium through Playwright).

The page is served by ``ShareScript``, a small aiohttp server that hands out the
real page (``bot.webapp.routes.draw_page``) and words (``page_texts``), and
answers ``GET /api/round`` and ``POST /api/share`` as the test scripts them.
Telegram's side is the stub ``Telegram.WebApp`` (``helpers.browser``) with a
``shareMessage`` that records the prepared id it is handed, where the client
has one (Bot API 8.0).
"""

import pytest
from aiohttp import web
from helpers.browser import CHROMIUM_ARGS, PHONE, chromium_or_skip, stub_telegram
from helpers.waiting import until

from bot.i18n import get_translator
from bot.webapp.routes import draw_page
from bot.webapp.texts import page_texts

pytestmark = pytest.mark.slow  # a real browser

INIT_DATA = "query_id=AAH&user=%7B%22id%22%3A1%2C%22first_name%22%3A%22Ada%22%7D&auth_date=1&hash=00"
PREPARED_ID = "prep000042"
# Bot API 8.0's shareMessage(id, callback): recorded, and the user picks a chat (the callback says it was sent).
SHARE_MESSAGE = """
window.Telegram.WebApp.shareMessage = function (id, callback) {
    window.__calls.push("shareMessage:" + id);
    if (callback) setTimeout(() => callback(true), 0);
};
"""


def solo_round(state: str, solo: bool = True) -> dict:
    """Round 3 of 3 of a race, as ``GET /api/round`` describes it."""
    return {
        "state": state,
        "round": 3,
        "rounds": 3,
        "target": "cat",
        "emoji": "🐱",
        "ends_in_s": 1.0 if state == "drawing" else None,
        "winner": None,
        "language": "en",
        "solo": solo,
        "standings": [{"name": "Ada", "points": 2}],
        "results": [{"round": n, "target": "cat", "emoji": "🐱", "winner": "Ada" if n < 3 else None} for n in (1, 2, 3)]
        if state == "over"
        else [],
    }


class ShareScript:
    """The canvas API as the test scripts it: the real page and words, the round, and the prepared card."""

    def __init__(self):
        self.round = solo_round("drawing")
        self.share_answer: tuple[int, dict] = (200, {"id": PREPARED_ID})
        self.shares: list[str] = []  # the Authorization of each POST /api/share
        self.app = web.Application()
        self.app.router.add_get("/draw", draw_page)
        self.app.router.add_get("/api/texts", self.texts)
        self.app.router.add_get("/api/round", self.get_round)
        self.app.router.add_post("/api/share", self.share)
        self.runner = web.AppRunner(self.app)

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self.runner.addresses[0][1]}/draw"

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def texts(self, request: web.Request) -> web.Response:
        t = get_translator("en")
        return web.json_response({"language": t.language, "texts": page_texts(t)})

    async def get_round(self, request: web.Request) -> web.Response:
        return web.json_response(self.round)

    async def share(self, request: web.Request) -> web.Response:
        self.shares.append(request.headers.get("Authorization", ""))
        status, body = self.share_answer
        return web.json_response(body, status=status)


async def open_page(browser, url: str, version: str = "8.0", share_message: bool = True):
    """The page as Telegram opens it from a race's button; (page, page errors)."""
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.route("https://telegram.org/**", lambda route: route.abort())
    await page.add_init_script(stub_telegram(INIT_DATA, version=version) + (SHARE_MESSAGE if share_message else ""))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(url)
    return page, errors


async def calls(page) -> list[str]:
    return await page.evaluate("window.__calls")


async def test_the_end_of_a_solo_race_offers_share_which_hands_telegram_the_prepared_card():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = ShareScript()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        url = await script.start()
        try:
            page, errors = await open_page(browser, url)
            await expect(page.locator("#target")).to_have_text("Draw: cat 🐱")
            share = page.locator("#share")
            await expect(share).to_be_hidden()  # not while racing
            script.round = solo_round("over")
            await expect(page.locator("#over h2")).to_have_text("Game over", timeout=3000)
            await expect(share).to_be_visible()
            await expect(share).to_have_text("Share")
            await share.click()
            await until(lambda: len(script.shares) == 1)
            assert script.shares == [f"tma {INIT_DATA}"]
            await expect(page.locator("#status")).to_have_text("Shared ✓")
            assert f"shareMessage:{PREPARED_ID}" in await calls(page)

            # no card on the server (a race nobody drew in): its words, and nothing handed to Telegram
            script.share_answer = (404, {"error": "No race card to share yet: finish a race with /play first."})
            await share.click()
            await expect(page.locator("#status")).to_have_text(
                "No race card to share yet: finish a race with /play first."
            )
            assert [c for c in await calls(page) if c.startswith("shareMessage")] == [f"shareMessage:{PREPARED_ID}"]
            assert not errors, errors
        finally:
            await browser.close()
            await script.stop()


async def test_no_share_before_bot_api_8_or_after_a_group_game():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = ShareScript()
    script.round = solo_round("over")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)
        url = await script.start()
        try:
            for version, share_message in (("7.10", True), ("8.0", False)):  # an older client; no shareMessage
                page, errors = await open_page(browser, url, version=version, share_message=share_message)
                await expect(page.locator("#over h2")).to_have_text("Game over")
                await expect(page.locator("#standings li")).to_have_count(1)
                await expect(page.locator("#share")).to_be_hidden()
                assert not errors, errors
            script.round = solo_round("over", solo=False)  # a group's game: its gallery went to the group
            page, errors = await open_page(browser, url)
            await expect(page.locator("#results li")).to_have_count(3)
            await expect(page.locator("#share")).to_be_hidden()
            assert script.shares == []
            assert not errors, errors
        finally:
            await browser.close()
            await script.stop()
