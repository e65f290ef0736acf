"""Settings for the bot, read once from the environment.

    TELEGRAM_BOT_TOKEN      required, from @BotFather
    TELEGRAM_BOT_API_URL    default https://api.telegram.org (or a local Bot API server)
    TOONZOO_DB              default ~/.local/share/toonzoo/toonzoo.db (:memory: for none)
    TOONZOO_MODEL           default ViT-B-32-quickgelu; a preset (openai, drawings, multilingual, ...) or open_clip name
    TOONZOO_PRETRAINED      default: the preset's tag, else openai (a tag, a checkpoint path or random)
    TOONZOO_PRECISION       auto, fp32, bf16 or fp16 (default auto)
    TOONZOO_DEVICE          auto, cpu, cuda, cuda:N, mps, ... (default auto)
    TOONZOO_WEBHOOK_URL     https URL Telegram should post updates to; unset means polling
    TOONZOO_WEBHOOK_LISTEN  address the webhook server binds (default 127.0.0.1)
    TOONZOO_WEBHOOK_PORT    port it binds (default 8443)
    TOONZOO_WEBHOOK_SECRET  secret Telegram sends back in a header (1-256 of A-Z a-z 0-9 _ -)
    TOONZOO_WEBAPP_URL      public https base URL of the drawing canvas (Mini App); unset means no canvas
                            (http://127.0.0.1 or http://localhost only for development)
    TOONZOO_WEBAPP_LISTEN   address the canvas server binds (default 127.0.0.1)
    TOONZOO_WEBAPP_PORT     port it binds (default 8080; 0 picks a free one)
    TOONZOO_WEBAPP_SHORT_NAME  the Mini App's short name from @BotFather's /newapp (for groups' links)
    TOONZOO_MAX_BATCH       engine: pictures per forward pass at most (default 8 on a CPU, 16 on a GPU)
    TOONZOO_MAX_WAIT_MS     engine: wait for more pictures after a batch's first (default 5)
    TOONZOO_MAX_QUEUE       engine: pictures waiting before new ones are refused as busy (default 64)
    TOONZOO_DECODE_WORKERS  engine: decoding processes; 0 decodes in one thread (default 0)
    TOONZOO_ENGINE_URL      http(s) URL of a shared engine service (toonzoo serve); unset: the model runs in-process
    TOONZOO_ENGINE_SECRET   the secret that service requires, if any

An empty variable counts as unset. Messages never contain the token or the secret.
"""

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from classifier.defaults import (
    DECODE_WORKERS,
    DEFAULT_DB,
    DEFAULT_MODEL,
    DEFAULT_PRETRAINED,
    MAX_QUEUE,
    MAX_WAIT_MS,
    PRECISIONS,
)
from classifier.presets import default_pretrained

DEFAULT_API_URL = "https://api.telegram.org"
DEFAULT_WEBHOOK_LISTEN = "127.0.0.1"
DEFAULT_WEBHOOK_PORT = 8443
DEFAULT_WEBAPP_LISTEN = "127.0.0.1"
DEFAULT_WEBAPP_PORT = 8080

