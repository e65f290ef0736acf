"""JPEG decoding on the model's device: which pictures may take it (pure header reading), its
arithmetic against Pillow's (run on the CPU, the same code as on CUDA), the engine's routing and
fallbacks, and on a CUDA machine the real nvJPEG path against the CPU path (skipped elsewhere)."""

import asyncio
import dataclasses
import io
import struct

import numpy as np
import pytest
import torch
from helpers.pictures import png_bytes
from PIL import Image, ImageOps

from classifier.engine import Engine
from classifier.errors import CorruptImage, ImageTooSmall, NotAnImage
from classifier.jpeg import gpu_fallback_reason, read_header
from classifier.pipeline import ZeroShotClassifier
from classifier.pixels import (
    decode_jpegs,
    fit_square,
    orient,
    pixel_plan,
    to_model_input,
)
from toonzoo_tools.drawings import make_drawing_jpeg

CPU = torch.device("cpu")
# The tolerance the GPU path is held to: cosine of image embeddings against the CPU path.
MIN_COSINE = 0.99
ANIMALS = ["cat", "dog", "fox", "owl"]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def photo(size=(640, 480), seed=0, orientation=None, mode="RGB", **save) -> bytes:
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize(size, Image.BILINEAR)
    buffer = io.BytesIO()
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        save["exif"] = exif.tobytes()
    image.convert(mode).save(buffer, format="JPEG", quality=92, **save)
    return buffer.getvalue()


def undefined_quantisation_table(data: bytes) -> bytes:
    """A JPEG whose header reads fine but whose first component names a table that isn't there."""
    damaged = bytearray(data)
    damaged[damaged.index(b"\xff\xc0") + 12] = 3
    return bytes(damaged)


def big_endian_exif(orientation: int) -> bytes:
    """An APP1 EXIF block written by hand in Motorola byte order (Pillow writes Intel order)."""
    tiff = b"MM\x00*" + struct.pack(">I", 8) + struct.pack(">H", 1)
    tiff += struct.pack(">HHI", 0x0112, 3, 1) + struct.pack(">H", orientation) + b"\x00\x00" + b"\x00" * 4
    return b"Exif\x00\x00" + tiff


# -- which pictures go to the GPU (pure) ------------------------------------------------------


def test_header_of_ordinary_and_unusual_jpegs():
    header = read_header(photo((640, 480)))
    assert (header.width, header.height, header.components, header.precision, header.sof) == (640, 480, 3, 8, 0xC0)
    assert header.orientation == 1
    assert read_header(photo(mode="L")).components == 1
    assert read_header(photo(mode="CMYK")).components == 4
    assert read_header(photo(progressive=True)).sof == 0xC2
    assert read_header(photo(orientation=6)).orientation == 6
    data = photo()
    with_exif = data[:2] + b"\xff\xe1" + struct.pack(">H", len(big_endian_exif(8)) + 2) + big_endian_exif(8) + data[2:]
    assert read_header(with_exif).orientation == 8
    assert read_header(with_exif).width == 640


def test_header_of_things_that_are_not_readable_jpegs():
    assert read_header(png_bytes()) is None
    assert read_header(b"") is None
    assert read_header(photo()[:20]) is None  # cut off before the frame header
    broken_exif = b"Exif\x00\x00" + b"XX*\x00garbage"
    data = photo()
    damaged = data[:2] + b"\xff\xe1" + struct.pack(">H", len(broken_exif) + 2) + broken_exif + data[2:]
    assert read_header(damaged).orientation is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (photo(), None),
        (photo(mode="L"), None),
        (photo(orientation=8), None),
        (png_bytes(), "not a readable JPEG"),
        (photo(progressive=True), "progressive"),
        (photo(mode="CMYK"), "CMYK or unusual colour components"),
        (photo((12, 400)), "too small"),
        (photo()[: len(photo()) // 2], "cut off (no end-of-image marker)"),
    ],
)
def test_gpu_fallback_reason(data, reason):
    assert gpu_fallback_reason(data, read_header(data)) == reason


