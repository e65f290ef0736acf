"""Settings from the environment."""

from pathlib import Path

import pytest

from bot.config import ConfigError, Settings

TOKEN = "123456789:AAH4sEcReT-tOkEn_abcdefghijklmnopqrs"


def test_defaults():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.token == TOKEN
    assert settings.api_url == "https://api.telegram.org"
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.base_file_url == "https://api.telegram.org/file/bot"
    assert settings.db_path == Path.home() / ".local/share/toonzoo/toonzoo.db"
    assert (settings.model, settings.pretrained) == ("ViT-B-32-quickgelu", "openai")
    assert (settings.precision, settings.device) == ("auto", "auto")
    assert settings.webhook_url is None and settings.webhook_secret is None
    assert (settings.webhook_listen, settings.webhook_port) == ("127.0.0.1", 8443)


def test_everything_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": f"  {TOKEN}\n",
            "TELEGRAM_BOT_API_URL": "http://localhost:8081/",
            "TOONZOO_DB": str(tmp_path / "bot.db"),
            "TOONZOO_MODEL": "local-dir:/models/tiny",
            "TOONZOO_PRETRAINED": "random",
            "TOONZOO_PRECISION": "BF16",
            "TOONZOO_DEVICE": "cuda:1",
            "TOONZOO_WEBHOOK_URL": "https://bot.example.org/hook",
            "TOONZOO_WEBHOOK_LISTEN": "0.0.0.0",
            "TOONZOO_WEBHOOK_PORT": "8080",
            "TOONZOO_WEBHOOK_SECRET": "s3cr3t_-",
        }
    )
    assert settings.token == TOKEN
    assert settings.base_url == "http://localhost:8081/bot"
    assert settings.base_file_url == "http://localhost:8081/file/bot"
    assert settings.db_path == tmp_path / "bot.db"
    assert (settings.model, settings.pretrained) == ("local-dir:/models/tiny", "random")
    assert (settings.precision, settings.device) == ("bf16", "cuda:1")
    assert settings.webhook_url == "https://bot.example.org/hook"
    assert (settings.webhook_listen, settings.webhook_port) == ("0.0.0.0", 8080)
    assert settings.webhook_secret == "s3cr3t_-"


def test_missing_token():
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN is not set"):
        Settings.from_env({})


def test_empty_variables_count_as_unset():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TOONZOO_MODEL": "", "TOONZOO_WEBHOOK_URL": " "})
    assert settings.model == "ViT-B-32-quickgelu" and settings.webhook_url is None


def test_db_path_expands_home(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, "TOONZOO_DB": "~/x/bot.db"})
    assert settings.db_path == tmp_path / "x" / "bot.db"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "TELEGRAM_BOT_TOKEN is not set"),
        ({"TELEGRAM_BOT_TOKEN": "123456789:short-secret-part"}, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": "abc:" + "x" * 35}, "does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN + " extra"}, "does not look like a bot token"),
        ({"TOONZOO_PRECISION": "int4"}, "TOONZOO_PRECISION must be one of auto, fp32, bf16, fp16, int8"),
        ({"TOONZOO_DEVICE": "gpu 0"}, "TOONZOO_DEVICE"),
        ({"TELEGRAM_BOT_API_URL": "api.telegram.org"}, "TELEGRAM_BOT_API_URL must be an http(s) URL"),
        ({"TOONZOO_WEBHOOK_URL": "http://insecure.example.org"}, "must start with https://"),
        ({"TOONZOO_WEBHOOK_PORT": "eighty"}, "TOONZOO_WEBHOOK_PORT must be a number"),
        ({"TOONZOO_WEBHOOK_PORT": "70000"}, "between 1 and 65535"),
        ({"TOONZOO_WEBHOOK_SECRET": "has space"}, "TOONZOO_WEBHOOK_SECRET"),
    ],
)
def test_bad_settings_give_one_line_without_secrets(environ, message):
    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, **environ}
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(environ)
    text = str(caught.value)
    assert message in text
    assert "\n" not in text
    secret_part = environ["TELEGRAM_BOT_TOKEN"].split(":", 1)[-1].strip()
    assert not secret_part or secret_part not in text
    assert "has space" not in text


