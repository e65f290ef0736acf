"""The canvas's pure security pieces: Telegram's init-data check, our start_param tokens, per-user pacing."""

import hashlib
import hmac
import json
from urllib.parse import quote, urlencode

import pytest

from bot.webapp.initdata import (
    MAX_AGE_S,
    InitDataError,
    init_data_from_header,
    sign_init_data,
    validate_init_data,
)
from bot.webapp.limits import RateLimiter
from bot.webapp.tokens import CanvasTarget, TokenError, derive_key, issue_token, read_token

TOKEN = "123456789:AAH4sEcReT-tOkEn_abcdefghijklmnopqrs"
OTHER_TOKEN = "123456789:AAH4sEcReT-tOkEn_abcdefghijklmnopqrt"
NOW = 1_750_000_000
USER = json.dumps({"id": 4242, "first_name": "Ada", "language_code": "en"}, separators=(",", ":"))


def by_the_book(fields: dict[str, str], token: str = TOKEN) -> str:
    """Init data signed step by step as Telegram's documentation describes, independent of the code under test."""
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


FIELDS = {"query_id": "AAHdF6IQAAAAAN0XohDhrOrc", "user": USER, "auth_date": str(NOW - 10)}


def test_valid_init_data_gives_the_user():
    data = validate_init_data(by_the_book(FIELDS), TOKEN, NOW)
    assert (data.user_id, data.first_name, data.auth_date, data.start_param) == (4242, "Ada", NOW - 10, None)
    assert sign_init_data(FIELDS, TOKEN).split("hash=")[1] == by_the_book(FIELDS).split("hash=")[1]


def test_start_param_and_reordered_fields_are_fine():
    fields = {**FIELDS, "start_param": "abc_-1", "chat_type": "group", "chat_instance": "-77"}
    raw = by_the_book(fields)
    reordered = "&".join(reversed(raw.split("&")))
    assert validate_init_data(reordered, TOKEN, NOW).start_param == "abc_-1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (by_the_book(FIELDS).replace("hash=", "hash=0"), "wrong hash"),
        (by_the_book(FIELDS)[:-1] + ("0" if by_the_book(FIELDS)[-1] != "0" else "1"), "wrong hash"),
        (urlencode(FIELDS), "no hash"),
        (by_the_book(FIELDS, OTHER_TOKEN), "wrong hash"),
        (by_the_book({**FIELDS, "auth_date": str(NOW - MAX_AGE_S - 1)}), "stale"),
        (by_the_book({**FIELDS, "auth_date": str(NOW + 3600)}), "future"),
        (by_the_book({k: v for k, v in FIELDS.items() if k != "user"}), "no user"),
        (by_the_book({**FIELDS, "user": '{"id": "4242"}'}), "no user id"),
        (by_the_book({k: v for k, v in FIELDS.items() if k != "auth_date"}), "no auth_date"),
        (by_the_book(FIELDS) + "&user=" + quote('{"id":1}'), "twice"),
        ("", "empty"),
        ("%%%&&=", "not a query string"),
    ],
)
def test_bad_init_data_is_refused(raw, reason):
    with pytest.raises(InitDataError, match=reason):
        validate_init_data(raw, TOKEN, NOW)


def test_a_changed_field_breaks_the_signature():
    raw = by_the_book(FIELDS).replace("4242", "4243")
    with pytest.raises(InitDataError, match="wrong hash"):
        validate_init_data(raw, TOKEN, NOW)


def test_the_freshness_window_is_inclusive():
    raw = by_the_book({**FIELDS, "auth_date": str(NOW - MAX_AGE_S)})
    assert validate_init_data(raw, TOKEN, NOW).user_id == 4242


def test_authorization_header():
    assert init_data_from_header("tma a=1&hash=2") == "a=1&hash=2"
    for header in (None, "", "Bearer a=1", "tmaa=1"):
        with pytest.raises(InitDataError):
            init_data_from_header(header)


def test_tokens_round_trip_and_fit_telegrams_start_param():
    key = derive_key(TOKEN)
    for target in (CanvasTarget(-1001234567890), CanvasTarget(-42, 7, 3)):
        token = issue_token(key, target)
        assert read_token(key, token) == target
        assert len(token) <= 64 and all(c.isalnum() or c in "_-" for c in token)
    assert CanvasTarget(-42, 7, 3).in_game and not CanvasTarget(-42).in_game


def test_forged_tokens_are_refused():
    key = derive_key(TOKEN)
    token = issue_token(key, CanvasTarget(-42, 7, 3))
    with pytest.raises(TokenError, match="signature"):
        read_token(derive_key(OTHER_TOKEN), token)  # signed by another bot
    other_chat = issue_token(derive_key(OTHER_TOKEN), CanvasTarget(-43, 7, 3))
    with pytest.raises(TokenError):
        read_token(key, other_chat)
    # the same token with another chat or round spliced in keeps the old signature: refused
    raw = bytearray(__import__("base64").urlsafe_b64decode(token + "=="))
    for position in (8, 16):  # the chat id's last byte; the round number's last byte
        changed = bytearray(raw)
        changed[position] ^= 1
        forged = __import__("base64").urlsafe_b64encode(bytes(changed)).decode().rstrip("=")
        with pytest.raises(TokenError, match="signature"):
            read_token(key, forged)
    for junk in ("", "abc", "!!!!", token[:-2], token + "AA"):
        with pytest.raises(TokenError):
            read_token(key, junk)


def test_rate_limiter_per_user():
    limiter = RateLimiter(rate_per_s=2.0, burst=3)
    assert [limiter.check(1, 0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.check(1, 0.0) == pytest.approx(0.5)
    assert limiter.check(2, 0.0) == 0.0  # someone else is not held back
    assert limiter.check(1, 0.5) == 0.0
    assert limiter.check(1, 0.5) > 0
