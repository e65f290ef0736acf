"""``toonzoo try``: its access checks (pure), its routes in-process, and the command failing offline.

The routes run in-process around a scripted engine (``ScriptedEngine``), so the
guesses a picture gets are chosen by the test; the real command in a browser is
``tests/test_try_browser.py``.
"""

import os
import subprocess
import sys
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer
from helpers.bot import ScriptedEngine, drawing

from bot.i18n import get_translator
from bot.labels import LabelsError
from bot.store import Store
from bot.webapp.local import (
    LOCAL_CHAT_ID,
    LocalCanvas,
    access_refusal,
    build_local_app,
    host_of,
    is_loopback,
    key_from,
    key_matches,
    language_of,
    local_page,
    page_url,
    same_origin,
    typed_labels,
)
from bot.webapp.routes import load_page

KEY = "s3cret-key_0123456789abcdefghij"


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LocalHost", True),
        ("app.localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.20", False),
        ("example.org", False),
        ("localhost.example.org", False),
        ("", False),
    ],
)
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_host_of_strips_the_port():
    assert host_of("127.0.0.1:8765") == "127.0.0.1"
    assert host_of("[::1]:8765") == "::1"
    assert host_of("localhost") == "localhost"
    assert host_of("evil.example:80") == "evil.example"
    assert host_of(None) == host_of("") == host_of("[bad") == ""


def test_key_matches_only_the_key():
    assert key_matches(KEY, KEY)
    assert not key_matches(None, KEY)
    assert not key_matches("", KEY)
    assert not key_matches(KEY[:-1], KEY)
    assert not key_matches(KEY + "x", KEY)
    assert not key_matches("ключ", KEY), "any text is compared, none raises"


def test_key_from_header_or_query():
    assert key_from(f"Key {KEY}", None) == KEY
    assert key_from(f"key  {KEY} ", "other") == KEY
    assert key_from("tma abc", KEY) == KEY, "not the key's scheme: the query's"
    assert key_from(None, None) is None


def test_same_origin():
    assert same_origin(None, "127.0.0.1:8765"), "no Origin: not a browser's cross-site request"
    assert same_origin("http://127.0.0.1:8765", "127.0.0.1:8765")
    assert not same_origin("http://evil.example", "127.0.0.1:8765")
    assert not same_origin("http://127.0.0.1:9999", "127.0.0.1:8765")
    assert not same_origin("null", "127.0.0.1:8765")


def test_access_on_loopback_needs_no_key_but_a_loopback_host():
    def refusal(host, origin=None, key=None):
        return access_refusal(None, given_key=key, host_header=host, origin=origin)

    assert refusal("127.0.0.1:8765") is None
    assert refusal("localhost:8765", origin="http://localhost:8765") is None
    assert refusal("[::1]:8765") is None
    assert "loopback" in refusal("evil.example:8765"), "a name pointed at 127.0.0.1 (DNS rebinding)"
    assert refusal(None) is not None
    assert "own page" in refusal("127.0.0.1:8765", origin="http://evil.example")


def test_access_off_loopback_needs_the_key():
    def refusal(key, host="192.168.1.20:8765", origin=None):
        return access_refusal(KEY, given_key=key, host_header=host, origin=origin)

    assert refusal(KEY) is None
    assert refusal(KEY, host="toonzoo.lan:8765") is None, "any name: the key is what counts"
    assert "access key" in refusal(None)
    assert "access key" in refusal("wrong")
    assert "access key" in refusal(None, host="127.0.0.1:8765"), "on this computer too"
    assert refusal(KEY, origin="http://evil.example") is not None


def test_page_url():
    assert page_url("127.0.0.1", 8765, None) == "http://127.0.0.1:8765/"
    assert page_url("0.0.0.0", 80, "a/b+c", hostname="box") == "http://box:80/?key=a%2Fb%2Bc"
    assert page_url("::1", 8765, None) == "http://[::1]:8765/"
    assert page_url("::", 8765, KEY, hostname="box") == f"http://box:8765/?key={KEY}"


def test_local_page_drops_telegram_and_is_marked_local():
    page = load_page()
    assert b"telegram.org" in page
    local = local_page(page)
    assert b"telegram.org" not in local and b'data-mode="local"' in local
    with pytest.raises(ValueError, match="script tag"):
        local_page(b"<html>no script</html>")


def test_language_of_accept_language():
    assert language_of("es-ES,es;q=0.9,en;q=0.8") == "es"
    assert language_of("de-DE,de;q=0.9,ru;q=0.8,en;q=0.5") == "ru", "the first language we speak"
    assert language_of("en;q=0.2, ru") == "ru", "by preference, not by place"
    assert language_of("es;q=0, ru;q=bad, fr") is None
    assert language_of(None) is None


def test_typed_labels_become_identities():
    assert typed_labels("jirafa, Robot, robot", get_translator("es")) == ["giraffe", "Robot"]
    with pytest.raises(LabelsError):
        typed_labels("cat")


@pytest.fixture
async def local(tmp_path):
    """The local app in-process around a scripted engine: (client, engine, canvas); loopback, no key."""
    engine = ScriptedEngine()
    store = Store(tmp_path / "toonzoo.db")
    store.migrate()
    canvas = LocalCanvas(store, engine)
    await engine.start()
    client = TestClient(TestServer(build_local_app(canvas), host="127.0.0.1"))
    await client.start_server()
    try:
        yield client, engine, canvas
    finally:
        await client.close()
        store.close()


