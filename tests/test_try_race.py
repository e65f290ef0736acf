"""``toonzoo try``'s solo race: its rules, the race on a clock the test moves, and its routes in-process.

What the model sees is scripted (``ScriptedEngine``), so a test chooses which
drawing wins; the race's clock is the test's (``Clock``) where a round must
time out, and the real one where the timer on the loop must fire by itself.
The race in a browser, through the real command, is in ``tests/test_try_browser.py``.
"""

import dataclasses
import random

import pytest
from aiohttp.test_utils import TestClient, TestServer
from helpers.bot import ScriptedEngine, drawing
from helpers.waiting import until

from bot.game import RoundState, timeout_floor
from bot.store import Store
from bot.webapp.local import LOCAL_CHAT_ID, LocalCanvas, build_local_app
from bot.webapp.local_race import LOCAL_PLAYER_ID, LocalRace, SoloBest, race_rules
from classifier.types import Guess

WORDS = ["cat", "dog", "fox"]
EIGHT = ["cat", "dog", "fox", "owl", "pig", "cow", "bee", "ant"]
KEY = "s3cret-key_0123456789abcdefghij"


class Clock:
    """A clock the test moves (``clock.now += 21``)."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def ranked(top: str, words, score: float = 0.8, **others: float) -> list[Guess]:
    """Guesses over ``words`` with ``top`` first (``others`` their own scores, the rest sharing what is left)."""
    rest = [w for w in words if w != top and w not in others]
    spread = max(0.0, 1 - score - sum(others.values())) / max(1, len(rest))
    guesses = [Guess(top, score), *(Guess(w, s) for w, s in others.items()), *(Guess(w, spread) for w in rest)]
    return sorted(guesses, key=lambda g: g.score, reverse=True)


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "toonzoo.db")
    store.migrate()
    yield store
    store.close()


def test_race_rules_are_the_solo_race_without_announcements():
    rules = race_rules(6, 20)
    assert (rules.solo_rounds, rules.solo_seconds) == (6, 20)
    assert rules.warning_s == 0, "nothing is announced: the page shows the clock"
    assert rules.pause_s == 4, "the bot's pause between rounds of 20 s"
    assert race_rules(3, 2).pause_s == 0.5, "at most a quarter of a short round"
    assert race_rules(3, 2).min_timeout_score == rules.min_timeout_score, "the bot's time-up rule"


async def test_a_race_won_live_then_timed_out_to_its_end(store):
    clock = Clock()
    race = LocalRace(store, race_rules(2, 20), random.Random(7), clock)
    try:
        assert race.view() is None and race.open_round() is None
        view = race.start(WORDS, "You")
        assert view is not None and view.state is RoundState.DRAWING
        assert (view.number, view.total_rounds, view.ends_in_s) == (1, 2, 20)
        assert race.start(WORDS, "You") is None, "one race at a time"
        target = view.target
        other = next(w for w in WORDS if w != target)

        number = race.open_round()
        assert number == 1 and race.labels == tuple(WORDS)
        assert not race.judge(number, ranked(other, WORDS), clock.now + 1), "its top guess is not the target"
        assert race.view().state is RoundState.DRAWING
        clock.now += 3
        assert race.judge(number, ranked(target, WORDS), clock.now), "top-1 is the target: won at once"
        view = race.view()
        assert view.state is RoundState.BETWEEN and view.winner == "You"
        assert not race.judge(number, ranked(target, WORDS), clock.now + 1), "that round is over"

        clock.now += 4  # the pause between rounds
        race.tick()
        view = race.view()
        assert view.state is RoundState.DRAWING and view.number == 2
        second = view.target
        assert second != target, "no word twice"
        clock.now += 21
        assert not race.judge(2, ranked(second, WORDS), clock.now), "a guess that arrives after the deadline"
        race.tick()  # time's up: the last round closes, nobody won it, the race is over
        view = race.view()
        assert view.state is RoundState.OVER
        assert [(r.number, r.target, r.winner) for r in view.results] == [(1, target, "You"), (2, second, None)]
        assert race.best == SoloBest(1, 2, True) and store.solo_best(LOCAL_PLAYER_ID) == (1, 2)
        assert race.open_round() is None and not race.playing
    finally:
        race.close()


async def test_time_up_awards_the_closest_drawing_above_the_floor(store):
    """The bot's time-up rule (``bot.game.advance``): the best drawing wins on time if its target
    probability reaches ``timeout_floor`` (25% with 8 labels), though it was never the top guess."""
    clock = Clock()
    race = LocalRace(store, race_rules(2, 20), random.Random(3), clock)
    try:
        target = race.start(EIGHT, "You").target
        other = next(w for w in EIGHT if w != target)
        floor = timeout_floor(race.rules, len(EIGHT))
        assert floor == 0.25
        assert not race.judge(1, ranked(other, EIGHT, 0.4, **{target: floor + 0.05}), clock.now + 2)
        clock.now += 20
        race.tick()
        view = race.view()
        assert view.state is RoundState.BETWEEN and view.winner == "You", "won on time"

        clock.now += 4
        race.tick()
        target = race.view().target
        assert not race.judge(2, ranked(other, EIGHT, 0.4, **{target: floor - 0.05}), clock.now + 2)
        clock.now += 20
        race.tick()
        view = race.view()
        assert view.state is RoundState.OVER and view.results[-1].winner is None, "below the floor: nobody"
        assert race.best == SoloBest(1, 2, True)
    finally:
        race.close()


async def test_a_worse_race_keeps_the_best(store):
    store.record_solo(LOCAL_PLAYER_ID, 4, 6, 50.0, 0.0)
    clock = Clock()
    race = LocalRace(store, race_rules(1, 20), random.Random(1), clock)
    try:
        race.start(WORDS, "You")
        clock.now += 20
        race.tick()
        assert race.best == SoloBest(4, 6, False), "the best to beat, as it was kept"
    finally:
        race.close()


async def test_the_timer_moves_the_race_on_by_itself(store):
    rules = dataclasses.replace(race_rules(2, 1), solo_seconds=0.15, pause_s=0.05)
    race = LocalRace(store, rules)
    try:
        race.start(WORDS, "You")
        await until(lambda: race.view().state is RoundState.OVER, timeout=5, what="the race's end")
        assert [r.number for r in race.view().results] == [1, 2] and race.best == SoloBest(0, 2, True)
    finally:
        race.close()


# -- the routes ---------------------------------------------------------------------------------------


@pytest.fixture
async def local(store):
    """The local app in-process, its race on a test clock: (client, engine, canvas, clock)."""
    engine = ScriptedEngine()
    clock = Clock()
    canvas = LocalCanvas(store, engine, rules=race_rules(3, 20), race_clock=clock)
    await engine.start()
    client = TestClient(TestServer(build_local_app(canvas), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, engine, canvas, clock
    finally:
        canvas.race.close()
        await client.close()


async def test_play_starts_a_race_that_round_reports(local):
    client, _, canvas, _ = local
    before = await (await client.get("/api/round")).json()
    assert before == {"state": "none", "language": "en", "solo": True}, "the page offers Play solo"
    response = await client.post("/api/play")
    assert response.status == 200
    started = await response.json()
    assert started["state"] == "drawing" and started["solo"] is True
    assert (started["round"], started["rounds"], started["ends_in_s"], started["winner"]) == (1, 3, 20, None)
    assert started["target"] in [canvas.chat().t.label(w) for w in canvas.chat().labels]
    assert await (await client.get("/api/round")).json() == started, "the server's clock has not moved"
    response = await client.post("/api/play")
    assert response.status == 409 and "already" in (await response.json())["error"]


async def test_a_live_guess_wins_the_round(local):
    client, engine, canvas, _ = local
    await client.post("/api/labels", json={"labels": "robot, rocket, kite, tulip"})
    started = await (await client.post("/api/play", headers={"Accept-Language": "es"})).json()
    target = started["target"]
    assert target in {"robot", "rocket", "kite", "tulip"}, "the race plays the local chat's labels"
    other = next(w for w in ("robot", "rocket") if w != target)

    response = await client.post("/api/guess", data=engine.sees(drawing(), other, 0.9))
    body = await response.json()
    assert response.status == 200 and body["won"] is False and body["round"]["state"] == "drawing"
    assert body["guesses"][0]["label"] == other and len(body["guesses"]) == 3
    _, labels, top_k = engine.classified[-1]
    assert set(labels) == {"robot", "rocket", "kite", "tulip"} and top_k == 4, "ranked over all the race's words"

    body = await (await client.post("/api/guess", data=engine.sees(drawing(), target, 0.9))).json()
    assert body["won"] is True
    assert body["round"]["state"] == "between" and body["round"]["winner"] == {"name": "Tú"}, "named at start"
    assert body["round"]["standings"] == [{"name": "Tú", "points": 1}]
    assert canvas.race.view().state is RoundState.BETWEEN

    body = await (await client.post("/api/guess", data=engine.sees(drawing(), target, 0.9))).json()
    assert set(body) == {"guesses"}, "between rounds a guess is only a guess"


async def test_a_round_times_out_and_the_race_ends_with_its_drawings_results(local):
    client, engine, canvas, clock = local
    started = await (await client.post("/api/play")).json()
    clock.now += 20
    canvas.race.tick()  # what the timer does at the deadline
    body = await (await client.get("/api/round")).json()
    assert body["state"] == "between" and body["winner"] is None and body["target"] == started["target"]
    assert "best" not in body, "the race is not over"
    for _ in range(2):  # the pause, then the round's end: twice more
        clock.now += 4
        canvas.race.tick()
        assert (await (await client.get("/api/round")).json())["state"] == "drawing"
        clock.now += 20
        canvas.race.tick()
    body = await (await client.get("/api/round")).json()
    assert body["state"] == "over" and body["solo"] is True
    assert [(r["round"], r["winner"]) for r in body["results"]] == [(1, None), (2, None), (3, None)]
    assert all(r["target"] and "emoji" in r for r in body["results"]), "what the page's gallery captions"
    assert body["best"] == {"won": 0, "rounds": 3, "new": True}
    assert canvas.store.solo_best(LOCAL_CHAT_ID) == (0, 3)

    body = await (await client.post("/api/guess", data=drawing())).json()
    assert set(body) == {"guesses"}, "after the race: plain guesses over the chat's labels"
    assert len(engine.classified[-1][1]) == len(canvas.chat().labels)
    assert (await client.post("/api/play")).status == 200, "Play again"


async def test_the_race_routes_need_the_key_off_loopback(store):
    engine = ScriptedEngine()
    canvas = LocalCanvas(store, engine, KEY)
    await engine.start()
    client = TestClient(TestServer(build_local_app(canvas), host="127.0.0.1"))
    await client.start_server()
    try:
        assert (await client.get("/api/round")).status == 403
        assert (await client.post("/api/play", headers={"Authorization": "Key wrong"})).status == 403
        assert canvas.race.view() is None, "no race started"
        headers = {"Authorization": f"Key {KEY}"}
        origin = {**headers, "Origin": "http://evil.example"}
        assert (await client.post("/api/play", headers=origin)).status == 403, "another origin, even with the key"
        assert (await client.post("/api/play", headers=headers)).status == 200
        assert (await (await client.get("/api/round", headers=headers)).json())["state"] == "drawing"
    finally:
        canvas.race.close()
        await client.close()
