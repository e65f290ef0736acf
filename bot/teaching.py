"""Teaching by corrections, the pure part: what is kept of answered pictures, limits, the label picker.

No telegram, no tensors. ``RecentAnswers`` keeps, in memory only, the image
embedding of each picture answered with feedback buttons (bounded in number
and age; the picture itself is never kept). A correction stores that embedding
with the right label in the store (``Store.add_taught``), within the limits
below; ``TaughtCache`` keeps each chat's examples ready for the engine.

The limits. Each person may make ``PER_USER_HOUR`` corrections in a chat per
hour: corrections are counted as they are made (``Store.add_taught`` logs each
one), not as the rows still kept, which eviction keeps low. A label keeps at
most ``PER_LABEL`` pictures and a chat ``PER_CHAT``; beyond that
``evictions`` chooses what goes: the teacher's own oldest pictures first, then
the oldest taught by members, and an admin's pictures only to make room for
another admin's. A member's correction that could only fit by dropping an
admin's picture is refused (``Taught.FULL``).
"""

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

RECENT_PICTURES = 10_000  # answered pictures whose embeddings are kept (about 2 KB each for ViT-B/32)
RECENT_MAX_AGE_S = 24 * 3600.0  # and for how long: a correction after that asks for the picture again
PER_LABEL = 16  # taught pictures kept per label and chat (oldest dropped first)
PER_CHAT = 1000  # and per chat
PER_USER_HOUR = 30  # corrections one person may make in one chat per hour
PICKER_PAGE = 8  # labels per page of the picker
PICKER_COLUMNS = 2
CHATS_CACHED = 64  # chats whose examples are kept built (at most 2 MB each)


class Taught(Enum):
    """What became of a correction."""

    KEPT = "kept"
    HOURLY_LIMIT = "hourly limit"  # the person made PER_USER_HOUR corrections in the chat this past hour
    FULL = "full"  # it could fit only by dropping an admin's picture, and the teacher is not an admin


@dataclass(frozen=True)
class TaughtRow:
    """A taught picture as eviction sees it."""

    id: int
    user_id: int
    by_admin: bool  # whether its teacher was an admin (or in a private chat) when they taught it
    taught_at: float


def evictions(rows: Sequence[TaughtRow], keep: int, teacher_id: int, teacher_is_admin: bool) -> list[int] | None:
    """The ids of ``rows`` to drop so that they and one new picture by ``teacher_id`` fit in ``keep``.

    The teacher's own oldest pictures go first, then the oldest taught by
    members, and admins' pictures only when the teacher is an admin. None when
    the new picture cannot fit by those rules (a member, and only admins'
    pictures left to drop).
    """
    excess = len(rows) + 1 - keep
    if excess <= 0:
        return []

    def oldest(chosen: list[TaughtRow]) -> list[TaughtRow]:
        return sorted(chosen, key=lambda row: (row.taught_at, row.id))

    own = oldest([row for row in rows if row.user_id == teacher_id])
    members = oldest([row for row in rows if row.user_id != teacher_id and not row.by_admin])
    admins = oldest([row for row in rows if row.user_id != teacher_id and row.by_admin]) if teacher_is_admin else []
    order = own + members + admins
    if len(order) < excess:
        return None
    return [row.id for row in order[:excess]]


@dataclass
class Answered:
    """A guess reply with feedback buttons: whose picture it was and what it looked like to the model."""

    chat_id: int
    message_id: int  # the bot's reply, which carries the buttons
    sender_id: int  # the picture's sender (0 when posted as the chat): may correct it, besides admins
    model: str  # identity of the model that made ``embedding``
    embedding: bytes
    labels: tuple[str, ...]  # the labels it was ranked over: the picker's buttons
    page: int = 0
    typing_user: int | None = None  # pressed "Other…": their next reply to the message is the label
    new_label: str | None = None  # a typed label offered for adding to the chat's list


class RecentAnswers:
    """(chat id, message id) -> ``Answered``, the last ``max_size`` for at most ``max_age_s``."""

    def __init__(
        self,
        max_size: int = RECENT_PICTURES,
        max_age_s: float = RECENT_MAX_AGE_S,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.max_size = max_size
        self.max_age_s = max_age_s
        self._clock = clock
        self._items: OrderedDict[tuple[int, int], tuple[float, Answered]] = OrderedDict()

    def add(self, answered: Answered, message_id: int | None = None) -> None:
        """Keep ``answered`` under its reply (or under another message of the chat that acts for it)."""
        now = self._clock()
        self._expire(now)
        key = (answered.chat_id, answered.message_id if message_id is None else message_id)
        self._items.pop(key, None)
        self._items[key] = (now, answered)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def get(self, chat_id: int, message_id: int) -> Answered | None:
        self._expire(self._clock())
        found = self._items.get((chat_id, message_id))
        return found[1] if found else None

    def pop(self, chat_id: int, message_id: int) -> Answered | None:
        found = self._items.pop((chat_id, message_id), None)
        return found[1] if found else None

    def forget_chat(self, chat_id: int) -> None:
        """/forget: the chat's answered pictures go too."""
        for key in [key for key in self._items if key[0] == chat_id]:
            del self._items[key]

    def move_chat(self, old_id: int, new_id: int) -> None:
        """A group became a supergroup: Telegram keeps message ids, so the answers follow."""
        for (chat_id, message_id), (at, answered) in list(self._items.items()):
            if chat_id == old_id:
                del self._items[(chat_id, message_id)]
                answered.chat_id = new_id
                self._items[(new_id, message_id)] = (at, answered)

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self, now: float) -> None:
        while self._items:
            at, _ = next(iter(self._items.values()))
            if now - at < self.max_age_s:
                break
            self._items.popitem(last=False)


@dataclass
class TaughtCache:
    """Each chat's examples, built once per change (``build(chat_id)``), the last ``size`` chats."""

    build: Callable[[int], Any]
    size: int = CHATS_CACHED
    _built: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)

    def get(self, chat_id: int) -> Any:
        if chat_id in self._built:
            self._built.move_to_end(chat_id)
            return self._built[chat_id]
        examples = self._built[chat_id] = self.build(chat_id)
        while len(self._built) > self.size:
            self._built.popitem(last=False)
        return examples

    def drop(self, *chat_ids: int) -> None:
        """The chats' examples changed: build them again next time."""
        for chat_id in chat_ids:
            self._built.pop(chat_id, None)


@dataclass(frozen=True)
class PickerPage:
    """One page of the label picker: (index in the labels, label) per button."""

    page: int
    buttons: tuple[tuple[int, str], ...]
    has_prev: bool
    has_next: bool


def picker_page(labels: tuple[str, ...], page: int, size: int = PICKER_PAGE) -> PickerPage:
    """The labels shown on ``page`` (clamped to the pages there are)."""
    pages = max(1, -(-len(labels) // size))
    page = min(max(page, 0), pages - 1)
    start = page * size
    buttons = tuple((index, labels[index]) for index in range(start, min(start + size, len(labels))))
    return PickerPage(page, buttons, page > 0, page < pages - 1)


def find_label(labels: tuple[str, ...] | list[str], wanted: str) -> str | None:
    """The chat's own spelling of ``wanted`` (compared ignoring case), or None."""
    key = wanted.casefold()
    return next((label for label in labels if label.casefold() == key), None)
