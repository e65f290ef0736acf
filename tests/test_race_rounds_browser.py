"""The race in a real browser against the real bot, beyond a live win: a round that times out, a solo race
started from the page's Play solo button and played through its six rounds, and a phone-size screenshot of
a round in progress (``tests/output/race-round-phone.png``; ``solo-start-phone.png`` and
``solo-end-phone.png`` beside it). Debian's Chromium through Playwright; the fake Bot API; an engine scripted
per round; rounds of a few seconds."""

import re
from pathlib import Path

import pytest
from helpers.bot import ScriptedEngine, game_bot, in_chat, other_than, target_of
from helpers.browser import CHROMIUM_ARGS, SMALL_PHONE, chromium_or_skip, phone_page, stroke
from helpers.canvas import base_url, canvas_options, init_data_for, start_param_of

from bot.context import games_of
from bot.game_service import GameService
from bot.replies import get_emoji

pytestmark = pytest.mark.slow  # a real browser and rounds in real time

OUTPUT = Path(__file__).parent / "output"
SECONDS = 3  # a round: long enough for the page to see it (it asks once a second) and draw in it
ROUND_S = 8.0  # the longest wait for a round to show: its pause, a late poll, a slow machine


class SeesPerRound(ScriptedEngine):
    """Any picture, in round n of ``chat_id``'s game, looks as ``plan[n]`` says:
    "hit": the target, top; "close": another label top, the target at 40% (above the time-up floor);
    "miss": another label top, the target at 10% (below it)."""

    def __init__(self, plan: dict[int, str]):
        super().__init__()
        self.plan = plan
        self.games: GameService | None = None
        self.chat_id = 0

    def follow(self, games: GameService, chat_id: int) -> None:
        self.games, self.chat_id = games, chat_id

    async def classify(self, image, labels, top_k=3, language="en", *, examples=None):
        game = self.games.get(self.chat_id) if self.games is not None else None
        round_ = game.current if game is not None else None
        if round_ is None:
            return await super().classify(image, labels, top_k, language, examples=examples)
        target, kind = round_.target, self.plan.get(round_.number, "miss")  # the same drawing, another round
        if kind == "hit":
            self.verdicts[image] = {target: 0.9}
        else:
            self.verdicts[image] = {other_than(target): 0.5, target: 0.4 if kind == "close" else 0.1}
        return await super().classify(image, labels, top_k, language, examples=examples)


def shown(target: str) -> str:
    return f"{target} {get_emoji(target)}"


async def launch(p):
    return await p.chromium.launch(executable_path=chromium_or_skip(), args=CHROMIUM_ARGS)


async def test_rounds_that_time_out_show_their_result_then_the_next_target(fake, db_path):
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    ada = fake.add_user("Ada")
    group = fake.add_group("Zoo", [(ada, "creator")])
    engine = SeesPerRound({1: "miss", 2: "close"})  # nobody gets round 1; round 2 goes to Ada on time
    OUTPUT.mkdir(exist_ok=True)
    async with game_bot(fake, db_path, engine, options=canvas_options(), warning_s=0, pause_s=1.5) as app:
        engine.follow(games_of(app), group["id"])
        fake.send_text(group, ada, f"/game 2 {SECONDS}")
        announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/2"))
        _, target = target_of(announcement["text"])
        token = start_param_of(announcement["reply_markup"]["inline_keyboard"][0][0]["url"])
        async with async_playwright() as p:
            browser = await launch(p)
            try:
                page = await phone_page(browser, base_url(app) + "/draw", init_data_for(fake.token, ada, token))
                await expect(page.locator("#target")).to_have_text(f"Draw: {shown(target)}")
                await stroke(page)
                await expect(page.locator("#speech")).to_contain_text(f"I see… {other_than(target)}?")
                await expect(page.locator("#round-no")).to_have_text("Round 1/2")
                await expect(page.locator("#clock")).to_have_text(re.compile(r"^0:0[1-3]$"))
                await page.screenshot(path=str(OUTPUT / "race-round-phone.png"))  # target, clock, speech

                nobody = await fake.wait_for("sendMessage", in_chat(group, "⏰ Time's up!"), timeout=SECONDS + 2)
                assert f"I recognised as: {target}" in nobody["text"]
                await expect(page.locator("#banner")).to_contain_text(f"Nobody got it: {shown(target)}")
                await expect(page.locator("#banner")).to_contain_text("Next round coming…")

                second = await fake.wait_for("sendMessage", in_chat(group, "Round 2/2"), timeout=ROUND_S)
                _, target2 = target_of(second["text"])
                await expect(page.locator("#target")).to_have_text(f"Draw: {shown(target2)}", timeout=2000)
                await expect(page.locator("#banner")).to_be_hidden()
                assert "I see" not in await page.locator("#speech").inner_text(), "a new round, a fresh start"
                await stroke(page, 0.1)
                await expect(page.locator("#speech")).to_contain_text(f"I see… {other_than(target2)}?")

                over = await fake.wait_for("sendPhoto", in_chat(group, "🏁"), timeout=SECONDS + 2)  # the gallery
                assert "Ada came closest (40%): the round goes to Ada" in over["caption"]
                await expect(page.locator("#over")).to_be_visible(timeout=2000)
                await expect(page.locator("#over h2")).to_have_text("Game over")
                rows = [" ".join(row.split()) for row in await page.locator("#standings li").all_inner_texts()]
                assert rows == ["🥇 Ada 1"], rows
                assert await page.locator("#results li").all_text_contents() == [
                    f"1. {shown(target)} · nobody",
                    f"2. {shown(target2)} · Ada",
                ]
                assert not page.errors, page.errors
            finally:
                await browser.close()


