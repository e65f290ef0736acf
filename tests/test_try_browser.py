"""``toonzoo try`` in a real browser: the command itself on the tiny model, the page in headless Chromium.

One ``toonzoo try --no-browser --port 0`` serves the module's tests (it prints
its address). The page must load without Telegram's script (no request leaves
for telegram.org, ``window.Telegram`` stays undefined), guess live while one
draws, guess a dropped or chosen PNG, take new labels for the next guesses, and
speak Spanish to a browser set to Spanish, and play a short solo race (rounds
of 3 s: ``--rounds 3 --seconds 3``) to its end. Desktop-sized screenshots of
the page in local mode and of a race's end are saved to
``tests/output/try-local.png`` and ``tests/output/try-race-end.png``.

Without Chromium the tests skip, saying so, unless ``CI`` is set: there they fail.
"""

import contextlib
import math
import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import warm
from helpers.browser import CHROMIUM_ARGS, chromium_or_skip
from helpers.waiting import wait_until

# A real browser and another Python process; one `toonzoo try` for the module, so one worker runs it all.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("try-browser")]

OUTPUT = Path(__file__).parent / "output"
GIRAFFE = Path(__file__).parent.parent / "examples" / "giraffe.png"
DESKTOP = {"width": 820, "height": 720}
URL = re.compile(r"the canvas is at (http://\S+)")
RACE_ROUNDS = 3


@pytest.fixture(scope="module")
def try_url(tiny_model_dir, tmp_path_factory):
    """``toonzoo try`` on the tiny model, on a free port; its address."""
    db = tmp_path_factory.mktemp("try") / "toonzoo.db"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    argv = ["try", "--no-browser", "--port", "0", "--db", str(db), "--model", f"local-dir:{tiny_model_dir}"]
    argv += ["--rounds", str(RACE_ROUNDS), "--seconds", "3"]  # a short race
    process = warm.start(*argv, env=env)  # its own process, forked from a warm interpreter
    try:
        # The first line: its address (or nothing, when it failed).
        wait_until(lambda: "\n" in process.output() or process.poll() is not None, 120, "its first line")
        line = process.output().split("\n")[0]
        found = URL.search(line)
        assert found, f"no address printed: {line!r} {process.errors()}"
        yield found[1]
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
        assert process.returncode == 0, "SIGTERM stops it cleanly"


@contextlib.asynccontextmanager
async def browser_page(locale: str = "en-US"):
    """A page in a fresh headless Chromium; every host the page asked for is in ``page.hosts``."""
    executable = chromium_or_skip()
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=DESKTOP, locale=locale)
            page = await context.new_page()
            page.hosts, page.errors = set(), []
            page.on("request", lambda r: page.hosts.add(r.url.split("/")[2]))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            yield page
            assert not page.errors, page.errors
        finally:
            await browser.close()


async def draw_circle(page) -> None:
    box = await page.locator("#canvas").bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 4
    await page.mouse.move(cx + r, cy)
    await page.mouse.down()
    for step in range(1, 25):
        angle = 2 * math.pi * step / 24
        await page.mouse.move(cx + r * math.cos(angle), cy + r * math.sin(angle))
    await page.mouse.up()


async def shown_labels(page) -> list[str]:
    return [text.strip() for text in await page.locator("#guesses .guess .label").all_inner_texts()]


async def test_the_page_works_without_telegram_and_guesses_while_drawing(try_url):
    from playwright.async_api import expect

    async with browser_page() as page:
        await page.goto(try_url)
        assert await page.evaluate("typeof window.Telegram") == "undefined"
        await expect(page.locator("#local")).to_be_visible()
        await expect(page.locator("#send")).to_be_hidden()
        await expect(page.locator("#hint")).to_have_text("Draw something ✏️ or drop a picture")
        await expect(page.locator("#labels")).to_have_value(re.compile(r"^cat, dog, fox, "))
        await draw_circle(page)
        await expect(page.locator("#guesses .guess")).to_have_count(3)
        assert await page.locator("#status").inner_text() == "", "no 'open this page from Telegram'"
        assert page.hosts == {try_url.split("/")[2]}, f"nothing but the local server: {page.hosts}"
        OUTPUT.mkdir(exist_ok=True)
        await page.screenshot(path=str(OUTPUT / "try-local.png"))


async def test_a_dropped_or_chosen_picture_gets_guesses(try_url):
    from playwright.async_api import expect

    async with browser_page() as page:
        await page.goto(try_url)
        await expect(page.locator("#labels")).not_to_have_value("")
        asked = []
        page.on("request", lambda r: asked.append(r) if r.url.endswith("/api/guess") else None)
        transfer = await page.evaluate_handle(
            """(bytes) => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([new Uint8Array(bytes)], "giraffe.png", { type: "image/png" }));
                return transfer;
            }""",
            list(GIRAFFE.read_bytes()),
        )
        await page.dispatch_event("#board", "drop", {"dataTransfer": transfer})
        await expect(page.locator("#guesses .guess")).to_have_count(3)
        await expect(page.locator("#picture")).to_be_visible()
        assert len(asked) == 1, "one picture, one request"

        await page.locator("#clear").click()
        await expect(page.locator("#picture")).to_be_hidden()
        await expect(page.locator("#guesses .guess")).to_have_count(0)
        await page.set_input_files("#file", str(GIRAFFE))
        await expect(page.locator("#guesses .guess")).to_have_count(3)
        assert len(asked) == 2


