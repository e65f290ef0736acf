"""Load and fault run of the whole bot against the local fake Bot API.

    python -m toonzoo_tools.stress --model local-dir:/tmp/tiny --chats 50 --pictures 4
    python -m toonzoo_tools.stress --model ViT-B-32-quickgelu --pretrained random --chats 50 --faults

Many private chats send pictures at once through the real python-telegram-bot
stack; optionally the fake server injects faults (500s, dropped connections,
429 flood waits, failing downloads). Prints a summary (and --json PATH writes
it): pictures sent, answered with guesses, told busy, other replies, missing
and duplicated answers, faults injected, peak RSS and the worst event-loop
stall. Exit status 1 when any picture went unanswered or was answered twice.
"""

import argparse
import asyncio
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.config import Settings
from bot.i18n import ENGLISH
from bot.replies import error_text
from classifier.errors import EngineBusy

from .drawings import make_drawing_jpeg
from .fake_bot_api import FakeBotApi

HEARTBEAT_S = 0.01


class LoopMonitor:
    """Measures how late the event loop wakes a 10 ms sleeper: the worst stall."""

    def __init__(self):
        self.worst_ms = 0.0
        self.samples = 0
        self._task: asyncio.Task | None = None

    async def _run(self):
        while True:
            start = time.perf_counter()
            await asyncio.sleep(HEARTBEAT_S)
            late = (time.perf_counter() - start - HEARTBEAT_S) * 1000
            self.worst_ms = max(self.worst_ms, late)
            self.samples += 1

    def start(self):
        self._task = asyncio.create_task(self._run())

    async def stop(self):
        assert self._task is not None, "start() first"
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def answered(fake: FakeBotApi) -> Counter:
    """How many replies each (chat, picture message) got."""
    return Counter(
        (c.params["chat_id"], c.params.get("reply_parameters", {}).get("message_id"))
        for c in fake.all_calls
        if c.method == "sendMessage" and c.status == 200
    )


def inject_faults(fake: FakeBotApi, rng: random.Random, photos: list[dict]) -> Counter:
    injected: Counter[str] = Counter()
    for status in (500, "drop", 502):
        fake.fail_next("getUpdates", status)
        injected[f"getUpdates {status}"] += 1
    fake.fail_next("sendMessage", 429, retry_after=1, count=3)
    injected["sendMessage 429"] += 3
    faults: list[int | str] = [500, "drop", "truncate"]
    for photo in rng.sample(photos, max(1, len(photos) // 10)):
        fault = rng.choice(faults)
        fake.set_file_fault(photo["photo"][-1]["file_id"], fault, count=1)
        injected[f"download {fault}"] += 1
    return injected


async def run(args) -> dict:
    # The bot and the model load here, not at import: ``--help`` answers at once.
    from bot.app import build_application
    from bot.context import services_of
    from classifier.engine import Engine
    from classifier.model import load_model
    from classifier.pipeline import ZeroShotClassifier

    loaded = load_model(args.model, args.pretrained, device=args.device, precision=args.precision)
    classifier = ZeroShotClassifier(loaded)
    rng = random.Random(0)
    pictures = [make_drawing_jpeg(i) for i in range(8)]
    monitor = LoopMonitor()
    async with FakeBotApi() as fake:
        settings = Settings(token=fake.token, api_url=fake.base_url, db_path=Path(args.db))
        application = build_application(settings, classifier)
        assert application.updater and application.post_init and application.post_shutdown  # the builder sets them
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            monitor.start()
            chats = []
            for i in range(args.chats):
                user = fake.add_user(f"Player{i}")
                chats.append((fake.add_private_chat(user), user))
            start = time.perf_counter()
            photos = [
                fake.send_photo(chat, user, pictures[(i + j) % len(pictures)])
                for i, (chat, user) in enumerate(chats)
                for j in range(args.pictures)
            ]
            injected = inject_faults(fake, rng, photos) if args.faults else Counter()
            expected = {(p["chat"]["id"], p["message_id"]) for p in photos}
            deadline = time.monotonic() + args.timeout
            answers: Counter = Counter()
            while time.monotonic() < deadline:
                answers = answered(fake)
                if expected <= set(answers):
                    break
                await asyncio.sleep(0.05)
            elapsed = time.perf_counter() - start
            await asyncio.sleep(0.5)  # let late duplicates show up, if any
            await monitor.stop()
            replies = [c.params["text"] for c in fake.all_calls if c.method == "sendMessage" and c.status == 200]
            answers = answered(fake)
            engine = services_of(application).engine
            assert isinstance(engine, Engine), "built around a classifier: the real engine"
            engine_stats = engine.stats.as_dict()
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)
    guesses = sum(1 for text in replies if text.count("%") == 3)
    busy = sum(1 for text in replies if text == error_text(ENGLISH, EngineBusy()))
    return {
        "model": classifier.identity,
        "random_weights": loaded.random_weights,
        "chats": args.chats,
        "pictures_sent": len(expected),
        "answered_guesses": guesses,
        "answered_busy": busy,
        "answered_other": len(replies) - guesses - busy,
        "missing": len(expected - set(answers)),
        "duplicated": sum(1 for key in expected if answers[key] > 1),
        "faults_injected": sum(injected.values()),
        "faults": dict(injected),
        "seconds": round(elapsed, 2),
        "pictures_per_s": round(len(expected) / elapsed, 2),
        "worst_loop_stall_ms": round(monitor.worst_ms, 1),
        "loop_samples": monitor.samples,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "engine": engine_stats,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="ViT-B-32-quickgelu")
    parser.add_argument("--pretrained", default="random")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--pictures", type=int, default=4, help="pictures per chat, all sent at once")
    parser.add_argument("--faults", action="store_true", help="inject Bot API faults while loaded")
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--db", default=None, help="SQLite file (default: a temporary one)")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        args.db = args.db or str(Path(tmp) / "stress.db")
        summary = asyncio.run(run(args))
    for key, value in summary.items():
        print(f"{key:>22}: {value}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(summary, indent=2))
    return 1 if summary["missing"] or summary["duplicated"] else 0


if __name__ == "__main__":
    sys.exit(main())
