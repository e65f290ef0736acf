"""The drawing game's rules (no I/O: fixed clocks, seeded randomness), their texts and their tables."""

import json
import random
import subprocess
import sys

import pytest

from bot import replies
from bot.game import (
    Admission,
    BackOnline,
    GameError,
    GameOver,
    GameRules,
    GameStarted,
    Judged,
    Player,
    RoundResumed,
    RoundStarted,
    RoundState,
    RoundTimedOut,
    RoundWon,
    TimeWarning,
    admit_picture,
    advance,
    can_stop,
    confirm_round_start,
    judge_picture,
    next_deadline,
    parse_game_args,
    planned_controls,
    resume_game,
    round_view,
    standings,
    start_game,
    stop_game,
    timeout_floor,
)
from bot.i18n import ENGLISH as EN
from bot.i18n import get_translator
from bot.packs import Pack
from classifier.types import Guess

LABELS = ("giraffe", "llama", "zebra", "owl", "cat")
RULES = GameRules(warning_s=10, cooldown_s=5, min_timeout_score=0.3, pause_s=4, resume_min_s=10)
ADA, BOB, CAT = Player(1, "Ada"), Player(2, "Bob"), Player(3, "Cat")
T0 = 1_800_000_000.0
CHAT = -100


def sees(label: str, score: float = 0.8, target: str | None = None, target_score: float = 0.0) -> list[Guess]:
    """Guesses over LABELS: ``label`` on top with ``score``; ``target`` gets ``target_score``."""
    rest = [x for x in LABELS if x not in (label, target)]
    left = max(0.0, 1.0 - score - (target_score if target and target != label else 0.0))
    guesses = [Guess(label, score)] + [Guess(x, left / len(rest)) for x in rest]
    if target and target != label:
        guesses.append(Guess(target, target_score))
    return guesses


def new_game(rounds=3, seconds=60, now=T0, seed=1, labels=LABELS, rules=RULES):
    return start_game(CHAT, ADA, labels, rounds, seconds, now, random.Random(seed), rules)


# -- /game arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], (5, 60, None)),
        (["3"], (3, 60, None)),
        (["3", "45"], (3, 45, None)),
        (["20", "300"], (20, 300, None)),
        (["1", "15"], (1, 15, None)),
        (["quickdraw"], (5, 60, Pack.QUICKDRAW)),
        (["3", "quickdraw"], (3, 60, Pack.QUICKDRAW)),
        (["3", "30", "animals"], (3, 30, Pack.ANIMALS)),
        (["Chat", "3", "30"], (3, 30, Pack.CHAT)),
        (["3", "QUICKDRAW", "30"], (3, 30, Pack.QUICKDRAW)),
    ],
)
def test_game_arguments_and_defaults(args, expected):
    parsed = parse_game_args(args)
    assert parsed == expected and (parsed.rounds, parsed.seconds, parsed.pack) == expected
    assert parsed.pack is None or isinstance(parsed.pack, Pack)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["0"], "1 to 20"),
        (["21"], "1 to 20"),
        (["3", "14"], "15 to 300"),
        (["3", "301"], "15 to 300"),
        (["three"], "'three' is not a pack; packs: animals, quickdraw, chat"),
        (["fruit"], "Usage: /game [rounds] [seconds] [pack]"),
        (["3", "45", "quick draw"], "'quick draw' is not a pack"),
        (["1", "2", "3"], "(packs: animals, quickdraw, chat)"),
        (["1", "2", "3", "animals"], "(packs: animals, quickdraw, chat)"),
        (["3", "animals", "quickdraw"], "(packs: animals, quickdraw, chat)"),
        (["chat", "chat"], "(packs: animals, quickdraw, chat)"),
        (["0", "quickdraw"], "1 to 20"),
        (["animals", "3", "14"], "15 to 300"),
        (["2.5"], "is not a number"),
        (["1_0"], "is not a number"),
        (["٣"], "is not a number"),
        (["３"], "is not a number"),
        (["+3"], "is not a number"),
        ([" 3"], "is not a number"),
        (["3\n"], "is not a number"),
        (["3", "4_5"], "is not a number"),
        (["quickdraw", "4_5"], "is not a number"),
        (["-1"], "is not a number"),
        (["9" * 5000], "is not a number"),
        (["x" * 5000], "is not a pack"),
    ],
)
def test_bad_game_arguments_are_explained(args, words):
    with pytest.raises(GameError) as caught:
        parse_game_args(args)
    assert words in caught.value.user_message


