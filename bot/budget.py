"""Per-group sending budgets: how many messages a group may still get, and when.

Telegram lets a bot send about 20 messages a minute into one group (and about
one a second into a chat, 30 a second overall); more gets ``429 Too Many
Requests``. A queue that waits the limit out delays whatever comes next,
including the drawing game's round announcements. So the bot plans instead:
each group has a ``ChatBudget`` that knows when its recent messages were
accepted and when the game's control messages are due (*reservations*).

- Control messages (round announcement, 10-second warning, round result, game
  over) are sent when due, without asking; the plan leaves room for them.
- Everything else (verdicts, answers to pictures, command replies) is sent only
  when it *fits*: after it, no window of ``window_s`` seconds holds more than
  ``limit - spare`` messages, counting past sends and reservations. ``spare``
  slots stay free for controls nobody can plan (a round won early, and the game
  over that may follow it).
- Replies that can wait a little (coalesced verdicts and answers) are also
  paced (``next_flush``): a token bucket of ``burst`` (2) refilled at the rate
  the window's unplanned slots allow, so the budget lasts the whole window
  instead of going in one burst and leaving the next 40 s silent.
- A round that starts earlier than planned (after an early win) starts at
  ``earliest_start``: the first moment its remaining schedule fits.

Windows are ``window_s + margin_s`` long here, a little longer than Telegram's,
because a send is recorded when its answer comes back, a moment after Telegram
counted it. Pure and clock-free: callers pass ``now`` (seconds, any epoch), so
tests can use short windows (``Budgets(20, 6.0)`` runs ten times faster).

Usage (what ``bot.outbox`` and ``bot.game_handlers`` do)::

    budget = Budgets().for_chat(chat_id)
    budget.reserve(planned_control_times, spare=2)
    if budget.can_send(now):            # a command reply may go now
        budget.record(now)
    later = budget.next_free(now)       # else: when it may
    flush_at = budget.next_flush(now)   # when coalesced verdicts may go
    budget.record(now, control=True)    # a control message went out
"""

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

GROUP_LIMIT = 20  # messages per window into one group (Telegram's FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP)
WINDOW_S = 60.0
MARGIN_S = 0.5  # per 60 s of window: room for the time between Telegram's count and ours
MAX_IDLE_BUDGETS = 1000  # forget idle groups' budgets beyond this many


