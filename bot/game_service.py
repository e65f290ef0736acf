"""The drawing game as a service: judging pictures, committing events, planning the group's messages,
announcing, and the timers. ``bot.game_handlers`` is the thin PTB shell around it; the canvas calls it too.

The rules are in ``bot.game`` (pure); here a game's events are stored
(before anything is said, so a crash loses nothing), its timer is set and
what happened is announced. The games being played live in ``GameService.games``
(chat id -> ``Game``); everything in them is also in the store, and ``resume``
picks them up after a restart.

Each chat has one JobQueue job, named ``game:<chat id>``, always set for the
game's next deadline (the 10-second warning, the end of the round, the next
round); setting it replaces the old one, so chats never share or leak timers.

Messages and the group's budget (``bot.budget``, ``bot.outbox``): every commit
reserves the game's planned control messages in the group's budget, with
``CONTROL_SPARE`` slots for the ones nobody can plan (an early win, the game
over after it). Control messages are sent with ``rate_limit_args=CONTROL``, so
nothing holds them back. A round's clock starts when its announcement was
accepted; a round that follows an early win starts when its schedule fits.
"Keep trying" verdicts wait in the outbox, one per player (the latest
picture), and go out coalesced as the budget allows; the round's next control
message takes whatever is still waiting.

Outages: a control message Telegram did not take (network down, 5xx, flood
wait) is kept in the chat's backlog and sent again with growing pauses
(``RETRY_FIRST_S`` doubling up to ``RETRY_MAX_S``) until it is delivered or
obsolete; the next control message takes the backlog along, so a result is
folded into the next message rather than lost. A round whose announcement is
in the backlog keeps its clock held: it starts when Telegram accepts the
announcement, so no round runs unseen. Warnings ("10 s left") are not kept: by
the time they could go out they would be wrong. An announcement whose round
is over (the game was stopped meanwhile) is dropped.

A solo race's end: when Telegram took its gallery, the photo becomes the
player's card (``Store.keep_card``: the file id Telegram gave it and the
score), which they share from the canvas or inline (``bot.cards``). While the
end is being posted, ``endings`` holds an event for the player, so that a
"Share" pressed at once waits for this race's card (``solo_posted``).
"""

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, WebAppInfo
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import CallbackContext, ExtBot, JobQueue

from classifier.types import Guess

from . import replies
from .classifying import Refused, Seen, classify_for_chat, labels_ready, prepare
from .game import (
    Admission,
    Event,
    Game,
    GameOver,
    Judged,
    Player,
    RoundStarted,
    RoundView,
    RoundWon,
    TimeWarning,
    admit_picture,
    advance,
    confirm_round_start,
    judge_picture,
    next_deadline,
    parse_game_args,
    planned_controls,
    resume_game,
    round_view,
    start_game,
    stop_game,
)
from .game_gallery import KeptDrawings, build_gallery
from .i18n import Translator
from .outbox import CONTROL, Pending
from .packs import pack_words
from .pictures import PictureRef
from .services import ChatView, Services
from .store import Card

logger = logging.getLogger(__name__)

CONTROL_SPARE = 2  # budget slots kept for unplanned control messages: a win, and the game over after it
RETRY_FIRST_S = 1.0  # a control message Telegram did not take is sent again after this, then twice as long…
RETRY_MAX_S = 15.0  # …up to this
FINISHED_KEPT = 256  # ended games whose canvas links still show their standings (in memory)


@dataclass(frozen=True)
class _Control:
    """One control text; ``announces`` is the number of the round it announces (its clock waits for it)."""

    text: str
    announces: int | None = None
    warning: bool = False


class Judgement(Enum):
    """What became of a round's picture."""

    JUDGED = "judged"
    NO_ROUND = "no-round"  # that round is not open now
    COOLDOWN = "cooldown"  # the player's previous picture was judged a moment ago
    REFUSED = "refused"  # no guesses (unreadable picture, busy engine): ``CanvasOutcome.refused`` says why


@dataclass(frozen=True)
class Live:
    """A live guess from a game's canvas: what the model saw (or why not), whether it won the round, and
    the game as it stands after it."""

    seen: Seen | Refused
    won: bool
    view: RoundView | None


