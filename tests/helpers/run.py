"""``toonzoo run`` as a user starts it, in a process of its own (``helpers.warm``): its environment and its start."""

import asyncio
import os

from helpers import warm
from toonzoo_tools.fake_bot_api import FakeBotApi


def bot_env(**extra) -> dict:
    """This process's environment without toonzoo's or Telegram's variables, offline, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TOONZOO_"))}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


def serving_env(fake: FakeBotApi, tmp_path, model: str, **extra: str) -> dict:
    """The environment of a bot serving ``fake`` with ``model`` and a database in ``tmp_path``."""
    return bot_env(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_BOT_API_URL=fake.base_url,
        TOONZOO_MODEL=model,
        TOONZOO_DB=str(tmp_path / "toonzoo.db"),
        **extra,
    )


async def start_run(env: dict) -> warm.Started:
    """``toonzoo run`` in the background, in a process forked from a warm interpreter (``helpers.warm``);
    its stdout and stderr together."""
    return warm.start("run", env=env, together=True)


async def run_cli(env: dict, timeout: float = 120, *args: str) -> tuple[int, str]:
    """``toonzoo run *args`` to its end, in a process forked from a warm interpreter (``helpers.warm``):
    (exit status, stdout and stderr together)."""
    result = await asyncio.to_thread(warm.toonzoo, "run", *args, env=env, timeout=timeout, together=True)
    return result.returncode, result.stdout