def test_gpu_fallback_reason_for_limits():
    data = photo((640, 480))
    header = read_header(data)
    assert gpu_fallback_reason(data, header, max_pixels=640 * 480 - 1) == "too many pixels"
    assert gpu_fallback_reason(data, header, max_bytes=len(data) - 1) == "too many bytes"
    assert gpu_fallback_reason(data, dataclasses.replace(header, orientation=None)) == "unreadable EXIF orientation"


# -- the tensor path's arithmetic, on the CPU --------------------------------------------------


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_matches_pillows_exif_transpose(orientation):
    data = photo((60, 40), seed=orientation, orientation=orientation)
    want = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(data))))
    plain = np.array(Image.open(io.BytesIO(data)).convert("RGB"))
    got = orient(torch.from_numpy(plain).permute(2, 0, 1), orientation).permute(1, 2, 0).numpy()
    assert np.array_equal(got, want)


def test_fit_square_on_an_undecoded_picture_equals_pillow_closely(classifier):
    """Same decoded pixels in: the GPU path's fit, pad and resize stay within a grey level or two of Pillow's."""
    plan = dataclasses.replace(
        pixel_plan(classifier),
        decode_options=tuple((k, v) for k, v in pixel_plan(classifier).decode_options if k != "draft_size"),
    )
    for data in (photo((640, 480)), photo((300, 800), seed=1), photo((50, 40), seed=2)):
        want = plan.pixels(data).astype(np.int16)
        plain = torch.from_numpy(np.array(Image.open(io.BytesIO(data)).convert("RGB"))).permute(2, 0, 1)
        got = fit_square(plain, plan).permute(1, 2, 0).numpy().astype(np.int16)
        assert got.shape == want.shape
        assert np.abs(got - want).mean() < 1.0 and np.abs(got - want).max() <= 24


TENSOR_PATH_PICTURES = [make_drawing_jpeg(seed) for seed in range(4)] + [
    photo(orientation=6),
    photo((50, 40), mode="L"),
]


def test_tensor_path_pictures_match_the_cpu_path(classifier):
    """Full decode + antialiased resize vs Pillow's reduced-size draft + resize: close, not equal."""
    plan = pixel_plan(classifier)
    pictures = TENSOR_PATH_PICTURES
    decoded = decode_jpegs(pictures, [read_header(p) for p in pictures], plan, CPU)
    assert all(d is not None and d.shape == (3, plan.side, plan.side) for d in decoded)
    for data, got in zip(pictures, decoded):
        want = torch.from_numpy(plan.pixels(data)).permute(2, 0, 1)
        assert (got.int() - want.int()).abs().float().mean() < 3.0


def test_tensor_path_embeddings_match_the_cpu_path(tiny_classifier):
    plan = pixel_plan(tiny_classifier)
    pictures = TENSOR_PATH_PICTURES
    decoded = decode_jpegs(pictures, [read_header(p) for p in pictures], plan, CPU)
    on_device = tiny_classifier.embed_images(to_model_input(decoded, plan, CPU))
    on_cpu = tiny_classifier.embed_images(to_model_input([plan.pixels(p) for p in pictures], plan, CPU))
    assert (on_device * on_cpu).sum(-1).min() >= MIN_COSINE


def test_a_jpeg_the_decoder_fails_on_comes_back_as_none(classifier):
    plan = pixel_plan(classifier)
    good = photo()
    bad = undefined_quantisation_table(good)
    results = decode_jpegs([good, bad], [read_header(good), read_header(bad)], plan, CPU)
    assert results[0] is not None and results[1] is None


# -- the engine's routing, with the tensor path on the CPU -------------------------------------


