"""Wire the bot: settings, model, engine and store into a PTB ``Application``.

Long-lived services are created in ``post_init`` (the model loads once, off the
event loop) and closed in ``post_shutdown``, as PTB's rules-bot does. They
form one ``bot.services.Services`` object and one ``bot.game_service.GameService``,
set on ``bot_data`` and reached by every callback as ``context.services`` and
``context.games`` (``bot.context.BotContext``).

Sending: ``bot.outbox.BudgetLimiter`` is the rate limiter (see ``bot.sending``). It plans each group's
20 messages a minute (``bot.budget``) and wraps PTB's ``AIORateLimiter`` with
its per-group bucket off (``group_max_rate=0``): that one still keeps the bot
under 30 messages a second overall and retries a 429, but never queues a
group's messages behind each other (it can't tell a round announcement from a
verdict, and its bucket lets 38 messages into a group in the first minute).

``run_local`` wires ``toonzoo try`` instead: the model, its engine and the store around the canvas's
local server (``bot.webapp.local``), with no Telegram at all.
"""

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import webbrowser
from functools import partial

from telegram import BotCommand, MenuButtonWebApp, Message, Update, WebAppInfo
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from classifier.prompts import DEFAULT_LABELS
from classifier.remote import Classifier, create_engine, open_classifier

from . import game_handlers, handlers, replies, teach_handlers
from .budget import Budgets
from .classifying import prepare
from .config import Settings
from .context import CONTEXT_TYPES, job_queue_of
from .game import GameRules
from .game_service import GameService
from .i18n import DEFAULT_LANGUAGE, ENGLISH, LANGUAGES, get_translator
from .outbox import Outbox
from .packs import Pack, find_pack
from .replies import COMMANDS
from .sending import build_bot
from .services import ClassifierEngine, Services
from .store import Store
from .webapp.local import KEY_BYTES, LocalCanvas, LocalServer, is_loopback, page_url, typed_labels
from .webapp.local_race import race_rules
from .webapp.server import WebAppServer

logger = logging.getLogger(__name__)

PICTURES = (filters.PHOTO | filters.Sticker.ALL | filters.ANIMATION | filters.Document.ALL) & ~filters.COMMAND
# Pictures the drawing game may claim: new messages in groups (not edits).
GAME_PICTURES = PICTURES & filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
# Anything else people send in a private chat gets a hint (replies.NOT_A_PICTURE_TEXT).
OTHER_MEDIA = (
    filters.VOICE
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.AUDIO
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.POLL
    | filters.Dice.ALL
    | filters.STORY
)
NEW_PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
TYPED_LABELS = filters.REPLY & filters.TEXT & ~filters.COMMAND & filters.UpdateType.MESSAGE
GAME_HANDLER_GROUP = -1  # before the usual handlers, so a round's pictures get judged, not guessed
BOOTSTRAP_RETRIES = 3  # setting up polling or the webhook, once Telegram answered getMe


class _InAlbum(filters.MessageFilter):
    """Messages that belong to an album (a media group)."""

    def filter(self, message: Message) -> bool:
        return message.media_group_id is not None


ALBUM_ITEMS = _InAlbum(name="in_album") & filters.UpdateType.MESSAGE

JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True}