async def test_guess_uses_the_local_chat_labels_and_language(local):
    client, engine, canvas = local
    picture = engine.sees(drawing(), "giraffe", 0.7, zebra=0.2)
    response = await client.post("/api/guess", data=picture, headers={"Accept-Language": "es-ES"})
    assert response.status == 200
    guesses = (await response.json())["guesses"]
    assert [g["label"] for g in guesses[:2]] == ["jirafa", "cebra"], "named in the browser's language"
    assert engine.classified[-1][0] == picture and "giraffe" in engine.classified[-1][1]

    response = await client.post(
        "/api/labels", json={"labels": "robot, cohete, jirafa"}, headers={"Accept-Language": "es"}
    )
    assert response.status == 200
    assert (await response.json())["labels"] == ["robot", "cohete", "jirafa"]
    assert canvas.store.get_labels(LOCAL_CHAT_ID) == ["robot", "cohete", "giraffe"], "kept, pack words as identities"
    response = await client.post("/api/guess", data=picture)
    assert {g["label"] for g in (await response.json())["guesses"]} <= {"robot", "cohete", "giraffe"}
    assert engine.classified[-1][1] == ("robot", "cohete", "giraffe")


async def test_labels_from_a_pack_and_refusals(local):
    client, _, canvas = local
    body = await (await client.get("/api/labels")).json()
    assert body["pack"] == "animals" and len(body["labels"]) == 32
    assert [p["name"] for p in body["packs"]] == ["animals", "quickdraw"]
    body = await (await client.post("/api/labels", json={"pack": "quickdraw"})).json()
    assert body["pack"] == "quickdraw" and len(body["labels"]) == 345
    body = await (await client.post("/api/labels", json={"pack": "animals"})).json()
    assert body["pack"] == "animals" and canvas.store.get_labels(LOCAL_CHAT_ID) is None, "back to the defaults"

    for bad in ({"pack": "chat"}, {"pack": "nope"}, {"labels": "cat"}, {"labels": 5}, ["cat", "dog"]):
        response = await client.post("/api/labels", json=bad)
        assert response.status == 400 and (await response.json())["error"], bad
    response = await client.post("/api/labels", data=b"{not json", headers={"Accept-Language": "ru"})
    assert response.status == 400
    response = await client.post("/api/labels", json={"labels": "gato"}, headers={"Accept-Language": "es"})
    assert "Indica al menos" in (await response.json())["error"], "said in the browser's language"
    response = await client.post("/api/guess", data=b"GIF89a not a picture we take")
    assert response.status == 415


async def test_requests_from_another_origin_or_host_are_refused(local):
    client, _, _ = local
    response = await client.post("/api/labels", json={"pack": "quickdraw"}, headers={"Origin": "http://evil.example"})
    assert response.status == 403
    response = await client.get("/", headers={"Host": "evil.example:8765"})
    assert response.status == 403
    response = await client.get("/")
    assert response.status == 200 and "telegram.org" not in await response.text()
    assert "telegram.org" not in response.headers["Content-Security-Policy"]


async def test_off_loopback_the_key_is_required(tmp_path):
    engine = ScriptedEngine()
    store = Store(tmp_path / "toonzoo.db")
    store.migrate()
    await engine.start()
    client = TestClient(TestServer(build_local_app(LocalCanvas(store, engine, KEY)), host="127.0.0.1"))
    await client.start_server()
    try:
        for path in ("/", "/api/labels", "/api/texts"):
            assert (await client.get(path)).status == 403, path
            assert (await client.get(path, headers={"Authorization": "Key wrong"})).status == 403, path
        assert (await client.post("/api/guess", data=drawing())).status == 403
        assert (await client.get("/", params={"key": KEY})).status == 200
        assert (await client.get("/api/labels", headers={"Authorization": f"Key {KEY}"})).status == 200
        response = await client.post("/api/guess", data=drawing(), headers={"Authorization": f"Key {KEY}"})
        assert response.status == 200 and len((await response.json())["guesses"]) == 3
    finally:
        await client.close()
        store.close()


@pytest.mark.slow  # another Python process
def test_try_offline_without_weights_fails_in_one_line(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": os.getcwd()}
    env.pop("TOONZOO_MODEL", None)
    env.pop("TOONZOO_PRETRAINED", None)
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "try", "--no-browser", "--port", "0", "--db", str(tmp_path / "t.db")],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("toonzoo: "), result.stderr
    assert "toonzoo tiny-model" in lines[0] and "--model local-dir:" in lines[0], "suggests the tiny model"
    assert time.monotonic() - began < 60


def test_the_command_line_of_try():
    from bot.cli import TRY_HOST, TRY_PORT, build_parser

    parser, _ = build_parser()
    args = parser.parse_args(["try"])
    assert (args.host, args.port, args.no_browser, args.labels, args.pack) == (TRY_HOST, TRY_PORT, False, None, None)
    assert TRY_HOST == "127.0.0.1", "this computer only, unless asked"
    args = parser.parse_args(["try", "--port", "0", "--pack", "quickdraw", "--model", "drawings", "--no-browser"])
    assert (args.port, args.pack, args.model, args.no_browser) == (0, "quickdraw", "drawings", True)
    assert (args.rounds, args.seconds) == (6, 20), "Quick, Draw!'s six drawings of 20 seconds"
    args = parser.parse_args(["try", "--rounds", "3", "--seconds", "2"])
    assert (args.rounds, args.seconds) == (3, 2), "short rounds for a quick look"
    for bad in (
        ["--port", "70000"],
        ["--port", "x"],
        ["--pack", "chat"],
        ["--labels", "a,b", "--pack", "animals"],
        ["--rounds", "0"],
        ["--rounds", "21"],
        ["--seconds", "0"],
        ["--seconds", "1.5"],
        ["--seconds", "301"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(["try", *bad])