async def test_engine_routes_jpegs_to_the_tensor_path_and_falls_back(tiny_classifier):
    pictures = [make_drawing_jpeg(0), photo(orientation=6), photo(progressive=True), png_bytes(), photo(mode="CMYK")]
    async with Engine(tiny_classifier, gpu_decode=True) as engine:
        results = await asyncio.gather(*(engine.classify(p, ANIMALS) for p in pictures))
        stats = engine.stats
        assert stats.device_decoded == 2 and stats.device_decode_fallbacks == 0
        with pytest.raises(CorruptImage):  # passes the header check, the decoder fails, Pillow explains
            await engine.classify(undefined_quantisation_table(photo()), ANIMALS)
        assert engine.stats.device_decode_fallbacks == 1
        with pytest.raises(CorruptImage):  # cut off: never sent to the tensor path
            await engine.classify(photo()[: len(photo()) // 2], ANIMALS)
        with pytest.raises(ImageTooSmall):  # never sent to the tensor path
            await engine.classify(photo((12, 400)), ANIMALS)
        with pytest.raises(NotAnImage):
            await engine.classify(b"\xff\xd8\xff not really", ANIMALS)
        assert engine.stats.device_decoded == 2 and engine.stats.device_decode_fallbacks == 1
    async with Engine(tiny_classifier) as engine:  # on a CPU the default is Pillow for everything
        plain = await asyncio.gather(*(engine.classify(p, ANIMALS) for p in pictures))
        assert engine.stats.device_decoded == 0
    for got, want in zip(results, plain):
        assert len(got) == 3 and all(abs(g.score - w.score) < 0.05 for g, w in zip(got, want))


# -- nvJPEG on a CUDA machine ------------------------------------------------------------------


@pytest.fixture(scope="module")
def cuda_classifier(tiny_model_name):
    from classifier.model import load_model

    return ZeroShotClassifier(load_model(tiny_model_name, device="cuda", precision="fp32"))


@cuda
def test_nvjpeg_embeddings_match_the_cpu_path(cuda_classifier):
    plan = pixel_plan(cuda_classifier)
    device = cuda_classifier.loaded.device
    pictures = [make_drawing_jpeg(seed) for seed in range(16)] + [photo(orientation=o, seed=o) for o in range(1, 9)]
    decoded = decode_jpegs(pictures, [read_header(p) for p in pictures], plan, device)
    assert all(d is not None and d.device.type == "cuda" for d in decoded)
    on_gpu = cuda_classifier.embed_images(to_model_input(decoded, plan, device))
    on_cpu = cuda_classifier.embed_images(to_model_input([plan.pixels(p) for p in pictures], plan, device))
    assert (on_gpu * on_cpu).sum(-1).min() >= MIN_COSINE
    cpu_decoded = decode_jpegs(pictures, [read_header(p) for p in pictures], plan, CPU)
    for gpu, cpu in zip(decoded, cpu_decoded):  # nvJPEG's IDCT vs libjpeg-turbo's: a grey level or so
        assert (gpu.cpu().int() - cpu.int()).abs().float().mean() < 1.5


@cuda
async def test_engine_on_cuda_decodes_jpegs_on_the_gpu_and_falls_back(cuda_classifier):
    pictures = [make_drawing_jpeg(0), photo(orientation=3), photo(progressive=True), png_bytes(), photo(mode="CMYK")]
    async with Engine(cuda_classifier) as engine:
        results = await asyncio.gather(*(engine.classify(p, ANIMALS) for p in pictures))
        assert engine.stats.device_decoded == 2
        for damaged in (undefined_quantisation_table(photo()), photo()[: len(photo()) // 2]):
            with pytest.raises(CorruptImage):
                await engine.classify(damaged, ANIMALS)
    async with Engine(cuda_classifier, gpu_decode=False) as engine:
        plain = await asyncio.gather(*(engine.classify(p, ANIMALS) for p in pictures))
        assert engine.stats.device_decoded == 0
    for got, want in zip(results, plain):
        assert all(abs(g.score - w.score) < 0.05 for g, w in zip(got, want))
