"""`toonzoo run` as a user starts it: configuration errors, offline weights, a real session."""

import asyncio
import signal
import socket

import pytest
from helpers.pictures import png_bytes
from helpers.run import bot_env, run_cli, serving_env, start_run
from helpers.waiting import until

from toonzoo_tools.fake_bot_api import FakeBotApi

pytestmark = pytest.mark.slow  # each test starts an interpreter that imports torch


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
        env = bot_env(
            TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BOT_API_URL=fake.base_url, TOONZOO_DB=str(tmp_path / "db.sqlite")
        )
        code, out = await run_cli(env)
    assert code == 2
    assert "Traceback" not in out and "local-dir:" in out
    assert fake.token not in out
    assert fake.all_calls == []  # the weights are checked before the first Bot API call


REJECTED_TOKEN = "123456789:AAthisSecretPartMustNeverBePrinted_xyz"


def failure_lines(out: str) -> list[str]:
    """The lines that are not time-stamped log records (toonzoo's own error lines)."""
    return [line for line in out.splitlines() if not line[:4].isdigit()]


async def test_rejected_token_is_one_masked_line(tmp_path, tiny_model_name):
    async with FakeBotApi() as fake:  # its token differs: it answers 401 Unauthorized
        env = bot_env(
            TELEGRAM_BOT_TOKEN=REJECTED_TOKEN,
            TELEGRAM_BOT_API_URL=fake.base_url,
            TOONZOO_MODEL=tiny_model_name,
            TOONZOO_DB=str(tmp_path / "db.sqlite"),
        )
        code, out = await run_cli(env, 120, "-v")
    assert [call.status for call in fake.all_calls] == [401]
    secret = REJECTED_TOKEN.split(":")[1]
    assert code == 2, out
    assert secret not in out and secret[:6] not in out and "Traceback" not in out
    assert failure_lines(out) == [
        (
            "toonzoo: Telegram rejected the bot token 123456789:… (TELEGRAM_BOT_TOKEN): check it, "
            "or get a new one from @BotFather."
        )
    ]
    assert out.rstrip("\n").endswith("@BotFather.")


async def test_unreachable_bot_api_is_one_line_naming_the_url(tmp_path, tiny_model_name):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    env = bot_env(
        TELEGRAM_BOT_TOKEN=REJECTED_TOKEN,
        TELEGRAM_BOT_API_URL=url,
        TOONZOO_MODEL=tiny_model_name,
        TOONZOO_DB=str(tmp_path / "db.sqlite"),
    )
    code, out = await run_cli(env)
    assert code == 1, out
    assert "Traceback" not in out and REJECTED_TOKEN.split(":")[1] not in out
    [line] = failure_lines(out)
    assert line.startswith(f"toonzoo: cannot reach the Telegram Bot API at {url} (")
    assert out.rstrip("\n").endswith("TELEGRAM_BOT_API_URL.")


@pytest.mark.parametrize("bad_db", ["/proc/nope/x.db", "not-sqlite"])
async def test_bad_db_is_one_line_before_telegram(tmp_path, tiny_model_name, bad_db):
    if bad_db == "not-sqlite":
        bad_db = str(tmp_path / "notes.db")
        (tmp_path / "notes.db").write_text("not a database\n" * 100)
    async with FakeBotApi() as fake:
        env = bot_env(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_BOT_API_URL=fake.base_url, TOONZOO_MODEL=tiny_model_name)
        code, out = await run_cli(env, 120, "--db", bad_db)
    assert code == 2 and fake.all_calls == []
    assert [line.split(":")[0] for line in failure_lines(out)] == ["toonzoo"]
    assert f"Cannot open the database {bad_db}: " in out and "Traceback" not in out


async def test_run_serves_pictures_and_stops_cleanly(tmp_path, tiny_model_name):
    async with FakeBotApi() as fake:
        ada = fake.add_user("Ada")
        chat = fake.add_private_chat(ada)
        process = await start_run(serving_env(fake, tmp_path, tiny_model_name))
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
        assert log.count("encoded") == 1 and "encoded 32 new labels" in log
        assert log.count("guesses are meaningless") == 1
        assert "(openai)" not in log and "open_clip_pytorch_model.bin" in log
        assert " root: " not in log and " INFO telegram" not in log  # library chatter stays at WARNING


async def test_run_rides_out_network_drops_without_tracebacks(tmp_path, tiny_model_name):
    async with FakeBotApi() as fake:
        ada = fake.add_user("Ada")
        chat = fake.add_private_chat(ada)
        process = await start_run(serving_env(fake, tmp_path, tiny_model_name))
        try:
            await fake.wait_for("setMyCommands", timeout=90)
            fake.fail_next("getUpdates", "drop")
            fake.fail_next("getUpdates", 502)
            fake.send_photo(chat, ada, png_bytes())  # ends the poll in flight; the next two fail
            await fake.wait_for("sendMessage", timeout=30)
            await until(lambda: {"drop", 502} <= {c.status for c in fake.all_calls if c.method == "getUpdates"}, 10)
            fake.send_photo(chat, ada, png_bytes())
            reply = await fake.wait_for("sendMessage", timeout=30)
            assert reply["text"].count("%") == 3
        finally:
            process.send_signal(signal.SIGINT)
            out, _ = await asyncio.wait_for(process.communicate(), 60)
        log = out.decode()
        assert process.returncode == 0, log
        assert "Traceback" not in log and " ERROR " not in log
        assert log.count("Telegram unreachable, retrying") == 2