@dataclass(frozen=True)
class CanvasOutcome:
    """What ``judge_canvas`` did with a drawing, and the classifier's refusal when there was one."""

    judgement: Judgement
    refused: Refused | None = None


class GameService:
    """The running games of one bot: ``services`` for the store, rules and engine; ``bot`` to speak."""

    def __init__(self, services: Services, bot: ExtBot, job_queue: JobQueue):
        self.services = services
        self.bot = bot
        self.job_queue = job_queue
        self.games: dict[int, Game] = {}  # chat id -> the game being played there
        self.finished: OrderedDict[tuple[int, int], Game] = OrderedDict()  # recent games that ended, for their links
        self.backlog: dict[int, list[_Control]] = {}  # chat id -> control texts Telegram did not take yet
        self._retries: dict[int, int] = {}  # chat id -> failed attempts in a row
        self.drawings = KeptDrawings()  # each round's drawing, until the game's gallery is posted
        self.endings: dict[int, asyncio.Event] = {}  # solo players whose race's end (gallery, card) is being posted

    # -- asking ---------------------------------------------------------------------------------

    def get(self, chat_id: int) -> Game | None:
        """The game being played in the chat, if any."""
        return self.games.get(chat_id)

    def translator(self, chat_id: int) -> Translator:
        """For what the bot says unasked: the chat's language, else that of its game's starter, else English."""
        game = self.games.get(chat_id)
        return self.services.translator(chat_id, game.language if game is not None else None)

    def chat_of(self, game: Game) -> ChatView:
        """The game's chat as its pictures are classified: its language, else the starter's."""
        return self.services.chat(game.chat_id, game.language)

    def game_of(self, chat_id: int, game_id: int | None) -> Game | None:
        """The game a canvas link names (running, or ended lately); without a game id, the solo game of a
        private chat (its id is the player's)."""
        game = self.games.get(chat_id)
        if game_id is None:
            if chat_id <= 0:
                return None  # a group's link without a game: the plain canvas
            ended = [g for (chat, _), g in self.finished.items() if chat == chat_id]
            return game or (ended[-1] if ended else None)
        if game is not None and game.id == game_id:
            return game
        return self.finished.get((chat_id, game_id))

    def view(self, chat_id: int, game_id: int | None) -> RoundView | None:
        """What a canvas opened from this game's link shows now; None outside a game."""
        game = self.game_of(chat_id, game_id)
        return round_view(game, time.time()) if game is not None else None

    async def judge_live(
        self,
        chat_id: int,
        game_id: int | None,
        player: Player,
        data: bytes,
        still_member: Callable[[], Awaitable[bool]],
    ) -> Live | None:
        """A live guess from a game's canvas: ranked over the game's labels through the one seam and, while
        a round is open, judged at once: the first drawing whose top guess is the target wins the round
        (decided here, in the same request; the loop judges one picture at a time, so two winning drawings
        give one winner, the first judged). Its time is the guess's arrival; a guess that arrives after the
        deadline does not count. ``still_member`` is asked (Telegram, now) before a win is awarded. None
        when the link names no game here."""
        game = self.game_of(chat_id, game_id)
        if game is None:
            return None
        now = time.time()
        chat = self.chat_of(game)
        seen = await classify_for_chat(self.services, self.bot, chat, data, labels=game.labels, top_k=len(game.labels))
        round_ = game.current
        if isinstance(seen, Refused) or round_ is None or self.games.get(game.chat_id) is not game:
            return Live(seen, False, round_view(game, time.time()))
        if now < round_.started_at:  # its announcement is not out yet: nobody knows the target
            return Live(seen, False, round_view(game, time.time()))
        top = max(seen.guesses, key=lambda g: g.score) if seen.guesses else None
        if top is not None and top.label == round_.target and chat_id < 0 and not await still_member():
            logger.info("chat %s: a live win by %s refused: no longer a member", chat_id, player.user_id)
            return Live(seen, False, round_view(game, time.time()))
        best_before = round_.best
        events = judge_picture(game, round_.number, player, seen.guesses, now, self.services.rules)
        won = any(isinstance(e, RoundWon) for e in events)
        top_score = top.score if top is not None else 0.0
        for event in events:
            if isinstance(event, Judged):
                self.drawings.offer(game, event, top_score, data)  # the gallery keeps the round's best drawing
        if won:
            self._commit(game, events)
            t = self.services.translator(game.chat_id, game.language)
            await self._announce(game, [e for e in events if not isinstance(e, Judged)], photo=data, t=t)
        elif round_.best is not best_before:
            self._commit(game, [e for e in events if not isinstance(e, Judged)])  # the best so far, kept
        return Live(seen, won, round_view(game, time.time()))

    async def solo_posted(self, user_id: int, timeout_s: float) -> None:
        """Return once the end of the user's solo race (its gallery, their card) has been posted, if it is
        being posted now; at most after ``timeout_s``."""
        ending = self.endings.get(user_id)
        if ending is not None:
            try:
                await asyncio.wait_for(ending.wait(), timeout_s)
            except TimeoutError:
                logger.info("chat %s: the race's end still not posted after %.0f s", user_id, timeout_s)

    def cooldown_left(self, chat_id: int, user_id: int) -> float:
        """Seconds until this player's next picture counts in the chat's game (0 when it would now)."""
        game = self.games.get(chat_id)
        last = game.last_judged.get(user_id) if game is not None else None
        if last is None:
            return 0.0
        return max(0.0, last + self.services.rules.cooldown_s - time.time())

    # -- starting and stopping ------------------------------------------------------------------

    async def start(self, chat: ChatView, starter: Player, args: Sequence[str]) -> Game:
        """Start a game in ``chat`` (``args``: /game's); a ``GameError`` for bad arguments."""
        services = self.services
        rounds, seconds, pack = parse_game_args(args, services.rules)
        words = pack_words(pack, chat.labels if chat.own_labels else None)  # judged over the whole pack
        game, events = start_game(
            chat.chat_id, starter, words, rounds, seconds, time.time(), services.rng, services.rules
        )
        game.language = chat.t.language  # the chat's, or the starter's: for what the game says later
        self.games[chat.chat_id] = game
        self._commit(game, events)
        logger.info("chat %s: game %s started: %d rounds of %g s", chat.chat_id, game.id, game.total_rounds, seconds)
        if not labels_ready(services, chat, game.labels):
            self.job_queue.application.create_task(prepare(services, chat, game.labels))
        await self._announce(game, events)
        return game

    async def start_solo(self, chat: ChatView, player: Player, pack: str | None = None) -> Game | None:
        """A solo race in a private chat (``/play``, or the canvas's Play solo button): the rules' solo
        rounds and seconds, from ``pack`` or the chat's default; None when a game is already running there.
        A ``GameError`` for an unknown pack."""
        if chat.chat_id <= 0:
            raise ValueError(f"chat {chat.chat_id}: solo races are played in private chats")
        if self.games.get(chat.chat_id) is not None:
            return None
        rules = self.services.rules
        return await self.start(chat, player, [str(rules.solo_rounds), str(rules.solo_seconds), *filter(None, [pack])])

    async def stop(self, game: Game, by: str) -> None:
        """End ``game`` now (its starter or an admin asked)."""
        if self.games.get(game.chat_id) is not game:
            return  # it ended meanwhile
        events = stop_game(game, time.time(), by=by)
        self._commit(game, events)
        logger.info("chat %s: game %s stopped", game.chat_id, game.id)
        await self._announce(game, events)

    async def resume(self) -> None:
        """At start-up: play on with each unfinished game, or close it and say so."""
        services, now = self.services, time.time()
        for game in services.store.playing_games():
            events = resume_game(game, now, services.rng, services.rules)
            if game.playing:
                self.games[game.chat_id] = game
            self._commit(game, events)
            state = "resumed" if game.playing else "closed"
            logger.info("chat %s: game %s %s after restart", game.chat_id, game.id, state)
            try:
                await self._announce(game, events)
            except TelegramError as exc:  # one chat's trouble must not keep the bot from starting
                logger.warning("chat %s: couldn't announce the game after restart: %s", game.chat_id, exc)

    # -- pictures ------------------------------------------------------------------------------

    async def judge_photo(self, game: Game, player: Player, found: PictureRef, message: Message) -> Judgement:
        """A member's picture during a round: judged like any other (cooldown, then the seam, then the rules)."""
        now = time.time()
        number = game.current.number if game.current is not None else 0
        admission = admit_picture(game, player.user_id, now, self.services.rules)
        if admission is not Admission.ADMITTED:
            logger.debug("chat %s: picture from %s not judged (%s)", game.chat_id, player.user_id, admission.value)
            return Judgement(admission.value)
        chat = self.chat_of(game)
        seen = await classify_for_chat(self.services, self.bot, chat, found, labels=game.labels, top_k=len(game.labels))
        if isinstance(seen, Refused):
            await message.reply_text(seen.text)
            return Judgement.REFUSED
        await self._judge(game, number, player, seen.guesses, now, message, found.file_id)
        return Judgement.JUDGED

    async def judge_canvas(
        self, chat_id: int, game_id: int, number: int | None, player: Player, data: bytes, caption: str
    ) -> CanvasOutcome:
        """A drawing sent from the canvas for round ``number`` (None: the open one): judged exactly like a
        photo from ``player`` (same cooldown, same seam, same scoring), after the bot posted it into the group."""
        game = self.games.get(chat_id)
        if game is None or game.id != game_id or game.current is None:
            return CanvasOutcome(Judgement.NO_ROUND)
        number = game.current.number if number is None else number
        if game.current.number != number:
            return CanvasOutcome(Judgement.NO_ROUND)
        now = time.time()
        admission = admit_picture(game, player.user_id, now, self.services.rules)
        if admission is not Admission.ADMITTED:
            return CanvasOutcome(Judgement(admission.value))
        chat = self.chat_of(game)
        seen = await classify_for_chat(self.services, self.bot, chat, data, labels=game.labels, top_k=len(game.labels))
        if isinstance(seen, Refused):
            return CanvasOutcome(Judgement.REFUSED, seen)
        posted = await self.bot.send_photo(chat_id, data, caption=caption)  # the group's budget decides when
        await self._judge(game, number, player, seen.guesses, now, posted, data)
        return CanvasOutcome(Judgement.JUDGED)

    async def _judge(
        self,
        game: Game,
        number: int,
        player: Player,
        guesses: Sequence[Guess],
        now: float,
        picture: Message,
        kept: str | bytes,
    ) -> None:
        """Judge a round's picture (a member's photo, or a canvas drawing the bot posted) and announce.
        ``kept``: the photo's file id, or the drawing's bytes, held for the gallery."""
        if self.games.get(game.chat_id) is not game:
            return  # stopped while we looked
        events = judge_picture(game, number, player, guesses, now, self.services.rules)
        top = max((guess.score for guess in guesses), default=0.0)
        for event in events:
            if isinstance(event, Judged):
                self.drawings.offer(game, event, top, kept)
        self._commit(game, events)
        await self._announce(game, events, picture=picture)

    # -- chats that go away or move (Services.forget_chat / move_chat) -------------------------

    def forget_chat(self, chat_id: int) -> None:
        """After /forget erased the chat's rows: drop its running game and timer, saying nothing."""
        game = self.games.pop(chat_id, None)
        self._drop_timer(chat_id)
        self.backlog.pop(chat_id, None)
        for key in [key for key in self.finished if key[0] == chat_id]:
            del self.finished[key]
        self._retries.pop(chat_id, None)
        self.drawings.forget_chat(chat_id)
        if game is not None:
            logger.info("chat %s: game %s dropped by /forget", chat_id, game.id)

    def move_chat(self, old_id: int, new_id: int) -> None:
        """After a group became a supergroup (its rows already moved): its running game and timer follow."""
        game = self.games.pop(old_id, None)
        self._drop_timer(old_id)
        self.drawings.move_chat(old_id, new_id)
        if old_id in self.backlog:
            self.backlog.setdefault(new_id, []).extend(self.backlog.pop(old_id))
            self._retries.pop(old_id, None)
            self._schedule_retry(new_id)
        if game is None:
            return
        game.chat_id = new_id
        if new_id in self.games:  # a game was started in the new chat before the move was noticed: it goes on
            logger.info("chat %s: game %s from chat %s closed: another game is running", new_id, game.id, old_id)
            self._commit(game, stop_game(game, time.time(), reason="abandoned"))
            self.drawings.take(game.id)  # closed without a word: no gallery
            self._set_timer(self.games[new_id])
            return
        self.games[new_id] = game
        self._commit(game, [])
        logger.info("chat %s: game %s moved from chat %s", new_id, game.id, old_id)

    # -- the clock, the store and the group's budget ------------------------------------------

    async def _on_timer(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """The chat's deadline came: warn, end the round, or start the next one."""
        job = context.job
        if job is None or job.chat_id is None or not isinstance(job.data, tuple):  # _set_timer sets both
            return
        game_id, due = job.data
        game = self.games.get(job.chat_id)
        if game is None or game.id != game_id:
            return
        now = max(time.time(), due)  # never earlier than planned, or nothing would be due
        events = advance(game, now, self.services.rng, self.services.rules)
        self._commit(game, events)
        await self._announce(game, events)

    def _commit(self, game: Game, events: list[Event]) -> None:
        """Plan the group's messages, store the game, forget it when it's over, and set its timer."""
        self._plan(game)
        self.services.store.save_game(game, events)
        if not game.playing and self.games.get(game.chat_id) is game:
            del self.games[game.chat_id]
            if game.id is not None:  # its canvas links show the final standings a while longer
                self.finished[(game.chat_id, game.id)] = game
                while len(self.finished) > FINISHED_KEPT:
                    self.finished.popitem(last=False)
        self._set_timer(game)

    def _plan(self, game: Game) -> None:
        """Reserve the game's control messages in the group's budget; a round still to be
        announced starts when its schedule fits beside what the group was already sent."""
        budget = self.services.budgets.for_chat(game.chat_id)
        if not game.playing:
            budget.reserve(())
            return
        rules = self.services.rules
        budget.reserve((), CONTROL_SPARE)
        if game.current is None and game.next_round_at is not None:
            due = game.next_round_at
            offsets = [t - due for t in planned_controls(game, rules)]
            game.next_round_at = budget.earliest_start(due, offsets)
            if game.next_round_at > due:
                logger.info(
                    "chat %s: round %d waits %.1f s for room in the group's budget",
                    game.chat_id,
                    len(game.rounds) + 1,
                    game.next_round_at - due,
                )
        budget.reserve(planned_controls(game, rules), CONTROL_SPARE)

    def _set_timer(self, game: Game) -> None:
        self._drop_timer(game.chat_id)
        due = next_deadline(game, self.services.rules)
        if due is not None:
            self.job_queue.run_once(
                self._on_timer,
                when=max(0.0, due - time.time()),
                name=_job_name(game.chat_id),
                chat_id=game.chat_id,
                data=(game.id, due),
            )

    def _drop_timer(self, chat_id: int) -> None:
        for job in self.job_queue.get_jobs_by_name(_job_name(chat_id)):
            job.schedule_removal()

    # -- saying what happened -----------------------------------------------------------------

    async def _announce(
        self,
        game: Game,
        events: list[Event],
        picture: Message | None = None,
        *,
        photo: bytes | None = None,
        t: Translator | None = None,
    ) -> None:
        """Say what happened (``_say``); the end of a solo race is in ``endings`` until it has been posted."""
        if game.chat_id <= 0 or not any(isinstance(e, GameOver) for e in events):
            await self._say(game, events, picture, photo=photo, t=t)
            return
        ending = self.endings[game.chat_id] = asyncio.Event()
        try:
            await self._say(game, events, picture, photo=photo, t=t)
        finally:
            ending.set()
            if self.endings.get(game.chat_id) is ending:
                del self.endings[game.chat_id]

    async def _say(
        self,
        game: Game,
        events: list[Event],
        picture: Message | None = None,
        *,
        photo: bytes | None = None,
        t: Translator | None = None,
    ) -> None:
        """Say what happened: a verdict waits in the outbox; a win replies to its picture (or, for a live
        canvas win, is the caption of the winning ``photo``: one message); the rest goes in one message
        to the chat. Control messages take the waiting verdicts along."""
        outbox = self.services.outbox
        t = t or self.services.translator(game.chat_id, game.language)  # the chat's, else the starter's
        over = next((e for e in events if isinstance(e, GameOver)), None)
        drawings = self.drawings.take(game.id) if over is not None else {}  # held until now, posted or not
        win, to_chat = None, []
        for event in events:
            text = replies.format_game_event(t, event)
            if text is None:
                continue
            if picture is not None and isinstance(event, Judged):
                line = replies.format_verdict_line(t, event)
                item = Pending(picture.message_id, text, line, tag=game.id, at=time.time())
                outbox.add(game.chat_id, ("verdict", event.user_id), item)
            elif (picture is not None or photo is not None) and isinstance(event, RoundWon):
                win = text
            else:
                announces = event.number if isinstance(event, RoundStarted) else None
                to_chat.append(_Control(text, announces, warning=isinstance(event, TimeWarning)))
        if over is not None and game.chat_id > 0:  # a solo race ended
            to_chat.append(_Control(self._solo_best(game, t)))
        if win is None and not to_chat:
            return
        waiting = [item.line for item in outbox.take(game.chat_id, game.id)]
        if win is not None and waiting:
            win, waiting = "\n\n".join([win, "\n".join(waiting)]), []
        elif waiting:
            to_chat.insert(0, _Control("\n".join(waiting)))
        if win is not None and (picture is not None or photo is not None):
            options: dict[str, Any] = {"photo": photo}
            if picture is not None:
                options["reply_parameters"] = ReplyParameters(picture.message_id, allow_sending_without_reply=True)
            if not await self._send(game.chat_id, game, [_Control(win)], t, **options):
                self.backlog.setdefault(game.chat_id, []).extend(c for c in to_chat if not c.warning)
                return
        if to_chat:
            gallery = await build_gallery(self.bot, self.chat_of(game), game, over, drawings) if over else None
            keep = self._keep_card if over is not None and game.chat_id > 0 else None  # a solo race's card
            await self._send(game.chat_id, game, to_chat, t, photo=gallery, on_photo=keep)

    async def _send(
        self,
        chat_id: int,
        game: Game | None,
        controls: list[_Control],
        t: Translator,
        photo: bytes | None = None,
        on_photo: Callable[[Game, Message], None] | None = None,
        **options: Any,
    ) -> bool:
        """Send the chat's backlog and ``controls`` as one control message; True when Telegram took it.
        With ``photo`` (the game's gallery) the text is its caption, cut to Telegram's 1024 characters,
        and ``on_photo`` is told the message once Telegram took it.

        Not taken: kept in the backlog (warnings aside) and retried; a round announced in
        it keeps its clock held. Forbidden (the bot left the group) closes the game.
        """
        controls = self._current(chat_id, [*self.backlog.pop(chat_id, []), *controls])
        if not controls:
            return True
        announced = next((c.announces for c in controls if c.announces is not None), None)
        markup = self._draw_button(game, announced, t) if game is not None else None
        text = "\n\n".join(c.text for c in controls)
        try:
            if photo is not None:
                caption = replies.fit_text(text, replies.CAPTION_LIMIT)
                sent = await self.bot.send_photo(
                    chat_id, photo, caption=caption, rate_limit_args=CONTROL, reply_markup=markup, **options
                )
                if on_photo is not None and game is not None:
                    on_photo(game, sent)
            else:
                await self.bot.send_message(chat_id, text, rate_limit_args=CONTROL, reply_markup=markup, **options)
        except Forbidden as exc:  # the bot was removed from the group: nobody to play with
            logger.warning("chat %s: can't post (%s); closing its game", chat_id, exc)
            self.backlog.pop(chat_id, None)
            if game is not None and game.playing:
                self._commit(game, stop_game(game, time.time(), reason="abandoned"))
            if game is not None:
                self.drawings.take(game.id)  # nobody to show the gallery to
            return False
        except BadRequest as exc:  # sending it again would fail the same way
            logger.warning("chat %s: Telegram refused a game message: %s", chat_id, exc.message)
            if photo is not None:  # the gallery, then: the text alone still says how the game ended
                return await self._send(chat_id, game, controls, t, **options)
            return False
        except TelegramError as exc:  # network, server error, flood wait: try again soon
            kept = [c for c in controls if not c.warning]
            delay = self._retry_delay(chat_id)
            logger.warning("chat %s: game message not delivered (%s); again in %.0f s", chat_id, exc, delay)
            if kept:
                self.backlog[chat_id] = kept
                self._schedule_retry(chat_id, delay)
            if announced is not None and game is not None and self.games.get(chat_id) is game:  # held clock
                confirm_round_start(game, announced, time.time() + delay)
                self._commit(game, [])
            return False
        self._retries.pop(chat_id, None)
        playing = game is not None and self.games.get(chat_id) is game
        if announced is not None and game is not None and playing and confirm_round_start(game, announced, time.time()):
            self._commit(game, [])
        return True

    def _current(self, chat_id: int, controls: list[_Control]) -> list[_Control]:
        """``controls`` without announcements of rounds that are not open any more (the game was stopped)."""
        game = self.games.get(chat_id)
        number = game.current.number if game is not None and game.current is not None else None
        return [c for c in controls if c.announces is None or c.announces == number]

    def _retry_delay(self, chat_id: int) -> float:
        attempts = self._retries.get(chat_id, 0)
        self._retries[chat_id] = attempts + 1
        return min(RETRY_MAX_S, RETRY_FIRST_S * 2**attempts)

    def _schedule_retry(self, chat_id: int, delay: float = RETRY_FIRST_S) -> None:
        name = f"game-retry:{chat_id}"
        for job in self.job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        self.job_queue.run_once(self._retry, when=delay, name=name, chat_id=chat_id)

    async def _retry(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        """Send a chat's backlog again (with the game, or alone once the game is over)."""
        job = context.job
        if job is None or job.chat_id is None or not self.backlog.get(job.chat_id):
            return
        await self._send(job.chat_id, self.games.get(job.chat_id), [], self.translator(job.chat_id))

    def _solo_best(self, game: Game, t: Translator) -> str:
        """Keep the solo race if it is the player's best; the line that says so, or the best to beat."""
        player = game.players.get(game.chat_id) or Player(game.chat_id, game.starter_name)
        best, new = self.services.store.record_solo(
            player.user_id, player.points, game.total_rounds, player.time_s, time.time()
        )
        return replies.format_solo_best(t, player.points, game.total_rounds, best, new)

    def _keep_card(self, game: Game, gallery: Message) -> None:
        """A solo race's gallery was posted: it is now the player's card, with the race's score."""
        if not gallery.photo:
            return
        player = game.players.get(game.chat_id) or Player(game.chat_id, game.starter_name)
        card = Card(player.user_id, gallery.photo[-1].file_id, player.points, game.total_rounds, time.time())
        self.services.store.keep_card(card)
        logger.info("chat %s: the race's card kept (%d of %d)", game.chat_id, card.won, card.rounds)

    def _draw_button(self, game: Game, announced: int | None, t: Translator) -> InlineKeyboardMarkup | None:
        """A "🎨 Draw here" button under a round just announced: in a group, the canvas's link for the whole
        game (one link serves every round); in a private chat (solo), the canvas as a web app."""
        webapp = self.services.webapp
        if announced is None or webapp is None or game.id is None:
            return None
        if game.chat_id > 0:  # web-app buttons work in private chats only, and only for https pages
            if not webapp.page_url.startswith("https://"):
                return None
            button = InlineKeyboardButton(replies.DRAW_HERE_BUTTON(t), web_app=WebAppInfo(webapp.page_url))
            return InlineKeyboardMarkup([[button]])
        link = webapp.group_link
        if link is None:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(replies.DRAW_HERE_BUTTON(t), url=link(game.chat_id, game.id))]]
        )


def _job_name(chat_id: int) -> str:
    return f"game:{chat_id}"
