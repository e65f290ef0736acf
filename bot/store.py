"""What the bot remembers about chats and their drawing games, in SQLite through sqlite-utils.

Schema changes are numbered migrations in ``MIGRATIONS``, applied once each
and recorded by sqlite-utils in ``_sqlite_migrations``; add new ones at the
end, never edit one that has shipped.

Calls are synchronous. python-telegram-bot runs every handler on one event
loop thread and each call here is a single small query on a local file
(well under a millisecond), so handlers call the store directly instead of
handing it to a thread: the store's connection stays on that one thread.
The file is opened by ``classifier.database.open_database`` (WAL, busy
timeout, thread rule); the classifier's label cache opens its own connection
to the same file and keeps its table in its own migration set.
"""

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from classifier.database import open_database

from .game import Best, Event, Game, Judged, Player, Round, rank_players
from .periods import MyScore
from .teaching import Taught, TaughtRow, evictions

logger = logging.getLogger(__name__)

MIGRATIONS = Migrations("toonzoo")
HOUR_S = 3600.0


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


@MIGRATIONS(name="0002_games")
def _create_games(db: Database) -> None:
    """Drawing games: rounds, judged pictures (never the image) and, derived, the scores."""
    db.table("games").create(
        {
            "id": int,
            "chat_id": int,
            "starter_id": int,
            "starter_name": str,
            "total_rounds": int,
            "seconds": float,
            "labels": str,  # JSON list: the chat's labels when the game started
            "status": str,  # playing, finished, stopped, abandoned
            "started_at": float,  # seconds since the epoch, like every *_at here
            "next_round_at": float,  # set between rounds
            "ended_at": float,
        },
        pk="id",
    )
    db.table("games").create_index(["chat_id", "status"])
    # rounds and submissions repeat chat_id so that /forget (every table with a chat_id) erases them
    db.table("rounds").create(
        {
            "game_id": int,
            "number": int,
            "chat_id": int,
            "target": str,
            "started_at": float,
            "ends_at": float,
            "warned": int,
            "outcome": str,  # open, drawn, timeout, nobody, stopped
            "winner_id": int,
            "winner_name": str,
            "win_score": float,  # the winning picture's probability for the target
            "win_s": float,  # seconds from the round's start to the winning picture
            "ended_at": float,
        },
        pk=("game_id", "number"),
        foreign_keys=[("game_id", "games", "id")],
    )
    db.table("submissions").create(
        {
            "id": int,
            "game_id": int,
            "chat_id": int,
            "round": int,
            "user_id": int,
            "name": str,
            "at": float,
            "seen": str,  # the top guess
            "target_score": float,
            "won": int,
        },
        pk="id",
        foreign_keys=[("game_id", "games", "id")],
    )
    db.table("submissions").create_index(["game_id", "round"])
    # One point per round won; the name is the one from the player's latest win.
    db.create_view(
        "scores",
        """
        SELECT chat_id, winner_id AS user_id, winner_name AS name, MAX(ended_at) AS last_win_at,
               COUNT(*) AS points, SUM(win_s) AS time_s, COUNT(DISTINCT game_id) AS games
        FROM rounds
        WHERE winner_id IS NOT NULL
        GROUP BY chat_id, winner_id
        """,
    )


@MIGRATIONS(name="0003_taught")
def _create_taught(db: Database) -> None:
    """Pictures taught by corrections: their image embedding (never the picture) and the right label.

    ``model`` is the identity of the model that made the embedding: another
    model's embeddings are never mixed in. ``chat_id``: /forget erases them and
    a supergroup migration moves them, like every table with that column.
    """
    db.table("taught").create(
        {
            "id": int,
            "chat_id": int,
            "model": str,
            "label": str,
            "user_id": int,  # who taught it: the per-user hourly limit
            "vector": bytes,  # float32 unit image embedding
            "taught_at": float,  # seconds since the epoch
        },
        pk="id",
    )
    db.table("taught").create_index(["chat_id", "model", "label"])
    db.table("taught").create_index(["chat_id", "user_id", "taught_at"])


@MIGRATIONS(name="0004_languages")
def _add_languages(db: Database) -> None:
    """The chat's language (/language; NULL: each user's own) and the language a game was started in."""
    db.table("chats").add_column("language", str)
    db.table("games").add_column("language", str)


