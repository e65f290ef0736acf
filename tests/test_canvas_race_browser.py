"""The canvas page in a game, in a real browser (headless Chromium through Playwright).

The page is the client of ``GET /api/round`` and of ``POST /api/guess``'s
``won``/``round`` fields. Here it is served by ``RoundScript``, a small aiohttp
server that hands out the real page (``bot.webapp.routes.draw_page``, with its
Content-Security-Policy) and the real catalogue words (``page_texts``), and
answers the round and the guesses as a test scripts them: the page's part of
the race is checked on its own, whatever the model or the game rules say. A
phone-sized screenshot of a round in progress is saved to
``tests/output/race-phone.png``.
"""

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web
from helpers.browser import CHROMIUM_ARGS, PHONE, chromium_or_skip, stub_telegram

from bot.i18n import get_translator
from bot.webapp.routes import draw_page
from bot.webapp.texts import page_texts

pytestmark = pytest.mark.slow  # a real browser

OUTPUT = Path(__file__).parent / "output"
INIT_DATA = "query_id=AAH&user=%7B%22id%22%3A1%2C%22first_name%22%3A%22Ada%22%7D&auth_date=1&hash=00"
GUESS_TAKES_S = 0.1  # the scripted model's thinking time: long enough for overlapping requests to show
DARK_PIXELS = (
    "(() => { const c = document.getElementById('canvas');"
    " const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
    " let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; })()"
)


def a_round(state: str, number: int = 2, rounds: int = 5, target: str = "giraffe", emoji: str = "🦒", **more) -> dict:
    """A round as ``GET /api/round`` describes it."""
    return {
        "state": state,
        "round": number,
        "rounds": rounds,
        "target": target,
        "emoji": emoji,
        "ends_in_s": 13.2 if state == "drawing" else None,
        "winner": None,
        "language": "en",
        "solo": False,
        "standings": [],
        "results": [],
        **more,
    }


def guesses(*pairs: tuple[str, float], won: bool = False, then: dict | None = None) -> dict:
    """One scripted answer of ``POST /api/guess``; ``then`` is the round it leaves behind."""
    return {"guesses": [{"label": label, "score": score} for label, score in pairs], "won": won, "then": then}