def test_repr_and_str_hide_token_and_secret():
    settings = Settings(token=TOKEN, webhook_secret="topsecret")
    for text in (repr(settings), str(settings), f"{settings}"):
        assert "AAH4sEcReT" not in text and "topsecret" not in text
        assert "token=<hidden>" in text and "model='ViT-B-32-quickgelu'" in text
    assert "webhook_secret=None" in repr(Settings(token=TOKEN))


def test_replace_overrides_and_validates_again():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    changed = settings.replace(device="cpu", db_path="~/other.db", api_url="http://127.0.0.1:9/")
    assert (changed.device, changed.api_url) == ("cpu", "http://127.0.0.1:9")
    assert changed.db_path == Path.home() / "other.db"
    assert settings.device == "auto"  # frozen original untouched
    with pytest.raises(ConfigError):
        settings.replace(precision="fp8")
    with pytest.raises(AttributeError):
        settings.device = "cpu"


def test_engine_knobs_from_the_environment():
    defaults = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert defaults.engine_options == {"max_batch": None, "max_wait_ms": 5.0, "max_queue": 64, "decode_workers": 0}
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TOONZOO_MAX_BATCH": "32",
            "TOONZOO_MAX_WAIT_MS": "2.5",
            "TOONZOO_MAX_QUEUE": "200",
            "TOONZOO_DECODE_WORKERS": "2",
        }
    )
    assert settings.engine_options == {"max_batch": 32, "max_wait_ms": 2.5, "max_queue": 200, "decode_workers": 2}
    assert settings.replace(decode_workers=0).decode_workers == 0


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TOONZOO_MAX_BATCH", "lots", "TOONZOO_MAX_BATCH must be a whole number, not 'lots'."),
        ("TOONZOO_MAX_BATCH", "0", "TOONZOO_MAX_BATCH must be at least 1, not 0."),
        ("TOONZOO_MAX_QUEUE", "-3", "TOONZOO_MAX_QUEUE must be at least 1, not -3."),
        ("TOONZOO_DECODE_WORKERS", "-1", "TOONZOO_DECODE_WORKERS must be at least 0, not -1."),
        ("TOONZOO_MAX_WAIT_MS", "soon", "TOONZOO_MAX_WAIT_MS must be a number, not 'soon'."),
    ],
)
def test_bad_engine_knobs_give_one_line(variable, value, message):
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, variable: value})
    assert str(caught.value) == message


def test_webapp_settings():
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN})
    assert settings.webapp_url is None and settings.webapp_short_name is None
    assert (settings.webapp_listen, settings.webapp_port) == ("127.0.0.1", 8080)
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TOONZOO_WEBAPP_URL": "https://draw.example.org/toonzoo/",
            "TOONZOO_WEBAPP_LISTEN": "0.0.0.0",
            "TOONZOO_WEBAPP_PORT": "9000",
            "TOONZOO_WEBAPP_SHORT_NAME": "draw",
        }
    )
    assert settings.webapp_url == "https://draw.example.org/toonzoo"
    assert (settings.webapp_listen, settings.webapp_port, settings.webapp_short_name) == ("0.0.0.0", 9000, "draw")
    for development in ("http://127.0.0.1:8080", "http://localhost"):
        assert Settings(token=TOKEN, webapp_url=development).webapp_url == development


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("TOONZOO_WEBAPP_URL", "http://draw.example.org", "must be an https:// URL"),
        ("TOONZOO_WEBAPP_URL", "ftp://localhost", "must be an https:// URL"),
        ("TOONZOO_WEBAPP_URL", "http://localhost.evil.example", "must be an https:// URL"),
        ("TOONZOO_WEBAPP_PORT", "eighty", "TOONZOO_WEBAPP_PORT must be a whole number"),
        ("TOONZOO_WEBAPP_PORT", "70000", "between 0 and 65535"),
        ("TOONZOO_WEBAPP_SHORT_NAME", "no spaces", "3-30 characters"),
    ],
)
def test_bad_webapp_settings(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN, name: value})
