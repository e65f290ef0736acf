"""``ZeroShotClassifier``: one loaded model, its label caches, and the blocking
steps from bytes to guesses. The async engine schedules these steps; the CLI
calls them directly.

Labels come with a language (default English). A multilingual model prompts
them with that language's drawing ensemble; a model that reads only English
prompts every label with the English one (its text tower knows English
sentences, whatever the label). Each template set has its own label cache.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence

import torch
from PIL import Image
from torchvision import transforms

from .database import open_database
from .errors import ImageError
from .few_shot import Examples, rank_with_examples
from .images import decode_image
from .model import LoadedModel, load_model
from .presets import reads
from .prompts import DEFAULT_LANGUAGE, DEFAULT_TEMPLATES, LANGUAGES, check_templates, templates_for
from .text_cache import TextEmbeddingCache
from .types import Guess
from .zero_shot import encode_text

logger = logging.getLogger(__name__)


class LabelRanker:
    """The cheap half of classification: label prompts, their cached embeddings, and the ranking.

    ``encode_prompts(prompts)`` turns prompts into unit text embeddings (the model's
    text tower, here or in a remote service, :mod:`classifier.remote`); the label
    cache keys them by ``identity`` (``cache_identity`` for int8), template set and label. ``languages`` are what
    the text tower reads; ``logit_scale`` the model's learned temperature.
    """

    def __init__(
        self,
        identity: str,
        languages: Sequence[str],
        logit_scale: float,
        encode_prompts: Callable[[list[str]], torch.Tensor],
        templates: Sequence[str] | None = None,
        db=None,
        *,
        cache_identity: str | None = None,
    ):
        """``templates``: one template set for every language; None: each language's drawing ensemble;
        ``cache_identity``: the label cache's key when the precision changes the embeddings (int8)."""
        self._identity = identity
        self.languages = tuple(languages)
        self.logit_scale = logit_scale
        self.fixed_templates = templates is not None
        self.templates = check_templates(DEFAULT_TEMPLATES if templates is None else templates)
        lock = threading.RLock()  # one database connection: one lock for every language's cache
        self._caches = {
            sets: TextEmbeddingCache(encode_prompts, cache_identity or identity, sets, db, lock)
            for sets in dict.fromkeys([self.templates, *(self.templates_for(code) for code in LANGUAGES)])
        }
        self.text_cache = self._caches[self.templates]  # English (or the fixed set)

    @property
    def identity(self) -> str:
        return self._identity

    def reads(self, language: str) -> bool:
        """True when the model reads labels written in ``language`` (an IETF tag)."""
        return reads(self.languages, language)

    def templates_for(self, language: str = DEFAULT_LANGUAGE) -> tuple[str, ...]:
        """The templates for labels in ``language``: its own ensemble only for a multilingual model."""
        if self.fixed_templates or not self.reads(language):
            return self.templates
        return templates_for(language)

    def text_cache_for(self, language: str = DEFAULT_LANGUAGE) -> TextEmbeddingCache:
        """The label cache of ``language``'s template set."""
        return self._caches[self.templates_for(language)]

    def prepare_labels(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> None:
        """Encode the labels not cached yet (one log line when there were any)."""
        cache = self.text_cache_for(language)
        missing = cache.missing(labels)
        if missing:
            start = time.perf_counter()
            cache.get(missing)
            logger.info("encoded %d new labels in %.1f s", len(missing), time.perf_counter() - start)

    def label_weights(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> torch.Tensor:
        """``[L, dim]`` label embeddings, computed once per label, model and template set."""
        return self.text_cache_for(language).get(labels)

    def rank(
        self,
        features: torch.Tensor,
        labels: Sequence[str],
        top_k: int = 3,
        examples: Examples | None = None,
        *,
        language: str = DEFAULT_LANGUAGE,
    ) -> list[list[Guess]]:
        """Top-k guesses per feature row over ``labels`` (written in ``language``); taught ``examples`` blended in."""
        weights = self.label_weights(labels, language)
        return rank_with_examples(features, weights, labels, self.logit_scale, examples, top_k)


class ZeroShotClassifier(LabelRanker):
    """Blocking zero-shot classification with cached label embeddings."""

    def __init__(self, loaded: LoadedModel, templates: Sequence[str] | None = None, db=None):
        """``templates``: one template set for every language; None: each language's drawing ensemble."""
        self.loaded = loaded
        super().__init__(
            loaded.identity,
            loaded.languages,
            loaded.logit_scale,
            self.encode_prompts,
            templates,
            db,
            cache_identity=loaded.cache_identity,
        )
        self._fit = _fit_arguments(loaded)

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

    def embed_pictures(self, pictures: Sequence[bytes]) -> list[torch.Tensor | ImageError]:
        """Each picture's unit ``[dim]`` embedding, the readable ones in one forward pass; an unreadable
        picture's place holds its ``ImageError`` (what ``classifier.remote.RemoteClassifier`` answers too)."""
        results: list[torch.Tensor | ImageError] = []
        pixels = []
        for data in pictures:
            try:
                pixels.append(self.preprocess(self.decode(data)))
                results.append(torch.empty(0))
            except ImageError as exc:
                results.append(exc)
        if pixels:
            features = iter(self.embed_images(torch.stack(pixels)))
            results = [next(features) if isinstance(item, torch.Tensor) else item for item in results]
        return results

    def classify_images(
        self, images: Sequence[Image.Image], labels: Sequence[str], top_k: int = 3, language: str = DEFAULT_LANGUAGE
    ) -> list[list[Guess]]:
        """Decoded images -> top-k guesses each, in one forward pass."""
        pixels = torch.stack([self.preprocess(image) for image in images])
        return self.rank(self.embed_images(pixels), labels, top_k, language=language)

    def classify_bytes(
        self, data: bytes, labels: Sequence[str], top_k: int = 3, language: str = DEFAULT_LANGUAGE
    ) -> list[Guess]:
        return self.classify_images([self.decode(data)], labels, top_k, language)[0]


def load_classifier(
    model: str,
    pretrained: str | None,
    *,
    device: str = "auto",
    precision: str = "auto",
    db_path=None,
    templates: Sequence[str] | None = None,
) -> ZeroShotClassifier:
    """Load the model (a preset or open_clip name) and open its label cache (``db_path``: a file,
    ``":memory:"`` or None); ``pretrained`` None: the preset's tag, else ``openai``."""
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
