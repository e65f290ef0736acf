"""Leaderboards by period: which board ``/score`` asks for, where its period starts, and win streaks.

Pure: the clock is passed in (``now``, seconds since the epoch). Periods follow
UTC, the same for every chat: a day starts at 00:00 UTC, a week on Monday at
00:00 UTC (ISO 8601 weeks).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum

from .i18n import LocalizedError

SCORE_USAGE = "/score, /score week, /score today, /score me"


class Board(Enum):
    """What ``/score`` shows."""

    ALL_TIME = "all"
    WEEK = "week"
    TODAY = "today"
    ME = "me"


class ScoreUsageError(LocalizedError, ValueError):
    """``/score`` with an argument it doesn't take."""


@dataclass(frozen=True)
class MyScore:
    """A player's record in a chat: rounds won, the fastest win, the UTC days with a win."""

    points: int
    best_s: float | None
    days: tuple[date, ...]


def parse_score_args(args: Sequence[str]) -> Board:
    """``/score [week|today|me]`` → the board (any case); anything else is a ``ScoreUsageError``."""
    if not args:
        return Board.ALL_TIME
    if len(args) == 1:
        for board in (Board.WEEK, Board.TODAY, Board.ME):
            if args[0].casefold() == board.value:
                return board
    raise ScoreUsageError(lambda t: t.gettext("Usage: {usage}").format(usage=SCORE_USAGE))


def period_start(board: Board, now: float) -> float | None:
    """When ``board``'s period began, in seconds since the epoch (None: all time)."""
    today = utc_day(now)
    if board is Board.TODAY:
        start = today
    elif board is Board.WEEK:
        start = today - timedelta(days=today.weekday())  # Monday
    else:
        return None
    return datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp()


def utc_day(at: float) -> date:
    """The UTC calendar day of a time in seconds since the epoch."""
    return datetime.fromtimestamp(at, UTC).date()


def streak(days: Iterable[date], today: date) -> int:
    """Days in a row with a win, up to today; a streak whose last win was yesterday still counts
    (today is not over)."""
    won = set(days)
    day = today if today in won else today - timedelta(days=1)
    count = 0
    while day in won:
        count += 1
        day -= timedelta(days=1)
    return count
