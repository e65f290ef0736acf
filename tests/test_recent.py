"""RecentKeys: the bounded memory of answered messages and greeted groups."""

from bot.recent import RecentKeys


def test_add_says_whether_the_key_is_new():
    recent = RecentKeys()
    assert recent.add((1, 10)) is True
    assert recent.add((1, 10)) is False
    assert (1, 10) in recent and (1, 11) not in recent


def test_the_oldest_keys_fall_out_first():
    recent = RecentKeys(max_size=3)
    for key in range(5):
        recent.add(key)
    assert len(recent) == 3
    assert [key in recent for key in range(5)] == [False, False, True, True, True]
    recent.add(2)  # used again: now the newest
    recent.add(5)
    assert 2 in recent and 3 not in recent


def test_keys_are_forgotten_after_max_age():
    now = [100.0]
    recent = RecentKeys(max_age_s=60, clock=lambda: now[0])
    assert recent.add("group")
    now[0] += 59
    assert not recent.add("group")
    now[0] += 60
    assert "group" not in recent
    assert recent.add("group")
