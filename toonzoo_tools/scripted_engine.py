"""A scripted engine for game tests and load tools: what the model "sees" is set per picture."""

import io
import itertools
import re

from PIL import Image

from classifier.errors import EngineClosed
from classifier.prompts import DEFAULT_LABELS
from classifier.types import Classified, Guess

ROUND = re.compile(r"Round (\d+)/(\d+)(?: goes on)?\. Draw: (.+?) \S+!")
_colours = itertools.count(1)


class ScriptedEngine:
    """What the model sees is set per picture: ``engine.sees(picture, "giraffe", 0.9)``.

    It satisfies ``bot.services.ClassifierEngine`` (mypy checks it where it is passed as one).

    Unknown pictures look like nothing in particular (every label equally likely).
    """

    identity = "scripted"

    def __init__(self):
        self.verdicts: dict[bytes, dict[str, float]] = {}
        self.classified: list[tuple[bytes, tuple[str, ...], int]] = []
        self.running = False

    def sees(self, picture: bytes, label: str, score: float = 0.9, **others: float) -> bytes:
        self.verdicts[picture] = {label: score, **others}
        return picture

    async def start(self) -> None:
        self.running = True

    async def close(self) -> None:
        self.running = False

    def reads(self, language: str) -> bool:
        return language == "en"

    def labels_ready(self, labels, language: str = "en") -> bool:
        return True

    async def prepare_labels(self, labels, language: str = "en") -> None:
        pass

    def build_examples(self, rows):
        return None  # what the model sees is scripted: taught pictures change nothing

    async def classify_embedded(
        self, image: bytes, labels, top_k: int = 3, language: str = "en", *, examples=None
    ) -> Classified:
        return Classified(await self.classify(image, labels, top_k, language), b"\0" * 16)

    async def classify(
        self, image: bytes, labels, top_k: int = 3, language: str = "en", *, examples=None
    ) -> list[Guess]:
        if not self.running:
            raise EngineClosed("not running")
        labels = tuple(labels)
        self.classified.append((image, labels, top_k))
        chosen = {label: score for label, score in self.verdicts.get(image, {}).items() if label in labels}
        rest = [label for label in labels if label not in chosen]
        spread = max(0.0, 1.0 - sum(chosen.values())) / max(1, len(rest))
        guesses = [Guess(label, score) for label, score in chosen.items()] + [Guess(x, spread) for x in rest]
        return sorted(guesses, key=lambda g: g.score, reverse=True)[:top_k]


def drawing() -> bytes:
    """A distinct small PNG each call (the engine recognises pictures by their bytes)."""
    n = next(_colours)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (n % 256, n // 256 % 256, 77)).save(buffer, "PNG")
    return buffer.getvalue()


def target_of(text: str) -> tuple[int, str]:
    """(round number, target) from an announcement."""
    match = ROUND.search(text)
    assert match, text
    drawn = match[3]
    label = next(x for x in DEFAULT_LABELS if drawn == x)
    return int(match[1]), label
