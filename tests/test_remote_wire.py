"""The remote engine's wire format and its refusals, without Ray: pure functions, one-line failures, and
what a caller gets from a service that hangs or fails (a stand-in service on 127.0.0.1, aiohttp)."""

import asyncio
import threading
import time

import numpy as np
import pytest
import torch
from aiohttp import web
from helpers.pictures import png_bytes

from bot.cli import main
from bot.config import ConfigError, Settings
from classifier.cli import service_precision
from classifier.errors import (
    CorruptImage,
    EngineBusy,
    EngineClosed,
    EngineUnavailable,
    InferenceFailed,
    NotAnImage,
)
from classifier.model import load_model, model_identity
from classifier.remote import RemoteClassifier, RemoteEngine
from classifier.wire import (
    IMAGE_PATH,
    INFO_PATH,
    TEXTS_PATH,
    ServiceInfo,
    authorized,
    check_listen,
    error_from_json,
    error_json,
    is_loopback,
    parse_prompts,
    vectors_from_bytes,
    vectors_to_bytes,
)

TOKEN = "123456789:" + "d" * 35


def test_vectors_round_trip_as_float32():
    vectors = torch.randn(3, 8)
    assert np.array_equal(vectors_from_bytes(vectors_to_bytes(vectors), 8), vectors.numpy())
    assert vectors_from_bytes(vectors_to_bytes(vectors[0]), 8).shape == (1, 8)
    with pytest.raises(ValueError, match="not whole"):
        vectors_from_bytes(b"\0" * 12, 8)


def test_picture_errors_keep_their_class_and_others_become_inference_failures():
    back = error_from_json(error_json(CorruptImage("cut off")))
    assert type(back) is CorruptImage and str(back) == "cut off"
    assert isinstance(error_from_json({"error": "NotAnImage"}), NotAnImage)
    for strange in ({"error": "SystemExit"}, {"error": "EngineBusy"}, ["x"], None):
        assert type(error_from_json(strange)) is InferenceFailed


def test_prompts_are_checked_like_any_untrusted_body():
    assert parse_prompts(b'{"prompts": ["a drawing of a cat"]}') == ["a drawing of a cat"]
    for bad in (b"", b"[]", b'{"prompts": []}', b'{"prompts": [1]}', b'{"prompts": "cat"}', b"\xff"):
        with pytest.raises(ValueError, match=r"JSON|prompts"):
            parse_prompts(bad)
    with pytest.raises(ValueError, match="at most"):
        parse_prompts(('{"prompts": ["x"' + ', "x"' * 300 + "]}").encode())


def test_secret_is_compared_whole():
    assert authorized(None, None) and authorized("anything", None)
    assert authorized("Bearer s3cret", "s3cret")
    assert not authorized("Bearer s3cre", "s3cret") and not authorized(None, "s3cret")
    assert not authorized("s3cret", "s3cret")


def test_listening_beyond_loopback_needs_a_secret():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")
    check_listen("127.0.0.1", None)
    check_listen("0.0.0.0", "s3cret")
    with pytest.raises(ValueError, match="TOONZOO_ENGINE_SECRET"):
        check_listen("0.0.0.0", None)


def test_service_info_refuses_malformed_answers():
    info = ServiceInfo("m@t", ("en",), 100.0, 512)
    assert ServiceInfo.from_json(info.as_json()) == info and info.cache_identity == "m@t"
    int8 = ServiceInfo("m@t", ("en",), 100.0, 512, "m@t+int8")
    assert ServiceInfo.from_json(int8.as_json()).cache_identity == "m@t+int8"
    for bad in ([], {}, {"identity": "", "languages": [], "logit_scale": 1, "dim": 2}, {**info.as_json(), "dim": "x"}):
        with pytest.raises(ValueError, match=r"JSON object|field|empty"):
            ServiceInfo.from_json(bad)


def test_model_identity_is_the_loaded_models(tiny_model_name, tiny_loaded):
    assert model_identity(tiny_model_name) == tiny_loaded.identity
    assert model_identity("ViT-B-32-quickgelu", "openai") == "ViT-B-32-quickgelu@openai"
    assert model_identity("ViT-B-32", "random") == load_model("ViT-B-32", "random", device="cpu").identity


