"""One database file for the bot and the label cache: both migration sets, and files from older releases."""

import shutil
import threading
from pathlib import Path

import torch
from sqlite_utils import Database

from bot.store import MIGRATIONS as BOT_MIGRATIONS
from bot.store import Store
from classifier.database import BUSY_TIMEOUT_MS, open_database
from classifier.text_cache import MIGRATIONS as CLASSIFIER_MIGRATIONS
from classifier.text_cache import TextEmbeddingCache

# Written by toonzoo 0.1.0 (commit 8b273fa, before the label cache had migrations): a group's
# labels, a private chat's labels, a finished two-round game (Bob then Ada win a round each)
# and three cached label embeddings made by ``_encode`` below.
RELEASE_0_1_0_DB = Path(__file__).parent / "data" / "toonzoo-0.1.0.db"
RELEASE_0_1_0_MODEL = "local-dir:/models/tiny"
RELEASE_0_1_0_TEMPLATES = ["a drawing of a {}.", "a {}."]

EXPECTED_SCHEMA = {
    "_sqlite_migrations": {"id": int, "migration_set": str, "name": str, "applied_at": str},
    "chats": {"chat_id": int, "type": str, "title": str, "labels": str, "updated_at": str, "language": str},
    "games": {
        "id": int,
        "chat_id": int,
        "starter_id": int,
        "starter_name": str,
        "total_rounds": int,
        "seconds": float,
        "labels": str,
        "status": str,
        "started_at": float,
        "next_round_at": float,
        "ended_at": float,
        "language": str,
    },
    "rounds": {
        "game_id": int,
        "number": int,
        "chat_id": int,
        "target": str,
        "started_at": float,
        "ends_at": float,
        "warned": int,
        "outcome": str,
        "winner_id": int,
        "winner_name": str,
        "win_score": float,
        "win_s": float,
        "ended_at": float,
        "won_at": float,
    },
    "submissions": {
        "id": int,
        "game_id": int,
        "chat_id": int,
        "round": int,
        "user_id": int,
        "name": str,
        "at": float,
        "seen": str,
        "target_score": float,
        "won": int,
    },
    "text_embeddings": {
        "model": str,
        "templates": str,
        "label": str,
        "dim": int,
        "vector": bytes,
        "created_at": str,
    },
    "taught": {
        "id": int,
        "chat_id": int,
        "model": str,
        "label": str,
        "user_id": int,
        "vector": bytes,
        "taught_at": float,
        "by_admin": int,
    },
    "corrections": {"chat_id": int, "user_id": int, "at": float},
    "solo_bests": {"user_id": int, "won": int, "rounds": int, "time_s": float, "at": float},
    "cards": {"user_id": int, "file_id": str, "won": int, "rounds": int, "made_at": float},
}


class CountingEncoder:
    """The deterministic encoder the 0.1.0 fixture's embeddings were made with, counting its prompts."""

    def __init__(self):
        self.prompts: list[str] = []

    def __call__(self, prompts: list[str]) -> torch.Tensor:
        self.prompts.extend(prompts)
        rows = [torch.tensor([float(len(p)), 1.0, float(sum(map(ord, p)) % 7), 2.0]) for p in prompts]
        return torch.nn.functional.normalize(torch.stack(rows), dim=-1)


def _schema(db: Database) -> dict:
    return {table.name: table.columns_dict for table in db.tables}


def _migrated(path) -> tuple[Store, TextEmbeddingCache, CountingEncoder]:
    """Open ``path`` as the bot does: the store migrates, then the classifier's cache opens."""
    store = Store(path)
    store.migrate()
    encoder = CountingEncoder()
    cache = TextEmbeddingCache(encoder, RELEASE_0_1_0_MODEL, RELEASE_0_1_0_TEMPLATES, open_database(path))
    return store, cache, encoder