WEIGHTS_IN_MODEL = ("local-dir:", "hf-hub:")  # model names whose weights come with them (no --pretrained)
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEVICE = re.compile(r"[a-z]+(:\d+)?")  # the classifier checks it against torch
_URL = re.compile(r"https?://[^\s/]+(/\S*)?")
_DEV_URL = re.compile(r"http://(127\.0\.0\.1|localhost)(:\d+)?(/\S*)?")
_SHORT_NAME = re.compile(r"[A-Za-z0-9_]{3,30}")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True, repr=False)
class Settings:
    token: str
    api_url: str = DEFAULT_API_URL
    db_path: Path = Path(DEFAULT_DB)
    model: str = DEFAULT_MODEL
    pretrained: str = DEFAULT_PRETRAINED
    precision: str = "auto"
    device: str = "auto"
    webhook_url: str | None = None
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: str | None = None
    webapp_url: str | None = None
    webapp_listen: str = DEFAULT_WEBAPP_LISTEN
    webapp_port: int = DEFAULT_WEBAPP_PORT
    webapp_short_name: str | None = None
    max_batch: int | None = None  # None: by the model's device (classifier.defaults.default_max_batch)
    max_wait_ms: float = MAX_WAIT_MS
    max_queue: int = MAX_QUEUE
    decode_workers: int = DECODE_WORKERS
    engine_url: str | None = None
    engine_secret: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.token, str) or not _TOKEN.fullmatch(self.token):
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token "
                "(digits, a colon, then at least 30 letters, digits, _ or -)."
            )
        api_url = str(self.api_url).rstrip("/")
        if not _URL.fullmatch(api_url):
            raise ConfigError(f"TELEGRAM_BOT_API_URL must be an http(s) URL, not {api_url!r}.")
        object.__setattr__(self, "api_url", api_url)
        object.__setattr__(self, "db_path", Path(self.db_path).expanduser())
        if self.precision not in PRECISIONS:
            raise ConfigError(f"TOONZOO_PRECISION must be one of {', '.join(PRECISIONS)}, not {self.precision!r}.")
        if not _DEVICE.fullmatch(self.device):
            raise ConfigError(
                f"TOONZOO_DEVICE must be auto or a torch device such as cpu, cuda or cuda:1, not {self.device!r}."
            )
        if not self.model:
            raise ConfigError("TOONZOO_MODEL must not be empty.")
        if not self.pretrained:
            raise ConfigError("TOONZOO_PRETRAINED must not be empty.")
        if self.webhook_url is not None and not self.webhook_url.startswith("https://"):
            raise ConfigError("TOONZOO_WEBHOOK_URL must start with https://.")
        if not 1 <= self.webhook_port <= 65535:
            raise ConfigError(f"TOONZOO_WEBHOOK_PORT must be between 1 and 65535, not {self.webhook_port}.")
        if self.webhook_secret is not None and not _SECRET.fullmatch(self.webhook_secret):
            raise ConfigError("TOONZOO_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -.")
        if self.webapp_url is not None:
            webapp_url = self.webapp_url.rstrip("/")
            if not (webapp_url.startswith("https://") and _URL.fullmatch(webapp_url)) and not _DEV_URL.fullmatch(
                webapp_url
            ):
                raise ConfigError(
                    "TOONZOO_WEBAPP_URL must be an https:// URL (http://127.0.0.1 or http://localhost "
                    f"only for development), not {webapp_url!r}."
                )
            object.__setattr__(self, "webapp_url", webapp_url)
        if not 0 <= self.webapp_port <= 65535:
            raise ConfigError(f"TOONZOO_WEBAPP_PORT must be between 0 and 65535, not {self.webapp_port}.")
        if self.webapp_short_name is not None and not _SHORT_NAME.fullmatch(self.webapp_short_name):
            raise ConfigError("TOONZOO_WEBAPP_SHORT_NAME must be 3-30 characters of A-Z, a-z, 0-9 and _.")
        if self.engine_url is not None:
            engine_url = self.engine_url.rstrip("/")
            if not _URL.fullmatch(engine_url):
                raise ConfigError(f"TOONZOO_ENGINE_URL must be an http(s) URL, not {engine_url!r}.")
            object.__setattr__(self, "engine_url", engine_url)
        for name, value, least in (
            ("MAX_BATCH", self.max_batch, 1),
            ("MAX_QUEUE", self.max_queue, 1),
            ("DECODE_WORKERS", self.decode_workers, 0),
            ("MAX_WAIT_MS", self.max_wait_ms, 0),
        ):
            if value is not None and value < least:
                raise ConfigError(f"TOONZOO_{name} must be at least {least}, not {value:g}.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "Settings":
        """Read every setting from ``environ``; raise ``ConfigError`` on the first bad one."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        token = get("TELEGRAM_BOT_TOKEN")
        if token is None:
            raise ConfigError("TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather and export it.")
        port_text = get("TOONZOO_WEBHOOK_PORT")
        try:
            port = int(port_text) if port_text else DEFAULT_WEBHOOK_PORT
        except ValueError:
            raise ConfigError(f"TOONZOO_WEBHOOK_PORT must be a number, not {port_text!r}.") from None

        def number(name: str, default, kind=int):
            text = get(name)
            try:
                return kind(text) if text else default
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise ConfigError(f"{name} must be {what}, not {text!r}.") from None

        model = get("TOONZOO_MODEL") or DEFAULT_MODEL
        return cls(
            token=token,
            api_url=get("TELEGRAM_BOT_API_URL") or DEFAULT_API_URL,
            db_path=Path(get("TOONZOO_DB") or DEFAULT_DB),
            model=model,
            pretrained=get("TOONZOO_PRETRAINED") or default_pretrained(model),
            precision=(get("TOONZOO_PRECISION") or "auto").lower(),
            device=(get("TOONZOO_DEVICE") or "auto").lower(),
            webhook_url=get("TOONZOO_WEBHOOK_URL"),
            webhook_listen=get("TOONZOO_WEBHOOK_LISTEN") or DEFAULT_WEBHOOK_LISTEN,
            webhook_port=port,
            webhook_secret=get("TOONZOO_WEBHOOK_SECRET"),
            webapp_url=get("TOONZOO_WEBAPP_URL"),
            webapp_listen=get("TOONZOO_WEBAPP_LISTEN") or DEFAULT_WEBAPP_LISTEN,
            webapp_port=number("TOONZOO_WEBAPP_PORT", DEFAULT_WEBAPP_PORT),
            webapp_short_name=get("TOONZOO_WEBAPP_SHORT_NAME"),
            max_batch=number("TOONZOO_MAX_BATCH", None),
            max_wait_ms=number("TOONZOO_MAX_WAIT_MS", MAX_WAIT_MS, float),
            max_queue=number("TOONZOO_MAX_QUEUE", MAX_QUEUE),
            decode_workers=number("TOONZOO_DECODE_WORKERS", DECODE_WORKERS),
            engine_url=get("TOONZOO_ENGINE_URL"),
            engine_secret=get("TOONZOO_ENGINE_SECRET"),
        )

    def replace(self, **overrides) -> "Settings":
        """A copy with some settings changed (command-line flags); validated again."""
        return dataclasses.replace(self, **overrides)

    @property
    def engine_options(self) -> dict:
        """Keyword arguments for ``classifier.engine.Engine``."""
        return {
            "max_batch": self.max_batch,
            "max_wait_ms": self.max_wait_ms,
            "max_queue": self.max_queue,
            "decode_workers": self.decode_workers,
        }

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``."""
        return f"{self.api_url}/file/bot"

    def __repr__(self) -> str:
        shown = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "pretrained" and self.model.startswith(WEIGHTS_IN_MODEL):
                continue  # a local-dir: folder or hf-hub: repository brings its own weights
            if field.name in ("token", "webhook_secret", "engine_secret") and value is not None:
                value = "<hidden>"
                shown.append(f"{field.name}={value}")
            else:
                shown.append(f"{field.name}={value!r}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__