def test_embed_pictures_keeps_each_pictures_place(tiny_classifier):
    results = tiny_classifier.embed_pictures([png_bytes(), b"not a picture", png_bytes(colour=(0, 0, 250))])
    assert isinstance(results[1], NotAnImage)
    alone = tiny_classifier.embed_pictures([png_bytes(colour=(0, 0, 250))])[0]
    assert results[2].shape == alone.shape == (32,) and torch.allclose(results[2], alone, atol=1e-5)


def test_engine_url_setting_is_checked_and_secret_hidden():
    settings = Settings.from_env(
        {"TELEGRAM_BOT_TOKEN": TOKEN, "TOONZOO_ENGINE_URL": "http://10.0.0.5:8000/", "TOONZOO_ENGINE_SECRET": "s3"}
    )
    assert settings.engine_url == "http://10.0.0.5:8000" and "s3" not in repr(settings)
    with pytest.raises(ConfigError, match="TOONZOO_ENGINE_URL"):
        Settings(token=TOKEN, engine_url="10.0.0.5:8000")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_connecting_to_no_service_is_one_clear_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EngineUnavailable) as caught:
        RemoteClassifier.connect(url)
    assert url in caught.value.user_message and "toonzoo serve" in caught.value.user_message


def test_run_with_the_service_down_says_one_line_and_exits(monkeypatch, capsys, tiny_model_name, tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    for name, value in {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BOT_API_URL": f"http://127.0.0.1:{free_port()}",  # never reached: the engine is checked first
        "TOONZOO_ENGINE_URL": url,
        "TOONZOO_MODEL": tiny_model_name,
        "TOONZOO_DB": str(tmp_path / "bot.db"),
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("toonzoo: Cannot reach the engine service at " + url)
    assert TOKEN not in err


def fast_bf16(candidates) -> dict[str, float]:
    """A CPU probe's GFLOP/s where bf16 is five times as fast."""
    return {name: 500.0 if name == "bf16" else 100.0 for name in candidates}


def test_serve_measures_auto_precision_once_for_every_cpu_replica():
    assert service_precision("auto", "cpu", 0, measure=fast_bf16) == "bf16"
    assert service_precision("int8", "cpu", 0, measure=fast_bf16) == "int8"
    assert service_precision("auto", "auto", 1) == "auto"  # GPU replicas: fp16, each resolves it alike
    fast_int8 = {"fp32": 100.0, "bf16": 300.0, "int8": 500.0}
    assert service_precision("auto", "cpu", 0, measure=lambda _: fast_int8, model="ViT-B-32-quickgelu") == "int8"
    assert service_precision("auto", "cpu", 0, measure=lambda _: fast_int8, model="fast") == "bf16"  # convolutions


def test_serve_refuses_to_listen_beyond_loopback_without_a_secret(monkeypatch, capsys):
    monkeypatch.delenv("TOONZOO_ENGINE_SECRET", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "without a secret" in err


DIM = 4
STAND_IN = ServiceInfo("stand-in@t", ("en",), 100.0, DIM, "stand-in@t+int8")


class StandIn:
    """A service that answers ``/info`` and ``/embed_texts`` and does to pictures what ``pictures`` says:
    ``"hang"`` (never answers), an HTTP status to fail with, or ``"ok"`` (a unit vector)."""

    def __init__(self, *pictures: int | str):
        self.pictures = list(pictures)
        self.calls = 0
        self._release = asyncio.Event()  # lets a hanging request end when the stand-in stops

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_get(INFO_PATH, self._info)
        app.router.add_post(TEXTS_PATH, self._texts)
        app.router.add_post(IMAGE_PATH, self._image)
        self._runner = web.AppRunner(app, shutdown_timeout=0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def __aexit__(self, *exc_info) -> None:
        self._release.set()
        await self._runner.cleanup()

    async def _info(self, request: web.Request) -> web.Response:
        return web.json_response(STAND_IN.as_json())

    async def _texts(self, request: web.Request) -> web.Response:
        prompts = parse_prompts(await request.read())
        return web.Response(body=vectors_to_bytes(torch.eye(DIM)[[i % DIM for i in range(len(prompts))]]))

    async def _image(self, request: web.Request) -> web.Response:
        await request.read()
        what = self.pictures[min(self.calls, len(self.pictures) - 1)]
        self.calls += 1
        if what == "hang":
            await self._release.wait()
        if isinstance(what, int):
            return web.json_response({"error": "failing"}, status=what)
        return web.Response(body=vectors_to_bytes(torch.eye(DIM)[0]))


async def _engine(url: str, timeout_s: float = 5.0) -> RemoteEngine:
    classifier = await asyncio.to_thread(RemoteClassifier.connect, url, timeout_s=timeout_s, db=None)
    engine = RemoteEngine(classifier)
    await engine.start()
    await engine.prepare_labels(["cat", "dog"])
    return engine


async def test_a_service_that_hangs_gives_busy_after_one_more_try_never_a_hang():
    async with StandIn("hang") as url:
        engine = await _engine(url, timeout_s=0.3)
        try:
            began = time.monotonic()
            with pytest.raises(EngineBusy, match="did not answer"):
                await engine.classify(png_bytes(), ["cat", "dog"])
            assert time.monotonic() - began < 3
            assert "Try again" in EngineBusy.user_message
        finally:
            await engine.close()


async def test_a_failing_replica_is_tried_once_more_then_busy():
    recovering, failing = StandIn(503, "ok"), StandIn(500)  # a replica died mid-request; every replica fails
    async with recovering as url:
        engine = await _engine(url)
        try:
            guesses = await engine.classify(png_bytes(), ["cat", "dog"])
            assert sorted(g.label for g in guesses) == ["cat", "dog"] and recovering.calls == 2
        finally:
            await engine.close()
    async with failing as url:
        engine = await _engine(url)
        try:
            with pytest.raises(EngineBusy, match="HTTP 500"):
                await engine.classify(png_bytes(), ["cat", "dog"])
            assert failing.calls == 2
        finally:
            await engine.close()


async def test_the_label_cache_is_keyed_by_the_services_cache_identity():
    async with StandIn("ok") as url:
        engine = await _engine(url)
        try:
            assert engine.identity == "stand-in@t"
            assert engine.classifier.text_cache.model_identity == "stand-in@t+int8"
        finally:
            await engine.close()


async def test_an_idle_replica_runs_a_lone_picture_at_once(tiny_model_name):
    """The replica itself, without Ray running: ``@serve.batch`` would hold a lone picture ``max_wait_ms``
    for company; an idle replica runs it at once (``test_remote_engine`` shows pictures still batched
    when they come together)."""
    pytest.importorskip("ray.serve", reason="the serve extra (ray[serve]) is not installed")
    from classifier.serve import EmbeddingReplica, ServiceOptions

    options = ServiceOptions(model=tiny_model_name, device="cpu", precision="fp32", max_wait_ms=3000)
    replica = EmbeddingReplica(options)
    pixels = await asyncio.to_thread(replica._pixels, png_bytes())
    for _ in range(2):
        began = time.monotonic()
        vector, batch, _ = await replica._embed(pixels)
        assert batch == 1 and time.monotonic() - began < 2.0  # not held for the 3 s batch wait
        assert vectors_from_bytes(vector, replica.info.dim).shape == (1, replica.info.dim)
        assert replica._gate.is_set() and not replica._admitted  # idle again


async def test_closing_the_connection_twice_at_once_never_hangs():
    """The engine closes its classifier and the bot's shutdown closes it again, the second call right after
    the first queued the loop's stop: it must return, not wait for a close that never runs."""
    async with StandIn("ok") as url:
        for _ in range(5):
            classifier = await asyncio.to_thread(RemoteClassifier.connect, url, db=None)

            def twice(classifier=classifier) -> None:
                classifier.close()
                classifier.close()

            closer = threading.Thread(target=twice, daemon=True)
            closer.start()
            await asyncio.to_thread(closer.join, 10)
            assert not closer.is_alive(), "the second close() waits forever"
            with pytest.raises(EngineClosed):
                await classifier.embed_image(png_bytes())