@dataclass
class ChatBudget:
    """One group's recent sends and the control messages planned for it."""

    limit: int = GROUP_LIMIT
    window_s: float = WINDOW_S
    margin_s: float = MARGIN_S
    sent: list[float] = field(default_factory=list)  # accepted (or claimed) send times, sorted
    paced: list[float] = field(default_factory=list)  # those of them that weren't control messages
    reserved: tuple[float, ...] = ()  # when planned control messages are due, sorted
    spare: int = 0  # slots kept free for control messages nobody can plan

    @property
    def span(self) -> float:
        """How long a send counts against the budget."""
        return self.window_s + self.margin_s

    def pace_s(self, now: float) -> float:
        """The steady rate for replies that can wait: the window shared among the slots the
        coming window's planned controls, the spare slots and a burst leave (3.3 s when
        nothing is planned, about 6 s during a game of 20 s rounds)."""
        planned = sum(1 for t in self.reserved if now <= t < now + self.window_s)
        return self.window_s / max(1, self.cap - planned - self.burst)

    @property
    def burst(self) -> int:
        """Replies that may go back to back before pacing starts (2 of 20)."""
        return max(1, self.limit // 10)

    @property
    def cap(self) -> int:
        """Messages a window may hold when planning (the spare slots stay free)."""
        return max(1, self.limit - self.spare)

    def record(self, at: float, control: bool = False) -> None:
        """A message was sent (or is being sent) at ``at``; ``control``: a control message."""
        self._prune(at)
        bisect.insort(self.sent, at)
        if not control:
            bisect.insort(self.paced, at)

    def unrecord(self, at: float, control: bool = False) -> None:
        """Take back a send recorded at ``at`` (it failed, or its time is corrected)."""
        for times in (self.sent,) if control else (self.sent, self.paced):
            index = bisect.bisect_left(times, at)
            if index < len(times) and times[index] == at:
                del times[index]

    def reserve(self, times: Iterable[float], spare: int = 0) -> None:
        """Replace the planned control messages and the spare slots."""
        self.reserved = tuple(sorted(times))
        self.spare = spare

    def used(self, now: float) -> int:
        """Messages that still count at ``now``."""
        return len(self.sent) - bisect.bisect_right(self.sent, now - self.span)

    def can_send(self, now: float) -> bool:
        """May a message that isn't a control go now, leaving room for the planned ones?"""
        return self._fits_at(now)

    def next_free(self, now: float) -> float:
        """The earliest time, ``now`` or later, when ``can_send`` holds."""
        times = (*self.sent, *(max(r, now) for r in self.reserved))
        candidates = sorted({now, *(x + self.span for x in times if x + self.span > now)})
        for t in candidates:
            if self._fits_at(t, now):
                return t
        return candidates[-1] + self.span  # unreachable unless the plan alone overflows

    def next_flush(self, now: float) -> float:
        """When coalesced replies may go next: as soon as one fits, paced by a token bucket
        of ``burst`` tokens refilled one every ``pace_s`` (control messages aside: the plan
        has their slots). A quiet group gets its answers at once; a busy one one every
        ``pace_s``, so the budget lasts the whole window instead of going in a burst."""
        at = self.next_free(now)
        pace, tokens, last = self.pace_s(now), float(self.burst), None
        for x in self.paced:
            if last is not None:
                tokens = min(self.burst, tokens + (x - last) / pace)
            tokens, last = tokens - 1, x
        if last is not None and tokens < 1:
            at = max(at, last + (1 - tokens) * pace)
        return at

    def earliest_start(self, not_before: float, offsets: Sequence[float]) -> float:
        """The first start, ``not_before`` or later, at which controls due at ``start +
        offset`` fit beside the past sends (the current reservations are ignored: this
        is the plan that replaces them)."""
        if not offsets:
            return not_before
        candidates = sorted(
            {not_before, *(x + self.span - o for x in self.sent for o in offsets if x + self.span - o > not_before)}
        )
        for start in candidates:
            if _fits(self.sent, [start + o for o in offsets], self.cap, self.span):
                return start
        return max(not_before, candidates[-1])  # the plan alone overflows: don't wait for nothing

    def is_idle(self, now: float) -> bool:
        return not self.reserved and self.used(now) == 0

    def _fits_at(self, t: float, now: float | None = None) -> bool:
        """Would one more send at ``t`` fit? Reservations due before ``t`` count as sent by then."""
        now = t if now is None else now
        past = list(self.sent)
        future = [t]
        for r in self.reserved:
            due = max(r, now)
            (past if due < t else future).append(due)
        return _fits(past, future, self.cap, self.span)

    def _prune(self, now: float) -> None:
        for times in (self.sent, self.paced):
            cut = bisect.bisect_right(times, now - self.span)
            if cut:
                del times[:cut]


STALE_AFTER_S = 20.0  # see Budgets.stale_after_s: a command's answer 20 s late reads as out of context


@dataclass
class Budgets:
    """Every group's budget, made on first use; private chats have none."""

    limit: int = GROUP_LIMIT
    window_s: float = WINDOW_S
    chats: dict[int, ChatBudget] = field(default_factory=dict)
    stale_after_s: float = STALE_AFTER_S  # a reply that would wait longer for room is dropped (its moment passed)

    def __post_init__(self) -> None:
        if self.limit < 1 or not math.isfinite(self.window_s) or self.window_s <= 0:
            raise ValueError("a budget needs a positive limit and window")

    def get(self, chat_id: int | str | None) -> ChatBudget | None:
        """The group's budget; None for private chats (and requests without a chat)."""
        chat = _chat_number(chat_id)
        if chat is None or chat > 0:
            return None
        return self.for_chat(chat)

    def for_chat(self, chat_id: int) -> ChatBudget:
        budget = self.chats.get(chat_id)
        if budget is None:
            if len(self.chats) >= MAX_IDLE_BUDGETS:
                self._forget_idle()
            budget = self.chats[chat_id] = ChatBudget(
                self.limit, self.window_s, margin_s=MARGIN_S * self.window_s / WINDOW_S
            )
        return budget

    def _forget_idle(self) -> None:
        for chat_id in [c for c, b in self.chats.items() if not b.reserved and not b.sent]:
            del self.chats[chat_id]


def _fits(past: Sequence[float], future: Sequence[float], cap: int, span: float) -> bool:
    """No window of ``span`` that ends at a future send holds more than ``cap`` sends.

    Only windows that end at a future send matter: past windows are history, and
    between sends a window's count only drops.
    """
    past, future = sorted(past), sorted(future)
    for end in future:
        start = end - span
        count = bisect.bisect_right(past, end) - bisect.bisect_right(past, start)
        count += bisect.bisect_right(future, end) - bisect.bisect_right(future, start)
        if count > cap:
            return False
    return True


def _chat_number(chat_id: int | str | None) -> int | None:
    """A chat id as a number; None for ``@channelname`` (the bot never sends by name)."""
    try:
        return int(chat_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
