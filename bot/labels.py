"""Parse and validate the labels a chat asks the bot to choose between.

Pure functions: no I/O, no telegram. Handlers reply to a ``LabelsError`` (a
``UserError``) with its ``user_message``, written for the person who typed the command.

Usage::

    /labels                      show the current labels
    /labels cat, dog, bird       replace them (same as: /labels set cat, dog, bird)
    /labels add zebra, lion      add some
    /labels remove bird          remove some
    /labels reset                back to the defaults
    /labels untrain fox          forget the drawings taught as fox

Labels are separated by commas or new lines. A keyword counts only when it is
followed by a space, a new line or nothing, so ``/labels reset, rest`` sets the
two labels "reset" and "rest".
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from classifier.errors import UserError

MIN_LABELS = 2
MAX_LABELS = 100
MAX_LABEL_LENGTH = 40
# A full list (100 labels of 40 characters with ", " between them) is 4198
# characters; anything much longer is refused before it is split.
MAX_INPUT_LENGTH = 5000

# Commas (also full-width, ideographic and Arabic) and line breaks separate labels.
_SEPARATORS = re.compile(r"[,\uff0c\u3001\u060c\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_QUOTE_LENGTH = 30
_JOINERS = "\u200c\u200d"  # zero-width non-joiner and joiner
LabelsKind = Literal["show", "set", "add", "remove", "reset", "untrain"]
_KEYWORDS: dict[str, LabelsKind] = {
    "show": "show",
    "list": "show",
    "set": "set",
    "add": "add",
    "remove": "remove",
    "rm": "remove",
    "delete": "remove",
    "reset": "reset",
    "default": "reset",
    "defaults": "reset",
    "untrain": "untrain",
}
_KEYWORD = re.compile(r"(?P<word>[A-Za-z]+)(?=\s|$)(?P<rest>.*)", re.DOTALL)
_COMMAND = re.compile(r"/[^\s@]+(?:@\S*)?(?P<rest>.*)", re.DOTALL)


class LabelsError(UserError, ValueError):
    """The labels given are not acceptable; ``user_message`` (also ``str(error)``) says why."""

    def __init__(self, user_message: str):
        super().__init__(user_message, user_message=user_message)


@dataclass(frozen=True)
class LabelsCommand:
    """What a ``/labels`` message asks for."""

    kind: LabelsKind
    labels: tuple[str, ...] = ()


def command_args(text: str) -> str:
    """Return what follows ``/command`` or ``/command@BotName``, keeping new lines.

    ``context.args`` splits on any whitespace and so loses the line breaks
    that may separate labels; use this on ``message.text`` instead.
    """
    match = _COMMAND.match(text.lstrip())
    return match["rest"].strip() if match else text.strip()


def parse_labels(text: str) -> list[str]:
    """Parse a full label list: ``MIN_LABELS`` to ``MAX_LABELS`` labels, each 1 to ``MAX_LABEL_LENGTH`` characters.

    Labels keep the user's spelling; duplicates are compared ignoring case
    and the first spelling wins.
    """
    labels = _split_labels(text)
    if len(labels) < MIN_LABELS:
        raise LabelsError(f"Give at least {MIN_LABELS} labels, separated by commas.")
    if len(labels) > MAX_LABELS:
        raise LabelsError(f"At most {MAX_LABELS} labels (you gave {len(labels)}).")
    return labels


def parse_labels_command(args_text: str) -> LabelsCommand:
    """Parse the text after ``/labels`` (see the module docstring)."""
    text = args_text.strip()
    if not text:
        return LabelsCommand("show")
    match = _KEYWORD.match(text)
    kind = _KEYWORDS.get(match["word"].lower()) if match else None
    if match is None or kind is None:
        return LabelsCommand("set", tuple(parse_labels(text)))
    rest = match["rest"].strip()
    if kind in ("show", "reset"):
        if rest:
            raise LabelsError(f"/labels {kind} takes nothing after it.")
        return LabelsCommand(kind)
    if kind == "set":
        if not rest:
            raise LabelsError("Say which labels to use, e.g. /labels set cat, dog, bird")
        return LabelsCommand("set", tuple(parse_labels(rest)))
    labels = _split_labels(rest)
    if not labels and kind == "untrain":
        raise LabelsError("Say which label's taught drawings to forget, e.g. /labels untrain fox")
    if not labels:
        raise LabelsError(f"Say which labels to {kind}, e.g. /labels {kind} zebra, lion")
    return LabelsCommand(kind, tuple(labels))


def apply_labels_command(current: list[str], default: list[str], cmd: LabelsCommand) -> list[str]:
    """Return the label list after ``cmd``; ``current`` is the chat's list now.

    Raises ``LabelsError`` when the result would break the label-count limits or when
    an add or remove would change nothing.
    """
    if cmd.kind == "show":
        return list(current)
    if cmd.kind == "reset":
        return list(default)
    if cmd.kind == "set":
        return list(cmd.labels)
    present = {label.casefold() for label in current}
    if cmd.kind == "add":
        new = [label for label in cmd.labels if label.casefold() not in present]
        if not new:
            raise LabelsError(f"Already in the list: {_quote_all(cmd.labels)}.")
        if len(current) + len(new) > MAX_LABELS:
            raise LabelsError(f"At most {MAX_LABELS} labels: there are {len(current)} and you tried to add {len(new)}.")
        return [*current, *new]
    if cmd.kind == "remove":
        missing = [label for label in cmd.labels if label.casefold() not in present]
        if missing:
            raise LabelsError(f"Not in the list: {_quote_all(missing)}.")
        gone = {label.casefold() for label in cmd.labels}
        left = [label for label in current if label.casefold() not in gone]
        if len(left) < MIN_LABELS:
            raise LabelsError(f"Keep at least {MIN_LABELS} labels: that would leave {len(left)}.")
        return left
    raise ValueError(f"unknown labels command kind: {cmd.kind!r}")


def _split_labels(text: str) -> list[str]:
    """Split, clean and de-duplicate labels; check each label's length only."""
    if len(text) > MAX_INPUT_LENGTH:
        raise LabelsError(f"That's too much text ({len(text)} characters): keep the list under {MAX_INPUT_LENGTH}.")
    labels: list[str] = []
    seen: set[str] = set()
    number = 0
    for part in _SEPARATORS.split(text):
        label = clean_text(part)
        if not label:
            continue
        number += 1
        if len(label) > MAX_LABEL_LENGTH:
            raise LabelsError(f"Label {number} {_quote(label)} is longer than {MAX_LABEL_LENGTH} characters.")
        key = label.casefold()
        if key not in seen:
            seen.add(key)
            labels.append(label)
    return labels


def clean_text(text: str) -> str:
    """Text typed by users (labels, names) made safe to show: one line, no direction tricks.

    Whitespace of any kind becomes one space. Controls that change the display
    direction (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) go, and
    so do other control and invisible format characters, except the zero-width
    joiner and non-joiner inside the text: they build emoji (🐈‍⬛) and spell
    words (Persian گربه‌ها). At the ends, where they join nothing, they go too.
    """
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif char in _JOINERS or not unicodedata.category(char).startswith("C"):
            kept.append(char)
    return " ".join("".join(kept).split()).strip(_JOINERS + " ")


def _quote(label: str) -> str:
    if len(label) > _QUOTE_LENGTH:
        label = label[: _QUOTE_LENGTH - 1] + "…"
    return f'"{label}"'


def _quote_all(labels) -> str:
    return ", ".join(_quote(label) for label in labels)
