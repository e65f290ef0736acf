"""One base for errors a user caused, and limits written once that their messages quote."""

import random

import pytest

from bot import pictures, replies
from bot.game import GameError, Player, start_game
from bot.i18n import ENGLISH as EN
from bot.labels import MAX_LABEL_LENGTH, MAX_LABELS, MIN_LABELS, LabelsError, parse_labels
from classifier import errors, images
from classifier.defaults import MAX_PICTURE_BYTES, MAX_PICTURE_PIXELS
from classifier.engine import InferenceFailed
from classifier.prompts import TemplateError, check_templates

USER_ERRORS = (
    LabelsError,
    GameError,
    TemplateError,
    InferenceFailed,
    errors.ImageError,
    errors.NotAnImage,
    errors.CorruptImage,
    errors.ImageTooLarge,
    errors.ImageTooManyPixels,
    errors.ImageTooSmall,
    errors.EngineBusy,
    errors.EngineClosed,
    errors.ModelLoadError,
    errors.WeightsUnavailable,
)


@pytest.mark.parametrize("cls", USER_ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_shown_to_users_is_a_user_error(cls):
    assert issubclass(cls, errors.UserError)


def test_user_message_is_the_reply_and_the_log_text_for_bot_errors():
    with pytest.raises(errors.UserError) as caught:
        parse_labels("cat")
    assert caught.value.user_message == str(caught.value) == f"Give at least {MIN_LABELS} labels, separated by commas."
    with pytest.raises(errors.UserError) as caught:
        check_templates(["no placeholder"])
    assert "no placeholder" in caught.value.user_message and caught.value.user_message == str(caught.value)


def test_game_needs_as_many_labels_as_the_labels_rule():
    with pytest.raises(GameError) as caught:
        start_game(1, Player(1, "Ada"), ["cat"] * (MIN_LABELS - 1), 1, 30, 0.0, random.Random(0))
    assert f"at least {MIN_LABELS} labels" in caught.value.user_message


def test_picture_limits_are_one_constant_quoted_by_every_message():
    assert pictures.MAX_DOWNLOAD_BYTES is MAX_PICTURE_BYTES
    megabytes = f"under {MAX_PICTURE_BYTES // 2**20} MB"
    assert megabytes in errors.ImageTooLarge.user_message and megabytes in replies.too_big_text(EN)
    assert f"under {MAX_PICTURE_PIXELS // 10**6} megapixels" in errors.ImageTooManyPixels.user_message
    with pytest.raises(errors.ImageTooLarge):
        images.decode_image(b"\xff" * (MAX_PICTURE_BYTES + 1))


def test_label_limits_are_quoted_from_their_constants():
    with pytest.raises(LabelsError) as caught:
        parse_labels(", ".join(f"l{i}" for i in range(MAX_LABELS + 1)))
    assert f"At most {MAX_LABELS} labels" in caught.value.user_message
    with pytest.raises(LabelsError) as caught:
        parse_labels("cat, " + "x" * (MAX_LABEL_LENGTH + 1))
    assert f"longer than {MAX_LABEL_LENGTH} characters" in caught.value.user_message
