"""What the in-process engine and the remote one do alike: their label sets, taught examples and the
``classify`` calls the bot makes. Each engine says how a picture becomes guesses (``_classify``) and how
it starts and closes."""

from collections.abc import Sequence
from typing import Self

from .few_shot import Examples
from .label_sets import LabelSets
from .pipeline import LabelRanker
from .prompts import DEFAULT_LANGUAGE
from .types import Classified, Guess


class EngineBase:
    """An engine's front: ``classifier`` (its labels' encoder and ranker) and ``_labels`` (its label sets)
    are set by the engine."""

    classifier: LabelRanker
    _labels: LabelSets

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    @property
    def identity(self) -> str:
        """The model's identity: taught examples are kept per model."""
        return self.classifier.identity

    def reads(self, language: str) -> bool:
        """True when the model reads labels written in ``language`` (for a warning about English-only models)."""
        return self.classifier.reads(language)

    def labels_ready(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> bool:
        """True when every label's embedding is cached (in memory or SQLite): no text encoding needed."""
        return self._labels.ready(self._labels.key(labels, language), language)

    async def prepare_labels(self, labels: Sequence[str], language: str = DEFAULT_LANGUAGE) -> None:
        """Compute missing label embeddings in the engine's label thread (seconds for many new labels)."""
        await self._labels.weights(self._labels.key(labels, language), language)

    def build_examples(self, rows: Sequence[tuple[str, bytes]]) -> Examples | None:
        """Taught pictures, ``(label, embedding bytes)`` rows of this model, ready for ``classify``; None for none."""
        return Examples.from_rows(rows)

    async def classify(
        self,
        image: bytes,
        labels: Sequence[str],
        top_k: int = 3,
        language: str = DEFAULT_LANGUAGE,
        *,
        examples: Examples | None = None,
    ) -> list[Guess]:
        """Top-k guesses for one picture over ``labels`` (written in ``language``), best first.

        ``examples`` (a chat's taught pictures, see :mod:`classifier.few_shot`)
        are blended into the ranking. Raises ImageError subclasses for
        unreadable pictures, EngineBusy when the engine is full, EngineClosed
        before ``start()`` or after ``close()``.
        """
        return await self._classify(image, labels, top_k, language, examples, embed=False)

    async def classify_embedded(
        self,
        image: bytes,
        labels: Sequence[str],
        top_k: int = 3,
        language: str = DEFAULT_LANGUAGE,
        *,
        examples: Examples | None = None,
    ) -> Classified:
        """Like ``classify``, with the picture's image embedding (float32 bytes) to teach from later."""
        return await self._classify(image, labels, top_k, language, examples, embed=True)

    async def _classify(
        self, image: bytes, labels: Sequence[str], top_k: int, language: str, examples: Examples | None, embed: bool
    ):
        """The guesses (``embed``: a ``Classified``) for one picture: the engine's own way."""
        raise NotImplementedError
