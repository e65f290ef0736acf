"""Plain result types shared by the classifier and its callers."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Guess:
    """One ranked label: ``score`` is a probability over the given labels."""

    label: str
    score: float


@dataclass(frozen=True)
class Classified:
    """A picture's guesses and its unit image embedding (float32 bytes), to teach from later."""

    guesses: list[Guess]
    embedding: bytes