class RoundScript:
    """The canvas API as a test scripts it: the real page and words, rounds and guesses from the test."""

    def __init__(self, language: str = "en"):
        self.language = language
        self.round = {"state": "none"}
        self.answers: list[dict] = []  # the next guesses' answers, in order; then no guesses
        self.polls: list[float] = []  # when GET /api/round was asked
        self.pictures: list[bytes] = []
        self.authorizations: set[str] = set()
        self.in_flight = self.most_in_flight = 0
        self.app = web.Application()
        self.app.router.add_get("/draw", draw_page)
        self.app.router.add_get("/api/texts", self.texts)
        self.app.router.add_get("/api/round", self.get_round)
        self.app.router.add_post("/api/guess", self.guess)
        self.runner = web.AppRunner(self.app)

    @property
    def round(self) -> dict:
        """The round now, its remaining time counting down from when the test set it."""
        if self._round.get("ends_in_s") is None:
            return self._round
        return {**self._round, "ends_in_s": round(max(0.0, self._ends_at - time.monotonic()), 2)}

    @round.setter
    def round(self, value: dict) -> None:
        self._round = value
        self._ends_at = time.monotonic() + (value.get("ends_in_s") or 0)

    async def start(self) -> str:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/draw"

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def texts(self, request: web.Request) -> web.Response:
        t = get_translator(self.language)
        return web.json_response({"language": t.language, "texts": page_texts(t)})

    async def get_round(self, request: web.Request) -> web.Response:
        self.polls.append(time.monotonic())
        self.authorizations.add(request.headers.get("Authorization", ""))
        return web.json_response(self.round)

    async def guess(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            self.pictures.append(await request.read())
            await asyncio.sleep(GUESS_TAKES_S)
            answer = self.answers.pop(0) if self.answers else guesses()
            if answer["then"] is not None:
                self.round = answer["then"]
            body = {"guesses": answer["guesses"], "won": answer["won"]}
            if self.round["state"] != "none":
                body["round"] = self.round
            return web.json_response(body)
        finally:
            self.in_flight -= 1


async def until(condition, timeout_s: float = 5.0) -> None:
    """Wait for ``condition()`` to hold (on the test's side, where the script's records are)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


class Race:
    """A browser page opened on the canvas."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def stroke(self, dx: float = 0.0, points=None) -> None:
        """A stroke through ``points`` (fractions of the canvas), by default a zigzag shifted by ``dx``."""
        box = await self.page.locator("#canvas").bounding_box()
        points = points or [(0.3 + dx + 0.3 * step / 8, 0.5 + (0.03 if step % 2 else -0.03)) for step in range(9)]
        for i, (fx, fy) in enumerate(points):
            await self.page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
            if i == 0:
                await self.page.mouse.down()
        await self.page.mouse.up()

    async def calls(self) -> list[str]:
        return await self.page.evaluate("window.__calls")

    async def dark_pixels(self) -> int:
        return await self.page.evaluate(DARK_PIXELS)


async def open_race(browser, url: str, viewport=PHONE, before: str = "", **telegram) -> Race:
    """The page as Telegram would open it from the game's link (no network: Telegram's own script is blocked)."""
    context = await browser.new_context(viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.route("https://telegram.org/**", lambda route: route.abort())
    await page.add_init_script(stub_telegram(INIT_DATA, **telegram) + before)
    race = Race(page)
    await page.goto(url)
    return race


# body, neck and head, four legs: fractions of the canvas
GIRAFFE = [
    [(0.3, 0.55), (0.65, 0.55), (0.65, 0.68), (0.3, 0.68), (0.3, 0.55)],
    [(0.6, 0.55), (0.68, 0.28), (0.78, 0.26), (0.77, 0.31), (0.7, 0.32), (0.65, 0.56)],
    [(0.33, 0.68), (0.33, 0.82), (0.4, 0.82), (0.4, 0.68), (0.55, 0.68), (0.55, 0.82), (0.62, 0.82), (0.62, 0.68)],
]


def seconds(clock: str) -> int:
    minutes, secs = clock.split(":")
    return int(minutes) * 60 + int(secs)


async def launch(p):
    return await p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)


async def test_a_round_in_progress_shows_its_target_and_clock_and_the_ai_speaks():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript()
    script.answers = [
        guesses(("cloud", 0.41), ("snake", 0.2), ("giraffe", 0.1)),
        guesses(("cloud", 0.38), ("snake", 0.3), ("giraffe", 0.12)),  # the same top guess: nothing new to say
        guesses(("snake", 0.5), ("giraffe", 0.2), ("cloud", 0.1)),
    ]
    OUTPUT.mkdir(exist_ok=True)
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            script.round = a_round("drawing", standings=[{"name": "Bob", "points": 1}, {"name": "Ada", "points": 0}])
            opened = time.monotonic()
            race = await open_race(browser, url)
            page = race.page
            await expect(page.locator("#round-no")).to_have_text("Round 2/5")
            await expect(page.locator("#target")).to_have_text("Draw: giraffe 🦒")
            await expect(page.locator("#scores")).to_have_text("🏆 Bob 1")
            await expect(page.locator("#send")).to_be_hidden()  # live guesses judge: nothing to send
            first, elapsed = seconds(await page.locator("#clock").text_content()), time.monotonic() - opened
            assert abs(first - (13.2 - elapsed)) <= 1.5, (first, elapsed)  # the server's 13.2 s, counting down
            assert {"requestFullscreen", "disableVerticalSwipes"} <= set(await race.calls())

            for n, part in enumerate(GIRAFFE, start=1):
                await race.stroke(points=part)
                await until(lambda n=n: len(script.pictures) >= n)  # each stroke is looked at
                if n == 1:
                    await expect(page.locator("#speech")).to_contain_text("I see… cloud?")
            await expect(page.locator("#speech")).to_contain_text("or snake?")
            spoken = await page.locator("#speech span").all_text_contents()
            assert spoken[-2:] == ["I see… cloud?", "or snake?"], spoken
            assert await page.locator(".guess.target .label").text_content() == "giraffe"  # the target stands out

            await page.wait_for_timeout(1500)
            shown, elapsed = seconds(await page.locator("#clock").text_content()), time.monotonic() - opened
            assert abs(shown - (13.2 - elapsed)) <= 1.5, (shown, elapsed)  # counting down from the server's 13.2 s
            await page.screenshot(path=str(OUTPUT / "race-phone.png"))

            assert script.most_in_flight == 1, "never two pictures at once"
            assert len(script.polls) >= 2, "the page asks for the round about once a second"
            gaps = [b - a for a, b in zip(script.polls, script.polls[1:], strict=False)]
            assert all(0.7 <= gap <= 2.0 for gap in gaps), gaps
            assert script.authorizations == {f"tma {INIT_DATA}"}
            assert not race.errors, race.errors
        finally:
            await browser.close()
            await script.stop()


async def test_a_win_celebrates_and_the_next_round_clears_the_canvas():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript()
    script.round = a_round("drawing", 1, 3)
    won = a_round("between", 1, 3, winner={"name": "Ada"}, standings=[{"name": "Ada", "points": 1}])
    script.answers = [guesses(("giraffe", 0.7), ("horse", 0.1), ("zebra", 0.05), won=True, then=won)]
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url)
            page = race.page
            await expect(page.locator("#target")).to_have_text("Draw: giraffe 🦒")
            await race.stroke()
            await expect(page.locator("#banner")).to_contain_text("You got it!")
            await expect(page.locator("#speech")).to_contain_text("Oh, I know! It's giraffe!")
            await expect(page.locator("#board")).to_have_class("win")
            assert "haptic:success" in await race.calls()
            await expect(page.locator("#scores")).to_have_text("🏆 Ada 1")

            # between rounds the drawing stays as it was: no strokes, no guesses
            drawn, asked = await race.dark_pixels(), len(script.pictures)
            assert drawn > 100
            await race.stroke(0.2)
            await page.wait_for_timeout(700)
            assert (await race.dark_pixels(), len(script.pictures)) == (drawn, asked)

            # the next round, learned by polling: a clean canvas and the new target
            script.round = a_round("drawing", 2, 3, target="zebra", emoji="🦓", ends_in_s=20.0)
            await expect(page.locator("#target")).to_have_text("Draw: zebra 🦓", timeout=2500)
            await expect(page.locator("#round-no")).to_have_text("Round 2/3")
            await expect(page.locator("#banner")).to_be_hidden()
            assert await race.dark_pixels() == 0
            assert "giraffe" not in await page.locator("#speech").text_content()
            assert seconds(await page.locator("#clock").text_content()) in (19, 20)
            await race.stroke()
            await until(lambda: len(script.pictures) > asked)
            assert not race.errors, race.errors
        finally:
            await browser.close()
            await script.stop()


