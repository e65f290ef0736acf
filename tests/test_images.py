"""Decoding untrusted picture bytes: orientation, transparency, frames, limits."""

import io

import pytest
from PIL import Image

from classifier import errors
from classifier.images import decode_image, pad_to_square, to_rgb_on_white


def encode(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_png_rgb_square_passes_through():
    image = Image.new("RGB", (64, 64), (10, 200, 30))
    out = decode_image(encode(image, "PNG"))
    assert out.mode == "RGB" and out.size == (64, 64)
    assert out.getpixel((5, 5)) == (10, 200, 30)


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_transparency_becomes_white(mode):
    image = Image.new(mode, (40, 40), (0,) * len(mode))  # fully transparent black
    if mode == "RGBA":
        image.putpixel((20, 20), (255, 0, 0, 255))
    out = decode_image(encode(image, "PNG"))
    assert out.getpixel((1, 1)) == (255, 255, 255)
    if mode == "RGBA":
        assert out.getpixel((20, 20)) == (255, 0, 0)


def test_palette_with_transparency_becomes_white():
    image = Image.new("P", (32, 32), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.putpixel((16, 16), 1)
    out = decode_image(encode(image, "PNG", transparency=0))
    assert out.getpixel((0, 0)) == (255, 255, 255)
    assert out.getpixel((16, 16)) == (255, 0, 0)


def test_webp_sticker_transparency_is_white():
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    out = decode_image(encode(image, "WEBP", lossless=True))
    assert out.getpixel((3, 3)) == (255, 255, 255)


def test_exif_rotated_jpeg_comes_out_upright():
    # Stored 40 wide x 20 high with a dark left half; orientation 6 = rotate 90° clockwise to view.
    image = Image.new("RGB", (40, 20), (255, 255, 255))
    image.paste((0, 0, 0), (0, 0, 20, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(image, "JPEG", exif=exif.tobytes(), quality=95)
    out = decode_image(data)
    # Upright it is 20 wide x 40 high: padded to 40x40, the dark half is now on top.
    assert out.size == (40, 40)
    assert sum(out.getpixel((20, 5))) < 100
    assert sum(out.getpixel((20, 35))) > 700
    assert out.getpixel((2, 20)) == (255, 255, 255)  # white padding at the sides


def test_animated_gif_first_frame():
    frames = [Image.new("RGB", (32, 32), colour) for colour in [(255, 0, 0), (0, 0, 255)]]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    out = decode_image(data)
    red, _, blue = out.getpixel((16, 16))
    assert red > 200 and blue < 50


def test_bmp_and_greyscale_and_cmyk():
    assert decode_image(encode(Image.new("L", (30, 30), 128), "BMP")).getpixel((0, 0)) == (128, 128, 128)
    cmyk = decode_image(encode(Image.new("CMYK", (30, 30), (0, 0, 0, 0)), "JPEG"))
    assert cmyk.mode == "RGB" and min(cmyk.getpixel((5, 5))) > 240


def test_sixteen_bit_greyscale_is_scaled_not_clipped():
    image = Image.new("I;16", (30, 30), 32768)
    out = decode_image(encode(image, "PNG"))
    assert 120 <= out.getpixel((5, 5))[0] <= 135


def test_pad_to_square_centres_on_white():
    out = pad_to_square(Image.new("RGB", (100, 50), (0, 0, 0)))
    assert out.size == (100, 100)
    assert out.getpixel((50, 10)) == (255, 255, 255)
    assert out.getpixel((50, 50)) == (0, 0, 0)


def test_jpeg_draft_decodes_smaller_but_large_enough():
    data = encode(Image.new("RGB", (1280, 960), (200, 100, 50)), "JPEG")
    full = decode_image(data)
    drafted = decode_image(data, draft_size=224)
    assert full.size == (1280, 1280)
    assert 224 <= min(drafted.size) < 1280


def test_rgb_with_transparency_key_colour():
    image = Image.new("RGB", (20, 20), (1, 2, 3))
    out = to_rgb_on_white(Image.open(io.BytesIO(encode(image, "PNG", transparency=(1, 2, 3)))))
    assert out.getpixel((0, 0)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", errors.NotAnImage),
        (b"hello, this is text", errors.NotAnImage),
        (b"<svg xmlns='http://www.w3.org/2000/svg'></svg>", errors.NotAnImage),
        (b"%PDF-1.4\n%...", errors.NotAnImage),
    ],
)
def test_not_an_image(data, error):
    with pytest.raises(error) as caught:
        decode_image(data)
    assert caught.value.user_message


def test_truncated_jpeg_is_corrupt():
    data = encode(Image.effect_noise((256, 256), 50).convert("RGB"), "JPEG")
    with pytest.raises(errors.CorruptImage):
        decode_image(data[: len(data) // 2])


def test_truncated_png_is_corrupt():
    data = encode(Image.effect_noise((256, 256), 50).convert("RGB"), "PNG")
    with pytest.raises(errors.CorruptImage):
        decode_image(data[: len(data) // 2])


def test_too_many_bytes():
    with pytest.raises(errors.ImageTooLarge):
        decode_image(b"\0" * 101, max_bytes=100)


def test_decompression_bomb_rejected_before_decoding():
    # A 20000x20000 PNG is tiny on disk but 1.2 GB decoded: rejected from the header.
    data = encode(Image.new("1", (20000, 20000)), "PNG", optimize=True)
    assert len(data) < 200_000
    with pytest.raises(errors.ImageTooManyPixels):
        decode_image(data)


def test_absurdly_small():
    with pytest.raises(errors.ImageTooSmall):
        decode_image(encode(Image.new("RGB", (1, 1)), "PNG"))


def test_every_image_error_is_a_classifier_error_with_message():
    for cls in (
        errors.NotAnImage,
        errors.CorruptImage,
        errors.ImageTooLarge,
        errors.ImageTooManyPixels,
        errors.ImageTooSmall,
    ):
        assert issubclass(cls, errors.ImageError) and issubclass(cls, errors.ClassifierError)
        assert cls().user_message != errors.ClassifierError.user_message


def test_fit_size_shrinks_before_padding():
    strip = encode(Image.new("RGB", (8000, 20), (0, 0, 0)), "PNG")
    out = decode_image(strip, fit_size=224)
    assert out.size == (224, 224)
    column = [out.getpixel((112, y)) for y in range(224)]
    assert (0, 0, 0) in column[100:124] and column[5] == (255, 255, 255)
    small = decode_image(encode(Image.new("RGB", (100, 50)), "PNG"), fit_size=224)
    assert small.size == (100, 100)  # never enlarged