def test_the_usage_line_lists_the_packs_in_the_players_language():
    with pytest.raises(GameError) as caught:
        parse_game_args(["3", "frutas"])
    spanish, russian = caught.value.say(get_translator("es")), caught.value.say(get_translator("ru"))
    assert spanish.startswith("Uso: /game [rounds] [seconds] [pack]") and "'frutas' no es una lista" in spanish
    assert "наборы: animals, quickdraw, chat" in russian
    with pytest.raises(GameError) as caught:
        parse_game_args(["1", "2", "3"])
    assert "listas de palabras: animals, quickdraw, chat" in caught.value.say(get_translator("es"))


def test_rules_can_allow_short_rounds_for_tests():
    assert parse_game_args(["2", "2"], GameRules(min_seconds=1)) == (2, 2, None)


# -- starting, judging, winning ------------------------------------------------------


def test_start_announces_the_game_and_round_one():
    game, events = new_game()
    assert events[0] == GameStarted(3, 60, 3)
    assert isinstance(events[1], RoundStarted) and events[1].number == 1 and events[1].target in LABELS
    assert game.current.target == events[1].target and game.current.ends_at == T0 + 60
    assert game.playing and game.starter_id == ADA.user_id


def test_rounds_are_capped_by_the_labels_and_targets_never_repeat():
    game, events = new_game(rounds=20, labels=("cat", "dog", "owl"))
    assert game.total_rounds == 3 and events[0] == GameStarted(3, 60, 20)
    now = T0
    while game.playing:
        now = next_deadline(game, RULES)
        advance(game, now, random.Random(0), RULES)
    assert sorted(r.target for r in game.rounds) == ["cat", "dog", "owl"]


def test_too_few_labels_cannot_play():
    with pytest.raises(GameError):
        new_game(labels=("cat",))


def test_same_seed_same_targets():
    assert new_game(seed=7)[0].current.target == new_game(seed=7)[0].current.target
    assert len({new_game(seed=s)[0].current.target for s in range(30)}) > 1


def test_top_guess_on_target_wins_the_round_at_once():
    game, _ = new_game()
    target = game.current.target
    assert admit_picture(game, BOB.user_id, T0 + 12, RULES) is Admission.ADMITTED
    events = judge_picture(game, 1, BOB, sees(target), T0 + 12, RULES)
    assert isinstance(events[0], Judged) and events[0].won and events[0].seen == target
    assert events[1] == RoundWon(1, "Bob", target, 12.0, 1)
    assert game.current is None and game.rounds[0].outcome == "drawn"
    assert game.rounds[0].winner_id == BOB.user_id and game.next_round_at == T0 + 12 + RULES.pause_s
    assert standings(game)[0] == Player(BOB.user_id, "Bob", 1, 12.0)
    # a picture judged just after, for the same round, is too late
    assert judge_picture(game, 1, CAT, sees(target), T0 + 12.1, RULES) == []


def test_other_top_guess_says_what_it_sees_and_keeps_the_best():
    game, _ = new_game()
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    events = judge_picture(game, 1, ADA, sees(other, 0.6, target, 0.2), T0 + 5, RULES)
    assert events == [Judged(1, ADA.user_id, "Ada", T0 + 5, target, other, 0.2, False)]
    judge_picture(game, 1, BOB, sees(other, 0.5, target, 0.35), T0 + 9, RULES)
    judge_picture(game, 1, CAT, sees(other, 0.5, target, 0.1), T0 + 10, RULES)
    assert (game.current.best.user_id, game.current.best.score) == (BOB.user_id, 0.35)
    assert game.current.is_open and set(game.players) == {1, 2, 3}


def test_target_match_ignores_case():
    game, _ = new_game(labels=("Giraffe", "llama"), seed=3)
    target = game.current.target
    events = judge_picture(game, 1, ADA, [Guess(target.upper(), 0.9), Guess("x", 0.1)], T0 + 1, RULES)
    assert isinstance(events[-1], RoundWon)


def test_picture_after_the_deadline_or_for_another_round_is_not_judged():
    game, _ = new_game()
    target = game.current.target
    assert judge_picture(game, 1, ADA, sees(target), T0 + 60.5, RULES) == []
    assert judge_picture(game, 2, ADA, sees(target), T0 + 1, RULES) == []
    assert judge_picture(game, 1, ADA, [], T0 + 1, RULES) == []
    assert game.current.is_open


