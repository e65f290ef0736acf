"""Sending into groups within their budget: the rate limiter and the coalescing outbox.

``BudgetLimiter`` is the PTB rate limiter (``ApplicationBuilder.rate_limiter``):
every message the bot sends into a group passes through it and is recorded in
the group's ``bot.budget.ChatBudget`` when Telegram has accepted it. Control
messages (``rate_limit_args=CONTROL``: the game's announcements, warnings,
results) go at once; any other message waits until the budget has room for it
beside the planned controls. Inside, PTB's ``AIORateLimiter`` still keeps the
bot under 30 messages a second overall and retries a 429 should Telegram
disagree with our count; its own per-group bucket is switched off, because it
queues without knowing which message matters and lets 38 messages into a group
in the first minute (Telegram counts 20).

``Outbox`` coalesces replies that can wait a few seconds (game verdicts, guesses
for pictures in groups): a chat's pending replies go out together as one
message, one line each, replying to the latest picture, when the budget's
pacing allows (``ChatBudget.next_flush``). A single pending reply goes out in
its usual form, with its buttons (``reply_markup``; ``on_sent`` is then told
the message): a coalesced message has none, as a press could not say which
picture it is about. A control message of the game takes the game's pending lines
along for free (``take``). The bot's one ``Outbox`` and ``Budgets`` live in
``bot.services.Services``; the outbox's flush jobs are its own bound method.
"""

import asyncio
import logging
import math
import time
from collections.abc import Callable, Coroutine, Hashable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Message, ReplyParameters
from telegram.error import TelegramError, TimedOut
from telegram.ext import BaseRateLimiter, CallbackContext, JobQueue

from .budget import Budgets, ChatBudget
from .replies import MESSAGE_LIMIT

logger = logging.getLogger(__name__)

CONTROL = "control"  # rate_limit_args of a control message: never held back
# Methods that put a message (or a chat action) into a chat: Telegram counts them per group.
_COUNTED_PREFIX = "send"
_COUNTED = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


class BudgetLimiter(BaseRateLimiter[str]):
    """Records group sends in their budgets and holds back what isn't a control message."""

    def __init__(self, budgets: Budgets, inner: BaseRateLimiter | None = None, clock: Callable[[], float] = time.time):
        self.budgets = budgets
        self.inner = inner
        self.clock = clock

    async def initialize(self) -> None:
        if self.inner is not None:
            await self.inner.initialize()

    async def shutdown(self) -> None:
        if self.inner is not None:
            await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> Any:
        budget = self.budgets.get(data.get("chat_id")) if is_counted(endpoint) else None
        if budget is None:
            return await self._send(callback, args, kwargs, endpoint, data)
        if rate_limit_args != CONTROL:
            await wait_for_room(budget, self.clock, self.budgets.stale_after_s)
        control = rate_limit_args == CONTROL
        claimed = self.clock()
        budget.record(claimed, control)  # claimed before sending, so concurrent senders see it
        try:
            result = await self._send(callback, args, kwargs, endpoint, data)
        except TimedOut:  # it may have arrived all the same: keep counting it
            budget.unrecord(claimed, control)
            budget.record(self.clock(), control)
            raise
        except BaseException:  # refused: Telegram didn't count it
            budget.unrecord(claimed, control)
            raise
        budget.unrecord(claimed, control)
        budget.record(self.clock(), control)  # counted from when Telegram's answer came back
        return result

    async def _send(self, callback, args, kwargs, endpoint, data) -> Any:
        if self.inner is None:
            return await callback(*args, **kwargs)
        return await self.inner.process_request(callback, args, kwargs, endpoint, data, None)


def is_counted(endpoint: str) -> bool:
    """Does Telegram count this method against a group's messages?"""
    return endpoint.startswith(_COUNTED_PREFIX) or endpoint in _COUNTED


class StaleReply(TelegramError):
    """A message held back for the group's budget longer than its moment lasts: dropped, not sent.

    Replies to commands are answers to a moment ("No game is running here." means
    now); one that would wait longer than ``Budgets.stale_after_s`` would arrive
    out of context, so it is dropped and logged instead (the error handler says
    nothing in the chat). Control messages are never held, so never stale.
    """


async def wait_for_room(
    budget: ChatBudget, clock: Callable[[], float] = time.time, stale_after_s: float = math.inf
) -> None:
    """Sleep until a message that isn't a control fits in ``budget``; ``StaleReply`` when that is
    more than ``stale_after_s`` away from the call."""
    deadline = clock() + stale_after_s
    while True:
        now = clock()
        at = budget.next_free(now)
        if at <= now:
            return
        if at > deadline:
            raise StaleReply(f"it would wait {at - now:.1f} s more for room in the group's budget")
        await asyncio.sleep(at - now)


