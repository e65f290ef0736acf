"""``python -m toonzoo_tools.race_load``: how many can race, live-judged, in one group game.

    python -m toonzoo_tools.race_load [--drawers 1 2 4 ...] [--seconds 10] [--model M] [--pretrained P]
        [--precision fp32|bf16|...] [--quick] [--json PATH]

The real bot (``bot.app.build_application`` around a ``classifier.engine.Engine``
for ViT-B/32, with random weights when the real ones are absent, as the bench
does) polls the fake Bot API, with its canvas server on 127.0.0.1. A group game
is started with ``/game``; each of N drawers, a member of the group with init
data signed for the round's link, posts a live guess (a 512x512 PNG line
drawing, as the page sends) to ``POST /api/guess`` every 0.5 s while a round is
being drawn, never two at once (like the page), and asks ``GET /api/round``
once a second between rounds. Every live guess is judged at once: a drawing
whose top guess is the target wins the round (then the bot posts it and the
next round follows after the pause).

For each N, after a warm-up, a fixed window: p50/p95 from request to verdict
(the ``/api/guess`` answer) and the count of each HTTP status. A step search
walks up the list of N while p95 <= 500 ms and every answer is a 200, then
bisects between the last N that held and the first that didn't: the largest N
that holds is the race's capacity. The drawers' HTTP client and the fake Bot
API run in the bot's process, so their CPU counts against the server's.
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.app import build_application
from bot.context import services_of
from bot.game import GameRules
from bot.webapp.initdata import sign_init_data
from bot.webapp.server import WebAppServer
from classifier.cli import run_command
from classifier.defaults import PRECISIONS
from classifier.model import resolve_device, resolve_precision
from classifier.pipeline import ZeroShotClassifier

from .bench import CpuMeter, add_model_options, percentiles, start_tool, write_json
from .canvas_load import P95_GOAL_MS, make_canvas_png
from .fake_bot_api import FakeBotApi
from .harness import running_bot, settings_for

logger = logging.getLogger(__name__)

GUESS_EVERY_S = 0.5  # the page's pace while drawing (draw.html's GUESS_EVERY_MS)
POLL_EVERY_S = 1.0  # between rounds: ask which round is on
DRAWER_STEPS = (1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64)
QUICK_DRAWER_STEPS = (1, 2)
WINDOW_S = 10.0
WARMUP_S = 3.0
PICTURES = 8
PAGE_URL = "https://draw.example.test/toonzoo"  # what Telegram would open; the drawers call the local port
SHORT_NAME = "draw"
ENDED = ("over", "none")  # states of /api/round with no game on


@dataclass
class Row:
    """One N's window: verdict latencies and the answers' statuses."""

    drawers: int
    guesses: int
    p50_ms: float | None
    p95_ms: float | None
    statuses: dict[str, int]
    wins: int = 0
    load_avg_1m: float | None = None
    others_cpu_pct: float | None = None  # the machine's CPU time other processes took during the run


def holds(row: Row, goal_ms: float = P95_GOAL_MS) -> bool:
    """Whether a window kept its promise: verdicts measured, p95 within the goal, nothing refused."""
    return row.guesses > 0 and row.p95_ms is not None and row.p95_ms <= goal_ms and set(row.statuses) == {"200"}


async def search_drawers(
    steps: Sequence[int], measure: Callable[[int], Awaitable[Row]], *, refine: bool = True, every: bool = False
) -> tuple[list[Row], int]:
    """Measure each N of ``steps`` in turn until one fails to hold (``every``: measure them all anyway,
    for the table), then (``refine``) bisect between the last that held and the first that failed.
    The rows in the order measured, and the largest N that held below the first failure (0: none)."""
    rows: list[Row] = []
    best, failed = 0, None
    for count in steps:
        if failed is not None and not every:
            break
        rows.append(await measure(count))
        if failed is not None:
            continue
        if holds(rows[-1]):
            best = count
        else:
            failed = count
    while refine and failed is not None and failed - best > 1:
        middle = (best + failed) // 2
        rows.append(await measure(middle))
        if holds(rows[-1]):
            best = middle
        else:
            failed = middle
    return rows, best


@dataclass
class _Drawer:
    user: dict
    state: str = "drawing"
    token: str = ""
    header: str = ""


@dataclass
class Race:
    """One group game against the running bot, and the drawers who race in it."""

    fake: FakeBotApi
    base_url: str  # the bot's canvas server
    session: aiohttp.ClientSession
    rules: GameRules
    pictures: list[bytes]
    group: dict = field(init=False)
    users: list[dict] = field(default_factory=list)
    token: str = ""  # the game's start_param: one link serves all its rounds
    restarting: bool = False

    def __post_init__(self) -> None:
        self.users.append(self.fake.add_user("Starter"))
        self.group = self.fake.add_group("Race", [(self.users[0], "creator")])

    async def start_game(self) -> None:
        """``/game`` with the most rounds of the longest length; the link of its first round."""
        self.fake.send_text(self.group, self.users[0], f"/game {self.rules.max_rounds} {int(self.rules.max_seconds)}")
        announcement = await self.fake.wait_for(
            "sendMessage", lambda p: p["chat_id"] == self.group["id"] and "Round 1/" in p["text"], timeout=60
        )
        url = announcement["reply_markup"]["inline_keyboard"][0][0]["url"]
        self.token = parse_qs(urlparse(url).query)["startapp"][0]
        logger.info("game started; link %s", url)

    def _sign(self, drawer: _Drawer) -> None:
        user = json.dumps({"id": drawer.user["id"], "first_name": drawer.user["first_name"]}, separators=(",", ":"))
        fields = {"user": user, "auth_date": str(int(time.time())), "start_param": self.token}
        fields |= {"chat_type": "supergroup", "chat_instance": "-4242"}
        drawer.header, drawer.token = "tma " + sign_init_data(fields, self.fake.token), self.token

    def drawers(self, count: int) -> list[_Drawer]:
        """``count`` members of the group (more join as needed)."""
        while len(self.users) < count + 1:
            user = self.fake.add_user(f"Drawer {len(self.users)}")
            self.fake.set_member(self.group, user, "member")
            self.users.append(user)
        return [_Drawer(user) for user in self.users[1 : count + 1]]

    async def _round_state(self, drawer: _Drawer) -> str:
        async with self.session.get(self.base_url + "/api/round", headers={"Authorization": drawer.header}) as answer:
            body = await answer.json() if answer.status == 200 else {}
        return body.get("state", "unknown")

    async def measure(self, count: int, seconds: float, warmup_s: float) -> Row:
        """``count`` drawers for ``warmup_s`` + ``seconds``; the window's verdicts."""
        drawers = self.drawers(count)
        if self.token:
            self._sign(drawers[0])
        if not self.token or await self._round_state(drawers[0]) in ENDED:
            await self.start_game()
        meter = CpuMeter()
        began = time.perf_counter()
        window_from, until = began + warmup_s, began + warmup_s + seconds
        latencies: list[float] = []
        statuses: dict[str, int] = {}
        wins = 0

        async def draw(index: int, drawer: _Drawer) -> None:
            nonlocal wins
            due = began + GUESS_EVERY_S * index / count  # spread over the interval, as people are
            sent = 0
            self._sign(drawer)
            drawer.state = await self._round_state(drawer)  # what the page asks first
            while due < until:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                if drawer.token != self.token:
                    self._sign(drawer)
                if drawer.state != "drawing":
                    drawer.state = await self._round_state(drawer)
                    if drawer.state in ENDED and not self.restarting:  # all rounds played: another game
                        self.restarting = True
                        try:
                            await self.start_game()
                        finally:
                            self.restarting = False
                    due = max(due + POLL_EVERY_S, time.perf_counter())
                    continue
                start = time.perf_counter()
                picture = self.pictures[(index + sent) % len(self.pictures)]
                headers = {"Authorization": drawer.header, "Content-Type": "image/png"}
                async with self.session.post(self.base_url + "/api/guess", data=picture, headers=headers) as answer:
                    body = await answer.json() if answer.status == 200 else {}
                took_ms = (time.perf_counter() - start) * 1000.0
                sent += 1
                if start >= window_from:
                    latencies.append(took_ms)
                    statuses[str(answer.status)] = statuses.get(str(answer.status), 0) + 1
                    wins += bool(body.get("won"))
                drawer.state = body.get("round", {}).get("state", drawer.state)
                due = max(due + GUESS_EVERY_S, time.perf_counter())

        await asyncio.gather(*(draw(i, d) for i, d in enumerate(drawers)))
        summary = percentiles(latencies)
        row = Row(count, summary["n"], summary["p50"], summary["p95"], statuses, wins)
        row.load_avg_1m, row.others_cpu_pct = round(os.getloadavg()[0], 2), meter.others_pct()
        logger.info("%s", row)
        return row