def test_cooldown_is_per_player():
    game, _ = new_game()
    assert admit_picture(game, ADA.user_id, T0 + 1, RULES) is Admission.ADMITTED
    assert admit_picture(game, ADA.user_id, T0 + 5.9, RULES) is Admission.COOLDOWN
    assert admit_picture(game, BOB.user_id, T0 + 2, RULES) is Admission.ADMITTED  # anyone may join, any time
    assert admit_picture(game, ADA.user_id, T0 + 6, RULES) is Admission.ADMITTED


def test_no_pictures_judged_between_rounds_or_after_the_game():
    game, _ = new_game(rounds=1)
    judge_picture(game, 1, ADA, sees(game.current.target), T0 + 3, RULES)
    assert not game.playing
    assert admit_picture(game, BOB.user_id, T0 + 4, RULES) is Admission.NO_ROUND
    game, _ = new_game(rounds=2)
    judge_picture(game, 1, ADA, sees(game.current.target), T0 + 3, RULES)
    assert admit_picture(game, BOB.user_id, T0 + 4, RULES) is Admission.NO_ROUND


# -- time ----------------------------------------------------------------------------


def test_warning_then_timeout_then_next_round():
    game, _ = new_game(rounds=2)
    target = game.current.target
    assert next_deadline(game, RULES) == T0 + 50
    assert advance(game, T0 + 49.9, random.Random(1), RULES) == []
    assert advance(game, T0 + 50, random.Random(1), RULES) == [TimeWarning(1, target, 10.0)]
    assert next_deadline(game, RULES) == T0 + 60
    events = advance(game, T0 + 60, random.Random(1), RULES)
    assert events == [RoundTimedOut(1, target, None)] and game.rounds[0].outcome == "nobody"
    assert next_deadline(game, RULES) == T0 + 64
    (started,) = advance(game, T0 + 64, random.Random(1), RULES)
    assert isinstance(started, RoundStarted) and started.number == 2 and started.target != target
    assert game.current.ends_at == T0 + 124


def test_short_rounds_get_no_warning():
    game, _ = new_game(seconds=15)
    assert next_deadline(game, RULES) == T0 + 15


def test_late_timer_skips_the_stale_warning():
    game, _ = new_game(rounds=2)
    events = advance(game, T0 + 61, random.Random(1), RULES)
    assert [type(e) for e in events] == [RoundTimedOut]
    events = advance(game, T0 + 200, random.Random(1), RULES)  # very late: still one round at a time
    assert [type(e) for e in events] == [RoundStarted]


def test_timeout_goes_to_the_closest_picture_above_the_minimum():
    game, _ = new_game(rounds=1)
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    judge_picture(game, 1, ADA, sees(other, 0.5, target, 0.31), T0 + 20, RULES)
    judge_picture(game, 1, BOB, sees(other, 0.5, target, 0.45), T0 + 30, RULES)
    events = advance(game, T0 + 60, random.Random(1), RULES)
    assert isinstance(events[0], RoundTimedOut) and events[0].winner.name == "Bob"
    assert game.rounds[0].outcome == "timeout" and game.rounds[0].win_s == 30
    assert isinstance(events[1], GameOver) and events[1].reason == "finished"
    assert [(p.name, p.points) for p in events[1].standings] == [("Bob", 1), ("Ada", 0)]


def test_timeout_below_the_minimum_goes_to_nobody():
    game, _ = new_game(rounds=1)
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    judge_picture(game, 1, ADA, sees(other, 0.6, target, 0.29), T0 + 20, RULES)
    events = advance(game, T0 + 60, random.Random(1), RULES)
    assert events[0] == RoundTimedOut(1, target, None)
    assert events[1].standings == (Player(ADA.user_id, "Ada", 0, 0.0),)


def test_the_timeout_floor_is_twice_chance_level_or_the_rules_minimum():
    rules = GameRules(min_timeout_score=0.25)
    assert timeout_floor(rules, 4) == 0.5
    assert timeout_floor(rules, 5) == pytest.approx(0.4)
    assert timeout_floor(rules, 8) == 0.25 and timeout_floor(rules, 32) == 0.25
    assert timeout_floor(GameRules(min_timeout_score=0.3), 100) == 0.3


def test_with_four_labels_a_chance_level_picture_does_not_win_on_time():
    labels = ("giraffe", "llama", "zebra", "owl")
    rules = GameRules(min_timeout_score=0.25)
    game, _ = new_game(rounds=1, labels=labels, rules=rules)
    target = game.current.target
    others = [x for x in labels if x != target]
    guesses = [Guess(others[0], 0.28), Guess(target, 0.26), Guess(others[1], 0.24), Guess(others[2], 0.22)]
    judge_picture(game, 1, ADA, guesses, T0 + 20, rules)
    (timed_out, _) = advance(game, T0 + 60, random.Random(1), rules)
    assert timed_out == RoundTimedOut(1, target, None), "26% of 4 labels is chance, not a drawing"


