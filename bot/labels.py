"""Parse and validate the labels a chat asks the bot to choose between.

Pure functions: no I/O, no telegram. Handlers reply to a ``LabelsError`` (a
``UserError``) with ``replies.error_text``, written for the person who typed the command.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .i18n import LocalizedError, Translator

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


class LabelsError(LocalizedError, ValueError):
    """The labels given are not acceptable; ``say(t)`` (in English: ``user_message``) says why."""


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
        raise LabelsError(
            lambda t: t.ngettext(
                "Give at least {n} label, separated by commas.",
                "Give at least {n} labels, separated by commas.",
                MIN_LABELS,
            ).format(n=MIN_LABELS)
        )
    if len(labels) > MAX_LABELS:
        raise LabelsError(
            lambda t: t.ngettext(
                "At most {n} label (you gave {given}).", "At most {n} labels (you gave {given}).", MAX_LABELS
            ).format(n=MAX_LABELS, given=len(labels))
        )
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
            raise LabelsError(lambda t: t.gettext("/labels {keyword} takes nothing after it.").format(keyword=kind))
        return LabelsCommand(kind)
    if kind == "set":
        if not rest:
            raise LabelsError(lambda t: t.gettext("Say which labels to use, e.g. /labels set cat, dog, bird"))
        return LabelsCommand("set", tuple(parse_labels(rest)))
    labels = _split_labels(rest)
    if not labels and kind == "untrain":
        raise LabelsError(lambda t: t.gettext("Say which label's taught drawings to forget, e.g. /labels untrain fox"))
    if not labels:
        raise LabelsError(lambda t: _say_which(t, kind))
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
            raise LabelsError(
                lambda t: t.gettext("Already in the list: {labels}.").format(
                    labels=_quote_all(t.label(x) for x in cmd.labels)
                )
            )
        if len(current) + len(new) > MAX_LABELS:
            raise LabelsError(
                lambda t: t.ngettext(
                    "At most {n} label: there are {current} and you tried to add {new}.",
                    "At most {n} labels: there are {current} and you tried to add {new}.",
                    MAX_LABELS,
                ).format(n=MAX_LABELS, current=len(current), new=len(new))
            )
        return [*current, *new]
    if cmd.kind == "remove":
        missing = [label for label in cmd.labels if label.casefold() not in present]
        if missing:
            raise LabelsError(
                lambda t: t.gettext("Not in the list: {labels}.").format(labels=_quote_all(t.label(x) for x in missing))
            )
        gone = {label.casefold() for label in cmd.labels}
        left = [label for label in current if label.casefold() not in gone]
        if len(left) < MIN_LABELS:
            raise LabelsError(
                lambda t: t.ngettext(
                    "Keep at least {n} label: that would leave {left}.",
                    "Keep at least {n} labels: that would leave {left}.",
                    MIN_LABELS,
                ).format(n=MIN_LABELS, left=len(left))
            )
        return left
    raise ValueError(f"unknown labels command kind: {cmd.kind!r}")


def _split_labels(text: str) -> list[str]:
    """Split, clean and de-duplicate labels; check each label's length only."""
    if len(text) > MAX_INPUT_LENGTH:
        raise LabelsError(
            lambda t: t.gettext("That's too much text ({given} characters): keep the list under {n}.").format(
                given=len(text), n=MAX_INPUT_LENGTH
            )
        )
    labels: list[str] = []
    seen: set[str] = set()
    number = 0
    for part in _SEPARATORS.split(text):
        label = clean_text(part)
        if not label:
            continue
        number += 1
        if len(label) > MAX_LABEL_LENGTH:
            raise LabelsError(_too_long(number, label))
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
    """  # noqa: RUF002 - a Persian word, written in its own script on purpose
    kept = []
    for char in text:
        if char.isspace():
            kept.append(" ")
        elif char in _JOINERS or not unicodedata.category(char).startswith("C"):
            kept.append(char)
    return " ".join("".join(kept).split()).strip(_JOINERS + " ")


def _too_long(number: int, label: str) -> Callable[[Translator], str]:
    quoted = _quote(label)
    return lambda t: t.gettext("Label {number} {label} is longer than {n} characters.").format(
        number=number, label=quoted, n=MAX_LABEL_LENGTH
    )


def _say_which(t: Translator, kind: str) -> str:
    if kind == "add":
        return t.gettext("Say which labels to add, e.g. /labels add zebra, lion")
    return t.gettext("Say which labels to remove, e.g. /labels remove zebra, lion")


def _quote(label: str) -> str:
    if len(label) > _QUOTE_LENGTH:
        label = label[: _QUOTE_LENGTH - 1] + "…"
    return f'"{label}"'


def _quote_all(labels) -> str:
    return ", ".join(_quote(label) for label in labels)
