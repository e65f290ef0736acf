"""The canvas's HTTP side (aiohttp): ``GET /draw`` and the API the page calls.

Every API call carries Telegram's signed init data as ``Authorization: tma
<initData>`` (``bot.webapp.initdata``); the user comes only from it. The chat
is the user's private chat, or the group named by a ``start_param`` token the
bot issued (``bot.webapp.tokens``), whose member the user must still be
(``getChatMember``, remembered for ``MEMBER_CHECK_S``).

- ``POST /api/guess``: body, a PNG, WebP or JPEG of at most 1 MB →
  ``200 {"guesses": [{"label": …, "score": …}, …]}`` (top 3 over the chat's labels).
- ``GET /api/texts``: ``200 {"language": …, "texts": {…}}``, the page's words in the
  language of the canvas's chat (``bot.webapp.texts``).
- ``POST /api/play``: no body; in the user's private chat with no game running, starts ``/play``'s
  solo race (announced in the chat) → ``200`` the race as ``GET /api/round`` shows it.
- ``POST /api/send``: the final drawing → posted into the chat (in a game
  round, judged as the player's picture) → ``200 {"sent": true}``.
- ``POST /api/share``: the user's last solo race card, prepared for
  ``Telegram.WebApp.shareMessage`` (``bot.cards``) → ``200 {"id": …}``; 404 when
  they have no card yet.

Refusals are JSON ``{"error": "…"}`` with: 401 init data missing, malformed,
forged or stale; 403 a start_param we didn't issue, or no longer a member, or a solo race asked for
from a group's link; 404 no race card to share; 409 the token's game round is over, or a game is
already running (``/api/play``); 413 body over 1 MB; 415 not a PNG, WebP or JPEG (or undecodable);
413 also a picture larger than 512 px a side, read from its header before any decoding; 429 too many
requests for this user, a second picture while one of theirs is still being looked at, or the game's
cooldown (``Retry-After``); 502 Telegram refused the photo, the card, or a solo race's announcement;
503 the engine is busy or closed (``Retry-After``).
"""

import logging
import math
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

from aiohttp import web
from telegram.error import TelegramError

from classifier.errors import EngineBusy, ImageError, ImageTooManyPixels, UserError
from classifier.images import read_size

from ..cards import prepare_card
from ..classifying import Refused as NotSeen
from ..i18n import Translator
from ..replies import error_text
from .drawings import (
    Backend,
    Drawer,
    SendRefusal,
    SoloRefusal,
    guess_drawing,
    is_member,
    live_guess,
    round_of,
    send_drawing,
    start_solo,
)
from .initdata import InitDataError, init_data_from_header, validate_init_data
from .limits import MAX_SIDE, OneAtATime, RateLimiter, oversized
from .rounds import TOP_SHOWN, round_json
from .texts import page_texts
from .tokens import CanvasTarget, TokenError, read_token

logger = logging.getLogger(__name__)
T = TypeVar("T")

MAX_IMAGE_BYTES = 1024 * 1024
GUESS_RATE_PER_S, GUESS_BURST = 3.0, 6  # the page asks at most about twice a second
SEND_RATE_PER_S, SEND_BURST = 0.5, 3  # a finished drawing every 2 s, three at once (the game cooldown is 5 s)
POLL_RATE_PER_S, POLL_BURST = 3.0, 6  # the page asks how the game stands about once a second
SHARE_RATE_PER_S, SHARE_BURST = 0.2, 3  # a card prepared every 5 s (each is a call to Telegram), three at once
PLAY_RATE_PER_S, PLAY_BURST = 0.2, 2  # a solo race started from the page every 5 s, two at once
MEMBER_CHECK_S = 60.0  # a confirmed group membership is trusted this long
BUSY_RETRY_S = 1
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"))
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline' https://telegram.org; style-src 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
}


