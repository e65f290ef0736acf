"""The group drawing game's rules: a pure state machine, no I/O.

The bot names something to draw, players send pictures, the classifier judges.
Nothing here imports telegram or torch, reads a clock or draws random numbers
on its own: callers pass ``now`` (seconds since the epoch, so a game survives
a restart) and a ``random.Random``, and get events back to store and announce.

Usage (what ``bot.game_handlers`` does)::

    game, events = start_game(chat_id, Player(ada_id, "Ada"), labels, 3, 60, now, rng, rules)
    reason = admit_picture(game, bob_id, now, rules)     # None: judge it
    events = judge_picture(game, number, Player(bob_id, "Bob"), guesses, now, rules)
    events = advance(game, now, rng, rules)             # when next_deadline(game, rules) comes
    confirm_round_start(game, number, sent_at)          # the round's clock starts when its
                                                        # announcement was accepted
    times = planned_controls(game, rules)               # for the group's sending budget
    events = stop_game(game, now)

A game goes ``round`` → (won or timed out) → ``between`` → ``round`` … → over.
The first picture whose top guess is the target wins the round at once; when
time runs out, the picture that gave the target the highest probability wins
if that probability is clearly above chance: at least ``timeout_floor``, the
larger of ``rules.min_timeout_score`` (25%) and twice chance level (2/N for N
labels: 50% with 4 labels, 40% with 5, 25% from 8 labels on). With 4 labels or
fewer a picture that isn't the top guess can't reach that, so such rounds are
won by drawing only. One point per round won; players with equal points are
ranked by their total drawing time.
"""

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple, Protocol

from .i18n import LocalizedError, Translator
from .labels import MIN_LABELS
from .packs import PACKS, Pack, find_pack

DEFAULT_ROUNDS = 5
DEFAULT_SECONDS = 60
GAME_USAGE = "/game [rounds] [seconds] [pack]"
_PACK_LIST = ", ".join(PACKS)
_ASCII_NUMBER = re.compile(r"[0-9]{1,6}")


class GameError(LocalizedError, ValueError):
    """A /game request that can't be played; ``say(t)`` (in English: ``user_message``) says why."""


class GameArgs(NamedTuple):
    """What /game asked for: ``pack`` None means the chat's default pack (``bot.packs.default_pack``)."""

    rounds: int
    seconds: float
    pack: Pack | None = None


@dataclass(frozen=True)
class GameRules:
    """Limits and timings; tests pass shorter ones (rounds of a second or two)."""

    min_rounds: int = 1
    max_rounds: int = 20
    min_seconds: float = 15
    max_seconds: float = 300
    default_rounds: int = DEFAULT_ROUNDS
    default_seconds: float = DEFAULT_SECONDS
    warning_s: float = 10  # "10 s left", in rounds at least twice as long
    cooldown_s: float = 5  # one judged picture per player per cooldown
    min_timeout_score: float = 0.25  # target probability that wins a round on time (see timeout_floor)
    pause_s: float = 4  # between a round's end and the next announcement
    resume_min_s: float = 10  # after a restart, resume a round only with this much time left
    solo_rounds: int = 6  # a solo race (/play, the canvas's Play solo): Quick, Draw!'s 6 drawings…
    solo_seconds: int = 20  # …of 20 seconds each


