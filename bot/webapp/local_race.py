"""``toonzoo try``'s solo race: Quick, Draw!'s six drawings of 20 seconds against the model, on this computer.

The rules are the bot's own (``bot.game``): ``start_game`` picks the targets
from the local chat's labels, ``judge_picture`` judges a live guess (the first
drawing whose top guess is the target wins the round), ``advance`` closes a
round whose time ran out (a win on time above ``timeout_floor``, else nobody)
and starts the next, ``round_view`` is what the page shows. Nothing is
announced: there is no chat, and the page follows the race with ``GET
/api/round`` as it follows a game in Telegram.

The clock is the server's: ``time.monotonic`` (the race lives in memory
only, so it need not survive a restart), with one asyncio timer on the
server's loop, always set for the race's next deadline. A finished race is kept
as the local player's personal best if it beats it (``Store.record_solo``,
user id 0, never a Telegram user's).

Usage (what ``bot.webapp.local`` does)::

    race = LocalRace(store, race_rules(6, 20))
    view = race.start(labels, "You")           # None: a race is on already
    number = race.open_round()                 # when a guess arrives; then classify it over race.labels
    won = race.judge(number, guesses, at)      # True: that guess won the round
    race.view()                                # the race as the page shows it (None before the first)
    race.close()                               # the server stops: no timer left behind
"""

import asyncio
import dataclasses
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..game import (
    Event,
    Game,
    GameOver,
    GameRules,
    GuessLike,
    Player,
    RoundView,
    RoundWon,
    advance,
    judge_picture,
    next_deadline,
    round_view,
    start_game,
)
from ..i18n import Text
from ..store import Store

logger = logging.getLogger(__name__)

LOCAL_PLAYER_ID = 0  # the local chat's id: never a Telegram user's
# TRANSLATORS: the player's name in the standings of a solo race on their own computer (toonzoo try)
PLAYER_NAME = Text("You")
BOT_RULES = GameRules()  # the bot's own rules, which a local race adapts (race_rules)


@dataclass(frozen=True)
class SoloBest:
    """The personal best after a race: ``won`` of ``rounds``; ``new`` when this race set it."""

    won: int
    rounds: int
    new: bool


def race_rules(rounds: int, seconds: int, base: GameRules = BOT_RULES) -> GameRules:
    """The rules of a local race of ``rounds`` drawings of ``seconds`` each: no "10 s left" warning (nothing
    is announced: the page shows the clock), and a pause between rounds of at most a quarter of a round (the
    bot's 4 s for rounds of 20 s; half a second for the tests' 2-second rounds)."""
    return dataclasses.replace(
        base, solo_rounds=rounds, solo_seconds=seconds, warning_s=0, pause_s=min(base.pause_s, seconds / 4)
    )


class LocalRace:
    """The local player's solo race, if any: the ``Game`` (``bot.game``) and the timer that moves it on."""

    def __init__(
        self,
        store: Store,
        rules: GameRules,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.store = store
        self.rules = rules
        self.rng = rng or random.Random()
        self.clock = clock
        self.game: Game | None = None  # the race being played, or the last one (its end stays on the page)
        self.best: SoloBest | None = None  # the personal best, once the last race ended
        self._timer: asyncio.TimerHandle | None = None

    @property
    def playing(self) -> bool:
        return self.game is not None and self.game.playing

    @property
    def labels(self) -> tuple[str, ...]:
        """The words of the race being played: a live guess is ranked over all of them."""
        return self.game.labels if self.game is not None else ()

    def start(self, labels: Sequence[str], name: str) -> RoundView | None:
        """A new race over ``labels`` (its first round starts now); None while one is on.
        A ``GameError`` with fewer than two labels."""
        if self.playing:
            return None
        player = Player(LOCAL_PLAYER_ID, name)
        rules, now = self.rules, self.clock()
        game, events = start_game(
            LOCAL_PLAYER_ID, player, labels, rules.solo_rounds, rules.solo_seconds, now, self.rng, rules
        )
        self.game, self.best = game, None
        logger.info("try: a solo race of %d rounds of %g s", game.total_rounds, game.seconds)
        self._after(game, events)
        return self.view()

    def view(self) -> RoundView | None:
        """The race as the page shows it now; None before the first."""
        return round_view(self.game, self.clock()) if self.game is not None else None

    def open_round(self) -> int | None:
        """The number of the round open now (a guess arriving now is judged in it), or None."""
        game = self.game
        if game is None or not game.playing or game.current is None:
            return None
        return game.current.number

    def judge(self, number: int, guesses: Sequence[GuessLike], at: float) -> bool:
        """A live guess that arrived at ``at`` during round ``number``, ranked over ``labels``: True when its
        top guess is the target and the round is still that one (the first such guess wins it). A guess that
        arrived after the deadline does not count."""
        game = self.game
        if game is None:
            return False
        events = judge_picture(game, number, Player(LOCAL_PLAYER_ID, game.starter_name), guesses, at, self.rules)
        if events:
            self._after(game, events)
        return any(isinstance(event, RoundWon) for event in events)

    def tick(self) -> None:
        """The race's deadline came: close the round (its time is up) or start the next one."""
        self._timer = None
        game = self.game
        if game is None or not game.playing:
            return
        due = next_deadline(game, self.rules)
        now = self.clock() if due is None else max(self.clock(), due)  # never earlier than planned
        self._after(game, advance(game, now, self.rng, self.rules))

    def close(self) -> None:
        """Stop the timer (the server is stopping)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _after(self, game: Game, events: list[Event]) -> None:
        """Keep a finished race's best, and set the timer for the next deadline."""
        over = next((event for event in events if isinstance(event, GameOver)), None)
        if over is not None:
            player = game.players.get(LOCAL_PLAYER_ID) or Player(LOCAL_PLAYER_ID, game.starter_name)
            _, new = self.store.record_solo(
                LOCAL_PLAYER_ID, player.points, game.total_rounds, player.time_s, time.time()
            )
            won, rounds = self.store.solo_best(LOCAL_PLAYER_ID) or (player.points, game.total_rounds)
            self.best = SoloBest(won, rounds, new)
            logger.info("try: the race ended: %d of %d", player.points, game.total_rounds)
        self.close()
        due = next_deadline(game, self.rules)
        if due is not None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, due - self.clock()), self.tick)
