"""Load a CLIP model through open_clip's factory: the only code that touches
weights, devices and the network.

``model`` is a preset name (``drawings``, see :mod:`classifier.presets`) or
anything open_clip accepts: a built-in config name (``ViT-B-32-quickgelu``),
``hf-hub:org/repo`` or ``local-dir:/path``. ``pretrained`` is a tag
(``openai``, ``datacomp_s34b_b86k``, ...), a checkpoint file path, or
``random`` for seeded random weights (benchmarks, tests); ``None`` means the
preset's tag, or ``openai`` for any other name.

Weights for a tag are taken from the Hugging Face cache when present; else they
are downloaded once with a progress bar. Offline, loading fails within seconds
with a :class:`WeightsUnavailable` that says how to provide weights locally.
"""

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import socket
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import open_clip
import torch
from open_clip.factory import load_state_dict, parse_model_name
from open_clip.pretrained import download_pretrained, get_pretrained_cfg, list_pretrained_tags_by_model

from .checkpoints import checkpoint_fits, describe_checkpoint, models_fitting
from .defaults import DEFAULT_MODEL, DEFAULT_PRETRAINED, PRECISIONS  # noqa: F401 (DEFAULT_PRETRAINED: re-exported)
from .errors import ModelLoadError, WeightsUnavailable
from .precision import choose_cpu_precision, image_flop_counts, linear_flop_share, quantize_model
from .presets import languages_of_config, resolve_model
from .types import ClipModel

logger = logging.getLogger(__name__)

RANDOM_WEIGHTS = "random"
RANDOM_SEED = 0
# open_clip initialises every CLIP's logit scale to log(1/0.07) unless its config says otherwise
# (SigLIP: init_logit_scale); training moves it (to log(100) for OpenAI's and LAION's weights).
_INITIAL_LOGIT_SCALE = math.log(1 / 0.07)
_UNTRAINED_TOLERANCE = 0.01  # bf16 rounds log(1/0.07) by up to 0.008
# The order in which open_clip picks a local-dir: folder's weights (factory._find_checkpoint_in_dir in
# open_clip 3.x): these names first, in this order; else .safetensors before others, then by name.
_LOCAL_DIR_PREFERRED = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)
_CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pth")
_OPEN_CLIP_PRECISION = {"fp32": "fp32", "fp16": "fp16", "bf16": "pure_bf16", "int8": "fp32"}  # int8: quantized after
_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16, "int8": torch.float32}
_PROBE_TIMEOUT_S = 3.0
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model", "spiece.model")

HOW_TO_PROVIDE_WEIGHTS = (
    "To run offline, provide weights locally: a checkpoint file with "
    "--pretrained /path/to/model.pt (or .safetensors; env TOONZOO_PRETRAINED), or an "
    "open_clip folder with --model local-dir:/path/to/folder (containing open_clip_config.json "
    "and open_clip_pytorch_model.bin; env TOONZOO_MODEL). Or connect once to the internet: "
    "weights are downloaded into the Hugging Face cache and reused from then on. "
    "To try toonzoo right now without weights, write a tiny random-weight model (its guesses are "
    "meaningless) and use it: toonzoo tiny-model tiny, then --model local-dir:tiny, e.g. "
    "toonzoo classify --model local-dir:tiny examples/giraffe.png (a sample drawing in the repository)."
)


@dataclass
class LoadedModel:
    """A ready-to-run CLIP model with its preprocessing and tokenizer."""

    model: ClipModel
    preprocess: Callable
    tokenizer: Callable
    device: torch.device
    precision: str
    identity: str
    name: str
    pretrained: str | None
    random_weights: bool = False
    untrained: bool = False  # the weights were never trained (random): guesses are meaningless
    image_size: int = 224
    languages: tuple[str, ...] = ("en",)  # what the text tower reads (classifier.presets.ANY_LANGUAGE: many)
    logit_scale: float = field(init=False)

    def __post_init__(self) -> None:
        self.logit_scale = float(self.model.logit_scale.detach().float().exp().item())

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the pictures it takes (int8 models take fp32 and quantize inside)."""
        return _DTYPES[self.precision]

    @property
    def cache_identity(self) -> str:
        """The label cache's key: the model, and its precision where that changes the embeddings.

        Float precisions round the same function (cosine to fp32 >= 0.9999) and share
        fp32's embeddings; int8 quantizes the weights and keeps its own.
        """
        return f"{self.identity}+int8" if self.precision == "int8" else self.identity


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ModelLoadError(f"unknown device {device!r}", user_message=f"Unknown device {device!r}.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(
            "CUDA requested but not available", user_message="CUDA was requested but no GPU is available."
        )
    return resolved


def resolve_precision(
    precision: str, device: torch.device, *, measure: Callable | None = None, model_name: str | None = None
) -> str:
    """``auto`` is fp16 on CUDA; on a CPU the fastest of fp32, bf16 and int8 in a start-up probe
    (:func:`classifier.precision.choose_cpu_precision`; ``measure`` replaces the probe in tests),
    int8 only if ``model_name``'s image tower is mostly linear layers (:func:`image_linear_share`)."""
    if precision not in PRECISIONS:
        raise ModelLoadError(
            f"unknown precision {precision!r}", user_message=f"Precision must be one of {', '.join(PRECISIONS)}."
        )
    if precision == "int8" and device.type != "cpu":
        raise ModelLoadError(
            f"int8 requested on {device}", user_message="int8 runs on CPUs only: use fp16 or bf16 on a GPU."
        )
    if precision == "auto":
        if device.type == "cuda":
            return "fp16"
        share = image_linear_share(model_name) if model_name else None
        return choose_cpu_precision(measure, linear_share=share).precision
    return precision


