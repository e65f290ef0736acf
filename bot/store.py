"""What the bot remembers about chats, in SQLite through sqlite-utils.

Schema changes are numbered migrations in ``MIGRATIONS``, applied once each
and recorded by sqlite-utils in ``_sqlite_migrations``; add new ones at the
end, never edit one that has shipped.

Calls are synchronous. python-telegram-bot runs every handler on one event
loop thread and each call here is a single small query on a local file
(well under a millisecond), so handlers call the store directly instead of
handing it to a thread: that keeps one connection on one thread, which is
what sqlite3 expects. The classifier's text cache keeps its own connection.

A file database uses WAL mode (readers don't block the writer) and waits up
to ``BUSY_TIMEOUT_MS`` for a lock instead of failing at once.
"""

import json
import logging
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000

MIGRATIONS = Migrations("toonzoo")


@MIGRATIONS(name="0001_chats")
def _create_chats(db: Database) -> None:
    db.table("chats").create(
        {
            "chat_id": int,
            "type": str,
            "title": str,
            "labels": str,  # JSON list of strings; NULL means the defaults
            "updated_at": str,
        },
        pk="chat_id",
    )


class Store:
    """The bot's database: a file path, ``":memory:"``, or a ``Database`` (tests: ``Database(memory=True)``)."""

    def __init__(self, path_or_db: str | Path | Database):
        if isinstance(path_or_db, Database):
            self.db = path_or_db
        elif str(path_or_db) == ":memory:":
            self.db = Database(memory=True)
        else:
            path = Path(path_or_db).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
            self.db = Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.db.enable_wal()

    def migrate(self) -> None:
        """Apply the migrations this database has not had yet."""
        pending = [migration.name for migration in MIGRATIONS.pending(self.db)]
        if pending:
            logger.info("Applying database migrations: %s", ", ".join(pending))
        MIGRATIONS.apply(self.db)

    def get_labels(self, chat_id: int) -> list[str] | None:
        """The chat's own labels, or None when it uses the defaults."""
        row = self._get_chat(chat_id)
        if row is None or row["labels"] is None:
            return None
        try:
            labels = json.loads(row["labels"])
        except ValueError:
            labels = None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            logger.warning("Ignoring unreadable labels stored for chat %s", chat_id)
            return None
        return labels

    def set_labels(
        self,
        chat_id: int,
        labels: list[str],
        *,
        chat_type: str | None = None,
        title: str | None = None,
    ) -> None:
        """Store the chat's labels (already validated by ``bot.labels``)."""
        if not all(isinstance(label, str) for label in labels):
            raise TypeError("labels must be strings")
        self._upsert_chat(
            chat_id, labels=json.dumps(list(labels), ensure_ascii=False),
            chat_type=chat_type, title=title,
        )

    def reset_labels(self, chat_id: int) -> None:
        """Make the chat use the default labels again."""
        if self._get_chat(chat_id) is not None:
            self._upsert_chat(chat_id, labels=None)

    def forget_chat(self, chat_id: int) -> int:
        """Delete everything stored about the chat, from every table keyed by ``chat_id``.

        Returns the number of rows deleted. Tables added by later migrations are
        covered as long as they carry a ``chat_id`` column.
        """
        deleted = 0
        with self.db.atomic():
            for table in self.db.tables:
                if "chat_id" in table.columns_dict:
                    deleted += self.db.execute(f"DELETE FROM [{table.name}] WHERE chat_id = ?", [chat_id]).rowcount
        return deleted

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _get_chat(self, chat_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM chats WHERE chat_id = ?", [chat_id]))
        return rows[0] if rows else None

    def _upsert_chat(
        self, chat_id: int, *, chat_type: str | None = None, title: str | None = None, **values
    ) -> None:
        record = {"chat_id": chat_id, **values, "updated_at": _now()}
        if chat_type is not None:
            record["type"] = chat_type
        if title is not None:
            record["title"] = title
        with self.db.atomic():
            self.db.table("chats").upsert(record, pk="chat_id")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
