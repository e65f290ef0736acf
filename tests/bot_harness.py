"""Run the real bot (PTB Application, HTTP stack, polling) against FakeBotApi."""

import io

from PIL import Image

from toonzoo_tools.harness import running_bot, settings_for

__all__ = ["png_bytes", "running_bot", "settings_for", "webp_bytes"]


def png_bytes(size=(96, 96), colour=(200, 30, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(size=(128, 128)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 200)).save(buffer, "WEBP")
    return buffer.getvalue()
