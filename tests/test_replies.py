"""Texts the bot sends."""

import re
from pathlib import Path

import pytest

from bot import replies
from bot.i18n import ENGLISH as EN
from bot.i18n import LANGUAGES, Text, get_translator
from bot.replies import (
    COMMANDS,
    MESSAGE_LIMIT,
    build_help_text,
    build_start_text,
    fit_text,
    format_bar,
    format_guesses,
    format_labels,
    format_labels_changed,
    get_emoji,
    text_length,
)
from classifier.types import Guess

TRANSLATORS = [get_translator(language) for language in LANGUAGES]


def test_confident_guesses_show_top_three_best_first():
    text = format_guesses(EN, [Guess("cat", 0.05), Guess("giraffe", 0.81), Guess("dog", 0.1), Guess("owl", 0.04)])
    assert text.splitlines() == [
        "🦒 giraffe  81% ██████▌",
        "🐕 dog  10% ▊",
        "🐈 cat   5% ▍",
    ]


def test_unsure_guesses_say_so_first():
    lines = format_guesses(EN, [Guess("scribble", 0.3), Guess("cat", 0.25)]).splitlines()
    assert lines[0] == "I'm not sure, but it might be:"
    assert lines[1:] == ["🖍️ scribble  30% ██▍", "🐈 cat  25% ██"]
    assert not format_guesses(EN, [Guess("cat", 0.3)], unsure_below=0.3).startswith("I'm not sure")


def test_no_guesses():
    assert format_guesses(EN, []) == "I couldn't make a guess about that picture."


@pytest.mark.parametrize(
    ("score", "bar"),
    [
        (1.0, "████████"),
        (0.5, "████"),
        (1 / 64, "▏"),
        (0.0, ""),
        (0.99, "███████▉"),
        (1.7, "████████"),  # clamped
        (-0.2, ""),
        (float("nan"), ""),
    ],
)
def test_bar(score, bar):
    assert format_bar(score) == bar


def test_percentages_are_right_aligned_and_rounded():
    lines = format_guesses(EN, [Guess("a", 0.996), Guess("b", 0.004), Guess("c", 0.0)]).splitlines()
    assert [re.search(r" {1,3}\d+%", line).group() for line in lines] == [" 100%", "   0%", "   0%"]


@pytest.mark.parametrize(
    ("label", "emoji"),
    [
        ("giraffe", "🦒"),
        ("Giraffe", "🦒"),
        ("a cat", "🐈"),
        ("cats", "🐈"),
        ("foxes", "🦊"),
        ("spaceship", "🖍️"),
        ("", "🖍️"),
    ],
)
def test_emoji(label, emoji):
    assert get_emoji(label) == emoji


def test_emoji_table_is_lowercase_singular_keys():
    assert all(key == key.casefold().strip() for key in replies.LABEL_EMOJI)


def test_commands_fit_telegram_rules():
    names = [name for name, _ in COMMANDS]
    assert len(set(names)) == len(names)
    for name, description in COMMANDS:
        assert re.fullmatch(r"[a-z0-9_]{1,32}", name)
        assert 3 <= len(description(EN)) <= 256
    assert {"start", "help", "labels", "guess", "game", "stop", "score", "forget"} <= set(names)


def test_help_lists_every_command_from_the_tuple():
    for name, description in COMMANDS:
        assert f"/{name} – {description(EN)}" in build_help_text(EN)
    assert "/extra – Only here" in build_help_text(EN, (*COMMANDS, ("extra", Text("Only here"))))
    assert len(build_help_text(EN)) < MESSAGE_LIMIT


def test_start_text_greets_by_name_safely():
    assert build_start_text(EN, "Ada").startswith("Hi Ada! 👋\n")
    assert build_start_text(EN, None).startswith("Hi! 👋\n")
    assert build_start_text(EN, "  \n ").startswith("Hi! 👋\n")
    assert build_start_text(EN, "Evil\nName").splitlines()[0] == "Hi Evil Name! 👋"
    assert "/help" in build_start_text(EN, "Ada")


def test_format_labels_short_list():
    text = format_labels(EN, ["cat", "dog"], is_default=True)
    assert text.splitlines()[:2] == ["I choose between 2 labels (the default ones):", "cat, dog"]
    assert "/labels" in text
    assert "(set for this chat)" in format_labels(EN, ["cat", "dog"])


def test_format_labels_fits_one_message_even_at_the_limit():
    labels = [f"{i:03d}" + "x" * 37 for i in range(100)]  # 100 labels of 40 characters
    text = format_labels(EN, labels)
    assert len(text) <= MESSAGE_LIMIT
    body = text.splitlines()[1]
    shown = re.search(r" … and (\d+) more$", body)
    assert shown, "a cut list says how many are missing"
    assert body.count(", ") + 1 + int(shown.group(1)) == 100


@pytest.mark.parametrize(
    "labels",
    [
        [f"{i:03d}" + "x" * 37 for i in range(100)],  # 100 labels of 40 characters
        [f"{i:03d} " + "🐈" * 36 for i in range(100)],  # 40 characters, 76 UTF-16 units each
        ["a"] * 99 + ["🦒" * 40],
    ],
)
def test_labels_changed_fits_one_message_with_its_prefix(labels):
    text = format_labels_changed(EN, labels)
    assert text.startswith("Done. I choose between 100 labels")
    assert text_length(text) <= MESSAGE_LIMIT
    assert text.endswith("/labels add, remove, reset.")
    body = text.splitlines()[1]
    if len(body) < sum(map(len, labels)):
        shown = re.search(r", [^,]+ … and (\d+) more$", body)
        assert shown, "a cut list ends with a whole label and says how many are missing"
        assert body.count(", ") + 1 + int(shown.group(1)) == 100


