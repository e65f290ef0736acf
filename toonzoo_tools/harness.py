"""Run the real bot (PTB Application, HTTP stack, polling) against FakeBotApi, for tests and load tools."""

import contextlib
from pathlib import Path

from bot.app import build_application
from bot.config import Settings

from .fake_bot_api import FakeBotApi


def settings_for(fake: FakeBotApi, db_path: Path, **overrides) -> Settings:
    return Settings(token=fake.token, api_url=fake.base_url, db_path=db_path, **overrides)


@contextlib.asynccontextmanager
async def running_bot(fake: FakeBotApi, settings: Settings, classifier, build=build_application):
    """Start the bot polling the fake server; stop it cleanly afterwards."""
    application = build(settings, classifier)
    async with application:  # initialize (getMe) ... shutdown
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0, timeout=1)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()
            await application.post_shutdown(application)
