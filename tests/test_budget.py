"""The per-group sending budget: pure planning, no clock, no Telegram."""

import random

import pytest

from bot.budget import Budgets, ChatBudget
from bot.game import GameRules, Player, RoundWon, advance, judge_picture, next_deadline, planned_controls, start_game
from classifier.types import Guess

W = 60.0  # Telegram's window
SPAN = W + 0.5  # with the budget's margin


def budget(**kw) -> ChatBudget:
    return ChatBudget(limit=20, window_s=W, margin_s=0.5, **kw)


def fill(b: ChatBudget, times) -> ChatBudget:
    for t in times:
        b.record(t)
    return b


def max_in_window(times, window=W) -> int:
    times = sorted(times)
    return max((sum(1 for u in times if t - window < u <= t) for t in times), default=0)


def test_twenty_fit_then_the_oldest_must_leave_the_window():
    b = budget()
    for i in range(20):
        assert b.can_send(100 + i * 0.1)
        b.record(100 + i * 0.1)
    assert not b.can_send(110) and b.used(110) == 20
    assert b.next_free(110) == pytest.approx(100 + SPAN)
    assert b.can_send(100 + SPAN)


def test_reservations_keep_room_for_controls_ahead():
    b = fill(budget(), [0.0 + i for i in range(16)])  # 16 sends at 0..15 s
    b.reserve([40.0, 50.0, 55.0, 58.0])  # four controls due within the window
    assert not b.can_send(20), "a 17th send now would leave no room for the fourth control"
    # once the first send leaves the window before the last control (58 s), one more fits
    assert b.next_free(20) == pytest.approx(0 + SPAN)


def test_reservations_beyond_the_window_do_not_count():
    b = fill(budget(), [float(i) for i in range(19)])
    b.reserve([19 + SPAN + 1])
    assert b.can_send(19)


def test_overdue_reservations_count_as_due_now():
    b = fill(budget(), [float(i) for i in range(19)])
    b.reserve([10.0])  # its time has passed but it hasn't been sent yet
    assert not b.can_send(20)


def test_spare_slots_stay_free_for_unplanned_controls():
    b = fill(budget(), [float(i) for i in range(18)])
    assert b.can_send(18)
    b.reserve([], spare=2)
    assert not b.can_send(18)
    assert b.next_free(18) == pytest.approx(0 + SPAN)


def test_unrecord_takes_back_a_claim():
    b = fill(budget(), [1.0, 2.0, 3.0])
    b.unrecord(2.0)
    b.unrecord(7.0)  # not there: nothing happens
    assert b.sent == b.paced == [1.0, 3.0]
    b.record(4.0, control=True)
    assert b.sent == [1.0, 3.0, 4.0] and b.paced == [1.0, 3.0]
    b.unrecord(4.0, control=True)
    assert b.sent == [1.0, 3.0]


def test_old_sends_are_forgotten():
    b = fill(budget(), [float(i) for i in range(20)])
    b.record(1000.0)
    assert b.sent == [1000.0]


def test_earliest_start_waits_until_the_schedule_fits():
    b = fill(budget(), [float(i) for i in range(18)])  # 18 sends at 0..17 s
    # a round of 20 s: announcement, warning at +10, end at +20
    # the end (+20) is the third control in a window with 18 sends: one of them must leave
    assert b.earliest_start(30, [0, 10, 20]) == pytest.approx(0 + SPAN - 20)
    assert b.earliest_start(45, [0, 10, 20]) == 45
    assert b.earliest_start(30, []) == 30
    b.reserve([], spare=2)  # the spare slots stay free in the plan too: 18 is full already
    assert b.earliest_start(30, [0, 10, 20]) == pytest.approx(0 + SPAN)
    empty = budget()
    assert empty.earliest_start(5, [0, 10, 20]) == 5