def build_application(
    settings: Settings,
    classifier: Classifier | None = None,
    *,
    engine: ClassifierEngine | None = None,
    game_rules: GameRules | None = None,
    budgets: Budgets | None = None,
) -> Application:
    """The bot, ready for ``run_polling``/``run_webhook`` (or ``async with`` in tests).

    Without ``classifier`` the model named in ``settings`` is loaded in ``post_init``.
    An ``engine`` (anything with the ``Engine`` interface, ``bot.services.ClassifierEngine``)
    is used as it is, instead of an ``Engine`` around the classifier; the application
    starts and closes it.
    ``game_rules`` sets the drawing game's limits and timings (tests: short rounds);
    ``budgets`` the groups' sending limit (tests: shorter windows, ``Budgets(20, 6.0)``).
    """
    budgets = budgets or Budgets()
    application = (
        Application.builder()
        .bot(build_bot(settings, budgets))  # texts fitted to Telegram's limits; groups within budget
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(True)
        .post_init(
            partial(
                _post_init,
                settings=settings,
                classifier=classifier,
                engine=engine,
                game_rules=game_rules or GameRules(),
                budgets=budgets,
            )
        )
        .post_shutdown(_post_shutdown)
        .build()
    )
    job_queue = job_queue_of(application)
    # APScheduler drops a job that starts more than a second late (its default misfire grace time): on a busy
    # machine a round's end, a paced reply or a retry would be lost for good. Late, every job still runs, once.
    job_queue.scheduler.configure(job_defaults=JOB_DEFAULTS, **job_queue.scheduler_configuration)

    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, handlers.chat_migrated))
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler("help", handlers.help_command))
    application.add_handler(CommandHandler("labels", handlers.labels_command))
    application.add_handler(CommandHandler("guess", handlers.guess_command))
    application.add_handler(CommandHandler("forget", handlers.forget_command))
    application.add_handler(CallbackQueryHandler(handlers.forget_button, pattern=r"^forget:"))
    application.add_handler(CallbackQueryHandler(teach_handlers.teach_button, pattern=r"^teach:"))
    application.add_handler(CallbackQueryHandler(handlers.stray_button))  # last: every press gets an answer
    application.add_handler(CommandHandler("game", game_handlers.game_command))
    application.add_handler(CommandHandler("play", game_handlers.play_command))
    application.add_handler(CommandHandler("stop", game_handlers.stop_command))
    application.add_handler(CommandHandler("score", game_handlers.score_command))
    application.add_handler(CommandHandler("draw", handlers.draw_command))
    application.add_handler(CommandHandler("language", handlers.language_command))
    application.add_handler(MessageHandler(GAME_PICTURES, game_handlers.game_picture), group=GAME_HANDLER_GROUP)
    # A reply naming what a guessed picture shows ("Other…"): before the usual text handlers.
    application.add_handler(MessageHandler(TYPED_LABELS, teach_handlers.typed_label), group=GAME_HANDLER_GROUP)
    application.add_handler(MessageHandler(ALBUM_ITEMS, handlers.album_message))
    application.add_handler(MessageHandler(PICTURES, handlers.picture))
    application.add_handler(MessageHandler(NEW_PRIVATE & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    application.add_handler(MessageHandler(NEW_PRIVATE & OTHER_MEDIA, handlers.private_other))
    application.add_handler(InlineQueryHandler(handlers.card_query))  # @bot in any chat: the user's race card
    application.add_handler(ChatMemberHandler(handlers.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(filters.StatusUpdate.NEW_CHAT_MEMBERS, handlers.new_chat_members))
    # Last in its group: only commands no CommandHandler above took.
    application.add_handler(MessageHandler(NEW_PRIVATE & filters.COMMAND, handlers.unknown_command))
    application.add_error_handler(handlers.on_error)
    return application


async def _post_init(
    application: Application,
    *,
    settings: Settings,
    classifier: Classifier | None,
    engine: ClassifierEngine | None,
    game_rules: GameRules,
    budgets: Budgets,
) -> None:
    store = Store(settings.db_path)
    try:
        store.migrate()
        if engine is None:
            # In this process, or the shared service at TOONZOO_ENGINE_URL (classifier.remote).
            engine = create_engine(await _load_classifier(settings, classifier), **settings.engine_options)
        await engine.start()
    except BaseException:
        store.close()
        raise
    job_queue = job_queue_of(application)
    outbox = Outbox(budgets, application.bot, job_queue)
    services = Services(settings=settings, store=store, engine=engine, rules=game_rules, budgets=budgets, outbox=outbox)
    games = GameService(services, application.bot, job_queue)
    services.followers.append(games)
    application.bot_data.services, application.bot_data.games = services, games
    await engine.prepare_labels(list(DEFAULT_LABELS), DEFAULT_LANGUAGE)
    await _set_commands(application)
    if settings.webapp_url:
        await _start_canvas(application, services, games)
    await games.resume()
    logger.info("ready as @%s", application.bot.username)


async def _set_commands(application: Application) -> None:
    """The command menu in every language we speak: English by default, the others by ``language_code``."""
    for language in LANGUAGES:
        t = get_translator(language)
        commands = [BotCommand(name, description(t)) for name, description in COMMANDS]
        code = None if language == DEFAULT_LANGUAGE else language
        await application.bot.set_my_commands(commands, language_code=code)


async def _start_canvas(application: Application, services: Services, games: GameService) -> None:
    """Serve the drawing canvas; private chats get a "🎨 Draw" menu button, groups' rounds a link."""
    server = WebAppServer(services, games, application.bot)
    await server.start()
    services.webapp = server
    services.followers.append(server)
    if server.page_url.startswith("https://"):  # Telegram opens only https Mini Apps
        button = MenuButtonWebApp(replies.DRAW_BUTTON(ENGLISH), WebAppInfo(server.page_url))  # one for all chats
        await application.bot.set_chat_menu_button(menu_button=button)


async def _load_classifier(settings: Settings, classifier: Classifier | None) -> Classifier:
    """The given classifier, or the one ``settings`` name (loaded, or connected to, off the event loop)."""
    if classifier is None:
        classifier = await asyncio.to_thread(open_classifier, **_classifier_options(settings))
    logger.info("classifier: %s", classifier.identity)
    return classifier


def _classifier_options(settings: Settings) -> dict:
    """``open_classifier``'s arguments: the model, and the engine service when ``TOONZOO_ENGINE_URL`` is set."""
    return {
        "model": settings.model,
        "pretrained": settings.pretrained,
        "device": settings.device,
        "precision": settings.precision,
        "db_path": settings.db_path,
        "engine_url": settings.engine_url,
        "engine_secret": settings.engine_secret,
    }


async def _post_shutdown(application: Application) -> None:
    services = application.bot_data.services
    if services is None:
        return  # post_init failed before the services were complete (it closed what it had opened)
    application.bot_data.services = application.bot_data.games = None
    if isinstance(services.webapp, WebAppServer):
        await services.webapp.stop()
    await services.engine.close()
    services.store.close()


def run(settings: Settings) -> None:
    """Serve until interrupted: long polling, or a webhook when configured.

    The model (and the database) load before the first Bot API call, so missing
    weights fail fast with their own message. The first call, ``getMe``, is made
    once, without retries: ``InvalidToken`` or ``NetworkError`` reach the caller
    and no library logs a traceback. Later network failures are retried
    (``BOOTSTRAP_RETRIES`` while polling starts, then without end while polling).
    """
    classifier = open_classifier(**_classifier_options(settings))  # or the engine service: one line if it is down
    application = build_application(settings, classifier)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # run_polling/run_webhook go on in this loop
    try:
        loop.run_until_complete(application.initialize())  # getMe; run_* will not repeat it
    except BaseException:
        loop.close()
        raise
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
            bootstrap_retries=BOOTSTRAP_RETRIES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=BOOTSTRAP_RETRIES)


def run_local(
    model: str,
    pretrained: str | None,
    *,
    device: str,
    precision: str,
    db_path: str,
    host: str,
    port: int,
    labels: str | None = None,
    pack: str | None = None,
    rounds: int = GameRules.solo_rounds,
    seconds: int = GameRules.solo_seconds,
    open_browser: bool = True,
    engine_url: str | None = None,
    engine_secret: str | None = None,
) -> None:
    """``toonzoo try``: the canvas on this computer, no Telegram (``bot.webapp.local``), until interrupted.

    The model loads first, so missing weights fail at once with their own message (a ``UserError``);
    ``labels`` (typed as ``/labels`` takes them) or ``pack`` become the local chat's labels, kept in
    ``db_path``. The solo race plays ``rounds`` drawings of ``seconds`` each. A taken port raises ``OSError``.
    With ``engine_url`` the pictures are embedded by that engine service (``toonzoo serve``), as ``run`` does.
    """
    chosen = typed_labels(labels) if labels is not None else None  # a bad list fails before the model loads
    classifier = open_classifier(
        model,
        pretrained,
        device=device,
        precision=precision,
        db_path=db_path,
        engine_url=engine_url,
        engine_secret=engine_secret,
    )
    store = Store(db_path)
    try:
        store.migrate()
        rules = race_rules(rounds, seconds)
        asyncio.run(
            _serve_locally(
                create_engine(classifier), store, host, port, chosen, find_pack(pack or ""), rules, open_browser
            )
        )
    finally:
        store.close()


async def _serve_locally(
    engine: ClassifierEngine,
    store: Store,
    host: str,
    port: int,
    labels: list[str] | None,
    pack: Pack | None,
    rules: GameRules,
    open_browser: bool,
) -> None:
    key = None if is_loopback(host) else secrets.token_urlsafe(KEY_BYTES)  # off loopback: a key for each start
    canvas = LocalCanvas(store, engine, key, rules=rules)
    if labels is not None or pack is not None:
        canvas.set_labels(labels, pack)
    server = LocalServer(canvas, host, port)
    await engine.start()
    try:
        await prepare(canvas, canvas.chat())
        await server.start()
        try:
            url = page_url(host, server.port or port, key, socket.gethostname())
            print(f"toonzoo try: the canvas is at {url} (Ctrl+C stops it)", flush=True)
            if key is not None:
                print(f"toonzoo try: listening on {host}, not only this computer: its access key is {key}", flush=True)
            if open_browser and not await asyncio.to_thread(webbrowser.open, url):
                print("toonzoo try: no browser found here: open the address above in one", flush=True)
            stopped = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError):  # no signal handlers in this event loop (Windows)
                    loop.add_signal_handler(signum, stopped.set)
            await stopped.wait()
        finally:
            await server.stop()
    finally:
        await engine.close()
