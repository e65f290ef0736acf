"""``ZeroShotClassifier``: one loaded model, its label cache, and the blocking
steps from bytes to guesses. The async engine schedules these steps; the CLI
calls them directly.
"""

import logging
import time
from collections.abc import Sequence

import torch
from PIL import Image
from torchvision import transforms

from .database import open_database
from .few_shot import Examples, rank_with_examples
from .images import decode_image
from .model import LoadedModel, load_model
from .prompts import DEFAULT_TEMPLATES, check_templates
from .text_cache import TextEmbeddingCache
from .types import Guess
from .zero_shot import encode_text

logger = logging.getLogger(__name__)


class ZeroShotClassifier:
    """Blocking zero-shot classification with cached label embeddings."""

    def __init__(self, loaded: LoadedModel, templates: Sequence[str] = DEFAULT_TEMPLATES, db=None):
        self.loaded = loaded
        self.templates = check_templates(templates)
        self.text_cache = TextEmbeddingCache(self.encode_prompts, loaded.identity, self.templates, db)
        self._fit = _fit_arguments(loaded)

    @property
    def identity(self) -> str:
        return self.loaded.identity

    def decode(self, data: bytes) -> Image.Image:
        """Untrusted bytes -> square RGB image (raises ImageError subclasses).

        When the model's preprocessing starts with a plain resize, the picture is
        already fitted to the model's input size here, with the same filter.
        """
        return decode_image(data, draft_size=self.loaded.image_size, **self._fit)

    def preprocess(self, image: Image.Image) -> torch.Tensor:
        """Image -> normalised ``[3, H, W]`` float32 tensor on the CPU."""
        return self.loaded.preprocess(image)

    def encode_prompts(self, prompts: list[str]) -> torch.Tensor:
        tokens = self.loaded.tokenizer(prompts).to(self.loaded.device)
        return encode_text(self.loaded.model, tokens)

    @torch.inference_mode()
    def embed_images(self, pixels: torch.Tensor) -> torch.Tensor:
        """``[B, 3, H, W]`` preprocessed batch -> unit ``[B, dim]`` float32 features (CPU)."""
        pixels = pixels.to(self.loaded.device, dtype=self.loaded.dtype, non_blocking=True)
        features = self.loaded.model.encode_image(pixels)
        return torch.nn.functional.normalize(features.float(), dim=-1).cpu()

    def prepare_labels(self, labels: Sequence[str]) -> None:
        """Encode the labels not cached yet (one log line when there were any)."""
        missing = self.text_cache.missing(labels)
        if missing:
            start = time.perf_counter()
            self.text_cache.get(missing)
            logger.info("encoded %d new labels in %.1f s", len(missing), time.perf_counter() - start)

    def label_weights(self, labels: Sequence[str]) -> torch.Tensor:
        """``[L, dim]`` label embeddings, computed once per label and model."""
        return self.text_cache.get(labels)

    def rank(
        self, features: torch.Tensor, labels: Sequence[str], top_k: int = 3, examples: Examples | None = None
    ) -> list[list[Guess]]:
        """Top-k guesses per feature row; taught ``examples`` blended in when given."""
        weights = self.label_weights(labels)
        return rank_with_examples(features, weights, labels, self.loaded.logit_scale, examples, top_k)

    def classify_images(
        self, images: Sequence[Image.Image], labels: Sequence[str], top_k: int = 3
    ) -> list[list[Guess]]:
        """Decoded images -> top-k guesses each, in one forward pass."""
        pixels = torch.stack([self.preprocess(image) for image in images])
        return self.rank(self.embed_images(pixels), labels, top_k)

    def classify_bytes(self, data: bytes, labels: Sequence[str], top_k: int = 3) -> list[Guess]:
        return self.classify_images([self.decode(data)], labels, top_k)[0]


def load_classifier(
    model: str,
    pretrained: str | None,
    *,
    device: str = "auto",
    precision: str = "auto",
    db_path=None,
    templates: Sequence[str] = DEFAULT_TEMPLATES,
) -> ZeroShotClassifier:
    """Load the model and open its label cache (``db_path``: a file, ``":memory:"`` or None)."""
    db = open_database(db_path)  # first: a bad path fails before a slow model load
    loaded = load_model(model, pretrained, device=device, precision=precision)
    return ZeroShotClassifier(loaded, templates, db)


def _fit_arguments(loaded: LoadedModel) -> dict:
    """``fit_size``/``resample`` for decode_image when preprocessing begins with
    ``Resize(image_size)`` (shortest side), whose output on a fitted square is a no-op."""
    first = next(iter(getattr(loaded.preprocess, "transforms", ())), None)
    if not isinstance(first, transforms.Resize) or first.size not in (loaded.image_size, [loaded.image_size]):
        return {}
    resample = transforms.functional.pil_modes_mapping.get(first.interpolation)
    return {} if resample is None else {"fit_size": loaded.image_size, "resample": resample}
