"""A drawing game in one busy group, played against the fake Bot API's 20-a-minute limit.

    python -m toonzoo_tools.group_load --players 1 5 10 20 [--rounds 2 --seconds 20 --every 5.2] [--json PATH]

For each player count: a game of ``--rounds`` rounds of ``--seconds`` seconds in
one group; every player sends a picture every ``--every`` seconds (all misses,
from a scripted engine), as in the report that started the per-group budget.
Prints one row per count:

- msgs/min: the most messages the group got in any 60 s (Telegram allows 20);
  429s: flood errors the fake answered.
- control delay: the worst lateness of a round announcement, warning or result,
  against the server's own clock (the rounds table): announcement k is due when
  round k-1 ended plus the pause, a warning 10 s before its round's end, a result
  at the end.
- verdict delay: the worst time from a judged picture to the first message
  after it that gives its player a verdict (a reply to one of their pictures, or
  a line with their name); judged/sent: pictures the game judged of those sent
  (the rest came too fast, between rounds, or while the bot was stuck waiting);
  no verdict: judged pictures no verdict followed.

Runs against whatever ``bot`` package is first on the path (run it with
``PYTHONPATH=<another checkout>`` to measure other code).
"""

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bot.app import build_application
from bot.game import GameRules
from bot.store import Store
from classifier.prompts import DEFAULT_LABELS

from .fake_bot_api import FakeBotApi
from .harness import running_bot, settings_for
from .scripted_engine import ScriptedEngine, drawing, target_of

DRAIN_S = 15.0  # after the game: let queued messages arrive
JUDGING_S = 1.0  # a picture is judged within this long of being sent (a player's next comes 5 s later)


def group_calls(fake: FakeBotApi, group: dict) -> list:
    return [
        c
        for c in fake.all_calls
        if c.params.get("chat_id") == group["id"] and c.method in ("sendMessage", "sendChatAction")
    ]


async def play(players: int, rounds: int, seconds: int, every: float, db_path: Path) -> dict:
    rules = GameRules()
    engine = ScriptedEngine()
    async with FakeBotApi() as fake:
        users = [fake.add_user(f"P{i:02d}") for i in range(1, players + 1)]
        group = fake.add_group("Zoo", [(u, "member") for u in users])

        def build(settings, _classifier):
            return build_application(settings, engine=engine, game_rules=rules)

        async with running_bot(fake, settings_for(fake, db_path), None, build=build):
            start = time.time()
            fake.send_text(group, users[0], f"/game {rounds} {seconds}")
            next_at = [start + 0.5 + i * every / players for i in range(players)]
            pictures = 0
            limit = start + rounds * (seconds + rules.pause_s) * 4 + 60
            while time.time() < limit:
                await asyncio.sleep(0.02)
                accepted = [c for c in group_calls(fake, group) if c.status == 200 and c.method == "sendMessage"]
                if any("🏁" in c.params["text"] for c in accepted):
                    break
                announced = [c for c in accepted if "Round " in c.params["text"]]
                if not announced:
                    continue
                _, target = target_of(announced[-1].params["text"])
                seen = next(x for x in DEFAULT_LABELS if x != target)
                for i, user in enumerate(users):
                    if time.time() >= next_at[i]:
                        next_at[i] += every
                        fake.send_photo(group, user, engine.sees(drawing(), seen, 0.5, **{target: 0.1}))
                        pictures += 1
            await asyncio.sleep(DRAIN_S)
        calls = group_calls(fake, group)
    with Store(db_path) as store:
        game_rows = list(store.db.query("SELECT * FROM games"))
        round_rows = list(store.db.query("SELECT * FROM rounds ORDER BY number"))
        judged = list(store.db.query("SELECT * FROM submissions ORDER BY id"))
    return {**measure(calls, game_rows[0], round_rows, judged, rules, users), "pictures": pictures}


def measure(calls, game, rounds, judged, rules, users) -> dict:
    accepted = [c for c in calls if c.status == 200]
    texts = [c for c in accepted if c.method == "sendMessage"]
    times = sorted(c.at for c in accepted)
    per_minute = max((sum(1 for u in times if t - 60 < u <= t) for t in times), default=0)

    def first(predicate) -> float | None:
        return next((c.at for c in texts if predicate(c.params["text"])), None)

    delays = []
    for r in rounds:
        target = r["target"]
        due = game["started_at"] if r["number"] == 1 else rounds[r["number"] - 2]["ended_at"] + rules.pause_s
        delays.append(_late(first(lambda t, n=r["number"]: f"Round {n}/" in t), due))
        if r["ends_at"] - r["started_at"] >= 2 * rules.warning_s:
            delays.append(_late(first(lambda t, x=target: "⏳" in t and x in t), r["ends_at"] - rules.warning_s))
        delays.append(_late(first(lambda t, x=target: "Time's up" in t and x in t), r["ends_at"]))
    names = {u["id"]: u["first_name"] for u in users}
    verdict_delays, never = [], 0
    for row in judged:
        name = names[row["user_id"]]
        sent = row["at"] - JUDGING_S
        heard = next((c.at for c in texts if c.at >= row["at"] and _gives_verdict(c, name, sent)), None)
        if heard is None:
            never += 1
        else:
            verdict_delays.append(heard - row["at"])
    return {
        "players": len(users),
        "msgs_per_min": per_minute,
        "flood_429s": sum(1 for c in calls if c.status == 429),
        "worst_control_delay_s": round(max(delays), 1),
        "worst_verdict_delay_s": round(max(verdict_delays), 1) if verdict_delays else None,
        "judged": len(judged),
        "never": never,
    }


def _late(at: float | None, due: float) -> float:
    return float("inf") if at is None else max(0.0, at - due)


def _gives_verdict(call, name: str, since: float) -> bool:
    """A line with the player's name, or a verdict replying to one of their pictures
    sent ``since`` or later (a stale verdict on an older picture doesn't count)."""
    text = call.params["text"]
    if any(line.startswith(f"{name}: I see") for line in text.splitlines()):
        return True
    replied = (call.result or {}).get("reply_to_message") or {}
    return (
        text.startswith("I see")
        and replied.get("from", {}).get("first_name") == name
        and replied.get("date", 0) >= int(since)
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, nargs="+", default=[1, 5, 10, 20])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--every", type=float, default=5.2, help="seconds between one player's pictures")
    parser.add_argument("--json", dest="json_path")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for players in args.players:
            row = asyncio.run(play(players, args.rounds, args.seconds, args.every, Path(tmp) / f"{players}.db"))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print("| players | msgs/min | 429s | worst control delay | worst verdict delay | judged/sent | no verdict |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['players']} | {r['msgs_per_min']} | {r['flood_429s']} | {r['worst_control_delay_s']} s "
            f"| {r['worst_verdict_delay_s']} s | {r['judged']}/{r['pictures']} | {r['never']} |"
        )
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
