"""Run the real bot (PTB Application, HTTP stack, polling) against FakeBotApi."""

import contextlib
import io
from pathlib import Path

from fake_bot_api import FakeBotApi
from PIL import Image

from bot.app import build_application
from bot.config import Settings


def png_bytes(size=(96, 96), colour=(200, 30, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(size=(128, 128)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 200)).save(buffer, "WEBP")
    return buffer.getvalue()


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