@dataclass
class Pending:
    """A reply waiting to go out: alone as ``solo``, or as ``line`` among others."""

    message_id: int  # the picture it answers
    solo: str
    line: str
    tag: Hashable = None  # who may fold it into their message (the game: its id)
    at: float = 0.0
    reply_markup: Any = None  # buttons, when it goes out alone
    on_sent: Callable[[Message], None] | None = None  # called with the message when it went out alone with them


@dataclass
class _ChatBox:
    items: dict[Hashable, Pending] = field(default_factory=dict)
    flushing: bool = False


class Outbox:
    """Per-chat pending replies, sent by ``bot``, flushed by a JobQueue job named ``outbox:<chat id>``."""

    def __init__(self, budgets: Budgets, bot: Bot, job_queue: JobQueue, clock: Callable[[], float] = time.time):
        self.budgets = budgets
        self.bot = bot
        self.job_queue = job_queue
        self.clock = clock
        self._boxes: dict[int, _ChatBox] = {}

    def add(self, chat_id: int, key: Hashable, item: Pending) -> None:
        """Queue ``item`` (replacing an older one under ``key``) and make sure a flush is due."""
        box = self._boxes.setdefault(chat_id, _ChatBox())
        box.items.pop(key, None)
        box.items[key] = item
        self._schedule(chat_id)

    def forget_chat(self, chat_id: int) -> None:
        """Drop the chat's pending replies (``/forget``)."""
        self._boxes.pop(chat_id, None)

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: its pending replies go to the new chat."""
        box = self._boxes.pop(old_id, None)
        if box is None:
            return
        self._boxes.setdefault(new_id, _ChatBox()).items.update(box.items)
        self._schedule(new_id)

    def take(self, chat_id: int, tag: Hashable) -> list[Pending]:
        """Remove and return the chat's pending items with ``tag``, oldest first."""
        box = self._boxes.get(chat_id)
        if box is None:
            return []
        keys = [key for key, item in box.items.items() if item.tag == tag]
        return [box.items.pop(key) for key in keys]

    def pending(self, chat_id: int) -> int:
        box = self._boxes.get(chat_id)
        return len(box.items) if box else 0

    async def flush(self, chat_id: int) -> None:
        """Send what fits now as one message; schedule the rest."""
        box = self._boxes.get(chat_id)
        if box is None or not box.items or box.flushing:
            return
        budget = self.budgets.for_chat(chat_id)
        now = self.clock()
        if budget.next_flush(now) > now:
            self._schedule(chat_id)
            return
        batch = _fit(list(box.items.values()))
        for key in list(box.items)[: len(batch)]:
            del box.items[key]
        box.flushing = True
        solo = batch[0] if len(batch) == 1 else None
        text = solo.solo if solo else "\n".join(item.line for item in batch)
        try:
            sent = await self.bot.send_message(
                chat_id,
                text,
                reply_parameters=ReplyParameters(batch[-1].message_id, allow_sending_without_reply=True),
                reply_markup=solo.reply_markup if solo else None,
            )
            if solo and solo.reply_markup is not None and solo.on_sent is not None:
                solo.on_sent(sent)
        except TelegramError as exc:
            logger.warning("chat %s: couldn't send %d coalesced replies: %s", chat_id, len(batch), exc)
        finally:
            box.flushing = False
        if self._boxes.get(chat_id) is not box:
            return  # forgotten or moved while it was sending
        if box.items:
            self._schedule(chat_id)
        else:
            self._boxes.pop(chat_id, None)

    def _schedule(self, chat_id: int) -> None:
        box = self._boxes[chat_id]
        if box.flushing:
            return  # flush() schedules the rest when it's done
        name, job_queue = _job_name(chat_id), self.job_queue
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
        now = self.clock()
        at = self.budgets.for_chat(chat_id).next_flush(now)
        job_queue.run_once(self._flush_job, when=max(0.0, at - now), name=name, chat_id=chat_id)

    async def _flush_job(self, context: CallbackContext[Any, Any, Any, Any]) -> None:
        job = context.job
        if job is not None and job.chat_id is not None:
            await self.flush(job.chat_id)


def _fit(items: list[Pending]) -> list[Pending]:
    """As many items, oldest first, as fit in one message (at least one)."""
    if len(items) == 1:
        return items
    batch: list[Pending] = []
    length = -1
    for item in items:
        length += len(item.line) + 1
        if batch and length > MESSAGE_LIMIT:
            break
        batch.append(item)
    return batch


def _job_name(chat_id: int) -> str:
    return f"outbox:{chat_id}"
