"""The race load tool (``toonzoo_tools.race_load``): its step search (pure), and its core driving the real bot
with the tiny CLIP."""

import dataclasses

from bot.game import GameRules
from toonzoo_tools.race_load import Row, format_table, holds, race_report, search_drawers


def row(drawers: int, p95: float | None, statuses=None) -> Row:
    return Row(drawers, 0 if p95 is None else 10, p95, p95, statuses or {"200": 10})


def test_a_window_holds_only_with_verdicts_within_the_goal_and_no_refusal():
    assert holds(row(4, 500.0))
    assert not holds(row(4, 501.0))
    assert not holds(row(4, None)), "no verdict measured is no capacity"
    assert not holds(row(4, 100.0, {"200": 9, "503": 1})), "a busy model refused a guess"


async def test_the_step_search_walks_up_then_bisects_to_the_largest_n_that_holds():
    p95 = {1: 90, 2: 120, 4: 300, 8: 900, 6: 520, 5: 480}
    measured = []

    async def measure(count: int) -> Row:
        measured.append(count)
        return row(count, p95[count])

    rows, best = await search_drawers((1, 2, 4, 8, 16), measure)
    assert (measured, best) == ([1, 2, 4, 8, 6, 5], 5)
    assert [r.drawers for r in rows] == measured

    measured.clear()
    _, best = await search_drawers((1, 2, 4, 8, 16), measure, refine=False)
    assert (measured, best) == ([1, 2, 4, 8], 4)

    measured.clear()
    _, best = await search_drawers((8,), measure)
    assert (measured, best) == ([8, 4, 6, 5], 5), "bisects from zero when the first step fails"

    measured.clear()
    rows, best = await search_drawers((1, 8, 2, 4), measure, refine=False, every=True)
    assert (measured, best) == ([1, 8, 2, 4], 1), "every step for the table; the capacity stops at the first failure"


async def test_the_race_measures_live_verdicts_through_the_real_bot(tiny_classifier):
    rules = dataclasses.replace(GameRules(), pause_s=0.5)  # a won round gives the window back soon
    report = await race_report(tiny_classifier, steps=(2,), seconds=2.0, warmup_s=0.5, refine=False, rules=rules)
    assert report["model"] == tiny_classifier.loaded.name and report["precision"] == "fp32"
    assert report["guess_every_s"] == 0.5 and report["race_drawers_p95_500ms"] in (0, 2)
    [measured] = report["rows"]
    assert measured["drawers"] == 2 and set(measured) >= {"p50_ms", "p95_ms", "statuses", "wins"}
    assert measured["guesses"] >= 2 and measured["statuses"] == {"200": measured["guesses"]}
    assert 0 < measured["p50_ms"] <= measured["p95_ms"]
    assert report["race_drawers_p95_500ms"] == (2 if measured["p95_ms"] <= 500 else 0)
    assert "| 2 | " in format_table(report)
