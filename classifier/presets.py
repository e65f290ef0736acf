"""Model presets: one word for an open_clip model and weights tag, with what each is good at.

Plain data and pure functions (no torch, no I/O), so the bot can ask which
languages a model reads without loading anything. The figures are open_clip's
published zero-shot results (``docs/openclip_results.csv``, the table behind
``RESULTS_TABLE``): ImageNet-Sketch and ImageNet-R are the drawing-like
benchmarks there, except ``fast`` (MobileCLIP2, not in that table), whose figures are
Apple's published evaluation (``MOBILECLIP_RESULTS``) and whose GFLOPs were counted with
torch's FLOP counter. Download sizes are the fp32 checkpoints (4 bytes a parameter).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from .defaults import DEFAULT_PRETRAINED

RESULTS_TABLE = "https://github.com/mlfoundations/open_clip/blob/main/docs/openclip_results.csv"
MOBILECLIP_RESULTS = "https://github.com/apple/ml-mobileclip/tree/main/results"
MOBILECLIP_LICENCE = "https://huggingface.co/apple/MobileCLIP2-S0"  # the weights' licence is on the model card
ANY_LANGUAGE = "*"  # in ``languages``: a multilingual text tower (XLM-RoBERTa: about 100 languages)
# Names of multilingual text towers, in open_clip model names and hf_model_name/hf_tokenizer_name values.
_MULTILINGUAL_HINTS = ("xlm-roberta", "i18n", "multilingual", "mt5", "m-clip")


@dataclass(frozen=True)
class Preset:
    """A named open_clip model + weights tag and its published figures."""

    name: str
    model: str  # open_clip model config name
    pretrained: str  # open_clip weights tag
    languages: tuple[str, ...]  # languages its text tower reads; ANY_LANGUAGE for multilingual towers
    download_mb: int
    image_gflops: float
    imagenet_sketch: float  # zero-shot top-1, %
    imagenet_r: float  # zero-shot top-1, %
    summary: str
    note: str = ""  # where figures come from when not open_clip's table, and any licence of the weights

    @property
    def multilingual(self) -> bool:
        return ANY_LANGUAGE in self.languages


PRESETS: tuple[Preset, ...] = (
    Preset(
        name="openai",
        model="ViT-B-32-quickgelu",
        pretrained="openai",
        languages=("en",),
        download_mb=605,
        image_gflops=8.8,
        imagenet_sketch=42.3,
        imagenet_r=69.3,
        summary="OpenAI's CLIP ViT-B/32: the default",
    ),
    Preset(
        name="drawings",
        model="ViT-B-32-256",
        pretrained="datacomp_s34b_b86k",
        languages=("en",),
        download_mb=605,
        image_gflops=11.5,
        imagenet_sketch=60.7,
        imagenet_r=83.4,
        summary="best on drawings for about the same compute (1.3x)",
    ),
    Preset(
        name="multilingual",
        model="xlm-roberta-base-ViT-B-32",
        pretrained="laion5b_s13b_b90k",
        languages=(ANY_LANGUAGE,),
        download_mb=1464,
        image_gflops=8.8,
        imagenet_sketch=50.7,
        imagenet_r=74.1,
        summary="labels in any language; same image cost, a larger text tower",
    ),
    Preset(
        name="multilingual-best",
        model="ViT-B-16-SigLIP-i18n-256",
        pretrained="webli",
        languages=(ANY_LANGUAGE,),
        download_mb=1483,
        image_gflops=46.8,
        imagenet_sketch=65.9,
        imagenet_r=89.2,
        summary="labels in any language and the best on drawings, for about 5x the image compute",
    ),
    Preset(
        name="fast",
        model="MobileCLIP2-S0",
        pretrained="dfndr2b",
        languages=("en",),
        download_mb=299,
        image_gflops=4.8,
        imagenet_sketch=59.1,
        imagenet_r=79.8,
        summary="Apple's MobileCLIP2-S0: half the default's image compute, far better on drawings",
        note=(
            "fast: figures from Apple's results (" + MOBILECLIP_RESULTS + ", ImageNet 71.5 %); "
            "its weights are under Apple's own licence, not open_clip's (" + MOBILECLIP_LICENCE + ")"
        ),
    ),
)

DEFAULT_PRESET = "openai"


def get_preset(name: str) -> Preset | None:
    """The preset called ``name`` (case-insensitive), or None."""
    wanted = name.strip().lower()
    return next((preset for preset in PRESETS if preset.name == wanted), None)


def default_pretrained(model: str) -> str:
    """The weights tag used when none is given: the preset's, else ``openai``."""
    preset = get_preset(model)
    return preset.pretrained if preset else DEFAULT_PRETRAINED


def resolve_model(model: str, pretrained: str | None) -> tuple[str, str]:
    """``(open_clip model, pretrained)``: a preset name becomes its model and tag; an explicit
    ``pretrained`` (a tag, a checkpoint file, ``random``) always wins; other names pass through."""
    preset = get_preset(model)
    name = preset.model if preset else model
    return name, default_pretrained(model) if pretrained is None else pretrained


def languages_of_config(name: str, model_cfg: dict | None = None) -> tuple[str, ...]:
    """Languages an open_clip model reads, from its name or its config's text tower (English unless multilingual)."""
    text_cfg = (model_cfg or {}).get("text_cfg") or {}
    hints = [name, str(text_cfg.get("hf_model_name", "")), str(text_cfg.get("hf_tokenizer_name", ""))]
    if any(hint in text.lower() for text in hints for hint in _MULTILINGUAL_HINTS):
        return (ANY_LANGUAGE,)
    return ("en",)


def model_languages(model: str) -> tuple[str, ...]:
    """Languages the model named ``model`` (a preset or open_clip name) reads."""
    preset = get_preset(model)
    return preset.languages if preset else languages_of_config(model)


def reads(languages: Sequence[str], language: str) -> bool:
    """True when a text tower reading ``languages`` reads ``language`` (an IETF tag such as ``es-419``)."""
    return ANY_LANGUAGE in languages or base_language(language) in languages


def model_reads(model: str, language: str) -> bool:
    """True when the model named ``model`` reads labels written in ``language``."""
    return reads(model_languages(model), language)


def base_language(code: str | None) -> str:
    """``es-419`` -> ``es``; empty -> ``en``."""
    return (code or "en").strip().lower().replace("_", "-").split("-", 1)[0] or "en"
