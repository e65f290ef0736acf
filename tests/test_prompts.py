"""Pending button prompts: who may answer which question, on which message, until when."""

import pytest

from bot.prompts import Decision, PendingPrompts, callback_data, parse_callback_data

CHAT, MESSAGE, ADA, BOB = -100, 7, 1, 2


@pytest.fixture
def prompts():
    prompts = PendingPrompts(ttl_s=600)
    prompts.add("forget", CHAT, MESSAGE, ADA, ("yes", "no"), now=1000.0)
    return prompts


def test_callback_data_is_the_action_only():
    assert callback_data("forget", "yes") == "forget:yes"
    assert parse_callback_data("forget:yes") == ("forget", "yes")
    with pytest.raises(ValueError, match="bad button kind or action"):
        callback_data("forget", "yes:1")


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "forget",
        "forget:",
        "forget:yes:1001",
        "zzz",
        "FORGET:YES",
        "forget:yes\n",
        "x" * 64,
        "forget:ye\ufffds",
    ],
)
def test_malformed_data_parses_to_nothing(data):
    assert parse_callback_data(data) is None


def test_the_asker_is_honoured_others_need_to_be_admins(prompts):
    verdict = prompts.check(CHAT, MESSAGE, ADA, "forget:no", now=1001.0)
    assert (verdict.decision, verdict.action) == (Decision.HONOUR, "no")
    assert prompts.check(CHAT, MESSAGE, BOB, "forget:yes", now=1001.0).decision is Decision.NOT_YOURS


@pytest.mark.parametrize(
    ("chat", "message", "data", "decision"),
    [
        (CHAT, MESSAGE + 1, "forget:yes", Decision.STALE),  # another message of the chat
        (CHAT - 1, MESSAGE, "forget:yes", Decision.STALE),  # the same message id in another chat
        (CHAT, MESSAGE, f"forget:yes:{ADA}", Decision.MALFORMED),  # identity in the data counts for nothing
        (CHAT, MESSAGE, "forget:maybe", Decision.MALFORMED),
        (CHAT, MESSAGE, "label:cat", Decision.MALFORMED),  # another question's button
        (CHAT, MESSAGE + 1, "zzz", Decision.MALFORMED),
    ],
)
def test_presses_that_match_no_pending_prompt(prompts, chat, message, data, decision):
    assert prompts.check(chat, message, ADA, data, now=1001.0).decision is decision


def test_expired_prompts_are_stale_and_cannot_be_consumed(prompts):
    assert prompts.check(CHAT, MESSAGE, ADA, "forget:yes", now=1600.0).decision is Decision.STALE
    assert prompts.consume(CHAT, MESSAGE, now=1600.0) is None


def test_a_prompt_is_answered_once(prompts):
    assert prompts.consume(CHAT, MESSAGE, now=1001.0).asker_id == ADA
    assert prompts.consume(CHAT, MESSAGE, now=1001.0) is None
    assert prompts.check(CHAT, MESSAGE, ADA, "forget:yes", now=1001.0).decision is Decision.STALE


def test_adding_drops_expired_prompts(prompts):
    prompts.add("forget", CHAT, MESSAGE + 5, ADA, ("yes", "no"), now=2000.0)
    assert len(prompts) == 1


def test_moving_and_forgetting_a_chat(prompts):
    prompts.add("forget", -200, 3, BOB, ("yes", "no"), now=1000.0)
    prompts.move_chat(CHAT, -300)
    assert prompts.check(CHAT, MESSAGE, ADA, "forget:yes", now=1001.0).decision is Decision.STALE
    assert prompts.check(-300, MESSAGE, ADA, "forget:yes", now=1001.0).decision is Decision.HONOUR
    prompts.forget_chat(-300)
    assert prompts.check(-300, MESSAGE, ADA, "forget:yes", now=1001.0).decision is Decision.STALE
    assert prompts.check(-200, 3, BOB, "forget:no", now=1001.0).decision is Decision.HONOUR
