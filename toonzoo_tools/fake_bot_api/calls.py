"""Every call the bot makes, recorded; the test reads them or waits for the next one.

A test should look at every message the bot sent: a message, edit or alert
that no wait (``wait_for``, ``wait_for_call``) or lookup (``calls``,
``sent_messages``, ``chat_messages``) returned is "unexamined", and the
``fake`` fixture fails the test at teardown if any is left
(``check_examined``). ``all_calls`` is the raw log, for statuses and timing:
reading it examines nothing. A test that genuinely doesn't care says so:
``ignore(method, predicate)`` for one kind of message (a progress note),
``ignore_rest()`` for everything sent so far.

"The bot said nothing" (``expect_no_call``) is checked once the bot has
settled rather than after a fixed wait: whoever runs the bot tells the fake
how to wait for that (``settle_with``; ``toonzoo_tools.harness.running_bot``
does), so the assertion costs what the bot's work costs and still fails on a
late answer.
"""

import asyncio
from collections.abc import Awaitable, Callable

from .base import Call, Core

Predicate = Callable[[dict], bool]
Settle = Callable[[], Awaitable[None]]  # returns once the bot has done what the updates so far asked

QUIET_S = 0.3  # how long expect_no_call watches when no running bot says how to wait until it has settled

# Methods that put a message in front of users (of Telegram's, not only those the fake implements).
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendAnimation",
        "sendSticker",
        "sendMediaGroup",
        "sendPoll",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)


class CallLog(Core):
    """The calls recorded so far and the waits on them."""

    _consumed: set[int]  # indexes of calls a wait returned
    _ignored: list[tuple[str, Predicate | None]]  # messages the test doesn't care about
    _settle: Settle | None  # how to wait until the bot has settled (settle_with)

    def calls(self, method: str) -> list[dict]:
        """Parameters of every call of ``method`` so far, in order (now examined)."""
        method = self._canonical.get(method.lower(), method)
        self._examine(lambda call: call.method == method)
        return [call.params for call in self._calls if call.method == method]

    @property
    def all_calls(self) -> list[Call]:
        """Every call so far: the raw log, for statuses and timing (reading it examines nothing)."""
        return list(self._calls)

    def sent_messages(self, chat: dict | None = None) -> list[Call]:
        """The bot's successful messages, edits and alerts (into ``chat`` if given), in order (now examined)."""

        def wanted(call: Call) -> bool:
            return _shows_user(call) and (chat is None or call.params.get("chat_id") == chat["id"])

        self._examine(wanted)
        return [call for call in self._calls if wanted(call)]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
    ) -> dict:
        """Parameters of the next call of ``method`` (matching ``predicate``) not returned before."""
        return (await self.wait_for_call(method, predicate, timeout)).params

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        timeout: float = 10.0,
    ) -> Call:
        """Like ``wait_for`` but returns the whole Call (status, result)."""
        method = self._canonical.get(method.lower(), method)
        try:
            index = await self._wait_for_index(method, predicate, timeout)
        except TimeoutError:
            made = ", ".join(call.method for call in self._calls if call.method != "getUpdates")
            raise AssertionError(
                f"no {method} call{' matching' if predicate else ''} within {timeout}s; "
                f"unmatched {method} calls: {self._unconsumed(method)}; calls made: {made or 'none'}"
            ) from None
        if index is None:
            raise AssertionError(f"FakeBotApi stopped while waiting for {method}")
        self._consumed.add(index)
        self._examined.add(index)
        return self._calls[index]

    async def expect_no_call(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        within: float | None = None,
    ) -> None:
        """Fail if the bot made, or makes, a (matching) ``method`` call not returned before.

        Without ``within``: checked once the bot has settled (``settle_with``), that is
        when it has handled every update sent so far and run the work they scheduled
        soon (a reply paced by the outbox, an album's collection); with no bot attached,
        after ``QUIET_S`` seconds. With ``within``: watched for that many seconds, for
        what a timer could still send later (a round's end).
        """
        method = self._canonical.get(method.lower(), method)
        if within is None and self._settle is not None:
            await self.settled()
            index = self._find_call(method, predicate)
        else:
            try:
                index = await self._wait_for_index(method, predicate, QUIET_S if within is None else within)
            except TimeoutError:
                return
        if index is not None:
            raise AssertionError(f"unexpected {method} call: {self._calls[index].params}")

    async def settled(self) -> None:
        """Wait until the running bot has settled (``settle_with``); with none attached, ``QUIET_S`` seconds."""
        if self._settle is None:
            await asyncio.sleep(QUIET_S)
        else:
            await self._settle()

    def settle_with(self, settle: Settle | None) -> None:
        """Tell ``expect_no_call`` how to wait until the bot has settled (None: a running bot is gone)."""
        self._settle = settle

    def unexamined(self) -> list[Call]:
        """Messages the bot sent (and edits and alerts) that no wait or lookup showed the test."""
        return [
            call
            for index, call in enumerate(self._calls)
            if index not in self._examined and _shows_user(call) and not self._is_ignored(call)
        ]

    def _is_ignored(self, call: Call) -> bool:
        return any(
            call.method == method and (predicate is None or predicate(call.params))
            for method, predicate in self._ignored
        )

    def ignore(self, method: str, predicate: Predicate | None = None) -> None:
        """Don't require the test to look at ``method`` calls (matching ``predicate``), before or after now."""
        self._ignored.append((self._canonical.get(method.lower(), method), predicate))

    def ignore_rest(self) -> None:
        """Count everything the bot sent so far as examined: for a test that genuinely doesn't care."""
        self._examine(lambda call: True)

    def check_examined(self) -> None:
        """Fail if the bot sent a message the test never looked at; call it after the bot has stopped."""
        stray = self.unexamined()
        if stray:
            listed = "\n".join(f"  {call.method} {_summary(call.params)}" for call in stray)
            raise AssertionError(
                f"the bot sent {len(stray)} message(s) no assertion looked at "
                f"(wait for them, or call fake.ignore_rest() if they don't matter):\n{listed}"
            )

    async def _wait_for_index(self, method: str, predicate, timeout: float) -> int | None:
        found: list[int] = []

        def condition() -> bool:
            index = self._find_call(method, predicate)
            if index is not None:
                found.append(index)
            return index is not None

        await self._wait_until(condition, timeout)
        return found[0] if found else None

    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._notify()

    def _find_call(self, method: str, predicate) -> int | None:
        for index, call in enumerate(self._calls):
            if index in self._consumed or call.method != method:
                continue
            if predicate is None or predicate(call.params):
                return index
        return None

    def _unconsumed(self, method: str) -> list[dict]:
        return [
            call.params
            for index, call in enumerate(self._calls)
            if call.method == method and index not in self._consumed
        ]


def _shows_user(call: Call) -> bool:
    """A successful call that put something in front of a user: a message, an edit, an alert's text, inline
    results, or a message prepared for the user to share."""
    if call.status != 200:
        return False
    if call.method == "answerCallbackQuery":
        return bool(call.params.get("text"))
    return call.method in MESSAGE_METHODS or call.method in ("answerInlineQuery", "savePreparedInlineMessage")


def _summary(params: dict) -> str:
    """Where a call went and what it said, in one line."""
    text = params.get("text") or params.get("caption") or ""
    return f"chat_id={params.get('chat_id')} {text[:200]!r}"
