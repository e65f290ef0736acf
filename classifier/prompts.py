"""Prompt templates and default labels: plain data, plus ``build_prompts``.

Templates follow OpenAI's ImageNet prompt set (CLIP paper, open_clip's
``zero_shot_metadata.py``), keeping the ones that describe drawings, cartoons,
sketches and doodles, plus the original toonzoo template.

The Spanish and Russian sets say the same things in forms that fit any label
without articles or inflection: Spanish puts a bare noun after ``de``
("dibujo de jirafa", the wording of web captions), Russian keeps the label in
the nominative ("рисунок: жираф", "жираф на рисунке"). A multilingual model
gets only the labels' language's set, not the English one as well: prompts that
mix two languages ("a drawing of a gato") are unlike any caption the text tower
was trained on, and translated templates are what multilingual zero-shot
evaluations use (CLIP_benchmark's translated ImageNet prompts).
"""

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .errors import UserError
from .presets import base_language

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

DRAWING_TEMPLATES_ES: tuple[str, ...] = (
    "esto es una pintura de caricatura: {}",
    "un dibujo de {}.",
    "un boceto de {}.",
    "un garabato de {}.",
    "{} de caricatura.",
    "un dibujo infantil de {}.",
    "una pintura de {}.",
    "ilustración de {}.",
)

DRAWING_TEMPLATES_RU: tuple[str, ...] = (
    "это мультяшная картинка: {}",
    "рисунок: {}.",
    "набросок: {}.",
    "{} на рисунке.",
    "{} в мультяшном стиле.",
    "детский рисунок: {}.",
    "картина: {}.",
    "иллюстрация: {}.",
)

DEFAULT_LANGUAGE = "en"
# Every language's drawing ensemble; a language not here gets the English one.
DRAWING_TEMPLATES_BY_LANGUAGE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"en": DRAWING_TEMPLATES, "es": DRAWING_TEMPLATES_ES, "ru": DRAWING_TEMPLATES_RU}
)
LANGUAGES: tuple[str, ...] = tuple(DRAWING_TEMPLATES_BY_LANGUAGE)

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


def templates_for(language: str | None) -> tuple[str, ...]:
    """The drawing ensemble in ``language`` (an IETF tag: ``es-419`` gets Spanish); English when there is none."""
    return DRAWING_TEMPLATES_BY_LANGUAGE.get(base_language(language), DRAWING_TEMPLATES)


# Spanish words an English reader would not guess, written in plain ASCII letters: the Spanish names of
# the default animals (with and without their accents) and a few articles. Words shared with English
# (panda, llama, koala) are left out.
_SPANISH_WORDS = frozenset(
    """
    gato perro zorro conejo oso leon tigre elefante jirafa cebra caballo vaca cerdo oveja mono raton
    buho pinguino pato pollo gallina pez tiburon ballena pulpo tortuga rana serpiente cocodrilo
    mariposa caracol gatito perrito lobo aguila
    el la los las un una unos unas del y
    """.split()
)
_WORD = re.compile(r"[^\W\d_]+")


def looks_english(label: str) -> bool:
    """A cheap guess whether ``label`` is English: only ASCII Latin letters, and no common Spanish word.

    ``"zorro"`` -> False, ``"лиса"`` -> False, ``"ñandú"`` -> False, ``"fox"`` -> True. It errs towards
    True for other languages written in ASCII (``"Fuchs"``); a label with no letters (emoji) counts as English.
    """
    words = _WORD.findall(label.lower())
    if any(not word.isascii() for word in words):
        return False
    return not any(word in _SPANISH_WORDS for word in words)