async def race_report(
    classifier: ZeroShotClassifier,
    *,
    steps: Sequence[int] = DRAWER_STEPS,
    seconds: float = WINDOW_S,
    warmup_s: float = WARMUP_S,
    refine: bool = True,
    every: bool = False,
    rules: GameRules | None = None,
) -> dict:
    """The race for ``steps`` drawers (a step search) against the real bot around ``classifier``; the report."""
    rules = rules or GameRules()
    loaded = classifier.loaded
    pictures = [make_canvas_png(seed) for seed in range(PICTURES)]
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeBotApi() as fake:
            settings = settings_for(
                fake, Path(tmp) / "race.db", webapp_url=PAGE_URL, webapp_port=0, webapp_short_name=SHORT_NAME
            )

            def build(settings, classifier):
                return build_application(settings, classifier, game_rules=rules)

            async with (
                running_bot(fake, settings, classifier, build=build) as application,
                aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session,
            ):
                canvas = services_of(application).webapp
                assert isinstance(canvas, WebAppServer), "the settings serve the canvas"
                race = Race(fake, f"http://127.0.0.1:{canvas.port}", session, rules, pictures)
                await race.measure(2, 0.0, min(warmup_s, 2.0))  # the model's first batches, not counted
                rows, best = await search_drawers(
                    steps, lambda count: race.measure(count, seconds, warmup_s), refine=refine, every=every
                )
    return {
        "model": loaded.name,
        "pretrained": loaded.pretrained,
        "random_weights": loaded.random_weights,
        "precision": loaded.precision,
        "device": str(loaded.device),
        "cpus": os.cpu_count(),
        "torch_threads": _torch_threads(),
        "load_avg_1m_before": load_before,
        "guess_every_s": GUESS_EVERY_S,
        "window_s": seconds,
        "warmup_s": warmup_s,
        "picture_px": 512,
        "p95_goal_ms": P95_GOAL_MS,
        "rows": [asdict(row) for row in rows],
        "race_drawers_p95_500ms": best,
    }


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def format_table(report: dict) -> str:
    """The report as a Markdown table, with a line saying what ran where."""
    weights = "RANDOM weights" if report["random_weights"] else f"weights {report['pretrained']}"
    lines = [
        f"race: {report['model']} ({weights}), {report['precision']} on {report['device']}, "
        f"{report['cpus']} CPUs, load average {report['load_avg_1m_before']} at the start; "
        f"a live guess every {report['guess_every_s']} s per drawer, {report['window_s']} s windows",
        "",
        "| drawers | verdicts | p50 ms | p95 ms | statuses | wins | load 1m | others' CPU |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in sorted(report["rows"], key=lambda r: r["drawers"]):
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(row["statuses"].items()))
        lines.append(
            f"| {row['drawers']} | {row['guesses']} | {row['p50_ms']} | {row['p95_ms']} | {shown} "
            f"| {row['wins']} | {row['load_avg_1m']} | {row['others_cpu_pct']}% |"
        )
    lines += ["", f"largest N with p95 <= {report['p95_goal_ms']:g} ms: {report['race_drawers_p95_500ms']}"]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m toonzoo_tools.race_load",
        description="live drawing race: p50/p95 from a live guess to its verdict for N drawers, and the largest N "
        f"with p95 <= {P95_GOAL_MS:g} ms",
    )
    add_model_options(parser)
    parser.add_argument("--device", default="cpu", help="cpu, cuda ... (default %(default)s)")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="auto = fp16 on CUDA, fp32 on CPU")
    parser.add_argument("--drawers", type=int, nargs="+", metavar="N", help=f"steps (default {DRAWER_STEPS})")
    parser.add_argument("--seconds", type=float, help=f"measured window per N (default {WINDOW_S:g})")
    parser.add_argument("--no-refine", action="store_true", help="don't bisect after the first N that fails")
    parser.add_argument("--all", action="store_true", help="measure every N of --drawers, also after one fails")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: N in {QUICK_DRAWER_STEPS}, 2 s windows")
    parser.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    parser.set_defaults(handler=run_race_command)
    return parser


def run_race_command(args: argparse.Namespace) -> int:
    from .bench import load_for_bench

    precision = resolve_precision(args.precision, resolve_device(args.device), model_name=args.model)
    loaded, note = load_for_bench(args, precision)
    steps = args.drawers or (QUICK_DRAWER_STEPS if args.quick else DRAWER_STEPS)
    seconds = args.seconds or (2.0 if args.quick else WINDOW_S)
    report = asyncio.run(
        race_report(
            ZeroShotClassifier(loaded),
            steps=steps,
            seconds=seconds,
            warmup_s=1.0 if args.quick else WARMUP_S,
            refine=not (args.no_refine or args.quick),
            every=args.all,
        )
    )
    if note:
        report["note"] = note
    print(format_table(report))
    if args.json:
        write_json(args.json, report)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    start_tool(args)
    return run_command(args)


if __name__ == "__main__":
    sys.exit(main())