async def test_another_players_win_and_a_round_nobody_won_show_within_a_second():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript()
    script.round = a_round("drawing", 1, 2)
    script.answers = [guesses(("cloud", 0.4), ("snake", 0.3), ("giraffe", 0.2))]
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url)
            page = race.page
            await race.stroke()
            await expect(page.locator("#speech")).to_contain_text("I see… cloud?")
            script.round = a_round("between", 1, 2, winner={"name": "Bob"}, standings=[{"name": "Bob", "points": 1}])
            await expect(page.locator("#banner")).to_contain_text("Bob got it!", timeout=2000)
            await expect(page.locator("#banner")).to_contain_text("Next round coming…")
            await expect(page.locator("#board")).not_to_have_class("win")
            assert "haptic:success" not in await race.calls()

            script.round = a_round("drawing", 2, 2, target="zebra", emoji="🦓")
            await expect(page.locator("#target")).to_have_text("Draw: zebra 🦓", timeout=2000)
            script.round = a_round("between", 2, 2, target="zebra", emoji="🦓")
            await expect(page.locator("#banner")).to_have_text("Nobody got it: zebra 🦓", timeout=2000)
            assert not race.errors, race.errors
        finally:
            await browser.close()
            await script.stop()


async def test_the_end_of_a_group_game_shows_the_standings_and_stops_asking():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript()
    script.round = a_round(
        "over",
        2,
        2,
        standings=[{"name": "Ada", "points": 1}, {"name": "Bob", "points": 0}],
        results=[
            {"round": 1, "target": "giraffe", "emoji": "🦒", "winner": "Ada"},
            {"round": 2, "target": "zebra", "emoji": "🦓", "winner": None},
        ],
    )
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url, platform="tdesktop")
            page = race.page
            await expect(page.locator("#over h2")).to_have_text("Game over")
            await expect(page.locator("#standings li")).to_have_count(2)
            rows = [" ".join(row.split()) for row in await page.locator("#standings li").all_inner_texts()]
            assert rows == ["🥇 Ada 1", "🥈 Bob 0"], rows
            assert await page.locator("#results li").all_text_contents() == [
                "1. giraffe 🦒 · Ada",
                "2. zebra 🦓 · nobody",
            ]
            await expect(page.locator("#tools")).to_be_hidden()
            await expect(page.locator("#gallery figure")).to_have_count(0)  # the gallery is solo's
            await page.wait_for_timeout(2200)
            assert len(script.polls) == 1, "a finished game is not asked about again"
            assert "requestFullscreen" not in await race.calls(), "a desktop window does not take the screen"
            assert not race.errors, race.errors
        finally:
            await browser.close()
            await script.stop()


