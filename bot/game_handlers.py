"""The drawing game's callbacks: /game, /stop, /score, pictures during a round, and its timer.

The rules are in ``bot.game``; here we extract what was sent, apply the rules,
store the result (before anything is said, so a crash loses nothing), set the
chat's timer and announce. Games being played live in ``Services.games``
(``bot.services``: chat id -> ``Game``, beside the rules, the RNG and the
store); everything in them is also in the store, and ``resume_games`` picks
them up after a restart.

Each chat has one JobQueue job, named ``game:<chat id>``, always set for the
game's next deadline (the 10-second warning, the end of the round, the next
round); setting it replaces the old one, so chats never share or leak timers.

During an open round, group pictures come here first (handler group -1) and
stop there (``ApplicationHandlerStop``); at any other time the usual picture
handler answers them.

Messages and the group's budget (``bot.budget``, ``bot.outbox``): every commit
reserves the game's planned control messages in the group's budget, with
``CONTROL_SPARE`` slots for the ones nobody can plan (an early win, the game
over after it). Control messages are sent with ``rate_limit_args=CONTROL``, so
nothing holds them back. A round's clock starts when its announcement was
accepted; a round that follows an early win starts when its schedule fits.
"Keep trying" verdicts wait in the outbox, one per player (the latest
picture), and go out coalesced as the budget allows; the round's next control
message takes whatever is still waiting.
"""

import logging
import time
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ExtBot, JobQueue

from classifier.errors import ClassifierError, UserError
from classifier.types import Guess

from . import replies
from .game import (
    Event,
    Game,
    GameRules,
    Judged,
    Player,
    RoundStarted,
    RoundWon,
    admit_picture,
    advance,
    can_stop,
    confirm_round_start,
    judge_picture,
    next_deadline,
    parse_game_args,
    planned_controls,
    resume_game,
    start_game,
    stop_game,
)
from .labels import clean_text
from .outbox import CONTROL, Pending
from .pictures import PictureRef, find_picture
from .services import BotContext, ClassifierEngine, Services, job_queue_of, services_of
from .telegram_io import classify_picture, is_chat_admin, message_of

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 32
CONTROL_SPARE = 2  # budget slots kept for unplanned control messages: a win, and the game over after it


async def game_command(update: Update, context: BotContext) -> None:
    """/game [rounds] [seconds]: start a drawing game in this group."""
    message = message_of(update)
    chat = message.chat
    if chat.type == ChatType.PRIVATE:
        await message.reply_text(replies.GAME_PRIVATE_TEXT)
        return
    services = context.services
    games, rules = services.games, services.rules
    if chat.id in games:
        await message.reply_text(replies.GAME_RUNNING_TEXT)
        return
    try:
        rounds, seconds = parse_game_args(context.args or [], rules)
        game, events = start_game(
            chat.id,
            _player(message),
            services.chat_labels(chat.id),
            rounds,
            seconds,
            time.time(),
            services.rng,
            rules,
        )
    except UserError as exc:
        await message.reply_text(exc.user_message)
        return
    games[chat.id] = game
    _commit(context.application, game, events)
    logger.info("chat %s: game %s started: %d rounds of %g s", chat.id, game.id, game.total_rounds, game.seconds)
    engine = services.engine
    if not engine.labels_ready(game.labels):
        context.application.create_task(_prepare_labels(engine, game.labels))
    await _announce(context.application, game, events)


async def stop_command(update: Update, context: BotContext) -> None:
    """/stop: end the game (the player who started it, or an admin)."""
    message = message_of(update)
    chat = message.chat
    game = context.services.games.get(chat.id)
    if game is None:
        await message.reply_text(replies.NO_GAME_TEXT)
        return
    player = _player(message)
    is_admin = player.user_id != game.starter_id and await is_chat_admin(update, context)
    if not can_stop(game, player.user_id, is_admin):
        await message.reply_text(replies.format_stop_refused(game.starter_name))
        return
    if context.services.games.get(chat.id) is not game:
        return  # it ended while we asked Telegram about the admins
    events = stop_game(game, time.time(), by=player.name)
    _commit(context.application, game, events)
    logger.info("chat %s: game %s stopped", chat.id, game.id)
    await _announce(context.application, game, events)


async def score_command(update: Update, context: BotContext) -> None:
    """/score: the chat's all-time leaderboard."""
    message = message_of(update)
    players = context.services.store.leaderboard(message.chat.id)
    await message.reply_text(replies.format_leaderboard(players))


async def game_picture(update: Update, context: BotContext) -> None:
    """A picture in a group: while a round is open, judge it for the game and nothing else."""
    message = message_of(update)
    chat = message.chat
    game = context.services.games.get(chat.id)
    if game is None or game.current is None:
        return  # no round running: the usual picture handler decides
    found = find_picture(message)
    if not isinstance(found, PictureRef) or not found.is_typed:
        return  # not something we can judge (a PDF, a video sticker, an untyped file): not a drawing
    rules, now, player = context.services.rules, time.time(), _player(message)
    number = game.current.number
    if admit_picture(game, player.user_id, now, rules) is not None:
        logger.debug("chat %s: picture from %s ignored (cooldown)", chat.id, player.user_id)
        raise ApplicationHandlerStop
    seen = await classify_picture(found, message, game.labels, len(game.labels), context, show_typing=False)
    if seen is None:
        raise ApplicationHandlerStop
    await _judge(context.application, game, number, player, seen.guesses, now, message)
    raise ApplicationHandlerStop


