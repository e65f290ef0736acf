"""``toonzoo run`` as a user starts it, in a subprocess: its environment and its start."""

import asyncio
import os
import subprocess
import sys

from toonzoo_tools.fake_bot_api import FakeBotApi

TOONZOO = [sys.executable, "-m", "bot.cli"]


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


async def start_run(env: dict) -> asyncio.subprocess.Process:
    """``toonzoo run`` in the background, its stdout and stderr together."""
    return await asyncio.create_subprocess_exec(
        *TOONZOO, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )


async def run_cli(env: dict, timeout: float = 120, *args: str) -> tuple[int, str]:
    """``toonzoo run *args`` to its end: (exit status, stdout and stderr together)."""
    process = await asyncio.create_subprocess_exec(
        *TOONZOO, "run", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode()


def run_together(*commands: list[str], env: dict, timeout: float = 120) -> list[subprocess.CompletedProcess]:
    """Run independent commands at once, so their interpreters start side by side; their results in order."""
    started = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for command in commands
    ]
    results = []
    for process in started:
        out, err = process.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results
