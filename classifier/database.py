"""The one way toonzoo opens its SQLite file: the bot's store and the label cache share it.

Each package keeps its tables in its own named ``sqlite_utils`` migration set
(``Migrations("toonzoo")`` in ``bot.store``, ``Migrations("toonzoo-classifier")``
in ``classifier.text_cache``); both record what they applied in
``_sqlite_migrations``.
"""

import logging
import sqlite3
from pathlib import Path

from sqlite_utils import Database

from .errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


def open_database(path: str | Path | None) -> Database:
    """Open (creating folders as needed) the SQLite file at ``path``; ``None`` or ``":memory:"``: in memory.

    A file uses WAL mode (readers never block the writer) and waits up to
    ``BUSY_TIMEOUT_MS`` for another connection's write lock instead of failing.

    Thread rule: the connection may be used from any thread, but by one thread
    at a time; its owner serialises the calls. The bot's store is used only on
    the event loop thread; the label cache guards its connection with its lock.
    Each owner opens its own connection.

    A path that cannot be opened, or a file that is not SQLite, raises
    ``DatabaseUnavailable`` with a message saying what to do.
    """
    in_memory = path is None or str(path) == ":memory:"
    target = ":memory:" if in_memory else Path(path).expanduser()  # type: ignore[arg-type]
    try:
        if isinstance(target, Path):
            target.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        db = Database(connection)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not in_memory:
            db.enable_wal()
    except (OSError, sqlite3.Error) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise DatabaseUnavailable(
            f"cannot open {target}: {exc!r}",
            user_message=f"Cannot open the database {target}: {reason}. Give --db (or TOONZOO_DB) a writable "
            "SQLite file, or :memory: for none.",
        ) from exc
    return db