@dataclass
class Canvas:
    """The web side's state: the bot it serves, its keys, and per-user pacing."""

    backend: Backend
    bot_token: str = field(repr=False)
    token_key: bytes = field(repr=False)
    clock: Callable[[], float] = time.time
    guesses: RateLimiter = field(default_factory=lambda: RateLimiter(GUESS_RATE_PER_S, GUESS_BURST))
    sends: RateLimiter = field(default_factory=lambda: RateLimiter(SEND_RATE_PER_S, SEND_BURST))
    polls: RateLimiter = field(default_factory=lambda: RateLimiter(POLL_RATE_PER_S, POLL_BURST))
    shares: RateLimiter = field(default_factory=lambda: RateLimiter(SHARE_RATE_PER_S, SHARE_BURST))
    plays: RateLimiter = field(default_factory=lambda: RateLimiter(PLAY_RATE_PER_S, PLAY_BURST))
    members: dict[tuple[int, int], float] = field(default_factory=dict)  # (chat, user) -> confirmed at
    working: OneAtATime = field(default_factory=OneAtATime)  # users with a picture being looked at


CANVAS = web.AppKey("canvas", Canvas)


class Refused(Exception):
    """An API call refused with ``status`` and a one-line reason for the page."""

    def __init__(self, status: int, message: str, retry_after_s: float | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s


def build_web_app(canvas: Canvas) -> web.Application:
    """The aiohttp application: the page and the API."""
    app = web.Application(client_max_size=MAX_IMAGE_BYTES, middlewares=[_refusals])
    app[CANVAS] = canvas
    app.router.add_get("/draw", draw_page)
    app.router.add_get("/api/texts", texts)
    app.router.add_get("/api/round", round_state)
    app.router.add_post("/api/guess", guess)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/share", share)
    app.router.add_post("/api/play", play)
    return app


def load_page() -> bytes:
    """The page, shipped as package data."""
    return resources.files(__package__).joinpath("static/draw.html").read_bytes()


async def draw_page(request: web.Request) -> web.Response:
    """GET /draw: the canvas page."""
    return web.Response(body=load_page(), content_type="text/html", charset="utf-8", headers=PAGE_HEADERS)


async def guess(request: web.Request) -> web.Response:
    """POST /api/guess: live guesses for the canvas as it is now."""
    canvas = request.app[CANVAS]
    drawer = await _drawer(request, canvas)
    _pace(canvas.guesses, drawer, canvas.clock())
    data = await read_image(request)
    t = _translator(canvas, drawer)  # default animals named in the page's language
    live = await _held(canvas, live_guess(canvas.backend, drawer, data), drawer)
    seen = live.seen if live is not None else await _held(canvas, guess_drawing(canvas.backend, drawer, data), drawer)
    if isinstance(seen, NotSeen):
        raise _refusal(seen, drawer)
    top = sorted(seen.guesses, key=lambda g: g.score, reverse=True)[:TOP_SHOWN]
    answer: dict[str, Any] = {"guesses": [{"label": t.label(g.label), "score": round(float(g.score), 4)} for g in top]}
    if live is not None:
        answer |= {"won": live.won, "round": round_json(live.view, t, solo=drawer.chat_id > 0)}
    return web.json_response(answer)


async def round_state(request: web.Request) -> web.Response:
    """GET /api/round: the game the canvas was opened for, as it stands (``bot.webapp.rounds``)."""
    canvas = request.app[CANVAS]
    drawer = await _drawer(request, canvas)
    _pace(canvas.polls, drawer, canvas.clock())
    view = round_of(canvas.backend, drawer)
    return web.json_response(round_json(view, _translator(canvas, drawer), solo=drawer.chat_id > 0))


async def play(request: web.Request) -> web.Response:
    """POST /api/play: the page's Play solo button: a solo race in the user's private chat (``start_solo``)."""
    canvas = request.app[CANVAS]
    drawer = await _drawer(request, canvas)
    _pace(canvas.plays, drawer, canvas.clock())
    try:
        started = await start_solo(canvas.backend, drawer)
    except UserError as exc:
        logger.info("chat %s: solo race from the canvas refused: %s", drawer.chat_id, exc)
        raise Refused(409, error_text(_translator(canvas, drawer), exc)) from None
    except TelegramError as exc:
        logger.warning("chat %s: couldn't start a solo race from the canvas: %s", drawer.chat_id, exc)
        raise Refused(502, "Telegram didn't take the race's start. Try again in a moment.") from None
    if started is SoloRefusal.NOT_PRIVATE:
        logger.info("chat %s: solo race asked for by %s from a group's link", drawer.chat_id, drawer.user_id)
        raise Refused(403, "Solo races are played in the private chat with the bot: open the canvas there.")
    if started is SoloRefusal.RUNNING:
        raise Refused(409, "A game is already running in this chat.")
    if started is SoloRefusal.UNDELIVERED:
        raise Refused(502, "I couldn't write to you: open the chat with the bot, press Start, and try again.")
    return web.json_response(round_json(started, _translator(canvas, drawer), solo=True))


async def texts(request: web.Request) -> web.Response:
    """GET /api/texts: the page's words in its chat's language."""
    canvas = request.app[CANVAS]
    t = _translator(canvas, await _drawer(request, canvas))
    return web.json_response({"language": t.language, "texts": page_texts(t)})


def _translator(canvas: Canvas, drawer: Drawer) -> Translator:
    """The canvas chat's language (/language), else the drawer's own Telegram one."""
    return canvas.backend.services.translator(drawer.chat_id, drawer.language_code)


async def send(request: web.Request) -> web.Response:
    """POST /api/send: post the finished drawing into its chat (judged, in a game round)."""
    canvas = request.app[CANVAS]
    drawer = await _drawer(request, canvas)
    _pace(canvas.sends, drawer, canvas.clock())
    data = await read_image(request)
    try:
        sent = await _held(canvas, send_drawing(canvas.backend, drawer, data), drawer)
    except TelegramError as exc:
        logger.warning("chat %s: couldn't post a canvas drawing: %s", drawer.chat_id, exc)
        raise Refused(502, "Telegram didn't take the drawing. Try again in a moment.") from None
    if sent.error is not None:
        raise _refusal(sent.error, drawer)
    if sent.refused is SendRefusal.NO_ROUND:
        raise Refused(409, "That round is over: open 🎨 Draw here under the new round.")
    if sent.refused is SendRefusal.COOLDOWN:
        raise Refused(429, "Wait a moment before your next drawing counts.", sent.retry_after_s)
    return web.json_response({"sent": True, "in_game": drawer.target.in_game})


async def share(request: web.Request) -> web.Response:
    """POST /api/share: the user's last solo race card, prepared for ``Telegram.WebApp.shareMessage``."""
    canvas = request.app[CANVAS]
    drawer = await _drawer(request, canvas)  # the card is the signed user's, whichever chat the page is for
    _pace(canvas.shares, drawer, canvas.clock())
    backend = canvas.backend
    try:
        prepared = await prepare_card(
            backend.services, backend.games, backend.bot, drawer.user_id, drawer.language_code
        )
    except TelegramError as exc:
        logger.warning("chat %s: couldn't prepare the race card: %s", drawer.user_id, exc)
        raise Refused(502, "Telegram didn't take the card. Try again in a moment.") from None
    if prepared is None:
        logger.info("chat %s: nothing to share: no race card", drawer.user_id)
        raise Refused(404, "No race card to share yet: finish a race with /play first.")
    return web.json_response({"id": prepared})


@web.middleware
async def _refusals(request: web.Request, handler) -> web.StreamResponse:
    """Refusals as JSON, with ``Retry-After`` where there is one."""
    try:
        return await handler(request)
    except Refused as refused:
        headers = {}
        if refused.retry_after_s is not None:
            headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after_s)))
        return web.json_response({"error": refused.message}, status=refused.status, headers=headers)


