"""Plain result types shared by the classifier and its callers."""

from dataclasses import dataclass
from typing import Any, TypeAlias

# An open_clip CLIP or CustomTextCLIP (a torch Module). open_clip ships no type information, and
# torch types a Module's attributes as ``Tensor | Module``: its towers and methods are used unchecked.
ClipModel: TypeAlias = Any


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
