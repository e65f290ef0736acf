"""`toonzoo run` as a user starts it: configuration errors, offline weights, a real session."""

import asyncio
import os
import signal
import sys


from bot_harness import png_bytes
from fake_bot_api import FakeBotApi

TOONZOO = [sys.executable, "-m", "bot.cli"]


def bot_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "TOONZOO_"))}
    env["HF_HUB_OFFLINE"] = "1"
    env.update(extra)
    return env


async def run_cli(env: dict, timeout: float = 120) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *TOONZOO, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode, out.decode()


async def test_missing_token_is_one_clear_line():
    code, out = await run_cli(bot_env())
    assert code == 2
    assert out.strip().count("\n") == 0 and "TELEGRAM_BOT_TOKEN" in out and "BotFather" in out


async def test_malformed_token_is_not_echoed():
    code, out = await run_cli(bot_env(TELEGRAM_BOT_TOKEN="12345:short-secret-value"))
    assert code == 2 and "Traceback" not in out
    assert "short-secret-value" not in out


async def test_offline_default_weights_exit_with_instructions(tmp_path):
    async with FakeBotApi() as fake:
        env = bot_env(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BOT_API_URL=fake.base_url,
                      TOONZOO_DB=str(tmp_path / "db.sqlite"))
        code, out = await run_cli(env)
    assert code == 2
    assert "Traceback" not in out and "local-dir:" in out
    assert fake.token not in out


async def test_run_serves_pictures_and_stops_cleanly(tmp_path, tiny_model_name):
    async with FakeBotApi() as fake:
        ada = fake.add_user("Ada")
        chat = fake.add_private_chat(ada)
        env = bot_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_BOT_API_URL=fake.base_url,
            TOONZOO_MODEL=tiny_model_name,
            TOONZOO_DB=str(tmp_path / "toonzoo.db"),
        )
        process = await asyncio.create_subprocess_exec(
            *TOONZOO, "run", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            await fake.wait_for("setMyCommands", timeout=90)
            fake.send_photo(chat, ada, png_bytes())
            reply = await fake.wait_for("sendMessage", timeout=30)
            assert reply["text"].count("%") == 3
        finally:
            process.send_signal(signal.SIGINT)
            out, _ = await asyncio.wait_for(process.communicate(), 60)
        log = out.decode()
        assert process.returncode == 0, log
        assert "ready as @toonzoo_test_bot" in log
        assert fake.token not in log and fake.token.split(":")[1] not in log
        assert (tmp_path / "toonzoo.db").exists()