@MIGRATIONS(name="0005_teaching_limits")
def _add_teaching_limits(db: Database) -> None:
    """Corrections counted as they are made (the hourly limit), and whether a taught picture's teacher was an admin.

    ``corrections`` keeps one row per correction for an hour (older rows are
    deleted as new ones come); eviction keeps ``taught`` small, so its rows
    cannot count corrections. Pictures taught before this migration count as
    members' (who taught them as what was not recorded).
    """
    db.table("taught").add_column("by_admin", int, not_null_default=0)
    db.table("corrections").create({"chat_id": int, "user_id": int, "at": float})
    db.table("corrections").create_index(["chat_id", "user_id", "at"])
    db.table("corrections").create_index(["at"])


@MIGRATIONS(name="0006_won_at")
def _add_won_at(db: Database) -> None:
    """When each won round was won (the winning picture's time), for leaderboards by period.

    Rounds won before this migration get it from what they already hold: the
    round's start plus the seconds the winning picture took. Nothing else
    changes, so every total of the ``scores`` view stays as it was.
    """
    db.table("rounds").add_column("won_at", float)
    db.execute("UPDATE rounds SET won_at = started_at + win_s WHERE winner_id IS NOT NULL")
    db.table("rounds").create_index(["chat_id", "won_at"])


@MIGRATIONS(name="0007_solo_bests")
def _add_solo_bests(db: Database) -> None:
    """Each player's best solo race (``/play``): rounds won, and the seconds those wins took."""
    db.table("solo_bests").create(
        {"user_id": int, "won": int, "rounds": int, "time_s": float, "at": float}, pk="user_id"
    )


@MIGRATIONS(name="0008_cards")
def _add_cards(db: Database) -> None:
    """Each player's last solo race card, to share: the gallery the bot sent them (its file id) and the score."""
    db.table("cards").create(
        {"user_id": int, "file_id": str, "won": int, "rounds": int, "made_at": float}, pk="user_id"
    )


@dataclass(frozen=True)
class Card:
    """A player's last solo race, as they share it: its gallery photo (a Telegram file id) and its score."""

    user_id: int
    file_id: str
    won: int
    rounds: int
    made_at: float