async def test_a_solo_game_ends_with_each_rounds_drawing_and_what_the_ai_thought():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    def solo(state, number, target, emoji, **more):
        return a_round(state, number, 3, target=target, emoji=emoji, solo=True, **more)

    script = RoundScript()
    script.round = solo("drawing", 1, "giraffe", "🦒")
    script.answers = [
        guesses(
            ("giraffe", 0.6),
            ("horse", 0.2),
            ("zebra", 0.1),
            won=True,
            then=solo("between", 1, "giraffe", "🦒", winner={"name": "Ada"}),
        ),
        guesses(("horse", 0.5), ("donkey", 0.3), ("zebra", 0.1)),
    ]
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url)
            page = race.page
            await race.stroke()
            await expect(page.locator("#banner")).to_contain_text("You got it!")
            script.round = solo("drawing", 2, "zebra", "🦓")
            await expect(page.locator("#target")).to_have_text("Draw: zebra 🦓", timeout=2000)
            await race.stroke()
            await expect(page.locator("#speech")).to_contain_text("I see… horse?")
            script.round = solo("between", 2, "zebra", "🦓")
            await expect(page.locator("#banner")).to_contain_text("Nobody got it", timeout=2000)
            script.round = solo("drawing", 3, "cat", "🐱")  # nothing drawn in this one
            await expect(page.locator("#target")).to_have_text("Draw: cat 🐱", timeout=2000)
            script.round = solo(
                "over",
                3,
                "cat",
                "🐱",
                standings=[{"name": "Ada", "points": 1}],
                results=[
                    {"round": 1, "target": "giraffe", "emoji": "🦒", "winner": "Ada"},
                    {"round": 2, "target": "zebra", "emoji": "🦓", "winner": None},
                    {"round": 3, "target": "cat", "emoji": "🐱", "winner": None},
                ],
            )
            await expect(page.locator("#gallery figure")).to_have_count(3, timeout=2000)
            captions = await page.locator("#gallery figcaption").all_text_contents()
            assert captions == [
                "1. giraffe 🦒 ✓I thought: giraffe, horse, zebra",
                "2. zebra 🦓 ✗I thought: horse, donkey, zebra",
                "3. cat 🐱 ✗",
            ], captions
            sources = [await img.get_attribute("src") for img in await page.locator("#gallery img").all()]
            assert len(sources) == 2 and all(src.startswith("data:image/png;base64,") for src in sources)
            await expect(page.locator("#gallery .blank")).to_have_text("Nothing drawn")
            await expect(page.locator("#results li")).to_have_count(0)  # solo shows the drawings instead
            assert not race.errors, race.errors
        finally:
            await browser.close()
            await script.stop()


FAKE_VOICES = """
window.__spoken = [];
Object.defineProperty(window, "speechSynthesis", { configurable: true, value: {
    getVoices() { return [{ lang: "en-US", name: "English" }, { lang: "es-ES", name: "Español" }]; },
    speak(u) { window.__spoken.push([u.lang, u.text, u.voice && u.voice.name]); },
    cancel() {},
} });
window.SpeechSynthesisUtterance = function (text) { this.text = text; };
"""
NO_VOICES = 'delete window.speechSynthesis; delete window.SpeechSynthesisUtterance; window.__spoken = "none";'


