"""The canvas server's life: started in the bot's ``post_init``, in its event loop; stopped in ``post_shutdown``.

It is a separate aiohttp server from PTB's webhook server (which PTB runs
itself on ``TOONZOO_WEBHOOK_PORT``); put both behind the same TLS proxy.
"""

import logging
from collections.abc import Callable
from urllib.parse import quote

from aiohttp import web
from telegram import Bot

from ..game_service import GameService
from ..services import Services
from .drawings import Backend
from .limits import MAX_HEADER_FIELD_BYTES, MAX_HEADERS
from .routes import Canvas, build_web_app
from .tokens import CanvasTarget, derive_key, issue_token

logger = logging.getLogger(__name__)


class WebAppServer:
    """The canvas's aiohttp server on ``settings.webapp_listen``:``webapp_port`` (0: a free port)."""

    def __init__(self, services: Services, games: GameService, bot: Bot):
        self.settings = settings = services.settings
        self.canvas = Canvas(Backend(services, games, bot), settings.token, derive_key(settings.token))
        self.port: int | None = None
        # (chat_id, game_id=None, round_number=None) -> the t.me link that opens the canvas for a group
        # (and a game's round); None without TOONZOO_WEBAPP_SHORT_NAME.
        self.group_link: Callable[..., str] | None = None
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Bind and serve; return the port."""
        self._runner = web.AppRunner(
            build_web_app(self.canvas),
            access_log=None,
            shutdown_timeout=2.0,
            max_field_size=MAX_HEADER_FIELD_BYTES,
            max_headers=MAX_HEADERS,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.webapp_listen, self.settings.webapp_port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.group_link = self._group_link(self.canvas.backend.bot.username)
        logger.info("canvas served on %s:%s as %s/draw", self.settings.webapp_listen, self.port, self.page_url)
        return self.port

    def forget_chat(self, chat_id: int) -> None:
        """/forget: the chat's confirmed memberships go."""
        self.canvas.members = {key: at for key, at in self.canvas.members.items() if key[0] != chat_id}

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: links for the old id still name it; memberships are checked again."""
        self.forget_chat(old_id)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def page_url(self) -> str:
        """The public URL of the page (for web-app buttons in private chats)."""
        return f"{self.settings.webapp_url}/draw"

    def _group_link(self, bot_username: str) -> Callable[..., str] | None:
        """``link(chat_id, game_id=None, round_number=None)`` for this bot, or None without a short name."""
        short_name = self.settings.webapp_short_name
        if short_name is None:
            return None
        key = self.canvas.token_key

        def link(chat_id: int, game_id: int | None = None, round_number: int | None = None) -> str:
            token = issue_token(key, CanvasTarget(chat_id, game_id, round_number))
            return f"https://t.me/{quote(bot_username)}/{short_name}?startapp={token}"

        return link
