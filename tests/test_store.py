"""The chat store: migrations and labels."""

import sqlite3

import pytest

from bot.store import MIGRATIONS, Card, Store


def test_migrate_is_idempotent(store):
    store.set_labels(1, ["a", "b"])
    store.migrate()
    assert MIGRATIONS.pending(store.db) == []
    assert store.get_labels(1) == ["a", "b"]


def test_labels_default_set_reset(store):
    assert store.get_labels(42) is None
    store.set_labels(42, ["Giraffe", "zèbre", "🦁 lion"], chat_type="group", title="Zoo")
    assert store.get_labels(42) == ["Giraffe", "zèbre", "🦁 lion"]
    store.set_labels(42, ["x", "y"])
    row = store.db["chats"].get(42)
    assert (row["type"], row["title"]) == ("group", "Zoo")  # kept when not given
    assert row["updated_at"].endswith("+00:00")
    store.reset_labels(42)
    assert store.get_labels(42) is None
    store.reset_labels(7)  # unknown chat: nothing to reset, nothing created
    assert store.db["chats"].count == 1


def test_chats_are_separate_and_forgettable(store):
    store.set_labels(1, ["a", "b"])
    store.set_labels(-1001, ["c", "d"])
    store.forget_chat(1)
    assert store.get_labels(1) is None
    assert store.get_labels(-1001) == ["c", "d"]


def test_a_players_last_card_replaces_the_one_before_and_forget_in_their_private_chat_erases_it(store):
    assert store.card(7) is None
    store.keep_card(Card(7, "file-a", 2, 6, 100.0))
    store.keep_card(Card(8, "file-b", 6, 6, 101.0))
    store.keep_card(Card(7, "file-c", 1, 6, 102.0))  # a worse race is still the last one
    assert store.card(7) == Card(7, "file-c", 1, 6, 102.0)
    store.forget_chat(-1007)  # a group's /forget is not the player's
    assert store.card(7) is not None
    assert store.forget_chat(7) == 1
    assert store.card(7) is None and store.card(8) == Card(8, "file-b", 6, 6, 101.0)


def test_unreadable_labels_fall_back_to_defaults(store, caplog):
    store.db["chats"].insert({"chat_id": 5, "labels": "{not json"})
    store.db["chats"].insert({"chat_id": 6, "labels": '{"a": 1}'})
    assert store.get_labels(5) is None and store.get_labels(6) is None
    assert "unreadable labels" in caplog.text


def test_set_labels_refuses_non_strings(store):
    with pytest.raises(TypeError):
        store.set_labels(1, ["a", 2])
    assert store.get_labels(1) is None


def test_file_database_persists_with_wal_and_busy_timeout(tmp_path):
    path = tmp_path / "nested" / "toonzoo.db"
    with Store(path) as store:
        store.migrate()
        store.set_labels(3, ["owl", "bat"])
        assert store.db.journal_mode == "wal"
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    with Store(str(path)) as again:
        again.migrate()
        assert again.get_labels(3) == ["owl", "bat"]
    # committed, so another connection sees it
    assert sqlite3.connect(path).execute("SELECT labels FROM chats").fetchone() == ('["owl", "bat"]',)


def test_memory_path_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Store(":memory:") as store:
        store.migrate()
        store.set_labels(1, ["a", "b"])
        assert store.get_labels(1) == ["a", "b"]
    assert list(tmp_path.iterdir()) == []
