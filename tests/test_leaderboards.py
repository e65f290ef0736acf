"""Leaderboards by period: /score week, /score today, /score me, with an injected clock (UTC days, ISO weeks)."""

from datetime import UTC, date, datetime

import pytest
from sqlite_utils import Database

from bot import replies
from bot.game import Game, Round
from bot.i18n import ENGLISH, get_translator
from bot.periods import Board, MyScore, ScoreUsageError, parse_score_args, period_start, streak, utc_day
from bot.store import Store

CHAT = -100


def at(text: str) -> float:
    """Seconds since the epoch of a UTC time written ``2026-11-29 23:59:30``."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


@pytest.fixture
def store():
    with Store(Database(memory=True)) as s:
        s.migrate()
        yield s


def win(store: Store, user_id: int, name: str, when: float, seconds: float = 10.0, chat_id: int = CHAT) -> None:
    """A one-round game that ``name`` won with a picture sent at ``when``, ``seconds`` into the round."""
    start = when - seconds
    game = Game(chat_id, user_id, name, 1, 60, ("cat", "dog", "owl", "fox"), start, status="finished")
    round_ = Round(1, "cat", start, start + 60, outcome="drawn", winner_id=user_id, winner_name=name)
    round_.win_score, round_.win_s, round_.ended_at = 0.9, seconds, when
    game.rounds.append(round_)
    game.ended_at = when
    store.save_game(game)


def board(store: Store, kind: Board, now: float) -> list[tuple[str, int]]:
    return [(p.name, p.points) for p in store.leaderboard(CHAT, since=period_start(kind, now))]


# -- the pure helpers ------------------------------------------------------------------------------


def test_periods_follow_utc_days_and_weeks_starting_on_monday():
    sunday_late = at("2026-11-29 23:59:59")
    monday_early = at("2026-11-30 00:00:00")
    assert period_start(Board.WEEK, sunday_late) == at("2026-11-23 00:00:00")
    assert period_start(Board.WEEK, monday_early) == monday_early, "a new week starts at Monday 00:00 UTC"
    assert period_start(Board.WEEK, at("2026-12-06 23:59:59")) == monday_early, "…and lasts to Sunday night"
    assert period_start(Board.TODAY, at("2026-12-02 23:59:59")) == at("2026-12-02 00:00:00")
    assert period_start(Board.TODAY, at("2026-12-03 00:00:00")) == at("2026-12-03 00:00:00")
    assert period_start(Board.ALL_TIME, sunday_late) is None
    assert utc_day(sunday_late) == date(2026, 11, 29) and utc_day(monday_early) == date(2026, 11, 30)


def test_score_arguments():
    assert parse_score_args([]) is Board.ALL_TIME
    assert [parse_score_args([word]) for word in ("week", "TODAY", "Me")] == [Board.WEEK, Board.TODAY, Board.ME]
    for bad in (["month"], ["week", "me"], ["all"], [""], ["wееk"]):  # the last one is spelt with Cyrillic letters
        with pytest.raises(ScoreUsageError) as caught:
            parse_score_args(bad)
        assert replies.error_text(ENGLISH, caught.value) == "Usage: /score, /score week, /score today, /score me"
    with pytest.raises(ScoreUsageError) as caught:
        parse_score_args(["month"])
    assert replies.error_text(get_translator("es"), caught.value).startswith("Uso: /score")


def test_a_streak_counts_days_in_a_row_up_to_today_or_yesterday():
    d = date(2026, 12, 3)
    days = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 11, 28)]
    assert streak(days, d) == 3
    assert streak(days[:2], d) == 2, "no win yet today: yesterday's streak still counts"
    assert streak(days[:1], d) == 0, "a day without a win breaks it"
    assert streak([], d) == 0


# -- the store, across the boundaries ----------------------------------------------------------------


def test_week_board_across_the_week_boundary(store):
    win(store, 1, "Ada", at("2026-11-25 12:00:00"))
    win(store, 1, "Ada", at("2026-11-29 23:59:50"))  # Sunday night
    assert board(store, Board.WEEK, at("2026-11-29 23:59:59")) == [("Ada", 2)]
    assert board(store, Board.WEEK, at("2026-11-30 00:00:00")) == [], "Monday 00:00 UTC: a new week, empty"

    win(store, 2, "Bob", at("2026-11-30 00:00:10"))
    win(store, 3, "Cy", at("2026-12-02 09:00:00"), seconds=5)
    win(store, 2, "Bob", at("2026-12-03 08:00:00"))
    assert board(store, Board.WEEK, at("2026-12-03 12:00:00")) == [("Bob", 2), ("Cy", 1)]
    assert board(store, Board.ALL_TIME, at("2026-12-03 12:00:00")) == [("Ada", 2), ("Bob", 2), ("Cy", 1)]
    assert board(store, Board.WEEK, at("2026-12-07 00:00:00")) == [], "a new week starts empty"


def test_today_board_across_the_day_boundary(store):
    win(store, 1, "Ada", at("2026-12-02 23:59:55"), seconds=3)  # the picture just before midnight
    assert board(store, Board.TODAY, at("2026-12-02 23:59:59")) == [("Ada", 1)]
    assert board(store, Board.TODAY, at("2026-12-03 00:00:00")) == [], "00:00 UTC: a new day, empty"

    win(store, 2, "Bob", at("2026-12-03 00:00:05"))
    win(store, 2, "Bob", at("2026-12-03 10:00:00"))
    win(store, 1, "Ada", at("2026-12-03 11:00:00"), seconds=4)
    win(store, 1, "Ada", at("2026-12-03 12:00:00"), seconds=4, chat_id=-200)  # another chat's win
    today = store.leaderboard(CHAT, since=period_start(Board.TODAY, at("2026-12-03 12:00:00")))
    assert [(p.name, p.points, p.time_s) for p in today] == [("Bob", 2, 20.0), ("Ada", 1, 4.0)]
    tie = store.leaderboard(CHAT, since=period_start(Board.ALL_TIME, 0))
    assert [(p.name, p.points, p.time_s) for p in tie] == [("Ada", 2, 7.0), ("Bob", 2, 20.0)], "ties: less time first"


def test_my_score_counts_wins_the_fastest_and_the_streak(store):
    for when, seconds in (("2026-11-30 10:00", 12), ("2026-12-01 23:59:59", 7), ("2026-12-02 00:00:01", 9)):
        win(store, 1, "Ada", at(when), seconds=seconds)
    win(store, 2, "Bob", at("2026-12-03 10:00"), seconds=1)
    mine = store.my_score(CHAT, 1)
    assert mine == MyScore(3, 7.0, (date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)))
    text = replies.format_my_score(ENGLISH, "Ada", mine, utc_day(at("2026-12-03 09:00")))
    assert text == "📊 Ada in this chat:\n🏆 3 rounds won\n⚡ Fastest win: 7 s\n🔥 3 days in a row with a win"
    later = replies.format_my_score(ENGLISH, "Ada", mine, date(2026, 12, 4))
    assert later.endswith("🔥 0 days in a row with a win")
    none = replies.format_my_score(ENGLISH, "Cy", store.my_score(CHAT, 3), date(2026, 12, 4))
    assert none == "Cy: no wins in this chat yet. Start a drawing game with /game!"


@pytest.mark.parametrize(
    ("language", "week_head", "streak_line"),
    [
        ("es", "🏆 Puntuaciones de esta semana (desde el lunes, UTC):", "🔥 2 días seguidos con una victoria"),
        ("ru", "🏆 Очки за эту неделю (с понедельника, UTC):", "🔥 2 дня подряд с победой"),
    ],
)
def test_boards_in_the_chat_language(store, language, week_head, streak_line):
    t = get_translator(language)
    win(store, 1, "Ана", at("2026-12-02 10:00"))
    win(store, 1, "Ана", at("2026-12-03 10:00"))
    now = at("2026-12-03 12:00")
    week = replies.format_leaderboard(t, store.leaderboard(CHAT, since=period_start(Board.WEEK, now)), Board.WEEK)
    assert week.splitlines()[0] == week_head and "Ана" in week.splitlines()[1]
    assert replies.format_my_score(t, "Ана", store.my_score(CHAT, 1), utc_day(now)).endswith(streak_line)
    empty = replies.format_leaderboard(t, [], Board.TODAY)
    assert "UTC" in empty and "/game" in empty
    assert "UTC" in replies.build_help_text(t)
