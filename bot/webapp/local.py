"""``toonzoo try``: the canvas page and its API on this computer, with no Telegram and no bot token.

The page is the canvas's own (``static/draw.html``) in its local mode: served at
``/`` without Telegram's script, it speaks the browser's language (the request's
``Accept-Language``), guesses live while one draws, guesses a picture dropped on
it or chosen, and sets the labels (typed, or a word pack). Its API keeps the
canvas's paths where they mean the same (``POST /api/guess``: the picture as the
body → ``{"guesses": …}``; ``GET /api/texts``; the solo race's ``POST /api/play``
and ``GET /api/round``) and adds ``GET``/``POST /api/labels``. Pictures go through the one classifying seam
(``bot.classifying.classify_for_chat``) for one local chat, ``LOCAL_CHAT_ID``,
whose labels and taught pictures live in the same SQLite file as the bot's and
``classify``'s (``--db``).

Access: on a loopback address nothing is asked, but the request's ``Host`` must
be a loopback name (a web page elsewhere cannot reach the server by pointing a
name of its own at 127.0.0.1) and a request sent from another page's origin is
refused. Off loopback (``--host``), every request must carry the access key
printed at start (``?key=…`` in the page's URL; the page sends it as
``Authorization: Key …``): otherwise 403.

The checks are plain functions (``is_loopback``, ``key_matches``, ``access_refusal`` …);
The solo race (``LocalRace``, ``bot.webapp.local_race``) is the bot's game rules with the server's clock:
``POST /api/play`` starts it over the local chat's labels, ``GET /api/round`` says how it stands
(``bot.webapp.rounds.round_json``, as in Telegram, plus the personal best at its end), and while a round is
open ``POST /api/guess`` judges each live guess: ``{"guesses", "won", "round"}``.
``LocalServer`` runs the aiohttp application; ``bot.app.run_local`` wires it to a model.
"""

import hmac
import ipaddress
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from aiohttp import web

from classifier.errors import EngineBusy, ImageError

from ..classifying import Refused as NotSeen
from ..classifying import classify_for_chat, prepare
from ..game import GameError, GameRules
from ..i18n import ENGLISH, Translator, language_from_tag
from ..labels import LabelsError, parse_labels
from ..packs import PACKS, Pack, find_pack, pack_words
from ..services import ChatView, ClassifierEngine, read_chat, taught_cache
from ..store import Store
from .limits import MAX_HEADER_FIELD_BYTES, MAX_HEADERS, OneAtATime, RateLimiter
from .local_race import PLAYER_NAME, LocalRace, SoloBest, race_rules
from .rounds import TOP_SHOWN, round_json
from .routes import (
    BUSY_RETRY_S,
    GUESS_BURST,
    GUESS_RATE_PER_S,
    MAX_IMAGE_BYTES,
    PLAY_BURST,
    PLAY_RATE_PER_S,
    POLL_BURST,
    POLL_RATE_PER_S,
    Refused,
    load_page,
    read_image,
)
from .texts import page_texts

if TYPE_CHECKING:
    from ..services import Examples  # classifier.few_shot's, which loads torch: the engine builds them

logger = logging.getLogger(__name__)

LOCAL_CHAT_ID = 0  # never a Telegram chat's id: the local chat's rows sit beside the bot's chats in one file
KEY_BYTES = 24  # secrets.token_urlsafe(KEY_BYTES): 32 characters, 192 random bits
KEY_SCHEME = "Key"  # Authorization: Key <access key>
LOCAL_PACKS: tuple[Pack, ...] = tuple(pack for pack in PACKS if pack is not Pack.CHAT)  # the chat's own: its labels
TELEGRAM_SCRIPT = b'<script src="https://telegram.org/js/telegram-web-app.js"></script>'
PAGE_ROOT = b'<html lang="en">'
LOCAL_ROOT = b'<html lang="en" data-mode="local">'
LOCAL_PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the page's URL may hold the access key
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'"
    ),
}
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})
_UNSPECIFIED = frozenset({"0.0.0.0", "::", ""})


# -- the checks (pure) ------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, IPv6 with or without brackets) is this computer's loopback."""
    name = host.strip().strip("[]").lower()
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_of(host_header: str | None) -> str:
    """The host of a ``Host`` header, without its port: ``"[::1]:8765"`` → ``"::1"``."""
    if not host_header:
        return ""
    try:
        return urlsplit(f"//{host_header.strip()}").hostname or ""
    except ValueError:
        return ""