def test_planned_controls_follow_the_schedule_if_nobody_wins_early():
    game, _ = new_game(rounds=3, seconds=60)  # warning at 50, end at 60, pause 4
    assert planned_controls(game, RULES) == [
        T0 + 50,
        T0 + 60,
        T0 + 64,
        T0 + 114,
        T0 + 124,
        T0 + 128,
        T0 + 178,
        T0 + 188,
    ]
    advance(game, T0 + 50, random.Random(1), RULES)  # warned: the warning is no longer planned
    assert planned_controls(game, RULES)[:2] == [T0 + 60, T0 + 64]
    judge_picture(game, 1, BOB, sees(game.current.target), T0 + 55, RULES)  # won: round 2 next
    assert planned_controls(game, RULES) == [T0 + 59, T0 + 109, T0 + 119, T0 + 123, T0 + 173, T0 + 183]
    stop_game(game, T0 + 60)
    assert planned_controls(game, RULES) == []
    short, _ = new_game(rounds=2, seconds=15)  # no warning in short rounds
    assert planned_controls(short, RULES) == [T0 + 15, T0 + 19, T0 + 34]


def test_a_round_starts_when_its_announcement_was_accepted():
    game, _ = new_game(rounds=2, seconds=60)
    assert confirm_round_start(game, 1, T0 + 0.4)
    assert (game.current.started_at, game.current.ends_at) == (T0 + 0.4, T0 + 60.4)
    assert next_deadline(game, RULES) == T0 + 50.4
    assert not confirm_round_start(game, 1, T0 + 0.2), "never earlier"
    assert not confirm_round_start(game, 2, T0 + 1), "not another round"
    judge_picture(game, 1, BOB, sees(game.current.target), T0 + 5, RULES)
    assert not confirm_round_start(game, 1, T0 + 6), "not a round that is over"


def test_points_tie_is_broken_by_drawing_time():
    game, _ = new_game(rounds=3)
    rng = random.Random(2)
    judge_picture(game, 1, ADA, sees(game.current.target), T0 + 40, RULES)  # 40 s
    advance(game, game.next_round_at, rng, RULES)
    start = game.current.started_at
    judge_picture(game, 2, BOB, sees(game.current.target), start + 25, RULES)  # 25 s
    advance(game, game.next_round_at, rng, RULES)
    start = game.current.started_at
    events = judge_picture(game, 3, CAT, sees(game.current.target), start + 50, RULES)
    over = events[-1]
    assert isinstance(over, GameOver) and over.reason == "finished" and not game.playing
    assert [p.name for p in over.standings] == ["Bob", "Ada", "Cat"]
    assert next_deadline(game, RULES) is None


def test_a_full_game_alternates_rounds_and_pauses_until_the_end():
    game, events = new_game(rounds=3)
    rng, now, kinds = random.Random(5), T0, [type(e) for e in events]
    while game.playing:
        now = next_deadline(game, RULES)
        kinds += [type(e) for e in advance(game, now, rng, RULES)]
    assert kinds == [GameStarted, RoundStarted] + [TimeWarning, RoundTimedOut, RoundStarted] * 2 + [
        TimeWarning,
        RoundTimedOut,
        GameOver,
    ]
    assert now == T0 + 3 * 60 + 2 * RULES.pause_s and game.status == "finished"


# -- stopping and restarting ---------------------------------------------------------------


def test_stop_ends_the_game_without_awarding_the_open_round():
    game, _ = new_game()
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    judge_picture(game, 1, BOB, sees(other, 0.5, target, 0.45), T0 + 3, RULES)
    (over,) = stop_game(game, T0 + 5, by="Ada")
    assert over.reason == "stopped" and over.stopped_by == "Ada"
    assert game.status == "stopped" and game.rounds[0].outcome == "stopped" and game.rounds[0].winner_id is None
    assert stop_game(game, T0 + 6) == [] and advance(game, T0 + 100, random.Random(), RULES) == []


def test_only_the_starter_or_an_admin_may_stop():
    game, _ = new_game()
    assert can_stop(game, ADA.user_id, is_admin=False)
    assert not can_stop(game, BOB.user_id, is_admin=False)
    assert can_stop(game, BOB.user_id, is_admin=True)
    assert not can_stop(game, None, is_admin=False)