async def test_a_solo_race_from_the_play_solo_button_through_six_rounds(fake, db_path):
    chromium_or_skip()
    from playwright.async_api import async_playwright, expect

    ada = fake.add_user("Ada")
    private = fake.add_private_chat(ada)
    OUTPUT.mkdir(exist_ok=True)
    plan = {1: "hit", 2: "hit", 3: "miss", 4: "hit", 5: "hit", 6: "hit"}  # a miss takes the round's seconds
    engine = SeesPerRound(plan)
    rules = {"warning_s": 0, "pause_s": 0.5, "solo_seconds": SECONDS}
    async with game_bot(fake, db_path, engine, options=canvas_options(), **rules) as app:
        engine.follow(games_of(app), ada["id"])
        async with async_playwright() as p:
            browser = await launch(p)
            try:  # opened from the menu button: no start_param, no game running
                page = await phone_page(browser, base_url(app) + "/draw", init_data_for(fake.token, ada))
                await expect(page.locator("#play-solo")).to_have_text("▶ Play solo")
                await expect(page.locator("#send")).to_be_visible()  # the plain canvas meanwhile
                await page.screenshot(path=str(OUTPUT / "solo-start-phone.png"))
                await page.locator("#play-solo").click()

                targets = {}
                for number, kind in plan.items():
                    said = await fake.wait_for("sendMessage", in_chat(private, f"Round {number}/6"), timeout=ROUND_S)
                    _, targets[number] = target_of(said["text"])
                    await expect(page.locator("#round-no")).to_have_text(f"Round {number}/6", timeout=2000)
                    await expect(page.locator("#play-solo")).to_be_hidden()
                    await expect(page.locator("#send")).to_be_hidden()
                    await stroke(page, 0.03 * number)
                    if kind == "hit":
                        if number < 6:  # (the last one ends the race: the gallery shows)
                            await expect(page.locator("#banner")).to_contain_text("You got it!")
                        win = await fake.wait_for("sendPhoto", in_chat(private, "🎉 Ada wins the round"))
                        assert targets[number] in win["caption"]
                    else:
                        await expect(page.locator("#speech")).to_contain_text(f"I see… {other_than(targets[number])}?")
                        await fake.wait_for("sendMessage", in_chat(private, "⏰ Time's up!"), timeout=SECONDS + 2)

                summary = await fake.wait_for("sendPhoto", in_chat(private, "🏁 Game over!"), timeout=5)
                assert "🥇 Ada: 5 points" in summary["caption"], summary["caption"]
                assert "🏅 A new personal best: 5 of 6!" in summary["caption"]  # one message says it all
                await fake.expect_no_call("sendMessage", in_chat(private))

                await expect(page.locator("#gallery figure")).to_have_count(6, timeout=2000)
                assert await page.locator("#gallery img").count() == 6, "each round's drawing, as drawn here"
                captions = await page.locator("#gallery figcaption").all_inner_texts()
                for (number, kind), caption in zip(plan.items(), captions, strict=True):
                    target = targets[number]
                    assert caption.startswith(f"{number}. {shown(target)} {'✓' if kind == 'hit' else '✗'}"), caption
                    thought = target if kind == "hit" else other_than(target)
                    assert f"I thought: {thought}, " in caption, caption
                await expect(page.locator("#play-solo")).to_have_text("▶ Play again")
                await page.screenshot(path=str(OUTPUT / "solo-end-phone.png"))

                await page.locator("#play-solo").click()  # another race, on the same page
                await fake.wait_for("sendMessage", in_chat(private, "Round 1/6"))
                await expect(page.locator("#round-no")).to_have_text("Round 1/6", timeout=2000)
                await expect(page.locator("#over")).to_be_hidden()
                await expect(page.locator("#play-solo")).to_be_hidden()
                fake.send_text(private, ada, "/stop")
                stopped = await fake.wait_for("sendMessage", in_chat(private, "Game stopped"))
                assert "Your personal best: 5 of 6. Beat it with /play!" in stopped["text"]
                await expect(page.locator("#gallery figure")).to_have_count(1, timeout=2000)  # this race's only
                assert page.viewport_size == SMALL_PHONE
                assert not page.errors, page.errors
            finally:
                await browser.close()
