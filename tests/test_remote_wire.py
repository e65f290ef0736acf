"""The remote engine's wire format and its refusals, without Ray: pure functions and one-line failures."""

import numpy as np
import pytest
import torch
from bot_harness import png_bytes

from bot.cli import main
from bot.config import ConfigError, Settings
from classifier.errors import CorruptImage, EngineUnavailable, InferenceFailed, NotAnImage
from classifier.model import load_model, model_identity
from classifier.remote import RemoteClassifier
from classifier.wire import (
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
    assert ServiceInfo.from_json(info.as_json()) == info
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


def test_serve_refuses_to_listen_beyond_loopback_without_a_secret(monkeypatch, capsys):
    monkeypatch.delenv("TOONZOO_ENGINE_SECRET", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "without a secret" in err