def test_restart_with_time_left_resumes_the_round():
    game, _ = new_game()
    events = resume_game(game, T0 + 45, random.Random(), RULES)
    assert events == [BackOnline(), RoundResumed(1, 3, game.current.target, 15.0)]
    assert game.playing and next_deadline(game, RULES) == T0 + 50


def test_restart_too_late_closes_round_with_its_best_picture_and_ends_the_game():
    game, _ = new_game()
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    judge_picture(game, 1, BOB, sees(other, 0.5, target, 0.4), T0 + 20, RULES)
    events = resume_game(game, T0 + 55, random.Random(), RULES)
    assert [type(e) for e in events] == [BackOnline, RoundTimedOut, GameOver]
    assert events[1].winner.name == "Bob" and events[2].reason == "abandoned"
    assert game.status == "abandoned" and game.rounds[0].ended_at == T0 + 55
    assert events[2].standings[0].points == 1


def test_restart_between_rounds_starts_the_next_round_or_gives_up():
    game, _ = new_game()
    judge_picture(game, 1, BOB, sees(game.current.target), T0 + 10, RULES)  # next round due at T0 + 14
    again = resume_game(game, T0 + 30, random.Random(), RULES)
    assert [type(e) for e in again] == [BackOnline, RoundStarted] and game.current.started_at == T0 + 30

    game, _ = new_game()
    judge_picture(game, 1, BOB, sees(game.current.target), T0 + 10, RULES)
    late = resume_game(game, T0 + 14 + 60 - 9, random.Random(), RULES)
    assert [type(e) for e in late] == [BackOnline, GameOver] and late[1].reason == "abandoned"


def test_game_rules_import_neither_telegram_nor_torch():
    code = "import sys, bot.game; print(sorted(m for m in ('telegram', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# -- texts -------------------------------------------------------------------------------------


def test_event_texts():
    assert replies.format_game_event(EN, GameStarted(2, 60, 5)).startswith("🎨 Drawing game! 2 rounds (only 2 labels")
    assert replies.format_game_event(EN, RoundStarted(1, 3, "giraffe", 60)) == (
        "Round 1/3. Draw: giraffe 🦒! You have 60 s."
    )
    assert replies.format_game_event(EN, RoundStarted(2, 3, "owl", 300)).endswith("Draw: owl 🦉! You have 5 min.")
    assert replies.format_game_event(EN, TimeWarning(1, "owl", 10.0)) == "⏳ Time left: 10 s. Draw: owl!"
    assert replies.format_game_event(EN, Judged(1, 1, "Ada", T0, "giraffe", "llama", 0.12, False)) == (
        "I see: llama 🦙… keep trying! (giraffe: 12%)"
    )
    assert replies.format_game_event(EN, Judged(1, 1, "Ada", T0, "giraffe", "giraffe", 0.9, True)) is None
    assert replies.format_game_event(EN, RoundWon(1, "Alice", "giraffe", 12.4, 2)) == (
        "🎉 Alice wins the round: giraffe 🦒 in 12 s! (2 points)"
    )
    timed_out = replies.format_game_event(EN, RoundTimedOut(1, "cat", None))
    assert "Nobody" in timed_out and timed_out.endswith(": cat.")
    players = (Player(2, "Bob", 2, 30.0), Player(1, "Ada", 1, 9.0), Player(3, "Cy", 0))
    over = replies.format_game_event(EN, GameOver("finished", players))
    assert over.splitlines()[:4] == [
        "🏁 Game over!",
        "🥇 Bob: 2 points (30 s)",
        "🥈 Ada: 1 point (9 s)",
        "3. Cy: 0 points",
    ]
    assert "by Ada" in replies.format_game_event(EN, GameOver("stopped", (), "Ada"))
    assert "Nobody scored" in replies.format_game_event(EN, GameOver("abandoned", ()))
    assert replies.format_leaderboard(EN, []) == replies.NO_SCORES_TEXT(EN)
    crowd = [Player(i, f"P{i}", 30 - i) for i in range(25)]
    assert replies.format_standings(EN, crowd).splitlines()[-2:] == ["20. P19: 11 points (0 s)", "… and 5 more"]


# -- the tables --------------------------------------------------------------------------------


