"""Telegram Mini App init data: check its signature, as Telegram specifies, and read the user (pure).

Telegram signs the init data it hands a Mini App with a key only the bot can
derive (https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):

1. ``secret = HMAC_SHA256(key="WebAppData", msg=bot_token)``
2. ``data_check_string``: every ``key=value`` pair but ``hash``, sorted by key, joined by ``\\n``
3. the init data is genuine when ``hex(HMAC_SHA256(key=secret, msg=data_check_string)) == hash``

and fresh when its ``auth_date`` is at most ``MAX_AGE_S`` old (and not from the future).
The page sends the raw string as ``Authorization: tma <initData>``.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

MAX_AGE_S = 3600  # an opened canvas stays usable for an hour; then it is reopened from Telegram
MAX_SKEW_S = 60  # an auth_date this far in the future still counts (clocks differ)
MAX_INIT_DATA_LENGTH = 8192
SCHEME = "tma "


class InitDataError(Exception):
    """The init data is missing, malformed, forged or stale; the message says which (for logs)."""


@dataclass(frozen=True)
class InitData:
    """What the checked init data says: who opened the canvas, when, and with which start_param."""

    user_id: int
    first_name: str
    auth_date: int
    start_param: str | None = None
    language_code: str | None = None  # the user's Telegram language (an IETF tag), when it says
    fields: Mapping[str, str] = field(default_factory=dict, repr=False)


def secret_key(bot_token: str) -> bytes:
    """``HMAC_SHA256(key="WebAppData", msg=bot_token)``."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: Mapping[str, str]) -> str:
    """Every pair but ``hash``, sorted by key, as ``key=value`` lines."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign_init_data(fields: Mapping[str, str], bot_token: str) -> str:
    """The init data string Telegram would hand the page for ``fields`` (tests, the bench)."""
    digest = hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest})


def init_data_from_header(header: str | None) -> str:
    """The raw init data from an ``Authorization: tma <initData>`` header."""
    if not header or not header.startswith(SCHEME):
        raise InitDataError("no 'Authorization: tma …' header")
    return header[len(SCHEME) :].strip()


def validate_init_data(raw: str, bot_token: str, now: float, max_age_s: float = MAX_AGE_S) -> InitData:
    """The checked init data, or ``InitDataError``."""
    if not raw or len(raw) > MAX_INIT_DATA_LENGTH:
        raise InitDataError("empty or too long")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataError("not a query string") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise InitDataError("a field appears twice")
    given = fields.get("hash")
    if not given:
        raise InitDataError("no hash")
    expected = hmac.new(secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.lower()):
        raise InitDataError("wrong hash")
    try:
        auth_date = int(fields["auth_date"])
    except (KeyError, ValueError):
        raise InitDataError("no auth_date") from None
    if now - auth_date > max_age_s:
        raise InitDataError(f"stale: signed {now - auth_date:.0f} s ago")
    if auth_date - now > MAX_SKEW_S:
        raise InitDataError("auth_date in the future")
    try:
        user = json.loads(fields["user"])
        user_id = user["id"]
    except (KeyError, TypeError, ValueError):
        raise InitDataError("no user") from None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise InitDataError("no user id")
    first_name, language_code = user.get("first_name"), user.get("language_code")
    return InitData(
        user_id=user_id,
        first_name=first_name if isinstance(first_name, str) else "",
        auth_date=auth_date,
        start_param=fields.get("start_param") or None,
        language_code=language_code if isinstance(language_code, str) else None,
        fields=fields,
    )
