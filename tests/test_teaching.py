"""Teaching's pure parts and its table: limits and eviction order, model identity, the recent answers."""

import pytest

from bot.teaching import Answered, RecentAnswers, TaughtCache, find_label, picker_page

LIMITS = {"per_label": 3, "per_chat": 5}


def teach(store, label, n, *, chat=1, model="m1", user=7, at=0.0):
    return store.add_taught(chat, model, label, bytes([n]) * 8, user_id=user, at=at, **LIMITS)


def test_oldest_of_a_label_is_dropped_first(store):
    for n in range(4):
        teach(store, "fox", n, at=100.0 + n)
    assert store.taught(1, "m1") == [("fox", bytes([n]) * 8) for n in (1, 2, 3)]


def test_oldest_of_the_chat_is_dropped_first_whatever_its_label(store):
    for n, label in enumerate(["fox", "owl", "cat", "dog", "bat"]):
        teach(store, label, n, at=100.0 + n)
    assert teach(store, "eel", 9, at=200.0) == 1
    assert [label for label, _ in store.taught(1, "m1")] == ["owl", "cat", "dog", "bat", "eel"]
    assert store.taught_counts(1, "m1") == {"bat": 1, "cat": 1, "dog": 1, "eel": 1, "owl": 1}


def test_models_and_chats_are_kept_apart(store):
    teach(store, "fox", 1, model="m1")
    teach(store, "owl", 2, model="m2")
    teach(store, "cat", 3, chat=2)
    for n in range(4):  # m2's limit counts m2's pictures only: m1's fox stays
        teach(store, "fox", 10 + n, model="m2", at=float(n))
    assert store.taught(1, "m1") == [("fox", bytes([1]) * 8)]
    assert [label for label, _ in store.taught(1, "m2")] == ["owl", "fox", "fox", "fox"]
    assert store.taught(2, "m1") == [("cat", bytes([3]) * 8)]
    assert store.untrain(1, "fox") == 4  # every model's
    assert store.taught(1, "m1") == [] and store.taught_counts(1, "m2") == {"owl": 1}
    assert store.forget_chat(2) == 1 and store.taught(2, "m1") == []


def test_corrections_per_user_are_counted_since_a_time(store):
    teach(store, "fox", 1, user=7, at=10.0)
    teach(store, "owl", 2, user=7, at=20.0)
    teach(store, "cat", 3, user=8, at=20.0)
    assert store.taught_by_user_since(1, 7, 15.0) == 1
    assert store.taught_by_user_since(1, 7, 0.0) == 2
    assert store.taught_by_user_since(2, 7, 0.0) == 0


def answered(chat, message) -> Answered:
    return Answered(chat, message, 5, "m1", b"x", ("cat", "dog"))


def test_recent_answers_are_bounded_in_number_and_age():
    now = [0.0]
    recent = RecentAnswers(max_size=2, max_age_s=10.0, clock=lambda: now[0])
    for message in (1, 2, 3):
        recent.add(answered(1, message))
    assert recent.get(1, 1) is None and recent.get(1, 3).message_id == 3
    now[0] = 11.0
    assert recent.get(1, 3) is None and len(recent) == 0


def test_recent_answers_follow_their_chat_and_are_forgotten_with_it():
    recent = RecentAnswers()
    recent.add(answered(1, 1))
    recent.add(answered(1, 1), message_id=9)  # an offer message acting for the same answer
    recent.add(answered(2, 1))
    recent.move_chat(1, 3)
    assert recent.get(1, 1) is None and recent.get(3, 9).chat_id == 3
    recent.forget_chat(3)
    assert len(recent) == 1 and recent.get(2, 1) is not None


@pytest.mark.parametrize(
    ("page", "shown", "prev", "next_"),
    [(0, [0, 1, 2], False, True), (1, [3, 4, 5], True, True), (2, [6], True, False), (9, [6], True, False)],
)
def test_picker_pages(page, shown, prev, next_):
    labels = tuple("abcdefg")
    result = picker_page(labels, page, size=3)
    assert [index for index, _ in result.buttons] == shown
    assert (result.has_prev, result.has_next) == (prev, next_)
    assert all(labels[index] == label for index, label in result.buttons)


def test_taught_cache_builds_once_per_change_and_stays_bounded():
    built = []
    cache = TaughtCache(lambda chat: built.append(chat) or f"examples of {chat}", size=2)
    assert cache.get(1) == cache.get(1) == "examples of 1" and built == [1]
    cache.drop(1)
    cache.get(1)
    cache.get(2)
    cache.get(1)
    cache.get(3)  # two kept: 2, used least recently, goes
    cache.get(1)
    assert built == [1, 1, 2, 3]
    cache.get(2)
    assert built == [1, 1, 2, 3, 2]


def test_find_label_keeps_the_chats_spelling():
    assert find_label(["Red Fox", "owl"], "red fox") == "Red Fox"
    assert find_label(["owl"], "fox") is None