class Store:
    """The bot's database: a file path, ``":memory:"``, or a ``Database`` (tests: ``Database(memory=True)``)."""

    def __init__(self, path_or_db: str | Path | Database):
        if isinstance(path_or_db, Database):
            self.db = path_or_db
        else:
            self.db = open_database(path_or_db)

    def migrate(self) -> None:
        """Apply the migrations this database has not had yet."""
        pending = [migration.name for migration in MIGRATIONS.pending(self.db)]
        if pending:
            logger.info("Applying database migrations: %s", ", ".join(pending))
        MIGRATIONS.apply(self.db)

    def chat_profile(self, chat_id: int) -> tuple[list[str] | None, str | None]:
        """The chat's own labels (None: the defaults) and its /language (None: each user's own), in one read."""
        row = self._get_chat(chat_id)
        if row is None:
            return None, None
        return self._labels_of(chat_id, row), row["language"]

    def get_labels(self, chat_id: int) -> list[str] | None:
        """The chat's own labels, or None when it uses the defaults."""
        row = self._get_chat(chat_id)
        return self._labels_of(chat_id, row) if row is not None else None

    @staticmethod
    def _labels_of(chat_id: int, row: dict) -> list[str] | None:
        if row["labels"] is None:
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
            chat_id,
            labels=json.dumps(list(labels), ensure_ascii=False),
            chat_type=chat_type,
            title=title,
        )

    def reset_labels(self, chat_id: int) -> None:
        """Make the chat use the default labels again."""
        if self._get_chat(chat_id) is not None:
            self._upsert_chat(chat_id, labels=None)

    def get_language(self, chat_id: int) -> str | None:
        """The language the chat chose with /language, or None (each user's own)."""
        row = self._get_chat(chat_id)
        return row["language"] if row is not None else None

    def set_language(self, chat_id: int, language: str | None, *, chat_type: str | None = None) -> None:
        """Store the chat's language (None: back to each user's own)."""
        if language is None and self._get_chat(chat_id) is None:
            return
        self._upsert_chat(chat_id, language=language, chat_type=chat_type)

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
            if chat_id > 0:  # a private chat is its user: their solo best and their card go too
                deleted += self.db.execute("DELETE FROM solo_bests WHERE user_id = ?", [chat_id]).rowcount
                deleted += self.db.execute("DELETE FROM cards WHERE user_id = ?", [chat_id]).rowcount
        return deleted

    def move_chat(self, old_id: int, new_id: int) -> int:
        """A group became a supergroup: move every row keyed by ``old_id`` to ``new_id``, in one transaction.

        Covers every table with a ``chat_id`` column, like ``forget_chat``. When
        the new chat already has its own ``chats`` row (it was used before the
        move was noticed), that row wins and takes the old labels only if it has
        none (and its language likewise). Moving again, or a chat with nothing stored, changes nothing.
        Returns the number of rows moved.
        """
        if old_id == new_id:
            return 0
        moved = 0
        with self.db.atomic():
            old, new = self._get_chat(old_id), self._get_chat(new_id)
            if old is not None and new is not None:
                if new["labels"] is None and old["labels"] is not None:
                    self.db.execute("UPDATE chats SET labels = ? WHERE chat_id = ?", [old["labels"], new_id])
                if new["language"] is None and old["language"] is not None:
                    self.db.execute("UPDATE chats SET language = ? WHERE chat_id = ?", [old["language"], new_id])
                moved += self.db.execute("DELETE FROM chats WHERE chat_id = ?", [old_id]).rowcount
            for table in self.db.tables:
                if "chat_id" in table.columns_dict:
                    moved += self.db.execute(
                        f"UPDATE [{table.name}] SET chat_id = ? WHERE chat_id = ?", [new_id, old_id]
                    ).rowcount
        return moved

    # -- taught pictures ------------------------------------------------------------

    def add_taught(
        self,
        chat_id: int,
        model: str,
        label: str,
        vector: bytes,
        *,
        user_id: int,
        by_admin: bool,
        at: float,
        per_label: int,
        per_chat: int,
        per_user_hour: int,
    ) -> tuple[Taught, int]:
        """Keep a corrected picture's embedding, within the limits; what became of it and how many rows were dropped.

        ``per_user_hour``: corrections ``user_id`` may make in the chat in the
        hour before ``at`` (counted as made, whatever was dropped since). The
        pictures of this chat for this model are kept to ``per_label`` of one
        label and ``per_chat`` in all, dropping by ``teaching.evictions``: the
        teacher's own oldest first, never an admin's for a member.
        """
        with self.db.atomic():
            self.db.execute("DELETE FROM corrections WHERE at < ?", [at - HOUR_S])
            if self.corrections_since(chat_id, user_id, at - HOUR_S) >= per_user_hour:
                return Taught.HOURLY_LIMIT, 0
            rows = self._taught_rows(chat_id, model)
            same_label = [row for row, row_label in rows if row_label == label]
            dropped = evictions(same_label, per_label, user_id, by_admin)
            if dropped is not None:
                left = [row for row, _ in rows if row.id not in dropped]
                more = evictions(left, per_chat, user_id, by_admin)
                dropped = None if more is None else dropped + more
            if dropped is None:
                return Taught.FULL, 0
            self.db.table("corrections").insert({"chat_id": chat_id, "user_id": user_id, "at": at})
            self.db.table("taught").insert(
                {
                    "chat_id": chat_id,
                    "model": model,
                    "label": label,
                    "user_id": user_id,
                    "by_admin": int(by_admin),
                    "vector": vector,
                    "taught_at": at,
                }
            )
            for row_id in dropped:
                self.db.execute("DELETE FROM taught WHERE id = ?", [row_id])
        return Taught.KEPT, len(dropped)

    def corrections_since(self, chat_id: int, user_id: int, since: float) -> int:
        """Corrections ``user_id`` made in the chat since ``since`` (any model; kept for an hour)."""
        return self.db.execute(
            "SELECT COUNT(*) FROM corrections WHERE chat_id = ? AND user_id = ? AND at >= ?",
            [chat_id, user_id, since],
        ).fetchone()[0]

    def _taught_rows(self, chat_id: int, model: str) -> list[tuple[TaughtRow, str]]:
        rows = self.db.execute(
            "SELECT id, user_id, by_admin, taught_at, label FROM taught WHERE chat_id = ? AND model = ?",
            [chat_id, model],
        ).fetchall()
        return [(TaughtRow(row_id, user, bool(admin), at), label) for row_id, user, admin, at, label in rows]

    def taught(self, chat_id: int, model: str) -> list[tuple[str, bytes]]:
        """The chat's taught pictures for ``model``: (label, embedding bytes), oldest first."""
        rows = self.db.execute(
            "SELECT label, vector FROM taught WHERE chat_id = ? AND model = ? ORDER BY taught_at, id",
            [chat_id, model],
        ).fetchall()
        return [(label, bytes(vector)) for label, vector in rows]

    def taught_counts(self, chat_id: int, model: str) -> dict[str, int]:
        """How many pictures of each label the chat taught for ``model``."""
        rows = self.db.execute(
            "SELECT label, COUNT(*) FROM taught WHERE chat_id = ? AND model = ? GROUP BY label ORDER BY label",
            [chat_id, model],
        ).fetchall()
        return dict(rows)

    def untrain(self, chat_id: int, label: str) -> int:
        """Drop the chat's taught pictures of ``label`` (every model). Returns how many."""
        with self.db.atomic():
            return self.db.execute("DELETE FROM taught WHERE chat_id = ? AND label = ?", [chat_id, label]).rowcount

    # -- the drawing game ----------------------------------------------------------

    def save_game(self, game: Game, events: Sequence[Event] = ()) -> None:
        """Store the game as it is now, with the pictures judged in ``events``, in one transaction.

        A new game gets its ``id`` here. Scores are not kept separately: the
        ``scores`` view counts the rounds won, so they can't drift or be lost.
        """
        record = {
            "chat_id": game.chat_id,
            "starter_id": game.starter_id,
            "starter_name": game.starter_name,
            "total_rounds": game.total_rounds,
            "seconds": game.seconds,
            "labels": json.dumps(list(game.labels), ensure_ascii=False),
            "status": game.status,
            "started_at": game.started_at,
            "next_round_at": game.next_round_at,
            "ended_at": game.ended_at,
            "language": game.language,
        }
        with self.db.atomic():
            if game.id is None:
                game.id = self.db.table("games").insert(record).last_pk
            else:
                self.db.table("games").update(game.id, record)
            for round_ in game.rounds:  # at most 20, and only the last one changes
                self.db.table("rounds").upsert(_round_record(game, round_), pk=("game_id", "number"))
            judged = [
                {
                    "game_id": game.id,
                    "chat_id": game.chat_id,
                    "round": e.number,
                    "user_id": e.user_id,
                    "name": e.name,
                    "at": e.at,
                    "seen": e.seen,
                    "target_score": e.target_score,
                    "won": int(e.won),
                }
                for e in events
                if isinstance(e, Judged)
            ]
            if judged:
                self.db.table("submissions").insert_all(judged)

    def playing_games(self) -> list[Game]:
        """Games still marked as playing (after a restart: to resume or close)."""
        rows = list(self.db.query("SELECT * FROM games WHERE status = 'playing' ORDER BY id"))
        return [self._load_game(row) for row in rows]

    def leaderboard(self, chat_id: int, limit: int = 10, since: float | None = None) -> list[Player]:
        """The chat's scores, best first (points, then less time): all time, or of the rounds won since ``since``."""
        if since is None:
            rows = self.db.query("SELECT user_id, name, points, time_s FROM scores WHERE chat_id = ?", [chat_id])
        else:  # the name of the latest win, as in the view (SQLite takes bare columns from the MAX row)
            rows = self.db.query(
                """
                SELECT winner_id AS user_id, winner_name AS name, MAX(won_at), COUNT(*) AS points, SUM(win_s) AS time_s
                FROM rounds WHERE chat_id = ? AND winner_id IS NOT NULL AND won_at >= ?
                GROUP BY winner_id
                """,
                [chat_id, since],
            )
        players = [Player(row["user_id"], row["name"], row["points"], row["time_s"] or 0.0) for row in rows]
        return list(rank_players(players))[:limit]

    def my_score(self, chat_id: int, user_id: int) -> MyScore:
        """A player's rounds won in the chat, their fastest win, and the UTC days they won on."""
        points, best = self.db.execute(
            "SELECT COUNT(*), MIN(win_s) FROM rounds WHERE chat_id = ? AND winner_id = ?", [chat_id, user_id]
        ).fetchone()
        days = self.db.execute(
            "SELECT DISTINCT date(won_at, 'unixepoch') FROM rounds WHERE chat_id = ? AND winner_id = ? "
            "AND won_at IS NOT NULL ORDER BY 1",
            [chat_id, user_id],
        ).fetchall()
        return MyScore(points, best, tuple(date.fromisoformat(day) for (day,) in days))

    def record_solo(self, user_id: int, won: int, rounds: int, time_s: float, at: float) -> tuple[int, bool]:
        """Keep a finished solo race if it beats the player's best (more rounds won, then less time):
        (the best number of rounds won, whether this race is the new best)."""
        table = self.db.table("solo_bests")
        rows = list(table.rows_where("user_id = ?", [user_id]))
        best = rows[0] if rows else None
        better = best is None or (won, -time_s) > (best["won"], -best["time_s"])
        if best is None or better:
            table.upsert({"user_id": user_id, "won": won, "rounds": rounds, "time_s": time_s, "at": at}, pk="user_id")
            return won, True
        return best["won"], False

    def solo_best(self, user_id: int) -> tuple[int, int] | None:
        """The player's best solo race kept by ``record_solo``: (rounds won, rounds played), or None."""
        rows = list(self.db.table("solo_bests").rows_where("user_id = ?", [user_id]))
        return (rows[0]["won"], rows[0]["rounds"]) if rows else None

    def keep_card(self, card: Card) -> None:
        """Keep ``card`` as its player's last (the one before is replaced)."""
        with self.db.atomic():
            self.db.table("cards").upsert(
                {
                    "user_id": card.user_id,
                    "file_id": card.file_id,
                    "won": card.won,
                    "rounds": card.rounds,
                    "made_at": card.made_at,
                },
                pk="user_id",
            )

    def card(self, user_id: int) -> Card | None:
        """The player's last solo race card, if they have one."""
        rows = list(self.db.table("cards").rows_where("user_id = ?", [user_id]))
        if not rows:
            return None
        row = rows[0]
        return Card(row["user_id"], row["file_id"], row["won"], row["rounds"], row["made_at"])

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _get_chat(self, chat_id: int) -> dict | None:
        rows = list(self.db.query("SELECT * FROM chats WHERE chat_id = ?", [chat_id]))
        return rows[0] if rows else None

    def _upsert_chat(self, chat_id: int, *, chat_type: str | None = None, title: str | None = None, **values) -> None:
        record = {"chat_id": chat_id, **values, "updated_at": _now()}
        if chat_type is not None:
            record["type"] = chat_type
        if title is not None:
            record["title"] = title
        with self.db.atomic():
            self.db.table("chats").upsert(record, pk="chat_id")

    def _load_game(self, row: dict) -> Game:
        game = Game(
            chat_id=row["chat_id"],
            starter_id=row["starter_id"],
            starter_name=row["starter_name"] or "",
            total_rounds=row["total_rounds"],
            seconds=row["seconds"],
            labels=tuple(json.loads(row["labels"])),
            started_at=row["started_at"],
            id=row["id"],
            status=row["status"],
            next_round_at=row["next_round_at"],
            ended_at=row["ended_at"],
            language=row["language"] or "en",
        )
        for r in self.db.query("SELECT * FROM rounds WHERE game_id = ? ORDER BY number", [game.id]):
            round_ = Round(
                r["number"],
                r["target"],
                r["started_at"],
                r["ends_at"],
                warned=bool(r["warned"]),
                outcome=r["outcome"],
                winner_id=r["winner_id"],
                winner_name=r["winner_name"],
                win_score=r["win_score"],
                win_s=r["win_s"],
                ended_at=r["ended_at"],
            )
            game.rounds.append(round_)
            if round_.winner_id is not None:
                player = game.players.setdefault(round_.winner_id, Player(round_.winner_id, round_.winner_name or ""))
                player.points += 1
                player.time_s += round_.win_s or 0.0
        current = game.current
        for sub in self.db.query("SELECT * FROM submissions WHERE game_id = ? ORDER BY id", [game.id]):
            game.players.setdefault(sub["user_id"], Player(sub["user_id"], sub["name"])).name = sub["name"]
            if (
                current is not None
                and sub["round"] == current.number
                and (current.best is None or sub["target_score"] > current.best.score)
            ):
                current.best = Best(sub["user_id"], sub["name"], sub["target_score"], sub["at"])
        return game


def _round_record(game: Game, round_: Round) -> dict:
    return {
        "game_id": game.id,
        "number": round_.number,
        "chat_id": game.chat_id,
        "target": round_.target,
        "started_at": round_.started_at,
        "ends_at": round_.ends_at,
        "warned": int(round_.warned),
        "outcome": round_.outcome,
        "winner_id": round_.winner_id,
        "winner_name": round_.winner_name,
        "win_score": round_.win_score,
        "win_s": round_.win_s,
        "ended_at": round_.ended_at,
        # the winning picture's time (win_s counts from the round's start): what leaderboards by period count
        "won_at": round_.started_at + round_.win_s
        if round_.winner_id is not None and round_.win_s is not None
        else None,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
