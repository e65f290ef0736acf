"""Helpers for the drawing canvas's tests: signed init data as Telegram makes it, and API calls."""

import json
import time
from urllib.parse import parse_qs, urlparse

import aiohttp

from bot.context import services_of
from bot.webapp.initdata import sign_init_data

PUBLIC_URL = "https://draw.example.test/toonzoo"  # what Telegram would open; the tests call the local port
SHORT_NAME = "draw"


def canvas_options(short_name: str | None = SHORT_NAME) -> dict:
    """Settings overrides: the canvas on a free local port behind a pretend public URL."""
    return {"webapp_url": PUBLIC_URL, "webapp_port": 0, "webapp_short_name": short_name}


def init_data_for(token: str, user: dict, start_param: str | None = None, auth_date: float | None = None) -> str:
    """Init data for ``user`` signed with ``token`` (the fake's), as Telegram hands it to the page."""
    person = {"id": user["id"], "first_name": user["first_name"]}
    if user.get("language_code"):
        person["language_code"] = user["language_code"]
    fields = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps(person, separators=(",", ":")),
        "auth_date": str(int(auth_date if auth_date is not None else time.time())),
    }
    if start_param is not None:
        fields.update(start_param=start_param, chat_type="supergroup", chat_instance="-4242")
    return sign_init_data(fields, token)


def base_url(application) -> str:
    return f"http://127.0.0.1:{services_of(application).webapp.port}"


def start_param_of(url: str) -> str:
    """The startapp token of a t.me link."""
    return parse_qs(urlparse(url).query)["startapp"][0]


async def call(application, path: str, body: bytes, init_data: str | None, content_type: str = "image/png"):
    """POST to the canvas API; (status, JSON body or None, headers)."""
    headers = {"Content-Type": content_type}
    if init_data is not None:
        headers["Authorization"] = f"tma {init_data}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(base_url(application) + path, data=body, headers=headers) as response,
    ):
        try:
            payload = await response.json()
        except (aiohttp.ContentTypeError, ValueError):
            payload = None
        return response.status, payload, response.headers


async def get_round(application, init_data: str) -> tuple[int, dict]:
    """GET /api/round as ``init_data``'s page asks it: (status, JSON body)."""
    headers = {"Authorization": f"tma {init_data}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url(application) + "/api/round", headers=headers) as response,
    ):
        return response.status, await response.json()
