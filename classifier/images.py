"""Turn untrusted bytes into an upright, square RGB picture for CLIP.

Drawings arrive as phone photos (EXIF-rotated JPEGs), stickers (WebP with
transparency), screenshots (PNG), GIFs. ``decode_image`` applies EXIF
orientation, composites transparency onto white paper, keeps the first frame of
animations, and pads to a white square so the model's centre crop never cuts
the edges of a doodle. Every failure is a typed :mod:`classifier.errors` error.
"""

import io
import logging
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .defaults import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS
from .errors import CorruptImage, ImageTooLarge, ImageTooManyPixels, ImageTooSmall, NotAnImage

logger = logging.getLogger(__name__)

MIN_SIDE = 16
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")  # phone MPO files open as JPEG
WHITE = (255, 255, 255)


def read_size(data: bytes, formats: tuple[str, ...] = FORMATS) -> tuple[int, int]:
    """A picture's (width, height) from its header alone (PNG IHDR, JPEG SOF, WebP), decoding no pixel.

    Pillow's ``Image.open`` is lazy: it reads the header and stops. Lets a caller
    refuse a picture too large for it before paying for the decode.
    """
    with _open(data, formats) as image:
        return image.size


def _open(data: bytes, formats: tuple[str, ...] = FORMATS) -> Image.Image:
    """The picture opened lazily (its header read, no pixel decoded), or the classifier's error for it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=formats)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooManyPixels(str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise NotAnImage("not a supported image format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise CorruptImage(f"cannot open: {exc}") from exc


def decode_image(
    data: bytes,
    *,
    draft_size: int | None = None,
    fit_size: int | None = None,
    resample: int = Image.Resampling.BICUBIC,
    max_bytes: int = MAX_PICTURE_BYTES,
    max_pixels: int = MAX_PICTURE_PIXELS,
    min_side: int = MIN_SIDE,
) -> Image.Image:
    """Decode ``data`` into a square RGB image on a white background.

    ``draft_size`` lets JPEGs decode at a reduced scale that still covers
    ``draft_size`` pixels on the short side (several times faster for photos).
    ``fit_size`` shrinks the picture (with ``resample``) so its long side is
    ``fit_size`` before padding: the square then needs no further resizing, and a
    huge or very elongated picture never becomes a huge square.
    """
    if len(data) > max_bytes:
        raise ImageTooLarge(f"{len(data)} bytes > {max_bytes}")
    if not data:
        raise NotAnImage("empty file", file_message="empty file")
    image = _open(data)
    width, height = image.size
    if width * height > max_pixels:
        raise ImageTooManyPixels(
            f"{width}x{height} > {max_pixels} pixels",
            file_message=f"picture of {width}×{height} pixels, over {max_pixels / 10**6:g} megapixels",
        )
    if min(width, height) < min_side:
        raise ImageTooSmall(
            f"{width}x{height} < {min_side} px",
            file_message=f"picture too small: {width}×{height} pixels (at least {min_side} a side)",
        )

    try:
        if draft_size and image.format in ("JPEG", "MPO"):
            image.draft("RGB", (draft_size, draft_size))
        image.load()  # first frame only
    except Image.DecompressionBombError as exc:
        raise ImageTooManyPixels(str(exc)) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise CorruptImage(f"cannot decode: {exc}") from exc

    image = to_rgb_on_white(_apply_exif_orientation(image))
    if fit_size and max(image.size) > fit_size:
        scale = fit_size / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, resample)
    return pad_to_square(image)


def _apply_exif_orientation(image: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(image)
    except Exception as exc:  # noqa: BLE001 - a broken EXIF block, whatever Pillow raises, must not lose the picture
        logger.info("ignoring unreadable EXIF orientation: %s", exc)
        return image


def to_rgb_on_white(image: Image.Image) -> Image.Image:
    """Convert any mode to RGB; transparent pixels become white paper."""
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        image = _high_depth_to_l(image)
    keyed = image.mode in ("L", "RGB") and "transparency" in image.info  # one colour marked transparent
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode in ("LA", "La", "PA", "RGBa") or keyed:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        paper = Image.new("RGBA", image.size, (*WHITE, 255))
        paper.alpha_composite(image)
        return paper.convert("RGB")
    if image.mode != "RGB":
        image = image.convert("RGB")
    return image


def _high_depth_to_l(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale to 8-bit by scaling, not clipping."""
    values = np.asarray(image, dtype=np.float32)
    top = float(values.max()) if values.size else 0.0
    if top <= 1.0:
        scale = 255.0
    elif top <= 255.0:
        scale = 1.0
    else:
        scale = 255.0 / 65535.0
    return Image.fromarray(np.clip(values * scale, 0, 255).astype(np.uint8), mode="L")


def pad_to_square(image: Image.Image, fill: tuple[int, int, int] = WHITE) -> Image.Image:
    """Centre ``image`` on a square of ``fill`` colour (no-op when already square)."""
    width, height = image.size
    if width == height:
        return image
    side = max(width, height)
    square = Image.new("RGB", (side, side), fill)
    square.paste(image, ((side - width) // 2, (side - height) // 2))
    return square