async def canvas_picture(
    application: Application, chat_id: int, game_id: int, number: int, player: Player, data: bytes, caption: str
) -> str | None:
    """A drawing sent from the canvas for round ``number``: judged exactly like a photo from
    ``player`` (same cooldown, same scoring), after the bot posted it into the group.

    None when it was judged; else why not: "no-round" (that round is not open now) or
    "cooldown". A ``UserError`` from the classifier reaches the caller, and nothing is posted.
    """
    game = services_of(application).games.get(chat_id)
    if game is None or game.id != game_id or game.current is None or game.current.number != number:
        return "no-round"
    now = time.time()
    refused = admit_picture(game, player.user_id, now, services_of(application).rules)
    if refused is not None:
        return refused
    guesses = await _classify(application, game, data)
    posted = await application.bot.send_photo(chat_id, data, caption=caption)  # the group's budget decides when
    await _judge(application, game, number, player, guesses, now, posted)
    return None


def cooldown_left(application: Application, chat_id: int, user_id: int) -> float:
    """Seconds until this player's next picture counts in the chat's game (0 when it would now)."""
    services = services_of(application)
    game = services.games.get(chat_id)
    last = game.last_judged.get(user_id) if game is not None else None
    if last is None:
        return 0.0
    return max(0.0, last + services.rules.cooldown_s - time.time())


async def _classify(application: Application, game: Game, data: bytes) -> list[Guess]:
    """Guesses over all the game's labels, as for a photo (the target's score is needed, wherever it ranks)."""
    services = services_of(application)
    examples = services.taught_examples(game.chat_id)
    return await services.engine.classify(data, game.labels, top_k=len(game.labels), examples=examples)


async def _judge(
    application: Application,
    game: Game,
    number: int,
    player: Player,
    guesses: Sequence[Guess],
    now: float,
    picture: Message,
) -> None:
    """Judge a round's picture (a member's photo, or a canvas drawing the bot posted) and announce."""
    services = services_of(application)
    if services.games.get(game.chat_id) is not game:
        return  # stopped while we looked
    events = judge_picture(game, number, player, guesses, now, services.rules)
    _commit(application, game, events)
    await _announce(application, game, events, picture=picture)


async def resume_games(application: Application) -> None:
    """At start-up: play on with each unfinished game, or close it and say so."""
    services = services_of(application)
    now = time.time()
    for game in services.store.playing_games():
        events = resume_game(game, now, services.rng, services.rules)
        if game.playing:
            services.games[game.chat_id] = game
        _commit(application, game, events)
        logger.info("chat %s: game %s %s after restart", game.chat_id, game.id, "resumed" if game.playing else "closed")
        try:
            await _announce(application, game, events)
        except TelegramError as exc:  # one chat's trouble must not keep the bot from starting
            logger.warning("chat %s: couldn't announce the game after restart: %s", game.chat_id, exc)


def forget_game(context: BotContext, chat_id: int) -> None:
    """After /forget erased the chat's rows: drop its running game and timer, saying nothing."""
    game = context.services.games.pop(chat_id, None)
    for job in job_queue_of(context.application).get_jobs_by_name(_job_name(chat_id)):
        job.schedule_removal()
    if game is not None:
        logger.info("chat %s: game %s dropped by /forget", chat_id, game.id)


def move_game(context: BotContext, old_id: int, new_id: int) -> None:
    """After a group became a supergroup (its rows already moved): its running game and timer follow."""
    games = context.services.games
    game = games.pop(old_id, None)
    for job in job_queue_of(context.application).get_jobs_by_name(_job_name(old_id)):
        job.schedule_removal()
    if game is None:
        return
    game.chat_id = new_id
    if new_id in games:  # a game was started in the new chat before the move was noticed: it goes on
        logger.info("chat %s: game %s from chat %s closed: another game is running", new_id, game.id, old_id)
        _commit(context.application, game, stop_game(game, time.time(), reason="abandoned"))
        _set_timer(job_queue_of(context.application), games[new_id], context.services.rules)
        return
    games[new_id] = game
    _commit(context.application, game, [])
    logger.info("chat %s: game %s moved from chat %s", new_id, game.id, old_id)


async def _on_timer(context: BotContext) -> None:
    """The chat's deadline came: warn, end the round, or start the next one."""
    job = context.job
    if job is None or job.chat_id is None or not isinstance(job.data, tuple):  # _set_timer sets both
        return
    game_id, due = job.data
    game = context.services.games.get(job.chat_id)
    if game is None or game.id != game_id:
        return
    now = max(time.time(), due)  # never earlier than planned, or nothing would be due
    events = advance(game, now, context.services.rng, context.services.rules)
    _commit(context.application, game, events)
    await _announce(context.application, game, events)


