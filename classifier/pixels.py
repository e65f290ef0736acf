"""From decoded pictures to the model's input batch, and JPEG decoding on the GPU.

:func:`pixel_plan` splits the model's preprocessing in two: the PIL part
(decode, fit, pad, resize to a square) runs wherever pictures are decoded, as
a torch-free :class:`~classifier.decode_pool.PixelPlan`; the tensor part
(``ToTensor`` + ``Normalize``) runs once per batch in :func:`to_model_input`, on
the model's device, over uint8 pictures (a quarter of the bytes to move). The
result equals ``preprocess(decode(bytes))`` bit for bit.

:func:`decode_jpegs` is the GPU path: a batch of JPEGs decoded by nvJPEG
(``torchvision.io.decode_jpeg(..., device="cuda")``), EXIF-rotated, fitted, padded
and resized with tensor ops on the same device, as the CPU path does with
Pillow. It differs from the CPU path only by resampling (Pillow decodes a
reduced-size draft first): measured cosine of image embeddings >= 0.99
(``tests/test_gpu_decode.py``). It runs on the CPU too (libjpeg-turbo), which
is how its arithmetic is tested without a GPU.
"""

import logging
import warnings
from collections.abc import Sequence
from typing import TypeGuard

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

from .decode_pool import PixelPlan
from .jpeg import JpegHeader
from .pipeline import ZeroShotClassifier, _fit_arguments

logger = logging.getLogger(__name__)

WHITE = 255
FIT_CHUNK = 32  # decoded pictures resized in one call: bounds the float copy (32 x 1280x960 x 3 x 4 B = 470 MB)
# torchvision 0.29 deprecates its decoders in favour of torchcodec; decode_jpeg still works and is what we use.
warnings.filterwarnings(
    "ignore", message="The image decoding and encoding capabilities of TorchVision", category=DeprecationWarning
)
_GPU_RESAMPLE: dict[int, str] = {Image.Resampling.BICUBIC: "bicubic", Image.Resampling.BILINEAR: "bilinear"}
_RGB_STEPS = ("MaybeConvertMode", "_convert_to_rgb")


def pixel_plan(classifier: ZeroShotClassifier) -> PixelPlan | None:
    """The PIL half of ``classifier``'s preprocessing, or None when it is not the usual
    ``Resize(side)``, ``CenterCrop(side)``, to-RGB, ``ToTensor``, ``Normalize`` (or decoding is overridden)."""
    if (
        type(classifier).decode is not ZeroShotClassifier.decode
        or type(classifier).preprocess is not ZeroShotClassifier.preprocess
    ):
        return None
    loaded = classifier.loaded
    side = loaded.image_size
    steps = list(getattr(loaded.preprocess, "transforms", ()))
    if len(steps) < 4:
        return None
    resize, crop, *middle, to_tensor, normalize = steps
    if not (isinstance(resize, transforms.Resize) and resize.size in (side, [side]) and resize.max_size is None):
        return None
    if not (isinstance(crop, transforms.CenterCrop) and tuple(crop.size) == (side, side)):
        return None
    if any(getattr(step, "mode", "RGB") != "RGB" or _name(step) not in _RGB_STEPS for step in middle):
        return None
    if not (isinstance(to_tensor, transforms.ToTensor) and isinstance(normalize, transforms.Normalize)):
        return None
    resample = transforms.functional.pil_modes_mapping.get(resize.interpolation)
    if resample is None:
        return None
    options = (("draft_size", side), *_fit_arguments(loaded).items())
    return PixelPlan(
        side=side,
        resample=int(resample),
        mean=tuple(map(float, normalize.mean)),
        std=tuple(map(float, normalize.std)),
        decode_options=tuple(options),
    )


def _name(step) -> str:
    return getattr(step, "__name__", type(step).__name__)


def to_model_input(parts: Sequence, plan: PixelPlan | None, device: torch.device) -> torch.Tensor:
    """One float32 ``[B, 3, side, side]`` batch on ``device`` from each request's pixels, in order.

    A part is a ``[side, side, 3]`` uint8 array (decoded on the CPU), a ``[3, side, side]``
    uint8 tensor (decoded on the GPU), or, without a plan, a preprocessed float tensor.
    """
    if plan is None:
        return torch.stack(list(parts)).to(device)
    batch = torch.empty((len(parts), 3, plan.side, plan.side), dtype=torch.float32, device=device)
    on_cpu = [i for i, part in enumerate(parts) if isinstance(part, np.ndarray)]
    on_device = [i for i, part in enumerate(parts) if not isinstance(part, np.ndarray)]
    if on_cpu:
        stacked = torch.from_numpy(np.stack([parts[i] for i in on_cpu])).to(device, non_blocking=True)
        _normalize_into(batch, on_cpu, stacked.permute(0, 3, 1, 2), plan)
    if on_device:
        _normalize_into(batch, on_device, torch.stack([parts[i].to(device) for i in on_device]), plan)
    return batch


def _normalize_into(batch: torch.Tensor, rows: list[int], pixels: torch.Tensor, plan: PixelPlan) -> None:
    """``ToTensor`` + ``Normalize``, the same float operations in the same order, for many pictures."""
    values = pixels.to(dtype=torch.float32, memory_format=torch.contiguous_format).div_(255)
    mean = torch.tensor(plan.mean, dtype=torch.float32, device=batch.device).view(1, -1, 1, 1)
    std = torch.tensor(plan.std, dtype=torch.float32, device=batch.device).view(1, -1, 1, 1)
    values.sub_(mean).div_(std)
    if len(rows) == len(batch):
        batch.copy_(values)
    else:
        batch[torch.tensor(rows, device=batch.device)] = values


