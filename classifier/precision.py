"""Precision: what each one's matrix multiply runs at on this CPU, which one ``auto`` takes, and int8.

A precision picked by name alone is a trap: bf16 is native on CPUs with
AVX-512 BF16 or AMX and about 100x slower than fp32 where it is emulated
(AVX2 only); fp16 is emulated on most CPUs. ``auto`` on a CPU therefore times
one linear layer of ViT-B's shape (768 -> 3072, 128 rows: a few pictures' tokens)
in each precision that keeps quality and takes the fastest, fp32 unless
another beats it by ``MIN_GAIN``; int8 only for models whose image FLOPs are
mostly in linear layers (ViTs: it leaves convolutions in fp32). The probe
takes well under a second and runs once a process.

int8 is dynamic quantization (``torch.ao.quantization.quantize_dynamic``):
every ``nn.Linear`` of both towers gets int8 weights (per output channel) and
int8 activations scaled per call; the rest (patch embedding, layer norms,
softmax) stays fp32. ``nn.MultiheadAttention`` keeps its input projection as a
bare parameter, out of the quantizer's reach (three tenths of a ViT's FLOPs),
so it is first rewritten as :class:`SelfAttention` with the same weights as two
``nn.Linear``. Activations are scaled over the whole batch, so a picture's
embedding moves slightly with its batch-mates (cosine >= 0.999 to fp32).
"""

import functools
import logging
import statistics
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

logger = logging.getLogger(__name__)

CPU_CANDIDATES = ("fp32", "bf16", "int8")  # precisions that keep quality on a CPU (fp16 is emulated)
MIN_GAIN = 1.15  # leave fp32 only for a clear win: the probe's spread on a shared machine is ~10%
PROBE_SHAPE = (128, 768, 3072)  # rows, in, out: one ViT-B MLP layer over a few pictures' tokens
PROBE_SECONDS = 0.08  # per precision and round; a precision slower than this per call runs once
PROBE_ROUNDS = 3  # interleaved, so a burst of other load falls on every precision alike
# Dynamic int8 quantizes linear layers only. Measured here: ViT-B/32 (97% of its image FLOPs in linear
# layers) ran 2.5-2.8x fp32 in int8; MobileCLIP2-S0 (6%, the rest convolutions) 0.92x.
INT8_MIN_LINEAR_SHARE = 0.5
PEAK_SHAPE = (1600, 768, 3072)  # the same layer over 32 pictures: the machine's matmul peak
_DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class PrecisionChoice:
    """What ``auto`` chose, why, and the GFLOP/s it measured for each candidate."""

    precision: str
    reason: str
    gflops: Mapping[str, float]


def choose_precision(
    gflops: Mapping[str, float], *, min_gain: float = MIN_GAIN, linear_share: float | None = None
) -> PrecisionChoice:
    """The fastest measured precision if it beats fp32 by ``min_gain``, else fp32 (pure).

    ``linear_share``: the part of the model's image FLOPs in linear layers, when known. int8 speeds up
    linear layers only, so below ``INT8_MIN_LINEAR_SHARE`` (convolutional image towers) it is no candidate.
    """
    base = gflops.get("fp32", 0.0)
    rates = ", ".join(f"{name} {rate:.1f}" for name, rate in gflops.items())
    candidates = dict(gflops)
    why_not_int8 = ""
    if "int8" in candidates and linear_share is not None and linear_share < INT8_MIN_LINEAR_SHARE:
        del candidates["int8"]
        why_not_int8 = f"; not int8: it speeds up linear layers, {linear_share:.0%} of this model's image FLOPs"
    best = max(candidates, key=candidates.__getitem__) if candidates else "fp32"
    if best != "fp32" and base > 0 and candidates[best] >= min_gain * base:
        reason = (
            f"{best} ran {candidates[best] / base:.1f}x fp32 in the start-up probe (GFLOP/s: {rates}){why_not_int8}"
        )
        return PrecisionChoice(best, reason, dict(gflops))
    reason = f"nothing beat fp32 by {min_gain:g}x in the start-up probe (GFLOP/s: {rates}){why_not_int8}"
    return PrecisionChoice("fp32", reason, dict(gflops))


def image_flop_counts(model: Any, pixels: torch.Tensor) -> dict[str, int]:
    """FLOPs of an open_clip ``model.encode_image(pixels)`` by operation (``"mm"``, ``"convolution"``, ...),
    from torch's FLOP counter: matmuls, convolutions, attention; not the element-wise rest. Works on a
    model built on the meta device (shapes only: no memory, no time).

    Counted with autograd on: without it ``nn.MultiheadAttention`` takes its fused inference kernel,
    which the counter does not see (ViT-B/32 would count 5.9 GFLOP instead of 8.7).
    """
    from torch.utils.flop_counter import FlopCounterMode

    with torch.enable_grad(), FlopCounterMode(display=False) as counter:
        model.encode_image(pixels)
    return {str(op).split(".")[1]: int(count) for op, count in counter.get_flop_counts()["Global"].items()}


def linear_flop_share(counts: Mapping[str, int]) -> float:
    """The part of :func:`image_flop_counts` in matrix multiplies: what dynamic int8 can speed up."""
    total = sum(counts.values())
    return sum(counts.get(op, 0) for op in ("mm", "addmm", "bmm")) / total if total else 1.0