def _commit(application: Application, game: Game, events: list[Event]) -> None:
    """Plan the group's messages, store the game, forget it when it's over, and set its timer."""
    services = services_of(application)
    _plan(services, game)
    services.store.save_game(game, events)
    games = services.games
    if not game.playing and games.get(game.chat_id) is game:
        del games[game.chat_id]
    _set_timer(job_queue_of(application), game, services.rules)


def _plan(services: Services, game: Game) -> None:
    """Reserve the game's control messages in the group's budget; a round still to be
    announced starts when its schedule fits beside what the group was already sent."""
    budget = services.budgets.for_chat(game.chat_id)
    if not game.playing:
        budget.reserve(())
        return
    rules = services.rules
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


def _set_timer(job_queue: JobQueue, game: Game, rules: GameRules) -> None:
    name = _job_name(game.chat_id)
    for job in job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    due = next_deadline(game, rules)
    if due is not None:
        job_queue.run_once(
            _on_timer,
            when=max(0.0, due - time.time()),
            name=name,
            chat_id=game.chat_id,
            data=(game.id, due),
        )


async def _announce(application: Application, game: Game, events: list[Event], picture: Message | None = None) -> None:
    """Say what happened: a verdict waits in the outbox; a win replies to its picture; the
    rest goes in one message to the chat. Control messages take the waiting verdicts along."""
    services = services_of(application)
    outbox = services.outbox
    win, to_chat = None, []
    for event in events:
        text = replies.format_game_event(event)
        if text is None:
            continue
        if picture is not None and isinstance(event, Judged):
            line = replies.format_verdict_line(event)
            outbox.add(
                application,
                game.chat_id,
                ("verdict", event.user_id),
                Pending(picture.message_id, text, line, tag=game.id, at=time.time()),
            )
        elif picture is not None and isinstance(event, RoundWon):
            win = text
        else:
            to_chat.append(text)
    if win is None and not to_chat:
        return
    waiting = [item.line for item in outbox.take(game.chat_id, game.id)]
    if win is not None and waiting:
        win, waiting = "\n\n".join([win, "\n".join(waiting)]), []
    elif waiting:
        to_chat.insert(0, "\n".join(waiting))
    bot: ExtBot = application.bot
    try:
        if win is not None and picture is not None:
            await bot.send_message(
                game.chat_id,
                win,
                rate_limit_args=CONTROL,
                reply_parameters=ReplyParameters(picture.message_id, allow_sending_without_reply=True),
            )
        if to_chat:
            started = next((e for e in events if isinstance(e, RoundStarted)), None)
            await bot.send_message(
                game.chat_id,
                "\n\n".join(to_chat),
                rate_limit_args=CONTROL,
                reply_markup=_draw_button(application, game, started),
            )
            playing = services.games.get(game.chat_id) is game
            if started is not None and playing and confirm_round_start(game, started.number, time.time()):
                _commit(application, game, [])
    except Forbidden as exc:  # the bot was removed from the group: nobody to play with
        logger.warning("chat %s: can't post (%s); closing game %s", game.chat_id, exc, game.id)
        if game.playing:
            _commit(application, game, stop_game(game, time.time(), reason="abandoned"))


def _draw_button(application: Application, game: Game, started: RoundStarted | None) -> InlineKeyboardMarkup | None:
    """A "🎨 Draw here" link to the canvas for a round just announced, when the canvas serves groups."""
    webapp = services_of(application).webapp
    link = webapp.group_link if webapp is not None else None
    if started is None or link is None or game.id is None:
        return None
    url = link(game.chat_id, game.id, started.number)
    return InlineKeyboardMarkup([[InlineKeyboardButton(replies.DRAW_HERE_BUTTON, url=url)]])


async def _prepare_labels(engine: ClassifierEngine, labels: Sequence[str]) -> None:
    try:
        await engine.prepare_labels(list(labels))
    except ClassifierError as exc:
        logger.warning("preparing the game's labels failed: %r", exc)


def _player(message: Message) -> Player:
    """Who sent it: the user, an anonymous admin (all of them one player), or the channel posting."""
    if message.sender_chat is not None:
        if message.sender_chat.id == message.chat_id:  # the group itself: its title names no one
            return Player(message.sender_chat.id, replies.ANONYMOUS_ADMIN_NAME)
        return Player(message.sender_chat.id, _name(message.sender_chat.title or "", "Channel"))
    user = message.from_user
    if user is None:  # only channels' own posts have no sender, and they are no group's
        raise ValueError(f"message {message.message_id} has no sender")
    return Player(user.id, _name(user.first_name or "Player"))


def named_player(user_id: int, first_name: str) -> Player:
    """A player known by id and first name (a canvas drawer: Telegram's signed init data names them)."""
    return Player(user_id, _name(first_name or "Player"))


def _name(text: str, fallback: str = "Player") -> str:
    name = clean_text(text) or fallback
    return name if len(name) <= MAX_NAME_LENGTH else name[: MAX_NAME_LENGTH - 1] + "…"


def _job_name(chat_id: int) -> str:
    return f"game:{chat_id}"
