"""Teaching's pure parts and its table: limits and eviction order, model identity, the recent answers."""

import pytest

from bot.teaching import Answered, RecentAnswers, Taught, TaughtCache, TaughtRow, evictions, find_label, picker_page

LIMITS = {"per_label": 3, "per_chat": 5, "per_user_hour": 100}


def teach(store, label, n, *, chat=1, model="m1", user=7, admin=True, at=0.0, **limits):
    """Teach picture ``n`` as ``label``: what became of it."""
    outcome, _ = store.add_taught(
        chat, model, label, bytes([n]) * 8, user_id=user, by_admin=admin, at=at, **{**LIMITS, **limits}
    )
    return outcome


def taught_by(store, chat=1, model="m1") -> list[tuple[str, int]]:
    rows = store.db.execute(
        "SELECT label, user_id FROM taught WHERE chat_id = ? AND model = ? ORDER BY id", [chat, model]
    )
    return rows.fetchall()


def test_oldest_of_a_label_is_dropped_first(store):
    for n in range(4):
        teach(store, "fox", n, at=100.0 + n)
    assert store.taught(1, "m1") == [("fox", bytes([n]) * 8) for n in (1, 2, 3)]


def test_oldest_of_the_chat_is_dropped_first_whatever_its_label(store):
    for n, label in enumerate(["fox", "owl", "cat", "dog", "bat"]):
        teach(store, label, n, at=100.0 + n)
    assert store.add_taught(1, "m1", "eel", b"e", user_id=7, by_admin=True, at=200.0, **LIMITS) == (Taught.KEPT, 1)
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
    assert store.forget_chat(2) == 2 and store.taught(2, "m1") == []  # the picture and the correction's count


def test_corrections_per_user_are_counted_since_a_time(store):
    teach(store, "fox", 1, user=7, at=10.0)
    teach(store, "owl", 2, user=7, at=20.0)
    teach(store, "cat", 3, user=8, at=20.0)
    assert store.corrections_since(1, 7, 15.0) == 1
    assert store.corrections_since(1, 7, 0.0) == 2
    assert store.corrections_since(2, 7, 0.0) == 0


def test_the_hourly_limit_counts_corrections_made_not_rows_kept(store):
    """Three pictures of a label are kept, but the fourth correction of the hour is still the fourth."""
    outcomes = [teach(store, "owl", n, at=1000.0 + n, per_user_hour=4) for n in range(6)]
    assert outcomes == [Taught.KEPT] * 4 + [Taught.HOURLY_LIMIT] * 2
    assert len(taught_by(store)) == 3
    assert teach(store, "owl", 9, at=1000.0 + 3600.5, per_user_hour=4) is Taught.KEPT  # an hour after the first
    assert teach(store, "owl", 9, at=1000.0 + 3601.0, per_user_hour=4) is Taught.HOURLY_LIMIT
    assert teach(store, "owl", 9, user=8, at=1000.0 + 3601.0, per_user_hour=4) is Taught.KEPT  # another person
    assert teach(store, "owl", 9, user=8, at=1000.0 + 7200.0, per_user_hour=4) is Taught.KEPT
    assert store.db["corrections"].count == 3  # older than an hour: deleted as new ones come


def test_a_teacher_evicts_their_own_oldest_first_and_a_member_never_an_admins(store):
    admin, ann, bob = 1, 2, 3
    teach(store, "owl", 1, user=admin, admin=True, at=1.0)
    teach(store, "owl", 2, user=ann, admin=False, at=2.0)
    teach(store, "owl", 3, user=bob, admin=False, at=3.0)
    assert teach(store, "owl", 4, user=bob, admin=False, at=4.0) is Taught.KEPT  # Bob's own oldest goes
    assert taught_by(store) == [("owl", admin), ("owl", ann), ("owl", bob)]
    for n in range(5, 9):  # Bob again and again: only his own
        assert teach(store, "owl", n, user=bob, admin=False, at=float(n)) is Taught.KEPT
    assert taught_by(store) == [("owl", admin), ("owl", ann), ("owl", bob)]
    cy = 4
    assert teach(store, "owl", 9, user=cy, admin=False, at=9.0) is Taught.KEPT  # a newcomer: the oldest member's
    assert taught_by(store) == [("owl", admin), ("owl", bob), ("owl", cy)]
    store.untrain(1, "owl")
    for n in range(3):
        teach(store, "owl", n, user=admin, admin=True, at=float(n))
    assert teach(store, "owl", 5, user=bob, admin=False, at=5.0) is Taught.FULL  # only admins' to drop: refused
    assert taught_by(store) == [("owl", admin)] * 3 and store.corrections_since(1, bob, 0.0) == 6  # not counted
    assert teach(store, "owl", 6, user=7, admin=True, at=6.0) is Taught.KEPT  # another admin may


def test_the_chat_limit_follows_the_same_rules(store):
    for n, label in enumerate(["fox", "owl", "cat", "dog"]):
        teach(store, label, n, user=1, admin=True, at=float(n))
    teach(store, "bat", 5, user=2, admin=False, at=5.0)
    assert teach(store, "eel", 6, user=2, admin=False, at=6.0) is Taught.KEPT  # the member's own bat goes
    assert [label for label, _ in taught_by(store)] == ["fox", "owl", "cat", "dog", "eel"]
    assert teach(store, "ant", 7, user=3, admin=False, at=7.0) is Taught.KEPT  # another member's eel goes
    assert teach(store, "ant", 8, user=3, admin=False, at=8.0) is Taught.KEPT  # then their own
    assert taught_by(store) == [("fox", 1), ("owl", 1), ("cat", 1), ("dog", 1), ("ant", 3)]
    for n, label in enumerate(["fox", "owl", "cat", "dog", "emu"]):
        teach(store, label, n, chat=2, user=1, admin=True, at=float(n))
    assert teach(store, "yak", 9, chat=2, user=4, admin=False, at=9.0) is Taught.FULL
    assert len(taught_by(store, chat=2)) == 5


@pytest.mark.parametrize(
    ("teacher", "admin", "keep", "dropped"),
    [
        (9, False, 5, []),  # room left
        (3, False, 4, [3]),  # their own
        (9, False, 4, [2]),  # the oldest member's
        (9, False, 3, [2, 3]),
        (9, False, 2, None),  # only admins' left: refused
        (9, True, 2, [2, 3, 1]),  # members' first, then admins'
        (1, True, 4, [1]),
    ],
)
def test_evictions(teacher, admin, keep, dropped):
    rows = [
        TaughtRow(1, 1, True, 1.0),
        TaughtRow(2, 2, False, 2.0),
        TaughtRow(3, 3, False, 3.0),
        TaughtRow(4, 1, True, 4.0),
    ]
    assert evictions(rows, keep, teacher, admin) == dropped


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
