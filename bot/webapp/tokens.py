"""Signed ``start_param`` tokens: which group (and game round) a canvas opened from a link belongs to (pure).

In groups the canvas opens from a direct link, ``https://t.me/<bot>/<app>?startapp=<token>``,
and Telegram hands the token back in the signed init data. The token is ours:
a version byte, the chat id, the game's id and the round's number (0 when
none), and a truncated HMAC-SHA256 under a key derived from the bot token, in
URL-safe base64 (44 characters of ``A-Za-z0-9_-``; Telegram allows 512). Anyone can
read it; nobody without the token can make one for another chat or round.
"""

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass

VERSION = 1
_LAYOUT = struct.Struct(">BqII")  # version, chat id, game id, round number
_MAC_BYTES = 16
_KEY_LABEL = b"toonzoo start_param"


class TokenError(Exception):
    """The start_param is not a token this bot issued."""


@dataclass(frozen=True)
class CanvasTarget:
    """Where a drawing goes: a chat, and in a game that game (one link serves all its rounds).

    ``round_number`` is only read from links issued before the race (a link per round);
    the server says which round is open."""

    chat_id: int
    game_id: int | None = None
    round_number: int | None = None

    @property
    def in_game(self) -> bool:
        return self.game_id is not None


def derive_key(bot_token: str) -> bytes:
    """The tokens' signing key: ``HMAC_SHA256(key="toonzoo start_param", msg=bot_token)``."""
    return hmac.new(_KEY_LABEL, bot_token.encode(), hashlib.sha256).digest()


def issue_token(key: bytes, target: CanvasTarget) -> str:
    """The start_param for ``target``."""
    body = _LAYOUT.pack(VERSION, target.chat_id, target.game_id or 0, target.round_number or 0)
    mac = hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def read_token(key: bytes, token: str) -> CanvasTarget:
    """The target a token names, or ``TokenError`` when it is not one we issued."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("not base64") from None
    if len(raw) != _LAYOUT.size + _MAC_BYTES:
        raise TokenError("wrong length")
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest()[:_MAC_BYTES], mac):
        raise TokenError("wrong signature")
    version, chat_id, game_id, round_number = _LAYOUT.unpack(body)
    if version != VERSION:
        raise TokenError("unknown version")
    if game_id:
        return CanvasTarget(chat_id, game_id, round_number or None)
    return CanvasTarget(chat_id)
