"""Parsing and applying /labels arguments."""

import time
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.labels import (
    MAX_INPUT_LENGTH,
    MAX_LABEL_LENGTH,
    MAX_LABELS,
    MIN_LABELS,
    LabelsCommand,
    LabelsError,
    apply_labels_command,
    command_args,
    parse_labels,
    parse_labels_command,
)

DEFAULT = ["cat", "dog", "bird"]
JOINERS = "\u200c\u200d"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cat, dog", ["cat", "dog"]),
        ("cat\ndog\r\nbird", ["cat", "dog", "bird"]),
        ("  polar   bear ,\tgrizzly\u00a0bear  ", ["polar bear", "grizzly bear"]),
        ("Cat, cat, CAT, dog", ["Cat", "dog"]),  # first spelling wins
        ("cat,, ,dog,", ["cat", "dog"]),  # empty items are skipped
        ("ca\u200bt, d\x00og, e\u202emu", ["cat", "dog", "emu"]),  # control/format chars go
        ("猫，犬、鳥", ["猫", "犬", "鳥"]),  # full-width and ideographic commas
        ("Straße, STRASSE, dog", ["Straße", "dog"]),  # caseless comparison, not just lower()
        ("🐈\u200d⬛, 🏳\ufe0f\u200d🌈", ["🐈\u200d⬛", "🏳\ufe0f\u200d🌈"]),  # ZWJ emoji sequences
        ("گربه\u200cها, गुरु\u200dजी", ["گربه\u200cها", "गुरु\u200dजी"]),  # ZWNJ/ZWJ spell words
        ("\u200dcat\u200c, \u200c dog \u200d", ["cat", "dog"]),  # joiners join nothing at the ends
        (
            "\u2066cat\u2069, d\u200eog\u200f, \u061cfox\u202a\u202b\u202c\u202d\u202e\u2067\u2068",
            ["cat", "dog", "fox"],
        ),  # every direction control goes
    ],
)
def test_parse_labels(text, expected):
    assert parse_labels(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Give at least 2 labels, separated by commas."),
        ("cat", "Give at least 2 labels, separated by commas."),
        ("cat, Cat", "Give at least 2 labels, separated by commas."),
        (", ".join(f"l{i}" for i in range(140)), "At most 100 labels (you gave 140)."),
        ("cat, dog, " + "x" * 41, 'Label 3 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx…" is longer than 40 characters.'),
        ("a" * 10_000, "That's too much text (10000 characters): keep the list under 5000."),
    ],
)
def test_parse_labels_says_what_is_wrong(text, message):
    with pytest.raises(LabelsError) as caught:
        parse_labels(text)
    assert str(caught.value) == message == caught.value.user_message


def test_limits_are_inclusive():
    assert len(parse_labels(", ".join(f"l{i}" for i in range(MAX_LABELS)))) == MAX_LABELS
    assert parse_labels(f"{'y' * MAX_LABEL_LENGTH}, z")[0] == "y" * MAX_LABEL_LENGTH
    assert parse_labels("a, b") == ["a", "b"]


def test_huge_input_fails_fast():
    text = "cat, " * 200_000
    started = time.perf_counter()
    with pytest.raises(LabelsError, match="too much text"):
        parse_labels(text)
    assert time.perf_counter() - started < 0.05


@given(st.text(max_size=MAX_INPUT_LENGTH + 50))
@settings(max_examples=300, deadline=None)
def test_parse_labels_raises_only_labels_error_and_keeps_invariants(text):
    try:
        labels = parse_labels(text)
    except LabelsError as error:
        assert str(error) and "\n" not in str(error)  # noqa: PT017 - raising is allowed, not required
        return
    assert MIN_LABELS <= len(labels) <= MAX_LABELS
    assert len({label.casefold() for label in labels}) == len(labels)
    for label in labels:
        assert 1 <= len(label) <= MAX_LABEL_LENGTH
        assert label == label.strip() and "  " not in label
        # no control or format characters but the joiners emoji and scripts need, and never at the ends
        assert not any(unicodedata.category(c).startswith("C") and c not in JOINERS for c in label)
        assert label[0] not in JOINERS and label[-1] not in JOINERS
        assert "," not in label and "\n" not in label
    assert parse_labels(", ".join(labels)) == labels  # a shown list parses back to itself