async def _drawer(request: web.Request, canvas: Canvas) -> Drawer:
    """Who is drawing, and for which chat: from the checked init data only."""
    try:
        raw = init_data_from_header(request.headers.get("Authorization"))
        init = validate_init_data(raw, canvas.bot_token, canvas.clock())
    except InitDataError as exc:
        logger.info("canvas: init data refused from %s: %s", request.remote, exc)
        raise Refused(401, "Open the canvas from Telegram again.") from None
    if init.start_param is None:
        return Drawer(init.user_id, init.first_name, CanvasTarget(init.user_id), init.language_code)
    try:
        target = read_token(canvas.token_key, init.start_param)
    except TokenError as exc:
        logger.info("canvas: start_param from user %s refused: %s", init.user_id, exc)
        raise Refused(403, "This canvas link is not one of mine.") from None
    drawer = Drawer(init.user_id, init.first_name, target, init.language_code)
    await _check_member(canvas, drawer)
    return drawer


async def _check_member(canvas: Canvas, drawer: Drawer) -> None:
    """The drawer must (still) be in the group the link belongs to."""
    key, now = (drawer.chat_id, drawer.user_id), canvas.clock()
    if now - canvas.members.get(key, -math.inf) < MEMBER_CHECK_S:
        return
    try:
        member = await is_member(canvas.backend.bot, drawer.chat_id, drawer.user_id)
    except TelegramError as exc:
        logger.info("canvas: membership of %s in %s unknown: %s", drawer.user_id, drawer.chat_id, exc)
        member = False
    if not member:
        canvas.members.pop(key, None)
        raise Refused(403, "Only members of that group can draw for it.")
    canvas.members[key] = now
    if len(canvas.members) > 10_000:
        canvas.members = {k: t for k, t in canvas.members.items() if now - t < MEMBER_CHECK_S}