def fuse_for_inference(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Re-parameterize training-time branches (MobileCLIP's MobileOne/RepMixer blocks) into single
    convolutions with timm's ``reparameterize_model``, as Apple's MobileCLIP code does for inference, and
    keep a convolutional model's weights channels-last on a CPU, the layout oneDNN's convolutions run
    fastest in. A ViT has neither (its one convolution is the patch embedding): it is left as it is.

    MobileCLIP2-S0 on 2 CPU cores, batch 8: 16.2 -> 23.7 pictures/s in fp32, 44 in bf16; embeddings
    within cosine 0.99999 of the unfused model's.
    """
    fusable = ("fuse", "reparameterize", "switch_to_deploy")
    if any(hasattr(module, name) for module in model.modules() for name in fusable):
        from timm.utils.model import reparameterize_model

        model = reparameterize_model(model, inplace=True)
    convolutions = sum(isinstance(module, torch.nn.Conv2d) for module in model.modules())
    if device.type == "cpu" and convolutions > 1:
        model = model.to(memory_format=torch.channels_last)
    return model


@functools.cache
def image_linear_share(model_name: str) -> float | None:
    """The part of an open_clip model's image FLOPs in linear layers, counted on its config built on the
    meta device (no weights, no memory; 0.1-0.7 s). None where that cannot be done offline and at once:
    local-dir and hf-hub models, and text towers from Hugging Face."""
    name, _ = resolve_model(model_name, None)
    config = None if parse_model_name(name)[0] else open_clip.get_model_config(name)
    if config is None or config.get("text_cfg", {}).get("hf_model_name"):
        return None
    try:
        with torch.random.fork_rng(devices=[]), _quiet_random_init(True):
            model = open_clip.create_model(name, pretrained=None, device="meta")
        size = getattr(model.visual, "image_size", 224)
        side = int(max(size) if isinstance(size, (tuple, list)) else size)
        share = linear_flop_share(image_flop_counts(model, torch.empty(1, 3, side, side, device="meta")))
    except Exception:  # a model the counter cannot follow keeps the probe's choice
        logger.debug("could not count %s's image FLOPs on the meta device", name, exc_info=True)
        return None
    logger.debug("%s: %.0f%% of the image FLOPs in linear layers", name, share * 100)
    return share


def load_model(
    model_name: str = DEFAULT_MODEL,
    pretrained: str | None = None,
    *,
    device: str = "auto",
    precision: str = "auto",
    cache_dir: str | None = None,
) -> LoadedModel:
    """Build the model (a preset or open_clip name) through open_clip's factory, in eval mode, on ``device``."""
    torch_device = resolve_device(device)
    model_name, pretrained = resolve_model(model_name, pretrained)
    if precision != "auto":
        precision = resolve_precision(precision, torch_device)  # a bad one fails before anything else
    schema, identifier = parse_model_name(model_name)
    kwargs: dict = {}
    random_weights = False
    model_cfg: dict | None = None

    if schema == "local-dir":
        checkpoint = _local_dir_checkpoint(Path(identifier))
        identity = f"{model_name}#{file_digest(checkpoint)}"
        open_clip_pretrained = None
        weights = str(checkpoint)
        model_cfg = _local_dir_model_config(Path(identifier))
    elif schema == "hf-hub":
        _require_network(f"the model {model_name}")
        identity = model_name
        open_clip_pretrained = None
        weights = f"the hub repository {identifier}"
    else:
        if open_clip.get_model_config(identifier) is None:
            raise WeightsUnavailable(
                f"unknown model {identifier!r}",
                user_message=f"Unknown model {identifier!r}. Try one of: {', '.join(open_clip.list_models()[:12])}, …",
            )
        model_cfg = open_clip.get_model_config(identifier)
        if pretrained in ("", RANDOM_WEIGHTS, "none"):
            random_weights = True
            identity = f"{identifier}@{RANDOM_WEIGHTS}-{RANDOM_SEED}"
            open_clip_pretrained = None
            weights = f"random (seed {RANDOM_SEED})"
        elif os.path.isfile(pretrained):
            identity = f"{identifier}#{file_digest(Path(pretrained))}"
            open_clip_pretrained = pretrained
            weights = pretrained
        else:
            tag_cfg = get_pretrained_cfg(identifier, pretrained)
            if not tag_cfg:
                tags = ", ".join(list_pretrained_tags_by_model(identifier)) or "none"
                raise WeightsUnavailable(
                    f"{pretrained!r} is neither a file nor a known tag for {identifier}",
                    user_message=(
                        f"--pretrained {pretrained!r} is neither an existing file nor a known tag for "
                        f"{identifier} (tags: {tags})."
                    ),
                )
            open_clip_pretrained = _weights_file_for_tag(identifier, pretrained, tag_cfg, cache_dir)
            identity = f"{identifier}@{pretrained}"
            weights = f"{pretrained} ({open_clip_pretrained})"
            # Same QuickGELU and preprocessing choices open_clip makes for the tag.
            kwargs["force_quick_gelu"] = bool(tag_cfg.get("quick_gelu", False))
            kwargs["force_preprocess_cfg"] = {
                key: tag_cfg[key] for key in ("mean", "std", "interpolation", "resize_mode") if key in tag_cfg
            }
        _require_text_tower_files(identifier, model_cfg, cache_dir)

    # After the weights are known to be there: a missing one fails within a second.
    precision = resolve_precision(precision, torch_device, model_name=model_name)
    logger.info("loading %s with weights %s", model_name, weights)
    try:
        # open_clip draws initial weights from torch's default generator: fork its state so that
        # loading never moves the process's random stream, and seed the fork for random weights.
        with warnings.catch_warnings(), torch.random.fork_rng(devices=[]), _quiet_random_init(random_weights):
            warnings.filterwarnings("error", message="QuickGELU mismatch")
            torch.random.default_generator.manual_seed(RANDOM_SEED)
            model, _, preprocess = open_clip.create_model_and_transforms(
                model_name,
                pretrained=open_clip_pretrained,
                precision=_OPEN_CLIP_PRECISION[precision],
                device=torch_device,
                cache_dir=cache_dir,
                **kwargs,
            )
        tokenizer = open_clip.get_tokenizer(model_name, cache_dir=cache_dir)
    except ModelLoadError:
        raise
    except Exception as exc:
        hint = _checkpoint_hint(Path(weights), model_cfg) if schema == "local-dir" or open_clip_pretrained else ""
        raise ModelLoadError(
            f"cannot build {model_name} ({pretrained}): {exc}",
            user_message=f"Could not load the model {model_name}: " + (hint or str(exc)),
        ) from exc
    model.eval()
    model = fuse_for_inference(model, torch_device)
    if precision == "int8":
        model = quantize_model(model)
    image_size = getattr(model.visual, "image_size", 224)
    if isinstance(image_size, (tuple, list)):
        image_size = max(image_size)
    loaded = LoadedModel(
        model=model,
        preprocess=preprocess,
        tokenizer=tokenizer,
        device=torch_device,
        precision=precision,
        identity=identity,
        name=model_name,
        pretrained=None if random_weights or schema else pretrained,
        random_weights=random_weights,
        untrained=random_weights or _looks_untrained(model, model_cfg),
        image_size=int(image_size),
        languages=_model_languages(schema, identifier, model_cfg),
    )
    logger.info("loaded %s on %s (%s)", identity, torch_device, precision)
    if loaded.untrained:
        logger.warning(UNTRAINED_WARNING, model_name)
    return loaded


UNTRAINED_WARNING = "the weights of %s are random (untrained): its guesses are meaningless"


class _DropRandomInitNote(logging.Filter):
    """open_clip's own note on random weights, which ``UNTRAINED_WARNING`` says once already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No pretrained weights loaded for model")


@contextlib.contextmanager
def _quiet_random_init(random_weights: bool) -> Iterator[None]:
    """While open_clip builds a model asked for with random weights, drop its root-logger note about them."""
    if not random_weights:
        yield
        return
    note = _DropRandomInitNote()
    logging.getLogger().addFilter(note)
    try:
        yield
    finally:
        logging.getLogger().removeFilter(note)


def _checkpoint_hint(path: Path, model_cfg: dict | None) -> str:
    """When a checkpoint does not fit the model asked for, which open_clip models its shapes fit ("" if unknown)."""
    try:
        state_dict = load_state_dict(str(path))
    except Exception:  # noqa: BLE001 (torch, pickle, zip or safetensors errors alike: open_clip's own error says more)
        return ""
    if model_cfg and checkpoint_fits(state_dict, model_cfg):
        return ""
    names = models_fitting(state_dict)
    shape = describe_checkpoint(state_dict)
    if names:
        return (
            f"the checkpoint {path} does not fit this model: it seems to be for {' or '.join(names[:4])} "
            f"({shape}). Pass that name with --model."
        )
    return f"the checkpoint {path} fits no open_clip model config ({shape})."


def _looks_untrained(model: torch.nn.Module, model_cfg: dict | None) -> bool:
    """True when the logit scale still has open_clip's initial value: no training ever moved it."""
    scale = getattr(model, "logit_scale", None)
    if not isinstance(scale, torch.Tensor) or scale.numel() != 1:
        return False
    initial = (model_cfg or {}).get("init_logit_scale", _INITIAL_LOGIT_SCALE)
    return abs(float(scale.detach().float()) - float(initial)) < _UNTRAINED_TOLERANCE


def _model_languages(schema: str | None, identifier: str, model_cfg: dict | None) -> tuple[str, ...]:
    """A local folder's ``languages`` entry in open_clip_config.json, else what its name and config say."""
    if schema == "local-dir":
        try:
            languages = json.loads((Path(identifier) / "open_clip_config.json").read_text()).get("languages")
        except (OSError, ValueError, AttributeError):
            languages = None
        if isinstance(languages, list) and languages and all(isinstance(code, str) for code in languages):
            return tuple(languages)
    return languages_of_config(identifier, model_cfg)


def model_identity(model_name: str = DEFAULT_MODEL, pretrained: str | None = None) -> str:
    """The identity ``load_model`` gives these settings, without loading anything (a local checkpoint is
    hashed): a remote engine service must serve the same model as the bot's settings name."""
    model_name, pretrained = resolve_model(model_name, pretrained)
    schema, identifier = parse_model_name(model_name)
    if schema == "local-dir":
        return f"{model_name}#{file_digest(_local_dir_checkpoint(Path(identifier)))}"
    if schema == "hf-hub":
        return model_name
    if pretrained in ("", RANDOM_WEIGHTS, "none"):
        return f"{identifier}@{RANDOM_WEIGHTS}-{RANDOM_SEED}"
    if os.path.isfile(pretrained):
        return f"{identifier}#{file_digest(Path(pretrained))}"
    return f"{identifier}@{pretrained}"


def file_digest(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: model identity for local weights."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _local_dir_checkpoint(folder: Path) -> Path:
    if not (folder / "open_clip_config.json").is_file():
        raise WeightsUnavailable(
            f"{folder}/open_clip_config.json missing",
            user_message=f"local-dir:{folder} must be a folder with open_clip_config.json and the weights. "
            + HOW_TO_PROVIDE_WEIGHTS,
        )
    candidates = sorted(path for suffix in _CHECKPOINT_SUFFIXES for path in folder.glob(f"*{suffix}"))
    if not candidates:
        raise WeightsUnavailable(
            f"no weights in {folder}", user_message=f"No weights file found in {folder}. " + HOW_TO_PROVIDE_WEIGHTS
        )
    preferred = [path for path in candidates if path.name in _LOCAL_DIR_PREFERRED]
    if preferred:
        return min(preferred, key=lambda path: _LOCAL_DIR_PREFERRED.index(path.name))
    return min(candidates, key=lambda path: (path.suffix != ".safetensors", path.name))


def _local_dir_model_config(folder: Path) -> dict | None:
    """The ``model_cfg`` of a local-dir folder (open_clip reads the same file)."""
    try:
        return json.loads((folder / "open_clip_config.json").read_text()).get("model_cfg")
    except (OSError, ValueError, AttributeError):
        return None


def is_cached(model: str, tag: str, cache_dir: str | None = None) -> bool:
    """True when an open_clip model's weights for ``tag`` (and any Hugging Face text tower's
    config and tokenizer) are in the local Hugging Face cache: loading needs no network."""
    tag_cfg = get_pretrained_cfg(model, tag)
    if not tag_cfg or not _cached_hf_weights(tag_cfg, cache_dir):
        return False
    return not _missing_text_tower_files(open_clip.get_model_config(model), cache_dir)


def _weights_file_for_tag(model: str, tag: str, tag_cfg: dict, cache_dir: str | None) -> str:
    """Path of the tag's weights: from the cache, else downloaded (progress bar)."""
    cached = _cached_hf_weights(tag_cfg, cache_dir)
    if cached:
        logger.info("using cached weights %s", cached)
        return cached
    source = (tag_cfg.get("hf_hub") and _hf_endpoint()) or tag_cfg.get("url", "")
    _require_network(f"the weights {model}/{tag}", source, where=_weights_source(tag_cfg))
    logger.info("downloading weights for %s/%s (first run only)", model, tag)
    try:
        path = download_pretrained(tag_cfg, cache_dir=cache_dir)
    except Exception as exc:
        raise WeightsUnavailable(
            f"download of {model}/{tag} failed: {exc}",
            user_message=f"Downloading the weights for {model}/{tag} failed ({exc}). " + HOW_TO_PROVIDE_WEIGHTS,
        ) from exc
    if not path:
        raise WeightsUnavailable(f"no download source for {model}/{tag}", user_message=HOW_TO_PROVIDE_WEIGHTS)
    return path


def _weights_source(tag_cfg: dict) -> str:
    """Where a tag's weights come from, for people fetching them by hand."""
    hub = tag_cfg.get("hf_hub")
    if hub:
        repo_id, filename = os.path.split(hub)
        return f"the Hugging Face repository {repo_id} ({filename or 'open_clip_pytorch_model.bin'})"
    return tag_cfg.get("url", "")


def _require_text_tower_files(model: str, model_cfg: dict | None, cache_dir: str | None) -> None:
    """Fail fast, offline, when a Hugging Face text tower's config or tokenizer is not cached."""
    missing = _missing_text_tower_files(model_cfg, cache_dir)
    if missing:
        _require_network(f"the text tower of {model} ({', '.join(missing)})")


def _missing_text_tower_files(model_cfg: dict | None, cache_dir: str | None) -> list[str]:
    """Hub repositories of the model's text config / tokenizer with nothing in the local cache."""
    from huggingface_hub import try_to_load_from_cache

    text_cfg = (model_cfg or {}).get("text_cfg") or {}
    wanted = {
        text_cfg.get("hf_model_name"): ("config.json",),
        text_cfg.get("hf_tokenizer_name"): _TOKENIZER_FILES,
    }
    missing = []
    for repo_id, names in wanted.items():
        if not repo_id or os.path.isdir(repo_id):
            continue
        if not any(isinstance(try_to_load_from_cache(repo_id, name, cache_dir=cache_dir), str) for name in names):
            missing.append(repo_id)
    return missing


def _cached_hf_weights(tag_cfg: dict, cache_dir: str | None) -> str | None:
    hub = tag_cfg.get("hf_hub")
    if not hub:
        return None
    from huggingface_hub import try_to_load_from_cache

    repo_id, filename = os.path.split(hub)
    filename = filename or "open_clip_pytorch_model.bin"
    names = [filename]
    if filename == "open_clip_pytorch_model.bin":
        names.insert(0, "open_clip_model.safetensors")
    elif filename.endswith((".bin", ".pth")):
        names.insert(0, filename[:-4] + ".safetensors")
    for name in names:
        found = try_to_load_from_cache(repo_id, name, cache_dir=cache_dir)
        if isinstance(found, str):
            return found
    return None


def _hf_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _require_network(what: str, url: str | None = None, *, where: str = "") -> None:
    """Fail fast, with instructions, when the download host cannot be reached."""
    parsed = urlparse(url or _hf_endpoint())
    host = parsed.hostname or ""
    port = parsed.port or (80 if parsed.scheme == "http" else 443)
    if _offline():
        reason = "HF_HUB_OFFLINE is set"
    elif any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return  # a proxy decides reachability; let the download try
    else:
        try:
            socket.create_connection((host, port), timeout=_PROBE_TIMEOUT_S).close()
            return
        except OSError as exc:
            reason = f"{host} is unreachable ({exc.__class__.__name__})"
    raise WeightsUnavailable(
        f"cannot fetch {what}: {reason}",
        user_message=f"Cannot download {what}: {reason} and they are not in the local cache. "
        + (f"They come from {where}. " if where else "")
        + HOW_TO_PROVIDE_WEIGHTS,
    )