def key_matches(given: str | None, expected: str) -> bool:
    """Whether ``given`` is the access key, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode())


def key_from(authorization: str | None, query_key: str | None) -> str | None:
    """The access key a request carries: ``Authorization: Key …`` (the page's API calls), else ``?key=``."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == KEY_SCHEME.lower() and value.strip():
        return value.strip()
    return query_key


def same_origin(origin: str | None, host_header: str | None) -> bool:
    """Whether a request's ``Origin`` (sent by browsers with every POST) is the server's own; no Origin: yes."""
    if origin is None:
        return True
    try:
        return urlsplit(origin).netloc.lower() == (host_header or "").strip().lower()
    except ValueError:
        return False


def access_refusal(
    key: str | None, *, given_key: str | None, host_header: str | None, origin: str | None
) -> str | None:
    """Why a request is refused (403), or None to let it in.

    ``key`` None: the server listens on loopback only; the request must name a loopback host (no DNS
    rebinding). A ``key``: the request must carry it. Either way a browser's request from another origin
    is refused.
    """
    if not same_origin(origin, host_header):
        return "This canvas answers only its own page."
    if key is None:
        if not is_loopback(host_of(host_header)):
            return "This canvas answers only at a loopback address, such as 127.0.0.1."
        return None
    if not key_matches(given_key, key):
        return "This canvas needs its access key: open the address toonzoo try printed."
    return None


def page_url(host: str, port: int, key: str | None, hostname: str = "localhost") -> str:
    """The page's address as printed: ``hostname`` stands for an unspecified host (``0.0.0.0``)."""
    shown = hostname if host.strip("[]") in _UNSPECIFIED else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"  # an IPv6 address
    return f"http://{shown}:{port}/" + (f"?key={quote(key, safe='')}" if key is not None else "")


def local_page(page: bytes) -> bytes:
    """The canvas page in its local mode: without Telegram's script, marked ``data-mode="local"``."""
    if TELEGRAM_SCRIPT not in page or PAGE_ROOT not in page:
        raise ValueError("the canvas page no longer has the script tag or the root element toonzoo try replaces")
    return page.replace(TELEGRAM_SCRIPT, b"", 1).replace(PAGE_ROOT, LOCAL_ROOT, 1)


def language_of(accept_language: str | None) -> str | None:
    """The first language we speak among an ``Accept-Language`` header's, by preference ("es-ES,es;q=0.9")."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        language = language_from_tag(tag)
        if language is not None and math.isfinite(weight) and weight > 0:
            ranked.append((-weight, index, language))
    return min(ranked)[2] if ranked else None


def pack_of(labels: Sequence[str] | None) -> Pack | None:
    """The word pack a chat's own labels are (None: the defaults, the animals), or None for labels of its own."""
    chosen = tuple(labels) if labels else pack_words(Pack.ANIMALS, None)
    return next((pack for pack in LOCAL_PACKS if pack_words(pack, None) == chosen), None)


# -- the local chat ---------------------------------------------------------------------------------


@dataclass
class LocalCanvas:
    """The local canvas's state: the store and the engine it classifies with, its key (None: loopback only).

    It is what the classifying seam needs (``bot.classifying.Classifying``): the engine and taught pictures.
    ``rules``: the solo race's (``race_rules``: its rounds and seconds); ``race_clock`` is its clock.
    """

    store: Store
    engine: ClassifierEngine
    key: str | None = field(default=None, repr=False)
    clock: Callable[[], float] = time.time
    rules: GameRules = field(default_factory=lambda: race_rules(GameRules.solo_rounds, GameRules.solo_seconds))
    race_clock: Callable[[], float] = time.monotonic
    guesses: RateLimiter = field(default_factory=lambda: RateLimiter(GUESS_RATE_PER_S, GUESS_BURST))
    polls: RateLimiter = field(default_factory=lambda: RateLimiter(POLL_RATE_PER_S, POLL_BURST))
    plays: RateLimiter = field(default_factory=lambda: RateLimiter(PLAY_RATE_PER_S, PLAY_BURST))
    working: OneAtATime = field(default_factory=OneAtATime)

    def __post_init__(self) -> None:
        self.taught = taught_cache(self.store, self.engine)
        self.race = LocalRace(self.store, self.rules, clock=self.race_clock)

    def taught_examples(self, chat_id: int) -> "Examples | None":
        return self.taught.get(chat_id)

    def chat(self, language_code: str | None = None) -> ChatView:
        """The local chat, spoken to in ``language_code`` (the browser's)."""
        return read_chat(self.store, self.engine, LOCAL_CHAT_ID, language_code)

    def set_labels(self, labels: Sequence[str] | None = None, pack: Pack | None = None) -> None:
        """Store the local chat's labels: typed ones (already parsed: identities), or a pack's words."""
        if pack is Pack.ANIMALS:
            self.store.reset_labels(LOCAL_CHAT_ID)
        elif pack is not None:
            self.store.set_labels(LOCAL_CHAT_ID, list(pack_words(pack, None)))
        elif labels is not None:
            self.store.set_labels(LOCAL_CHAT_ID, list(labels))


def typed_labels(text: str, t: Translator = ENGLISH) -> list[str]:
    """Labels typed as ``/labels`` takes them (2-100, commas or new lines; ``LabelsError`` otherwise), pack
    words in ``t``'s language or English becoming their identity ("jirafa" → "giraffe")."""
    return list(dict.fromkeys(t.identity(label) for label in parse_labels(text)))


# -- the HTTP side ----------------------------------------------------------------------------------

LOCAL = web.AppKey("local", LocalCanvas)


def build_local_app(canvas: LocalCanvas) -> web.Application:
    """The aiohttp application of ``toonzoo try``: the page at ``/`` and its API."""
    app = web.Application(client_max_size=MAX_IMAGE_BYTES, middlewares=[_guard])
    app[LOCAL] = canvas
    app.router.add_get("/", page)
    app.router.add_get("/api/texts", texts)
    app.router.add_post("/api/guess", guess)
    app.router.add_get("/api/labels", labels)
    app.router.add_post("/api/labels", change_labels)
    app.router.add_get("/api/round", round_state)
    app.router.add_post("/api/play", play)
    return app


@web.middleware
async def _guard(request: web.Request, handler) -> web.StreamResponse:
    """Access first (403), then refusals as JSON, with ``Retry-After`` where there is one."""
    canvas = request.app[LOCAL]
    refusal = access_refusal(
        canvas.key,
        given_key=key_from(request.headers.get("Authorization"), request.query.get("key")),
        host_header=request.headers.get("Host"),
        origin=request.headers.get("Origin"),
    )
    if refusal is not None:
        logger.info("try: refused %s %s from %s: %s", request.method, request.path, request.remote, refusal)
        if request.path.startswith("/api/"):
            return web.json_response({"error": refusal}, status=403)
        return web.Response(text=refusal + "\n", status=403)
    try:
        return await handler(request)
    except Refused as refused:
        headers = {}
        if refused.retry_after_s is not None:
            headers["Retry-After"] = str(max(1, math.ceil(refused.retry_after_s)))
        return web.json_response({"error": refused.message}, status=refused.status, headers=headers)


async def page(request: web.Request) -> web.Response:
    """GET /: the canvas page in its local mode."""
    return web.Response(
        body=local_page(load_page()), content_type="text/html", charset="utf-8", headers=LOCAL_PAGE_HEADERS
    )


def _chat(request: web.Request) -> ChatView:
    return request.app[LOCAL].chat(language_of(request.headers.get("Accept-Language")))


async def texts(request: web.Request) -> web.Response:
    """GET /api/texts: the page's words in the browser's language."""
    t = _chat(request).t
    return web.json_response({"language": t.language, "texts": page_texts(t)})


def _pace(limiter: RateLimiter, now: float) -> None:
    wait = limiter.check(LOCAL_CHAT_ID, now)
    if wait > 0:
        raise Refused(429, "Slow down a little.", wait)


async def guess(request: web.Request) -> web.Response:
    """POST /api/guess: the top guesses for a drawing or a picture, over the local chat's labels; during a
    race's round, over the race's words, judged at once (``{"guesses", "won", "round"}``)."""
    canvas = request.app[LOCAL]
    race = canvas.race
    _pace(canvas.guesses, canvas.clock())
    data = await read_image(request)
    arrived, number = race.clock(), race.open_round()  # a guess counts when it arrives, in the round open then
    chat = _chat(request)
    if canvas.working.busy(LOCAL_CHAT_ID):
        raise Refused(429, "One picture at a time: the last one is still being looked at.", BUSY_RETRY_S)
    with canvas.working.hold(LOCAL_CHAT_ID):
        if number is None:
            seen = await classify_for_chat(canvas, None, chat, data)
        else:
            seen = await classify_for_chat(canvas, None, chat, data, labels=race.labels, top_k=len(race.labels))
    if isinstance(seen, NotSeen):
        raise _refusal(seen)
    top = sorted(seen.guesses, key=lambda g: g.score, reverse=True)
    answer: dict[str, Any] = {
        "guesses": [{"label": chat.t.label(g.label), "score": round(float(g.score), 4)} for g in top[:TOP_SHOWN]]
    }
    if number is not None:
        won = race.judge(number, top, arrived)
        answer |= {"won": won, "round": _round_json(race, chat.t)}
    return web.json_response(answer)


def _round_json(race: LocalRace, t: Translator) -> dict[str, Any]:
    """The race as the page reads it (``round_json``, a solo race), with the personal best at its end."""
    answer = round_json(race.view(), t, solo=True)
    if race.best is not None and not race.playing:
        answer["best"] = _best_json(race.best)
    return answer


def _best_json(best: SoloBest) -> dict[str, Any]:
    return {"won": best.won, "rounds": best.rounds, "new": best.new}


async def round_state(request: web.Request) -> web.Response:
    """GET /api/round: the solo race as it stands (``{"state": "none", "solo": true}`` before the first)."""
    canvas = request.app[LOCAL]
    _pace(canvas.polls, canvas.clock())
    return web.json_response(_round_json(canvas.race, _chat(request).t))


async def play(request: web.Request) -> web.Response:
    """POST /api/play: the page's Play solo button: a race over the local chat's labels (409 while one is on)."""
    canvas = request.app[LOCAL]
    _pace(canvas.plays, canvas.clock())
    chat = _chat(request)
    try:
        started = canvas.race.start(chat.labels, PLAYER_NAME(chat.t))
    except GameError as exc:
        raise Refused(409, exc.say(chat.t)) from None
    if started is None:
        raise Refused(409, "A race is already on.")
    return web.json_response(_round_json(canvas.race, chat.t))


def _refusal(not_seen: NotSeen) -> Refused:
    """The classifier's refusal of a picture, for the page."""
    error = not_seen.error
    if isinstance(error, ImageError):
        return Refused(415, error.user_message)
    if isinstance(error, EngineBusy):
        return Refused(503, "I'm busy: trying again in a moment.", BUSY_RETRY_S)
    logger.warning("try: %s", not_seen.reason.value)
    return Refused(503, error.user_message if error is not None else not_seen.text, BUSY_RETRY_S)


def _labels_json(chat: ChatView) -> dict:
    """The local chat's labels as the page shows them, its pack (if its labels are one) and the packs."""
    chosen = pack_of(chat.labels if chat.own_labels else None)
    return {
        "labels": [chat.t.label(label) for label in chat.labels],
        "pack": chosen.value if chosen is not None else None,
        "packs": [{"name": pack.value, "count": len(pack_words(pack, None))} for pack in LOCAL_PACKS],
    }


async def labels(request: web.Request) -> web.Response:
    """GET /api/labels: the labels guessed between, and the word packs."""
    return web.json_response(_labels_json(_chat(request)))


async def change_labels(request: web.Request) -> web.Response:
    """POST /api/labels: ``{"labels": "cat, dog, fox"}`` or ``{"pack": "quickdraw"}`` → the labels now."""
    canvas = request.app[LOCAL]
    t = _chat(request).t
    try:
        body = await request.json()
    except ValueError:
        raise Refused(400, 'Send JSON: {"labels": "cat, dog"} or {"pack": "animals"}.') from None
    wanted_pack, text = (body.get("pack"), body.get("labels")) if isinstance(body, dict) else (None, None)
    if isinstance(wanted_pack, str):
        pack = find_pack(wanted_pack)
        if pack not in LOCAL_PACKS:
            raise Refused(400, "No such word pack: " + ", ".join(p.value for p in LOCAL_PACKS) + ".")
        canvas.set_labels(pack=pack)
    elif isinstance(text, str):
        try:
            canvas.set_labels(typed_labels(text, t))
        except LabelsError as exc:
            raise Refused(400, exc.say(t)) from None
    else:
        raise Refused(400, 'Send JSON: {"labels": "cat, dog"} or {"pack": "animals"}.')
    chat = _chat(request)
    logger.info("try: %d labels", len(chat.labels))
    await prepare(canvas, chat)  # encoded now, so the next guess is quick (a failure: encoded on first use)
    return web.json_response(_labels_json(chat))


class LocalServer:
    """The local canvas's aiohttp server on ``host``:``port`` (0: a free port)."""

    def __init__(self, canvas: LocalCanvas, host: str, port: int):
        self.canvas = canvas
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Bind and serve; return the port (``OSError`` when it is taken)."""
        self._runner = web.AppRunner(
            build_local_app(self.canvas),
            access_log=None,
            shutdown_timeout=2.0,
            max_field_size=MAX_HEADER_FIELD_BYTES,
            max_headers=MAX_HEADERS,
        )
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self.host, self.port).start()
        except BaseException:
            await self.stop()
            raise
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        self.canvas.race.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
