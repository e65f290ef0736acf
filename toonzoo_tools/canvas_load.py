"""Canvas guesses through the HTTP endpoint, for the bench (``toonzoo_tools.bench``).

The canvas's own aiohttp app (``bot.webapp.routes``) on 127.0.0.1 around one
engine, as the bot serves it (the PTB application is built but never started:
no Telegram call is made). Each drawer is a user with signed init data posting
512x512 PNG line drawings to ``/api/guess`` on a schedule, as the page does:

- latency with 1 and 16 drawers, each at the page's fastest pace (a guess every 0.5 s);
- capacity: the most drawers at one guess a second whose p95 stays within ``P95_GOAL_MS``;
- the race's load (until a load tool of its own exists): the same at two guesses a second.

The drawers' HTTP client runs in the same process, so its CPU counts against the server's.
"""

import asyncio
import contextlib
import io
import itertools
import json
import logging
import random
import time

import aiohttp
from aiohttp import web
from PIL import Image, ImageDraw
from sqlite_utils import Database
from telegram.ext import Application

from bot.budget import Budgets
from bot.config import Settings
from bot.context import CONTEXT_TYPES, job_queue_of
from bot.game import GameRules
from bot.game_service import GameService
from bot.outbox import Outbox
from bot.services import Services
from bot.store import Store
from bot.webapp.drawings import Backend
from bot.webapp.initdata import sign_init_data
from bot.webapp.routes import Canvas, build_web_app
from bot.webapp.tokens import derive_key
from classifier.engine import Engine
from classifier.prompts import DEFAULT_LABELS

from .bench import percentiles

logger = logging.getLogger(__name__)

TOKEN = "123456789:BenchTokenForTheCanvasNeverSentAnywhere"
P95_GOAL_MS = 500.0
DRAWER_STEPS = (1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 48, 64, 96, 128)
QUICK_DRAWER_STEPS = (1, 4)
CANVAS_SIDE = 512
_user_ids = itertools.count(10_000)  # a new user per drawer: each run starts with fresh per-user pacing


def make_canvas_png(seed: int, side: int = CANVAS_SIDE) -> bytes:
    """What the page sends: black pen strokes on white, cropped to the drawing, as a PNG."""
    rng = random.Random(seed)
    image = Image.new("RGB", (side, side), "white")
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randint(3, 8)):
        x, y = rng.uniform(0.2, 0.8) * side, rng.uniform(0.2, 0.8) * side
        points = [(x, y)]
        for _ in range(rng.randint(5, 30)):
            x = min(side - 8, max(8, x + rng.gauss(0, side / 25)))
            y = min(side - 8, max(8, y + rng.gauss(0, side / 25)))
            points.append((x, y))
        draw.line(points, fill="black", width=rng.choice((6, 14, 28)), joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@contextlib.asynccontextmanager
async def canvas_server(classifier, max_batch: int | None = None):
    """The canvas API around an engine for ``classifier``; yields its base URL."""
    engine = Engine(classifier, max_batch=max_batch, max_wait_ms=5.0, max_queue=512)
    application = Application.builder().token(TOKEN).context_types(CONTEXT_TYPES).build()  # never started
    store = Store(Database(memory=True))
    store.migrate()
    budgets = Budgets()
    job_queue = job_queue_of(application)
    services = Services(
        settings=Settings(token=TOKEN),
        store=store,
        engine=engine,
        rules=GameRules(),
        budgets=budgets,
        outbox=Outbox(budgets, application.bot, job_queue),
    )
    backend = Backend(services, GameService(services, application.bot, job_queue), application.bot)
    runner = web.AppRunner(build_web_app(Canvas(backend, TOKEN, derive_key(TOKEN))), access_log=None)
    async with engine:
        await engine.prepare_labels(list(DEFAULT_LABELS))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            yield f"http://127.0.0.1:{runner.addresses[0][1]}"
        finally:
            await runner.cleanup()
            store.close()


async def drawers(
    session: aiohttp.ClientSession, url: str, pictures: list[bytes], count: int, interval_s: float, seconds: float
) -> tuple[list[float], dict[int, int]]:
    """``count`` drawers, each asking for guesses every ``interval_s`` (never two at once, like the page);
    latencies (ms) of the second half of the run, and the count of each status."""
    began = time.perf_counter()
    measure_from = began + seconds / 3
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def drawer(index: int) -> None:
        user = json.dumps({"id": next(_user_ids), "first_name": f"Drawer {index}"})
        header = "tma " + sign_init_data({"user": user, "auth_date": str(int(time.time()))}, TOKEN)
        due = began + interval_s * index / count  # spread over the interval
        sent = 0
        while due < began + seconds:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            start = time.perf_counter()
            body = pictures[(index + sent) % len(pictures)]
            headers = {"Authorization": header, "Content-Type": "image/png"}
            async with session.post(url + "/api/guess", data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            if start >= measure_from:
                latencies.append((time.perf_counter() - start) * 1000.0)
            sent += 1
            due = max(due + interval_s, time.perf_counter())

    await asyncio.gather(*(drawer(i) for i in range(count)))
    return latencies, statuses


async def measure_canvas(classifier, *, quick: bool) -> dict:
    """Latency with 1 and 16 drawers at the page's pace; drawers sustained at one guess a second."""
    pictures = [make_canvas_png(seed) for seed in range(8)]
    seconds = 1.5 if quick else 8.0
    result: dict = {"picture_px": CANVAS_SIDE, "mean_png_kb": round(sum(map(len, pictures)) / 8 / 1024, 1)}
    async with canvas_server(classifier) as url:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await drawers(session, url, pictures, 2, 0.5, 0.3 if quick else 1.0)  # warm up
            for count in (1, 16):
                latencies, statuses = await drawers(session, url, pictures, count, 0.5, seconds)
                result[f"c{count}"] = {**percentiles(latencies), "statuses": statuses}
            result["drawers_at_1_per_s"], result["capacity_steps"] = await _capacity(
                session, url, pictures, 1.0, seconds, quick
            )
            result["drawers_at_2_per_s"], result["capacity_steps_2_per_s"] = await _capacity(
                session, url, pictures, 0.5, seconds, quick
            )
    return result


async def measure_race_capacity(classifier, *, quick: bool) -> int:
    """Drawers at two guesses a second (a live race's pace) whose p95 stays within ``P95_GOAL_MS``."""
    pictures = [make_canvas_png(seed) for seed in range(8)]
    async with (
        canvas_server(classifier) as url,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
    ):
        await drawers(session, url, pictures, 2, 0.5, 0.3 if quick else 1.0)  # warm up
        sustained, _ = await _capacity(session, url, pictures, 0.5, 1.0 if quick else 8.0, quick)
    return sustained


async def _capacity(session, url: str, pictures: list[bytes], interval_s: float, seconds: float, quick: bool):
    """The most drawers, each asking every ``interval_s``, within the p95 goal; and each step's p95."""
    sustained, steps = 0, {}
    for count in QUICK_DRAWER_STEPS if quick else DRAWER_STEPS:
        latencies, statuses = await drawers(session, url, pictures, count, interval_s, seconds)
        summary = percentiles(latencies)
        steps[str(count)] = {"p95": summary["p95"], "statuses": statuses}
        if summary["n"] == 0 or summary["p95"] > P95_GOAL_MS or set(statuses) != {200}:
            break
        sustained = count
    return sustained, steps