# -- JPEG on the GPU -------------------------------------------------------------


def gpu_decoding_available(device: torch.device) -> bool:
    """True when torchvision can decode JPEGs onto ``device`` (on CUDA: built with nvJPEG, memory to spare)."""
    try:
        from torchvision.io import decode_jpeg
        from torchvision.io.image import ImageReadMode

        probe = _jpeg_tensor(_tiny_jpeg())
        decode_jpeg([probe], mode=ImageReadMode.RGB, device=device)
        return True
    except Exception as exc:  # noqa: BLE001 - no nvJPEG in this build, no GPU memory, ...: the CPU path
        logger.warning("GPU JPEG decoding unavailable, decoding on the CPU: %s", exc)
        return False


def plan_fits_gpu(plan: PixelPlan | None) -> TypeGuard[PixelPlan]:
    """The GPU path reproduces only plans whose resampling filters torch has (bicubic, bilinear)."""
    if plan is None or plan.resample not in _GPU_RESAMPLE:
        return False
    fit_resample = dict(plan.decode_options).get("resample", plan.resample)
    return fit_resample in _GPU_RESAMPLE


def decode_jpegs(
    datas: Sequence[bytes], headers: Sequence[JpegHeader], plan: PixelPlan, device: torch.device
) -> list[torch.Tensor | None]:
    """``[3, side, side]`` uint8 pictures on ``device``; None for a picture the decoder failed on
    (the caller sends it down the CPU path, which gives the user its precise error)."""
    from torchvision.io import decode_jpeg
    from torchvision.io.image import ImageReadMode

    inputs = [_jpeg_tensor(data) for data in datas]
    try:
        decoded: list = decode_jpeg(inputs, mode=ImageReadMode.RGB, device=device)
    except Exception:  # one bad picture fails the whole call: try each alone
        logger.info("batched JPEG decoding failed; decoding %d pictures one by one", len(inputs), exc_info=True)
        decoded = []
        for tensor in inputs:
            try:
                decoded.append(decode_jpeg(tensor, mode=ImageReadMode.RGB, device=device))
            except Exception:  # noqa: BLE001 - whatever the decoder says, the CPU path explains it to the user
                decoded.append(None)
    results: list[torch.Tensor | None] = [None] * len(inputs)
    groups: dict[tuple, list[int]] = {}  # pictures of one size are fitted in one call (phone photos share sizes)
    for index, (image, header) in enumerate(zip(decoded, headers)):
        if image is not None:
            decoded[index] = image = orient(image, header.orientation or 1)
            groups.setdefault(tuple(image.shape), []).append(index)
    for indices in groups.values():
        for start in range(0, len(indices), FIT_CHUNK):
            chunk = indices[start : start + FIT_CHUNK]
            try:
                fitted = fit_square(torch.stack([decoded[i] for i in chunk]), plan)
            except Exception:
                logger.warning("fitting %d decoded JPEGs failed; decoding them on the CPU", len(chunk), exc_info=True)
                continue
            for i, picture in zip(chunk, fitted):
                results[i] = picture
    return results


def orient(image: torch.Tensor, orientation: int) -> torch.Tensor:
    """Apply EXIF ``orientation`` (1-8) to a ``[C, H, W]`` picture, as ``ImageOps.exif_transpose`` does."""
    if orientation == 2:
        return image.flip(-1)
    if orientation == 3:
        return image.flip(-1, -2)
    if orientation == 4:
        return image.flip(-2)
    if orientation == 5:
        return image.transpose(-1, -2)
    if orientation == 6:
        return image.rot90(-1, (-2, -1))
    if orientation == 7:
        return image.transpose(-1, -2).flip(-1, -2)
    if orientation == 8:
        return image.rot90(1, (-2, -1))
    return image


def fit_square(image: torch.Tensor, plan: PixelPlan) -> torch.Tensor:
    """Fit, pad with white and resize ``[3, H, W]`` uint8 pictures (or ``[N, 3, H, W]`` of one size)
    as ``PixelPlan.pixels`` does with Pillow."""
    if image.dim() == 3:
        return fit_square(image[None], plan)[0]
    options = dict(plan.decode_options)
    fit, fit_resample = options.get("fit_size"), options.get("resample", plan.resample)
    height, width = image.shape[-2:]  # [N, 3, H, W]
    if fit and max(width, height) > fit:
        scale = fit / max(width, height)
        width, height = max(1, round(width * scale)), max(1, round(height * scale))
        image = _resize(image, height, width, fit_resample)
    side = max(width, height)
    if width != height:
        square = torch.full((len(image), 3, side, side), WHITE, dtype=torch.uint8, device=image.device)
        top, left = (side - height) // 2, (side - width) // 2
        square[..., top : top + height, left : left + width] = image
        image = square
    if side != plan.side:
        image = _resize(image, plan.side, plan.side, plan.resample)
    return image


def _resize(image: torch.Tensor, height: int, width: int, resample: int) -> torch.Tensor:
    """Pillow-style antialiased resampling (torch's ``antialias=True`` follows Pillow's filters)."""
    values = torch.nn.functional.interpolate(
        image.float(), size=(height, width), mode=_GPU_RESAMPLE[resample], antialias=True, align_corners=False
    )
    return values.round_().clamp_(0, 255).to(torch.uint8)


def _jpeg_tensor(data: bytes) -> torch.Tensor:
    return torch.from_numpy(np.frombuffer(data, dtype=np.uint8).copy())


def _tiny_jpeg() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 255, 255)).save(buffer, format="JPEG")
    return buffer.getvalue()