def linear_layer(precision: str, shape: tuple[int, int, int] = PROBE_SHAPE) -> Callable[[], torch.Tensor]:
    """One call of a linear layer of ``shape`` (rows, in, out) in ``precision``, ready to time."""
    rows, width, out = shape
    generator = torch.Generator().manual_seed(0)
    layer: nn.Module = nn.Linear(width, out)
    inputs = torch.randn(rows, width, generator=generator)
    if precision == "int8":
        layer = quantize_linears(nn.Sequential(layer))
    else:
        layer, inputs = layer.to(_DTYPES[precision]), inputs.to(_DTYPES[precision])

    def call() -> torch.Tensor:
        with torch.inference_mode():
            return layer(inputs)

    return call


def measure_gflops(
    precisions: Iterable[str],
    *,
    shape: tuple[int, int, int] = PROBE_SHAPE,
    seconds: float = PROBE_SECONDS,
    rounds: int = PROBE_ROUNDS,
) -> dict[str, float]:
    """GFLOP/s of a linear layer of ``shape`` in each precision: the best of interleaved rounds."""
    rows, width, out = shape
    flops = 2.0 * rows * width * out
    calls = {precision: linear_layer(precision, shape) for precision in precisions}
    for call in calls.values():
        call()  # warm-up: kernels, packed weights
    best = dict.fromkeys(calls, float("inf"))
    for _ in range(rounds):
        for precision, call in calls.items():
            began = time.perf_counter()
            times: list[float] = []
            while not times or time.perf_counter() - began < seconds:
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            best[precision] = min(best[precision], statistics.median(times))
    return {precision: flops / elapsed / 1e9 for precision, elapsed in best.items()}


def matmul_peak_gflops(precisions: Iterable[str], *, seconds: float = 0.5) -> dict[str, float]:
    """The machine's matmul rate per precision over ``PEAK_SHAPE`` (emulated ones over a smaller slice)."""
    precisions = list(precisions)
    quick = measure_gflops(precisions, seconds=0.02, rounds=1)
    fast = [precision for precision in precisions if quick[precision] >= 0.1 * max(quick.values())]
    peaks = {**quick, **measure_gflops(fast, shape=PEAK_SHAPE, seconds=seconds / 2, rounds=2)}
    return {precision: round(peaks[precision], 1) for precision in precisions}


def choose_cpu_precision(
    measure: Callable[[Iterable[str]], Mapping[str, float]] | None = None, *, linear_share: float | None = None
) -> PrecisionChoice:
    """``auto`` on a CPU: the probe (or an injected ``measure``), then :func:`choose_precision`; logged."""
    gflops = measure(CPU_CANDIDATES) if measure else _measured_gflops()
    choice = choose_precision(gflops, linear_share=linear_share)
    logger.info("precision auto: %s (%s)", choice.precision, choice.reason)
    return choice


@functools.cache
def _measured_gflops() -> dict[str, float]:
    return measure_gflops(CPU_CANDIDATES)


# -- int8 ----------------------------------------------------------------------


class SelfAttention(nn.Module):
    """``nn.MultiheadAttention``'s computation (batch first or not) with ``nn.Linear`` projections.

    Called as open_clip calls it (``attn(q, k, v, need_weights=False, attn_mask=mask)``);
    returns ``(output, None)``. Self-attention runs one fused projection; cross-attention
    projects each input and keeps its third.
    """

    def __init__(self, attention: nn.MultiheadAttention):
        super().__init__()
        if attention.in_proj_weight is None or attention.in_proj_bias is None or attention.bias_k is not None:
            raise ValueError("only attention with one packed input projection and biases is rewritten")
        width = attention.embed_dim
        self.heads = attention.num_heads
        self.batch_first = attention.batch_first
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)
        with torch.no_grad():
            self.in_proj.weight.copy_(attention.in_proj_weight)
            self.in_proj.bias.copy_(attention.in_proj_bias)
            self.out_proj.weight.copy_(attention.out_proj.weight)
            self.out_proj.bias.copy_(attention.out_proj.bias)

    def forward(self, query, key, value, need_weights: bool = False, attn_mask=None, **_ignored):
        if not self.batch_first:
            query, key, value = (x.transpose(0, 1) for x in (query, key, value))
        if key is query and value is query:
            q, k, v = self.in_proj(query).chunk(3, dim=-1)
        else:
            q, k, v = (self.in_proj(x).chunk(3, dim=-1)[i] for i, x in enumerate((query, key, value)))
        batch, length, width = q.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(batch, x.shape[1], self.heads, width // self.heads).transpose(1, 2)

        mixed = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), attn_mask=attn_mask)
        out = self.out_proj(mixed.transpose(1, 2).reshape(batch, length, width))
        return (out if self.batch_first else out.transpose(0, 1)), None


def rewrite_attention(model: nn.Module) -> nn.Module:
    """Replace every ``nn.MultiheadAttention`` in ``model`` by a :class:`SelfAttention` (same outputs)."""
    for name, child in model.named_children():
        if isinstance(child, nn.MultiheadAttention):
            setattr(model, name, SelfAttention(child))
        else:
            rewrite_attention(child)
    return model


def quantize_linears(model: nn.Module) -> nn.Module:
    """Dynamic int8 quantization of every ``nn.Linear`` in ``model`` (per-channel weights)."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*deprecated.*", module="torch.ao")
        return quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig}, inplace=True)


def quantize_model(model: nn.Module) -> nn.Module:
    """The int8 model: attention rewritten, then every linear layer quantized; open_clip told the dtype."""
    rewrite_attention(model)
    quantize_linears(model)
    for module in model.modules():  # open_clip's own hook for int8 layers (its bitsandbytes path) keeps casts fp32
        first = getattr(getattr(module, "mlp", None), "c_fc", None)
        if hasattr(module, "get_weight_dtype") and first is not None:
            first.int8_original_dtype = torch.float32
    return model