async def test_the_voice_is_off_until_toggled_speaks_the_chats_language_and_may_be_missing():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript("es")
    script.round = a_round("drawing", target="jirafa", language="es")
    script.answers = [guesses(("nube", 0.4), ("jirafa", 0.2)), guesses(("serpiente", 0.4), ("jirafa", 0.3))]
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url, before=FAKE_VOICES)
            page = race.page
            await expect(page.locator("#target")).to_have_text("Dibuja: jirafa 🦒")
            voice = page.locator("#voice")
            await expect(voice).to_be_visible()
            await expect(voice).to_have_attribute("aria-pressed", "false")
            await expect(voice).to_have_attribute("aria-label", "Leer las suposiciones en voz alta")
            await race.stroke()
            await expect(page.locator("#speech")).to_contain_text("Veo… ¿nube?")
            assert await page.evaluate("window.__spoken") == [], "silent by default"
            await voice.click()
            await expect(voice).to_have_attribute("aria-pressed", "true")
            await race.stroke(0.2)
            await expect(page.locator("#speech")).to_contain_text("¿o serpiente?")
            spoken = await page.evaluate("window.__spoken")
            assert spoken == [["es", "Veo… ¿nube?", "Español"], ["es", "¿o serpiente?", "Español"]], spoken
            assert not race.errors, race.errors

            # a browser with no speech synthesis at all: no toggle, the words still come
            script.answers = [guesses(("nube", 0.4), ("jirafa", 0.2))]
            mute = await open_race(browser, url, before=NO_VOICES)
            await expect(mute.page.locator("#target")).to_have_text("Dibuja: jirafa 🦒")
            await expect(mute.page.locator("#voice")).to_be_hidden()
            await mute.stroke()
            await expect(mute.page.locator("#speech")).to_contain_text("Veo… ¿nube?")
            assert not mute.errors, mute.errors
        finally:
            await browser.close()
            await script.stop()


NARROW = {"width": 360, "height": 640}
NOTHING_OUTSIDE = """(() => {
    const width = document.documentElement.clientWidth, out = [];
    for (const el of document.querySelectorAll("body *")) {
        const box = el.getBoundingClientRect();
        if (box.width && (box.left < -0.5 || box.right > width + 0.5)) out.push(el.id || el.className || el.tagName);
    }
    const cut = [...document.querySelectorAll("button")]
        .filter((b) => b.offsetParent && b.scrollWidth > b.clientWidth + 1).map((b) => b.id || b.textContent);
    return { scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, width, out, cut };
})()"""


async def test_a_360_px_phone_in_russian_has_no_horizontal_scroll_and_keeps_clear_of_telegrams_controls():
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    script = RoundScript("ru")
    script.round = a_round(
        "drawing",
        target="бегемот",
        emoji="🦛",
        language="ru",
        standings=[{"name": "Александра Константиновна", "points": 2}, {"name": "Вячеслав", "points": 1}],
    )
    script.answers = [guesses(("крокодил", 0.4), ("бегемот", 0.3), ("носорог", 0.1))]
    safe_area = {"safe-area-inset-top": 24, "content-safe-area-inset-top": 46, "safe-area-inset-bottom": 20}
    async with async_playwright() as p:
        browser = await launch(p)
        url = await script.start()
        try:
            race = await open_race(browser, url, viewport=NARROW, safe_area=safe_area)
            page = race.page
            await expect(page.locator("#target")).to_have_text("Рисуйте: бегемот 🦛")
            await race.stroke()
            await expect(page.locator("#speech")).to_contain_text("Я вижу… крокодил?")
            layout = await page.evaluate(NOTHING_OUTSIDE)
            assert layout["scroll"] <= 360 and layout["body"] <= 360 and not layout["out"] and not layout["cut"], layout
            header = await page.locator("#round").bounding_box()
            assert header["y"] >= 24 + 46, "below the status bar and Telegram's full-screen buttons"
            tools = await page.locator("#tools").bounding_box()
            assert tools["y"] + tools["height"] <= NARROW["height"] - 20 + 0.5, "above the home bar"
            canvas = await page.locator("#canvas").bounding_box()
            assert canvas["height"] >= 250, canvas

            # the plain canvas (no game) on the same phone: Send is back and fits
            await race.page.close()
            script.round = {"state": "none"}
            asked = len(script.polls)
            plain = await open_race(browser, url, viewport=NARROW)
            await expect(plain.page.locator("#send")).to_have_text("Отправить")
            await expect(plain.page.locator("#send")).to_be_visible()
            await expect(plain.page.locator("#round")).to_be_hidden()
            await plain.page.wait_for_timeout(1500)
            layout = await plain.page.evaluate(NOTHING_OUTSIDE)
            assert layout["scroll"] <= 360 and not layout["out"] and not layout["cut"], layout
            assert "requestFullscreen" not in await plain.calls(), "the plain canvas looks as it always did"
            assert len(script.polls) == asked + 1, "no game: asked once, then never again"
            assert not race.errors and not plain.errors, (race.errors, plain.errors)
        finally:
            await browser.close()
            await script.stop()