def test_games_rounds_and_submissions_round_trip(store):
    game, events = new_game()
    store.save_game(game, events)
    assert game.id == 1
    target = game.current.target
    other = next(x for x in LABELS if x != target)
    store.save_game(game, judge_picture(game, 1, BOB, sees(other, 0.5, target, 0.4), T0 + 8, RULES))
    store.save_game(game, judge_picture(game, 1, CAT, sees(other, 0.5, target, 0.2), T0 + 9, RULES))
    (loaded,) = store.playing_games()
    assert loaded.labels == LABELS and loaded.current.target == target and loaded.total_rounds == 3
    assert loaded.current.best.user_id == BOB.user_id and loaded.current.best.score == 0.4
    assert set(loaded.players) == {BOB.user_id, CAT.user_id}
    rows = list(store.db["submissions"].rows)
    assert [(r["user_id"], r["seen"], r["target_score"], r["won"]) for r in rows] == [
        (2, other, 0.4, 0),
        (3, other, 0.2, 0),
    ]
    assert set(rows[0]) == {"id", "game_id", "chat_id", "round", "user_id", "name", "at", "seen", "target_score", "won"}

    store.save_game(game, judge_picture(game, 1, BOB, sees(target), T0 + 10, RULES))
    (loaded,) = store.playing_games()
    assert loaded.current is None and loaded.next_round_at == T0 + 14
    assert loaded.players[BOB.user_id].points == 1 and loaded.players[BOB.user_id].time_s == 10
    store.save_game(game, stop_game(game, T0 + 11))
    assert store.playing_games() == []
    assert store.db["games"].get(1)["status"] == "stopped"


def test_leaderboard_sums_every_game_of_the_chat_only(store):
    for chat, winner, at in ((CHAT, BOB, 20), (CHAT, BOB, 10), (CHAT, ADA, 5), (-200, CAT, 1)):
        game, events = start_game(chat, ADA, LABELS, 1, 60, T0, random.Random(1), RULES)
        events += judge_picture(game, 1, winner, sees(game.current.target), T0 + at, RULES)
        store.save_game(game, events)
    board = store.leaderboard(CHAT)
    assert [(p.name, p.points, p.time_s) for p in board] == [("Bob", 2, 30.0), ("Ada", 1, 5.0)]
    assert [p.name for p in store.leaderboard(-200)] == ["Cat"]
    assert store.leaderboard(-300) == []


def test_forget_erases_the_chats_games(store):
    game, events = new_game()
    events += judge_picture(game, 1, BOB, sees(game.current.target), T0 + 3, RULES)
    store.save_game(game, events)
    other, other_events = start_game(-200, ADA, LABELS, 1, 60, T0, random.Random(1), RULES)
    store.save_game(other, other_events)
    store.forget_chat(CHAT)
    for table in ("games", "rounds", "submissions"):
        assert store.db.execute(f"SELECT COUNT(*) FROM {table} WHERE chat_id = ?", [CHAT]).fetchone()[0] == 0
    assert store.leaderboard(CHAT) == [] and [g.chat_id for g in store.playing_games()] == [-200]


def test_labels_are_stored_as_json(store):
    game, events = new_game(labels=("zèbre", "🦁 lion"))
    store.save_game(game, events)
    assert json.loads(store.db["games"].get(game.id)["labels"]) == ["zèbre", "🦁 lion"]


def test_cooldown_starts_afresh_each_round():
    rules = GameRules(cooldown_s=5, pause_s=1)
    game, _ = new_game(rules=rules)
    assert admit_picture(game, ADA.user_id, T0 + 1, rules) is Admission.ADMITTED
    judge_picture(game, 1, BOB, sees(game.current.target), T0 + 2, rules)
    advance(game, T0 + 3, random.Random(1), rules)
    assert game.current.number == 2
    assert admit_picture(game, ADA.user_id, T0 + 3.5, rules) is Admission.ADMITTED


def test_between_rounds_the_page_sees_the_round_just_played_never_the_next():
    rules = GameRules(pause_s=2)
    game, _ = new_game(rounds=2, seconds=20, rules=rules)
    first = game.current.target
    advance(game, T0 + 20, random.Random(1), rules)  # time's up, nobody close
    view = round_view(game, T0 + 21)
    assert (view.state, view.number, view.target, view.winner) == (RoundState.BETWEEN, 1, first, None)
    advance(game, T0 + 22, random.Random(1), rules)  # round 2 decided; its announcement still on its way
    confirm_round_start(game, 2, T0 + 25)
    view = round_view(game, T0 + 23)
    assert (view.state, view.number, view.target) == (RoundState.BETWEEN, 2, None)
    assert round_view(game, T0 + 26).target == game.current.target != first
