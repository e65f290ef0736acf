"""Property-based tests: decoding never fails in any way but a typed ImageError."""

import io
import struct
import zlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from classifier.errors import ImageError
from classifier.images import decode_image

MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I;16"]
FORMATS = {
    "PNG": {"1", "L", "LA", "P", "RGB", "RGBA", "I;16"},
    "JPEG": {"L", "RGB", "CMYK"},
    "GIF": {"L", "P"},
    "BMP": {"1", "L", "P", "RGB"},
    "WEBP": {"RGB", "RGBA"},
}


def check_decodes_or_typed_error(data: bytes) -> None:
    try:
        image = decode_image(data)
    except ImageError as exc:  # a picture decodes or fails with a typed error: either way is a pass
        assert exc.user_message  # noqa: PT017 - no pytest.raises: raising is allowed, not required
        return
    assert image.mode == "RGB" and image.size[0] == image.size[1]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_arbitrary_bytes(data):
    check_decodes_or_typed_error(data)


@st.composite
def encoded_images(draw):
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(sorted(FORMATS[fmt])))
    width, height = draw(st.integers(1, 80)), draw(st.integers(1, 80))
    image = Image.new(mode, (width, height))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue(), (width, height)


@settings(max_examples=150, deadline=None)
@given(encoded_images())
def test_valid_images_become_white_padded_squares(case):
    data, (width, height) = case
    try:
        image = decode_image(data, min_side=16)
    except ImageError:
        assert min(width, height) < 16
        return
    assert image.mode == "RGB" and image.size == (max(width, height),) * 2


@settings(max_examples=150, deadline=None)
@given(encoded_images(), st.data())
def test_damaged_images(case, data):
    """Flip, cut or splice bytes of a valid picture: still only typed errors."""
    blob = bytearray(case[0])
    action = data.draw(st.sampled_from(["cut", "flip", "splice"]))
    if action == "cut":
        blob = blob[: data.draw(st.integers(0, len(blob)))]
    elif action == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            index = data.draw(st.integers(0, len(blob) - 1))
            blob[index] ^= data.draw(st.integers(1, 255))
    else:
        at = data.draw(st.integers(0, len(blob)))
        blob[at:at] = data.draw(st.binary(min_size=1, max_size=64))
    check_decodes_or_typed_error(bytes(blob))


def _png_with_bad_crc(chunk: bytes) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (9, 9, 9)).save(buffer, "PNG")
    blob = bytearray(buffer.getvalue())
    at = blob.index(chunk)
    length = struct.unpack(">I", blob[at - 4 : at])[0]
    crc_at = at + 4 + length
    blob[crc_at : crc_at + 4] = struct.pack(">I", zlib.crc32(b"wrong") & 0xFFFFFFFF)
    return bytes(blob)


def test_png_with_wrong_header_crc_is_refused():
    try:
        decode_image(_png_with_bad_crc(b"IHDR"))
    except ImageError:
        return
    raise AssertionError("a PNG with a bad header CRC decoded silently")


def test_png_with_wrong_data_crc_still_shows_its_pixels():
    """Pillow does not check IDAT checksums; intact pixels are worth a guess."""
    image = decode_image(_png_with_bad_crc(b"IDAT"))
    assert image.getpixel((5, 5)) == (9, 9, 9)