def test_fresh_database_gets_both_migration_sets(db_path):
    store, cache, _ = _migrated(db_path)
    with store:
        assert _schema(store.db) == EXPECTED_SCHEMA
        assert store.db["text_embeddings"].pks == ["model", "templates", "label"]
        assert store.db["chats"].pks == ["chat_id"]
        assert store.db["rounds"].pks == ["game_id", "number"]
        assert store.db.view_names() == ["scores"]
        applied = {(row["migration_set"], row["name"]) for row in store.db["_sqlite_migrations"].rows}
        assert applied == {
            ("toonzoo", "0001_chats"),
            ("toonzoo", "0002_games"),
            ("toonzoo", "0003_taught"),
            ("toonzoo", "0004_languages"),
            ("toonzoo", "0005_teaching_limits"),
            ("toonzoo", "0006_won_at"),
            ("toonzoo", "0007_solo_bests"),
            ("toonzoo", "0008_cards"),
            ("toonzoo-classifier", "0001_text_embeddings"),
        }
        assert BOT_MIGRATIONS.pending(store.db) == [] and CLASSIFIER_MIGRATIONS.pending(store.db) == []
    cache._db.close()


def test_database_from_release_0_1_0_migrates_with_nothing_lost(tmp_path):
    path = tmp_path / "toonzoo.db"
    shutil.copy(RELEASE_0_1_0_DB, path)
    with Database(path) as old:  # what the fixture holds: the bot's set only, the cache table outside it
        assert [row["migration_set"] for row in old["_sqlite_migrations"].rows] == ["toonzoo", "toonzoo"]
        assert old["text_embeddings"].count == 3
        totals = list(old.query("SELECT * FROM scores ORDER BY chat_id, user_id"))
        wins = list(old.query("SELECT game_id, number, started_at, win_s FROM rounds WHERE winner_id IS NOT NULL"))
        assert len(totals) == 2 and len(wins) == 2

    store, cache, encoder = _migrated(path)
    with store:
        assert _schema(store.db) == EXPECTED_SCHEMA
        assert CLASSIFIER_MIGRATIONS.pending(store.db) == [] and BOT_MIGRATIONS.pending(store.db) == []
        assert store.get_labels(-1001) == ["giraffe", "zèbre", "🦁 lion"]
        assert store.get_labels(7) == ["cat", "dog"]
        assert store.get_language(-1001) is None and store.get_language(7) is None
        game = store.db["games"].get(1)
        assert (game["chat_id"], game["status"], game["total_rounds"]) == (-1001, "finished", 2)
        assert store.db["rounds"].count == 2 and store.db["submissions"].count == 2
        assert store.playing_games() == []
        board = [(p.user_id, p.name, p.points, p.time_s) for p in store.leaderboard(-1001)]
        assert board == [(12, "Bob", 1, 5.0), (11, "Ada", 1, 10.0)]
        assert list(store.db.query("SELECT * FROM scores ORDER BY chat_id, user_id")) == totals, "every total kept"
        for win in wins:  # each won round now has its time: the winning picture's
            row = store.db["rounds"].get((win["game_id"], win["number"]))
            assert row["won_at"] == win["started_at"] + win["win_s"]
        since_then = [(p.user_id, p.points, p.time_s) for p in store.leaderboard(-1001, since=0.0)]
        assert since_then == [(12, 1, 5.0), (11, 1, 10.0)], "the old wins count in boards by period"

        vectors = cache.get(["owl", "cat", "dog"])
        assert encoder.prompts == [] and cache.encoder_calls == 0  # all three came from the file
        fresh = TextEmbeddingCache(CountingEncoder(), RELEASE_0_1_0_MODEL, RELEASE_0_1_0_TEMPLATES)
        assert torch.equal(vectors, fresh.get(["owl", "cat", "dog"]))
        assert store.db["text_embeddings"].count == 3
    cache._db.close()

    store, cache, encoder = _migrated(path)  # a second start applies nothing again
    with store:
        assert store.db["_sqlite_migrations"].count == 9
    cache._db.close()


def test_open_database_file_wal_busy_timeout_any_thread(tmp_path):
    db = open_database(tmp_path / "a" / "b.db")
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    db["t"].insert({"x": 1})
    seen = []
    thread = threading.Thread(target=lambda: seen.append(db.execute("SELECT x FROM t").fetchone()[0]))
    thread.start()
    thread.join()
    assert seen == [1]  # usable from another thread (one at a time: the owner serialises calls)
    db.close()


def test_open_database_memory_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for path in (None, ":memory:"):
        db = open_database(path)
        db["t"].insert({"x": 1})
        seen: list[int] = []  # the same thread rule as a file: the label cache's worker thread uses it

        def read(db=db, seen=seen):
            seen.append(db.execute("SELECT x FROM t").fetchone()[0])

        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
        assert seen == [1]
        db.close()
    assert list(tmp_path.iterdir()) == []
