"""Crash safety: kill -9 the writer mid-loop; every acknowledged change survives intact."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

GROUP = -100123
WRITER = textwrap.dedent(
    f"""
    import random, sys, time
    from bot import game as rules
    from bot.store import Store
    from classifier.types import Guess
    store = Store(sys.argv[1])
    store.migrate()
    rng = random.Random(0)
    labels = [f"thing{{i}}" for i in range(20)]
    ada = rules.Player(7, "Ada")
    game, points, n = None, 0, 0
    while True:
        n += 1
        store.set_labels(n, [f"label{{n}}", "dog", "cat"], chat_type="private")
        print(f"labels {{n}}", flush=True)
        if game is None or not game.playing:
            game, events = rules.start_game({GROUP}, ada, labels, 20, 60, time.time(), rng)
            store.save_game(game, events)
        target = game.current.target
        events = rules.judge_picture(game, game.current.number, ada, [Guess(target, 0.9)], time.time())
        events += rules.advance(game, time.time() + 10, rng)  # the next round starts
        store.save_game(game, events)
        points += 1
        print(f"points {{points}}", flush=True)
    """
)


@pytest.mark.slow
def test_kill_9_loses_no_acknowledged_write(tmp_path):
    db_path = tmp_path / "toonzoo.db"
    process = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    deadline = time.monotonic() + 60
    while len(acknowledged) < 300 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acknowledged.append(line.split())
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 50, "the writer made progress before the kill"

    with sqlite3.connect(db_path) as connection:
        assert connection.execute("pragma integrity_check").fetchone() == ("ok",)
        assert connection.execute("pragma journal_mode").fetchone() == ("wal",)
    from bot.store import Store

    with Store(db_path) as store:
        lost = [
            n
            for kind, n in acknowledged
            if kind == "labels" and store.get_labels(int(n)) != [f"label{n}", "dog", "cat"]
        ]
        board = store.leaderboard(GROUP)
    acked_points = max(int(n) for kind, n in acknowledged if kind == "points")
    assert acked_points >= 20, "several games were played before the kill"
    assert lost == [], f"{len(lost)} acknowledged label writes lost"
    stored_points = board[0].points if board else 0
    # Every acknowledged point is there; at most one more was committed but not yet acknowledged.
    assert acked_points <= stored_points <= acked_points + 1
