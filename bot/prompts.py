"""Questions the bot asked with inline buttons, kept on the server until answered or expired.

Pure logic: no telegram, no clock (callers pass ``now``). Callback data comes
from the client and a modified client can send any string on any bot message,
so it carries only the action (``forget:yes``), never who may press it. Who
asked, in which chat, on which message and until when lives here; a press is
honoured only when it matches a pending prompt on that very message.

Usage (what ``bot.handlers`` does)::

    prompts.add("forget", chat_id, sent.message_id, asker_id, ("yes", "no"), now)
    verdict = prompts.check(chat_id, message_id, presser_id, query.data, now)
    # HONOUR: go on; NOT_YOURS: go on only if the presser is an admin now; else refuse
    prompt = prompts.consume(chat_id, message_id, now)   # None: someone else was first
"""

import re
from dataclasses import dataclass, replace
from enum import Enum

PROMPT_TTL_S = 600.0
_DATA = re.compile(r"(?P<kind>[a-z_]{1,20}):(?P<action>[a-z0-9_]{1,20})")


class Decision(Enum):
    """What to do with a button press."""

    HONOUR = "honour"  # the asker pressed a button of their pending prompt
    NOT_YOURS = "not-yours"  # someone else: honour only if they are a chat admin now
    STALE = "stale"  # no pending prompt on that message (answered, expired, unknown)
    MALFORMED = "malformed"  # data no button of ours carries on that message


@dataclass(frozen=True)
class Prompt:
    """A question waiting for a press: ``kind`` names the question, ``actions`` its buttons."""

    kind: str
    chat_id: int
    message_id: int
    asker_id: int
    actions: frozenset[str]
    expires_at: float


@dataclass(frozen=True)
class Verdict:
    decision: Decision
    prompt: Prompt | None = None
    action: str | None = None


def callback_data(kind: str, action: str) -> str:
    """The data for a button: ``forget:yes``."""
    data = f"{kind}:{action}"
    if not _DATA.fullmatch(data):
        raise ValueError(f"bad button kind or action: {data!r}")
    return data


def parse_callback_data(data: object) -> tuple[str, str] | None:
    """(kind, action) from data made by ``callback_data``; None for anything else."""
    if not isinstance(data, str):
        return None
    match = _DATA.fullmatch(data)
    return (match["kind"], match["action"]) if match else None


class PendingPrompts:
    """Pending prompts keyed by (chat id, message id)."""

    def __init__(self, ttl_s: float = PROMPT_TTL_S):
        self.ttl_s = ttl_s
        self._prompts: dict[tuple[int, int], Prompt] = {}

    def __len__(self) -> int:
        return len(self._prompts)

    def add(
        self, kind: str, chat_id: int, message_id: int, asker_id: int, actions, now: float, ttl_s: float | None = None
    ) -> Prompt:
        """Remember a question just sent (open ``ttl_s``, default ``self.ttl_s``); forget the ones that expired."""
        for action in actions:
            callback_data(kind, action)  # refuse kinds and actions a press could never match
        self.prune(now)
        prompt = Prompt(kind, chat_id, message_id, asker_id, frozenset(actions), now + (ttl_s or self.ttl_s))
        self._prompts[(chat_id, message_id)] = prompt
        return prompt

    def check(self, chat_id: int, message_id: int, user_id: int, data: object, now: float) -> Verdict:
        """Decide on a press of ``data`` by ``user_id`` on that message; changes nothing."""
        parsed = parse_callback_data(data)
        prompt = self._prompts.get((chat_id, message_id))
        if parsed is None or (prompt is not None and (parsed[0] != prompt.kind or parsed[1] not in prompt.actions)):
            return Verdict(Decision.MALFORMED, prompt)
        if prompt is None or now >= prompt.expires_at:
            return Verdict(Decision.STALE, prompt)
        decision = Decision.HONOUR if user_id == prompt.asker_id else Decision.NOT_YOURS
        return Verdict(decision, prompt, parsed[1])

    def consume(self, chat_id: int, message_id: int, now: float) -> Prompt | None:
        """Take the prompt off the list; None when it is gone or expired (a press lost the race)."""
        prompt = self._prompts.pop((chat_id, message_id), None)
        if prompt is None or now >= prompt.expires_at:
            return None
        return prompt

    def prune(self, now: float) -> None:
        """Drop expired prompts."""
        for key in [key for key, prompt in self._prompts.items() if now >= prompt.expires_at]:
            del self._prompts[key]

    def forget_chat(self, chat_id: int) -> None:
        """Drop the chat's prompts."""
        for key in [key for key in self._prompts if key[0] == chat_id]:
            del self._prompts[key]

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its prompts follow it."""
        for (chat_id, message_id), prompt in list(self._prompts.items()):
            if chat_id == old_id:
                del self._prompts[(chat_id, message_id)]
                self._prompts[(new_id, message_id)] = replace(prompt, chat_id=new_id)