def _pace(limiter: RateLimiter, drawer: Drawer, now: float) -> None:
    wait = limiter.check(drawer.user_id, now)
    if wait > 0:
        raise Refused(429, "Slow down a little.", wait)


async def read_image(request: web.Request) -> bytes:
    """The body: a PNG, WebP or JPEG of at most ``MAX_IMAGE_BYTES``."""
    if request.content_length is not None and request.content_length > MAX_IMAGE_BYTES:
        raise Refused(413, "The drawing is larger than 1 MB.")
    try:
        data = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Refused(413, "The drawing is larger than 1 MB.") from None
    if image_kind(data) is None:
        raise Refused(415, "Send a PNG, WebP or JPEG image.")
    try:
        size = read_size(data, formats=("PNG", "JPEG", "WEBP"))  # the header only: no pixel decoded yet
    except ImageTooManyPixels:
        size = (MAX_SIDE + 1, MAX_SIDE + 1)
    except ImageError:
        raise Refused(415, "That image's header can't be read: send a PNG, WebP or JPEG image.") from None
    if oversized(size):
        raise Refused(413, f"The drawing is larger than {MAX_SIDE}×{MAX_SIDE} pixels: the canvas sends at most that.")
    return data


def image_kind(data: bytes) -> str | None:
    """ "png", "jpeg" or "webp" from the first bytes; None for anything else."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _refusal(not_seen: NotSeen, drawer: Drawer) -> Refused:
    """The classifier's refusal of a canvas picture, for the page."""
    error = not_seen.error
    if isinstance(error, ImageError):
        logger.info("chat %s: canvas image refused: %s", drawer.chat_id, error)
        return Refused(415, error.user_message)
    if isinstance(error, EngineBusy):
        return Refused(503, "I'm busy: trying again in a moment.", BUSY_RETRY_S)
    logger.warning("chat %s: canvas: %s", drawer.chat_id, not_seen.reason.value)
    return Refused(503, error.user_message if error is not None else not_seen.text, BUSY_RETRY_S)


async def _held(canvas: Canvas, work: Coroutine[Any, Any, T], drawer: Drawer) -> T:
    """Await work that classifies, one picture per user at a time (another one meanwhile: 429)."""
    if canvas.working.busy(drawer.user_id):
        work.close()
        raise Refused(429, "One drawing at a time: the last one is still being looked at.", BUSY_RETRY_S)
    with canvas.working.hold(drawer.user_id):
        return await work
