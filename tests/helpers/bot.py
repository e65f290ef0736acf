"""The running bot against the fake Bot API: predicates on its calls, reading its replies, the group game.

The bot is the real one (PTB Application, HTTP stack, polling; ``toonzoo_tools.harness``);
a game's engine is scripted (``toonzoo_tools.scripted_engine``) so a test chooses who wins.
"""

import dataclasses
import re

from bot.app import build_application
from bot.budget import Budgets
from bot.game import GameRules
from bot.services import ClassifierEngine
from classifier.prompts import DEFAULT_LABELS
from toonzoo_tools.harness import running_bot, settings_for
from toonzoo_tools.scripted_engine import ScriptedEngine, drawing, target_of

__all__ = [
    "FAST",
    "ScriptedEngine",
    "ask_forget",
    "drawing",
    "game_bot",
    "guessed_labels",
    "in_chat",
    "play_one_round",
    "replying_to",
    "running_bot",
    "sent_message_id",
    "settings_for",
    "start",
    "target_of",
    "with_quick_budgets",
]

# Rounds of a couple of seconds: a warning 1 s before the end, short pauses, no cooldown unless asked.
FAST = GameRules(min_seconds=1, warning_s=1, cooldown_s=0, pause_s=0.2, resume_min_s=0.5, min_timeout_score=0.3)

GUESS_LINE = re.compile(r"^\S+ (.+?)\s+\d{1,3}% ", re.M)


def guessed_labels(text: str) -> list[str]:
    """The labels of a reply's guess lines, in order."""
    return GUESS_LINE.findall(text)


def other_than(label: str) -> str:
    """A default label that is not ``label`` (what a miss shows)."""
    return next(x for x in DEFAULT_LABELS if x != label)


def text_of(params: dict) -> str:
    """A message's text, or a photo's caption."""
    return params.get("text") or params.get("caption") or ""


def in_chat(chat, *words):
    """A call into ``chat`` whose text (or caption) holds every one of ``words``."""
    return lambda p: p.get("chat_id") == chat["id"] and all(word in text_of(p) for word in words)


def replying_to(message):
    """A call that replies to ``message``."""
    return lambda p: (p.get("reply_parameters") or {}).get("message_id") == message["message_id"]


def sent_message_id(fake, params) -> int:
    """The message_id Telegram gave the sendMessage call whose parameters are ``params``."""
    return next(c for c in fake.all_calls if c.method == "sendMessage" and c.params is params).result["message_id"]


def with_quick_budgets(settings, classifier):
    """``build_application`` with groups' budgets ten times faster (20 messages in 6 s), for a
    group test that is not about pacing: its replies are not held back seconds apart."""
    return build_application(settings, classifier, budgets=Budgets(20, 6.0))


def game_bot(
    fake,
    db_path,
    engine: ClassifierEngine,
    *,
    rules: GameRules = FAST,
    budgets: Budgets | None = None,
    options: dict | None = None,
    **changes,
):
    """The bot with a scripted ``engine``, game ``rules`` (FAST unless given) with ``changes``,
    and optionally group ``budgets`` and settings ``options``: ``async with`` it."""
    game_rules = dataclasses.replace(rules, **changes)

    def build(settings, _classifier):
        return build_application(settings, engine=engine, game_rules=game_rules, budgets=budgets)

    return running_bot(fake, settings_for(fake, db_path, **(options or {})), None, build=build)


async def start(fake, group, user, args="") -> tuple[int, str]:
    """``user`` starts a game with ``args``; (round number, target) of its first announcement."""
    fake.send_text(group, user, f"/game {args}".strip())
    announcement = await fake.wait_for("sendMessage", in_chat(group, "Round 1/"))
    assert announcement["text"].startswith("🎨 Drawing game!")
    return target_of(announcement["text"])


async def ask_forget(fake, group, user) -> int:
    """``user`` sends /forget; the message id of the bot's question (its buttons checked)."""
    fake.send_text(group, user, "/forget")
    question = await fake.wait_for("sendMessage", lambda p: in_chat(group)(p) and "reply_markup" in p)
    data = [b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
    assert data == ["forget:yes", "forget:no"], "buttons carry the action only, never who may press"
    return sent_message_id(fake, question)


async def play_one_round(fake, engine, group, starter, winner) -> None:
    """A one-round game that ``winner`` wins."""
    _, target = await start(fake, group, starter, "1 30")
    hit = fake.send_photo(group, winner, engine.sees(drawing(), target, 0.9))
    await fake.wait_for("sendMessage", replying_to(hit))
    await fake.wait_for("sendPhoto", in_chat(group, "🏁"))  # the gallery, captioned
