"""Draws ``giraffe.png``, the sample doodle of the README's quick start (a child's-style line drawing).

python examples/draw_giraffe.py   # rewrites examples/giraffe.png
"""

from pathlib import Path

from PIL import Image, ImageDraw

INK = (40, 30, 20)
YELLOW = (250, 200, 60)
BROWN = (150, 90, 30)


def draw_giraffe(size: int = 256) -> Image.Image:
    """A yellow giraffe with brown spots, a long neck and four legs, on white paper."""
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    s = size / 256
    box = lambda *xy: [round(v * s) for v in xy]  # noqa: E731
    for x in (92, 112, 160, 180):  # legs
        pen.rectangle(box(x, 150, x + 10, 230), fill=YELLOW, outline=INK, width=3)
    pen.ellipse(box(80, 110, 200, 165), fill=YELLOW, outline=INK, width=3)  # body
    pen.polygon(box(165, 125, 185, 125, 205, 40, 190, 36), fill=YELLOW, outline=INK, width=3)  # neck
    pen.ellipse(box(180, 22, 232, 50), fill=YELLOW, outline=INK, width=3)  # head
    for x in (192, 204):  # horns
        pen.line(box(x, 24, x - 2, 10), fill=INK, width=3)
        pen.ellipse(box(x - 6, 5, x + 2, 13), fill=BROWN)
    pen.ellipse(box(212, 30, 218, 36), fill=INK)  # eye
    for x, y in ((100, 125), (130, 118), (150, 140), (115, 145), (175, 135), (188, 80), (182, 105)):
        pen.ellipse(box(x - 7, y - 6, x + 7, y + 6), fill=BROWN)  # spots
    pen.line(box(82, 125, 62, 150), fill=INK, width=3)  # tail
    pen.line(box(20, 232, 236, 232), fill=(90, 160, 60), width=4)  # grass
    return image


if __name__ == "__main__":
    path = Path(__file__).with_name("giraffe.png")
    draw_giraffe().quantize(16).save(path, optimize=True)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
