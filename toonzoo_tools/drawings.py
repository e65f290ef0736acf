"""Synthetic drawings for the benchmark and the stress run: phone photos of felt-pen doodles."""

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PICTURE_SIZE = (1280, 960)
PALETTE = [(30, 30, 35), (200, 40, 40), (40, 90, 200), (40, 150, 60), (240, 180, 30), (150, 60, 160)]


def make_drawing_jpeg(seed: int, size: tuple[int, int] = PICTURE_SIZE, quality: int = 90) -> bytes:
    """A phone photo of a felt-pen drawing: lit paper with sensor noise, strokes, filled shapes."""
    rng = np.random.default_rng(seed)
    width, height = size
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    light = 235 - 30 * ((xs - rng.uniform(0.2, 0.8)) ** 2 + (ys - rng.uniform(0.2, 0.8)) ** 2)
    paper = light[..., None] * np.array([1.0, 0.98, 0.93], dtype=np.float32)
    paper = paper + 4 * rng.standard_normal((height, width, 3), dtype=np.float32)
    image = Image.fromarray(np.clip(paper, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(4, 9))):
        colour = PALETTE[int(rng.integers(len(PALETTE)))]
        x0, y0 = rng.uniform(0.1, 0.7) * width, rng.uniform(0.1, 0.7) * height
        box = [x0, y0, x0 + rng.uniform(0.08, 0.3) * width, y0 + rng.uniform(0.08, 0.3) * height]
        if rng.random() < 0.5:
            draw.ellipse(box, fill=colour if rng.random() < 0.4 else None, outline=PALETTE[0], width=6)
        else:
            draw.rectangle(box, fill=colour if rng.random() < 0.4 else None, outline=PALETTE[0], width=6)
    for _ in range(int(rng.integers(6, 14))):  # wobbly pen strokes
        steps = rng.normal(0, 18, (40, 2)).cumsum(axis=0) + rng.uniform(0.15, 0.85, 2) * (width, height)
        draw.line(
            [tuple(p) for p in steps], fill=PALETTE[int(rng.integers(len(PALETTE)))], width=int(rng.integers(3, 9))
        )
    image = image.filter(ImageFilter.GaussianBlur(0.8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()