def test_next_flush_lets_a_few_go_at_once_then_paces():
    b = budget()
    pace = W / (20 - 2)  # nothing planned: the window shared by what the burst of 2 leaves
    assert b.pace_s(0) == pytest.approx(pace) and b.burst == 2
    assert b.next_flush(0) == 0  # quiet: at once
    fill(b, [0.0])
    assert b.next_flush(0) == 0  # the second too
    fill(b, [0.0])
    assert b.next_flush(0) == pytest.approx(pace)  # then one every pace_s
    fill(b, [pace])
    assert b.next_flush(pace) == pytest.approx(2 * pace)
    assert b.next_flush(30) == 30
    game = budget()
    game.reserve([10, 20, 30, 34, 44, 54], spare=2)  # 6 controls, 2 spare slots and the burst: 10 left
    assert game.pace_s(0) == pytest.approx(W / 10)
    fill(game, [0.0, 0.0])
    assert game.next_flush(0) == pytest.approx(W / 10)
    controls = budget()
    for t in (0.0, 1.0, 2.0, 3.0):
        controls.record(t, control=True)
    assert controls.next_flush(4) == 4, "control messages have planned slots: they don't slow replies"


def test_budgets_exist_for_groups_only():
    budgets = Budgets(limit=20, window_s=6.0)
    assert budgets.get(42) is None and budgets.get(None) is None and budgets.get("@channel") is None
    group = budgets.get(-100123)
    assert group is budgets.get("-100123") is budgets.for_chat(-100123)
    assert group.window_s == 6.0 and group.margin_s == pytest.approx(0.05)
    with pytest.raises(ValueError, match="positive limit"):
        Budgets(limit=0)


def play(seed: int, players: int, win_chance: float) -> tuple[list[float], list[float], list[float]]:
    """A 5-round game of 20 s rounds planned with the budget, pictures every ~5 s per
    player, played out on a simulated clock: (all sends, control delays, verdict waits)."""
    rng = random.Random(seed)
    rules = GameRules()
    labels = [f"label{i}" for i in range(32)]
    b = budget()
    sent: list[float] = []
    delays: list[float] = []

    def send(at: float, control: bool = True) -> None:
        b.record(at, control)
        sent.append(at)

    def plan(game) -> None:
        b.reserve([], 2)
        if game.current is None and game.next_round_at is not None:
            due = game.next_round_at
            game.next_round_at = b.earliest_start(due, [x - due for x in planned_controls(game, rules)])
        b.reserve(planned_controls(game, rules), 2)

    game, _ = start_game(-1, Player(1, "p1"), labels, 5, 20, 0.0, rng, rules)
    send(0.0)
    plan(game)
    waiting: dict[int, float] = {}  # player -> when their oldest unsent verdict was judged
    waits: list[float] = []
    next_picture = {p: rng.uniform(0, 5) for p in range(players)}
    t = 0.0
    while game.playing:
        t += 0.05
        due = next_deadline(game, rules)
        if due is not None and due <= t:
            events = advance(game, due, rng, rules)
            send(due)  # controls go when due, without asking
            delays.append(0.0)
            waits += [due - at for at in waiting.values()]  # folded into the control
            waiting.clear()
            plan(game)
            continue
        for p, at in next_picture.items():
            if at > t or game.current is None:
                continue
            next_picture[p] = t + rng.uniform(5, 5.5)
            target = game.current.target
            seen = target if rng.random() < win_chance else next(x for x in labels if x != target)
            events = judge_picture(
                game,
                game.current.number,
                Player(p, f"p{p}"),
                [Guess(seen, 0.6), Guess(target if seen != target else "label0", 0.1)],
                t,
                rules,
            )
            if any(isinstance(e, RoundWon) for e in events):
                send(t)  # the win, unplanned
                waits += [t - at for at in waiting.values()]
                waiting.clear()
                if not game.playing:
                    send(t)  # and the game over after it
                plan(game)
                break
            waiting.setdefault(p, t)
        if waiting and game.current is not None and b.next_flush(t) <= t:
            send(t, control=False)  # one coalesced verdict message
            waits += [t - at for at in waiting.values()]
            waiting.clear()
    return sent, delays, waits


@pytest.mark.parametrize("win_chance", [0.0, 0.004, 0.05])
@pytest.mark.parametrize("seed", range(6))
def test_a_planned_game_never_breaks_the_group_limit(seed, win_chance):
    """Controls when due, early wins at random, verdicts whenever the budget allows:
    no window ever holds more than 20 messages, and verdicts still flow."""
    sent, _, waits = play(seed, players=20, win_chance=win_chance)
    assert max_in_window(sent) <= 20
    assert waits and max(waits) < 12