class GuessLike(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def score(self) -> float: ...


@dataclass
class Player:
    """Someone in a game, with their points and the seconds their wins took."""

    user_id: int
    name: str
    points: int = 0
    time_s: float = 0.0


@dataclass
class Best:
    """The picture that gave the round's target its highest probability so far."""

    user_id: int
    name: str
    score: float
    at: float


@dataclass
class Round:
    number: int
    target: str
    started_at: float
    ends_at: float
    warned: bool = False
    best: Best | None = None
    outcome: str = "open"  # open, drawn, timeout (winner on time), nobody, stopped
    winner_id: int | None = None
    winner_name: str | None = None
    win_score: float | None = None
    win_s: float | None = None  # seconds from the round's start to the winning picture
    ended_at: float | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome == "open"


@dataclass
class Game:
    chat_id: int
    starter_id: int
    starter_name: str
    total_rounds: int
    seconds: float
    labels: tuple[str, ...]
    started_at: float
    id: int | None = None  # the store's row id
    status: str = "playing"  # playing, finished, stopped, abandoned
    rounds: list[Round] = field(default_factory=list)
    next_round_at: float | None = None  # set between rounds
    ended_at: float | None = None
    players: dict[int, Player] = field(default_factory=dict)
    last_judged: dict[int, float] = field(default_factory=dict)  # this round: user id -> time
    language: str = "en"  # the starter's, for a chat without its own (/language)

    @property
    def playing(self) -> bool:
        return self.status == "playing"

    @property
    def current(self) -> Round | None:
        """The open round, if any (None between rounds and after the game)."""
        if self.rounds and self.rounds[-1].is_open:
            return self.rounds[-1]
        return None


# -- events: what happened, for the store and the chat ------------------------------------


@dataclass(frozen=True)
class GameStarted:
    total_rounds: int
    seconds: float
    asked_rounds: int  # more than total_rounds when the chat has too few labels


@dataclass(frozen=True)
class RoundStarted:
    number: int
    total_rounds: int
    target: str
    seconds: float


@dataclass(frozen=True)
class TimeWarning:
    number: int
    target: str
    left_s: float


@dataclass(frozen=True)
class Judged:
    """A picture was judged; ``seen`` is its top guess. The store keeps this, never the image."""

    number: int
    user_id: int
    name: str
    at: float
    target: str
    seen: str
    target_score: float
    won: bool


@dataclass(frozen=True)
class RoundWon:
    number: int
    name: str
    target: str
    win_s: float
    points: int


@dataclass(frozen=True)
class RoundTimedOut:
    number: int
    target: str
    winner: Best | None  # came closest with enough probability, or nobody


@dataclass(frozen=True)
class BackOnline:
    """The bot restarted during this game; the events after it say what happens now."""


@dataclass(frozen=True)
class RoundResumed:
    number: int
    total_rounds: int
    target: str
    left_s: float


@dataclass(frozen=True)
class GameOver:
    reason: str  # finished, stopped, abandoned (the bot was away too long)
    standings: tuple[Player, ...]
    stopped_by: str | None = None


Event = (
    GameStarted | RoundStarted | TimeWarning | Judged | RoundWon | RoundTimedOut | BackOnline | RoundResumed | GameOver
)


# -- commands --------------------------------------------------------------------------------


def parse_game_args(args: Sequence[str], rules: GameRules = GameRules()) -> GameArgs:
    """``/game [rounds] [seconds] [pack]`` → ``GameArgs``, within the rules' bounds.

    The pack may stand anywhere ("/game quickdraw", "/game 3 quickdraw", "/game 3 30 animals"); the numbers
    are the rounds, then the seconds. Without a pack, ``pack`` is None: the chat's default pack
    (``bot.packs.default_pack``) is the caller's to choose.
    """
    if len(args) > 3:
        raise GameError(_usage)
    values: list[int] = []
    pack: Pack | None = None
    for arg in args:
        if _ASCII_NUMBER.fullmatch(arg):  # int() would also take "1_0", "٣", "+3", " 3"
            values.append(int(arg))
            continue
        named = find_pack(arg)
        if named is None:
            shown = repr(arg[:20])
            raise GameError(_not_a_number(shown) if any(c.isnumeric() for c in arg) else _not_a_pack(shown))
        if pack is not None:
            raise GameError(_usage)  # two packs
        pack = named
    if len(values) > 2:
        raise GameError(_usage)
    rounds = values[0] if values else rules.default_rounds
    seconds = values[1] if len(values) > 1 else rules.default_seconds
    if not rules.min_rounds <= rounds <= rules.max_rounds:
        raise GameError(
            lambda t: t.ngettext(
                "Play {least} to {n} round, e.g. /game 3", "Play {least} to {n} rounds, e.g. /game 3", rules.max_rounds
            ).format(least=rules.min_rounds, n=rules.max_rounds)
        )
    if not rules.min_seconds <= seconds <= rules.max_seconds:
        raise GameError(
            lambda t: t.gettext("A round lasts {least} to {most} seconds, e.g. /game {rounds} 45").format(
                least=_seconds_text(rules.min_seconds), most=_seconds_text(rules.max_seconds), rounds=rounds
            )
        )
    return GameArgs(rounds, seconds, pack)


def _usage(t: Translator) -> str:
    return t.gettext("Usage: {usage}, e.g. /game 3 45 quickdraw (packs: {packs})").format(
        usage=GAME_USAGE, packs=_PACK_LIST
    )


def _not_a_number(shown: str) -> Callable[[Translator], str]:
    return lambda t: t.gettext("Usage: {usage}, e.g. /game 3 45 ({text} is not a number)").format(
        usage=GAME_USAGE, text=shown
    )


def _not_a_pack(shown: str) -> Callable[[Translator], str]:
    return lambda t: t.gettext(
        "Usage: {usage}, e.g. /game 3 45 quickdraw ({text} is not a pack; packs: {packs})"
    ).format(usage=GAME_USAGE, text=shown, packs=_PACK_LIST)


def start_game(
    chat_id: int,
    starter: Player,
    labels: Sequence[str],
    rounds: int,
    seconds: float,
    now: float,
    rng: random.Random,
    rules: GameRules = GameRules(),
) -> tuple[Game, list[Event]]:
    """A new game and its first round. Rounds are capped by the labels: no target twice."""
    labels = tuple(labels)
    if len(labels) < MIN_LABELS:
        raise GameError(
            lambda t: t.ngettext(
                "This chat needs at least {n} label to play: see /labels.",
                "This chat needs at least {n} labels to play: see /labels.",
                MIN_LABELS,
            ).format(n=MIN_LABELS)
        )
    total = min(rounds, len(labels))
    game = Game(
        chat_id=chat_id,
        starter_id=starter.user_id,
        starter_name=starter.name,
        total_rounds=total,
        seconds=seconds,
        labels=labels,
        started_at=now,
    )
    return game, [GameStarted(total, seconds, rounds), _start_round(game, now, rng)]


def stop_game(game: Game, now: float, by: str | None = None, reason: str = "stopped") -> list[Event]:
    """End the game now (``reason``: stopped, or abandoned); an open round is not awarded."""
    if not game.playing:
        return []
    round_ = game.current
    if round_ is not None:
        _close_round(round_, "stopped", now)
    return [_end_game(game, reason, now, by)]


def can_stop(game: Game, user_id: int | None, is_admin: bool) -> bool:
    """The player who started the game and the group's admins may stop it."""
    return is_admin or (user_id is not None and user_id == game.starter_id)


# -- pictures --------------------------------------------------------------------------------


class Admission(Enum):
    """Whether a round's picture is judged (``admit_picture``)."""

    ADMITTED = "admitted"
    NO_ROUND = "no-round"  # no round is open now
    COOLDOWN = "cooldown"  # the player's last picture was judged less than the cooldown ago


def admit_picture(game: Game, user_id: int, now: float, rules: GameRules = GameRules()) -> Admission:
    """Should this picture be judged? ``ADMITTED`` (and the player's cooldown starts), or why not."""
    if not game.playing or game.current is None:
        return Admission.NO_ROUND
    last = game.last_judged.get(user_id)
    if last is not None and now - last < rules.cooldown_s:
        return Admission.COOLDOWN
    game.last_judged[user_id] = now
    return Admission.ADMITTED


def judge_picture(
    game: Game,
    number: int,
    player: Player,
    guesses: Sequence[GuessLike],
    now: float,
    rules: GameRules = GameRules(),
) -> list[Event]:
    """Judge a picture sent at ``now`` during round ``number``, given its guesses over
    the game's labels. Empty when that round is over by now (someone else won first)."""
    round_ = game.current
    if round_ is None or round_.number != number or not game.playing or now > round_.ends_at:
        return []
    if not guesses:
        return []
    ranked = sorted(guesses, key=lambda g: g.score, reverse=True)
    seen = ranked[0].label
    target_score = next((g.score for g in ranked if _same(g.label, round_.target)), 0.0)
    won = _same(seen, round_.target)
    known = game.players.setdefault(player.user_id, Player(player.user_id, player.name))
    known.name = player.name
    events: list[Event] = [Judged(number, player.user_id, player.name, now, round_.target, seen, target_score, won)]
    if round_.best is None or target_score > round_.best.score:
        round_.best = Best(player.user_id, player.name, target_score, now)
    if won:
        win_s = max(0.0, now - round_.started_at)
        _award(game, round_, Best(player.user_id, player.name, target_score, now), "drawn", now)
        events.append(RoundWon(number, player.name, round_.target, win_s, known.points))
        events += _after_round(game, now, rules)
    return events


# -- time --------------------------------------------------------------------------------------


def next_deadline(game: Game, rules: GameRules = GameRules()) -> float | None:
    """When ``advance`` has something to do next; None once the game is over."""
    if not game.playing:
        return None
    round_ = game.current
    if round_ is None:
        return game.next_round_at
    if _wants_warning(game, round_, rules):
        return round_.ends_at - rules.warning_s
    return round_.ends_at


def planned_controls(game: Game, rules: GameRules = GameRules()) -> list[float]:
    """When the game's next control messages are due if nobody wins early: the
    warning and end of the open round, then each remaining round's announcement,
    warning and end (the last end carries the game over)."""
    if not game.playing:
        return []
    left = game.total_rounds - len(game.rounds)
    round_ = game.current
    if round_ is None:
        return [] if game.next_round_at is None else _schedule(game, rules, game.next_round_at, left)
    times = [round_.ends_at - rules.warning_s] if _wants_warning(game, round_, rules) else []
    return [*times, round_.ends_at, *_schedule(game, rules, round_.ends_at + rules.pause_s, left)]


def confirm_round_start(game: Game, number: int, at: float) -> bool:
    """Round ``number`` was announced at ``at``: its clock starts then, not when it was
    decided (the announcement may take a moment). True when the round moved."""
    round_ = game.current
    if round_ is None or round_.number != number or at <= round_.started_at:
        return False
    round_.started_at, round_.ends_at = at, at + game.seconds
    return True


def timeout_floor(rules: GameRules, label_count: int) -> float:
    """The target probability a picture needs to win a round on time: the rules'
    minimum, or twice chance level (2/N for N labels) when that is higher."""
    return max(rules.min_timeout_score, 2 / max(1, label_count))


def advance(game: Game, now: float, rng: random.Random, rules: GameRules = GameRules()) -> list[Event]:
    """Do whatever is due at ``now``: the warning, the end of a round, the next round."""
    events: list[Event] = []
    while game.playing:
        due = next_deadline(game, rules)
        if due is None or due > now:
            break
        round_ = game.current
        if round_ is None:
            events.append(_start_round(game, now, rng))
        elif now < round_.ends_at:
            round_.warned = True
            events.append(TimeWarning(round_.number, round_.target, round_.ends_at - now))
        else:
            events += _time_up(game, round_, round_.ends_at, rules)
    return events


def resume_game(game: Game, now: float, rng: random.Random, rules: GameRules = GameRules()) -> list[Event]:
    """After a restart: play on when the round still has ``rules.resume_min_s`` left
    (or, between rounds, when the next round would have had that much); otherwise
    close the round as if time had run out, and end the game."""
    if not game.playing:
        return []
    events: list[Event] = [BackOnline()]
    round_ = game.current
    if round_ is not None:
        left = round_.ends_at - now
        if left >= rules.resume_min_s:
            events.append(RoundResumed(round_.number, game.total_rounds, round_.target, left))
            return events
        events += _time_up(game, round_, min(now, round_.ends_at), rules, next_round=False)
        if game.playing:
            events.append(_end_game(game, "abandoned", now))
        return events
    due = game.next_round_at if game.next_round_at is not None else now
    if now + rules.resume_min_s <= due + game.seconds:  # that round would still have had time
        events.append(_start_round(game, now, rng))
        return events
    events.append(_end_game(game, "abandoned", now))
    return events


def standings(game: Game) -> tuple[Player, ...]:
    """Players by points, then by the time their wins took (less is better), then name."""
    return rank_players(game.players.values())


def rank_players(players) -> tuple[Player, ...]:
    return tuple(sorted(players, key=lambda p: (-p.points, p.time_s, p.name.casefold(), p.user_id)))


# -- what a canvas shows ------------------------------------------------------------------------


class RoundState(Enum):
    """Where a game stands, as a canvas opened from its link shows it."""

    DRAWING = "drawing"  # a round is open: draw its target
    BETWEEN = "between"  # the last round is over, the next one not started (its result is shown)
    OVER = "over"  # the game has ended: final standings


@dataclass(frozen=True)
class RoundResult:
    number: int
    target: str
    winner: str | None


@dataclass(frozen=True)
class RoundView:
    """What a canvas shows of a game at one moment (``round_view``)."""

    state: RoundState
    number: int  # the open round, or the last one played (0 before the first)
    total_rounds: int
    target: str | None  # the open round's; between rounds, the one just played (its result); None after the game
    # and while the next round's announcement is on its way
    ends_in_s: float | None  # seconds left in the open round
    winner: str | None  # who won the open or last round
    standings: tuple[Player, ...]
    results: tuple[RoundResult, ...]


def round_view(game: Game, now: float) -> RoundView:
    """The game as a canvas shows it at ``now``: the server's clock decides, never the phone's."""
    results = tuple(RoundResult(r.number, r.target, r.winner_name) for r in game.rounds if not r.is_open)
    last = game.rounds[-1] if game.rounds else None
    number, winner = (last.number, last.winner_name) if last is not None else (0, None)
    round_ = game.current
    if not game.playing:
        state = RoundState.OVER
    elif round_ is not None and round_.started_at <= now <= round_.ends_at:
        state = RoundState.DRAWING  # (a round whose announcement is not out yet has not started)
    else:
        state = RoundState.BETWEEN
    open_ = state is RoundState.DRAWING and round_ is not None
    if open_ and round_ is not None:
        target: str | None = round_.target
    elif state is RoundState.BETWEEN and last is not None and not last.is_open:
        target = last.target  # said in the round's result: "Nobody got it: giraffe"
    else:
        target = None  # a round not announced yet keeps its target
    return RoundView(
        state=state,
        number=number,
        total_rounds=game.total_rounds,
        target=target,
        ends_in_s=max(0.0, round_.ends_at - now) if open_ and round_ is not None else None,
        winner=winner,
        standings=standings(game),
        results=results,
    )


# -- internals ---------------------------------------------------------------------------------


def _start_round(game: Game, now: float, rng: random.Random) -> RoundStarted:
    used = {round_.target.casefold() for round_ in game.rounds}
    choices = [label for label in game.labels if label.casefold() not in used]
    target = rng.choice(choices)
    number = len(game.rounds) + 1
    game.rounds.append(Round(number, target, started_at=now, ends_at=now + game.seconds))
    game.next_round_at = None
    game.last_judged.clear()  # a new round, a fresh start for everyone
    return RoundStarted(number, game.total_rounds, target, game.seconds)


def _time_up(game: Game, round_: Round, now: float, rules: GameRules, next_round: bool = True) -> list[Event]:
    best = round_.best
    if best is not None and best.score >= timeout_floor(rules, len(game.labels)):
        _award(game, round_, best, "timeout", now)
        events: list[Event] = [RoundTimedOut(round_.number, round_.target, best)]
    else:
        _close_round(round_, "nobody", now)
        events = [RoundTimedOut(round_.number, round_.target, None)]
    if next_round:
        events += _after_round(game, now, rules)
    return events


def _award(game: Game, round_: Round, best: Best, outcome: str, now: float) -> None:
    _close_round(round_, outcome, now)
    round_.winner_id, round_.winner_name, round_.win_score = best.user_id, best.name, best.score
    round_.win_s = max(0.0, best.at - round_.started_at)
    player = game.players.setdefault(best.user_id, Player(best.user_id, best.name))
    player.points += 1
    player.time_s += round_.win_s


def _close_round(round_: Round, outcome: str, now: float) -> None:
    round_.outcome = outcome
    round_.ended_at = now


def _after_round(game: Game, now: float, rules: GameRules) -> list[Event]:
    if len(game.rounds) >= game.total_rounds:
        return [_end_game(game, "finished", now)]
    game.next_round_at = now + rules.pause_s
    return []


def _end_game(game: Game, reason: str, now: float, by: str | None = None) -> GameOver:
    game.status = reason
    game.ended_at = now
    game.next_round_at = None
    return GameOver(reason, tuple(_copy(p) for p in standings(game)), by)


def _wants_warning(game: Game, round_: Round, rules: GameRules) -> bool:
    return not round_.warned and _has_warning(game, rules)


def _has_warning(game: Game, rules: GameRules) -> bool:
    return rules.warning_s > 0 and game.seconds >= 2 * rules.warning_s


def _schedule(game: Game, rules: GameRules, start: float, rounds: int) -> list[float]:
    """Announcement, warning and end of ``rounds`` rounds, the first starting at ``start``."""
    times: list[float] = []
    for _ in range(rounds):
        end = start + game.seconds
        times += [start, end - rules.warning_s, end] if _has_warning(game, rules) else [start, end]
        start = end + rules.pause_s
    return times


def _same(a: str, b: str) -> bool:
    return a.casefold() == b.casefold()


def _copy(player: Player) -> Player:
    return Player(player.user_id, player.name, player.points, player.time_s)


def _seconds_text(value: float) -> str:
    return f"{value:g}"
