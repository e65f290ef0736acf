"""Crash safety: kill -9 the writer mid-loop; every acknowledged change survives intact."""

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

WRITER = textwrap.dedent(
    """
    import sys
    from bot.store import Store
    store = Store(sys.argv[1])
    store.migrate()
    n = 0
    while True:
        n += 1
        store.set_labels(n, [f"label{n}", "dog", "cat"], chat_type="private")
        print(f"labels {n}", flush=True)
    """
)


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
        lost = [n for kind, n in acknowledged if store.get_labels(int(n)) != [f"label{n}", "dog", "cat"]]
    assert lost == [], f"{len(lost)} acknowledged writes lost"
