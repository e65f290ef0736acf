"""Every call the bot makes, recorded; the test reads them or waits for the next one."""

from collections.abc import Callable

from .base import Call, Core


class CallLog(Core):
    """The calls recorded so far and the waits on them."""

    _calls: list[Call]
    _consumed: set[int]  # indexes of calls a wait returned

    def calls(self, method: str) -> list[dict]:
        """Parameters of every call of ``method`` so far, in order."""
        method = self._canonical.get(method.lower(), method)
        return [call.params for call in self._calls if call.method == method]

    @property
    def all_calls(self) -> list[Call]:
        return list(self._calls)

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
        return self._calls[index]

    async def expect_no_call(
        self,
        method: str,
        predicate: Callable[[dict], bool] | None = None,
        within: float = 0.3,
    ) -> None:
        """Fail if the bot makes a (matching) ``method`` call not returned before, within ``within`` s."""
        method = self._canonical.get(method.lower(), method)
        try:
            index = await self._wait_for_index(method, predicate, within)
        except TimeoutError:
            return
        if index is not None:
            raise AssertionError(f"unexpected {method} call: {self._calls[index].params}")

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