def test_reset_labels_say_they_are_the_defaults():
    assert "(the default ones)" in format_labels_changed(EN, ["cat", "dog"], is_default=True)
    assert "(set for this chat)" in format_labels_changed(EN, ["cat", "dog"])


def test_fit_text_keeps_short_texts_and_cuts_long_ones_at_a_break():
    assert fit_text("hello") == "hello"
    exact = "x" * MESSAGE_LIMIT
    assert fit_text(exact) is exact
    long = "word " * 1000
    fitted = fit_text(long)
    assert text_length(fitted) <= MESSAGE_LIMIT and fitted.endswith("word…")
    emoji = "🐈" * 3000  # 6000 UTF-16 units: no break to cut at, and no half emoji
    fitted = fit_text(emoji)
    assert fitted == "🐈" * 2047 + "…" and text_length(fitted) == MESSAGE_LIMIT - 1
    assert fit_text("a" * 300 + "\n" + "b" * 300, 400) == "a" * 300 + "…"
    assert text_length(fit_text("é" * 500, 200)) <= 200


def test_error_texts_are_short_plain_sentences():
    for name in (
        "TOO_BIG_TEXT",
        "UNSUPPORTED_STICKER_TEXT",
        "UNSUPPORTED_FILE_TEXT",
        "NOT_ADMIN_TEXT",
        "ERROR_TEXT",
        "NOTHING_TO_GUESS_TEXT",
        "UNSUPPORTED_ANIMATION_TEXT",
        "PREPARING_TEXT",
        "UNKNOWN_COMMAND_TEXT",
        "NOT_A_PICTURE_TEXT",
    ):
        for t in TRANSLATORS:
            text = replies.too_big_text(t) if name == "TOO_BIG_TEXT" else getattr(replies, name)(t)
            assert 10 < len(text) < 120 and "\n" not in text, (t.language, text)
            assert not re.search(r"[*_`<>\[]", text), f"{name} would need escaping in Markdown/HTML"


def test_pure_bot_modules_import_neither_torch_nor_telegram():
    import subprocess
    import sys

    code = (
        "import sys, bot, bot.config, bot.labels, bot.replies, bot.store; "
        "heavy = {'torch', 'open_clip', 'telegram'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stderr


BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def test_standings_show_names_without_direction_tricks():
    from bot.game import Player

    players = [
        Player(1, "\u202eEve\u2066 \u200d", 2, 3.0),
        Player(2, "Ali\u200d🐈\u200d⬛", 1, 4.0),
        Player(3, "\u202e", 1, 5.0),
    ]
    for text in (replies.format_leaderboard(EN, players), replies.format_standings(EN, players)):
        assert not set(BIDI_CONTROLS) & set(text)
        assert "🥇 Eve: 2 points" in text and "🥈 Ali\u200d🐈\u200d⬛: 1 point" in text and "🥉 Player: 1 point" in text


def test_album_guesses_number_every_picture_and_fit_one_message():
    labels = [f"{'x' * 38}{i:02d}" for i in range(3)]
    picture = [Guess(label, score) for label, score in zip(labels, (0.2, 0.1, 0.05))]
    text = replies.format_album_guesses(EN, [picture] * 9 + [replies.DOWNLOAD_FAILED_TEXT(EN)])
    sections = text.split("\n\n")
    assert [section.split(" ", 1)[0] for section in sections] == [f"{n}." for n in range(1, 11)]
    assert sections[0].startswith("1. I'm not sure") and labels[0] in sections[0]
    assert sections[-1] == f"10. {replies.DOWNLOAD_FAILED_TEXT(EN)}"
    assert len(text) <= replies.MESSAGE_LIMIT


def test_album_guesses_that_cannot_fit_are_counted():
    text = replies.format_album_guesses(EN, ["y" * 1500] * 10)
    assert len(text) <= replies.MESSAGE_LIMIT
    assert text.endswith("… and 8 more pictures")


def test_group_greeting_names_the_bot():
    assert "@toonzoo_bot" in replies.build_group_greeting(EN, "toonzoo_bot")
    assert "/guess" in replies.build_group_greeting(EN, None)


def test_one_line_per_picture_for_answers_that_go_together():
    guesses = [Guess("llama", 0.09), Guess("giraffe", 0.81), Guess("horse", 0.04), Guess("owl", 0.01)]
    assert replies.format_guess_line(EN, "Ada", guesses) == "Ada: 🦒 giraffe 81% · 🦙 llama 9% · 🐎 horse 4%"
    assert replies.format_guess_line(EN, "Ada", []) == "Ada: no guess"


def test_one_line_per_player_for_verdicts_that_go_together():
    from bot.game import Judged

    event = Judged(1, 7, "Bob", 0.0, "giraffe", "llama", 0.123, False)
    assert replies.format_verdict_line(EN, event) == "Bob: I see: llama 🦙 (giraffe: 12%)"
