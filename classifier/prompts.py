"""Prompt templates and default labels: plain data, plus ``build_prompts``.

Templates follow OpenAI's ImageNet prompt set (CLIP paper, open_clip's
``zero_shot_metadata.py``), keeping the ones that describe drawings, cartoons,
sketches and doodles, plus the original toonzoo template.
"""

import hashlib
import json
from collections.abc import Sequence

from .errors import UserError

SEED_TEMPLATE = "this is a painting of cartoon {}"

DRAWING_TEMPLATES: tuple[str, ...] = (
    SEED_TEMPLATE,
    "a drawing of a {}.",
    "a sketch of a {}.",
    "a doodle of a {}.",
    "a cartoon {}.",
    "a child's drawing of a {}.",
    "a painting of the {}.",
    "art of the {}.",
)

DEFAULT_TEMPLATES = DRAWING_TEMPLATES

DEFAULT_LABELS: tuple[str, ...] = (
    "cat",
    "dog",
    "fox",
    "rabbit",
    "bear",
    "panda",
    "lion",
    "tiger",
    "elephant",
    "giraffe",
    "zebra",
    "horse",
    "cow",
    "pig",
    "sheep",
    "monkey",
    "mouse",
    "owl",
    "penguin",
    "duck",
    "chicken",
    "fish",
    "shark",
    "whale",
    "octopus",
    "turtle",
    "frog",
    "snake",
    "crocodile",
    "butterfly",
    "snail",
    "llama",
)


class TemplateError(UserError, ValueError):
    """A template without exactly one ``{}`` placeholder; the message names it, for the user."""

    def __init__(self, user_message: str):
        super().__init__(user_message, user_message=user_message)


def check_templates(templates: Sequence[str]) -> tuple[str, ...]:
    """Return ``templates`` as a tuple, or raise TemplateError naming the bad one."""
    if not templates:
        raise TemplateError("at least one template is needed")
    for template in templates:
        if not (template.count("{}") == template.count("{") == template.count("}") == 1):
            raise TemplateError(f"template {template!r} must contain exactly one '{{}}' and no other braces")
    return tuple(templates)


def build_prompts(label: str, templates: Sequence[str]) -> list[str]:
    """The prompts for one label, one per template."""
    return [template.replace("{}", label) for template in templates]


def templates_key(templates: Sequence[str]) -> str:
    """A short stable identifier for a template set (order matters for nothing but identity)."""
    blob = json.dumps(list(templates), ensure_ascii=False).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