@given(
    st.lists(
        st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=40),
        min_size=2,
        max_size=100,
        unique_by=str.casefold,
    )
)
@settings(max_examples=100, deadline=None)
def test_clean_distinct_labels_survive_unchanged(labels):
    joined = "\n".join(labels)
    assert parse_labels(joined) == labels


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/labels cat, dog", "cat, dog"),
        ("/labels@toonzoo_bot\ncat\ndog", "cat\ndog"),
        ("/labels", ""),
        ("  /labels   add zebra ", "add zebra"),
        ("no command", "no command"),
    ],
)
def test_command_args_keeps_new_lines(text, expected):
    assert command_args(text) == expected


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ("", LabelsCommand("show")),
        ("  show ", LabelsCommand("show")),
        ("LIST", LabelsCommand("show")),
        ("reset", LabelsCommand("reset")),
        ("defaults", LabelsCommand("reset")),
        ("cat, dog", LabelsCommand("set", ("cat", "dog"))),
        ("set cat, dog", LabelsCommand("set", ("cat", "dog"))),
        ("set\ncat\ndog", LabelsCommand("set", ("cat", "dog"))),
        ("add zebra", LabelsCommand("add", ("zebra",))),
        ("Add zebra, lion, Zebra", LabelsCommand("add", ("zebra", "lion"))),
        ("remove bird", LabelsCommand("remove", ("bird",))),
        ("rm bird, dog", LabelsCommand("remove", ("bird", "dog"))),
        ("reset, rest", LabelsCommand("set", ("reset", "rest"))),  # keyword needs a space after it
        ("addax, oryx", LabelsCommand("set", ("addax", "oryx"))),
    ],
)
def test_parse_labels_command(args, expected):
    assert parse_labels_command(args) == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("add", "Say which labels to add, e.g. /labels add zebra, lion"),
        ("remove  ,", "Say which labels to remove, e.g. /labels remove zebra, lion"),
        ("set", "Say which labels to use, e.g. /labels set cat, dog, bird"),
        ("reset now", "/labels reset takes nothing after it."),
        ("set cat", "Give at least 2 labels, separated by commas."),
        ("cat", "Give at least 2 labels, separated by commas."),
        ("add " + "q" * 50, 'Label 1 "qqqqqqqqqqqqqqqqqqqqqqqqqqqqq…" is longer than 40 characters.'),
    ],
)
def test_parse_labels_command_errors(args, message):
    with pytest.raises(LabelsError) as caught:
        parse_labels_command(args)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("current", "cmd", "expected"),
    [
        (["x", "y"], LabelsCommand("show"), ["x", "y"]),
        (["x", "y"], LabelsCommand("reset"), DEFAULT),
        (["x", "y"], LabelsCommand("set", ("a", "b")), ["a", "b"]),
        (["x", "y"], LabelsCommand("add", ("Y", "z")), ["x", "y", "z"]),
        (["x", "y", "z"], LabelsCommand("remove", ("X",)), ["y", "z"]),
    ],
)
def test_apply_labels_command(current, cmd, expected):
    before = list(current)
    assert apply_labels_command(current, DEFAULT, cmd) == expected
    assert current == before  # never mutated


@pytest.mark.parametrize(
    ("current", "cmd", "message"),
    [
        (["x", "y"], LabelsCommand("add", ("X", "y")), 'Already in the list: "X", "y".'),
        (["x", "y", "z"], LabelsCommand("remove", ("x", "yak", "emu")), 'Not in the list: "yak", "emu".'),
        (["x", "y", "z"], LabelsCommand("remove", ("x", "z")), "Keep at least 2 labels: that would leave 1."),
        (
            [f"l{i}" for i in range(98)],
            LabelsCommand("add", ("a", "b", "c")),
            "At most 100 labels: there are 98 and you tried to add 3.",
        ),
    ],
)
def test_apply_labels_command_errors(current, cmd, message):
    with pytest.raises(LabelsError) as caught:
        apply_labels_command(current, DEFAULT, cmd)
    assert str(caught.value) == message


def test_commands_compose_end_to_end():
    labels = DEFAULT
    for args in ("add zebra, lion", "remove dog", "show"):
        labels = apply_labels_command(labels, DEFAULT, parse_labels_command(args))
    assert labels == ["cat", "bird", "zebra", "lion"]
    assert apply_labels_command(labels, DEFAULT, parse_labels_command("reset")) == DEFAULT