async def test_new_labels_are_used_by_the_next_guesses(try_url):
    from playwright.async_api import expect

    async with browser_page() as page:
        await page.goto(try_url)
        await expect(page.locator("#labels")).not_to_have_value("")
        await draw_circle(page)
        await expect(page.locator("#guesses .guess")).to_have_count(3)
        await page.locator("#labels").fill("robot, rocket, tulip, kite")
        await page.locator("#use-labels").click()
        await expect(page.locator("#labels")).to_have_value("robot, rocket, tulip, kite")
        await expect(page.locator("#pack")).to_have_value("")
        wanted = {"robot", "rocket", "tulip", "kite"}
        await expect(page.locator("#guesses .guess .label").first).to_have_text(
            re.compile("^(robot|rocket|tulip|kite)$")
        )
        assert set(await shown_labels(page)) <= wanted, "the drawing was guessed again over the new labels"

        await page.locator("#pack").select_option("animals")  # back to the defaults, for the other tests
        await expect(page.locator("#labels")).to_have_value(re.compile(r"^cat, dog, fox, "))
        await expect(page.locator("#guesses .guess .label").first).not_to_have_text(
            re.compile("^(robot|rocket|tulip|kite)$")
        )


async def test_the_page_speaks_the_browsers_language(try_url):
    from playwright.async_api import expect

    async with browser_page(locale="es-ES") as page:
        await page.goto(try_url)
        await expect(page.locator("#hint")).to_have_text("Dibuja algo ✏️ o suelta una imagen")
        await expect(page.locator("#choose")).to_have_text("🖼 Elegir una imagen")
        await expect(page.locator("#labels")).to_have_value(re.compile(r"^gato, perro, zorro, "))
        assert await page.evaluate("document.documentElement.lang") == "es"


async def test_a_solo_race_on_this_computer(try_url):
    """Play solo over three labels, one drawing a round. The tiny model's top guess is the same for the same
    drawing, and each label is one round's target, so exactly one round is won live (with three labels no
    round is won on time: that needs two thirds, which only a top guess has); the others time out."""
    from playwright.async_api import expect

    async with browser_page() as page:
        await page.goto(try_url)
        await expect(page.locator("#labels")).not_to_have_value("")
        await page.locator("#labels").fill("robot, rocket, kite")
        await page.locator("#use-labels").click()
        await expect(page.locator("#status")).to_have_text("Labels: 3.")
        await expect(page.locator("#play-solo")).to_have_text("▶ Play solo")
        await page.locator("#play-solo").click()
        await expect(page.locator("#local")).to_be_hidden()
        await expect(page.locator("#play-solo")).to_be_hidden()
        targets = []
        for number in range(1, RACE_ROUNDS + 1):
            await expect(page.locator("#round-no")).to_have_text(f"Round {number}/{RACE_ROUNDS}", timeout=10_000)
            await expect(page.locator("#clock")).to_be_visible()
            targets.append(await page.locator("#target").inner_text())
            await draw_circle(page)
            await expect(page.locator("#guesses .guess")).to_have_count(3)
        assert len({t.removeprefix("Draw: ").strip() for t in targets}) == RACE_ROUNDS, targets

        await expect(page.locator("#over")).to_be_visible(timeout=10_000)
        figures = page.locator("#gallery figure")
        await expect(figures).to_have_count(RACE_ROUNDS)
        await expect(page.locator("#gallery img")).to_have_count(RACE_ROUNDS)  # each round's drawing
        captions = await page.locator("#gallery figcaption").all_inner_texts()
        assert all("I thought: " in caption for caption in captions), captions
        assert sum("✓" in caption for caption in captions) == 1, f"one round won live: {captions}"
        await expect(page.locator("#best")).to_have_text(f"🏅 A new personal best: 1 of {RACE_ROUNDS}!")
        await expect(page.locator("#play-solo")).to_have_text("▶ Play again")
        OUTPUT.mkdir(exist_ok=True)
        await page.screenshot(path=str(OUTPUT / "try-race-end.png"))

        await page.locator("#leave").click()  # back to drawing freely
        await expect(page.locator("#over")).to_be_hidden()
        await expect(page.locator("#local")).to_be_visible()
        await expect(page.locator("#tools")).to_be_visible()
        await page.locator("#pack").select_option("animals")  # back to the defaults, for the other tests
        await expect(page.locator("#labels")).to_have_value(re.compile(r"^cat, dog, fox, "))
        assert page.hosts == {try_url.split("/")[2]}, f"nothing but the local server: {page.hosts}"
