"""Pictures for tests: the one PNG maker, and a WEBP."""

import io

import numpy as np
from PIL import Image


def png_bytes(size=(96, 96), colour=(200, 30, 30), mode="RGB", seed: int | None = None) -> bytes:
    """A PNG of ``size`` in ``mode``: a solid ``colour``, or with ``seed`` random blocks
    (6 × 8, upscaled, random alpha too), a distinct picture per seed."""
    if seed is None:
        image = Image.new(mode, size, colour)
    else:
        blocks = np.random.default_rng(seed).integers(0, 256, (6, 8, 4), dtype=np.uint8)
        image = Image.fromarray(blocks, "RGBA").resize(size, Image.NEAREST).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes(size=(128, 128)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, (0, 120, 0, 200)).save(buffer, "WEBP")
    return buffer.getvalue()
